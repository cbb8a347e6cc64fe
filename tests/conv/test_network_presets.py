"""The lecture notes' networks: every published number, and the notes' slips corrected."""

from fractions import Fraction

import pytest

from conv.comparisons import dense_vs_conv
from conv.network import analyze
from conv.network_presets import DEFAULT_PRESET, PRESETS


def _layers(key):
    return analyze(PRESETS[key].network).rows[1:]


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
