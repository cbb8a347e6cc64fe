"""Photos and feature maps as figures: display mappings, colour bars, compressed images.

A feature map is signed and its numbers matter, so every picture built here says how values
became colours (:class:`Mapped.label`) and carries the real minimum and maximum:

- ``"signed"``: a diverging scale centred on 0 (blue < 0 < red), limits ``±L``;
- ``"abs"``: ``|x|`` on a grey scale, black = 0, white = ``L``;
- ``"clip"``: the values as grey levels, clipped to 0..255 (as a photo would be);
- ``"stretch"``: min-max stretch, black = min, white = max;
- ``"auto"``: ``clip`` when the map looks like a photo (at least 95 % of its values lie in
  0..255 and it reaches above 1: blurs, sharpening, the identity), else ``signed`` when it
  has negative values (edges, derivatives), else ``abs`` (after a sigmoid, large positive maps).

The limit ``L`` (:data:`LIMITS`): by default the 99.5th percentile of ``|x|`` (``"p99.5"``),
so that the structure of a map shows: an edge map's few strong edges would otherwise stretch
the scale until everything else is white (Sobel on a photo: ±775 where most values lie within
±50). What lies beyond is drawn in the end colours, and the label and the colour bar say how
much (``clipped: 0.5 % of pixels beyond ±183``) next to the real minimum and maximum;
``"max"`` gives ``L = max|x|`` (nothing clipped). Maps of fewer than
:data:`ROBUST_MIN_PIXELS` pixels, whose every value is seen, always use ``max|x|``.

Photos and large maps travel to the browser as JPEG (PNG when small, so pixels stay exact)
``data:`` URIs, reduced to display size first (:func:`reduce`): photo-like maps by area
averaging, signed and ``|x|`` maps by the largest ``|x|`` of each block, which keeps a
one-pixel edge that averaging would dilute into the background; the exact values reach the
browser only through a sparse hover layer: a transparent heatmap whose cells each hold the exact
value of one named pixel (every ``step``-th pixel of the map), so hovering tells the truth about
the pixel it names.

Coordinates: every panel is drawn in *input-pixel coordinates* (x = column, y = row of the
input image, pixel centres at integers). An output pixel is drawn at the centre of the window
that produced it, with a spacing of the stride (times the pooling stride), so the input and the
result line up and one figure can link their zoom (``matches``).

Nothing here imports Streamlit.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from PIL import Image

from viz.style import LIGHT, Style

__all__ = [
    "DIVERGING",
    "GREYS",
    "LIMITS",
    "MAPPINGS",
    "Clip",
    "MAPPING_TITLES",
    "PIXELATED_CSS",
    "Mapped",
    "Panel",
    "Placement",
    "compare_figure",
    "compare_figure_data",
    "css_gradient",
    "data_uri",
    "encode",
    "histogram_counts",
    "histogram_figure",
    "histogram_svg",
    "hover_grid",
    "inside_share",
    "map_colour",
    "map_values",
    "photo",
    "png_bytes",
    "reduce",
    "reduce_method",
    "resolve_mapping",
    "robust_clip",
    "thumbnail_uri",
]

MAPPINGS: tuple[str, ...] = ("auto", "signed", "abs", "clip", "stretch")
# Colour limits of the signed and |x| mappings: a high percentile of |x| (98: stronger colours,
# for a washed-out projector), or its maximum.
LIMITS: tuple[str, ...] = ("p99.5", "p98", "max")
LIMIT_TITLES = {"p99.5": "99.5 % of |x|", "p98": "98 % of |x|", "max": "max |x|"}
# Below this many pixels a map is small enough to see every value: limits at max |x|.
ROBUST_MIN_PIXELS = 64 * 64
# The percentile is read from a regular sample of at most this many values (the share beyond
# it is then counted exactly over the whole map).
ROBUST_SAMPLE = 1 << 18
MAPPING_TITLES = {
    "auto": "Auto",
    "signed": "Signed",
    "abs": "|x|",
    "clip": "Clip 0..255",
    "stretch": "Min-max",
}

# ColorBrewer RdBu, 11 classes, reversed so that blue is negative and red positive (Brewer 2002,
# colorbrewer2.org; colour-blind safe). The same stops feed the numpy LUT and Plotly's colour bar.
_RDBU = ("#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
         "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f")
DIVERGING: list[list] = [[i / (len(_RDBU) - 1), c] for i, c in enumerate(_RDBU)]
GREYS: list[list] = [[0.0, "#000000"], [1.0, "#ffffff"]]

# Display limits: the longest side of an image sent for the main figure and for thumbnails.
DISPLAY_SIDE = 1024
THUMB_SIDE = 240
# Below this many pixels an image is sent as PNG (exact pixels); above it as JPEG.
_PNG_PIXELS = 256 * 256
_JPEG_QUALITY = 85
# Cells of the hover layer along the longest side (each cell names one exact pixel).
HOVER_SIDE = 100
# Maps with at most this many pixels name every pixel on hover.
HOVER_EVERY_PIXEL = 128 * 128
# Figures carry their own light style: Streamlit's theme is applied in the browser by string
# replacements over the whole figure JSON (mostly image data), which costs more than drawing.
FONT = {"family": "Source Sans Pro, Source Sans 3, Helvetica, Arial, sans-serif", "size": 14,
            "color": "#262730"}
# The mapping sentence under a panel is wrapped at this many characters.
LABEL_CHARS = 28  # a panel is ~170 px wide on a 1280 px screen with the sidebar open
# Maps up to this size get their values written in the cells.
_TEXT_CELLS = 16


def _hex(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def _lut(stops: list[list]) -> np.ndarray:
    """A 256 x 3 uint8 table interpolating the colour stops linearly in sRGB (as Plotly does)."""
    pos = np.array([s[0] for s in stops])
    rgb = np.array([_hex(s[1]) for s in stops], np.float64)
    t = np.linspace(0, 1, 256)
    table = np.stack([np.interp(t, pos, rgb[:, c]) for c in range(3)], axis=1)
    return table.round().astype(np.uint8)


_DIVERGING_LUT = _lut(DIVERGING)
_GREY_LUT = _lut(GREYS)


@dataclass(frozen=True, eq=False)
class Mapped:
    """Values turned into colours, with everything a colour bar needs.

    Attributes
    ----------
    rgb : numpy.ndarray
        uint8 ``(H, W, 3)``.
    mapping : str
        The mapping applied (``"auto"`` resolved), one of :data:`MAPPINGS` but ``"auto"``,
        or ``"photo"`` for an image shown as it is.
    lo, hi : float
        Values at the two ends of the colour scale.
    colorscale : list
        Plotly colour scale of the colour bar.
    vmin, vmax : float
        The real range of the values.
    label : str
        One sentence stating the mapping, for the figure.
    grey : bool
        The three channels are equal (a grey mapping of one map): pictures are encoded with
        one channel, which JPEG encodes faster.
    """

    rgb: np.ndarray
    mapping: str
    lo: float
    hi: float
    colorscale: list
    vmin: float
    vmax: float
    label: str
    grey: bool = False
    clipped: float = 0.0  # share of the pixels beyond lo..hi (drawn in the end colours)
    _uris: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def clip_text(self) -> str:
        """What the colour limits cut, for a colour bar: ``"clipped: 0.5 % of pixels beyond
        ±183"``, or ``""`` when nothing is."""
        if not self.clipped:
            return ""
        where = {"signed": f"beyond ±{_fmt(self.hi)}",
                 "abs": f"with |x| > {_fmt(self.hi)}"}.get(
            self.mapping, f"outside {_fmt(self.lo)}..{_fmt(self.hi)}")
        return f"clipped: {_pct(self.clipped)} % of pixels {where}"

    def uri(self, side: int, fmt: str | None = None) -> str:
        """The picture reduced to ``side`` as a data URI (encoded once per side and format)."""
        if (side, fmt) not in self._uris:
            rgb = reduce(self.rgb, side)
            self._uris[side, fmt] = data_uri(rgb[..., 0] if self.grey else rgb, fmt=fmt)
        return self._uris[side, fmt]


def _fmt(v: float) -> str:
    """A value as people read it: integers plain, others with 4 significant digits."""
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < 1e9:
        return f"{int(v)}"
    return f"{v:.4g}"


def _pct(share: float) -> str:
    """A share as a percentage people read: 0.5, 0.03, 12.0 (never "0.0" for a nonzero one)."""
    p = 100 * share
    if p >= 0.1:
        return f"{p:.1f}"
    return f"{p:.1g}"


def _wrap(text: str, width: int) -> list[str]:
    """Split a sentence into lines of at most about ``width`` characters, at spaces."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line] if line else lines


def value_range(a: np.ndarray) -> tuple[float, float]:
    return float(np.min(a)), float(np.max(a))


def resolve_mapping(mapping: str, vmin: float, vmax: float, inside: float | None = None) -> str:
    """The mapping ``"auto"`` stands for (others are returned as given), from the value range
    and ``inside``, the fraction of values in 0..255 (None: 1 if the range lies in 0..255)."""
    if mapping not in MAPPINGS:
        raise ValueError(f"mapping must be one of {', '.join(MAPPINGS)}, got {mapping!r}")
    if mapping != "auto":
        return mapping
    if inside is None:
        inside = 1.0 if 0 <= vmin and vmax <= 255 else 0.0
    if vmax > 1 and inside >= PHOTO_LIKE:
        return "clip"
    if vmin < 0:
        return "signed"
    return "abs"


# "auto" shows a map as grey levels (clip) when at least this fraction of it lies in 0..255.
PHOTO_LIKE = 0.95


def _inside(a: np.ndarray, vmin: float, vmax: float) -> float:
    if 0 <= vmin and vmax <= 255:
        return 1.0
    return float(np.count_nonzero((a >= 0) & (a <= 255))) / max(a.size, 1)


def inside_share(values: np.ndarray, value_range_: tuple[float, float] | None = None) -> float:
    """The share of a map's values in 0..255 (what "auto" decides by), from a regular sample
    of at most :data:`ROBUST_SAMPLE` values."""
    v = np.asarray(values).reshape(-1)
    vmin, vmax = value_range_ if value_range_ is not None else value_range(v)
    if 0 <= vmin and vmax <= 255:
        return 1.0
    sample = v[::max(1, -(-v.size // ROBUST_SAMPLE))]
    return float(np.count_nonzero((sample >= 0) & (sample <= 255))) / max(sample.size, 1)


def _colours(idx: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """LUT indices (uint8, 2-D) -> RGB uint8, through Pillow's palette conversion (about 5x
    faster than numpy's fancy indexing ``lut[idx]`` for a photo-sized map)."""
    im = Image.fromarray(np.ascontiguousarray(idx), "P")
    im.putpalette(lut.tobytes())
    return np.asarray(im.convert("RGB"))


def _index(t: np.ndarray) -> np.ndarray:
    """Positions 0..1 (float32) -> LUT indices 0..255 (uint8), rounding to nearest."""
    t = np.clip(t, 0.0, 1.0, out=t)
    t *= 255.0
    t += 0.5
    return t.astype(np.uint8)


def _resolve(a: np.ndarray, mapping: str, value_range_,
             inside: float | None = None) -> tuple[float, float, str, str]:
    """The real range (given, or of ``a``), the mapping "auto" stands for (``inside``: the
    share of the whole map in 0..255, else measured on ``a``), and the label's prefix saying
    it was chosen automatically."""
    vmin, vmax = value_range_ if value_range_ is not None else value_range(a)
    if mapping == "auto" and inside is None:
        inside = _inside(a, vmin, vmax)
    return (vmin, vmax, resolve_mapping(mapping, vmin, vmax, inside),
            "Auto → " if mapping == "auto" else "")


@dataclass(frozen=True)
class Clip:
    """Colour limits ``±limit`` (or ``0..limit`` for ``|x|``) of a whole map, and the share of
    its pixels beyond them, counted exactly. ``percentile``: 100 when ``limit`` is max |x|."""

    limit: float
    share: float = 0.0
    percentile: float = 100.0

    @property
    def robust(self) -> bool:
        return self.share > 0


def _max_abs(vmin: float, vmax: float) -> float:
    return max(abs(vmin), abs(vmax))


def robust_clip(values: np.ndarray, *, limits: str = "p99.5",
                value_range_: tuple[float, float] | None = None) -> Clip:
    """The colour limit of a map's signed and ``|x|`` pictures (:data:`LIMITS`): the
    percentile of ``|x|`` that ``limits`` names (``"p99.5"``: the 99.5th) over the whole map
    (from a regular sample of at most
    :data:`ROBUST_SAMPLE` values), and the exact share of the pixels beyond it; ``max|x|``
    (nothing clipped) for ``limits="max"``, for maps under :data:`ROBUST_MIN_PIXELS` pixels,
    and when the percentile is 0 (a map of mostly zeros, the response to a single dot) or
    already the maximum."""
    if limits not in LIMITS:
        raise ValueError(f"limits must be one of {', '.join(LIMITS)}, got {limits!r}")
    v = np.asarray(values, np.float32).reshape(-1)
    vmin, vmax = value_range_ if value_range_ is not None else value_range(v)
    top = _max_abs(vmin, vmax)
    if limits == "max" or v.size < ROBUST_MIN_PIXELS or top == 0 or not math.isfinite(top):
        return Clip(top)
    percentile = float(limits[1:])
    step = max(1, -(-v.size // ROBUST_SAMPLE))
    sample = np.abs(v[::step])
    k = min(sample.size - 1, int(math.ceil(percentile / 100 * sample.size)) - 1)
    limit = float(np.partition(sample, k)[k])
    if limit <= 0 or limit >= top:
        return Clip(top)
    # the share beyond it, exactly, block by block through one small buffer (a whole-map
    # temporary is fresh memory on every call: slower than the counting)
    beyond = 0
    buf = np.empty(min(1 << 16, v.size), np.float32)
    for start in range(0, v.size, buf.size):
        b = buf[:min(buf.size, v.size - start)]
        np.abs(v[start:start + b.size], out=b)
        beyond += int(np.count_nonzero(b > np.float32(limit)))
    return Clip(limit, beyond / v.size, percentile)


def _limit_words(clip: Clip) -> str:
    if clip.robust:
        return f"{clip.percentile:g}th percentile of |x|"
    return "max |x|"


def map_values(a, mapping: str = "auto", *,
               value_range_: tuple[float, float] | None = None, limits: str = "p99.5",
               clip: Clip | None = None, inside: float | None = None) -> Mapped:
    """Map one channel ``(H, W)`` of values to colours.

    ``value_range_`` is the real (min, max) of the whole map when ``a`` is a reduced copy of it,
    so that the colour limits and the colour bar describe the real values; ``clip`` the whole
    map's colour limit (:func:`robust_clip`, else computed from ``a`` with ``limits``), and
    ``inside`` its share in 0..255 (what "auto" decides by; else measured on ``a``).
    """
    a = np.asarray(a, np.float32)
    if a.ndim != 2:
        raise ValueError(f"map_values needs a 2-D map, got shape {a.shape}")
    vmin, vmax, resolved, prefix = _resolve(a, mapping, value_range_, inside)
    if resolved in ("signed", "abs") and clip is None:
        clip = robust_clip(a, limits=limits, value_range_=(vmin, vmax))
    if resolved == "signed":
        m = clip.limit or 1.0
        t = a * np.float32(0.5 / m)  # one temporary, updated in place (fresh memory is slow)
        t += np.float32(0.5)
        rgb = _colours(_index(t), _DIVERGING_LUT)
        label = (f"{prefix}signed: diverging scale centred on 0 (blue < 0 < red), limits "
                 f"±{_fmt(m)} ({_limit_words(clip)})")
        return _with_range(Mapped(rgb, resolved, -m, m, DIVERGING, vmin, vmax, label,
                                  clipped=clip.share))
    if resolved == "abs":
        m = clip.limit or 1.0
        t = np.abs(a)
        t *= np.float32(1.0 / m)
        idx = _index(t)
        label = f"{prefix}|x|: black = 0, white = {_fmt(m)} ({_limit_words(clip)})"
        return _with_range(Mapped(_colours(idx, _GREY_LUT), resolved, 0.0, m, GREYS, vmin,
                                  vmax, label, True, clipped=clip.share))
    if resolved == "clip":
        idx = _index(a * np.float32(1.0 / 255.0))
        below = float(np.mean(a < 0)) if vmin < 0 else 0.0
        above = float(np.mean(a > 255)) if vmax > 255 else 0.0
        clipped = ""
        if below or above:
            clipped = f" ({_pct(below + above)} % of pixels clipped)"
        label = f"{prefix}clip: values as grey levels, black = 0, white = 255{clipped}"
        return Mapped(_colours(idx, _GREY_LUT), resolved, 0.0, 255.0, GREYS, vmin, vmax, label,
                      True, clipped=below + above)
    # stretch
    span = (vmax - vmin) or 1.0
    t = a - np.float32(vmin)
    t *= np.float32(1.0 / span)
    idx = _index(t)
    label = f"{prefix}min-max stretch: black = {_fmt(vmin)}, white = {_fmt(vmax)}"
    return Mapped(_colours(idx, _GREY_LUT), resolved, vmin, vmin + span, GREYS, vmin, vmax, label,
                  True)


def map_colour(a, mapping: str = "auto", *,
               value_range_: tuple[float, float] | None = None, limits: str = "p99.5",
               clip: Clip | None = None, inside: float | None = None) -> Mapped:
    """Map three channels ``(3, H, W)`` (R, G, B maps) to one colour image, jointly.

    ``signed`` puts 0 at mid-grey (127.5) and ``±L`` at 0 and 255 in each channel; ``abs``
    scales ``|x|`` by ``255 / L`` (``L``: the joint limit, as :func:`map_values`); ``clip``
    keeps the values as channel levels; ``stretch`` maps the joint min..max to 0..255.
    """
    a = np.asarray(a, np.float32)
    if a.ndim != 3 or a.shape[0] != 3:
        raise ValueError(f"map_colour needs a (3, H, W) array, got shape {a.shape}")
    vmin, vmax, resolved, prefix = _resolve(a, mapping, value_range_, inside)
    if resolved in ("signed", "abs") and clip is None:
        clip = robust_clip(a, limits=limits, value_range_=(vmin, vmax))
    share = 0.0
    if resolved == "signed":
        m = clip.limit or 1.0
        t, lo, hi = a * np.float32(0.5 / m) + np.float32(0.5), -m, m
        label = (f"{prefix}signed, per channel: mid-grey = 0, channel 0 at -{_fmt(m)}, "
                 f"255 at +{_fmt(m)} ({_limit_words(clip)})")
        share = clip.share
    elif resolved == "abs":
        m = clip.limit or 1.0
        t, lo, hi = np.abs(a) * np.float32(1.0 / m), 0.0, m
        label = f"{prefix}|x| per channel: 0 = dark, {_fmt(m)} = full ({_limit_words(clip)})"
        share = clip.share
    elif resolved == "clip":
        t, lo, hi = a * np.float32(1.0 / 255.0), 0.0, 255.0
        out = 1.0 - _inside(a, vmin, vmax)
        clipped = f" ({100 * out:.1f} % of values clipped)" if out else ""
        label = f"{prefix}clip: channel values as they are, clipped to 0..255{clipped}"
    else:
        span = (vmax - vmin) or 1.0
        t, lo, hi = (a - np.float32(vmin)) * np.float32(1.0 / span), vmin, vmin + span
        label = f"{prefix}min-max stretch of all channels: {_fmt(vmin)} → 0, {_fmt(vmax)} → 255"
    rgb = np.ascontiguousarray(np.moveaxis(_index(t), 0, -1))
    return _with_range(Mapped(rgb, resolved, lo, hi, GREYS, vmin, vmax, label, clipped=share))


def _with_range(m: Mapped) -> Mapped:
    """``m`` whose label says what its limits clip and the real range, when they clip."""
    if not m.clipped or m.mapping not in ("signed", "abs"):
        return m
    return Mapped(m.rgb, m.mapping, m.lo, m.hi, m.colorscale, m.vmin, m.vmax,
                  f"{m.label}; {m.clip_text}; real range {_fmt(m.vmin)} to {_fmt(m.vmax)}",
                  m.grey, m.clipped)


def photo(rgb: np.ndarray) -> Mapped:
    """An RGB uint8 image shown as it is (0..255 per channel)."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"photo needs a uint8 (H, W, 3) image, got {rgb.dtype} {rgb.shape}")
    vmin, vmax = value_range(rgb)
    return Mapped(rgb, "photo", 0.0, 255.0, GREYS, vmin, vmax, "the pixels as they are (0..255)")


def map_any(values, mapping: str, *, value_range_=None, limits: str = "p99.5",
            clip: Clip | None = None, inside: float | None = None) -> Mapped:
    """One channel -> :func:`map_values`; three channels -> :func:`map_colour`."""
    values = np.asarray(values)
    kw = dict(value_range_=value_range_, limits=limits, clip=clip, inside=inside)
    if values.ndim == 3 and values.shape[0] == 1:
        return map_values(values[0], mapping, **kw)
    if values.ndim == 3 and values.shape[0] == 3:
        return map_colour(values, mapping, **kw)
    return map_values(values, mapping, **kw)


# --------------------------------------------------------------------------------------------
# Reducing and encoding
# --------------------------------------------------------------------------------------------

def display_shape(h: int, w: int, side: int) -> tuple[int, int]:
    """(h, w) scaled so that the longest side is at most ``side`` (never enlarged)."""
    if max(h, w) <= side:
        return h, w
    scale = side / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


REDUCE_METHODS = ("mean", "maxabs")
REDUCE_WORDS = {
    "mean": "each screen pixel the mean of the pixels it covers",
    "maxabs": "the largest |x| of each {f} x {f} block, its sign kept (thin edges stay)",
}


def reduce_method(mapping: str) -> str:
    """How a map shown with ``mapping`` (resolved, not "auto") is reduced for display:
    signed and ``|x|`` maps (edges, derivatives) by the largest ``|x|`` per block, which keeps
    a one-pixel line; photo-like ones (clip, min-max, photos) by the mean."""
    return "maxabs" if mapping in ("signed", "abs") else "mean"


def reduce_factor(h: int, w: int, side: int) -> int:
    """The block size of a ``"maxabs"`` reduction of an ``h x w`` map to ``side``."""
    return max(1, -(-max(h, w) // side))


def reduce_note(h: int, w: int, side: int, method: str) -> str:
    """What :func:`reduce` did to an ``h x w`` map, in words for the page ("" if nothing)."""
    if max(h, w) <= side:
        return ""
    f = reduce_factor(h, w, side)
    if method == "maxabs":
        th, tw = -(-h // f), -(-w // f)
    else:
        th, tw = display_shape(h, w, side)
    return (f"shown at {tw} x {th} of {w} x {h}: "
            + REDUCE_WORDS[method].format(f=f))


def _maxabs_plane(plane: np.ndarray, f: int) -> np.ndarray:
    """Blocks of ``f x f`` pixels -> the value of largest magnitude in each (sign kept):
    through the block's ``f * f`` strided views (``reshape(...).max`` runs far slower)."""
    h, w = plane.shape
    ho, wo = -(-h // f), -(-w // f)
    hi = np.full((ho, wo), -np.inf, np.float32)
    lo = np.full((ho, wo), np.inf, np.float32)
    for di in range(f):
        for dj in range(f):
            part = plane[di::f, dj::f]
            ph, pw = part.shape
            np.maximum(hi[:ph, :pw], part, out=hi[:ph, :pw])
            np.minimum(lo[:ph, :pw], part, out=lo[:ph, :pw])
    return np.where(hi >= -lo, hi, lo)


def reduce(a: np.ndarray, side: int, method: str = "mean") -> np.ndarray:
    """Reduce a ``(C, H, W)`` float array or an ``(H, W, 3)`` uint8 image so that its longest
    side is at most ``side``. Returned unchanged when it is small enough.

    ``"mean"``: area averaging (Pillow's BOX filter: each output pixel is the mean of the area
    it covers), right for photos. ``"maxabs"`` (float maps only): each output pixel is the
    value of largest ``|x|`` in its block of ``f x f`` pixels, ``f = ceil(longest / side)``
    (the output is ``ceil(H / f) x ceil(W / f)``): a one-pixel edge in a 12-megapixel map
    keeps its full strength, where the mean would divide it by ``f``."""
    if method not in REDUCE_METHODS:
        raise ValueError(f"method must be one of {', '.join(REDUCE_METHODS)}, got {method!r}")
    a = np.asarray(a)
    if method == "maxabs" and a.ndim == 3 and a.dtype != np.uint8:
        h, w = a.shape[1:]
        if max(h, w) <= side:
            return a
        f = reduce_factor(h, w, side)
        return np.stack([_maxabs_plane(np.asarray(p, np.float32), f) for p in a])
    if a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3:
        h, w = a.shape[:2]
        th, tw = display_shape(h, w, side)
        if (th, tw) == (h, w):
            return a
        return np.asarray(Image.fromarray(a).resize((tw, th), Image.Resampling.BOX,
                                                    reducing_gap=2.0))
    if a.ndim != 3:
        raise ValueError(
            f"reduce needs (C, H, W) values or an (H, W, 3) uint8 image, got {a.shape}")
    h, w = a.shape[1:]
    th, tw = display_shape(h, w, side)
    if (th, tw) == (h, w):
        return a
    out = np.empty((a.shape[0], th, tw), np.float32)
    for c in range(a.shape[0]):
        plane = Image.fromarray(np.ascontiguousarray(a[c], np.float32), mode="F")
        out[c] = np.asarray(plane.resize((tw, th), Image.Resampling.BOX, reducing_gap=2.0))
    return out


def encode(rgb: np.ndarray, *, fmt: str | None = None) -> tuple[bytes, str]:
    """Encode an RGB uint8 image (or a grey one, 2-D): PNG when small (exact) or asked for,
    else JPEG. Returns (bytes, MIME type)."""
    rgb = np.ascontiguousarray(rgb)
    if fmt is None:
        fmt = "png" if rgb.shape[0] * rgb.shape[1] <= _PNG_PIXELS else "jpeg"
    buf = io.BytesIO()
    im = Image.fromarray(rgb)
    if fmt == "png":
        im.save(buf, "PNG", compress_level=1)
        return buf.getvalue(), "image/png"
    im.save(buf, "JPEG", quality=_JPEG_QUALITY)
    return buf.getvalue(), "image/jpeg"


def data_uri(rgb: np.ndarray, *, fmt: str | None = None) -> str:
    data, mime = encode(rgb, fmt=fmt)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def png_bytes(rgb: np.ndarray) -> bytes:
    """A lossless PNG of an RGB uint8 image (for downloads)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, "PNG", compress_level=3)
    return buf.getvalue()


def thumbnail_uri(mapped: Mapped, side: int = THUMB_SIDE) -> str:
    """A small picture of a mapped map (area-averaged colours) as a data URI: JPEG, but PNG
    for tiny maps, whose pixels are shown enlarged."""
    h, w = display_shape(*mapped.rgb.shape[:2], side)
    return mapped.uri(side, "png" if h * w <= 64 * 64 else "jpeg")


def css_gradient(colorscale: list) -> str:
    """A CSS ``linear-gradient`` (left to right) drawing a Plotly colour scale."""
    stops = ", ".join(f"{c} {100 * p:.1f}%" for p, c in colorscale)
    return f"linear-gradient(to right, {stops})"


# --------------------------------------------------------------------------------------------
# Where a map sits in input coordinates
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Placement:
    """Pixel ``(i, j)`` of a map is drawn centred on input coordinates
    ``(y0 + i*dy, x0 + j*dx)``."""

    x0: float = 0.0
    y0: float = 0.0
    dx: float = 1.0
    dy: float = 1.0

    def then(self, *, offset: tuple[float, float], step: tuple[float, float]) -> Placement:
        """The placement of a map computed from this one: its pixel ``(i, j)`` sits at this
        map's ``(offset[0] + i*step[0], offset[1] + j*step[1])`` (fractional positions allowed)."""
        return Placement(self.x0 + offset[1] * self.dx, self.y0 + offset[0] * self.dy,
                         self.dx * step[1], self.dy * step[0])


def window_placement(padding, kernel_hw, stride, dilation,
                     base: Placement | None = None) -> Placement:
    """Where a convolution's output pixels sit: each at the centre of its window.

    Output ``(i, j)`` reads padded rows ``i*s + k*d`` (k < kH); in input rows that is
    ``i*s - top + k*d``, whose centre is ``i*s - top + d*(kH - 1)/2``.
    """
    (top, _), (left, _) = padding
    (kh, kw), (sh, sw), (dh, dw) = kernel_hw, stride, dilation
    base = base if base is not None else Placement()
    return base.then(offset=(-top + dh * (kh - 1) / 2, -left + dw * (kw - 1) / 2), step=(sh, sw))


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Panel:
    """One side of :func:`compare_figure`.

    ``values`` are the exact values ``(C, H, W)`` (C = 1 or 3) that the hover layer reports;
    ``mapped`` is their picture, possibly reduced (its shape may be smaller than ``values``);
    ``index_origin`` is what the hover calls pixel ``(0, 0)`` (e.g. ``(-top, -left)`` for a
    padded input, so that rows are counted in the input); ``outline`` is a rectangle
    ``(x0, y0, x1, y1)`` in input coordinates to draw (the input's own border on a padded input).
    """

    title: str
    values: np.ndarray
    mapped: Mapped
    placement: Placement = Placement()
    index_origin: tuple[int, int] = (0, 0)
    outline: tuple[float, float, float, float] | None = None
    channel_names: tuple[str, ...] = ()
    index_name: str = "pixel"


def hover_grid(values: np.ndarray, side: int = HOVER_SIDE) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows and columns of the pixels named by the hover layer (every ``step``-th pixel, starting
    half a step in so that each cell's pixel lies inside it), and ``step``."""
    h, w = values.shape[-2:]
    step = 1 if h * w <= HOVER_EVERY_PIXEL else max(1, math.ceil(max(h, w) / side))
    start = step // 2
    rows = np.arange(min(start, h - 1), h, step)
    cols = np.arange(min(start, w - 1), w, step)
    return rows, cols, step


def _hover_trace(panel: Panel, xaxis: str, yaxis: str, colorbar_x: float | None,
                 style: Style = LIGHT) -> dict:
    """The invisible layer that reports exact values: one cell per named pixel.

    Where a panel's pixels sit on whole input coordinates with unit spacing (the input and the
    padded input), the cell's x and y *are* the pixel's column and row, so only the values
    travel; elsewhere (outputs) ``customdata`` carries the output row and column. Fewer
    numbers per cell keep the browser's work per update small.
    """
    values = np.asarray(panel.values, np.float32)
    rows, cols, step = hover_grid(values)
    sampled = values[:, rows][:, :, cols]  # (C, h, w)
    p = panel.placement
    oy, ox = panel.index_origin
    by_position = (p.dx, p.dy) == (1.0, 1.0) and (p.x0, p.y0) == (ox, oy)
    parts = [] if by_position else list(np.meshgrid(rows + oy, cols + ox, indexing="ij"))
    if values.shape[0] == 3:
        parts += [*sampled]
    custom = None
    if parts:
        custom = np.stack(parts, axis=-1)
        # int16 where everything fits (indices, 8-bit photos): half the bytes of float32
        if np.array_equal(custom, np.rint(custom)) and np.abs(custom).max() < 32767:
            custom = custom.astype(np.int16)
        else:
            custom = custom.astype(np.float32)
    name = panel.index_name
    if by_position:
        where = f"{name} row %{{y}}, col %{{x}}"
        first = 0
    else:
        where = f"{name} row %{{customdata[0]}}, col %{{customdata[1]}}"
        first = 2
    if values.shape[0] == 3:
        names = panel.channel_names or ("R", "G", "B")
        vals = "<br>".join(f"{n} = <b>%{{customdata[{first + i}]:.6~g}}</b>"
                           for i, n in enumerate(names))
        z = sampled.mean(axis=0)
    else:
        vals = "value = <b>%{z:.6~g}</b>"
        z = sampled[0]
    note = "" if step == 1 else f"<br><i>(one pixel of each {step} x {step} block)</i>"
    m = panel.mapped
    show_bar = colorbar_x is not None
    trace = dict(
        type="heatmap",
        z=z,
        x0=p.x0 + cols[0] * p.dx, dx=p.dx * step,
        y0=p.y0 + rows[0] * p.dy, dy=p.dy * step,
        hovertemplate=f"{where}<br>{vals}{note}<extra></extra>",
        colorscale=m.colorscale, zmin=m.lo, zmax=m.hi,
        opacity=0.0,
        # invisible, so drawn at one canvas pixel per cell: the browser then skips painting
        # and PNG-encoding a plot-sized canvas on every update
        zsmooth="fast",
        showscale=show_bar,
        xaxis=xaxis, yaxis=yaxis,
        name=panel.title,
        # ui/plotly_view.js draws the hover of such layers itself, without the heatmap
        meta={"role": "hover"},
    )
    if custom is not None:
        trace["customdata"] = custom
    if show_bar:
        trace["colorbar"] = colorbar(m, colorbar_x, style)
    return trace


def colorbar_title(m: Mapped) -> str:
    """The colour bar's title: the real minimum and maximum, and what the limits clip."""
    text = f"min {_fmt(m.vmin)}<br>max {_fmt(m.vmax)}"
    if m.clipped:
        where = {"signed": f"beyond ±{_fmt(m.hi)}", "abs": f"above {_fmt(m.hi)}"}.get(
            m.mapping, f"outside {_fmt(m.lo)}..{_fmt(m.hi)}")
        text += f"<br><b>clipped: {_pct(m.clipped)} %</b><br>{where}"
    return text


def colorbar(m: Mapped, x: float, style: Style = LIGHT) -> dict:
    """A colour bar for ``m``: its ends ticked, marked ``≥`` / ``≤`` where values beyond them
    were clipped to the end colours, one tick between them (0 on a signed scale), and its title
    (:func:`colorbar_title`). Few ticks: on a narrow screen the bar is short, and more labels
    would overlap."""
    inner = [t for t in _nice_ticks(m.lo, m.hi, 2)
             if abs(t - m.lo) > 0.2 * (m.hi - m.lo) and abs(m.hi - t) > 0.2 * (m.hi - m.lo)]
    if m.lo < 0 < m.hi:
        inner = [0.0]
    vals = [m.lo, *sorted(inner, key=lambda t: abs(t - (m.lo + m.hi) / 2))[:1], m.hi]
    text = [_fmt(v) for v in vals]
    if m.clipped:
        if m.mapping == "signed" or (m.mapping != "abs" and m.vmin < m.lo):
            text[0] = f"≤ {text[0]}"
        if m.vmax > m.hi:
            text[-1] = f"≥ {text[-1]}"
    return {"x": x, "xanchor": "left", "len": 0.85, "thickness": 16 if not style.contrast else 24,
            "tickfont": {"size": style.font(14), "color": style.text},
            "ticklabeloverflow": "allow", "tickmode": "array", "tickvals": vals,
            "ticktext": text, "outlinecolor": style.line,
            "outlinewidth": 2 if style.contrast else 1,
            "title": {"text": colorbar_title(m), "side": "top",
                      "font": {"size": style.font(13), "color": style.text}}}


def _values_trace(panel: Panel, xaxis: str, yaxis: str) -> dict:
    """The numbers written in the cells of a small single-channel map, each in black or white
    to contrast with its cell's colour."""
    v = np.asarray(panel.values, np.float32)[0]
    h, w = v.shape
    p = panel.placement
    rr, cc = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    rgb = np.asarray(panel.mapped.rgb, np.float32)
    if rgb.shape[:2] != (h, w):  # a reduced picture: fall back to the value's position
        rgb = np.full((h, w, 3), 128.0, np.float32)
    luma = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    return dict(
        type="scatter",
        x=(p.x0 + cc * p.dx).ravel(), y=(p.y0 + rr * p.dy).ravel(), mode="text",
        text=[_fmt(t) for t in v.ravel()], hoverinfo="skip", xaxis=xaxis, yaxis=yaxis,
        textfont={"size": 15, "color": np.where(luma.ravel() > 128, "#111", "#fff").tolist()},
        showlegend=False)


def _write_values(values: np.ndarray) -> bool:
    return max(values.shape[-2:]) <= _TEXT_CELLS


# CSS for pages that show a compare figure: its layout images keep square, sharp pixels when
# zoomed in (the browser would smooth them), as an image trace's do.
PIXELATED_CSS = ".js-plotly-plot .imagelayer image { image-rendering: pixelated; }\n"


def _layout_image(panel: Panel, xaxis: str, yaxis: str, side: int) -> dict:
    """The panel's picture as a layout image stretched over the map's area in input
    coordinates (a reduced picture covers the same area in fewer, bigger pixels).

    A layout image, not an ``image`` trace: Plotly draws an image trace's picture once more
    into a canvas (to read pixel colours on hover) on every update; a layout image is only an
    SVG ``<image>``. The exact values on hover come from the hover layer. Pixels stay sharp
    when zoomed through the page's CSS (:data:`PIXELATED_CSS`)."""
    x0, y0, x1, y1 = _extent(panel)
    return dict(source=panel.mapped.uri(side), xref=xaxis, yref=yaxis, x=x0, y=y0,
                sizex=x1 - x0, sizey=y1 - y0, xanchor="left", yanchor="top",
                sizing="stretch", layer="below", name=panel.title)


def _extent(panel: Panel) -> tuple[float, float, float, float]:
    h, w = panel.values.shape[-2:]
    p = panel.placement
    return (p.x0 - p.dx / 2, p.y0 - p.dy / 2, p.x0 + (w - 0.5) * p.dx, p.y0 + (h - 0.5) * p.dy)


def figure_height(left: Panel, *, width: int = 1100, lo: int = 400, hi: int = 640) -> int:
    """A height that fits the panels' aspect ratio in a figure about ``width`` pixels wide."""
    x0, y0, x1, y1 = _extent(left)
    aspect = (x1 - x0) / max(y1 - y0, 1e-9)
    return int(min(hi, max(lo, 0.40 * width / aspect + 130)))


def compare_figure(left: Panel, right: Panel, *, height: int | None = None,
                   side: int = DISPLAY_SIDE, style: Style = LIGHT) -> go.Figure:
    """Two panels side by side with linked zoom and pan (the right axes ``match`` the left),
    each with its colour bar (real min and max), its mapping stated under it, and a hover layer
    naming exact pixel values. ``height`` None: fitted to the panels' aspect ratio.

    The figure is assembled as plain data (:func:`compare_figure_data`) and validated once by
    ``go.Figure``: adding traces, annotations and axes one by one makes Plotly re-validate and
    copy the figure each time."""
    return go.Figure(compare_figure_data(left, right, height=height, side=side, style=style))


# what go.Figure makes of template="none" (plotly.js itself takes templates as objects only)
_NO_TEMPLATE = pio.templates["none"].to_plotly_json()


def compare_figure_data(left: Panel, right: Panel, *, height: int | None = None,
                        side: int = DISPLAY_SIDE, style: Style = LIGHT) -> dict:
    """:func:`compare_figure` as the plain ``{"data": ..., "layout": ...}`` Plotly reads,
    without ``go.Figure``'s validation (9 ms, on every change of the layer): for a page that
    sends it to plotly.js itself. Its tests validate it through :func:`compare_figure`."""
    labels = [_wrap(p.mapped.label, LABEL_CHARS) for p in (left, right)]
    # room under the panels for the longer of the two mapping sentences
    bottom = max(52, 14 + int(style.font(13) * 1.35) * max(len(t) for t in labels))
    if height is None:
        height = figure_height(left) + bottom - 52
    data: list[dict] = []
    images, annotations, shapes = [], [], []
    layout: dict = dict(
        height=height, margin={"l": 48, "r": 10, "t": 96, "b": bottom}, dragmode="zoom",
        # nested dicts only: "font_size" shorthands are go.Figure's, plotly.js ignores them
        hoverlabel={"font": {"size": style.font(16), "color": style.text},
                    "bgcolor": style.hover, "bordercolor": style.line},
        showlegend=False, template=_NO_TEMPLATE,
        font={**FONT, "color": style.text, "size": style.font(FONT["size"])},
        plot_bgcolor=style.panel, paper_bgcolor=style.paper, uirevision="keep",
        images=images, annotations=annotations, shapes=shapes,
    )
    # y tick labels only on the left (the right panel's rows match); the right panel ends
    # where its colour bar starts
    domains = ((0.0, 0.445), (0.485, 0.925))
    for n, (panel, (d0, d1)) in enumerate(zip((left, right), domains), start=1):
        xa, ya = ("x", "y") if n == 1 else (f"x{n}", f"y{n}")
        images.append(_layout_image(panel, xa, ya, side))
        # the input (a photo, 0..255) gets no colour bar: its label says so, and every colour
        # bar costs the browser a re-measure of its ticks on each update
        bar = d1 + 0.008 if n == 2 else None
        data.append(_hover_trace(panel, xa, ya, bar, style))
        if _write_values(panel.values) and panel.values.shape[0] == 1:
            data.append(_values_trace(panel, xa, ya))
        x0, y0, x1, y1 = _extent(panel)
        suffix = "" if n == 1 else str(n)
        layout[f"xaxis{suffix}"] = dict(
            domain=[d0, d1], range=[x0, x1], showgrid=False, zeroline=False,
            tickfont={"size": style.font(13), "color": style.muted}, side="top",
            constrain="domain", ticklabeloverflow="allow",
            # the pictures keep square pixels by narrowing their panel ("domain", not "range":
            # a widened range differs from the figure's own, and Plotly.react would then take
            # the figure's range as a change and drop the user's zoom on every layer change)
            **({} if n == 1 else {"matches": "x"}),
        )
        layout[f"yaxis{suffix}"] = dict(
            domain=[0.0, 1.0], range=[y1, y0], showgrid=False, zeroline=False,
            tickfont={"size": style.font(13), "color": style.muted}, constrain="domain",
            constraintoward="top",
            ticklabeloverflow="allow",
            # the right panel's y matches the left one, which is anchored to x: square pixels
            **({"scaleanchor": "x", "scaleratio": 1} if n == 1
               else {"matches": "y", "showticklabels": False}),
        )
        annotations.append(dict(text=panel.title, xref=f"{xa} domain", yref="paper",
                                x=0, y=1.0, xanchor="left", yanchor="bottom", showarrow=False,
                                font={"size": style.font(16), "color": style.text}, align="left",
                                yshift=22))
        annotations.append(dict(text="<br>".join(labels[n - 1]),
                                xref=f"{xa} domain", yref="paper", x=0, y=-0.02,
                                xanchor="left", yanchor="top", showarrow=False,
                                font={"size": style.font(13), "color": style.muted},
                                align="left"))
        if panel.outline is not None:
            ox0, oy0, ox1, oy1 = panel.outline
            shapes.append(dict(type="rect", x0=ox0, y0=oy0, x1=ox1, y1=oy1, xref=xa, yref=ya,
                               line={"color": "#00e5ff", "width": style.width(2),
                                     "dash": "dash"}))
    if not shapes:
        del layout["shapes"]  # as go.Figure leaves it out
    return {"data": data, "layout": layout}


def histogram_figure(values: np.ndarray, mapped: Mapped, *, bins: int = 96,
                     title: str = "Histogram of the values", height: int = 260) -> go.Figure:
    """Counts of the values in ``bins`` equal bins over their real range, each bar in the colour
    the mapping gives its centre; dashed lines mark 0 and the colour scale's ends."""
    v = np.asarray(values, np.float32).ravel()
    lo, hi = mapped.vmin, mapped.vmax
    if hi <= lo:
        hi = lo + 1.0
    # equal bins: a scaled floor and np.bincount, several times faster than np.histogram
    counts, edges = _counts(v, lo, hi, bins)
    centres = (edges[:-1] + edges[1:]) / 2
    # each bar in the colour the mapping gives its centre (computed here: plain colour strings)
    t = np.clip((centres - mapped.lo) / ((mapped.hi - mapped.lo) or 1.0), 0, 1)
    lut = _DIVERGING_LUT if mapped.colorscale is DIVERGING else _GREY_LUT
    colours = [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in lut[np.rint(t * 255).astype(int)]]
    fig = go.Figure(go.Bar(
        x=centres.tolist(), y=counts.tolist(), width=float(edges[1] - edges[0]),
        marker={"color": colours, "line": {"width": 0.5, "color": "#888"}},
        hovertemplate="%{x:.4~g}: %{y:,} pixels<extra></extra>",
    ))
    # dotted lines at 0 and at the colour scale's ends (plain shapes: add_vline is slow)
    marks = sorted({x for x in (0.0, mapped.lo, mapped.hi) if lo <= x <= hi})
    fig.layout.shapes = [
        {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
         "line": {"color": "#444", "width": 1, "dash": "dot"}} for x in marks]
    fig.update_layout(
        title={"text": title, "font": {"size": 16}}, height=height, bargap=0,
        margin={"l": 60, "r": 20, "t": 40, "b": 50}, showlegend=False, template="none", font=FONT,
        paper_bgcolor="white", plot_bgcolor="white",
        xaxis={"title": {"text": "value", "font": {"size": 14}}, "tickfont": {"size": 13},
                   "showgrid": False, "zeroline": False, "linecolor": "#888", "showline": True},
        yaxis={"title": {"text": "pixels", "font": {"size": 14}}, "tickfont": {"size": 13},
                   "gridcolor": "#e5e5e5", "zeroline": False},
    )
    return fig


def _counts(values: np.ndarray, lo: float, hi: float, bins: int,
            block: int = 1 << 16) -> tuple[np.ndarray, np.ndarray]:
    """Counts in ``bins`` equal bins over [lo, hi] (the maximum in the last bin), and edges.

    In blocks, through two small buffers used again and again: whole-map temporaries are
    fresh memory in a long-running server, and the page faults cost more than the counting."""
    v = np.asarray(values, np.float32).reshape(-1)
    edges = np.linspace(lo, hi, bins + 1)
    scale = np.float32(bins / (hi - lo))
    t = np.empty(min(block, v.size), np.float32)
    idx = np.empty(min(block, v.size), np.intp)
    counts = np.zeros(bins, np.intp)
    for start in range(0, v.size, block):
        n = min(block, v.size - start)
        tt, ii = t[:n], idx[:n]
        np.subtract(v[start:start + block], np.float32(lo), out=tt)
        tt *= scale
        np.clip(tt, 0, bins - 1, out=tt)
        ii[...] = tt  # truncates, as astype
        counts += np.bincount(ii, minlength=bins)
    return counts, edges


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round numbers between lo and hi (1, 2, 2.5 or 5 times a power of ten apart)."""
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def histogram_counts(values: np.ndarray, lo: float, hi: float,
                     bins: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """(counts, edges) of :func:`histogram_svg` over the real range ``lo..hi`` of the values
    (``mapped.vmin``, ``mapped.vmax``), to compute once for every mapping of a map."""
    if hi <= lo:
        hi = lo + 1.0
    return _counts(values, lo, hi, bins)


def histogram_svg(values: np.ndarray, mapped: Mapped, *, bins: int = 96, title: str = "",
                  width: int = 960, height: int = 230,
                  counts: tuple[np.ndarray, np.ndarray] | None = None,
                  style: Style = LIGHT) -> str:
    """The histogram as a small SVG (bars in the colour the mapping gives their centre, value
    ticks, dotted lines at 0 and at the colour scale's ends; hovering a bar names its range and
    count). A picture, not a chart widget: the browser draws it at once on every change.
    ``counts``: :func:`histogram_counts` of the values, when already computed."""
    lo, hi = mapped.vmin, mapped.vmax
    if hi <= lo:
        hi = lo + 1.0
    counts, edges = counts if counts is not None else _counts(values, lo, hi, bins)
    bins = len(counts)
    left, right, top, bottom = 70, 12, 30, 42
    pw, ph = width - left - right, height - top - bottom
    peak = max(int(counts.max()), 1)

    def x(v):
        return left + (v - lo) / (hi - lo) * pw

    def y(c):
        return top + ph - c / peak * ph

    t = np.clip(((edges[:-1] + edges[1:]) / 2 - mapped.lo) / ((mapped.hi - mapped.lo) or 1.0), 0, 1)
    lut = _DIVERGING_LUT if mapped.colorscale is DIVERGING else _GREY_LUT
    cols = lut[np.rint(t * 255).astype(int)]
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="100%" role="img" style="font-family: sans-serif; max-width: {width}px">'),
             f'<text x="{left}" y="18" font-size="{style.font(16)}" fill="{style.text}">'
             f'{_esc(title)}</text>',
             (f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="{style.paper}" '
             f'stroke="{style.grid}"/>')]
    bw = pw / bins
    for i, c in enumerate(counts):
        if not c:
            continue
        r, g, b = (int(v) for v in cols[i])
        yy = y(c)
        parts.append(
            f'<rect x="{left + i * bw:.2f}" y="{yy:.2f}" width="{bw + 0.3:.2f}" '
            f'height="{top + ph - yy:.2f}" fill="rgb({r},{g},{b})" stroke="{style.line}" '
            f'stroke-width="0.4"><title>{_fmt(edges[i])} to {_fmt(edges[i + 1])}: '
            f'{int(c):,} pixels</title></rect>')
    for v in sorted({v for v in (0.0, mapped.lo, mapped.hi) if lo <= v <= hi}):
        parts.append(f'<line x1="{x(v):.2f}" x2="{x(v):.2f}" y1="{top}" y2="{top + ph}" '
                     f'stroke="{style.text}" stroke-width="{style.width(1)}" '
                     f'stroke-dasharray="3 3"/>')
    if mapped.clipped and mapped.mapping in ("signed", "abs"):
        # where the colour scale ends: what lies beyond has the end colours
        right_half = x(mapped.hi) > left + pw / 2
        parts.append(f'<text x="{x(mapped.hi) + (-4 if right_half else 4):.2f}" y="{top + 14}" '
                     f'font-size="{style.font(13)}" fill="{style.text}" '
                     f'text-anchor="{"end" if right_half else "start"}">'
                     f'{_esc(mapped.clip_text)}</text>')
    size = style.font(13)
    for v in _nice_ticks(lo, hi, 6):
        parts.append(f'<text x="{x(v):.2f}" y="{top + ph + 17}" font-size="{size}" '
                     f'text-anchor="middle" fill="{style.muted}">{_fmt(v)}</text>')
    for c in _nice_ticks(0, peak, 3):
        parts.append(f'<text x="{left - 6}" y="{y(c) + 4:.2f}" font-size="{size}" '
                     f'text-anchor="end" fill="{style.muted}">{int(c):,}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 4}" font-size="{size}" '
                 f'text-anchor="middle" fill="{style.muted}">value (pixels per bin on the '
                 f'left)</text>')
    parts.append("</svg>")
    return "".join(parts)


def _esc(text: str) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
