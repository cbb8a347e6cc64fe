"""A digit drawn on the page, made into a 28x28 input the way MNIST's digits were made.

MNIST's recipe (LeCun et al., the MNIST page): each digit's ink was scaled to fit a 20x20 box,
keeping its aspect ratio, with anti-aliasing (grey levels at the edges), then placed in a 28x28
image so that its centre of mass sits at the centre. Measured on the 5,000 digits shipped here:
the ink's bounding box has a longest side of exactly 20 pixels in 4,999 of them, and the centre of
mass averages (14.0, 14.0) (pixel indices; spread 0.29 pixel, that of whole-pixel shifts).

A drawing arrives as strokes (the pen's path, :class:`Strokes`), not as a picture: a few hundred
numbers instead of a PNG, and the centre line lets :func:`preprocess` do what a picture cannot.
Canvas strokes are thick and solid, and a small digit drawn with a thick pen becomes, once scaled
up to 20 pixels, a blob no MNIST writer made. So the pen's width is kept within MNIST's range
after scaling (:data:`WIDTH_RANGE`, in pixels of the 28x28 image): strokes are drawn again at
that width, supersampled (:data:`SUPERSAMPLE` x) and averaged down (anti-aliasing), and the
centre of mass is placed to 1/8 pixel. A digit drawn anywhere, at any size and with any pen
then gives nearly the same input (``tests/kernels/test_drawing.py``).

Public API
----------
Strokes, parse_strokes(value) -> Strokes
preprocess(strokes) -> Preprocessed       the 28x28 input and the steps, for the page's strip
mnist_style(raster, *, supersample=1)     the recipe on any grey picture (0..1)
render(strokes, ...) -> float array       the strokes drawn, anti-aliased
encode_image(img) / decode_image(text)    a 28x28 uint8 digit as short URL-safe text
"""

from __future__ import annotations

import base64
import binascii
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

__all__ = [
    "BOX",
    "CANVAS",
    "SIZE",
    "Preprocessed",
    "Strokes",
    "decode_image",
    "encode_image",
    "mnist_style",
    "parse_strokes",
    "preprocess",
    "render",
]

SIZE = 28  # MNIST's image
BOX = 20  # the box the ink is scaled to fit
CENTRE = 14.0  # where MNIST's centres of mass sit (pixel indices; measured above)
CANVAS = 280  # the canvas' side in the units the component sends (10 units a pixel)
SUPERSAMPLE = 8
#: Stroke width in pixels of the 28x28 image after scaling. MNIST's strokes measure 1.4 to 2.6
#: (10th to 90th percentile of 2 x ink / perimeter of the pixels over half ink, median 1.9);
#: strokes drawn here measure 0.85 x their width that way, so this range gives 1.9 to 2.6.
WIDTH_RANGE = (2.2, 3.0)
MAX_STROKES = 200
MAX_POINTS = 6000
INK = 0.02  # a pixel with less than 2% ink is paper when finding the bounding box


# --------------------------------------------------------------------------------------------
# Strokes from the canvas
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Strokes:
    """The pen's paths: each stroke an ``(n, 2)`` float array of ``(x, y)`` in canvas units
    (0..``size``, y down), drawn with a round pen ``width`` units wide."""

    paths: tuple[np.ndarray, ...]
    width: float
    size: int = CANVAS

    def __post_init__(self):
        if not (math.isfinite(self.width) and self.width > 0):
            raise ValueError(f"The parameter `width` must be a positive number, got {self.width!r}")
        if not (isinstance(self.size, int) and self.size > 0):
            raise ValueError(f"The parameter `size` must be a positive integer, got {self.size!r}")
        paths = []
        for p in self.paths:
            a = np.asarray(p, dtype=np.float64).reshape(-1, 2)
            if len(a) == 0:
                continue
            if not np.isfinite(a).all():
                raise ValueError("stroke coordinates must be finite numbers")
            a.setflags(write=False)
            paths.append(a)
        object.__setattr__(self, "paths", tuple(paths))

    @property
    def empty(self) -> bool:
        return not self.paths

    def points(self) -> np.ndarray:
        return np.concatenate(self.paths) if self.paths else np.zeros((0, 2))

    def transformed(self, *, scale: float = 1.0, shift: Sequence[float] = (0.0, 0.0),
                    width: float | None = None) -> Strokes:
        """The same strokes scaled about the origin and shifted (in canvas units), with another
        pen ``width``: for tests that move or resize a drawing."""
        return Strokes(tuple(p * scale + np.asarray(shift, np.float64) for p in self.paths),
                       self.width if width is None else width, self.size)


def parse_strokes(value) -> Strokes:
    """The canvas' value, ``{"size": 280, "width": 18, "strokes": [[x0, y0, x1, y1, ...], ...]}``,
    as :class:`Strokes`.

    Raises
    ------
    ValueError
        If it is not that (the page says so and keeps the last good drawing).
    """
    if not isinstance(value, dict):
        raise ValueError(f"the drawing must be a dict, got {type(value).__name__}")
    size, width, strokes = value.get("size", CANVAS), value.get("width"), value.get("strokes")
    if isinstance(size, bool) or not isinstance(size, int) or not 16 <= size <= 4096:
        raise ValueError(f"the drawing's size must be a whole number 16..4096, got {size!r}")
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 < width <= size:
        raise ValueError(f"the pen width must be a number in (0, {size}], got {width!r}")
    if not isinstance(strokes, list) or len(strokes) > MAX_STROKES:
        raise ValueError(f"the strokes must be a list of at most {MAX_STROKES}")
    paths, total = [], 0
    for s in strokes:
        if not isinstance(s, list) or len(s) % 2 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in s):
            raise ValueError("each stroke must be a flat list of x, y numbers")
        total += len(s) // 2
        if total > MAX_POINTS:
            raise ValueError(f"the drawing has more than {MAX_POINTS} points")
        a = np.clip(np.asarray(s, np.float64).reshape(-1, 2), -size, 2 * size)
        paths.append(a)
    return Strokes(tuple(paths), float(width), size)


def render(strokes: Strokes, *, scale: float = 1.0, offset: Sequence[float] = (0.0, 0.0),
           width: float | None = None, shape: tuple[int, int] | None = None,
           supersample: int = 1) -> np.ndarray:
    """The strokes drawn in white on black, float64 0..1, anti-aliased.

    A canvas point ``(x, y)`` lands at pixel ``((x * scale + offset_x), (y * scale + offset_y))``
    of the output (pixel ``(c, r)`` covers ``[c, c + 1) x [r, r + 1)``); the pen is ``width``
    canvas units (default: the strokes' own) and round. Drawn ``supersample`` times larger,
    then each block of ``supersample`` x ``supersample`` averaged: the fraction of each pixel
    the ink covers.
    """
    k = int(supersample)
    h, w = shape if shape is not None else (strokes.size, strokes.size)
    im = Image.new("L", (w * k, h * k), 0)
    d = ImageDraw.Draw(im)
    pen = (strokes.width if width is None else width) * scale * k
    r = pen / 2
    ox, oy = offset
    for path in strokes.paths:
        xy = (path * scale + (ox, oy)) * k
        pts = [tuple(p) for p in xy.tolist()]
        if len(pts) > 1 and pen >= 1:
            d.line(pts, fill=255, width=max(1, round(pen)))
        for x, y in pts:  # round caps and joins
            d.ellipse((x - r, y - r, x + r, y + r), fill=255)
    a = np.asarray(im, np.float64) / 255.0
    if k > 1:
        a = a.reshape(h, k, w, k).mean(axis=(1, 3))
    return a


# --------------------------------------------------------------------------------------------
# MNIST's recipe
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Preprocessed:
    """A drawing made into the network's input, and the steps between, for the page's strip.

    ``drawn``: the canvas as drawn, small (``(56, 56)`` float 0..1); ``box``: the ink's bounding
    box in canvas units ``(x0, y0, x1, y1)``; ``pen_px``: the pen's width once scaled to the 20
    pixel box, and ``width_px`` the width used (within :data:`WIDTH_RANGE`); ``fitted``: the ink
    scaled to fit 20x20, at the top left of a 28x28 image, and ``com`` its centre of mass
    ``(row, col)`` there; ``image``: the result, uint8 ``(28, 28)``, centre of mass at (14, 14).
    """

    drawn: np.ndarray
    box: tuple[float, float, float, float]
    pen_px: float
    width_px: float
    fitted: np.ndarray
    com: tuple[float, float]
    image: np.ndarray


def _bbox(a: np.ndarray) -> tuple[int, int, int, int] | None:
    """Rows and columns ``(r0, r1, c0, c1)`` (inclusive) of the ink, or None if blank."""
    ink = a > INK * max(float(a.max()), 1e-12)
    if not ink.any():
        return None
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def _resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Anti-aliased resize: each output pixel the mean of the area it covers (Pillow's box
    filter) when shrinking, bilinear when enlarging."""
    if (h, w) == a.shape:
        return a
    shrink = h <= a.shape[0] and w <= a.shape[1]
    method = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
    im = Image.fromarray(np.ascontiguousarray(a, np.float32), mode="F")
    return np.asarray(im.resize((w, h), method), np.float64)


def _centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    total = a.sum()
    if total <= 0:
        return (a.shape[0] - 1) / 2, (a.shape[1] - 1) / 2
    rows = np.arange(a.shape[0]) @ a.sum(axis=1) / total
    cols = np.arange(a.shape[1]) @ a.sum(axis=0) / total
    return float(rows), float(cols)


def _fit_and_place(a: np.ndarray, k: int) -> tuple[np.ndarray, tuple[float, float], np.ndarray]:
    """The recipe at ``k`` x resolution: ``(fitted, com, image)`` as in :class:`Preprocessed`,
    float 0..1 at 28x28."""
    box = _bbox(a)
    big = SIZE * k
    if box is None:
        blank = np.zeros((SIZE, SIZE))
        return blank, (CENTRE, CENTRE), blank
    r0, r1, c0, c1 = box
    crop = a[r0:r1 + 1, c0:c1 + 1]
    h, w = crop.shape
    side = BOX * k
    scale = side / max(h, w)
    fh, fw = max(1, min(side, round(h * scale))), max(1, min(side, round(w * scale)))
    fitted = np.clip(_resize(crop, fh, fw), 0, 1)
    cy, cx = _centre_of_mass(fitted)
    # sub-pixel (row, col) of the centre of mass in 28x28 pixels, and where it must go: pixel
    # p covers sub-pixels p*k .. p*k + k - 1, whose middle is p*k + (k - 1)/2
    target = CENTRE * k + (k - 1) / 2
    top, left = round(target - cy), round(target - cx)
    canvas = np.zeros((big, big))
    # paste, clipping what would fall outside (only a digit much wider than tall, off balance)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + fh, big), min(left + fw, big)
    if y1 > y0 and x1 > x0:
        canvas[y0:y1, x0:x1] = fitted[y0 - top:y1 - top, x0 - left:x1 - left]
    corner = np.zeros((big, big))
    corner[:fh, :fw] = fitted
    down = (lambda m: m.reshape(SIZE, k, SIZE, k).mean(axis=(1, 3))) if k > 1 else (lambda m: m)
    com = ((cy - (k - 1) / 2) / k, (cx - (k - 1) / 2) / k)
    return down(corner), com, down(canvas)


def _to_uint8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a * 255), 0, 255).astype(np.uint8)


def mnist_style(raster: np.ndarray, *, supersample: int = 1) -> np.ndarray:
    """MNIST's recipe on a grey picture (ink bright, 0..1, any size): the ink's bounding box
    scaled to fit 20x20 keeping its aspect ratio (anti-aliased), placed in 28x28 with its centre
    of mass at the centre; uint8 ``(28, 28)``.

    With ``supersample = k`` the picture is fitted to a ``20k`` box and placed to ``1/k`` pixel,
    then averaged down (k = 1: whole-pixel shifts, as MNIST).
    """
    a = np.asarray(raster, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"The parameter `raster` must be a 2-dimensional array, got {a.shape}")
    return _to_uint8(_fit_and_place(np.nan_to_num(a), int(supersample))[2])


def preprocess(strokes: Strokes) -> Preprocessed:
    """A drawing as the network's 28x28 input (see the module's notes), with its steps."""
    k = SUPERSAMPLE
    small = 56
    drawn = render(strokes, scale=small / strokes.size, shape=(small, small), supersample=4)
    pts = strokes.points()
    if len(pts) == 0:
        blank = np.zeros((SIZE, SIZE))
        return Preprocessed(drawn, (0, 0, 0, 0), 0.0, 0.0, blank, (CENTRE, CENTRE),
                            np.zeros((SIZE, SIZE), np.uint8))
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    extent = float(max(x1 - x0, y1 - y0))  # of the pen's centre line
    pen = strokes.width
    # The ink's box is the centre line's grown by the pen: side extent + width, scaled to 20
    # pixels. The pen in pixels is then 20 * width / (extent + width); kept within
    # WIDTH_RANGE by drawing with width t * extent / (20 - t) instead.
    pen_px = BOX * pen / (extent + pen)
    t = min(max(pen_px, WIDTH_RANGE[0]), WIDTH_RANGE[1])
    width = pen if t == pen_px or extent == 0 else t * extent / (BOX - t)
    side = extent + width
    scale = BOX * k / side  # supersampled pixels per canvas unit
    n = BOX * k + 2 * k  # room for the box and a margin
    offset = (k - (x0 - width / 2) * scale, k - (y0 - width / 2) * scale)
    raster = render(strokes, scale=scale, offset=offset, width=width, shape=(n, n))
    fitted, com, image = _fit_and_place(raster, k)
    r = pen / 2
    return Preprocessed(drawn, (float(x0 - r), float(y0 - r), float(x1 + r), float(y1 + r)),
                        float(pen_px), float(t), fitted, com, _to_uint8(image))


# --------------------------------------------------------------------------------------------
# A digit in a link
# --------------------------------------------------------------------------------------------


def encode_image(image: np.ndarray) -> str:
    """A 28x28 uint8 digit as URL-safe text: its 784 bytes deflated, base64url without ``=``
    (a drawn digit: 200-400 characters)."""
    a = np.asarray(image)
    if a.shape != (SIZE, SIZE) or a.dtype != np.uint8:
        raise ValueError(f"The parameter `image` must be a 28x28 uint8 array, got {a.shape} "
                         f"{a.dtype}")
    return base64.urlsafe_b64encode(zlib.compress(a.tobytes(), 9)).decode("ascii").rstrip("=")


def decode_image(text: str) -> np.ndarray:
    """The digit of :func:`encode_image`'s text (``ValueError`` with the reason if it is not
    one)."""
    t = text.strip()
    if not t or len(t) > 2000:
        raise ValueError("not a drawn digit (empty or too long)")
    inflate = zlib.decompressobj()
    try:
        raw = inflate.decompress(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)),
                                 SIZE * SIZE + 1)
    except (binascii.Error, zlib.error, ValueError):
        raise ValueError("not a drawn digit (cannot be decoded)") from None
    if not inflate.eof:  # cut short (its checksum not reached) or longer than a digit
        raise ValueError("not a drawn digit (incomplete)")
    if len(raw) != SIZE * SIZE:
        raise ValueError(f"not a drawn digit ({len(raw)} pixels instead of 784)")
    a = np.frombuffer(raw, np.uint8).reshape(SIZE, SIZE).copy()
    a.setflags(write=False)
    return a


# --------------------------------------------------------------------------------------------
# Drawings made by a program (tests, benchmarks, the browser test)
# --------------------------------------------------------------------------------------------


def _arc(cx, cy, rx, ry, a0, a1, n=24) -> np.ndarray:
    """Points of an elliptic arc from angle ``a0`` to ``a1`` (degrees, 0 = right, 90 = down)."""
    t = np.deg2rad(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _line(*xy) -> np.ndarray:
    return np.asarray(xy, np.float64).reshape(-1, 2)


def template_strokes(digit: int, *, width: float = 20.0) -> Strokes:
    """A plain hand-drawn-like ``digit`` on the 280-unit canvas, as a person would draw it with
    a mouse: a vertical bar for 1, a ring for 0, and so on."""
    c = CANVAS / 2
    shapes = {
        0: [_arc(c, c, 55, 85, -90, 270, 48)],
        1: [_line(c, 50, c, 230)],
        2: [np.concatenate([_arc(c, 105, 55, 50, 200, 385, 20), _line(95, 225, 200, 225)])],
        3: [np.concatenate([_arc(c, 95, 50, 42, 200, 450, 20), _arc(c, 180, 55, 45, 270, 510, 20)])],
        4: [_line(175, 230, 175, 50, 80, 170, 210, 170)],
        5: [np.concatenate([_line(195, 55, 105, 55, 98, 130),
                            _arc(c, 170, 60, 55, 225, 495, 24)])],
        6: [np.concatenate([_arc(185, 150, 85, 100, 240, 180, 8), _arc(c, 175, 52, 50, 180, 540, 30)])],
        7: [_line(80, 60, 200, 60, 120, 230)],
        8: [np.concatenate([_arc(c, 95, 45, 42, 90, 450, 30), _arc(c, 182, 55, 47, -90, 270, 30)])],
        9: [_arc(c, 100, 50, 45, 0, 360, 30), _line(c + 50, 100, c + 45, 235)],
    }
    if digit not in shapes:
        raise ValueError(f"The parameter `digit` must be 0..9, got {digit!r}")
    return Strokes(tuple(shapes[digit]), width)
