"""Sample photos shipped in ``assets/photos/`` and synthetic teaching images.

Sample photos are returned as file bytes, so they take exactly the path of an upload::

    decoded = image.decode(load_sample("chelsea"))

Synthetic images are small, exact patterns whose filter responses can be predicted by hand
(an edge detector lights up on the step, a blur turns the impulse into the kernel's shape).
They are uint8 RGB ``(H, W, 3)`` with R = G = B and values 0 and 255 (plus the ramp and the
antialiased text), ready for :func:`conv.image.to_array`.

Where the photos came from and under which licence: ``assets/CREDITS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "PHOTOS_DIR",
    "SAMPLES",
    "SYNTHETIC",
    "SYNTHETIC_NAMES",
    "Sample",
    "load_sample",
    "synthetic",
]

PHOTOS_DIR: Path = Path(__file__).resolve().parent.parent / "assets" / "photos"
"""Where the sample photos live (``assets/photos/`` at the repository root)."""


@dataclass(frozen=True)
class Sample:
    """One sample photo.

    Attributes
    ----------
    name : str
        Short stable key (lower case, no spaces), fit for URLs and ``load_sample``.
    title : str
        Display name.
    filename : str
        File name inside :data:`PHOTOS_DIR`.
    description : str
        One line on what it shows and what it is good for.
    licence : str
        "public domain" or "CC0"; details and sources in ``assets/CREDITS.md``.
    """

    name: str
    title: str
    filename: str
    description: str
    licence: str


_SAMPLE_LIST = (
    Sample("astronaut", "Astronaut", "astronaut.png",
           "Astronaut Eileen Collins (NASA): a face, a flag and fine detail in colour.",
           "public domain"),
    Sample("chelsea", "Chelsea the cat", "chelsea.png",
           "A cat: fur texture, whiskers and edges in many directions.",
           "CC0"),
    Sample("coffee", "Coffee", "coffee.png",
           "A coffee cup seen from above: ellipses, smooth porcelain and wood grain.",
           "CC0"),
    Sample("rocket", "Rocket launch", "rocket.jpg",
           "A Falcon 9 launch (SpaceX): a bright plume against sky and towers.",
           "public domain"),
    Sample("camera", "Photographer", "camera.png",
           "A man with a camera on a tripod (grayscale): strong edges, grass texture.",
           "CC0"),
    Sample("brick", "Brick wall", "brick.png",
           "A brick wall (grayscale): regular horizontal and vertical edges.",
           "CC0"),
    Sample("text", "Handwriting", "text.png",
           "Handwritten formulas on lined paper (grayscale): thin strokes and lines.",
           "public domain"),
    Sample("hubble", "Hubble deep field", "hubble_deep_field.jpg",
           "Galaxies in the Hubble eXtreme Deep Field (NASA): bright dots on black.",
           "public domain"),
)

SAMPLES: Mapping[str, Sample] = MappingProxyType({s.name: s for s in _SAMPLE_LIST})
"""Sample photos by name, in display order."""


def load_sample(name: str) -> bytes:
    """Return the bytes of a sample photo's file, to be decoded like an upload.

    Parameters
    ----------
    name : str
        A key of :data:`SAMPLES`, e.g. "chelsea".

    Returns
    -------
    bytes
        The file's contents (PNG or JPEG).

    Raises
    ------
    ValueError
        If `name` is not a sample's name.
    """
    if name not in SAMPLES:
        raise ValueError(
            f"The parameter `name` must be one of {', '.join(map(repr, SAMPLES))}; "
            f"got {name!r}."
        )
    return (PHOTOS_DIR / SAMPLES[name].filename).read_bytes()


SYNTHETIC: Mapping[str, str] = MappingProxyType({
    "vertical_edge": "Vertical step edge: white left half, black right half.",
    "horizontal_edge": "Horizontal step edge: white top half, black bottom half.",
    "checkerboard": "Checkerboard of 8 x 8 squares, white in the top-left corner.",
    "disc": "White disc on black, centred, radius 0.3 of the shorter side.",
    "text": 'White text ("CNN" unless given) on black, centred.',
    "gradient": "Horizontal ramp from 0 at the left edge to 255 at the right edge.",
    "impulse": "One white pixel in the centre (an impulse): filters show their kernel.",
})
"""Synthetic image names with a one-line description each, in display order."""

SYNTHETIC_NAMES: tuple[str, ...] = tuple(SYNTHETIC)

_MIN_SIZE, _MAX_SIZE = 2, 4096
_MAX_TEXT = 32


def synthetic(
    name: str, *, size: int | tuple[int, int] = 256, text: str = "CNN"
) -> np.ndarray:
    """Draw a synthetic teaching image.

    Parameters
    ----------
    name : str
        One of :data:`SYNTHETIC_NAMES`:

        - "vertical_edge": columns ``< W // 2`` are 255, the rest 0 (light left, dark
          right, as in the lecture notes' 6 x 6 example with 10 and 0): the correlation
          kernel ``[[1, 0, -1]] * 3`` answers 3 * 255 = 765 on the edge, 0 elsewhere;
        - "horizontal_edge": rows ``< H // 2`` are 255, the rest 0 (light on top);
        - "checkerboard": squares of ``max(1, min(H, W) // 8)`` pixels, pixel (r, c) is 255
          where ``r // cell + c // cell`` is even (so the top-left square is white);
        - "disc": 255 where the pixel centre lies within ``max(0.3 * min(H, W), 0.75)`` of
          the image centre ``((H - 1) / 2, (W - 1) / 2)``, else 0 (no antialiasing; the
          0.75 keeps the central pixels white in the smallest images);
        - "text": `text` in Pillow's built-in font, white on black, antialiased, centred and
          scaled to fill about 80 % of the width or 60 % of the height;
        - "gradient": column c is ``round(255 * c / (W - 1))`` on every row;
        - "impulse": 255 at row ``H // 2``, column ``W // 2``, 0 elsewhere. Correlation
          with a kernel (what CNN layers compute) draws the kernel rotated by 180 degrees
          around the dot; true convolution draws it as it is.
    size : int or (int, int), optional
        Side of a square image, or (height, width); each between 2 and 4096. Default 256.
    text : str, optional
        What "text" writes: 1 to 32 printable characters. Ignored by the other images.

    Returns
    -------
    numpy.ndarray
        uint8 array of shape (H, W, 3) with R = G = B; a new, writeable array.

    Raises
    ------
    ValueError
        If `name`, `size` or `text` is not allowed; the message says what is.

    Examples
    --------
    >>> img = synthetic("vertical_edge", size=6)
    >>> img.shape, img[0, :, 0].tolist()
    ((6, 6, 3), [255, 255, 255, 0, 0, 0])
    """
    if name not in SYNTHETIC:
        raise ValueError(
            f"The parameter `name` must be one of {', '.join(map(repr, SYNTHETIC_NAMES))}; "
            f"got {name!r}."
        )
    height, width = _check_size(size)
    if name == "text":
        gray = _text(height, width, _check_text(text))
    else:
        gray = _PATTERNS[name](height, width)
    return np.repeat(gray[:, :, None], 3, axis=2)


def _check_size(size: int | tuple[int, int]) -> tuple[int, int]:
    def ok(n: object) -> bool:
        return (
            isinstance(n, (int, np.integer))
            and not isinstance(n, bool)
            and _MIN_SIZE <= n <= _MAX_SIZE
        )

    if ok(size):
        return int(size), int(size)  # type: ignore[arg-type]
    if isinstance(size, tuple) and len(size) == 2 and all(ok(n) for n in size):
        return int(size[0]), int(size[1])
    raise ValueError(
        f"The parameter `size` must be an integer or a (height, width) pair of integers "
        f"between {_MIN_SIZE} and {_MAX_SIZE}; got {size!r}."
    )


def _check_text(text: str) -> str:
    if (
        not isinstance(text, str)
        or not 1 <= len(text) <= _MAX_TEXT
        or not text.isprintable()
        or not text.strip()
    ):
        raise ValueError(
            f"The parameter `text` must be 1 to {_MAX_TEXT} printable characters, not only "
            f"spaces; got {text!r}."
        )
    return text


def _vertical_edge(height: int, width: int) -> np.ndarray:
    gray = np.zeros((height, width), np.uint8)
    gray[:, : width // 2] = 255
    return gray


def _horizontal_edge(height: int, width: int) -> np.ndarray:
    gray = np.zeros((height, width), np.uint8)
    gray[: height // 2, :] = 255
    return gray


def _checkerboard(height: int, width: int) -> np.ndarray:
    cell = max(1, min(height, width) // 8)
    rows = np.arange(height)[:, None] // cell
    cols = np.arange(width)[None, :] // cell
    return np.where((rows + cols) % 2 == 0, 255, 0).astype(np.uint8)


def _disc(height: int, width: int) -> np.ndarray:
    radius = max(0.3 * min(height, width), 0.75)
    r = np.arange(height)[:, None] - (height - 1) / 2
    c = np.arange(width)[None, :] - (width - 1) / 2
    return np.where(r * r + c * c <= radius * radius, 255, 0).astype(np.uint8)


def _gradient(height: int, width: int) -> np.ndarray:
    ramp = np.rint(np.arange(width) * (255 / (width - 1))).astype(np.uint8)
    return np.broadcast_to(ramp, (height, width)).copy()


def _impulse(height: int, width: int) -> np.ndarray:
    gray = np.zeros((height, width), np.uint8)
    gray[height // 2, width // 2] = 255
    return gray


def _text(height: int, width: int, text: str) -> np.ndarray:
    # Measure at a reference size, then scale: outline font metrics scale linearly.
    # load_default(size=...) is Pillow's built-in Aileron font: no font file needed.
    reference = 100
    left, top, right, bottom = ImageFont.load_default(size=reference).getbbox(text, anchor="mm")
    fit = min(0.8 * width / max(1, right - left), 0.6 * height / max(1, bottom - top))
    font = ImageFont.load_default(size=max(1, int(reference * fit)))
    canvas = Image.new("L", (width, height), 0)
    ImageDraw.Draw(canvas).text((width / 2, height / 2), text, fill=255, font=font, anchor="mm")
    return np.array(canvas)


_PATTERNS = {
    "vertical_edge": _vertical_edge,
    "horizontal_edge": _horizontal_edge,
    "checkerboard": _checkerboard,
    "disc": _disc,
    "gradient": _gradient,
    "impulse": _impulse,
}
