"""LeNet-5's pictures (viz/lenet.py) and the sliding window's still, asserted as objects."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from conv import stages
from conv.stages import ConvSpec, PoolSpec
from viz import animation
from viz import lenet as L


def test_quantise_puts_zero_in_the_middle_of_a_diverging_scale():
    v = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    assert L.quantise(v, "div", 2.0).tolist() == [0, 64, 128, 191, 255]
    assert L.quantise(np.array([0.0, 0.5, 1.0]), "seq", 1.0).tolist() == [0, 128, 255]
    assert L.quantise(np.array([3.0, -3.0]), "div", 2.0).tolist() == [255, 0]  # clipped


def test_layers_json_carries_each_layers_real_range_and_bytes():
    maps = np.arange(2 * 3 * 3, dtype=float).reshape(2, 3, 3) - 4
    layer = L.MapLayer("conv1", "CONV1", maps, "div", 5, minpx=3)
    (spec,) = json.loads(L.layers_json([layer]))
    assert (spec["c"], spec["h"], spec["w"], spec["px"], spec["minpx"]) == (2, 3, 3, 5, 3)
    assert spec["lo"] == -4 and spec["hi"] == 13 and spec["end"] == 13  # symmetric: +-13
    raw = np.frombuffer(base64.b64decode(spec["data"]), np.uint8)
    np.testing.assert_array_equal(raw, L.quantise(maps, "div", 13).ravel())
    relu = L.MapLayer("pool1", "POOL1", np.abs(maps), "seq", 5)
    assert relu.end == 13 and json.loads(L.layers_json([relu]))[0]["minpx"] == 5
    blank = L.MapLayer("conv1", "CONV1", np.zeros((1, 2, 2)), "div", 5)
    assert blank.end == 1.0  # no division by zero
    with pytest.raises(ValueError, match="scale"):
        L.MapLayer("x", "x", maps, "rainbow", 5)
    with pytest.raises(ValueError, match="C, H, W"):
        L.MapLayer("x", "x", np.zeros((3, 3)), "div", 5)


def test_maps_payload_adds_the_selection_without_encoding_the_maps_again():
    layers = L.layers_json([L.MapLayer("input", "Input", np.zeros((1, 2, 2)), "ink", 5)])
    payload = json.loads(L.maps_payload(layers, {"stage": "input", "c": 0, "i": 1, "j": 0},
                                        [{"stage": "x", "channels": None}]))
    assert payload["stages"] == json.loads(layers)
    assert payload["sel"]["i"] == 1 and payload["regions"][0]["stage"] == "x"
    assert json.loads(L.maps_payload(layers))["sel"] is None


def test_prediction_html_writes_every_probability_and_the_verdict():
    p = np.full(10, 0.01)
    p[7] = 0.91
    html = L.prediction_html(p, label=7, note="a <test> digit")
    assert "Prediction: 7 (91.0%)" in html and "right: the writer wrote 7" in html
    assert html.count("conv-pred-pct") == 10 and "1.0%" in html
    assert "a &lt;test&gt; digit" in html  # text escaped
    assert L.PREDICTED in html and "conv-pred-true" in html
    assert "wrong: the writer wrote 1" in L.prediction_html(p, label=1)
    assert L.prediction_line(p) == "Prediction: 7 (91.0%)"


def test_strip_html_shows_three_steps_with_their_numbers():
    from kernels import drawing

    pre = drawing.preprocess(drawing.template_strokes(3, width=40))
    html = L.strip_html(drawn=pre.drawn, box=pre.box, canvas=drawing.CANVAS, fitted=pre.fitted,
                        com=pre.com, image=pre.image, pen_px=pre.pen_px, width_px=pre.width_px)
    assert html.count("<img") == 3 and html.count("data:image/png;base64,") == 3
    assert "1. Your drawing" in html and "20 x 20" in html and "what the network sees" in html
    assert f"stroke {pre.pen_px:.1f} → {pre.width_px:.1f} px" in html  # a thick pen, thinned


def test_short_numbers_fit_a_small_cell():
    assert [L.short(v) for v in (0.0, 0.004, 0.56, -0.134, 3.68, -12.3, 0.999)] == \
        ["0", "0", ".56", "-.13", "3.7", "-12", "1.0"]


def test_conv_channels_figure_lays_out_every_channel():
    rng = np.random.default_rng(0)
    x = rng.random((6, 5, 5)).astype(np.float32)
    w = rng.normal(size=(6, 5, 5)).astype(np.float32)
    spec = ConvSpec(weight=w[None], bias=(0.5,), activation="relu")
    step = animation.conv_steps(stages.run(x, spec), spec)[0]
    fig = L.conv_channels_figure(step, map_names=[f"map {k}" for k in range(6)],
                                 value_title="a cell")
    assert len(fig.data) == 12  # a window and a kernel slice per channel
    np.testing.assert_allclose(fig.data[2].z, x[1])
    np.testing.assert_allclose(fig.data[3].z, w[1])
    sums = [a.text for a in fig.layout.annotations if a.text.startswith("= ")]
    assert sums == [f"= {animation.fmt(p)}" for p in step.partials]
    assert fig.layout.yaxis.scaleanchor == "x"  # square cells


def test_fc_figure_and_top_terms():
    x = np.array([0.0, 1.0, 2.0, 0.5])
    w = np.array([5.0, -3.0, 1.0, 2.0])
    assert L.top_terms(x, w, 3).tolist() == [1, 2, 3]  # |-3| > |2| >= |1|; 0 * 5 last
    fig = L.fc_figure(x, w, input_names=["a", "b", "c", "d"], n=3)
    assert list(fig.data[0].y) == ["b", "c", "d"]
    assert fig.data[0].text[0] == "1 × -3 = -3"


def test_a_still_is_one_step_without_controls():
    x = np.arange(25, dtype=np.float32).reshape(1, 5, 5)
    spec = ConvSpec(weight=np.ones((1, 1, 5, 5)), bias=(1.0,), activation="relu")
    anim = animation.conv_animation(stages.run(x, spec), spec)
    fig = anim.still(0, heading="CONV1 filter 1", formula=False)
    assert not fig.layout.updatemenus and not fig.layout.sliders and not fig.frames
    texts = [a.text for a in fig.layout.annotations]
    assert texts[0] == "CONV1 filter 1"
    assert not any(t.startswith("Output size") for t in texts)
    assert any("(bias) = 301" in t for t in texts)  # 0 + 1 + ... + 24 = 300, + 1
    full = anim.figure(0)
    assert fig.layout.height == full.layout.height - animation.NORMAL.controls_px + 8
    kept = anim.still(0)
    assert any(a.text.startswith("Output size") for a in kept.layout.annotations)
    pool = animation.pool_animation(x[:, :2, :2], PoolSpec(kernel_size=2), np.array([[[6.0]]]))
    still = pool.still(0, formula=False)
    assert any("max(0, 1, 5, 6) = 6" in a.text for a in still.layout.annotations)
    assert not any("Output size" in a.text for a in still.layout.annotations)


def test_the_unvalidated_figures_pass_plotlys_schema():
    """The builders skip plotly.py's validation (for speed); their dicts must pass it."""
    import plotly.graph_objects as go

    rng = np.random.default_rng(1)
    x = rng.random((6, 5, 5)).astype(np.float32)
    spec = ConvSpec(weight=rng.normal(size=(1, 6, 5, 5)), bias=(0.1,), activation="relu")
    step = animation.conv_steps(stages.run(x, spec), spec)[0]
    figures = [L.conv_channels_figure(step, map_names=list("abcdef"), value_title="t"),
               L.fc_figure(rng.random(20), rng.normal(size=20), input_names=list("abcdefghij"
                                                                                  "klmnopqrst"))]
    for fig in figures:
        go.Figure(fig.to_dict())  # raises on any property plotly does not know
