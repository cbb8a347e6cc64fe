"""The filter lab's logic: its settings in the URL, the image it works on, the layer it applies,
and the pictures of every stage. ``ui/pages/filter_lab.py`` reads as a description of the page
and calls into here; figures come from :mod:`viz.maps`, code from :mod:`viz.snippets`.

Caching: everything lives in the process's byte budget (``ui/cache.py``), keyed on names and
digests, never on an array:

- decoded images: the sample's name or the upload's SHA-256 (the upload's compressed bytes
  are kept once, in ``ui/uploads.py``, to decode it again if the budget dropped it);
- the working image and the engine's input: (image key, resolution, colour mode);
- the layer: a :class:`LabResult` keyed on (image key, resolution, colour mode, the spec's
  digest, the maps' names), holding every stage; its reduced display copies, value ranges,
  pictures, figure and HTML are entries of their own, built when first asked for, so a change
  of display mapping or of the map shown costs no recomputation, and what concerns only the
  input is shared by every layer on it;
- what outlives a run (the figures fragment's arguments, download buttons' callables) holds a
  :class:`Source`, a few strings, never pixels.

Session-state keys start with ``lab.``; the URL names are in :func:`url_state`.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import html
import io
import math
from dataclasses import dataclass

import numpy as np
import streamlit as st

from conv import geometry, image, samples, shapes
from conv.options import PADDING
from conv.stages import ConvSpec, Resolved, Stages, run
from kernels import learned as _learned  # noqa: F401 - registers LeNet-5's filters
from kernels import library
from kernels.text import format_kernel
from ui import cache, controls, shared, uploads
from ui.html_view import html_view
from ui.state import Param, UrlState, choice, fmt_number, integer, number, words
from viz import maps, snippets
from viz.style import LIGHT, Style

# --------------------------------------------------------------------------------------------
# Choices
# --------------------------------------------------------------------------------------------

RESOLUTIONS = ("256", "512", "1024", "full")
DEFAULT_RES = "1024"
# Full resolution computes on every pixel; above this many the photo is reduced to the largest
# size under the limit. 16 MP covers 12 MP phone photos and most cameras' defaults; every
# stage of a 16 MP RGB layer is ~200 MB of float32, and a few are kept for the figures.
FULL_LIMIT_PIXELS = 16_000_000

COLOURS = ("gray", "channels", "rgb")
COLOUR_LABELS = {"gray": "Grayscale", "channels": "Per channel", "rgb": "Full RGB filter"}
COLOUR_SENTENCES = {
    "gray": "Grayscale: the photo becomes one channel of luma "
            "(0.299 R + 0.587 G + 0.114 B, ITU-R BT.601) and the kernel slides over it.",
    "channels": "Per channel: the same 2-D kernel runs on R, G and B separately, giving three "
                "maps, shown side by side and recombined into a colour image.",
    "rgb": "Full RGB filter: a kH x kW x 3 kernel, one slice per channel, whose three results "
           "are summed into one map, as in the first layer of a CNN.",
}
DEFAULT_IMAGE = "photo:chelsea"


def colour_sentences(current: str) -> str:
    """The three colour modes, one sentence each, the current one in bold (Markdown)."""
    return "\n".join(f"- {'**' if c == current else ''}{COLOUR_SENTENCES[c]}"
                     f"{'**' if c == current else ''}" for c in COLOURS)


def resolution_label(r: str) -> str:
    return "full" if r == "full" else f"{r} px"


# Teaching images; "lecture_6x6" is the lecture notes' worked example (10 left, 0 right, 6 x 6):
# with the vertical-edge kernel and no padding it gives the notes' 4 x 4 map of 0, 30, 30, 0.
SYNTHETIC_SHOWN = ("lecture_6x6", "vertical_edge", "horizontal_edge", "checkerboard", "disc",
                   "text", "gradient", "impulse")
SYNTHETIC_TITLES = {"lecture_6x6": "Lecture 6 x 6 (10 | 0)",
                    "vertical_edge": "Vertical step edge",
                    "horizontal_edge": "Horizontal step edge",
                    "checkerboard": "Checkerboard", "disc": "Circle (disc)", "text": "Text",
                    "gradient": "Ramp", "impulse": "Single dot (impulse)"}
FIXED_SIZE = {"lecture_6x6": 6}  # teaching images drawn at one size, whatever the resolution
STAGE_CHOICES = ("output", "conv", "biased", "activated", "pooled")
STAGE_LABELS = {"output": "Layer output", "conv": "Convolution", "biased": "+ bias",
                "activated": "Activation", "pooled": "Pooling", "input": "Input",
                "padded": "Padded input", "mag": "Gradient magnitude"}
MAX_MAPS = 8  # kernels in a bank (the main kernel + 7)
MAP_CHOICES = tuple(str(i) for i in range(MAX_MAPS)) + ("mag",)


def image_choice(text: str) -> str:
    """Parse an ``img`` URL value: ``photo:<sample>``, ``synthetic:<pattern>``, ``upload`` or
    ``camera`` (a bare sample name works too)."""
    t = text.strip().lower()
    if t in samples.SAMPLES:
        return f"photo:{t}"
    kind, _, name = t.partition(":")
    if kind == "photo" and name in samples.SAMPLES:
        return t
    if kind == "synthetic" and name in SYNTHETIC_SHOWN:
        return t
    if t in ("upload", "camera"):
        return t
    raise ValueError(
        f"{text[:40]!r} is not a sample (photo:{', photo:'.join(samples.SAMPLES)}) or a teaching "
        f"image (synthetic:{', synthetic:'.join(SYNTHETIC_SHOWN)})")


def url_state() -> UrlState:
    """Every setting of the page but the uploaded photo, with its URL name."""
    keys = controls.preset_keys()
    P = Param
    return UrlState("lab", [
        P("img", "lab.img", DEFAULT_IMAGE, image_choice, label="image"),
        P("res", "lab.res", DEFAULT_RES, choice(RESOLUTIONS), label="working resolution"),
        P("colour", "lab.colour", "gray", choice(COLOURS), label="colour handling"),
        P("k", "lab.k.preset", "sobel_x", choice(keys), label="kernel preset"),
        P("ks", "lab.k.size", None, integer(1, library.MAX_SIZE), label="kernel size",
          skip=_implied_size),
        P("sigma", "lab.k.sigma", None, number(*library.SIGMA_RANGE), format=fmt_number,
          label="sigma", skip=_implied_sigma),
        P("kt", "lab.kt", None, controls.parse_compact, format=controls.format_compact,
          label="kernel"),
        P("bank", "lab.k.bank", [], words(keys, max_items=MAX_MAPS - 1), format=",".join,
          label="filter bank"),
        P("kr", "lab.k.slice.R", None, controls.parse_compact,
          format=controls.format_compact, label="R slice"),
        P("kg", "lab.k.slice.G", None, controls.parse_compact,
          format=controls.format_compact, label="G slice"),
        P("kb", "lab.k.slice.B", None, controls.parse_compact,
          format=controls.format_compact, label="B slice"),
        *controls.layer_params("lab"),
        P("show", "lab.show", "output", choice(STAGE_CHOICES), label="stage shown"),
        P("map", "lab.map", "0", choice(MAP_CHOICES), label="map shown"),
        P("mapping", "lab.mapping", "auto", choice(maps.MAPPINGS), label="display mapping"),
        P("lim", "lab.lim", "p99.5", choice(maps.LIMITS), label="colour limits"),
    ])


def after_restore(url: UrlState, notices: list[str]) -> None:
    """Settings that depend on each other, checked once a link has been applied: the kernel
    text of an edited kernel, a size the preset does not offer, an upload that links cannot
    carry."""
    ss = st.session_state
    if not url.applied:
        return
    for k in ("lab.k.origin", "lab.k.note"):
        ss.pop(k, None)
    ss.pop("lab.k.text", None)  # the picker rebuilds it from the preset...
    controls.drop_pending("lab.k.text", "lab.k.sigma")
    if ss.get("lab.kt"):
        ss["lab.k.text"] = ss["lab.kt"]  # ...unless the link carries an edited kernel
    spec = library.PARAMETRIC.get(ss.get("lab.k.preset"))
    size = ss.get("lab.k.size")
    if spec is not None and size is not None and size not in spec.sizes:
        notices.append(f"The link's kernel size {size} x {size} is not offered for "
                       f"{library.get(ss['lab.k.preset']).name.split(' (')[0]}; using "
                       f"{spec.default_size} x {spec.default_size}.")
        ss["lab.k.size"] = spec.default_size
    sigma = ss.get("lab.k.sigma")
    if spec is not None and spec.takes_sigma and sigma is not None and sigma > 10.0:
        notices.append(f"The link's sigma {sigma:g} is above 10, the largest offered; using "
                       f"the default for the size.")
        ss.pop("lab.k.sigma")
    if ss.get("lab.img") in ("upload", "camera") and not ss.get("lab.upload"):
        notices.append("This link was made with an uploaded photo, and uploads are not part of "
                       "links (they stay on the computer they came from). Showing the sample "
                       "photo instead: upload the photo to see it with these settings.")
        ss["lab.img"] = DEFAULT_IMAGE


def _implied_size(size) -> bool:
    spec = library.PARAMETRIC.get(st.session_state.get("lab.k.preset"))
    return spec is None or size == spec.default_size


def _implied_sigma(sigma) -> bool:
    ss = st.session_state
    spec = library.PARAMETRIC.get(ss.get("lab.k.preset"))
    if spec is None or not spec.takes_sigma:
        return True
    size = ss.get("lab.k.size") or spec.default_size
    return sigma == round(float(spec.default_sigma(size)), 2)


# --------------------------------------------------------------------------------------------
# The image
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class LabImage:
    """The image the lab works on, at full resolution."""

    key: str                      # cache key: "photo:chelsea", "synthetic:disc@512", "upload:<sha>"
    choice: str                   # the ``img`` setting it came from
    title: str                    # for people: "Chelsea the cat (sample)", "IMG_1234.jpg"
    rgb: np.ndarray               # uint8 (H, W, 3), upright, read-only
    source_size: tuple[int, int]  # (width, height) as stored in the file
    format: str
    notes: tuple[str, ...] = ()
    filename: str = "photo.jpg"


@cache.cached
def _sample(name: str) -> image.Decoded:
    return image.decode(samples.load_sample(name))


@cache.cached
def _synthetic(name: str, size: int) -> np.ndarray:
    if name == "lecture_6x6":
        return (samples.synthetic("vertical_edge", size=6) // 255 * 10).astype(np.uint8)
    return samples.synthetic(name, size=size)


@cache.cached
def gallery_img(choice_: str) -> str:
    """The thumbnail as an ``<img>`` with its PNG inline: ``st.image`` would re-open and
    re-encode each of the 16 thumbnails with Pillow on every rerun of the page."""
    data = base64.b64encode(gallery_thumbnail(choice_)).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(choice_)}" '
            'style="width:100%; display:block">')


@cache.cached
def gallery_thumbnail(choice_: str) -> bytes:
    """A small square picture of a gallery entry (PNG bytes: encoded once)."""
    kind, _, name = choice_.partition(":")
    rgb = _sample(name).rgb if kind == "photo" else _synthetic(name, 256)
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    small = maps.reduce(np.ascontiguousarray(rgb[top:top + side, left:left + side]), 128)
    if small.shape[0] < 64:  # tiny teaching images: enlarged pixel by pixel, not blurred
        k = -(-64 // small.shape[0])
        small = small.repeat(k, axis=0).repeat(k, axis=1)
    return maps.encode(small, fmt="png")[0]


def gallery() -> None:
    """Thumbnails of the sample photos and teaching images, one click each (three a row, for
    the sidebar)."""
    ss = st.session_state
    current = ss.get("lab.img", DEFAULT_IMAGE)
    # built only when open: 16 pictures and buttons are 38 elements, which every rerun of the
    # page would otherwise send and the browser redraw (kernel change in Chromium, gallery
    # closed, side by side in ABBA order, 20 each: 366 -> 291 ms median)
    box = st.expander(f"Gallery: {len(samples.SAMPLES)} photos, {len(SYNTHETIC_SHOWN)} "
                      f"teaching images", key="lab.gallery_open", on_change="rerun")
    if not box.open:
        return
    with box, st.container(key="lab-gallery"):
        entries = gallery_choices()
        for start in range(0, len(entries), 3):
            for col, (choice_, title) in zip(st.columns(3, gap="small"),
                                             entries[start:start + 3]):
                col.html(gallery_img(choice_))
                col.button(title, key=f"lab.pick.{choice_}", on_click=pick_image,
                           args=(choice_,), width="stretch",
                           type="primary" if current == choice_ else "secondary")


def synthetic_size(res: str) -> int:
    return 1024 if res == "full" else int(res)


def gallery_choices() -> list[tuple[str, str]]:
    return ([(f"photo:{n}", s.title) for n, s in samples.SAMPLES.items()]
            + [(f"synthetic:{n}", SYNTHETIC_TITLES[n]) for n in SYNTHETIC_SHOWN])


def choice_title(choice_: str) -> str:
    kind, _, name = choice_.partition(":")
    if kind == "photo":
        return f"{samples.SAMPLES[name].title} (sample photo)"
    if kind == "synthetic":
        return f"{SYNTHETIC_TITLES[name]} (teaching image)"
    return choice_


def pick_image(choice_: str) -> None:
    """Gallery callback: show this sample or teaching image."""
    st.session_state["lab.img"] = choice_


def receive_upload(file, source: str, name: str | None = None) -> str | None:
    """Take an uploaded (or webcam) file: decode it, make it the current image, and release
    its bytes from Streamlit's uploaded-file manager (``ui/uploads.py`` keeps the one copy).
    Returns an error message for the page when it cannot be shown (the current image stays).

    Caches key on the file's SHA-256 (never on the decoded array); the digest itself is
    remembered per upload id, so a 20 MB photo is hashed once, not on every rerun."""
    ss = st.session_state
    up = uploads.take(file, name=name, digests=ss.setdefault("lab.digests", {}))
    bad = ss.setdefault("lab.bad_uploads", {})
    if up.digest in bad:
        return bad[up.digest]
    if ss.get("lab.seen_upload") == up.digest and uploads.get(uploads.session_id(), up.digest):
        return None  # already taken: the widget just still holds it
    try:
        _decode_upload(up)
    except image.ImageError as exc:
        bad[up.digest] = f"{up.name}: {exc}"
        return bad[up.digest]
    uploads.keep(up)
    ss["lab.seen_upload"] = up.digest
    ss["lab.upload"] = (up.digest, up.name, source)
    ss["lab.img"] = source
    return None


@dataclass(frozen=True)
class Source:
    """Which image, at which working resolution: a few strings, so that what outlives a run
    (a fragment's arguments, a download button's callable) holds no pixels; the pixels come
    from the byte budget, built again if it dropped them."""

    choice: str         # "photo:chelsea", "synthetic:disc", "upload" or "camera"
    res: str            # a RESOLUTIONS value
    digest: str = ""    # an upload's SHA-256
    name: str = ""      # an upload's file name
    session: str = ""   # the session whose upload store (ui/uploads.py) holds its bytes


def current_source() -> Source:
    """The image chosen, as a :class:`Source` (the default sample when an upload is gone)."""
    ss = st.session_state
    choice_ = ss.get("lab.img", DEFAULT_IMAGE)
    res = ss.get("lab.res", DEFAULT_RES)
    if choice_ in ("upload", "camera"):
        up = ss.get("lab.upload")
        if up:
            digest, name, _ = up
            return Source(choice_, res, digest, name, uploads.session_id())
        choice_ = ss["lab.img"] = DEFAULT_IMAGE
    return Source(choice_, res)


class UploadGone(LookupError):
    """The upload's pixels left the byte budget and its bytes are no longer held."""


def _decode_upload(up: uploads.Upload) -> image.Decoded:
    return cache.get_or_build(("lab.upload", up.digest), lambda: image.decode(up.data),
                              reserve=_decoded_bytes(up.data))


def _decoded_bytes(data: bytes) -> int:
    """About the memory decoding these bytes takes (3 bytes a pixel, and a working copy)."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
    except Exception:  # noqa: BLE001 - image.decode says what is wrong with the file
        return 0
    return 6 * w * h


def load_image(src: Source) -> LabImage:
    """The image of ``src`` at full resolution (``UploadGone`` if it cannot be had)."""
    if src.digest:
        d = cache.get(("lab.upload", src.digest))
        if d is None:
            up = uploads.get(src.session, src.digest)
            if up is None:
                raise UploadGone(src.name)
            d = _decode_upload(up)
        return LabImage(f"upload:{src.digest}", src.choice, src.name, d.rgb, d.source_size,
                        d.format, d.notes, src.name)
    kind, _, name = src.choice.partition(":")
    if kind == "synthetic":
        size = FIXED_SIZE.get(name) or synthetic_size(src.res)
        rgb = _synthetic(name, size)
        return LabImage(f"synthetic:{name}@{size}", src.choice, choice_title(src.choice), rgb,
                        (size, size), "synthetic", (), f"{name}.png")
    d = _sample(name)
    return LabImage(src.choice, src.choice, choice_title(src.choice), d.rgb, d.source_size,
                    d.format, d.notes, samples.SAMPLES[name].filename)


def current_image() -> tuple[Source, LabImage, str]:
    """The image chosen (the default sample when the choice cannot be honoured), its
    :class:`Source`, and a notice for the page ("" when none)."""
    src = current_source()
    try:
        return src, load_image(src), ""
    except UploadGone:
        ss = st.session_state
        ss["lab.img"] = DEFAULT_IMAGE
        ss.pop("lab.upload", None)
        ss.pop("lab.seen_upload", None)
        src = current_source()
        return src, load_image(src), (
            f"The uploaded photo ({src.name or 'your photo'}) is no longer held by the server; "
            f"showing the sample photo. Upload it again to carry on with it.")


def longest_side(img: LabImage, res: str) -> tuple[int | None, str]:
    """The longest side to compute on (None: every pixel) and a note when the full-resolution
    pixel limit applies."""
    h, w = img.rgb.shape[:2]
    if res != "full":
        return int(res), ""
    if h * w <= FULL_LIMIT_PIXELS:
        return None, ""
    scale = math.sqrt(FULL_LIMIT_PIXELS / (h * w))
    longest = int(max(h, w) * scale)
    while True:  # the largest longest side whose reduced image stays under the limit
        nh, nw = maps.display_shape(h, w, longest)
        if nh * nw <= FULL_LIMIT_PIXELS:
            break
        longest -= 1
    return longest, (
        f"Full resolution is limited to {FULL_LIMIT_PIXELS / 1e6:.0f} megapixels: this photo "
        f"has {h * w / 1e6:.1f} MP ({w} x {h}), so the lab computes on {nw} x {nh}, the largest "
        f"size under the limit. Every stage of a layer is kept in memory as 32-bit numbers "
        f"(about 200 MB per stage for a 16 MP colour photo), which is what the limit protects.")


def _working(image_key: str, longest: int | None, rgb: np.ndarray) -> np.ndarray:
    # Pillow's copy of the photo while it resizes it
    return cache.get_or_build(("lab.working", image_key, longest),
                              lambda: image.working_resolution(rgb, longest), reserve=rgb.nbytes)


def working_image(img: LabImage, res: str) -> tuple[np.ndarray, str, str]:
    """(the working image, the sentence saying what it is, the pixel-limit note or "")."""
    longest, limit = longest_side(img, res)
    rgb = _working(img.key, longest, img.rgb)
    h, w = rgb.shape[:2]
    sw, sh = img.rgb.shape[1], img.rgb.shape[0]
    if img.format == "synthetic":
        what = f"Computed on {w} x {h} pixels (width x height), drawn at that size."
    elif (h, w) == (sh, sw):
        what = f"Computed on {w} x {h} pixels (width x height): the full resolution."
    else:
        what = (f"Computed on {w} x {h} pixels (width x height), downscaled from {sw} x {sh} "
                f"by area averaging.")
    return rgb, what, limit


def _input(image_key: str, longest: int | None, colour: str, rgb: np.ndarray) -> np.ndarray:
    # float32 planes (one, or three), and a float copy of the photo on the way
    size = rgb.size * 4 * (1 if colour == "gray" else 3) // 3 + rgb.nbytes
    return cache.get_or_build(("lab.input", image_key, longest, colour), lambda: image.to_array(
        rgb, mode="gray" if colour == "gray" else "rgb"), reserve=size)


def engine_input(img: LabImage, longest: int | None, colour: str, rgb: np.ndarray) -> np.ndarray:
    """The engine's float32 (C, H, W) input in 0..255: luma for grayscale, else R, G, B."""
    return _input(img.key, longest, colour, rgb)


@dataclass(frozen=True)
class Prepared:
    """What a run needs of the image: itself, the working image and the engine's input."""

    img: LabImage
    rgb: np.ndarray
    what: str
    limit: str
    longest: int | None
    x: np.ndarray


def prepare(src: Source, colour: str) -> Prepared:
    """The image of ``src`` ready for the layer (every step from the byte budget)."""
    img = load_image(src)
    rgb, what, limit = working_image(img, src.res)
    longest, _ = longest_side(img, src.res)
    return Prepared(img, rgb, what, limit, longest, engine_input(img, longest, colour, rgb))


# --------------------------------------------------------------------------------------------
# The layer
# --------------------------------------------------------------------------------------------

def spec_digest(spec: ConvSpec) -> str:
    return hashlib.sha256(repr(spec).encode()).hexdigest()[:24]


class LabResult:
    """One layer applied to one image. Its display copies, value ranges and pictures are
    entries of the byte budget of their own (:meth:`memo`), built when first asked for: the
    result never grows once stored, and a picture can outlive the stages it came from."""

    def __init__(self, x: np.ndarray, spec: ConvSpec, stages: Stages, colour: str,
                 names: list[str], n_kernels: int, pair: tuple[int, int] | None,
                 input_key: str = "", key: tuple = ()):
        self.x, self.spec, self.stages, self.colour = x, spec, stages, colour
        self.names, self.n, self.pair = names, n_kernels, pair
        self.input_key = input_key  # identifies x: image, resolution, colour mode
        self.key = key or (input_key, spec_digest(spec))  # identifies the whole result
        self._stage_ids = self._ids()  # made here: a stored result never grows

    def memo(self, key, build, *, reserve: int = 0):
        """``build()``'s value, in the byte budget under this result's key and ``key``.
        Pictures, ranges and copies of one stage's map (keys ``(what, stage, j, ...)``) are
        keyed on what that stage depends on instead (:meth:`stage_id`), so that layers sharing
        a stage share them: a new bias reuses the convolution's pictures, a new pooling every
        earlier stage's, any layer the input's. ``build`` must not keep ``self``."""
        if (isinstance(key, tuple) and len(key) >= 2
                and key[0] in ("values", "range", "reduced", "mapped", "counts", "clip",
                               "inside")):
            what, stage, *rest = key
            if what == "mapped" and stage in ("input", "padded"):
                # the input is shown as a photo, whatever the mapping and limits
                rest = [rest[0], rest[2]]
            return cache.get_or_build(("lab.stage", self.input_key, self.stage_id(stage), what,
                                       *rest), build, reserve=reserve)
        return cache.get_or_build(("lab.memo", self.key, key), build, reserve=reserve)

    def stage_id(self, stage: str) -> tuple:
        """What a stage's values depend on beside the input (``"output"`` is the last stage)."""
        if stage == "output":
            stage = self.stages.output.key
        if stage == "mag":
            return ("mag", self._stage_ids["conv"], self.pair, self.n, self.colour)
        return self._stage_ids[stage]

    def _ids(self) -> dict[str, tuple]:
        s = self.spec
        w = np.asarray(s.weight_array)
        conv = ("conv", hashlib.sha256(w.tobytes()).hexdigest()[:24], w.shape, s.stride,
                self.stages.padding, s.dilation, s.groups, s.padding_mode, s.flip)
        ids = {"input": ("input",),
               "padded": ("padded", self.stages.padding, s.padding_mode),
               "conv": conv}
        last = conv
        if s.has_bias:
            last = ids["biased"] = (last, "bias", tuple(s.bias))
        if s.activation != "identity":
            slope = s.negative_slope if s.activation == "leaky_relu" else None
            last = ids["activated"] = (last, s.activation, slope)
        if s.pool is not None:
            ids["pooled"] = (last, repr(s.pool))
        return ids

    # which channels make "map j" of a stage
    def channels(self, stage: str, j: int) -> list[int]:
        if stage in ("input", "padded"):
            return list(range(self.x.shape[0]))
        if self.colour == "channels":
            return [j, self.n + j, 2 * self.n + j]
        return [j]

    def stage(self, stage: str):
        return getattr(self.stages, stage) if stage != "output" else self.stages.output

    def values(self, stage: str, j: int) -> np.ndarray:
        """The exact values of map ``j`` of ``stage`` (C, H, W), C = 1 or 3."""
        if stage == "mag":
            return self.magnitude()
        a = self.stage(stage).array
        ch = self.channels(stage, j)
        if ch == list(range(a.shape[0])):
            return a
        return self.memo(("values", stage, j), lambda: np.ascontiguousarray(a[ch]))

    def magnitude(self) -> np.ndarray:
        """sqrt(gx^2 + gy^2) of the derivative pair's convolution maps (per colour channel)."""
        def build():
            i, k = self.pair
            c = self.stages.conv.array
            if self.colour == "channels":
                idx = [(g * self.n + i, g * self.n + k) for g in range(3)]
            else:
                idx = [(i, k)]
            return np.stack([np.hypot(c[a], c[b]) for a, b in idx]).astype(np.float32)
        n = 1 if self.colour != "channels" else 3
        return cache.get_or_build(("lab.stage", self.input_key, self.stage_id("mag"), "values"),
                                  build, reserve=self.stages.conv.array[0].nbytes * 2 * n)

    def value_range(self, stage: str, j: int) -> tuple[float, float]:
        return self.memo(("range", stage, j), lambda: maps.value_range(self.values(stage, j)))

    def reduced(self, stage: str, j: int, side: int = maps.DISPLAY_SIDE,
                method: str = "mean") -> np.ndarray:
        """The map reduced for display (:func:`viz.maps.reduce`); a thumbnail's largest-|x|
        copy from the figure's (the largest of the largest is the largest)."""
        a = self.stage(stage).array if stage != "mag" else self.stages.conv.array
        big = max(a.shape[-2:]) > maps.DISPLAY_SIDE

        def build():
            if method == "maxabs" and side < maps.DISPLAY_SIDE and big:
                return maps.reduce(self.reduced(stage, j, maps.DISPLAY_SIDE, method), side,
                                   method)
            return maps.reduce(self.values(stage, j), side, method)
        # the mean: Pillow's copy of a plane; the largest |x|: two planes of the output
        return self.memo(("reduced", stage, j, side, method), build,
                         reserve=a[0].nbytes if method == "mean" else a[0].nbytes // 4)

    def inside(self, stage: str, j: int) -> float:
        """The share of the map's values in 0..255 (what "auto" decides by), from a regular
        sample (:data:`viz.maps.ROBUST_SAMPLE` values at most)."""
        return self.memo(("inside", stage, j), lambda: maps.inside_share(
            self.values(stage, j), self.value_range(stage, j)))

    def resolved(self, stage: str, j: int, mapping: str) -> str:
        """The mapping ``mapping`` stands for on this map ("auto" resolved on the whole map)."""
        if stage in ("input", "padded"):
            return "clip"
        vmin, vmax = self.value_range(stage, j)
        inside = self.inside(stage, j) if mapping == "auto" else None
        return maps.resolve_mapping(mapping, vmin, vmax, inside)

    def clip(self, stage: str, j: int, limits: str) -> maps.Clip:
        """The whole map's colour limit for the signed and |x| pictures, and what it clips."""
        return self.memo(("clip", stage, j, limits), lambda: maps.robust_clip(
            self.values(stage, j), limits=limits, value_range_=self.value_range(stage, j)))

    def mapped(self, stage: str, j: int, mapping: str,
               side: int = maps.DISPLAY_SIDE, limits: str = "p99.5") -> maps.Mapped:
        """The display picture of a map (reduced to ``side``: signed and |x| maps by the
        largest |x| per block, so that thin edges stay), coloured by ``mapping`` with the full
        map's real range and colour limits (``limits``); its label says how it was reduced."""
        def build():
            how = "clip" if stage in ("input", "padded") else mapping
            resolved = self.resolved(stage, j, mapping)
            method = maps.reduce_method(resolved) if how != "clip" else "mean"
            v = self.reduced(stage, j, side, method)
            clip = self.clip(stage, j, limits) if resolved in ("signed", "abs") else None
            inside = self.inside(stage, j) if how == "auto" else None
            m = maps.map_any(v, how, value_range_=self.value_range(stage, j), clip=clip,
                             inside=inside)
            h, w = self.values(stage, j).shape[-2:]
            note = maps.reduce_note(h, w, side, method)
            if note and side == maps.DISPLAY_SIDE and stage not in ("input", "padded"):
                m = dataclasses.replace(m, label=f"{m.label}; {note}", _uris={})
            # its one picture encoded now: a stored value must not grow (Mapped keeps the
            # pictures it encodes), and the figure (DISPLAY_SIDE) and the cards (THUMB_SIDE)
            # each ask for the one of their side
            if side == maps.THUMB_SIDE:
                maps.thumbnail_uri(m, side)
            else:
                m.uri(side)
            return m
        return self.memo(("mapped", stage, j, mapping, side, limits), build)

    def placement(self, stage: str) -> maps.Placement:
        """Where the stage's pixels sit in input coordinates."""
        pads = self.stages.padding
        if stage == "input":
            return maps.Placement()
        if stage == "padded":
            (t, _), (l, _) = pads
            return maps.Placement(-l, -t)
        s = self.spec
        conv = maps.window_placement(pads, s.weight_shape[2:], s.stride, s.dilation)
        if stage == "pooled" or (stage == "output" and self.stages.pooled is not None):
            p = s.pool
            (kh, kw), (sh, sw), (ph, pw) = p.kernel_size, p.effective_stride, p.padding
            return conv.then(offset=(-ph + (kh - 1) / 2, -pw + (kw - 1) / 2), step=(sh, sw))
        return conv

    def stage_keys(self) -> list[str]:
        return [st_.key for st_ in self.stages.strip()]

    def map_name(self, j: int | str) -> str:
        if j == "mag":
            a, b = self.pair
            return f"√({self.names[a]}² + {self.names[b]}²)"
        return self.names[j] if self.colour != "channels" else self.names[j].rsplit(" · ", 1)[0]


def _layer(image_key: str, longest: int | None, colour: str, x: np.ndarray, layer: Resolved,
           names: tuple, n: int, pair) -> LabResult:
    spec = layer.spec
    input_key = f"{image_key}|{longest}|{colour}"
    key = (input_key, spec_digest(spec), names, pair)  # the names are in its pictures' titles

    def build() -> LabResult:
        return LabResult(x, spec, run(x, spec, layer), colour, list(names), n, pair,
                         input_key, key)
    # the stages' arrays: the input, the padded input, and each stage after the conv
    size = x.nbytes * 2 + 4 * math.prod(layer.out_shape) * (1 + len(_stage_present(spec)))
    return cache.get_or_build(("lab.layer",) + key, build, reserve=size)


def compute(img: LabImage, longest: int | None, colour: str, x: np.ndarray, spec: ConvSpec,
            names: list[str], n: int, pair) -> LabResult:
    """The layer on the image (``ValueError`` with the reason when it cannot be applied)."""
    return _layer(img.key, longest, colour, x, spec.resolve(x.shape), tuple(names), n, pair)


def busy(x: np.ndarray, spec: ConvSpec):
    """A progress indicator around the work of one run: ``st.spinner`` shows itself only when
    the work takes longer than half a second (Streamlit's ``DELAY_SECS``)."""
    _, h, w = x.shape
    return st.spinner(f"Computing {spec.weight_shape[0]} map(s) on {w} x {h} pixels...",
                      show_time=True)


# --------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------

def _shape(a: np.ndarray) -> str:
    c, h, w = a.shape
    return f"{h} x {w} x {c}"


def panel(result: LabResult, stage: str, j, mapping: str, title: str,
          limits: str = "p99.5") -> maps.Panel:
    values = result.values(stage, j)
    origin = (0, 0)
    outline = None
    index_name = "output" if stage not in ("input", "padded") else "input"
    if stage == "padded":
        (t, _), (l, _) = result.stages.padding
        origin = (-t, -l)
        h, w = result.x.shape[1:]
        outline = (-0.5, -0.5, w - 0.5, h - 0.5)
    names = ("R", "G", "B")
    if result.colour == "channels" and stage not in ("input", "padded"):
        names = ("R map", "G map", "B map")
    return maps.Panel(title=title, values=values,
                      mapped=result.mapped(stage, j, mapping, limits=limits),
                      placement=result.placement(stage), index_origin=origin, outline=outline,
                      channel_names=names, index_name=index_name)


def right_key(result: LabResult, shown: str, j) -> str:
    """The key of what the right panel shows ("mag" for the gradient magnitude)."""
    return "mag" if j == "mag" else right_stage(result, shown)


def figure_token(img: LabImage, longest, colour: str, spec: ConvSpec, shown: str, j,
                 mapping: str, limits: str = "p99.5", style: Style = LIGHT) -> str:
    """Identifies the figure's content (``layout.meta``); its first part, the image, is the
    ``uirevision`` that keeps the zoom while only the layer changes."""
    return (f"{img.key}@{longest}|{colour}|{spec_digest(spec)}|{shown}|{j}|{mapping}|{limits}"
            f"|{style.name}")


def right_stage(result: LabResult, shown: str) -> str:
    """The stage for the right panel: the chosen one, or the output if it is not in the layer."""
    keys = result.stage_keys()
    if shown == "output" or shown not in keys:
        return result.stages.output.key
    return shown


def main_figure(result: LabResult, shown: str, j, mapping: str, *, token: str,
                height: int | None = None, limits: str = "p99.5", style: Style = LIGHT):
    """Input (padded, when there is padding) beside the chosen stage, linked zoom (plain data:
    the page keeps what it sends, see :func:`figure_key`)."""
    left_key = "padded" if result.stages.padding != ((0, 0), (0, 0)) else "input"
    right_key = "mag" if j == "mag" else right_stage(result, shown)
    lv = result.values(left_key, 0)
    (t, b), (l, r) = result.stages.padding
    if left_key == "padded":
        mode = PADDING[result.spec.padding_mode].fills
        sides = (f"{t} on every side" if t == b == l == r
                 else f"top {t}, bottom {b}, left {l}, right {r}")
        left_title = f"<b>Padded input</b> {_shape(lv)}<br>padding {sides}: {mode}"
    else:
        left_title = f"<b>Input</b> {_shape(lv)}<br>no padding"
    rv = result.values(right_key, 0 if j == "mag" else j)
    rname = STAGE_LABELS[right_key] if right_key in ("conv", "biased", "mag") else (
        _stage_title(result.spec, right_key))
    right_title = f"<b>{rname}</b> {_shape(rv)}<br>{html.escape(result.map_name(j))}"
    # plain data: ui/plotly_view.py sends it to plotly.js without go.Figure's validation
    fig = maps.compare_figure_data(
        panel(result, left_key, 0, mapping, left_title, limits),
        panel(result, right_key, 0 if j == "mag" else j, mapping, right_title, limits),
        height=height, style=style)
    fig["layout"].update(meta={"token": token}, uirevision=token.split("|")[0])
    return fig


def figure_key(result: LabResult, shown: str, j, mapping: str, token: str) -> tuple:
    """Identifies :func:`main_figure`'s content, for ``plotly_view``'s cache of what it sends."""
    return ("lab.figure", result.key, shown, j, mapping, token)


def histogram(result: LabResult, stage: str, j, mapping: str, limits: str = "p99.5",
              style: Style = LIGHT):
    """The histogram of the values shown on the right (a regular sample of the pixels above
    4 million values, said in the title)."""
    def build():
        jj = 0 if j == "mag" else j
        values = result.values(stage, jj)
        m = result.mapped(stage, jj, mapping, limits=limits)
        n = values.size
        title = f"Histogram of the values: {STAGE_LABELS[stage]} · {result.map_name(j)}"
        k = 1
        if n > 4_000_000:  # every k-th row and column: the shape of the histogram, fast
            k = math.ceil(math.sqrt(n / 2_000_000))
            title += f" (every {k}th row and column)"
        # the counts do not depend on the mapping (only the bars' colours do): kept per stage
        counts = result.memo(("counts", stage, jj), lambda: maps.histogram_counts(
            values[:, ::k, ::k] if k > 1 else values, m.vmin, m.vmax))
        svg = maps.histogram_svg(values, m, title=title, counts=counts, style=style)
        # as an image: one node for ui/html_view.js to keep or replace as a whole
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
        return (f'<img src="{uri}" alt="{html.escape(title)}" '
                f'style="width:100%; max-width:960px; display:block; margin-top:1rem">')
    return result.memo(("hist", stage, j, mapping, limits, style), build)


# --------------------------------------------------------------------------------------------
# The stage strip (HTML: small pictures, shapes, ranges and colour bars)
# --------------------------------------------------------------------------------------------

LINK_KEY = "lab-link"
PAGE_CSS = """
<style>
/* Lecture-hall type for the filter lab. */
.lab-strip { display: flex; flex-wrap: wrap; gap: 10px; align-items: stretch; }
/* Colours from Streamlit's theme (the variables of the component the HTML is shown in), so
   that the cards read in the light and the dark theme alike; the maps' own colours stay. */
.lab-arrow { align-self: center; font-size: 2rem; color: #888; }
.lab-card { width: 215px; border: 1px solid rgba(128, 128, 128, 0.35); border-radius: 8px;
            padding: 8px; background: var(--st-secondary-background-color, #fafafa);
            color: var(--st-text-color, #262730); }
.lab-card.lab-current { border: 3px solid #ff4b4b; padding: 6px; }
.lab-title { font-size: 1.1rem; font-weight: 700; margin-bottom: 4px; }
.lab-img { position: relative; width: 100%; height: 150px; display: flex;
           align-items: center; justify-content: center; background: rgba(128, 128, 128, 0.2); }
.lab-img img { max-width: 100%; max-height: 150px; image-rendering: pixelated; }
.lab-box { position: absolute; border: 2px dashed #00b8d4; pointer-events: none; }
.lab-shape { font-size: 1.3rem; font-weight: 700; margin-top: 6px;
             font-variant-numeric: tabular-nums; }
.lab-range { font-size: 1.0rem; font-variant-numeric: tabular-nums; }
.lab-bar { height: 12px; border: 1px solid #999; margin-top: 4px; }
.lab-ticks { display: flex; justify-content: space-between; font-size: 0.9rem; }
.lab-how { font-size: 0.85rem; opacity: 0.8; margin-top: 2px; }
.lab-clip { font-size: 0.85rem; font-weight: 600; margin-top: 2px; }
.lab-h3 { font-size: 1.75rem; font-weight: 600; margin: 1.5rem 0 0.75rem; }
.lab-note { font-size: 0.875rem; color: var(--st-text-color, rgb(49, 51, 63)); opacity: 0.6;
            margin: 0 0 0.75rem; }
.lab-metrics { display: flex; flex-wrap: wrap; gap: 0.5rem 4rem; margin: 0.5rem 0 0.75rem; }
.lab-metric-label { font-size: 1.1rem; color: var(--st-text-color, rgb(49, 51, 63)); }
.lab-metric-value { font-size: 2.1rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.lab-arith p { margin: 0 0 0.5rem; }
.lab-arith ul { margin: 0 0 0.75rem; padding-left: 1.5rem; }
.lab-arith code { font-size: 0.9em; padding: 0.1em 0.25em; border-radius: 0.25rem;
                  background: rgba(172, 177, 195, 0.25); color: rgb(9, 171, 59); }
.lab-info { margin: 0.5rem 0; padding: 0.75rem 1rem; border-radius: 0.5rem;
            background: rgba(28, 131, 225, 0.1); color: var(--st-text-color, rgb(0, 66, 128));
            border-left: 4px solid rgb(28, 131, 225); }
/* less empty space above the title, so the figure starts higher on a 720-pixel screen */
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
.st-key-lab-gallery [data-testid="stButton"] button p { font-size: 0.8rem; line-height: 1.1; }
""" + maps.PIXELATED_CSS + UrlState.link_css(LINK_KEY) + "</style>\n"
#: Classroom mode (``ui/classroom.py``) adds this on a projector: larger strips' titles.
CLASSROOM_CSS = """
.lab-title { font-size: 1.2rem; }
"""


def _fmt(v: float) -> str:
    return maps._fmt(v)


def _card(title: str, values: np.ndarray, m: maps.Mapped, *, current: bool = False,
          box: tuple[float, float, float, float] | None = None, note: str = "") -> str:
    uri = maps.thumbnail_uri(m)
    box_html = ""
    if box is not None:
        left, top, width, height = box
        box_html = (f'<div class="lab-box" style="left:{left:.3f}%;top:{top:.3f}%;'
                    f'width:{width:.3f}%;height:{height:.3f}%"></div>')
    mid = ""
    if m.lo < 0 < m.hi:
        mid = "<span>0</span>"
    how = {"photo": "as a photo", "signed": "signed", "abs": "|x|", "clip": "clip 0..255",
           "stretch": "min-max"}.get(m.mapping, m.mapping)
    lo, hi = _fmt(m.lo), _fmt(m.hi)
    clip = ""
    if m.clipped and m.mapping in ("signed", "abs"):
        # the ends of the bar are limits, not the range: what lies beyond has their colours
        lo = f"≤{lo}" if m.mapping == "signed" else lo
        hi = f"≥{hi}"
        clip = f'<div class="lab-clip">clipped: {maps._pct(m.clipped)} % of pixels</div>' 
    cls = "lab-card lab-current" if current else "lab-card"
    return (
        f'<div class="{cls}"><div class="lab-title">{html.escape(title)}</div>'
        f'<div class="lab-img"><div style="position:relative;display:inline-block;line-height:0">'
        f'<img src="{uri}" alt="{html.escape(title)}">{box_html}</div></div>'
        f'<div class="lab-shape">{_shape(values)}</div>'
        f'<div class="lab-range">{_fmt(m.vmin)} … {_fmt(m.vmax)}</div>'
        f'<div class="lab-bar" style="background:{maps.css_gradient(m.colorscale)}"></div>'
        f'<div class="lab-ticks"><span>{lo}</span>{mid}<span>{hi}</span></div>'
        f'{clip}<div class="lab-how">{how}{html.escape(note)}</div></div>'
    )


def stage_strip_html(result: LabResult, j, mapping: str, current: str,
                     limits: str = "p99.5") -> str:
    """input -> padded input -> convolution (+ bias) -> activation -> pooling, one card each."""
    def build():
        cards = []
        jj = 0 if j == "mag" else j
        for s in result.stages.strip():
            key = s.key
            if key == "padded" and result.stages.padding == ((0, 0), (0, 0)):
                continue
            m = result.mapped(key, jj, mapping, maps.THUMB_SIDE, limits)
            values = result.stage(key).array
            box = None
            if key == "padded":
                (t, b), (l, r) = result.stages.padding
                h, w = values.shape[1:]
                box = (100 * l / w, 100 * t / h, 100 * (w - l - r) / w, 100 * (h - t - b) / h)
            title = {"input": "Input", "padded": "Padded input", "conv": "Convolution",
                     "biased": "+ bias", "activated": s.title, "pooled": s.title}[key]
            cards.append(_card(title, values, m, current=key == current, box=box))
        return ('<div class="lab-strip">' + '<div class="lab-arrow">→</div>'.join(cards)
                + "</div>")
    return result.memo(("strip", j, mapping, current, limits), build)


def strip_note(result: LabResult, j) -> str:
    """Which map the stage strip follows when a layer has several."""
    jj = 0 if j == "mag" else j
    what = f"the map of {result.map_name(jj)}"
    if result.colour == "channels":
        what += " (its R, G and B maps recombined)"
    extra = " (the gradient magnitude is shown under Each map)" if j == "mag" else ""
    return f"The stages after the input follow {what}, map {jj + 1} of {result.n}{extra}."


def maps_strip_html(result: LabResult, stage: str, mapping: str,
                    limits: str = "p99.5") -> str:
    """Every output map of ``stage`` (one per filter, per channel), plus the magnitude."""
    def build():
        a = result.stage(stage).array
        cards = []
        for c in range(a.shape[0]):
            v = a[c:c + 1]
            rng = maps.value_range(v)
            inside = maps.inside_share(v, rng)
            resolved = maps.resolve_mapping(mapping, *rng, inside)
            clip = (maps.robust_clip(v, limits=limits, value_range_=rng)
                    if resolved in ("signed", "abs") else None)
            small = maps.reduce(v, maps.THUMB_SIDE, maps.reduce_method(resolved))
            m = maps.map_values(small[0], mapping, value_range_=rng, clip=clip, inside=inside)
            cards.append(_card(result.names[c], v, m))
        if result.pair is not None:
            v = result.magnitude()
            m = result.mapped("mag", 0, mapping, maps.THUMB_SIDE, limits)
            cards.append(_card("Gradient magnitude √(gx² + gy²)", v, m,
                               note=" · of the convolution"))
        return '<div class="lab-strip">' + "".join(cards) + "</div>"
    return result.memo(("maps", stage, mapping, limits), build)


# --------------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Arithmetic:
    rows: geometry.Worked
    cols: geometry.Worked
    pool_rows: geometry.Worked | None
    pool_cols: geometry.Worked | None
    params: geometry.Worked
    macs: geometry.Worked | None
    out_shape: tuple[int, int, int] | None  # (C, H, W)
    padding: tuple
    error: str = ""


def arithmetic(in_shape: tuple[int, int, int], spec: ConvSpec) -> Arithmetic:
    """Output size per axis (conv, then pool) with the actual numbers, parameters and
    multiply-adds. Never raises for a layer that cannot exist: ``error`` says why."""
    c_in, h, w = in_shape
    kh, kw = spec.weight_shape[2:]
    c_out = spec.weight_shape[0]
    conv = geometry.conv_geometry((h, w), (kh, kw), stride=spec.stride, padding=spec.padding,
                                  dilation=spec.dilation, check=False)
    pads = conv.padding
    rows, cols = conv.worked()
    params = shapes.conv_params(kh, kw, c_in, c_out, groups=spec.groups, bias=True)
    error = rows.error or cols.error
    pool_rows = pool_cols = macs = None
    out = None
    if not error:
        macs = shapes.conv_macs(rows.value, cols.value, kh, kw, c_in, c_out, groups=spec.groups)
        out = (c_out, rows.value, cols.value)
        if spec.pool is not None:
            p = spec.pool
            pool_rows, pool_cols = geometry.pool_geometry(
                (rows.value, cols.value), p.kernel_size, p.stride, p.padding, check=False).worked()
            error = pool_rows.error or pool_cols.error
            if error:
                error = f"pooling: {error} (the map it pools is {rows.value} x {cols.value})"
                out = None
            else:
                out = (c_out, pool_rows.value, pool_cols.value)
    else:
        error = f"convolution: {error}"
    return Arithmetic(rows, cols, pool_rows, pool_cols, params, macs, out, pads, error)


# --------------------------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Job:
    """How to get a layer's result again, without holding it (download buttons' callables
    outlive the run, in Streamlit's media manager): the result comes from the byte budget,
    computed again if it was dropped."""

    src: Source
    colour: str
    spec: ConvSpec
    names: tuple[str, ...]
    n: int
    pair: tuple[int, int] | None

    def result(self) -> LabResult:
        p = prepare(self.src, self.colour)
        return compute(p.img, p.longest, self.colour, p.x, self.spec, list(self.names), self.n,
                       self.pair)


def stage_png(job: Job, stage: str, j, mapping: str, limits: str = "p99.5"):
    """A callable giving the stage's picture as PNG at full resolution, the mapping applied."""
    def make() -> bytes:
        result = job.result()
        values = result.values(stage, j)
        how = "clip" if stage in ("input", "padded") else mapping
        if how != "clip" and result.resolved(stage, j, mapping) in ("signed", "abs"):
            clip = result.clip(stage, j, limits)
            with cache.heavy(values.nbytes * 2):
                return maps.png_bytes(maps.map_any(values, how, clip=clip).rgb)
        with cache.heavy(values.nbytes * 2):  # the picture, and its PNG
            return maps.png_bytes(maps.map_any(values, how).rgb)
    return make


STAGE_TITLES = {"input": "Input", "padded": "Padded input", "conv": "Convolution",
                "biased": "+ bias"}


def slide_cards(result: LabResult, j, mapping: str, limits: str = "p99.5") -> list:
    """The stage strip's cards for slides (:mod:`viz.slides`), pictures at display size."""
    from viz.slides import StageCard

    jj = 0 if j == "mag" else j
    cards = []
    for s_ in result.stages.strip():
        key = s_.key
        if key == "padded" and result.stages.padding == ((0, 0), (0, 0)):
            continue
        m = result.mapped(key, jj, mapping, maps.DISPLAY_SIDE, limits)
        values = result.values(key, jj)
        lo, hi = _fmt(m.lo), _fmt(m.hi)
        if m.clipped and m.mapping in ("signed", "abs"):
            lo, hi = (f"≤{lo}" if m.mapping == "signed" else lo), f"≥{hi}"
        how = {"photo": "the pixels as they are", "clip": "grey levels 0..255",
               "stretch": "min-max stretch", "signed": "signed: blue < 0 < red",
               "abs": "|x|: black = 0"}.get(m.mapping, m.mapping)
        if m.mapping in ("signed", "abs"):
            how += (f", limits at the {limits[1:]}th percentile of |x|" if m.clipped
                    else ", limits at max |x|")
        cards.append(StageCard(STAGE_TITLES.get(key, s_.title), m.rgb, _shape(values),
                               f"{_fmt(m.vmin)} … {_fmt(m.vmax)}", m.colorscale, lo, hi, how,
                               m.clip_text.split(" beyond")[0].split(" with")[0]))
    return cards


def strip_file(job: Job, j, mapping: str, limits: str, style: Style, kind: str):
    """A callable giving the stage strip as one PNG (``kind="png"``) or as an animated GIF,
    one frame per stage (``"gif"``), for slides: made only when its button is clicked."""
    def make() -> bytes:
        from viz import slides

        result = job.result()
        cards = slide_cards(result, j, mapping, limits)
        title = f"{result.map_name(0 if j == 'mag' else j)}: the layer stage by stage"
        if kind == "png":
            return slides.strip_png(cards, style=style, title=title)
        return slides.strip_gif(cards, style=style, title=title)
    return make


def stage_npy(job: Job, stage: str):
    """A callable giving every channel of the stage's raw float32 values as .npy (C, H, W)."""
    def make() -> bytes:
        result = job.result()
        buf = io.BytesIO()
        np.save(buf, np.asarray(result.stage(stage).array if stage != "mag"
                                else result.magnitude()), allow_pickle=False)
        return buf.getvalue()
    return make


def kernels_text(result: LabResult) -> str:
    """Every filter of the layer as text that the kernel box parses back."""
    shape = result.spec.weight_shape
    w = np.asarray(result.spec.weight, np.float64).reshape(shape)
    parts = [(f"# weights {tuple(shape)} = (C_out, C_in / groups, kH, kW); "
             f"cross-correlation (no flip), as PyTorch")]
    for o in range(shape[0]):
        for c in range(shape[1]):
            label = result.names[o] if shape[1] == 1 else f"{result.names[o]}, slice {'RGB'[c]}"
            parts.append(f"# filter {o}: {label}\n{format_kernel(w[o, c])}")
    if result.spec.has_bias:
        parts.append(f"# bias: {', '.join(_fmt(b) for b in result.spec.bias)}")
    return "\n\n".join(parts) + "\n"


def snippet_args(img: LabImage, result: LabResult) -> dict:
    h, w = result.x.shape[1:]
    sh, sw = img.rgb.shape[:2]
    return {"in_hw": (h, w), "colour": "gray" if result.colour == "gray" else "rgb",
                "size": (w, h) if (h, w) != (sh, sw) else None, "source_size": (sw, sh),
                "filename": img.filename}


def numpy_code(img: LabImage, result: LabResult) -> str:
    return snippets.numpy_snippet(result.spec, **snippet_args(img, result))


def torch_code(img: LabImage, result: LabResult) -> str:
    return snippets.torch_snippet(result.spec, **snippet_args(img, result))


def working_rgb(src: Source) -> np.ndarray:
    """The working image of ``src`` (for the other pages, through ``ui/shared.py``)."""
    img = load_image(src)
    return working_image(img, src.res)[0]


def publish_image(src: Source, img: LabImage) -> None:
    shared.publish_lab_image(functools.partial(working_rgb, src), img.title,
                             key=f"{img.key}@{src.res}")


# --------------------------------------------------------------------------------------------
# Page sections (Streamlit)
# --------------------------------------------------------------------------------------------

PLOTLY_CONFIG = {
    "displayModeBar": True,  # always visible: no hover-only controls on a projector
    "displaylogo": False,
    "responsive": True,  # follows the window's size (ui/plotly_view.js also follows the column)
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "filename": "filter-lab"},
}


def _stage_present(spec: ConvSpec) -> list[str]:
    keys = ["conv"]
    if spec.has_bias:
        keys.append("biased")
    if spec.activation != "identity":
        keys.append("activated")
    if spec.pool is not None:
        keys.append("pooled")
    return keys


def stage_options(spec: ConvSpec) -> list[str]:
    """``output`` (the last stage) and every earlier stage after the convolution."""
    return ["output"] + _stage_present(spec)[:-1]


def _stage_title(spec: ConvSpec, key: str) -> str:
    if key == "activated":
        return spec.activation_title
    if key == "pooled":
        return spec.pool.title
    return STAGE_LABELS[key]


def stage_label(spec: ConvSpec):
    last = _stage_present(spec)[-1]
    return lambda k: (f"Output ({_stage_title(spec, last)})" if k == "output"
                      else _stage_title(spec, k))


def map_label(kernels, pair):
    def label(k: str) -> str:
        if k == "mag":
            return "√(gx² + gy²)"
        return kernels[int(k)][0]
    return label


def _code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def arithmetic_html(arith: Arithmetic, spec: ConvSpec, in_shape) -> str:
    """Output size with the actual numbers (flags for dropped rows and columns), parameters,
    multiply-adds: three large figures, the formulas with the numbers, and a note for each
    division that is not exact. One element, not eight (metrics, their row, the formulas, the
    notes): every element sent costs the browser a redraw on every change of the layer."""
    out = arith.out_shape
    figures = (("Output H x W x C", "—" if out is None else f"{out[1]} x {out[2]} x {out[0]}"),
               ("Parameters", f"{arith.params.value:,}"),
               ("Multiply-adds", "—" if arith.macs is None else f"{arith.macs.value:,}"))
    parts = ['<div class="lab-metrics">'] + [
        f'<div class="lab-metric" data-label="{html.escape(label)}"><div class="lab-metric-label">'
        f'{html.escape(label)}</div><div class="lab-metric-value">{html.escape(value)}</div></div>'
        for label, value in figures] + ["</div>"]
    (t, b), (l, r) = arith.padding
    kh, kw = spec.weight_shape[2:]
    same_tf = (isinstance(spec.padding, str) and spec.padding == "same"
               and max(spec.stride) > 1)

    def rows_cols(rows, cols) -> str:
        return (f"<ul><li>rows: {_code(rows.formula)}</li>"
                f"<li>columns: {_code(cols.formula)}</li></ul>")

    parts += [
        f"<p><b>Output size</b> "
        f"{_code('floor((n + p_before + p_after - d*(k - 1) - 1) / s) + 1')} with padding top "
        f"{t}, bottom {b}, left {l}, right {r}"
        + (" (TensorFlow-style SAME at stride &gt; 1: output = ceil(n / s))" if same_tf else "")
        + ":</p>", rows_cols(arith.rows, arith.cols)]
    if arith.pool_rows is not None:
        parts += [(f"<p><b>{html.escape(spec.pool.title)}</b> on the {arith.rows.value} x "
                   f"{arith.cols.value} map:</p>"), rows_cols(arith.pool_rows, arith.pool_cols)]
    c_out = spec.weight_shape[0]
    parts.append(f"<p><b>Parameters</b> {_code('((f*f*c_in/groups) + 1) * c_out')}: "
                 f"{_code(arith.params.formula)} ({kh} x {kw} weights per input channel of a "
                 f"filter, one bias per filter, {c_out} filter{'s' if c_out > 1 else ''})</p>")
    if arith.macs is not None:
        parts.append(f"<p><b>Multiply-adds</b> {_code('H_out*W_out*c_out * (f*f*c_in/groups)')}"
                     f": {_code(arith.macs.formula)}</p>")
    for worked, what in ((arith.rows, "rows"), (arith.cols, "columns"),
                         (arith.pool_rows, "pooled rows"), (arith.pool_cols, "pooled columns")):
        if worked is not None and not worked.exact and not worked.error:
            note = worked.note.removeprefix("not exact: ")
            parts.append(f'<div class="lab-info">Division not exact for the {what}: '
                         f"{html.escape(note)}.</div>")
    return '<div class="lab-arith">' + "".join(parts) + "</div>"


def show_arithmetic(arith: Arithmetic, spec: ConvSpec, in_shape) -> None:
    html_view(arithmetic_html(arith, spec, in_shape), key="lab.arith")


def show_downloads(img: LabImage, result: LabResult, job: Job, j, mapping: str,
                   limits: str = "p99.5", style: Style = LIGHT) -> None:
    """Any stage as PNG (the display mapping applied, full resolution) or as raw float32 values
    (.npy), and the kernel as text; files are made when a button is clicked."""
    ss = st.session_state
    keys = result.stage_keys() + (["mag"] if result.pair else [])
    if ss.get("lab.dl.stage") not in keys:
        ss["lab.dl.stage"] = keys[-1 if "mag" not in keys else -2]
    stem = img.filename.rsplit(".", 1)[0]
    jj = 0 if j == "mag" else j
    # built only when open, like the code below: a change of the layer then sends one element
    # instead of eight (each costs the browser 1-2 ms to re-render, on every change)
    box = st.expander("Downloads: any stage as PNG or raw values (.npy), the kernel as text",
                      key="lab.dl_open", on_change="rerun", icon=":material/download:")
    if not box.open:
        return
    with box:
        row = st.container(horizontal=True, vertical_alignment="bottom")
        stage = row.selectbox("Stage", keys, key="lab.dl.stage", width=420,
                              format_func=lambda k: _download_label(result, k))
        row.download_button("PNG (mapping applied)", stage_png(job, stage, jj, mapping, limits),
                            file_name=f"{stem}-{stage}.png", mime="image/png",
                            key="lab.dl.png", on_click="ignore", icon=":material/download:")
        row.download_button(".npy (raw values)", stage_npy(job, stage),
                            file_name=f"{stem}-{stage}.npy", mime="application/octet-stream",
                            key="lab.dl.npy", on_click="ignore", icon=":material/download:")
        row.download_button("Kernel as text", kernels_text(result), file_name="kernel.txt",
                            mime="text/plain", key="lab.dl.kernel", on_click="ignore",
                            icon=":material/download:")
        st.caption("PNG: the stage's picture at full resolution, with the display mapping of "
                   "the figure (of the map shown). NPY: the raw float32 values of every "
                   "channel, shape (C, H, W), for `numpy.load`.")
        slides = st.container(horizontal=True, vertical_alignment="bottom")
        slides.download_button("Stage by stage, one image (PNG)",
                               strip_file(job, j, mapping, limits, style, "png"),
                               file_name=f"{stem}-stages.png", mime="image/png",
                               key="lab.dl.strip_png", on_click="ignore",
                               icon=":material/view_week:")
        slides.download_button("Stage by stage, animated GIF",
                               strip_file(job, j, mapping, limits, style, "gif"),
                               file_name=f"{stem}-stages.gif", mime="image/gif",
                               key="lab.dl.strip_gif", on_click="ignore",
                               icon=":material/movie:")
        st.caption("For slides: input → padded input → convolution → bias → activation → "
                   "pooling, each with its shape, range and colour bar (one image, or one "
                   "frame per stage), in the page's colours; made when you click.")


def _download_label(result: LabResult, key: str) -> str:
    if key == "mag":
        return "Gradient magnitude"
    title = _stage_title(result.spec, key) if key in ("activated", "pooled") else STAGE_LABELS[key]
    return f"{title} ({result.stage(key).shape_text})"


def show_code(img: LabImage, result: LabResult) -> None:
    """Equivalent NumPy/SciPy and PyTorch code and the kernel as text, in an expander whose
    content is only built when it is open (it is long, and most changes do not need it)."""
    box = st.expander("The same layer in code: NumPy/SciPy and PyTorch `F.conv2d`",
                      key="lab.code_open", on_change="rerun", icon=":material/code:")
    if not box.open:
        return
    with box:
        numpy_tab, torch_tab, kernel_tab = st.tabs(["NumPy / SciPy", "PyTorch", "Kernel as text"])
        for tab, make, lib in ((numpy_tab, numpy_code, "numpy"), (torch_tab, torch_code, "torch")):
            with tab:
                code = make(img, result)
                st.code(code, language="python")
                st.download_button(f"filter_lab_{lib}.py", code, file_name=f"filter_lab_{lib}.py",
                                   mime="text/x-python", key=f"lab.dl.{lib}", on_click="ignore",
                                   icon=":material/download:")
        with kernel_tab:
            st.code(kernels_text(result), language=None)


def display_options(spec: ConvSpec, kernels, pair) -> tuple[str, object, str]:
    """The row above the figure: which stage the right panel shows, the display mapping, and
    which map (with a bank or a derivative pair). Returns (stage, map index or "mag", mapping);
    the colour limits are in ``st.session_state["lab.lim"]``."""
    ss = st.session_state
    stage_opts = stage_options(spec)
    if ss.get("lab.show") not in stage_opts:
        ss["lab.show"] = "output"
    map_opts = [str(i) for i in range(len(kernels))] + (["mag"] if pair else [])
    if ss.get("lab.map") not in map_opts:
        ss["lab.map"] = "0"
    # one block, not columns (a block and three columns): every element sent costs the browser
    # about 2 ms of redraw per change (measured with 30 of each kind in Chromium)
    row = st.container(horizontal=True, gap="large")
    shown = row.pills("Right panel shows", stage_opts, key="lab.show", required=True,
                      format_func=stage_label(spec), wrap=True)
    mapping = row.pills("Display mapping", maps.MAPPINGS, key="lab.mapping", required=True,
                        format_func=maps.MAPPING_TITLES.get, wrap=True)
    row.pills("Colour limits", maps.LIMITS, key="lab.lim", required=True,
              format_func=maps.LIMIT_TITLES.get, wrap=True,
              help="Where the signed and |x| colour scales end: at the 99.5th (or 98th: "
                   "stronger colours, for a washed-out projector) percentile of |x|, so that "
                   "the structure of the map shows, the few pixels beyond in the end colours "
                   "and the colour bar saying how many; or at the largest |x| (nothing "
                   "clipped, but a few strong edges can leave the rest nearly white).")
    j = "0"
    if len(map_opts) > 1:
        j = row.pills("Map", map_opts, key="lab.map", required=True,
                      format_func=map_label(kernels, pair), wrap=True)
    return shown, ("mag" if j == "mag" else int(j)), mapping


def show_link(url: UrlState) -> None:
    """Write the settings into the URL, and show the link with a copy button."""
    # its style in PAGE_CSS, its content built when it opens: 4 elements less per change
    url.show("every setting but an uploaded photo", key=LINK_KEY, css=False, lazy=True)
