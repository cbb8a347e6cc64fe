"""Figures for learning kernels, asserted as objects (never as pixels)."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from kernels.catalogue import SOBEL_X
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


def _array(spec) -> np.ndarray:
    """A plotly.js typed array (``{"dtype", "bdata", "shape"}``) back as numpy."""
    a = np.frombuffer(base64.b64decode(spec["bdata"]), np.dtype(spec["dtype"]))
    return a.reshape([int(n) for n in str(spec.get("shape", a.size)).split(",")])


def test_kernel_evolution_has_one_frame_per_snapshot_and_a_fixed_scale():
    snaps = [(0, np.zeros((3, 3))), (1, SOBEL_X * 0.5), (10, SOBEL_X)]
    fig = T.kernel_evolution_figure(snaps)
    frames = fig.to_dict()["frames"]
    assert [f["name"] for f in frames] == ["0", "1", "10"]
    assert [s.label for s in fig.layout.sliders[0].steps] == ["0", "1", "10"]
    assert fig.layout.sliders[0].active == 2
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["Play", "Pause"]
    for frame in frames:
        assert frame["data"][0]["zmin"] == -2 and frame["data"][0]["zmax"] == 2  # one scale
    assert frames[2]["layout"]["title"]["text"] == "The kernel at step 10"
    np.testing.assert_array_equal(_array(frames[2]["data"][0]["z"]), SOBEL_X)
    assert list(frames[2]["data"][0]["text"][1]) == ["-2", "0", "2"]
    assert fig.data[0].zmid == 0
    with pytest.raises(ValueError, match="empty"):
        T.kernel_evolution_figure([])


def _validated_evolution(snapshots, font_size=18) -> go.Figure:
    """The kernel's animation with a validated ``go.Frame`` per snapshot (and the same
    layout): the reference for the one whose frames are plain dicts."""
    kernels = [np.asarray(k, dtype=np.float64) for _, k in snapshots]
    steps = [int(s) for s, _ in snapshots]
    zmax = T._symmetric(*kernels)
    size = max(font_size - 2 * max(kernels[0].shape[0] - 3, 0), 10)

    def trace(k):
        return T._heatmap(k, zmax=zmax, font_size=size, showscale=True,
                          colorbar={"thickness": 18})

    fig = go.Figure(trace(kernels[-1]))
    fig.frames = [go.Frame(data=[trace(k)], name=str(s),
                           layout={"title": {"text": f"The kernel at step {s}"}})
                  for s, k in zip(steps, kernels)]
    fig.layout = T.kernel_evolution_figure(snapshots, font_size=font_size).layout
    return fig


@pytest.mark.parametrize("snapshots", [
    [(0, np.zeros((3, 3))), (1, SOBEL_X * 0.5), (10, SOBEL_X)],
    [(4, np.arange(25.0).reshape(5, 5) - 12)],
    [(0, np.full((2, 2), np.nan)), (3, np.ones((2, 2)))],
])
def test_kernel_evolution_frames_are_what_validated_frames_would_be(snapshots):
    plain = json.loads(pio.to_json(T.kernel_evolution_figure(snapshots), validate=False))
    validated = json.loads(pio.to_json(_validated_evolution(snapshots), validate=False))
    assert plain == validated
    go.Figure(plain)  # and the whole of it passes plotly's validation


def test_the_white_template_is_the_one_plotly_would_validate():
    fig = T.loss_figure([3.0, 2.0, 1.0])
    validated = go.Figure(fig).update_layout(template="plotly_white")
    assert json.loads(pio.to_json(fig)) == json.loads(pio.to_json(validated))
    assert fig.layout.template.layout.plot_bgcolor == "white"


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
