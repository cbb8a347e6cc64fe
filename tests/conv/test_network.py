"""Whole networks: the presets reproduce the published numbers; impossible layers; exports."""

import math
from fractions import Fraction

import pytest

from conv.network import (
    BOTTLENECK_EXAMPLE,
    DEFAULT_PRESET,
    PRESETS,
    RECORD_COLUMNS,
    SEPARABLE_EXAMPLE,
    Layer,
    Network,
    analyze,
    avgpool,
    bottleneck_cost,
    conv,
    dense_vs_conv,
    fc,
    flatten,
    layer_to_row,
    layers_from_rows,
    maxpool,
    network_from_csv,
    records_from_csv,
    separable_cost,
    softmax,
)


def _layers(key):
    return analyze(PRESETS[key].network).rows[1:]


# --- presets: every published number ----------------------------------------------------------


def test_lenet5_matches_the_notes_table_corrected():
    rows = _layers("lenet5")
    assert [str(r.output) for r in rows] == [
        "28x28x6",
        "14x14x6",
        "10x10x16",
        "5x5x16",
        "120",
        "84",
        "10",
    ]
    # the OCR'd note prints 4707 (CONV1) and 48210 (FC3): both wrong
    assert [r.neurons for r in rows] == [4704, 1176, 1600, 400, 120, 84, 10]
    assert [r.params.value for r in rows] == [456, 0, 2416, 0, 48120, 10164, 850]
    a = analyze(PRESETS["lenet5"].network)
    assert a.rows[0].neurons == 3072  # the input row, as in the table
    assert (a.params, a.neurons) == (62006, 8094)
    assert any("4707" in n and "4,704" in n for n in PRESETS["lenet5"].seed_notes)
    assert any("48210" in n and "48,120" in n for n in PRESETS["lenet5"].seed_notes)


def test_mnist_network_totals():
    rows = _layers("mnist")
    assert [r.neurons for r in rows] == [5760, 1440, 1280, 320, 100, 10]
    assert [r.params.value for r in rows] == [260, 0, 5020, 0, 32100, 1010]
    a = analyze(PRESETS["mnist"].network)
    assert a.params == 38_390
    assert a.neurons == 8_910


def test_harleys_network_corrected():
    a = analyze(PRESETS["harley"].network)
    assert [r.params.value for r in a.rows[1:]] == [156, 0, 2416, 0, 48120, 12100, 1010]
    assert str(a.rows[4].output) == "5x5x16"  # the note: 128 channels, 3200 neurons
    assert (a.neurons, a.params) == (8110, 63802)  # the note: 10910 and 399802


def test_alexnet():
    a = analyze(PRESETS["alexnet"].network)
    assert [str(r.output) for r in a.rows[1:]] == [
        "55x55x96",
        "27x27x96",
        "27x27x256",
        "13x13x256",
        "13x13x384",
        "13x13x384",
        "13x13x256",
        "6x6x256",
        "4096",
        "4096",
        "1000",
    ]
    assert [r.params.value for r in a.rows[1:]] == [
        34944,
        0,
        614656,
        0,
        885120,
        1327488,
        884992,
        0,
        37752832,
        16781312,
        4097000,
    ]
    assert a.params == 62_378_344
    assert a.rows[-1].rf is None and a.rows[8].rf == (195, 195) and a.rows[8].jump == 32
    assert a.impossible == ()
    assert "62,378,344" in PRESETS["alexnet"].description


def test_alexnet_half_coursework_table():
    a = analyze(PRESETS["alexnet_half"].network)
    rows = a.rows[1:]
    assert [str(r.output) for r in rows] == [
        "55x55x48",
        "27x27x48",
        "27x27x128",
        "13x13x128",
        "13x13x192",
        "13x13x192",
        "13x13x128",
        "6x6x128",
        "2048",
        "2048",
        "1000",
    ]
    assert [r.neurons for r in rows] == [
        145200,
        34992,
        93312,
        21632,
        32448,
        32448,
        21632,
        4608,
        2048,
        2048,
        1000,
    ]
    assert [r.params.value for r in rows] == [
        17472,
        0,
        153728,
        0,
        221376,
        331968,
        221312,
        0,
        9439232,
        4196352,
        2049000,
    ]
    assert (a.neurons, a.params) == (391_368, 16_630_440)
    assert "1600" in PRESETS["alexnet_half"].description  # the decision is documented


def test_vgg16():
    a = analyze(PRESETS["vgg16"].network)
    assert a.params == 138_357_544
    assert str(a.rows[-4].output) == "7x7x512"
    assert a.rows[-3].params.value == (7 * 7 * 512 + 1) * 4096  # FC6: 102,764,544
    assert len([r for r in a.rows if r.layer and r.layer.kind == "conv"]) == 13


def test_simple_cnn_example():
    rows = _layers("ng_simple")
    assert [str(r.output) for r in rows] == ["37x37x10", "17x17x20", "7x7x40", "1960", "1"]


@pytest.mark.parametrize(
    ("key", "output", "params"),
    [
        ("ex_280", "37x37x10", 280),
        ("ex_4900", "29x29x100", 4900),
        ("ex_fc_vs_conv", "32x32x100", 2800),
        ("ex_48x48", "48x48x25", 25 * (3 * 3 * 10 + 1)),
        ("ex_5x5_s2", "3x3x1", 10),
    ],
)
def test_exercises(key, output, params):
    a = analyze(PRESETS[key].network)
    assert str(a.output) == output
    assert a.params == params
    assert PRESETS[key].kind == "example"


def test_the_notes_fc_vs_conv_slip_is_shown():
    notes = " ".join(PRESETS["ex_fc_vs_conv"].seed_notes)
    assert "1000" in notes and "2,800" in notes
    c = dense_vs_conv(
        *PRESETS["ex_fc_vs_conv"].dense_example[:4], f=PRESETS["ex_fc_vs_conv"].dense_example[4]
    )
    parts = dict(c.a_parts)
    assert parts["weights"].value == 314_572_800
    assert parts["weights"].formula == "3072 * 102400 = 314,572,800"
    assert parts["biases"].value == 102_400
    assert c.a_total.value == 314_675_200
    assert c.b_total.value == 2_800
    assert c.ratio == Fraction(2800, 314_675_200)


def test_every_preset_is_possible_and_the_default_exists():
    assert DEFAULT_PRESET in PRESETS
    for key, preset in PRESETS.items():
        assert preset.key == key
        a = analyze(preset.network)
        assert a.impossible == (), key
        assert preset.description


# --- cost comparisons -------------------------------------------------------------------------


def test_depthwise_separable_the_notes_example():
    c = separable_cost(**SEPARABLE_EXAMPLE)
    assert c.a_total.value == 2160
    assert [w.value for _, w in c.b_parts] == [432, 240]
    assert c.b_total.formula == "432 + 240 = 672"
    assert c.ratio == Fraction(1, 5) + Fraction(1, 9)  # 1/c_out + 1/f^2 (the note: 1/f^3)
    assert c.ratio_formula == "672 / 2,160 = 0.311 = 14/45 = 1/5 + 1/3^2"


@pytest.mark.parametrize(("h", "f", "c_in", "c_out"), [(7, 3, 16, 32), (1, 5, 1, 1), (14, 7, 8, 3)])
def test_depthwise_separable_ratio_identity(h, f, c_in, c_out):
    c = separable_cost(h, h, f, c_in, c_out)
    assert c.ratio == Fraction(1, c_out) + Fraction(1, f * f)


def test_bottleneck_inception_example():
    c = bottleneck_cost(**BOTTLENECK_EXAMPLE)
    assert c.a_total.value == 120_422_400
    assert c.a_parts[0][1].formula == "28*28*32 * (5*5*192/1) = 120,422,400"
    assert [w.value for _, w in c.b_parts] == [2_408_448, 10_035_200]
    assert c.b_total.value == 12_443_648
    assert c.b_total.formula == "2,408,448 + 10,035,200 = 12,443,648"


# --- impossible layers and flags --------------------------------------------------------------


def test_kernel_too_big_is_flagged_and_the_table_continues():
    net = Network((8, 8, 3), (conv(11, 4), conv(3, 4), fc(10)))
    a = analyze(net)
    bad = a.rows[1]
    assert bad.error == "kernel larger than padded input: 11 > 8 (input 8 + padding 0)"
    assert bad.params.value == 0 and not bad.counted
    # the impossible layer is bypassed: the next conv sees the 8x8x3 input
    assert str(a.rows[2].input) == "8x8x3" and str(a.rows[2].output) == "6x6x4"
    assert a.params == (27 + 1) * 4 + (144 + 1) * 10
    assert a.impossible == (bad,)


def test_conv_after_flatten_is_impossible():
    a = analyze(Network((6, 6, 1), (flatten(), conv(3, 2), maxpool(2), fc(3))))
    assert "needs an H x W x C input" in a.rows[2].error
    assert "pooling needs an H x W x C input" in a.rows[3].error
    assert str(a.rows[4].output) == "3" and a.rows[4].params.value == (36 + 1) * 3
    assert a.rows[1].neurons == 36 and not a.rows[1].counted
    assert a.neurons == 3


def test_non_square_layer_names_height_and_width():
    a = analyze(Network((10, 6, 1), (conv((3, 7), 2),)))
    row = a.rows[1]
    assert row.error == "width: kernel larger than padded input: 7 > 6 (input 6 + padding 0)"
    a = analyze(Network((9, 8, 2), (conv((3, 1), 4, s=2),)))
    row = a.rows[1]
    assert str(row.output) == "4x4x4"
    assert row.size_formula == (
        "H: (9 + 2*0 - 3) / 2 + 1 = 4; W: floor((8 + 2*0 - 1) / 2) + 1 = floor(3.5) + 1 = 4"
    )
    assert row.flags == (
        (
            "width: not exact: 7/2 = 3.5, floor keeps 3; the last 1 column of the padded input is "
            "never covered"
        ),
    )
    assert row.params.value == (3 * 1 * 2 + 1) * 4
    assert row.rf == (3, 1)


def test_inexact_division_flag_in_the_table():
    a = analyze(Network((8, 8, 1), (conv(3, 1, s=2), maxpool(2))))
    assert a.rows[1].flags == (
        (
            "not exact: 5/2 = 2.5, floor keeps 2; the last 1 row and column of the padded input are "
            "never covered"
        ),
    )
    assert a.rows[2].flags == (
        (
            "not exact: 1/2 = 0.5, floor keeps 0; the last 1 row and column of the padded input are "
            "never covered"
        ),
    )
    assert a.rows[1].size_h.dropped == 1
    assert analyze(Network((7, 7, 1), (conv(3, 1, s=2),))).rows[1].flags == ()


def test_softmax_conventions():
    # after an FC with the same units: the function alone, 0 parameters, not counted twice
    a = analyze(Network((1, 1, 20), (fc(10), softmax(10))))
    assert a.rows[2].params.value == 0 and not a.rows[2].counted
    assert (a.params, a.neurons) == (210, 10)
    # units=None: the function alone
    assert analyze(Network((1, 1, 20), (softmax(),))).params == 0
    # different units: an FC + softmax (the notes' tables)
    a = analyze(Network((1, 1, 20), (fc(10), softmax(5))))
    assert a.rows[2].params.value == 55 and a.neurons == 15


def test_pool_padding_more_than_half_the_window_is_flagged():
    a = analyze(Network((8, 8, 1), (maxpool(2, p=2),)))
    assert any("PyTorch refuses" in f for f in a.rows[1].flags)


def test_layer_validation_names_the_parameter():
    with pytest.raises(ValueError, match="`kind`"):
        Layer("dense")
    with pytest.raises(ValueError, match="`units`"):
        conv(3, 0)
    with pytest.raises(ValueError, match="`s`"):
        maxpool(2, 0)
    with pytest.raises(ValueError, match="`input height`"):
        Network((0, 3, 3))
    with pytest.raises(ValueError, match="`d` must be 1 for average pooling"):
        Layer("avgpool", 2, 2, 0, 2, 2)
    assert avgpool(3).s == 3 and maxpool(3, 2).s == 2


# --- exports ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_csv_parses_back_to_the_same_table(key):
    a = analyze(PRESETS[key].network)
    text = a.to_csv()
    assert text.splitlines()[0] == ",".join(RECORD_COLUMNS)
    assert records_from_csv(text) == a.to_records()
    assert network_from_csv(text) == PRESETS[key].network
    assert analyze(network_from_csv(text)).to_records() == a.to_records()


def test_csv_round_trip_with_an_impossible_layer():
    net = Network((8, 8, 3), (conv(11, 4), flatten(), conv(3, 3), fc(10, bias=False), softmax()))
    a = analyze(net)
    assert records_from_csv(a.to_csv()) == a.to_records()
    total = a.to_records()[-1]
    assert total["name"] == "Total" and total["params"] == a.params
    assert "CONV1: kernel larger" in total["flags"]


def test_records_from_csv_rejects_other_tables():
    with pytest.raises(ValueError, match="`text` must be a CSV with the columns"):
        records_from_csv("a,b\n1,2\n")
    text = analyze(PRESETS["ex_280"].network).to_csv().replace("37x37x10,37", "37x37x10,x7")
    with pytest.raises(ValueError, match="column out_h"):
        records_from_csv(text)


def test_markdown_export():
    md = analyze(PRESETS["lenet5"].network).to_markdown()
    lines = md.splitlines()
    assert lines[0] == "Input 32x32x3: 7 layers."
    assert lines[2].startswith("| # | Layer | Output |")
    assert "| 1 | CONV1 | 28x28x6 | `(32 + 2*0 - 5) / 1 + 1 = 28` | 4,704 |" in md
    assert "| `(400 + 1) * 120 = 48,120` |" in md  # code spans: * is not emphasis
    assert lines[-1] == "| | **Total** | | | **8,094** | **62,006** | **651,720** | | | |"
    assert all(line.count("|") == lines[2].count("|") for line in lines[2:-1])
    odd = analyze(Network((4, 4, 1), (conv(3, 1, name="my_*conv*"),))).to_markdown()
    assert "| my\\_\\*conv\\* |" in odd


# --- the editor's rows ------------------------------------------------------------------------


def test_rows_round_trip_through_the_editor_format():
    for preset in PRESETS.values():
        rows = [layer_to_row(layer) for layer in preset.network.layers]
        layers, errors = layers_from_rows(rows)
        assert errors == []
        assert tuple(layers) == preset.network.layers


def test_editor_values_arrive_unvalidated():
    pd = pytest.importorskip("pandas")
    rows = [
        {"type": "conv", "f": 5.0, "fw": math.nan, "p": None, "s": -1, "units": 6},
        {"type": None, "f": None, "units": None},  # an empty new row: ignored
        {"type": "fc", "units": "abc"},
        {"type": "maxpool", "f": "2"},
        {"type": "softmax", "units": pd.NA},
        {"type": "conv", "f": math.inf, "units": 3},
        {"type": "banana"},
        {"type": "fc", "units": 2.5},
        {"type": "conv", "f": 3, "units": None},
        {"type": "conv", "f": 3, "units": 4, "bias": "maybe"},
        {"type": "avgpool", "f": 2, "d": 2},
        {"type": None, "f": 3},
        {"type": "FC", "units": 10**12},
        {"type": " Conv ", "f": 3.0, "units": 4.0, "bias": False, "name": "  mine "},
    ]
    layers, errors = layers_from_rows(rows)
    assert layers == [maxpool(2), softmax(), conv(3, 4, bias=False, name="mine")]
    assert errors == [
        "Row 1 (conv): `s` must be a whole number >= 1, got -1",
        "Row 3 (fc): `units` must be a whole number >= 1, got 'abc'",
        "Row 6 (conv): `f` must be a whole number >= 1, got inf",
        "Row 7: `type` must be one of conv, maxpool, avgpool, flatten, fc, softmax; got 'banana'",
        "Row 8 (fc): `units` must be a whole number >= 1, got 2.5",
        "Row 9 (conv): `units` is empty; a whole number >= 1 is needed",
        "Row 10 (conv): `bias` must be on or off, got 'maybe'",
        "Row 11 (avgpool): `d` must be 1 for average pooling (no dilation), got 2",
        "Row 12: `type` must be one of conv, maxpool, avgpool, flatten, fc, softmax; got nothing",
        "Row 13 (fc): `units` must be at most 1,000,000,000, got 1,000,000,000,000",
    ]
