"""Tests for conv.samples: shipped photos and synthetic teaching images."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from conv.image import decode, to_array
from conv.samples import (
    PHOTOS_DIR,
    SAMPLES,
    SYNTHETIC,
    SYNTHETIC_NAMES,
    load_sample,
    synthetic,
)

CREDITS = PHOTOS_DIR.parent / "CREDITS.md"


# --- sample photos ----------------------------------------------------------------------


def test_at_least_six_samples():
    assert len(SAMPLES) >= 6


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_sample_decodes(name):
    decoded = decode(load_sample(name))
    height, width = decoded.rgb.shape[:2]
    assert decoded.format in ("PNG", "JPEG")
    assert min(height, width) >= 128
    assert decoded.source_size == (width, height)
    assert decoded.rgb.std() > 10  # a photo, not a blank


@pytest.mark.parametrize("name", list(SAMPLES))
def test_sample_metadata(name):
    sample = SAMPLES[name]
    assert sample.name == name and re.fullmatch(r"[a-z0-9_]+", name)
    assert sample.title and sample.description and "\n" not in sample.description
    assert sample.licence in ("public domain", "CC0")
    path = PHOTOS_DIR / sample.filename
    assert path.is_file() and path.stat().st_size < 1_000_000


def test_every_shipped_photo_is_a_sample_and_credited():
    shipped = {p.name for p in PHOTOS_DIR.iterdir() if not p.name.startswith(".")}
    assert shipped == {s.filename for s in SAMPLES.values()}
    credits = CREDITS.read_text(encoding="utf-8")
    for filename in shipped:
        digest = hashlib.sha256((PHOTOS_DIR / filename).read_bytes()).hexdigest()
        assert f"## {filename}" in credits
        assert digest in credits, f"{filename}: SHA-256 in CREDITS.md does not match"


def test_load_sample_returns_file_bytes():
    data = load_sample("chelsea")
    assert isinstance(data, bytes) and data.startswith(b"\x89PNG")


@pytest.mark.parametrize("bad", ["Chelsea", "cat", "", "../CREDITS.md"])
def test_load_sample_unknown(bad):
    with pytest.raises(ValueError, match=r"`name` must be one of 'astronaut'.*got"):
        load_sample(bad)


def test_samples_are_read_only():
    with pytest.raises(TypeError):
        SAMPLES["new"] = SAMPLES["chelsea"]  # type: ignore[index]


# --- synthetic images -------------------------------------------------------------------


@pytest.mark.parametrize("name", SYNTHETIC_NAMES)
@pytest.mark.parametrize("size", [2, 6, 64, 255, (40, 100), (100, 41), (2, 4096)])
def test_synthetic_shape_dtype_gray(name, size):
    img = synthetic(name, size=size)
    height, width = (size, size) if isinstance(size, int) else size
    assert img.shape == (height, width, 3)
    assert img.dtype == np.uint8 and img.flags.writeable and img.flags.c_contiguous
    assert (img == img[:, :, :1]).all()  # R = G = B
    if not (name == "disc" and (height, width) == (2, 2)):  # a 2 x 2 disc is all disc
        assert img.min() == 0
    if name != "text":
        assert img.max() == 255
    elif min(height, width) >= 32:
        assert img.max() > 128
    assert to_array(img).shape == (3, height, width)


def test_names_and_descriptions():
    assert SYNTHETIC_NAMES == tuple(SYNTHETIC)
    assert set(SYNTHETIC_NAMES) == {
        "vertical_edge", "horizontal_edge", "checkerboard", "disc", "text", "gradient",
        "impulse",
    }
    assert all(SYNTHETIC[n] for n in SYNTHETIC_NAMES)


def test_vertical_edge_is_the_lecture_example():
    # The seeds' 6 x 6 image: three columns of 10 then three of 0; here 255 and 0.
    g = synthetic("vertical_edge", size=6)[:, :, 0].astype(int)
    assert g.tolist() == [[255, 255, 255, 0, 0, 0]] * 6
    # Correlated with [[1, 0, -1]] * 3 ('valid'): the seeds' 4 x 4 answer, 30 -> 765.
    out = sum(g[i:i + 4, 0:4] - g[i:i + 4, 2:6] for i in range(3))
    assert out.tolist() == [[0, 765, 765, 0]] * 4


def test_vertical_edge_odd_width():
    g = synthetic("vertical_edge", size=(3, 9))[:, :, 0]
    assert g.tolist() == [[255, 255, 255, 255, 0, 0, 0, 0, 0]] * 3


def test_horizontal_edge():
    g = synthetic("horizontal_edge", size=(9, 4))[:, :, 0]
    assert g[:4].min() == 255 and g[4:].max() == 0
    assert (synthetic("horizontal_edge", size=6) == synthetic("vertical_edge", size=6)
            .transpose(1, 0, 2)).all()


def test_checkerboard():
    g = synthetic("checkerboard", size=64)[:, :, 0]
    cell = 64 // 8
    assert g[0, 0] == 255 and g[0, cell] == 0 and g[cell, 0] == 0 and g[cell, cell] == 255
    blocks = g.reshape(8, cell, 8, cell)
    assert (blocks == blocks[:, :1, :, :1]).all()  # each square uniform
    assert (g == 255).sum() == 64 * 64 // 2


def test_disc():
    size = 100
    g = synthetic("disc", size=size)[:, :, 0]
    assert set(np.unique(g)) == {0, 255}
    assert g[50, 50] == 255 and g[0, 0] == 0 and g[0, 99] == 0 and g[99, 0] == 0
    area = (g == 255).sum()
    assert abs(area - np.pi * (0.3 * size) ** 2) < 0.03 * area
    assert (g == g[::-1]).all() and (g == g[:, ::-1]).all() and (g == g.T).all()


def test_gradient():
    g = synthetic("gradient", size=(3, 256))[:, :, 0]
    assert g[0].tolist() == list(range(256))
    assert (g == g[:1]).all()
    g = synthetic("gradient", size=(2, 8))[0, :, 0]
    assert g.tolist() == [0, 36, 73, 109, 146, 182, 219, 255]  # round(255 * c / 7)


def test_impulse():
    g = synthetic("impulse", size=(9, 12))[:, :, 0]
    assert g[4, 6] == 255 and g.sum() == 255
    g = synthetic("impulse", size=(10, 7))[:, :, 0]
    assert g[5, 3] == 255 and g.sum() == 255


def test_text_is_centred_and_fits():
    g = synthetic("text", size=(64, 256))[:, :, 0]
    rows, cols = np.nonzero(g > 128)
    assert rows.size > 200
    assert rows.min() > 0 and rows.max() < 63 and cols.min() > 0 and cols.max() < 255
    assert abs((rows.min() + rows.max()) / 2 - 31.5) < 4
    assert abs((cols.min() + cols.max()) / 2 - 127.5) < 4


def test_text_renders_the_given_text():
    default = synthetic("text", size=128)
    assert (synthetic("text", size=128, text="CNN") == default).all()
    assert not (synthetic("text", size=128, text="ReLU") == default).all()
    assert synthetic("text", size=256, text="x" * 32).max() > 128


@pytest.mark.parametrize("bad", ["", " ", "x" * 33, "a\nb", 5])
def test_text_rejects(bad):
    with pytest.raises(ValueError, match="`text`"):
        synthetic("text", text=bad)


def test_text_is_ignored_elsewhere():
    assert (synthetic("disc", size=32, text="") == synthetic("disc", size=32)).all()


@pytest.mark.parametrize("bad", [1, 4097, 0, -1, 2.5, True, (8,), (8, 8, 8), [8, 8], (8, 1)])
def test_size_rejects(bad):
    with pytest.raises(ValueError, match="`size`"):
        synthetic("disc", size=bad)


def test_unknown_name():
    with pytest.raises(ValueError, match=r"`name` must be one of 'vertical_edge'.*'edge'"):
        synthetic("edge")


def test_default_size():
    assert synthetic("impulse").shape == (256, 256, 3)


def test_conv_samples_imports_no_ui_libraries():
    import conv.samples as module
    from pathlib import Path

    source = Path(module.__file__).read_text(encoding="utf-8")
    for name in ("streamlit", "plotly"):
        assert f"import {name}" not in source and f"from {name}" not in source
