"""Figures of the CNN arithmetic page, asserted as objects (never as pixels)."""

import pytest

from conv.comparisons import bottleneck_cost, dense_vs_conv, separable_cost
from conv.network import Network, analyze, conv, fc, flatten, maxpool
from conv.network_presets import BOTTLENECK_EXAMPLE, PRESETS, SEPARABLE_EXAMPLE
from viz.network import compact, comparison_figure, network_figure


def _trace(fig, name):
    matches = [t for t in fig.data if t.name == name]
    assert len(matches) == 1, [t.name for t in fig.data]
    return matches[0]


def test_network_figure_lenet5_values_are_written_on_the_figure():
    fig = network_figure(analyze(PRESETS["lenet5"].network))
    labels = [
        "Input",
        "1. CONV1",
        "2. POOL1",
        "3. CONV2",
        "4. POOL2",
        "5. FC3",
        "6. FC4",
        "7. Softmax",
    ]
    assert list(fig.layout.xaxis.categoryarray) == labels
    spatial = _trace(fig, "height = width")
    assert list(spatial.x) == labels[:5] and list(spatial.y) == [32, 28, 14, 10, 5]
    assert list(spatial.text) == ["32", "28", "14", "10", "5"]
    channels = _trace(fig, "channels / units")
    assert list(channels.y) == [3, 6, 6, 16, 16, 120, 84, 10]
    params = _trace(fig, "parameters")
    assert list(params.x) == ["1. CONV1", "3. CONV2", "5. FC3", "6. FC4", "7. Softmax"]
    assert list(params.y) == [456, 2416, 48120, 10164, 850]
    assert list(params.text) == ["456", "2,416", "48.1k", "10.2k", "850"]
    assert list(_trace(fig, "no parameters").x) == ["2. POOL1", "4. POOL2"]
    neurons = _trace(fig, "neurons")
    assert list(neurons.y) == [3072, 4704, 1176, 1600, 400, 120, 84, 10]
    for axis in (fig.layout.yaxis2, fig.layout.yaxis3, fig.layout.yaxis4):
        assert axis.type == "log" and axis.dtick == 1
    assert fig.layout.font.size == 18


def test_network_figure_non_square_and_impossible_layers():
    net = Network((12, 6, 1), (conv((3, 1), 4), conv(9, 2), flatten(), conv(3, 3), fc(5)))
    fig = network_figure(analyze(net))
    assert list(_trace(fig, "height").y) == [12, 10]
    assert list(_trace(fig, "width").y) == [6, 6]
    assert list(_trace(fig, "height").text) == ["12x6", "10x6"]
    bad = [t for t in fig.data if t.name == "impossible layer"]
    assert len(bad) == 3 and all(list(t.x) == ["2. CONV2 ✗", "4. CONV3 ✗"] for t in bad)
    assert "2. CONV2 ✗" not in list(_trace(fig, "channels / units").x)


def test_network_figure_long_network_thins_the_log_ticks():
    fig = network_figure(analyze(PRESETS["vgg16"].network))
    assert fig.layout.yaxis3.dtick == 2  # parameters up to 10^8
    assert fig.layout.xaxis4.tickangle == -35
    assert _trace(fig, "parameters").text[-3] == "103M"


def test_comparison_figure_separable_is_stacked_by_part():
    fig = comparison_figure(separable_cost(**SEPARABLE_EXAMPLE))
    assert [t.x[0] for t in fig.data] == [2160, 432, 240]
    assert [t.y[0] for t in fig.data] == ["standard", "depthwise-separable", "depthwise-separable"]
    assert fig.layout.barmode == "stack"
    assert [a.text for a in fig.layout.annotations] == ["<b>2,160</b>", "<b>672</b>"]
    assert "672 / 2,160 = 0.311 = 14/45" in fig.layout.title.text


def test_comparison_figure_bottleneck():
    fig = comparison_figure(bottleneck_cost(**BOTTLENECK_EXAMPLE))
    assert [t.x[0] for t in fig.data] == [120_422_400, 2_408_448, 10_035_200]
    assert fig.layout.xaxis.type != "log"


def test_comparison_figure_dense_vs_conv_is_logarithmic():
    fig = comparison_figure(dense_vs_conv(32, 32, 3, 100))
    (bar,) = fig.data
    assert list(bar.x) == [314_675_200, 2800]
    assert list(bar.text) == ["314,675,200", "2,800"]
    assert fig.layout.xaxis.type == "log"
    assert fig.layout.title.text == "Parameters: ratio 2,800 / 314,675,200 = 1/112,384"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (850, "850"),
        (4704, "4,704"),
        (9999, "9,999"),
        (48120, "48.1k"),
        (3_211_264, "3.21M"),
        (62_378_344, "62.4M"),
        (138_357_544, "138M"),
        (15_470_264_320, "15.5G"),
    ],
)
def test_compact(value, text):
    assert compact(value) == text


def test_figures_handle_a_network_of_one_pool():
    fig = network_figure(analyze(Network((4, 4, 2), (maxpool(2),))))
    assert list(_trace(fig, "parameters").y) == []
    assert list(_trace(fig, "no parameters").x) == ["1. POOL1"]
