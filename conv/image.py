"""Safe decoding of uploaded images, and the working resolution the app computes on.

Users upload anything, so :func:`decode` turns arbitrary bytes either into an upright RGB
photo or into an :class:`ImageError` whose message a non-programmer understands. No Pillow
exception or warning escapes it.

The path of an upload::

    decoded = decode(data)                          # uint8 (H, W, 3), upright, on white
    small = working_resolution(decoded.rgb, 1024)   # area-averaged, longest side 1024
    x = to_array(small)                             # float32 (3, H, W) in 0..255
    g = to_gray(small)                              # float32 (1, H, W), BT.601 luma

Images enter the engine as float32 in 0..255 so that the numbers on screen are the pixel
values people expect; never convolve uint8, it wraps around.

What :func:`decode` guards against:

- files that are not images, or in a format outside :data:`FORMATS`: Pillow also reads
  formats such as EPS (which runs Ghostscript), so the allowed formats are listed explicitly;
- truncated files: Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` is left at ``False``, so a
  cut-off file fails instead of coming back half grey;
- decompression bombs: the pixel count is read from the header and checked against
  ``max_pixels`` before any pixel is decoded;
- everything that needs converting (animation, EXIF rotation, 16 bit, palette, CMYK, alpha)
  is converted and described in plain words in :attr:`Decoded.notes`.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "MAX_PIXELS",
    "WORKING_SIZES",
    "Decoded",
    "ImageError",
    "decode",
    "to_array",
    "to_gray",
    "working_resolution",
]

MAX_PIXELS: int = 64_000_000
"""Largest accepted image, in pixels (width x height), checked from the file header.

64 megapixels covers every phone camera's default output; the float32 (3, H, W) copy of such
an image already takes 768 MB. Pillow's own hard limit (``2 * Image.MAX_IMAGE_PIXELS``, about
179 million pixels) still applies on top of it.
"""

FORMATS: tuple[str, ...] = ("PNG", "JPEG", "MPO", "WEBP", "BMP", "GIF", "TIFF")
"""Pillow format names :func:`decode` accepts. MPO is the multi-picture JPEG many phones write."""

# What Image.open is told to try. MPO has no opener of its own: Pillow's JPEG opener returns
# an MpoImageFile when it finds multi-picture data.
_OPEN_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")

EXTENSIONS: tuple[str, ...] = ("png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff")
"""File name extensions of :data:`FORMATS`, e.g. for an upload widget's ``type=`` list."""

WORKING_SIZES: tuple[int | None, ...] = (256, 512, 1024, None)
"""Longest side offered for computing; ``None`` means the full resolution."""

# ITU-R BT.601 luma weights (the ones JPEG, PAL/NTSC and Pillow's convert("L") use).
BT601_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)

_NOT_AN_IMAGE = "not an image Pillow can read (PNG, JPEG, WebP, BMP, GIF, TIFF)"

# HEIC/HEIF (the iPhone default) is a common upload that Pillow cannot read without a plugin;
# it is recognised from its ISO-BMFF "ftyp" brand so that the message can say what to do.
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")

_PRETTY = {"WEBP": "WebP"}

_WARNINGS_LOCK = threading.Lock()

_PILLOW_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")

# EXIF orientation tag (0x0112): the transpose that makes the stored pixels upright, and how
# to say it. Values from the EXIF 2.3 specification, table "Orientation".
_ORIENTATION_TAG = 0x0112
_ORIENTATIONS: dict[int, tuple[Image.Transpose, str]] = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT, "mirrored left to right"),
    3: (Image.Transpose.ROTATE_180, "rotated 180°"),
    4: (Image.Transpose.FLIP_TOP_BOTTOM, "mirrored top to bottom"),
    5: (Image.Transpose.TRANSPOSE, "mirrored and rotated 90°"),
    6: (Image.Transpose.ROTATE_270, "rotated 90° clockwise"),
    7: (Image.Transpose.TRANSVERSE, "mirrored and rotated 90°"),
    8: (Image.Transpose.ROTATE_90, "rotated 90° counter-clockwise"),
}


class ImageError(ValueError):
    """An uploaded file that cannot be shown; the message is meant for the person who sent it."""


@dataclass(frozen=True, eq=False)
class Decoded:
    """An image decoded by :func:`decode`.

    Attributes
    ----------
    rgb : numpy.ndarray
        uint8 array of shape (H, W, 3), upright (EXIF orientation applied), transparency
        composited on white, at full resolution. Read-only, because decoded images are
        cached and shared.
    source_size : tuple of int
        (width, height) as stored in the file. For an EXIF-rotated photo this is the stored,
        not the upright size; ``rgb.shape`` gives the upright one.
    format : str
        Pillow's format name: "JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF" or "MPO".
    notes : tuple of str
        What was done to the image, in plain words, for example
        "animated GIF: first of 12 frames used". Empty for a plain RGB photo.
    """

    rgb: np.ndarray
    source_size: tuple[int, int]
    format: str
    notes: tuple[str, ...]


def decode(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Decoded:
    """Decode an uploaded file into an upright RGB uint8 image, or explain why not.

    Parameters
    ----------
    data : bytes, bytearray or memoryview
        The file's contents.
    max_pixels : int, optional
        Refuse images with more pixels (width x height) than this; checked from the header,
        before any pixel is decoded. Defaults to :data:`MAX_PIXELS`.

    Returns
    -------
    Decoded
        The RGB pixels with the stored size, the format, and notes on every conversion.

    Raises
    ------
    ImageError
        For every file that cannot be shown: not an image, an unsupported format, a
        damaged or truncated file, too many pixels. The message is written for the user;
        the underlying exception, if any, is chained as ``__cause__``.
    TypeError
        If `data` is not bytes-like (a programming error, not a bad upload).
    ValueError
        If `max_pixels` is not a positive integer.

    Notes
    -----
    Conversions, each recorded in ``notes``: animated GIF/PNG/WebP and multi-page TIFF keep
    their first frame; EXIF orientations 2-8 are applied so the photo stands upright; 16-bit
    grayscale is scaled by 255/65535 (rounded), so 65535 becomes 255; 32-bit integer and
    floating-point images are scaled the same way when their values lie in 0..65535
    (integers) or 0..1 (floats), and otherwise stretched from their minimum and maximum;
    grayscale, bilevel, palette, CMYK and YCbCr images become RGB; transparency is composited
    on white: ``out = 255 - (255 - c) * a / 255``, rounded, so a half-transparent black pixel
    (alpha 128) becomes 127.

    Pillow's warnings (decompression bomb, damaged EXIF, ...) are caught while decoding;
    Pillow's decompression-bomb error becomes an ImageError naming the pixel count. Decodes
    run one at a time (a lock guards the process-wide warning filters).

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.new("LA", (2, 1), (0, 128)).save(buf, "PNG")  # half-transparent black
    >>> d = decode(buf.getvalue())
    >>> d.rgb[0, 0].tolist(), d.rgb.shape, d.format
    ([127, 127, 127], (1, 2, 3), 'PNG')
    >>> d.notes[-1]
    'transparency composited on white'
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"The parameter `data` must be bytes, bytearray or memoryview; "
            f"got {type(data).__name__}."
        )
    _check_max_pixels(max_pixels)
    data = bytes(data)
    if not data:
        raise ImageError(f"The file is empty (0 bytes): {_NOT_AN_IMAGE}.")

    # Pillow reports through warnings as well as exceptions (DecompressionBombWarning,
    # "Corrupt EXIF data", ...). None of them may reach the page, and under pytest's
    # filterwarnings=error they would become exceptions, so record them here.
    # catch_warnings swaps process-wide state and is not thread-safe (Streamlit runs each
    # session in a thread): the lock keeps two decodes from restoring each other's filters.
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        return _decode(data, max_pixels)


def _check_max_pixels(max_pixels: int) -> None:
    if (
        isinstance(max_pixels, bool)
        or not isinstance(max_pixels, (int, np.integer))
        or max_pixels < 1
    ):
        raise ValueError(
            f"The parameter `max_pixels` must be a positive integer; got {max_pixels!r}."
        )


def _decode(data: bytes, max_pixels: int) -> Decoded:
    opened = im = _open(data, max_pixels)
    fmt = im.format or "unknown"
    source_size = (int(im.size[0]), int(im.size[1]))
    notes: list[str] = []

    frames = _frame_note(im, fmt)
    if frames:
        notes.append(frames)

    try:
        im.load()
        # A GIF's first frame may extend past the logical screen and grow the image on load.
        _check_pixels(im.size, max_pixels)
        orientation = _orientation(im, notes)
        if orientation in _ORIENTATIONS:
            method, how = _ORIENTATIONS[orientation]
            im = im.transpose(method)
            notes.append(f"EXIF orientation {orientation}: {how} to stand upright")
        rgb = _to_rgb(im, notes)
    except ImageError:
        raise
    except MemoryError as exc:
        raise ImageError(
            "There is not enough memory to open this image; try a smaller one."
        ) from exc
    except Exception as exc:  # Pillow raises many types on damaged data; none may escape.
        raise _damaged(exc) from exc
    finally:
        opened.close()

    rgb.flags.writeable = False
    return Decoded(rgb=rgb, source_size=source_size, format=fmt, notes=tuple(notes))


def _open(data: bytes, max_pixels: int) -> ImageFile.ImageFile:
    """Open (read the header only) and check the size before any pixel is decoded."""
    try:
        im = Image.open(io.BytesIO(data), formats=list(_OPEN_FORMATS))
    except Image.DecompressionBombError as exc:
        # Raised by Pillow from the header alone, above 2 * Image.MAX_IMAGE_PIXELS.
        found = _PILLOW_BOMB_PIXELS.search(str(exc))
        limit = max_pixels
        if Image.MAX_IMAGE_PIXELS is not None:
            limit = min(limit, 2 * Image.MAX_IMAGE_PIXELS)
        count = f"{int(found.group(1)):,} pixels" if found else f"more than {limit:,} pixels"
        raise ImageError(
            f"The image is too large to open safely: {count}; the limit is {limit:,} pixels. "
            "Scale it down and upload it again."
        ) from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageError(_unidentified_message(data)) from exc
    except MemoryError as exc:
        raise ImageError(
            "There is not enough memory to open this image; try a smaller one."
        ) from exc
    except Exception as exc:  # SyntaxError, struct.error, ... from a damaged header
        raise _damaged(exc) from exc
    try:
        _check_pixels(im.size, max_pixels)
    except ImageError:
        im.close()
        raise
    return im


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ImageError(f"The image has no pixels ({width} x {height}); the file is damaged.")
    if width * height > max_pixels:
        raise ImageError(
            f"The image is too large to open safely: {width:,} x {height:,} = "
            f"{width * height:,} pixels; the limit is {max_pixels:,} pixels. "
            "Scale it down and upload it again."
        )


def _sniff(data: bytes) -> str | None:
    """The format a file's first bytes announce ("magic numbers"), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WebP"
    if data.startswith(b"BM") and data[6:10] == b"\0\0\0\0":  # reserved header fields
        return "BMP"
    if data.startswith((b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")):
        return "TIFF"
    return None


def _unidentified_message(data: bytes) -> str:
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return (
            "This is a HEIC/HEIF photo (the iPhone default), which cannot be read here: "
            f"{_NOT_AN_IMAGE}. Export or share it as JPEG and upload that."
        )
    announced = _sniff(data)
    if announced:
        return (
            f"This file starts like a {announced} image but is damaged or incomplete "
            "(for example, cut off during upload), so it cannot be read."
        )
    return f"This file is {_NOT_AN_IMAGE}."


def _damaged(exc: BaseException) -> ImageError:
    detail = str(exc).strip() or type(exc).__name__
    return ImageError(
        "The image file is damaged or incomplete (for example, cut off during upload) and "
        f"cannot be read. Details: {detail}"
    )


def _frame_note(im: Image.Image, fmt: str) -> str | None:
    """Describe an animation or multi-page file, of which only the first frame is used."""
    # An MPO's second picture is a preview or depth map from the phone, not a frame.
    if fmt == "MPO" or not getattr(im, "is_animated", False):
        return None
    kind = "multi-page TIFF" if fmt == "TIFF" else f"animated {_PRETTY.get(fmt, fmt)}"
    unit = "pages" if fmt == "TIFF" else "frames"
    try:
        count = int(im.n_frames)  # walks the frame headers without decoding pixels
        im.seek(0)
    except Exception:  # a damaged later frame does not spoil the first one
        im.seek(0)
        return f"{kind}: first {unit[:-1]} used"
    return f"{kind}: first of {count} {unit} used"


def _orientation(im: Image.Image, notes: list[str]) -> int:
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
        return int(value)
    except Exception:  # damaged EXIF must not prevent showing the pixels
        notes.append("EXIF data damaged: orientation ignored")
        return 1


def _to_rgb(im: Image.Image, notes: list[str]) -> np.ndarray:
    """Convert a loaded image of any Pillow mode to uint8 (H, W, 3), recording each step."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        gray = _high_depth_to_uint8(im, notes)
        return np.repeat(gray[:, :, None], 3, axis=2)

    has_alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in im.info
    if mode == "1":
        notes.append("black-and-white (1-bit) image converted to RGB")
    elif mode in ("L", "LA", "La"):
        notes.append("grayscale image: the same value in R, G and B")
    elif mode in ("P", "PA"):
        notes.append("palette image converted to RGB")
    elif mode == "CMYK":
        notes.append("CMYK converted to RGB")
    elif mode == "YCbCr":
        notes.append("YCbCr converted to RGB")
    elif mode not in ("RGB", "RGBA", "RGBa", "RGBX"):
        notes.append(f"colour mode {mode} converted to RGB")

    if not has_alpha:
        return np.asarray(im.convert("RGB") if mode != "RGB" else im)

    rgba = np.asarray(im.convert("RGBA") if mode != "RGBA" else im)
    alpha = rgba[:, :, 3]
    if alpha.min() == 255:
        return np.ascontiguousarray(rgba[:, :, :3])
    notes.append("transparency composited on white")
    return _composite_on_white(rgba)


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    # out = 255 - (255 - c) * a / 255, rounded to nearest. In integers: t = (255 - c) * a
    # fits uint16, and t / 255 never ends in exactly .5 (255 is odd), so (t + 127) // 255
    # is the correctly rounded quotient.
    alpha = rgba[:, :, 3:4].astype(np.uint16)
    t = (255 - rgba[:, :, :3].astype(np.uint16)) * alpha
    t += 127
    t //= 255
    return (255 - t).astype(np.uint8)


def _high_depth_to_uint8(im: Image.Image, notes: list[str]) -> np.ndarray:
    """16-bit, 32-bit integer or float grayscale -> uint8 (H, W)."""
    if im.mode.startswith("I;16"):
        values = np.asarray(im).astype(np.uint32)  # any byte order -> native
        notes.append("16-bit: scaled to 0..255")
        return ((values + 128) // 257).astype(np.uint8)  # 65535 / 255 = 257

    values = np.asarray(im)
    finite = values[np.isfinite(values)] if im.mode == "F" else values
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 0.0
    if im.mode == "I" and low >= 0 and high <= 65535:
        # Pillow gives 16-bit PNGs and TIFFs mode "I" in some versions: same scaling.
        notes.append("16-bit: scaled to 0..255")
        return ((values.astype(np.int64) + 128) // 257).astype(np.uint8)
    if im.mode == "F" and low >= 0 and high <= 1:
        notes.append("floating-point image: 0..1 scaled to 0..255")
        scaled = values * 255.0
    else:
        depth = "32-bit integer" if im.mode == "I" else "floating-point"
        notes.append(f"{depth} image: values {low:g}..{high:g} stretched to 0..255")
        span = high - low
        scaled = (values - low) * (255.0 / span) if span > 0 else np.zeros_like(values)
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    return np.rint(np.clip(scaled, 0, 255)).astype(np.uint8)


def _check_rgb(rgb: np.ndarray, name: str = "rgb", *, allow_gray: bool = False) -> None:
    if not isinstance(rgb, np.ndarray):
        raise ValueError(
            f"The parameter `{name}` must be a numpy array; got {type(rgb).__name__}."
        )
    shapes = "(H, W, 3)" + (" or (H, W)" if allow_gray else "")
    ok_shape = (rgb.ndim == 3 and rgb.shape[2] == 3) or (allow_gray and rgb.ndim == 2)
    if rgb.dtype != np.uint8 or not ok_shape or 0 in rgb.shape:
        raise ValueError(
            f"The parameter `{name}` must be a non-empty uint8 array of shape {shapes}; "
            f"got {rgb.dtype} {rgb.shape}."
        )


def to_array(rgb: np.ndarray, *, mode: str = "rgb") -> np.ndarray:
    """Turn a uint8 RGB image into the engine's float32 channels-first array, in 0..255.

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 array of shape (H, W, 3), as in :attr:`Decoded.rgb`.
    mode : {"rgb", "gray"}, optional
        "rgb" keeps the three channels; "gray" gives one channel of BT.601 luma
        (see :func:`to_gray`).

    Returns
    -------
    numpy.ndarray
        float32, C-contiguous, shape (3, H, W) for "rgb" or (1, H, W) for "gray", values
        0..255. Always a new array.

    Raises
    ------
    ValueError
        If `rgb` is not a uint8 (H, W, 3) array or `mode` is not "rgb" or "gray".

    Examples
    --------
    >>> x = to_array(np.zeros((4, 5, 3), np.uint8))
    >>> x.shape, x.dtype
    ((3, 4, 5), dtype('float32'))
    """
    if mode not in ("rgb", "gray"):
        raise ValueError(f'The parameter `mode` must be "rgb" or "gray"; got {mode!r}.')
    _check_rgb(rgb)
    if mode == "gray":
        return to_gray(rgb)
    out = np.empty((3,) + rgb.shape[:2], np.float32)
    for c in range(3):
        out[c] = rgb[:, :, c]
    return out


def to_gray(rgb_or_chw: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma: ``Y = 0.299 R + 0.587 G + 0.114 B``, unrounded, as float32.

    Parameters
    ----------
    rgb_or_chw : numpy.ndarray
        Either a uint8 (H, W, 3) image as in :attr:`Decoded.rgb`, or a channels-first array
        of shape (3, H, W) as from :func:`to_array` (any real dtype), or an already gray
        (1, H, W) array. A uint8 array whose last axis has length 3 is read as (H, W, 3).

    Returns
    -------
    numpy.ndarray
        float32 of shape (1, H, W). Always a new array.

    Raises
    ------
    ValueError
        If the array has none of the shapes above.

    Notes
    -----
    The weights are those of ITU-R BT.601 (used by JPEG and by Pillow's ``convert("L")``,
    which also rounds the result to an integer; this function does not). They sum to 1, so
    white (255, 255, 255) gives 255 and a gray pixel keeps its value.

    Examples
    --------
    >>> to_gray(np.array([[[255, 0, 0]]], np.uint8))[0, 0, 0].round(3)
    np.float32(76.245)
    """
    a = rgb_or_chw
    if not isinstance(a, np.ndarray) or a.ndim != 3 or 0 in a.shape:
        raise ValueError(
            "The parameter `rgb_or_chw` must be a uint8 (H, W, 3) image or a (3, H, W) or "
            f"(1, H, W) array; got {_describe(a)}."
        )
    if a.dtype == np.uint8 and a.shape[2] == 3:
        channels = [a[:, :, c] for c in range(3)]
    elif a.shape[0] == 3 and _is_real(a):
        channels = [a[c] for c in range(3)]
    elif a.shape[0] == 1 and _is_real(a):
        return a.astype(np.float32, copy=True)
    else:
        raise ValueError(
            "The parameter `rgb_or_chw` must be a uint8 (H, W, 3) image or a (3, H, W) or "
            f"(1, H, W) array; got {_describe(a)}."
        )
    out = np.empty((1,) + channels[0].shape, np.float32)
    w_r, w_g, w_b = (np.float32(w) for w in BT601_WEIGHTS)
    np.multiply(channels[0], w_r, out=out[0], casting="unsafe")
    scratch = np.empty_like(out[0])
    np.multiply(channels[1], w_g, out=scratch, casting="unsafe")
    out[0] += scratch
    np.multiply(channels[2], w_b, out=scratch, casting="unsafe")
    out[0] += scratch
    return out


def _is_real(a: np.ndarray) -> bool:
    return bool(np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating))


def _describe(a: object) -> str:
    if isinstance(a, np.ndarray):
        return f"{a.dtype} array of shape {a.shape}"
    return type(a).__name__


def working_resolution(rgb: np.ndarray, longest: int | None) -> np.ndarray:
    """Downscale an image so that its longest side is `longest` pixels, by area averaging.

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8 image of shape (H, W, 3) (or (H, W) for gray).
    longest : int or None
        Target length of the longest side, >= 1; one of :data:`WORKING_SIZES` in the app.
        ``None`` means full resolution.

    Returns
    -------
    numpy.ndarray
        uint8 image whose longest side is exactly `longest` and whose other side is
        ``round(short * longest / long)`` (at least 1), so the aspect ratio is kept to within
        a pixel. The input itself (not a copy) when `longest` is None or not smaller than the
        longest side: images are never upscaled.

    Raises
    ------
    ValueError
        If `rgb` is not a uint8 image or `longest` is not None or a positive integer.

    Notes
    -----
    Area averaging (Pillow's ``Resampling.BOX``): each output pixel is the mean of the
    source area it covers, as in average pooling. It removes the detail that would alias,
    without the ringing of Lanczos that edge filters would pick up as extra edges. For
    speed, the bulk of a large reduction is done first by averaging whole k x k blocks
    (``reducing_gap=1.0``: Pillow's ``Image.reduce``), then the remaining factor (below 2)
    is area-averaged; block boundaries can move a box edge by less than k/2 source pixels.
    12 megapixels to 1024 takes about 55 ms on one core, 35 ms of which is copying the
    array into Pillow.

    Examples
    --------
    >>> working_resolution(np.zeros((3000, 4000, 3), np.uint8), 1024).shape
    (768, 1024, 3)
    """
    _check_rgb(rgb, allow_gray=True)
    if longest is None:
        return rgb
    if isinstance(longest, bool) or not isinstance(longest, (int, np.integer)) or longest < 1:
        raise ValueError(
            f"The parameter `longest` must be None or a positive integer; got {longest!r}."
        )
    height, width = rgb.shape[:2]
    long_side = max(height, width)
    if longest >= long_side:
        return rgb
    scale = longest / long_side
    if width >= height:
        size = (int(longest), max(1, round(height * scale)))
    else:
        size = (max(1, round(width * scale)), int(longest))
    small = Image.fromarray(rgb).resize(size, Image.Resampling.BOX, reducing_gap=1.0)
    return np.asarray(small).copy()
