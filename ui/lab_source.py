"""Where the filter lab's image comes from: the gallery (sample photos and teaching images), an
upload or a webcam photo; the working resolution it is computed at; the colour handling that
makes it the engine's input.

Caching: everything lives in the process's byte budget (``ui/cache.py``), keyed on names and
digests, never on an array:

- decoded images: the sample's name or the upload's SHA-256 (the upload's compressed bytes
  are kept once, in ``ui/uploads.py``, to decode it again if the budget dropped it);
- the working image and the engine's input: (image key, resolution, colour mode);
- what outlives a run (the figures fragment's arguments, download buttons' callables) holds a
  :class:`Source`, a few strings, never pixels.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import math
from dataclasses import dataclass

import numpy as np
import streamlit as st

from conv import image, samples
from ui import cache, shared, uploads
from viz import maps

# --------------------------------------------------------------------------------------------
# Choices
# --------------------------------------------------------------------------------------------

RESOLUTIONS = ("256", "512", "1024", "full")
DEFAULT_RES = "1024"
# Full resolution computes on every pixel; above this many the photo is reduced to the largest
# size under the limit, because every stage of a layer is kept as float32 (12 bytes a pixel in
# colour). 16 MP covers 12 MP phone photos and most cameras' defaults.
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
    # built only when open: its pictures and buttons are 38 elements, which every rerun of the
    # page would otherwise send and the browser redraw
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
    remembered per upload id, so a large photo is hashed once, not on every rerun."""
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
    # the reserve is Pillow's copy of the photo, which it makes while it resizes it
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
    # the reserve is the float32 planes (one, or three) and the float copy of the photo that
    # the conversion makes on the way
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


def working_rgb(src: Source) -> np.ndarray:
    """The working image of ``src`` (for the other pages, through ``ui/shared.py``)."""
    img = load_image(src)
    return working_image(img, src.res)[0]


def publish_image(src: Source, img: LabImage) -> None:
    shared.publish_lab_image(functools.partial(working_rgb, src), img.title,
                             key=f"{img.key}@{src.res}")

