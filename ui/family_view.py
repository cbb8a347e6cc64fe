"""The "Convolution family" page's pieces: its settings (mirrored in the URL), its inputs, and
the cached animations and figures of each mode (transposed, 1-D & causal, groups, im2col,
backpropagation).

Caches: each mode's configuration is a small frozen dataclass (its numbers as nested tuples,
hashable); an animation and each step's figure live in the process's byte budget
(``ui.cache``) keyed on it, frozen (``viz.frozen``) like the sliding window's, so a rerun that
changes nothing hands ``st.plotly_chart`` the same ready-made dict and the animation playing in
the browser is not reset. The grouped layer is played by the sliding window's own cached
animation (``ui.window_view.conv_anim``). A figure is laid out for the room the browser
measured for it (:func:`look`; the ``screen`` is in every key), else for a typical screen.

Every figure is drawn in the page's :class:`viz.style.Style` (``ui.display.style()``: light or
dark, high contrast), which is part of every cache key: a theme switch builds the figures of
the other style once, and each style's stay cached.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import streamlit as st
from PIL import Image

from conv import image, ops, samples
from conv.geometry import adjoint_geometry, conv_geometry, transposed_geometry
from conv.shapes import conv_macs, conv_params
from conv.stages import ConvSpec
from kernels.text import parse_kernel
from ui import cache
from ui import window_view as wv
from ui.media import jpeg
from ui.state import Param, UrlState, choice, integer
from viz import animation
from viz import family as vf
from viz.frozen import FrozenFigure, freeze
from viz.style import LIGHT, Style

ss = st.session_state

MODES = ("transposed", "1d", "groups", "im2col", "backprop")
MODE_LABELS = {"transposed": "Transposed", "1d": "1-D & causal", "groups": "Groups",
               "im2col": "im2col", "backprop": "Backprop"}
# n (input size), k (kernel size), s (stride), p (padding) of each mode when the link does not
# say: conv_arithmetic's "padding, strides, transposed" (3x3, k 3, s 2, p 1 -> 5x5) first
MODE_DEFAULTS = {
    "transposed": {"n": 3, "k": 3, "s": 2, "p": 1},
    "1d": {"n": 12, "k": 3, "s": 1, "p": 1},
    "groups": {"n": 4, "k": 3, "s": 1, "p": 0},
    "im2col": {"n": 5, "k": 3, "s": 1, "p": 0},
    "backprop": {"n": 4, "k": 3, "s": 1, "p": 0},
}
# what each mode's controls allow (the animation is for small grids: every number readable)
LIMITS = {
    "transposed": {"n": (1, 6), "k": (1, 5), "s": (1, 4), "p": (0, 4), "op": (0, 3), "d": (1, 3)},
    "1d": {"n": (2, 32), "k": (1, 7), "s": (1, 4), "p": (0, 8), "d": (1, 4)},
    "groups": {"n": (2, 6), "k": (1, 5), "s": (1, 3), "p": (0, 2)},
    "im2col": {"n": (2, 7), "k": (1, 4), "s": (1, 3), "p": (0, 2), "d": (1, 2)},
    "backprop": {"n": (2, 6), "k": (1, 4), "s": (1, 3), "p": (0, 2), "d": (1, 2)},
}
VIEWS = ("both", "stamps", "zeros")
VIEW_LABELS = {"both": "Both, side by side", "stamps": "Stamps", "zeros": "Zero insertion"}
BVIEWS = ("forward", "dx", "dw")
BVIEW_LABELS = {"forward": "Forward: y = x ⋆ w", "dx": "dL/dx (input gradient)",
                "dw": "dL/dw (weight gradient)"}
# classroom mode: labels that fit beside the modes at 1280 x 720 (the line under says the rest)
BVIEW_SHORT = {"forward": "Forward y = x ⋆ w", "dx": "dL/dx", "dw": "dL/dw"}
SIGNALS = ("step", "sine", "spike", "random", "typed")
SIGNAL_LABELS = {"step": "Step", "sine": "Sine + noise", "spike": "Spike", "random": "Random",
                 "typed": "Typed"}
KERNELS_1D = {"smooth": (0.25, 0.5, 0.25), "mean2": (0.5, 0.5), "diff": (-1.0, 1.0),
              "edge": (-1.0, 0.0, 1.0), "mean4": (0.25, 0.25, 0.25, 0.25), "typed": ()}
KERNEL_1D_LABELS = {"smooth": "Smooth [1 2 1]/4", "mean2": "Mean of 2", "diff": "Difference [-1 1]",
                    "edge": "Edge [-1 0 1]", "mean4": "Mean of 4", "typed": "Typed"}
PAD_1D = ("valid", "same", "full", "causal", "custom")
CHANNELS = (2, 3, 4, 6, 8)
MAX_GRID = 20  # the largest zero-inserted input or stamp canvas drawn (cells a side)
MAX_COLUMNS = 36  # im2col: the largest patch matrix drawn (columns)
MAX_TYPED = 1_000_000  # typed numbers: sums of products stay exact enough in float32


def _text_param(name: str, key: str, label: str, max_size: int) -> Param:
    def parse(text: str) -> str:
        parse_kernel(text, max_size=max_size)  # ValueError with the reason
        return text.strip()
    return Param(name, key, None, parse, str, label=label, skip=lambda v: not v)


def _sized(name: str) -> Param:
    """A size whose default depends on the mode: left out of a link when it is the mode's."""
    def skip(value) -> bool:
        return value == MODE_DEFAULTS[ss.get("fam.mode", "transposed")][name]
    labels = {"n": "input size", "k": "kernel size", "s": "stride", "p": "padding"}
    return Param(name, f"fam.{name}", None, integer(0, 64), label=labels[name], skip=skip)


def url_state() -> UrlState:
    """Every setting of the page with its URL name (``?mode=transposed&n=3&k=3&s=2&p=1&op=1``);
    classroom mode (``classroom=1``) is every page's (``ui/classroom.py``)."""
    P = Param
    step = lambda t: integer(1, 10**6)(t) - 1
    return UrlState("fam", [
        P("mode", "fam.mode", "transposed", choice(MODES), label="mode"),
        P("view", "fam.view", "both", choice(VIEWS), label="view"),
        *(_sized(name) for name in ("n", "k", "s", "p")),
        P("op", "fam.op", 0, integer(0, 8), label="output_padding"),
        P("d", "fam.d", 1, integer(1, 8), label="dilation"),
        P("seed", "fam.seed", 1, integer(0, 10**9), label="random seed"),
        _text_param("x", "fam.x", "typed input", 32),
        _text_param("w", "fam.w", "typed kernel", 15),
        P("sig", "fam.sig", "step", choice(SIGNALS), label="signal"),
        P("kern", "fam.kern", "smooth", choice(KERNELS_1D), label="1-D kernel"),
        P("pad", "fam.pad", "causal", choice(PAD_1D), label="1-D padding"),
        P("c", "fam.c", 1, integer(1, 2), label="im2col channels"),
        P("cin", "fam.cin", 4, lambda t: _one_of(t, CHANNELS), label="input channels"),
        P("cout", "fam.cout", 4, integer(1, 16), label="filters"),
        P("g", "fam.g", 2, integer(1, 16), label="groups"),
        P("hw", "fam.hw", 56, integer(1, 1024), label="map size for the costs"),
        _text_param("gt", "fam.gt", "typed upstream gradient", 15),
        P("bview", "fam.bview", "dx", choice(BVIEWS), label="backprop view"),
        P("photo", "fam.photo", "camera", choice(samples.SAMPLES), label="photo"),
        P("step", "fam.step", 0, step, format=lambda v: str(v + 1), label="step"),
        P("step2", "fam.step2", 0, step, format=lambda v: str(v + 1), label="second step"),
    ])


def _one_of(text: str, options) -> int:
    value = integer(min(options), max(options))(text)
    if value not in options:
        raise ValueError(f"{value} is not one of {', '.join(map(str, options))}")
    return value


def on_mode() -> None:
    """The mode selector's callback: the new mode's own sizes, no typed numbers, its first
    step (set, not dropped: ``UrlState.restore`` would bring back dropped values)."""
    for name, value in MODE_DEFAULTS[ss.get("fam.mode", "transposed")].items():
        ss[f"fam.{name}"] = value
    for name in ("x", "w", "gt"):
        ss[f"fam.{name}"] = ""
    ss["fam.op"], ss["fam.d"] = 0, 1
    ss["fam.step"] = ss["fam.step2"] = 0


def settle(mode: str, notices: list[str]) -> None:
    """Fill the mode's defaults, and bring values from a link into the mode's limits (with a
    notice)."""
    for name, value in MODE_DEFAULTS[mode].items():
        if ss.get(f"fam.{name}") is None:
            ss[f"fam.{name}"] = value
    for name, (lo, hi) in LIMITS[mode].items():
        key = f"fam.{name}"
        v = ss.get(key)
        if v is not None and not lo <= v <= hi:
            default = MODE_DEFAULTS[mode].get(name, {"op": 0, "d": 1}.get(name, lo))
            notices.append(f"The link's `{name}` = {v} is outside {lo}..{hi} for "
                           f"{MODE_LABELS[mode]}; using {default}.")
            ss[key] = default
    if ss.get("fam.cout") is not None and not 1 <= ss["fam.cout"] <= 16:
        ss["fam.cout"] = 4


def new_seed() -> None:
    ss["fam.seed"] = int(ss.get("fam.seed", 1)) + 1


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

def nested(a) -> tuple:
    """An array as nested tuples of floats: hashable, for a cache key."""
    a = np.asarray(a, np.float64)
    if a.ndim == 1:
        return tuple(float(v) for v in a)
    return tuple(nested(r) for r in a)


def array(t) -> np.ndarray:
    return np.asarray(t, np.float32)


def ints(seed: int, salt: int, shape, lo: int, hi: int) -> np.ndarray:
    """Small integers from a seeded generator (``salt`` keeps the input and kernel apart)."""
    rng = np.random.default_rng([int(seed), salt])
    return rng.integers(lo, hi + 1, shape).astype(np.float32)


def typed(text: str | None, what: str, *, max_size: int = 15) -> np.ndarray | None:
    """Numbers typed by a person (``kernels.text``'s grammar), or None for none typed;
    ``ValueError`` naming ``what`` when they do not parse."""
    if not text or not text.strip():
        return None
    try:
        a = parse_kernel(text, max_size=max_size)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    if np.abs(a).max() > MAX_TYPED:
        raise ValueError(f"{what}: numbers must lie between -{MAX_TYPED:,} and {MAX_TYPED:,} "
                         f"(got {np.abs(a).max():g})")
    return a.astype(np.float32)


def signal(kind: str, n: int, seed: int) -> np.ndarray:
    """A 1-D preset of ``n`` samples: a step, a sine with noise (one decimal), a spike, or
    random integers."""
    t = np.arange(n)
    if kind == "step":
        return np.where(t >= n // 2, 4.0, 0.0).astype(np.float32)
    if kind == "sine":
        rng = np.random.default_rng([int(seed), 7])
        v = 3 * np.sin(2 * np.pi * t / 8) + rng.normal(0, 0.6, n)
        return np.round(v, 1).astype(np.float32)
    if kind == "spike":
        v = np.zeros(n, np.float32)
        v[n // 3] = 8
        return v
    return ints(seed, 7, n, -4, 4)


# --------------------------------------------------------------------------------------------
# Configurations: everything an animation is made from (hashable)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Transposed:
    x: tuple
    w: tuple
    s: int
    p: int
    op: int
    d: int

    def geometry(self):
        return transposed_geometry(np.shape(self.x), np.shape(self.w), stride=self.s,
                                   padding=self.p, output_padding=self.op, dilation=self.d)

    def output(self) -> np.ndarray:
        return ops.conv_transpose2d(array(self.x)[None], array(self.w)[None, None],
                                    stride=self.s, padding=self.p, output_padding=self.op,
                                    dilation=self.d)[0]


@dataclass(frozen=True)
class Signal:
    x: tuple
    w: tuple
    s: int
    d: int
    padding: object  # a word or an int
    word: str

    def geometry(self):
        return conv_geometry((len(self.x),), (len(self.w),), stride=self.s,
                             padding=self.padding, dilation=self.d)

    def output(self) -> np.ndarray:
        return ops.conv1d(array(self.x)[None], array(self.w)[None, None], stride=self.s,
                          padding=self.padding, dilation=self.d)[0]


@dataclass(frozen=True)
class Im2col:
    x: tuple  # (C, H, W)
    w: tuple  # (C, kH, kW)
    s: int
    p: int
    d: int

    def geometry(self):
        return conv_geometry(np.shape(self.x)[1:], np.shape(self.w)[1:], stride=self.s,
                             padding=self.p, dilation=self.d)

    def matrix(self) -> np.ndarray:
        return ops.im2col(array(self.x), np.shape(self.w)[1:], stride=self.s, padding=self.p,
                          dilation=self.d)

    def output(self) -> np.ndarray:
        return ops.conv2d(array(self.x), array(self.w)[None], stride=self.s, padding=self.p,
                          dilation=self.d)[0]


@dataclass(frozen=True)
class Backprop:
    x: tuple
    w: tuple
    g: tuple
    s: int
    p: int
    d: int

    def geometry(self):
        return conv_geometry(np.shape(self.x), np.shape(self.w), stride=self.s, padding=self.p,
                             dilation=self.d)

    def grads(self):
        return ops.conv2d_grad(array(self.x)[None], array(self.w)[None, None],
                               array(self.g)[None], stride=self.s, padding=self.p,
                               dilation=self.d)

    def spec(self) -> ConvSpec:
        return ConvSpec.from_kernel(np.asarray(self.w), stride=self.s, padding=self.p,
                                    dilation=self.d)


def transposed_config(n: int, k: int, s: int, p: int, op: int, d: int, seed: int,
                      x_text=None, w_text=None) -> Transposed:
    x = typed(x_text, "the typed input")
    w = typed(w_text, "the typed kernel")
    x = ints(seed, 1, (n, n), 0, 3) if x is None else x
    w = ints(seed, 2, (k, k), -1, 2) if w is None else w
    cfg = Transposed(nested(x), nested(w), s, p, op, d)
    layer = cfg.geometry()  # ValueError with the reason
    rows, cols = layer.axes
    big = max(vf._canvas_size(rows), vf._canvas_size(cols), rows.padded, cols.padded)
    if big > MAX_GRID:
        raise ValueError(f"this transposed convolution needs a {big}-cell grid; the animation "
                         f"draws at most {MAX_GRID} cells a side (a smaller input, kernel or "
                         "stride)")
    return cfg


def signal_config(kind: str, n: int, kernel: str, pad: str, p: int, s: int, d: int, seed: int,
                  x_text=None, w_text=None) -> Signal:
    if kind == "typed":
        x = typed(x_text, "the typed signal", max_size=32)
        if x is None:
            raise ValueError("type the signal's values (e.g. 0 0 1 3 2 0), or pick a preset")
        if x.shape[0] != 1:
            raise ValueError(f"the typed signal must be one row of numbers, got {x.shape[0]} rows")
        x = x[0]
    else:
        x = signal(kind, n, seed)
    if kernel == "typed":
        w = typed(w_text, "the typed kernel", max_size=7)
        if w is None:
            raise ValueError("type the kernel's weights (e.g. 0.25 0.5 0.25), or pick a preset")
        if w.shape[0] != 1:
            raise ValueError(f"the typed kernel must be one row of numbers, got {w.shape[0]} rows")
        w = w[0]
    else:
        w = np.asarray(KERNELS_1D[kernel], np.float32)
    padding = p if pad == "custom" else pad
    cfg = Signal(nested(x), nested(w), s, d, padding, "" if pad == "custom" else pad)
    layer = cfg.geometry()
    if layer.axes[0].padded > 40:
        raise ValueError(f"the padded signal is {layer.axes[0].padded} samples long; the "
                         "animation draws at most 40")
    return cfg


def im2col_config(n: int, k: int, s: int, p: int, d: int, c: int, seed: int,
                  x_text=None, w_text=None) -> Im2col:
    x = typed(x_text, "the typed input")
    w = typed(w_text, "the typed kernel")
    if (x is not None or w is not None) and c != 1:
        raise ValueError("typed numbers are for one channel: set channels to 1")
    x = ints(seed, 3, (c, n, n), 0, 3) if x is None else x[None]
    w = ints(seed, 4, (c, k, k), -1, 2) if w is None else w[None]
    cfg = Im2col(nested(x), nested(w), s, p, d)
    layer = cfg.geometry()
    kk, cols = c * w.shape[1] * w.shape[2], int(np.prod(layer.out_shape))
    if cols > MAX_COLUMNS or kk > 18:
        raise ValueError(f"the patch matrix would be {kk} x {cols}; the animation draws at most "
                         f"18 x {MAX_COLUMNS} (a smaller input or kernel, or a larger stride)")
    return cfg


def backprop_config(n: int, k: int, s: int, p: int, d: int, seed: int, x_text=None,
                    w_text=None, g_text=None) -> Backprop:
    x = typed(x_text, "the typed input")
    w = typed(w_text, "the typed kernel")
    x = ints(seed, 5, (n, n), 0, 3) if x is None else x
    w = ints(seed, 6, (k, k), -1, 2) if w is None else w
    layer = conv_geometry(x.shape, w.shape, stride=s, padding=p, dilation=d)
    g = typed(g_text, "the typed upstream gradient")
    if g is None:
        g = ints(seed, 8, layer.out_shape, -2, 2)
    elif g.shape != layer.out_shape:
        raise ValueError(f"the upstream gradient dL/dy must have the output's shape "
                         f"{layer.out_shape[0]} x {layer.out_shape[1]}, got {g.shape[0]} x "
                         f"{g.shape[1]}")
    cfg = Backprop(nested(x), nested(w), nested(g), s, p, d)
    big = max(a.padded for a in adjoint_geometry(layer).axes)
    if big > MAX_GRID:
        raise ValueError(f"the zero-inserted gradient would be {big} cells a side; the "
                         f"animation draws at most {MAX_GRID}")
    return cfg


# --------------------------------------------------------------------------------------------
# Cached animations and figures
# --------------------------------------------------------------------------------------------

def look(classroom: bool, half: bool, style: Style = LIGHT,
         screen: tuple[int, int] | None = None) -> animation.Look:
    """The figure's sizes (larger in high contrast); ``half``: one of two side by side;
    ``screen``: the room the browser measured for this figure, ``(width, height)`` in px (its
    column's width, the window's height below its top; see :func:`screen_for`), else a
    typical screen's.

    Laid out for a screen, the figure takes the width it is given and the height (the page's
    :func:`anim` lets it grow when its cells' numbers would be too small to read there). In
    classroom mode the type follows the width below :func:`viz.animation.fit_look`'s 85%
    down to :data:`CLASSROOM_MIN_SCALE`: a 1280 x 720 projector has two thirds of a 1920 x
    1080 one's pixels, and a column of ~540 px would clip a projector's step line."""
    base = animation.look_for(classroom, style)
    if screen is None:
        return vf.half_look(base) if half else base
    if half and classroom:  # a projector's halves keep their large type where there is room
        # (its rows of buttons are fit_look's to decide, for its width)
        base = dataclasses.replace(vf.half_look(base), control_rows=base.control_rows,
                                   controls_px=base.controls_px)
    width, height = screen
    lk = animation.fit_look(base, width, height)
    ratio = width / base.width_px
    if classroom and ratio < CLASSROOM_FIT_SCALE:
        lk = _type_scaled(lk, max(ratio, CLASSROOM_MIN_SCALE) / CLASSROOM_FIT_SCALE)
    if lk.control_rows == 1 and buttons_px(lk.button_font) > width - 24:
        # fit_look's one row from 620 px is for a laptop's buttons: a projector's would overlap
        lk = dataclasses.replace(lk, control_rows=2,
                                 controls_px=lk.controls_px + lk.button_font * 2 + 12)
    # the family's scenes write the equation under the grids (viz.family._scene): sized for
    # beside them, it would be cut off and the step line would run into the formula
    return dataclasses.replace(lk, eq_beside=False)


def buttons_px(font: int) -> float:
    """The width of an animation's eight buttons in one row, their type ``font`` px (measured
    in Chromium: 579 px at 13 px, 638 at 15, 814 at 21), rounded up."""
    return 30 * font + 200


# viz.animation.fit_look keeps classroom type at least this much of its size
CLASSROOM_FIT_SCALE = 0.85
# a projector's type at least this much of its size (1280/1920 = 0.67: the same size on the
# wall as on a 1920 x 1080 projector)
CLASSROOM_MIN_SCALE = 0.6
# A figure whose cells would be smaller than readable_px() in the room measured grows by steps
# of GROW_PX, up to MAX_GROW_PX, until they are not (or the width stops them): the page
# scrolls a little, but the room is the window below the figure's top, which is at least
# ~170 px down the page, so that the whole figure, its title and its buttons, still fits the
# window (at 1280 x 720, cells of 20 px in two columns need ~580 px).
GROW_PX = 50
MAX_GROW_PX = 450
READABLE_CELL_PX = 20  # numbers of 10 px


def readable_px(lk: animation.Look) -> float:
    """The smallest cell whose numbers can be read with ``lk``'s type (larger on a projector)."""
    return max(READABLE_CELL_PX, 1.2 * lk.min_cell_font)


# the gap between two columns (st.columns, 1rem; 19 px in classroom mode), rounded up
COLUMN_GAP_PX = 20


def _type_scaled(lk: animation.Look, factor: float) -> animation.Look:
    """``lk`` with its type (and the controls' height, which follows the buttons' type) scaled
    by ``factor`` (< 1), never below readable sizes."""
    def f(size: int, least: int) -> int:
        return min(size, max(least, round(size * factor)))

    button_font = f(lk.button_font, 13)
    rows = lk.control_rows
    # each row of buttons is about two button fonts tall (viz.animation.fit_look)
    controls = lk.controls_px - 2 * rows * (lk.button_font - button_font)
    return dataclasses.replace(
        lk, title_font=f(lk.title_font, 16), label_font=f(lk.label_font, 13),
        eq_font=f(lk.eq_font, 12), max_cell_font=f(lk.max_cell_font, 12),
        min_cell_font=f(lk.min_cell_font, 10), button_font=button_font, controls_px=controls,
        kernel_cell_px=f(lk.kernel_cell_px, 32))


def screen_for(room: tuple[int, int] | None, half: bool) -> tuple[int, int] | None:
    """The room of one figure from ``room``, the main column's (width, height) as measured
    (:func:`room_of`): its width, or a column's of two side by side."""
    if room is None:
        return None
    width, height = room
    return ((width - COLUMN_GAP_PX) // 2 if half else width), height


def room_of(screen: tuple[int, int] | None, half: bool) -> tuple[int, int] | None:
    """The main column's room from a figure's ``screen`` (the inverse of :func:`screen_for`:
    a column's width measured gives the page's)."""
    if screen is None:
        return None
    width, height = screen
    return ((2 * width + COLUMN_GAP_PX) if half else width), height


GRAD_NAMES = vf.Names(role="grad", inp="dL/dy", out="dL/dx", kernel="KERNEL w", symbol="dL/dx")


def _build(kind: str, cfg, lk: animation.Look, style: Style = LIGHT) -> animation.Animation:
    x, w = array(cfg.x), array(cfg.w)
    if kind in ("stamps", "zeros", "signal"):
        make = {"stamps": vf.transposed_stamps, "zeros": vf.zero_insertion,
                "signal": vf.conv1d_animation}[kind]
        extra = {"padding_word": cfg.word} if kind == "signal" else {}
        return make(x, w, cfg.geometry(), computed(cfg, "output"), look=lk, style=style,
                    **extra)
    if kind == "im2col":
        return vf.im2col_animation(x, w, cfg.geometry(), computed(cfg, "matrix"),
                                   computed(cfg, "output"), look=lk, style=style)
    if kind == "dx":
        gx = computed(cfg, "grads")[0]
        return vf.zero_insertion(array(cfg.g), w, adjoint_geometry(cfg.geometry()), gx[0],
                                 look=lk, names=GRAD_NAMES, style=style)
    if kind == "dw":
        gw = computed(cfg, "grads")[1]
        return vf.weight_grad_animation(x, array(cfg.g), cfg.geometry(), gw[0, 0], look=lk,
                                        style=style)
    raise ValueError(f"unknown animation {kind!r}")


@cache.cached
def computed(cfg, what: str):
    """``cfg.<what>()`` (the engine's output, matrix or gradients), once per configuration."""
    return getattr(cfg, what)()


@cache.cached
def anim(kind: str, cfg, classroom: bool, half: bool, style: Style = LIGHT,
         screen: tuple[int, int] | None = None) -> animation.Animation:
    """One of the family's animations, built once per configuration, style and screen."""
    lk = look(classroom, half, style, screen)
    built = _build(kind, cfg, lk, style)
    # a short room: taller, until the cells' numbers can be read (the figure only takes the
    # height its cells need: where the width limits them, more room changes nothing)
    while (screen is not None and built.scene.cell_px < readable_px(lk)
           and lk.extra_height_px < MAX_GROW_PX):
        lk = dataclasses.replace(lk, extra_height_px=lk.extra_height_px + GROW_PX)
        taller = _build(kind, cfg, lk, style)
        if taller.scene.cell_px > built.scene.cell_px:
            built = taller
    return wv.measured(built)


@cache.cached
def figure(kind: str, cfg, classroom: bool, half: bool, start: int, style: Style = LIGHT,
           screen: tuple[int, int] | None = None) -> FrozenFigure:
    return wv.step_figure(anim(kind, cfg, classroom, half, style, screen), start)


@cache.cached
def gif(kind: str, cfg, classroom: bool, style: Style = LIGHT) -> bytes:
    """The animation as a GIF for slides (laid out full width, in the figure's colours)."""
    return anim(kind, cfg, classroom, False, style).gif()


def forward_spec_data(cfg: Backprop):
    """The backprop mode's forward pass, for the sliding window's own animation."""
    return wv.key_of(array(cfg.x)[None]), cfg.spec()


# --------------------------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------------------------

def divisors(c_in: int, c_out: int) -> list[int]:
    return [g for g in range(1, c_in + 1) if c_in % g == 0 and c_out % g == 0]


@dataclass(frozen=True)
class Grouped:
    x: tuple   # (C_in, n, n)
    w: tuple   # (C_out, C_in // g, k, k)
    g: int
    s: int
    p: int

    def spec(self) -> ConvSpec:
        return ConvSpec(weight=self.w, groups=self.g, stride=self.s, padding=self.p)


def grouped_config(c_in: int, c_out: int, g: int, n: int, k: int, s: int, p: int,
                   seed: int) -> Grouped:
    if g not in divisors(c_in, c_out):
        raise ValueError(f"groups = {g} must divide both the input channels ({c_in}) and the "
                         f"filters ({c_out}): choose one of "
                         f"{', '.join(map(str, divisors(c_in, c_out)))}")
    x = ints(seed, 9, (c_in, n, n), 0, 3)
    w = ints(seed, 10, (c_out, c_in // g, k, k), -1, 1)
    cfg = Grouped(nested(x), nested(w), g, s, p)
    ops.check_conv_args(x.shape, w.shape, stride=s, padding=p, groups=g)
    return cfg


def pointwise_input(cfg: Grouped) -> np.ndarray:
    """The depthwise layer's output: what the pointwise 1x1 layer reads."""
    run = wv.run_layer(*wv.key_of(array(cfg.x)), cfg.spec())
    return run.conv.array


def pointwise_spec(channels: int, c_out: int, seed: int) -> ConvSpec:
    """The pointwise 1 x 1 layer after a depthwise one: ``channels`` maps in, ``c_out`` out."""
    return ConvSpec(weight=ints(seed, 11, (c_out, channels, 1, 1), -1, 1))


@cache.cached
def groups_chart(c_in: int, c_out: int, g: int, k: int, classroom: bool,
                 style: Style = LIGHT, screen: tuple[int, int] | None = None) -> FrozenFigure:
    """Which channels each filter sees; its cells sized for ``screen``'s width."""
    lk = animation.look_for(classroom, style)
    if screen is not None:
        lk = dataclasses.replace(lk, width_px=screen[0])
    return freeze(vf.groups_figure(c_in, c_out, g, k, look=lk, style=style))


@dataclass(frozen=True)
class CostRow:
    name: str
    params: str
    macs: str
    p_value: int
    m_value: int


def costs(c_in: int, c_out: int, k: int, hw: int, g: int) -> list[CostRow]:
    """Parameters and multiply-adds (``conv.shapes``, with their formulas) of a ``k x k``
    layer ``c_in -> c_out`` on an ``hw x hw`` map ("same" padding): standard, grouped, and
    depthwise-separable (depthwise ``k x k`` then pointwise ``1 x 1``)."""
    rows = []
    std_p, std_m = conv_params(k, k, c_in, c_out), conv_macs(hw, hw, k, k, c_in, c_out)
    rows.append(CostRow(f"standard {k}x{k}, {c_in} -> {c_out}", std_p.formula, std_m.formula,
                        std_p.value, std_m.value))
    if 1 < g:
        gp = conv_params(k, k, c_in, c_out, groups=g)
        gm = conv_macs(hw, hw, k, k, c_in, c_out, groups=g)
        rows.append(CostRow(f"grouped, groups = {g}", gp.formula, gm.formula, gp.value,
                            gm.value))
    dp, dm = (conv_params(k, k, c_in, c_in, groups=c_in),
              conv_macs(hw, hw, k, k, c_in, c_in, groups=c_in))
    pp, pm = conv_params(1, 1, c_in, c_out), conv_macs(hw, hw, 1, 1, c_in, c_out)
    rows.append(CostRow(f"depthwise {k}x{k} (groups = {c_in})", dp.formula, dm.formula,
                        dp.value, dm.value))
    rows.append(CostRow(f"pointwise 1x1, {c_in} -> {c_out}", pp.formula, pm.formula, pp.value,
                        pm.value))
    rows.append(CostRow("depthwise-separable (depthwise + pointwise)",
                        f"{dp.value:,} + {pp.value:,} = {dp.value + pp.value:,}",
                        f"{dm.value:,} + {pm.value:,} = {dm.value + pm.value:,}",
                        dp.value + pp.value, dm.value + pm.value))
    return rows


# --------------------------------------------------------------------------------------------
# Checkerboard artefacts
# --------------------------------------------------------------------------------------------

CHECKER_CELLS = 48
CHECKER_ZOOM = 4


def box_kernel(k: int, s: int) -> np.ndarray:
    """A ``k x k`` box whose stamps, ``s`` apart, add up to 1 on average (``(s/k)^2`` each)."""
    return np.full((k, k), (s / k) ** 2, np.float32)


def overlaps(k: int, s: int, p: int, op: int) -> list[int]:
    """How many stamps reach each output along one axis, phase by phase (from the geometry)."""
    axis = transposed_geometry((8,), (k,), stride=s, padding=p, output_padding=op).axes[0]
    return [len(ph.taps) for ph in axis.phases()]


@cache.cached
def checkerboard(photo: str) -> dict:
    """A small gray patch of ``photo`` upsampled 2x by transposed convolution with a 3x3 box and
    a 4x4 box, each as JPEG bytes enlarged (nearest neighbour) to show single pixels."""
    gray = image.to_gray(wv.sample_rgb(photo))[0]
    patch = wv.photo_patch(gray, 50, 40, min(gray.shape) // 3, CHECKER_CELLS).x
    out = {}
    for k, p, op in ((3, 1, 1), (4, 1, 0)):
        up = ops.conv_transpose2d(patch, box_kernel(k, 2)[None, None], stride=2, padding=p,
                                  output_padding=op)[0]
        out[k] = _big(up, CHECKER_ZOOM)
        out[f"counts{k}"] = overlaps(k, 2, p, op)
        out[f"shape{k}"] = up.shape
    out["input"] = _big(patch[0], CHECKER_ZOOM * 2)
    out["n"] = patch.shape[1]
    return out


def _big(a: np.ndarray, zoom: int) -> bytes:
    im = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))
    im = im.resize((im.width * zoom, im.height * zoom), Image.Resampling.NEAREST)
    return jpeg(im.convert("RGB"))


def clicked_step(chart_key: str) -> int | None:
    return wv.clicked_step(chart_key)

