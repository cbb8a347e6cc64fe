"""Tests for conv.image: every bad input is generated here, no binary fixtures."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from conv import image
from conv.image import (
    MAX_PIXELS,
    WORKING_SIZES,
    Decoded,
    ImageError,
    decode,
    to_array,
    to_gray,
    working_resolution,
)

NOT_AN_IMAGE = "not an image Pillow can read (PNG, JPEG, WebP, BMP, GIF, TIFF)"


def encode(im: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def random_rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header claims width x height RGB pixels."""
    chunk = png_chunk
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + chunk(b"IEND", b"")
    )


def gif_claiming(width: int, height: int) -> bytes:
    """A tiny GIF whose logical screen and only frame claim width x height pixels."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0" * 6
    frame = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return header + frame + b";"


# --- not an image -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(np.random.default_rng(7).bytes(2000), id="random-bytes"),
        pytest.param(b"Dear students,\nthe exam is on Monday.\n" * 20, id="text-file"),
        pytest.param(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", id="eps"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg"),
        pytest.param(encode(Image.new("RGB", (16, 16)), "ICO"), id="ico-not-allowed"),
        pytest.param(encode(Image.new("RGB", (16, 16)), "PPM"), id="ppm-not-allowed"),
    ],
)
def test_not_an_image(data):
    with pytest.raises(ImageError, match=r"not an image Pillow can read \(PNG, JPEG"):
        decode(data)


def test_empty_file():
    with pytest.raises(ImageError) as info:
        decode(b"")
    assert "empty" in str(info.value)
    assert NOT_AN_IMAGE in str(info.value)


def test_heic_gets_a_hint():
    with pytest.raises(ImageError, match="HEIC") as info:
        decode(b"\0\0\0\x18ftypheic" + b"\0" * 200)
    assert "JPEG" in str(info.value)


def test_image_error_is_a_value_error():
    assert issubclass(ImageError, ValueError)


def test_wrong_argument_types_are_programming_errors():
    png = encode(Image.new("RGB", (4, 4)), "PNG")
    with pytest.raises(TypeError, match="`data`"):
        decode("not bytes")  # type: ignore[arg-type]
    for bad in (0, -5, True, 2.5, None):
        with pytest.raises(ValueError, match="`max_pixels`"):
            decode(png, max_pixels=bad)  # type: ignore[arg-type]


def test_bytes_like_inputs_accepted():
    png = encode(Image.new("RGB", (3, 2), (1, 2, 3)), "PNG")
    for data in (png, bytearray(png), memoryview(png)):
        assert decode(data).rgb.shape == (2, 3, 3)


# --- truncated and damaged files --------------------------------------------------------


def test_pillow_truncation_tolerance_stays_off():
    # With LOAD_TRUNCATED_IMAGES a cut-off file comes back half grey instead of failing.
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.9])
def test_truncated_jpeg(fraction):
    data = encode(Image.fromarray(random_rgb(64, 80)), "JPEG", quality=90)
    with pytest.raises(ImageError, match="damaged or incomplete") as info:
        decode(data[: int(len(data) * fraction)])
    assert info.value.__cause__ is not None


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.9])
def test_truncated_png(fraction):
    data = encode(Image.fromarray(random_rgb(64, 80)), "PNG")
    with pytest.raises(ImageError, match="damaged or incomplete"):
        decode(data[: int(len(data) * fraction)])


def test_header_only_names_the_format():
    data = encode(Image.fromarray(random_rgb(64, 80)), "PNG")
    with pytest.raises(ImageError, match="starts like a PNG image but is damaged"):
        decode(data[:40])


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("JPEG", {}),
        ("PNG", {}),
        ("GIF", {}),
        ("WEBP", {"lossless": True}),
        ("BMP", {}),
        ("TIFF", {"compression": "tiff_lzw"}),
    ],
)
def test_every_cut_fails_or_loses_nothing(fmt, options):
    """Cut a file after every byte: either ImageError, or exactly the full image.

    A decode that succeeds on a cut file may only have lost trailing bytes that carry no
    pixels (PNG's checksum and IEND, GIF's trailer); a half-grey image would fail here.
    """
    data = encode(Image.fromarray(random_rgb(24, 32, seed=3)), fmt, **options)
    full = decode(data).rgb
    for cut in range(len(data)):
        try:
            rgb = decode(data[:cut]).rgb
        except ImageError:
            continue
        np.testing.assert_array_equal(rgb, full, err_msg=f"{fmt} cut at {cut} of {len(data)}")


_VALID_FILES = [
    encode(Image.fromarray(random_rgb(12, 16, seed=5)), fmt, **options)
    for fmt, options in [
        ("JPEG", {}),
        ("PNG", {}),
        ("GIF", {}),
        ("WEBP", {"quality": 80}),
        ("BMP", {}),
        ("TIFF", {}),
    ]
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, len(_VALID_FILES) - 1),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1,
                   max_size=8),
)
def test_corrupted_files_raise_only_image_error(which, edits):
    data = bytearray(_VALID_FILES[which])
    for position, value in edits:
        data[position % len(data)] = value
    try:
        decoded = decode(bytes(data))
    except ImageError:
        return
    assert decoded.rgb.dtype == np.uint8 and decoded.rgb.ndim == 3


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_image_error(data):
    try:
        decode(data)
    except ImageError:
        pass


@pytest.mark.parametrize("second_chunk", [b"IDAT", b"\xea\xa2\xd2\xd6"])
def test_broken_chunk_inside_pixel_data(second_chunk):
    # Pixel data split over two IDAT chunks; a garbled second chunk type makes Pillow raise
    # SyntaxError while loading pixels (not while opening), which must become ImageError.
    width = height = 8
    rows = b"".join(b"\0" + bytes(range(width * 3)) for _ in range(height))
    compressed = zlib.compress(rows)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", compressed[:10])
        + png_chunk(second_chunk, compressed[10:])
        + png_chunk(b"IEND", b"")
    )
    if second_chunk == b"IDAT":
        assert decode(data).rgb[3, 2].tolist() == [6, 7, 8]
    else:
        with pytest.raises(ImageError, match="damaged or incomplete") as info:
            decode(data)
        assert isinstance(info.value.__cause__, SyntaxError)


def test_damaged_exif_is_ignored():
    data = encode(Image.new("RGB", (8, 6), (10, 200, 30)), "JPEG")
    garbage = b"Exif\0\0II*\0\xff\xff\xff\x7f" + b"\x01" * 20
    segment = b"\xff\xe1" + struct.pack(">H", len(garbage) + 2) + garbage
    decoded = decode(data[:2] + segment + data[2:])
    assert decoded.rgb.shape == (6, 8, 3)


# --- decompression bombs ----------------------------------------------------------------


def test_bomb_beyond_pillows_hard_limit():
    # 900 million pixels: Pillow itself raises DecompressionBombError while opening.
    with pytest.raises(ImageError) as info:
        decode(png_claiming(30_000, 30_000))
    assert "900,000,000 pixels; the limit is 64,000,000" in str(info.value)
    assert isinstance(info.value.__cause__, Image.DecompressionBombError)


def test_bomb_in_pillows_warning_range():
    # 100 million pixels: Pillow warns (an error under filterwarnings=error); we refuse.
    with pytest.raises(ImageError, match=r"10,000 x 10,000 = 100,000,000 pixels; the limit is"):
        decode(png_claiming(10_000, 10_000))


def test_bomb_below_pillows_limit_but_above_ours():
    # 72 million pixels: Pillow is silent, our own check from the header refuses.
    with pytest.raises(ImageError, match=r"72,000,000 pixels; the limit is 64,000,000 pixels"):
        decode(png_claiming(9_000, 8_000))


def test_gif_bomb():
    with pytest.raises(ImageError, match=r"pixels; the limit is 64,000,000"):
        decode(gif_claiming(60_000, 60_000))


def test_max_pixels_is_inclusive():
    data = encode(Image.new("RGB", (20, 10)), "PNG")
    assert decode(data, max_pixels=200).rgb.shape == (10, 20, 3)
    with pytest.raises(ImageError, match=r"20 x 10 = 200 pixels; the limit is 199 pixels"):
        decode(data, max_pixels=199)


def test_default_limit():
    assert MAX_PIXELS == 64_000_000


# --- frames, depth, palette, colour spaces, alpha ----------------------------------------


def _frames(count: int) -> list[Image.Image]:
    return [Image.new("RGB", (10, 8), (20 * i, 255 - 20 * i, 7)) for i in range(count)]


@pytest.mark.parametrize(
    ("fmt", "options", "note"),
    [
        ("GIF", {}, "animated GIF: first of 12 frames used"),
        ("PNG", {}, "animated PNG: first of 12 frames used"),
        ("WEBP", {"lossless": True}, "animated WebP: first of 12 frames used"),
        ("TIFF", {}, "multi-page TIFF: first of 12 pages used"),
    ],
)
def test_animation_uses_first_frame(fmt, options, note):
    frames = _frames(12)
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], **options)
    decoded = decode(data)
    assert note in decoded.notes
    assert decoded.rgb.shape == (8, 10, 3)
    assert decoded.rgb[0, 0].tolist() == [0, 255, 7]


def test_16_bit_grayscale_png_scaled():
    values = np.array([[0, 257, 385, 386, 32896, 65279, 65535]], dtype=np.uint16)
    data = encode(Image.fromarray(values), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    decoded = decode(data)
    # round(v / 257): 385 / 257 = 1.498 -> 1, 386 / 257 = 1.502 -> 2, 65535 -> 255.
    assert decoded.rgb[0, :, 0].tolist() == [0, 1, 1, 2, 128, 254, 255]
    assert (decoded.rgb == decoded.rgb[:, :, :1]).all()
    assert "16-bit: scaled to 0..255" in decoded.notes


def test_16_bit_tiff_scaled():
    data = encode(Image.fromarray(np.array([[0, 65535]], dtype=np.uint16)), "TIFF")
    assert decode(data).rgb[0, :, 0].tolist() == [0, 255]


def test_float_tiff_in_0_1_scaled():
    data = encode(Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32)), "TIFF")
    decoded = decode(data)
    assert decoded.rgb[0, :, 0].tolist() == [0, 128, 255]
    assert any("0..1 scaled" in n for n in decoded.notes)


def test_32_bit_integer_tiff_stretched():
    values = np.array([[-100, 0, 100_000]], dtype=np.int32)
    decoded = decode(encode(Image.fromarray(values), "TIFF"))
    assert decoded.rgb[0, :, 0].tolist() == [0, 0, 255]
    assert any("stretched" in n for n in decoded.notes)


def _palette_image() -> Image.Image:
    im = Image.new("P", (4, 1))
    im.putpalette([255, 0, 0, 0, 0, 255, 0, 0, 0] + [0] * (768 - 9))
    im.putdata([0, 1, 2, 0])
    return im


def test_palette_with_transparent_index():
    decoded = decode(encode(_palette_image(), "PNG", transparency=1))
    assert decoded.rgb[0].tolist() == [[255, 0, 0], [255, 255, 255], [0, 0, 0], [255, 0, 0]]
    assert "palette image converted to RGB" in decoded.notes
    assert "transparency composited on white" in decoded.notes


def test_palette_with_partial_alpha():
    # tRNS with one alpha per palette entry: red opaque, blue clear, black half (128).
    decoded = decode(encode(_palette_image(), "PNG", transparency=b"\xff\x00\x80"))
    assert decoded.rgb[0].tolist() == [[255, 0, 0], [255, 255, 255], [127, 127, 127],
                                       [255, 0, 0]]


def test_palette_without_transparency():
    decoded = decode(encode(_palette_image(), "PNG"))
    assert decoded.rgb[0].tolist() == [[255, 0, 0], [0, 0, 255], [0, 0, 0], [255, 0, 0]]
    assert decoded.notes == ("palette image converted to RGB",)


def test_gif_with_transparency():
    decoded = decode(encode(_palette_image(), "GIF", transparency=1))
    assert decoded.rgb[0, 1].tolist() == [255, 255, 255]
    assert decoded.rgb[0, 0].tolist() == [255, 0, 0]


def test_cmyk_jpeg():
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)
    decoded = decode(data)
    assert "CMYK converted to RGB" in decoded.notes
    assert decoded.format == "JPEG"
    np.testing.assert_allclose(decoded.rgb[8, 8], [255, 0, 0], atol=3)


def test_cmyk_tiff_exact():
    im = Image.new("CMYK", (2, 1))
    im.putdata([(0, 255, 255, 0), (0, 0, 0, 255)])
    decoded = decode(encode(im, "TIFF"))
    assert decoded.rgb[0].tolist() == [[255, 0, 0], [0, 0, 0]]


def test_rgba_composited_on_white_exactly():
    """Every (colour, alpha) pair against out = round(255 - (255 - c) * a / 255)."""
    c, a = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    rgba = np.stack([c, c, c, a], axis=-1).astype(np.uint8)
    decoded = decode(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    expected = np.rint(255 - (255 - c) * a / 255).astype(np.uint8)
    np.testing.assert_array_equal(decoded.rgb[:, :, 0], expected)
    assert "transparency composited on white" in decoded.notes


def test_rgba_known_pixels():
    rgba = np.array(
        [[[0, 0, 0, 128], [0, 0, 0, 127], [200, 100, 50, 255], [10, 20, 30, 0],
          [100, 150, 200, 51]]],
        dtype=np.uint8,
    )
    decoded = decode(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    # Half-transparent black on white: 255 - 255 * 128 / 255 = 127, and 128 for alpha 127.
    # The last: 255 - 155 * 0.2 = 224, 255 - 105 * 0.2 = 234, 255 - 55 * 0.2 = 244.
    assert decoded.rgb[0].tolist() == [
        [127, 127, 127], [128, 128, 128], [200, 100, 50], [255, 255, 255], [224, 234, 244]
    ]


def test_la_composited_on_white():
    la = Image.new("LA", (2, 1))
    la.putdata([(0, 128), (40, 255)])
    decoded = decode(encode(la, "PNG"))
    assert decoded.rgb[0].tolist() == [[127, 127, 127], [40, 40, 40]]
    assert "transparency composited on white" in decoded.notes


def test_opaque_alpha_is_dropped_silently():
    decoded = decode(encode(Image.new("RGBA", (3, 3), (9, 8, 7, 255)), "PNG"))
    assert decoded.rgb[1, 1].tolist() == [9, 8, 7]
    assert decoded.notes == ()


def test_transparent_colour_key_in_rgb_png():
    im = Image.new("RGB", (2, 1), (1, 2, 3))
    im.putpixel((1, 0), (50, 60, 70))
    decoded = decode(encode(im, "PNG", transparency=(1, 2, 3)))
    assert decoded.rgb[0].tolist() == [[255, 255, 255], [50, 60, 70]]


# --- EXIF orientation -------------------------------------------------------------------

# Where the stored row 0 and column 0 go, per the EXIF 2.3 "Orientation" table, written as
# numpy operations on the stored (H, W, 3) array, independent of Pillow's transpose.
_UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],  # row 0 top, column 0 right
    3: lambda a: a[::-1, ::-1],  # row 0 bottom, column 0 right
    4: lambda a: a[::-1, :],  # row 0 bottom, column 0 left
    5: lambda a: a.transpose(1, 0, 2),  # row 0 left, column 0 top
    6: lambda a: np.rot90(a, -1),  # row 0 right, column 0 top: turn 90 degrees clockwise
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),  # row 0 right, column 0 bottom
    8: lambda a: np.rot90(a, 1),  # row 0 left, column 0 bottom: turn counter-clockwise
}


def _jpeg_with_orientation(pixels: np.ndarray, orientation: int | None) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    return encode(Image.fromarray(pixels), "JPEG", quality=90, exif=exif)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_upright(orientation):
    stored = random_rgb(24, 40, seed=11)  # landscape as stored: W 40, H 24
    plain = decode(_jpeg_with_orientation(stored, None))
    decoded = decode(_jpeg_with_orientation(stored, orientation))
    # Same compressed pixels, so the upright image is exactly the transformed plain one.
    np.testing.assert_array_equal(decoded.rgb, _UPRIGHT[orientation](plain.rgb))
    assert decoded.source_size == (40, 24)
    if orientation in (5, 6, 7, 8):
        assert decoded.rgb.shape == (40, 24, 3)
    else:
        assert decoded.rgb.shape == (24, 40, 3)
    noted = any(n.startswith(f"EXIF orientation {orientation}:") for n in decoded.notes)
    assert noted == (orientation != 1)


def test_exif_orientation_6_quadrants():
    """A phone photo held upright: stored sideways, shown with its left edge on top."""
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = (255, 0, 0)  # left half red
    stored[:, 20:] = (0, 0, 255)  # right half blue
    decoded = decode(_jpeg_with_orientation(stored, 6))
    assert decoded.rgb.shape == (40, 20, 3)
    assert "EXIF orientation 6: rotated 90° clockwise to stand upright" in decoded.notes
    np.testing.assert_allclose(decoded.rgb[5, 10], [255, 0, 0], atol=8)  # top: red
    np.testing.assert_allclose(decoded.rgb[35, 10], [0, 0, 255], atol=8)  # bottom: blue


def test_exif_orientation_3_quadrants():
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:10, :20] = (255, 0, 0)  # top-left red, the rest black
    decoded = decode(_jpeg_with_orientation(stored, 3))
    assert decoded.rgb.shape == (20, 40, 3)
    np.testing.assert_allclose(decoded.rgb[15, 30], [255, 0, 0], atol=8)  # now bottom-right
    np.testing.assert_allclose(decoded.rgb[5, 10], [0, 0, 0], atol=8)


# --- sizes, modes and formats -----------------------------------------------------------


def test_one_by_one_is_valid():
    decoded = decode(encode(Image.new("RGB", (1, 1), (1, 2, 3)), "PNG"))
    assert decoded.rgb.tolist() == [[[1, 2, 3]]]
    assert decoded.source_size == (1, 1)


@pytest.mark.parametrize("size", [(1, 4000), (4000, 1)])
def test_one_pixel_wide_strips(size):
    decoded = decode(encode(Image.new("RGB", size, (9, 9, 9)), "PNG"))
    assert decoded.rgb.shape == (size[1], size[0], 3)
    assert decoded.source_size == size


def test_grayscale_l():
    decoded = decode(encode(Image.new("L", (3, 2), 77), "PNG"))
    assert (decoded.rgb == 77).all() and decoded.rgb.shape == (2, 3, 3)
    assert decoded.notes == ("grayscale image: the same value in R, G and B",)


def test_bilevel_1():
    im = Image.new("1", (2, 1))
    im.putdata([0, 1])
    decoded = decode(encode(im, "PNG"))
    assert decoded.rgb[0].tolist() == [[0, 0, 0], [255, 255, 255]]
    assert decoded.notes == ("black-and-white (1-bit) image converted to RGB",)


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("PNG", {}),
        ("WEBP", {"lossless": True}),
        ("BMP", {}),
        ("TIFF", {}),
        ("TIFF", {"compression": "tiff_deflate"}),
    ],
)
def test_lossless_formats_round_trip_exactly(fmt, options):
    pixels = random_rgb(17, 23, seed=2)
    decoded = decode(encode(Image.fromarray(pixels), fmt, **options))
    np.testing.assert_array_equal(decoded.rgb, pixels)
    assert decoded.format == fmt
    assert decoded.source_size == (23, 17)
    assert decoded.notes == ()


def test_jpeg_and_lossy_webp_close():
    pixels = np.zeros((32, 32, 3), np.uint8)
    pixels[:, 16:] = (200, 120, 40)
    for fmt in ("JPEG", "WEBP"):
        decoded = decode(encode(Image.fromarray(pixels), fmt, quality=95))
        assert decoded.format == fmt
        np.testing.assert_allclose(decoded.rgb[16, 24], [200, 120, 40], atol=6)


def test_multi_picture_jpeg():
    im = Image.fromarray(random_rgb(16, 16))
    decoded = decode(encode(im, "MPO", save_all=True, append_images=[im]))
    assert decoded.format == "MPO" and decoded.notes == ()


def test_decoded_is_read_only_and_frozen():
    decoded = decode(encode(Image.new("RGB", (2, 2)), "PNG"))
    assert isinstance(decoded, Decoded)
    assert not decoded.rgb.flags.writeable
    with pytest.raises(ValueError):
        decoded.rgb[0, 0, 0] = 1
    with pytest.raises(AttributeError):
        decoded.format = "GIF"  # type: ignore[misc]


# --- to_array and to_gray ---------------------------------------------------------------


def test_to_array_rgb():
    rgb = random_rgb(5, 7)
    x = to_array(rgb)
    assert x.shape == (3, 5, 7) and x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_array_equal(x, rgb.transpose(2, 0, 1).astype(np.float32))
    assert not np.shares_memory(x, rgb)


def test_to_array_gray_is_to_gray():
    rgb = random_rgb(5, 7)
    np.testing.assert_array_equal(to_array(rgb, mode="gray"), to_gray(rgb))
    assert to_array(rgb, mode="gray").shape == (1, 5, 7)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4, 3), np.float32),
        np.zeros((4, 4), np.uint8),
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((0, 4, 3), np.uint8),
        [[0, 0, 0]],
    ],
)
def test_to_array_rejects(bad):
    with pytest.raises(ValueError, match="`rgb`"):
        to_array(bad)


def test_to_array_rejects_mode():
    with pytest.raises(ValueError, match="`mode`.*'grey'"):
        to_array(random_rgb(2, 2), mode="grey")


@pytest.mark.parametrize(
    ("colour", "luma"),
    [
        ((255, 0, 0), 76.245),
        ((0, 255, 0), 149.685),
        ((0, 0, 255), 29.07),
        ((255, 255, 255), 255.0),
        ((0, 0, 0), 0.0),
        ((100, 100, 100), 100.0),
        ((10, 20, 30), 18.15),  # 2.99 + 11.74 + 3.42
        ((255, 255, 0), 225.93),
    ],
)
def test_to_gray_bt601_known_colours(colour, luma):
    rgb = np.array([[colour]], np.uint8)
    y = to_gray(rgb)
    assert y.shape == (1, 1, 1) and y.dtype == np.float32
    assert y[0, 0, 0] == pytest.approx(luma, abs=1e-4)
    # The same from a channels-first float array.
    assert to_gray(to_array(rgb))[0, 0, 0] == pytest.approx(luma, abs=1e-4)


def test_to_gray_matches_formula_on_random_image():
    rgb = random_rgb(31, 17, seed=9).astype(np.float64)
    expected = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    np.testing.assert_allclose(to_gray(rgb.astype(np.uint8))[0], expected, atol=1e-4, rtol=0)


def test_to_gray_of_gray_is_a_copy():
    g = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    out = to_gray(g)
    np.testing.assert_array_equal(out, g)
    assert not np.shares_memory(out, g)


def test_to_gray_uint8_one_row_image_is_hwc():
    # A uint8 array whose last axis is 3 is an (H, W, 3) image, even with H == 3 or 1.
    rgb = np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8)
    assert to_gray(rgb).shape == (1, 1, 2)


@pytest.mark.parametrize(
    "bad",
    [np.zeros((4, 4), np.uint8), np.zeros((2, 4, 4), np.float32), np.zeros((4, 4, 3), bool)],
)
def test_to_gray_rejects(bad):
    with pytest.raises(ValueError, match="`rgb_or_chw`"):
        to_gray(bad)


# --- working resolution -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "width", "longest", "expected"),
    [
        (3000, 4000, 1024, (768, 1024)),
        (4000, 3000, 1024, (1024, 768)),
        (3000, 4000, 256, (192, 256)),
        (1000, 1000, 512, (512, 512)),
        (333, 1000, 512, (170, 512)),  # 333 * 0.512 = 170.5 -> either 170 or 171 is fine
        (1000, 1500, 256, (171, 256)),  # 170.67 rounds to 171
        (1500, 1000, 256, (256, 171)),
        (1, 4000, 256, (1, 256)),
        (4000, 1, 256, (256, 1)),
        (2, 4000, 256, (1, 256)),  # never 0 pixels
    ],
)
def test_working_resolution_sizes(height, width, longest, expected):
    rgb = np.zeros((height, width, 3), np.uint8)
    out = working_resolution(rgb, longest)
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert max(out.shape[:2]) == longest
    short_in, long_in = sorted((height, width))
    short_out = min(out.shape[:2])
    assert abs(short_out - short_in * longest / long_in) <= 0.5 + 1e-9 or short_out == 1
    assert (out.shape[0] >= out.shape[1]) == (height >= width)
    if height != 333:
        assert out.shape[:2] == expected


@pytest.mark.parametrize("longest", [None, 400, 401, 10_000])
def test_working_resolution_never_upscales(longest):
    rgb = random_rgb(300, 400)
    assert working_resolution(rgb, longest) is rgb


def test_working_sizes_cover_full_resolution():
    assert WORKING_SIZES == (256, 512, 1024, None)


def test_working_resolution_averages_areas():
    # A one-pixel checkerboard halved: every output pixel averages two black and two white
    # pixels. Point sampling would give pure black or white (aliasing).
    board = ((np.indices((64, 96)).sum(axis=0) % 2) * 255).astype(np.uint8)
    out = working_resolution(np.repeat(board[:, :, None], 3, axis=2), 48)
    assert out.shape == (32, 48, 3)
    assert np.isin(out, [127, 128]).all()


def test_working_resolution_keeps_constant_and_mean():
    flat = np.full((300, 500, 3), 200, np.uint8)
    assert (working_resolution(flat, 128) == 200).all()
    rgb = random_rgb(600, 900, seed=4)
    small = working_resolution(rgb, 256)
    assert abs(small.mean() - rgb.mean()) < 0.5


def test_working_resolution_gray():
    assert working_resolution(np.zeros((100, 50), np.uint8), 10).shape == (10, 5)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "1024"])
def test_working_resolution_rejects_longest(bad):
    with pytest.raises(ValueError, match="`longest`"):
        working_resolution(random_rgb(10, 10), bad)


def test_working_resolution_rejects_float_image():
    with pytest.raises(ValueError, match="`rgb`"):
        working_resolution(np.zeros((10, 10, 3), np.float32), 5)


def test_full_pipeline_on_a_phone_photo():
    """Upload -> decode -> working resolution -> engine array, with a rotated JPEG."""
    stored = random_rgb(300, 400, seed=8)
    decoded = decode(_jpeg_with_orientation(stored, 6))
    small = working_resolution(decoded.rgb, 256)
    x = to_array(small)
    assert decoded.rgb.shape == (400, 300, 3)
    assert small.shape == (256, 192, 3)
    assert x.shape == (3, 256, 192) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 255


def test_conv_image_imports_no_ui_libraries():
    source = Path(image.__file__).read_text(encoding="utf-8")
    for name in ("streamlit", "plotly"):
        assert f"import {name}" not in source and f"from {name}" not in source


def test_concurrent_decodes_leave_warning_filters_alone():
    import threading
    import warnings

    before = list(warnings.filters)
    data = png_claiming(10_000, 10_000)  # makes Pillow warn inside decode
    good = encode(Image.fromarray(random_rgb(50, 50)), "PNG")
    errors: list[BaseException] = []

    def work() -> None:
        for _ in range(60):
            try:
                decode(data)
            except ImageError:
                pass
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            decode(good)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert list(warnings.filters) == before
