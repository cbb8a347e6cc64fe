"""The sliding-window page's pieces: its settings (mirrored in the URL), its inputs (the notes'
examples, random grids, patches of a photo), the cached animations, and clicks on output cells.

Caches: the layer's stages, an animation and each figure drawn from it live in the process's
byte budget (``ui.cache``), keyed on the input's bytes and the (hashable) layer spec, shared by
every session. A figure is cached frozen (``viz.frozen``): a rerun hands ``st.plotly_chart``
the same ready-made dict, so the figure is neither rebuilt nor converted again, Streamlit sends
the same spec, and the animation playing in the browser is not reset.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from conv import examples, image, ops, samples, stages
from conv.examples import EXAMPLES
from conv.stages import ConvSpec, PoolSpec
from kernels import library, parametric, record
from ui import cache, kernel_controls, layer_controls, shared
from ui.media import held_digest, jpeg
from ui.state import Param, UrlState, choice, flag, fmt_number, integer, number
from viz import animation
from viz.frozen import FrozenFigure
from viz.style import LIGHT, Style

PAGE = "sliding-window"  # the page's name for kernels sent from other pages
K = "sw.k"  # the kernel picker's key
SOURCES = (*EXAMPLES, "random", "photo")
SOURCE_LABELS = {**{k: e.title for k, e in EXAMPLES.items()},
                 "random": "Random grid", "photo": "Patch of a photo"}
# Classroom mode: labels that fit one line on a projector
SHORT_LABELS = {"edge_6x6": "6x6 edge", "blur_5x5": "5x5 blur", "pool_4x4": "4x4 max pool",
                "pad1_stride2": "n=5 p=1 s=2", "volume_6x6x3": "6x6x3 volume",
                "random": "Random grid", "photo": "Photo patch"}
VALUE_RANGES = {"0-9": (0, 9), "0-255": (0, 255), "-9..9": (-9, 9)}
MAX_CELLS = 32  # the largest grid the animation is meant for (1,024 steps)
MAX_KERNEL = 11  # an 11 x 11 kernel's equation is 11 products a line
LAB_PHOTO = "lab"
PHOTOS = (LAB_PHOTO, *samples.SAMPLES)
LAYER_KEYS = ("pad", "ph", "pw", "pm", "stride", "dil", "bias", "act", "slope", "pool", "pk", "ps")

ss = st.session_state


# --------------------------------------------------------------------------------------------
# Settings and the URL
# --------------------------------------------------------------------------------------------

def url_state() -> UrlState:
    """Every setting of the page, with its URL name (``?ex=blur_5x5&step=4``); classroom mode
    (``classroom=1``) is every page's (``ui/classroom.py``)."""
    P = Param
    return UrlState("sw", [
        P("ex", "sw.source", "edge_6x6", choice(SOURCES), label="example or source"),
        P("rows", "sw.rows", 6, integer(2, MAX_CELLS), label="grid rows"),
        P("cols", "sw.cols", 6, integer(2, MAX_CELLS), label="grid columns"),
        P("vals", "sw.vals", "0-9", choice(VALUE_RANGES), label="value range"),
        P("seed", "sw.seed", 1, integer(0, 10**9), label="random seed"),
        P("photo", "sw.photo", LAB_PHOTO, choice(PHOTOS), label="photo"),
        P("x", "sw.px", 50, integer(0, 100), label="patch centre x (%)"),
        P("y", "sw.py", 50, integer(0, 100), label="patch centre y (%)"),
        P("region", "sw.region", 96, integer(2, 4096), label="patch region (pixels)"),
        P("cells", "sw.cells", 12, integer(2, MAX_CELLS), label="patch cells"),
        P("k", f"{K}.preset", "vertical_edge", choice(kernel_controls.preset_keys()),
          label="kernel preset"),
        P("ks", f"{K}.size", None, integer(1, record.MAX_SIZE), label="kernel size"),
        P("sigma", f"{K}.sigma", None, number(*parametric.SIGMA_RANGE), format=fmt_number,
          label="sigma"),
        P("kt", "sw.kt", None, kernel_controls.parse_compact,
          format=kernel_controls.format_compact,
          label="kernel"),
        P("flip", "sw.flip", False, flag, format=lambda v: "1" if v else "0",
          label="true convolution (flip)"),
        *layer_controls.layer_params("sw", max_pad=8),
        P("step", "sw.step", 0, lambda t: integer(1, 10**6)(t) - 1, format=lambda v: str(v + 1),
          label="step"),
        P("pstep", "sw.pstep", 0, lambda t: integer(1, 10**6)(t) - 1,
          format=lambda v: str(v + 1), label="pooling step"),
    ])


def example_settings(key: str) -> dict[str, object]:
    """The page's settings (session-state keys) that reproduce an example exactly."""
    ex = examples.get(key)
    out: dict[str, object] = {**layer_controls.layer_defaults("sw"), "sw.flip": False,
                              "sw.kt": None}
    out["sw.pad"] = "valid"
    spec, pool = ex.spec, ex.pool
    if spec is not None:
        (t, b), (l, r) = spec.resolved_padding(ex.input_array.shape[1:])
        if (t, b, l, r) != (0, 0, 0, 0):
            out.update({"sw.pad": "custom", "sw.ph": t, "sw.pw": l})
        out.update({"sw.pm": spec.padding_mode, "sw.stride": spec.stride[0],
                    "sw.dil": spec.dilation[0], "sw.act": spec.activation,
                    "sw.flip": spec.flip})
        if spec.bias is not None and spec.weight_shape[0] == 1:
            out["sw.bias"] = float(spec.bias[0])
        pool = spec.pool
        if ex.kernel_key is not None:
            out[f"{K}.preset"] = ex.kernel_key
    if pool is not None:
        out.update({"sw.pool": pool.mode, "sw.pk": pool.kernel_size[0],
                    "sw.ps": 0 if pool.stride is None or pool.stride == pool.kernel_size
                    else pool.stride[0]})
    return out


def load_example(key: str) -> None:
    """Callback of the example buttons: the example with exactly its settings, at step 1."""
    ss["sw.source"] = key
    ss["sw.step"] = 0
    if key not in EXAMPLES:
        return
    for k, v in example_settings(key).items():
        if v is None:
            ss.pop(k, None)
        else:
            ss[k] = v
    if EXAMPLES[key].kernel_key is not None:
        for k in (f"{K}.text", f"{K}.size", f"{K}.sigma", f"{K}.note", f"{K}.origin"):
            ss.pop(k, None)


def after_restore(url: UrlState, notices: list[str]) -> None:
    """Once a link is applied: an example's own settings for what the link leaves out (so that
    ``?ex=blur_5x5`` alone restores the example), and the kernel text of an edited kernel."""
    if not url.applied:
        return
    source = ss.get("sw.source")
    if source in EXAMPLES:
        names = {p.key: p.name for p in url.params}
        for k, v in example_settings(source).items():
            if names.get(k) not in url.given and v is not None:
                ss[k] = v
    for k in (f"{K}.text", f"{K}.note", f"{K}.origin"):
        ss.pop(k, None)
    kernel_controls.drop_pending(f"{K}.text", f"{K}.sigma")
    if ss.get("sw.kt"):
        ss[f"{K}.text"] = ss["sw.kt"]
    spec = library.PARAMETRIC.get(ss.get(f"{K}.preset"))
    if spec is not None and ss.get(f"{K}.size") not in (None, *spec.sizes):
        notices.append(f"The link's kernel size {ss[f'{K}.size']} is not offered; using "
                       f"{spec.default_size} x {spec.default_size}.")
        ss[f"{K}.size"] = spec.default_size


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

def random_grid(rows: int, cols: int, seed: int, vals: str) -> np.ndarray:
    """Integers in the chosen range, from a seeded generator: ``(1, rows, cols)`` float32."""
    lo, hi = VALUE_RANGES[vals]
    rng = np.random.default_rng(seed)
    return rng.integers(lo, hi + 1, (1, rows, cols)).astype(np.float32)


@dataclass(frozen=True)
class Patch:
    x: np.ndarray       # (1, cells, cells) float32: whole numbers 0..255
    box: tuple[int, int, int, int]  # the region in the photo: x0, y0, x1, y1 (pixels)
    factor: float       # photo pixels per cell


def photo_patch(gray: np.ndarray, cx: int, cy: int, region: int, cells: int) -> Patch:
    """A ``cells`` x ``cells`` patch of a gray photo (H, W): the square of ``region`` pixels
    centred at ``cx``%, ``cy``% of the width and height (moved inside the photo), averaged
    down by area (Pillow's box filter) and rounded to whole pixel values."""
    h, w = gray.shape
    size = int(min(max(region, cells, 1), h, w))
    x0 = int(round(cx / 100 * w - size / 2))
    y0 = int(round(cy / 100 * h - size / 2))
    x0, y0 = min(max(x0, 0), w - size), min(max(y0, 0), h - size)
    crop = np.ascontiguousarray(gray[y0:y0 + size, x0:x0 + size], np.float32)
    n = min(cells, size)
    small = np.asarray(Image.fromarray(crop, mode="F").resize((n, n), Image.Resampling.BOX))
    patch = np.clip(np.rint(small), 0, 255).astype(np.float32)[None]
    return Patch(patch, (x0, y0, x0 + size, y0 + size), size / n)


def thumbnail(rgb: np.ndarray, box: tuple[int, int, int, int], width: int = 420) -> Image.Image:
    """The photo, small, with the patch's region outlined."""
    im = Image.fromarray(np.asarray(rgb))
    scale = width / im.width
    im = im.resize((width, max(1, round(im.height * scale))), Image.Resampling.BILINEAR)
    d = ImageDraw.Draw(im)
    x0, y0, x1, y1 = (v * scale for v in box)
    for pad, colour in ((0, animation.VERMILLION), (2, "#FFFFFF")):
        d.rectangle([x0 - pad - 2, y0 - pad - 2, x1 + pad + 2, y1 + pad + 2], outline=colour,
                    width=3)
    return im


@cache.cached
def sample_rgb(name: str) -> np.ndarray:
    """A sample photo, decoded once per server (read-only)."""
    return image.decode(samples.load_sample(name)).rgb


@dataclass(frozen=True)
class Photo:
    load: Callable[[], np.ndarray]  # -> uint8 (H, W, 3), asked for only to build what is cached
    name: str
    key: str  # what it is: a sample's name, or the filter lab's key (or digest) of its picture

    @property
    def rgb(self) -> np.ndarray:
        return self.load()


def photo(choice_: str) -> Photo | None:
    """The RGB photo for a patch: the filter lab's current one, or a sample."""
    if choice_ == LAB_PHOTO:
        lab = shared.lab_image()
        if lab is None:
            return None
        key = lab.key or held_digest("sw.lab_digest", lab, lambda: lab.rgb)
        return Photo(lambda: lab.rgb, f"{lab.name} (the filter lab's photo)", f"lab:{key}")
    return Photo(lambda: sample_rgb(choice_), f"{choice_} (sample photo)", f"sample:{choice_}")


def photo_gray(p: Photo) -> np.ndarray:
    """The photo in gray (H, W), computed once per photo."""
    return cache.get_or_build(("sw.gray", p.key), lambda: image.to_gray(p.rgb)[0])


def thumbnail_jpeg(p: Photo, box: tuple[int, int, int, int]) -> bytes:
    """:func:`thumbnail` of the photo with ``box`` outlined, encoded once as ``st.image``
    would encode it."""
    return cache.get_or_build(("sw.thumbnail", p.key, box), lambda: jpeg(thumbnail(p.rgb, box)))


# --------------------------------------------------------------------------------------------
# The layer
# --------------------------------------------------------------------------------------------

def layer_spec(weights: np.ndarray, layer: layer_controls.Layer, flip: bool) -> ConvSpec:
    """The page's kernel and controls as a ConvSpec (``ValueError`` with the reason when
    impossible): a 2-D kernel is one filter of one channel, no larger than the page shows."""
    w = np.asarray(weights, np.float64)
    if w.ndim == 2:
        if max(w.shape) > MAX_KERNEL:
            raise ValueError(f"the sliding window shows kernels up to {MAX_KERNEL} x "
                             f"{MAX_KERNEL} (their equations get too long); this one is "
                             f"{w.shape[0]} x {w.shape[1]}")
        w = w[None, None]
    return layer.spec(w, flip=flip)


def volume_spec(ex: examples.Example, layer: layer_controls.Layer) -> ConvSpec:
    """The volume example's own filters and biases, with the page's geometry and activation."""
    return dataclasses.replace(layer, bias=0.0).spec(ex.spec.weight, bias=ex.spec.bias)


# --------------------------------------------------------------------------------------------
# Cached animations and figures (keyed on the input's bytes and the spec)
# --------------------------------------------------------------------------------------------

def key_of(x: np.ndarray) -> tuple[bytes, tuple[int, ...]]:
    x = np.ascontiguousarray(x, np.float32)
    return x.tobytes(), x.shape


def _array(data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(data, np.float32).reshape(shape)


@cache.cached
def run_layer(data: bytes, shape: tuple[int, ...], spec: ConvSpec) -> stages.Stages:
    return stages.run(_array(data, shape), spec)


def measured(anim: animation.Animation, sample: int = 16) -> animation.Animation:
    """``anim`` with its size in bytes declared (``anim.nbytes``, which ``ui.cache`` reads
    instead of walking it): its fixed parts, and the objects of each step measured on
    ``sample`` steps spread over the animation (all steps are alike): walking every step's
    objects takes about as long as building them."""
    n = anim.n_steps
    picks = sorted({round(k * (n - 1) / max(sample - 1, 1)) for k in range(min(n, sample))})
    sc = anim.scene
    per_step = cache.sizeof([(anim.steps[k], sc.steps[k], sc.step_labels[k], anim.frames[k])
                             for k in picks]) / len(picks)
    fixed = cache.sizeof((sc.grids, sc.static_shapes, sc.static_texts, sc.dyn_shapes,
                          sc.dyn_texts, sc.click, anim.traces, anim.varying, anim.data_spec,
                          anim.slider_steps))
    anim.nbytes = int(fixed + per_step * n)
    return anim


def look(classroom: bool, screen: tuple[int, int] | None, style: Style = LIGHT) -> animation.Look:
    """The figure's sizes: for the screen the browser measured (``(width, height)`` of the room
    for the figure, see :func:`screen_of`), else for a typical one; larger in high contrast."""
    base = animation.look_for(classroom, style)
    return base if screen is None else animation.fit_look(base, *screen)


def screen_of(value) -> tuple[int, int] | None:
    """A screen reported by the browser (``{"width", "height"}`` in px) as a cache-friendly pair,
    or None when it is not one."""
    try:
        w, h = int(value["width"]), int(value["height"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        return None
    return w, h


@cache.cached
def conv_anim(data: bytes, shape: tuple[int, ...], spec: ConvSpec, classroom: bool,
              style: Style = LIGHT, screen: tuple[int, int] | None = None) -> animation.Animation:
    return measured(animation.conv_animation(run_layer(data, shape, spec), spec, style=style,
                                             look=look(classroom, screen, style)))


def step_figure(anim: animation.Animation, start: int) -> FrozenFigure:
    """The animation's figure at step ``start``, ready to send: its traces and frames are the
    animation's (the same at every step: shared, not copied, not charged), its layout new."""
    return FrozenFigure(anim.spec(start),
                        shared=(*anim.data_spec, *anim.frames, anim.slider_steps))


@cache.cached
def conv_figure(data: bytes, shape: tuple[int, ...], spec: ConvSpec, classroom: bool,
                start: int, style: Style = LIGHT,
                screen: tuple[int, int] | None = None) -> FrozenFigure:
    return step_figure(conv_anim(data, shape, spec, classroom, style, screen), start)


def pool_input(run: stages.Stages) -> stages.Stage:
    """The map the pooling reads: after the activation, or the bias, or the convolution."""
    return run.activated or run.biased or run.conv


@cache.cached
def pool_anim(data: bytes, shape: tuple[int, ...], spec: ConvSpec | None, pool: PoolSpec,
              classroom: bool, style: Style = LIGHT,
              screen: tuple[int, int] | None = None) -> animation.Animation:
    if spec is None:  # pooling the input itself (the notes' 4x4 example)
        pre = _array(data, shape)
        title = "Input"
    else:
        stage = pool_input(run_layer(data, shape, spec))
        pre, title = stage.array, f"Map ({stage.title})"
    pooled = ops.pool2d(pre, pool.kernel_size, pool.effective_stride, pool.padding,
                        mode=pool.mode)
    return measured(animation.pool_animation(pre, pool, pooled, title=title, style=style,
                                             look=look(classroom, screen, style)))


@cache.cached
def pool_figure(data: bytes, shape: tuple[int, ...], spec: ConvSpec | None, pool: PoolSpec,
                classroom: bool, start: int, style: Style = LIGHT,
                screen: tuple[int, int] | None = None) -> FrozenFigure:
    return step_figure(pool_anim(data, shape, spec, pool, classroom, style, screen), start)


@cache.cached
def gif_bytes(data: bytes, shape: tuple[int, ...], spec: ConvSpec | None, pool: PoolSpec | None,
              classroom: bool, style: Style = LIGHT) -> bytes:
    if spec is None or pool is not None and spec.pool is None:
        return pool_anim(data, shape, spec, pool, classroom, style).gif()
    return conv_anim(data, shape, spec, classroom, style).gif()


def zoom_html(anim: animation.Animation, step: int) -> str | None:
    """The window of ``step`` with its numbers, when the figure hides numbers too small to
    read (None otherwise)."""
    if not anim.scene.hidden:
        return None
    return animation.window_zoom_html(anim, step)


# --------------------------------------------------------------------------------------------
# Clicks on output cells
# --------------------------------------------------------------------------------------------

def clicked_step(chart_key: str) -> int | None:
    """The step of the output cell clicked in chart ``chart_key`` (the transparent marker of
    each output cell is point ``k`` of the figure's scatter trace, for step ``k``)."""
    state = ss.get(chart_key)
    if not state:
        return None
    selection = state.get("selection") if isinstance(state, dict) else getattr(state, "selection", None)
    points = (selection or {}).get("points") or []
    for p in points:
        idx = p.get("point_index", p.get("point_number"))
        if idx is not None:
            return int(idx)
    return None
