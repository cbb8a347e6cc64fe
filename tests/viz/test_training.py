"""Figures for learning kernels, asserted as objects (never as pixels)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kernels.library import SOBEL_X
from viz import training as T


def test_loss_figure_is_logarithmic_and_skips_what_a_log_axis_cannot_show():
    losses = [1.0, 0.1, 0.01, 0.0, float("nan")]
    fig = T.loss_figure(losses, floor=1e-3)
    assert fig.layout.yaxis.type == "log"
    line = fig.data[0]
    assert list(line.x) == [0, 1, 2, 3]  # the NaN is left out
    assert line.y[3] == pytest.approx(1e-30)  # zero drawn at the bottom of the axis
    assert fig.layout.shapes[0].y0 == 1e-3  # the least-squares floor, dashed
    assert "best possible" in fig.layout.annotations[0].text
    # the axis spans the positive losses and the floor, not the 1e-30 stand-in for 0
    lo, hi = fig.layout.yaxis.range
    assert lo < -3 < 0 < hi and lo > -5


def test_loss_figure_labels_the_last_step():
    fig = T.loss_figure([4.0, 2.0, 1.0])
    assert fig.layout.annotations[-1].text == "step 2: 1"
    assert fig.layout.yaxis.title.text == "loss"


def test_kernel_evolution_has_one_frame_per_snapshot_and_a_fixed_scale():
    snaps = [(0, np.zeros((3, 3))), (1, SOBEL_X * 0.5), (10, SOBEL_X)]
    fig = T.kernel_evolution_figure(snaps)
    assert [f.name for f in fig.frames] == ["0", "1", "10"]
    assert [s.label for s in fig.layout.sliders[0].steps] == ["0", "1", "10"]
    assert fig.layout.sliders[0].active == 2
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["Play", "Pause"]
    for frame in fig.frames:
        assert frame.data[0].zmin == -2 and frame.data[0].zmax == 2  # same scale throughout
    np.testing.assert_array_equal(fig.frames[2].data[0].z, SOBEL_X)
    assert list(fig.frames[2].data[0].text[1]) == ["-2", "0", "2"]
    assert fig.data[0].zmid == 0
    with pytest.raises(ValueError, match="empty"):
        T.kernel_evolution_figure([])


def test_comparison_shows_learned_target_and_difference():
    learned = SOBEL_X + 0.01
    fig = T.kernel_comparison_figure(learned, SOBEL_X)
    assert len(fig.data) == 3
    np.testing.assert_allclose(fig.data[2].z, np.full((3, 3), 0.01))
    assert fig.data[0].zmax == fig.data[1].zmax  # learned and target share a scale
    assert fig.data[2].zmax == pytest.approx(0.01)  # the difference has its own
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["Learned", "Target", "Difference (largest 0.01)"]
    assert fig.layout.yaxis.autorange == "reversed"  # row 0 at the top, as in the matrix
    with pytest.raises(ValueError, match="same shape"):
        T.kernel_comparison_figure(np.zeros((3, 3)), np.zeros((5, 5)))


def test_image_mappings():
    a = np.array([[-2.0, 0.0, 2.0, 1.0]])
    rgb = T.signed_rgb(a)
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 4, 3)
    assert rgb[0, 1].tolist() == [255, 255, 255]  # zero is white
    assert rgb[0, 0].tolist() == [5, 48, 97] and rgb[0, 2].tolist() == [103, 0, 31]
    assert rgb[0, 3, 0] > rgb[0, 3, 2]  # positive is reddish
    g = T.gray_rgb(np.array([[1.0, 3.0]]))
    assert g[0, 0].tolist() == [0, 0, 0] and g[0, 1].tolist() == [255, 255, 255]
    assert not T.gray_rgb(np.ones((2, 2))).any()  # flat: black, no division by zero
    assert T.signed_rgb(np.zeros((2, 2)))[0, 0].tolist() == [255, 255, 255]


def test_cell_text_is_short():
    assert T._fmt(0.0) == "0" and T._fmt(-0.0) == "0"
    assert T._fmt(1.23456) == "1.23" and T._fmt(-2.0) == "-2"
    assert T._fmt(0.0001234) == "1.2e-04"
    assert not math.isnan(float(T._fmt(123456.0)))
