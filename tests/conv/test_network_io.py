"""A network as rows and text: CSV and Markdown exports, and the editor's rows."""

import math

import pytest

from conv.network import Network, analyze, conv, fc, flatten, maxpool, softmax
from conv.network_io import (
    RECORD_COLUMNS,
    layer_to_row,
    layers_from_rows,
    network_from_csv,
    records_from_csv,
    to_csv,
    to_markdown,
    to_records,
)
from conv.network_presets import PRESETS

# --- exports ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_csv_parses_back_to_the_same_table(key):
    a = analyze(PRESETS[key].network)
    text = to_csv(a)
    assert text.splitlines()[0] == ",".join(RECORD_COLUMNS)
    assert records_from_csv(text) == to_records(a)
    assert network_from_csv(text) == PRESETS[key].network
    assert to_records(analyze(network_from_csv(text))) == to_records(a)


def test_csv_round_trip_with_an_impossible_layer():
    net = Network((8, 8, 3), (conv(11, 4), flatten(), conv(3, 3), fc(10, bias=False), softmax()))
    a = analyze(net)
    assert records_from_csv(to_csv(a)) == to_records(a)
    total = to_records(a)[-1]
    assert total["name"] == "Total" and total["params"] == a.params
    assert "CONV1: kernel larger" in total["flags"]


def test_records_from_csv_rejects_other_tables():
    with pytest.raises(ValueError, match="`text` must be a CSV with the columns"):
        records_from_csv("a,b\n1,2\n")
    text = to_csv(analyze(PRESETS["ex_280"].network)).replace("37x37x10,37", "37x37x10,x7")
    with pytest.raises(ValueError, match="column out_h"):
        records_from_csv(text)


def test_markdown_export():
    md = to_markdown(analyze(PRESETS["lenet5"].network))
    lines = md.splitlines()
    assert lines[0] == "Input 32x32x3: 7 layers."
    assert lines[2].startswith("| # | Layer | Output |")
    assert "| 1 | CONV1 | 28x28x6 | `(32 + 2*0 - 5) / 1 + 1 = 28` | 4,704 |" in md
    assert "| `(400 + 1) * 120 = 48,120` |" in md  # code spans: * is not emphasis
    assert lines[-1] == "| | **Total** | | | **8,094** | **62,006** | **651,720** | | | |"
    assert all(line.count("|") == lines[2].count("|") for line in lines[2:-1])
    odd = to_markdown(analyze(Network((4, 4, 1), (conv(3, 1, name="my_*conv*"),))))
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
