"""The CNN arithmetic page driven by Streamlit's AppTest (no browser)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conv.network import analyze
from conv.network_presets import PRESETS

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "ui/pages/arithmetic.py"

# (parameters, neurons) the page must show for every preset: the published numbers
EXPECTED = {
    "lenet5": ("62,006", "8,094"),
    "mnist": ("38,390", "8,910"),
    "harley": ("63,802", "8,110"),
    "alexnet": ("62,378,344", "781,736"),
    "alexnet_half": ("16,630,440", "391,368"),
    "vgg16": ("138,357,544", "15,087,080"),
    "ng_simple": ("27,301", "21,431"),
    "ex_280": ("280", "13,690"),
    "ex_4900": ("4,900", "84,100"),
    "ex_fc_vs_conv": ("2,800", "102,400"),
    "ex_48x48": ("2,275", "57,600"),
    "ex_5x5_s2": ("10", "9"),
}


def _open(query: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if query is not None:
        at.query_params["preset"] = query
    at.switch_page(PAGE)
    return at.run()


def _corrections(at) -> list[str]:
    """The text of the folded box of corrections to the notes for the preset, if any."""
    return [" ".join(m.value for m in e.markdown) for e in at.expander
            if e.label.startswith("Corrections to the lecture notes for this preset")]


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _no_failure(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _edit(at, edited_rows=None, added_rows=(), deleted_rows=()):
    key = at.data_editor[0].key
    at.session_state[key] = {
        "edited_rows": edited_rows or {},
        "added_rows": list(added_rows),
        "deleted_rows": list(deleted_rows),
    }
    return at.run()


@pytest.fixture(scope="module")
def page() -> AppTest:
    return _open()


def test_expected_table_is_complete():
    assert set(EXPECTED) == set(PRESETS)
    for key, (params, neurons) in EXPECTED.items():
        a = analyze(PRESETS[key].network)
        assert (f"{a.params:,}", f"{a.neurons:,}") == (params, neurons)


def test_opens_on_lenet5_with_its_totals(page):
    _no_failure(page)
    assert not page.error
    assert page.query_params["preset"] == "lenet5"
    metrics = _metrics(page)
    assert metrics["Parameters"] == "62,006"
    assert metrics["Neurons"] == "8,094"
    assert metrics["Multiply-adds"] == "651,720"
    assert metrics["Output"] == "10"
    table = page.table[0].value
    assert list(table["Layer"])[-1] == "**Total**"
    assert "(400 + 1) \\* 120 = 48,120" in list(table["Parameters"])
    corrections = " ".join(_corrections(page))
    assert "4707" in corrections and "48210" in corrections  # the notes' slips, corrected
    labels = [b.label for b in page.get("download_button")]
    assert labels == ["Download CSV", "Download Markdown"]
    assert len(page.get("plotly_chart")) == 4
    rf = next(e for e in page.expander if e.label.startswith("How the receptive field"))
    assert rf.label.startswith("How the receptive field grows")
    assert "**CONV2**: `r = 6 + (5 - 1)*2 = 14, j = 2*1 = 2`" in rf.markdown[0].value


def test_one_click_per_preset_shows_its_totals(page):
    pills = page.button_group[0]
    assert pills.options[0] == "LeNet-5"
    for key, (params, neurons) in EXPECTED.items():
        page.button_group[0].set_value(key).run()
        _no_failure(page)
        assert not page.error, key
        metrics = _metrics(page)
        assert (metrics["Parameters"], metrics["Neurons"]) == (params, neurons), key
        assert page.query_params["preset"] == key
        assert page.info[0].value.startswith(PRESETS[key].description[:20].replace("*", "\\*"))


def test_a_link_restores_a_preset():
    at = _open("mnist")
    _no_failure(at)
    assert _metrics(at)["Parameters"] == "38,390"
    assert _metrics(at)["Neurons"] == "8,910"
    assert not at.warning or "does not exist" not in at.warning[0].value


def test_garbage_link_falls_back_with_a_notice():
    at = _open("nope")
    _no_failure(at)
    assert "'nope'" in at.warning[0].value and "does not exist" in at.warning[0].value
    assert _metrics(at)["Parameters"] == "62,006"
    assert at.query_params["preset"] == "lenet5"
    # the notice goes away with the next pick
    at.button_group[0].set_value("ex_280").run()
    assert all("does not exist" not in w.value for w in at.warning)
    assert _metrics(at)["Parameters"] == "280"


def test_changing_the_link_during_a_session_loads_that_preset():
    at = _open()
    at.query_params["preset"] = "vgg16"
    at.run()
    _no_failure(at)
    assert _metrics(at)["Parameters"] == "138,357,544"


def test_editing_a_layer_changes_the_totals():
    at = _open("lenet5")
    _edit(at, {0: {"units": 32}})  # CONV1 with 32 filters instead of 6
    _no_failure(at)
    assert not at.error
    # (5*5*3 + 1)*32 + (5*5*32 + 1)*16 + 48120 + 10164 + 850
    assert _metrics(at)["Parameters"] == "74,382"
    assert any("Edited from the preset LeNet-5" in c.value for c in at.caption)
    # the edit survives a trip to another page
    at.switch_page("ui/pages/filter_lab.py").run()
    at.switch_page(PAGE).run()
    _no_failure(at)
    assert _metrics(at)["Parameters"] == "74,382"
    # picking the preset again restores it
    at.button_group[0].set_value("mnist").run()
    at.button_group[0].set_value("lenet5").run()
    assert _metrics(at)["Parameters"] == "62,006"


def test_adding_and_deleting_rows():
    at = _open("ex_280")
    _edit(at, added_rows=[{"type": "maxpool", "f": 2}, {"type": "fc", "units": 10}])
    _no_failure(at)
    # 39x39x3 -> conv 3x3 x10: 37x37x10 -> pool 2: 18x18x10 (floor drops a row) -> FC 10
    assert _metrics(at)["Output"] == "10"
    assert _metrics(at)["Parameters"] == f"{280 + (18 * 18 * 10 + 1) * 10:,}"
    assert any("never covered" in m.value for m in at.markdown)
    _edit(at, deleted_rows=[0])
    assert _metrics(at)["Parameters"] == "0"
    assert _metrics(at)["Output"] == "39\u202f×\u202f39\u202f×\u202f3"


def test_bad_cells_give_messages_not_exceptions():
    at = _open("lenet5")
    _edit(
        at,
        {0: {"s": -2}, 1: {"f": None}, 4: {"units": "many"}, 6: {"type": "banana"}},
        added_rows=[{"type": "conv"}],
    )
    _no_failure(at)
    errors = [e.value for e in at.error]
    assert "Row 1 (conv): `s` must be a whole number >= 1, got -2" in errors[0]
    assert "Row 2 (avgpool): `f` is empty" in errors[1]
    # Streamlit turns text typed into a number column into a missing value
    assert "Row 5 (fc): `units` is empty" in errors[2]
    assert "Row 7: `type` must be one of" in errors[3]
    assert "Row 8 (conv): `f` is empty" in errors[4]
    assert len(at.metric) == 4  # the valid rows are still computed


def test_impossible_layers_are_flagged_and_the_page_continues():
    at = _open("lenet5")
    _edit(at, {0: {"f": 40}})  # a 40x40 kernel on a 32x32 input (fw blank = f)
    _no_failure(at)
    messages = [e.value for e in at.error]
    assert any(
        "Layer 1 (CONV1) cannot exist: kernel larger than padded input: 40 > 32" in m
        for m in messages
    )
    # bypassed: POOL1 now pools the 32x32x3 input
    table = at.table[0].value
    assert list(table["Output"])[1] == "—"
    assert list(table["Output"])[2] == "16\u202f×\u202f16\u202f×\u202f3"


def test_tiny_input_flags_every_conv():
    at = _open("lenet5")
    at.number_input(key="arith_h").set_value(3)
    at.number_input(key="arith_w").set_value(3)
    at.run()
    _no_failure(at)
    # 3x3: CONV1 (5x5) cannot exist; POOL1 gives 1x1; then CONV2 and POOL2 cannot either
    impossible = [e.value.split(" cannot exist")[0] for e in at.error]
    assert impossible == ["Layer 1 (CONV1)", "Layer 3 (CONV2)", "Layer 4 (POOL2)"]
    fc3 = (1 * 1 * 3 + 1) * 120  # FC3 sees the 1x1x3 output of POOL1
    assert _metrics(at)["Parameters"] == f"{fc3 + 10164 + 850:,}"


def test_cost_comparisons_show_the_notes_examples_and_react():
    at = _open()
    text = " ".join(m.value for m in at.markdown)
    assert "`672 / 2,160 = 0.311 = 14/45 = 1/5 + 1/3^2`" in text
    assert "`2,408,448 + 10,035,200 = 12,443,648`" not in text  # totals are written plainly
    assert "**12,443,648**" in text and "**120,422,400**" in text
    assert "`3072 * 102400 = 314,572,800`" in text
    assert "**314,675,200**" in text and "**2,800**" in text
    # the notes' slips in these examples: not boxes that stay on every preset (LeNet-5 here);
    # the MobileNet example's folded beside it, the 3x32x32 example's with its own preset
    warnings = " ".join(w.value for w in at.warning)
    assert "1/f^3" not in warnings and "1000" not in warnings
    assert "1/f^3" in text
    at.number_input(key="arith_sep_cout").set_value(10).run()
    _no_failure(at)
    text = " ".join(m.value for m in at.markdown)
    assert "= 1/10 + 1/3^2" in text
    assert "1/f^3" not in text  # not the notes' example now


@pytest.mark.parametrize("key", list(PRESETS))
def test_corrections_only_for_the_preset_they_correct(key):
    at = _open(key)
    _no_failure(at)
    boxes = _corrections(at)
    assert len(boxes) == (1 if PRESETS[key].seed_notes else 0), boxes
    for note in PRESETS[key].seed_notes:
        assert note.split(":")[0][:30].replace("*", "\\*") in boxes[0]


# --------------------------------------------------------------------------------------------
# An edited network is in the link
# --------------------------------------------------------------------------------------------


def test_an_edited_network_is_in_the_link_and_a_link_restores_it():
    at = _open("lenet5")
    assert "net" not in at.query_params
    at = _edit(at, edited_rows={0: {"units": 8}})
    _no_failure(at)
    net = at.query_params["net"]
    assert at.query_params["preset"] == "lenet5"
    assert net.startswith("32x32x3,conv.f5.u8.nCONV1,")
    params = _metrics(at)["Parameters"]
    assert params != EXPECTED["lenet5"][0]
    # the link, opened in a new session: the edited network, its totals, "edited from"
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["preset"] = "lenet5"
    again.query_params["net"] = net
    again.switch_page(PAGE)
    again.run()
    _no_failure(again)
    assert _metrics(again)["Parameters"] == params
    assert any("Edited from the preset LeNet-5" in c.value for c in again.caption)
    assert again.query_params["net"] == net
    # back to the preset: the edit leaves the link
    again.button_group(key="arith_pick").set_value("mnist").run()
    again.button_group(key="arith_pick").set_value("lenet5").run()
    assert "net" not in again.query_params
    assert _metrics(again)["Parameters"] == EXPECTED["lenet5"][0]


def test_an_edited_input_size_is_in_the_link():
    at = _open("ex_48x48")
    at.number_input(key="arith_h").set_value(20).run()
    _no_failure(at)
    assert at.query_params["net"] == "20x50x10,conv.f3.u25"


def test_a_bad_network_in_the_link_falls_back_to_the_preset_with_a_notice():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = "mnist"
    at.query_params["net"] = "28x28x1,conv.f5.u10,warp.f9"
    at.switch_page(PAGE)
    at.run()
    _no_failure(at)
    assert any("could not be read" in w.value and "warp" in w.value for w in at.warning)
    assert _metrics(at)["Parameters"] == EXPECTED["mnist"][0]
    assert "net" not in at.query_params


# --------------------------------------------------------------------------------------------
# Caches: a rerun rebuilds no figure; every key holds what its figure is made of
# --------------------------------------------------------------------------------------------


def test_a_rerun_that_changes_nothing_sends_the_same_figures():
    at = _open("alexnet")
    first = [(c.proto.spec, c.proto.id) for c in at.get("plotly_chart")]
    assert len(first) == 4  # the network, then the three cost comparisons
    at.run()
    _no_failure(at)
    assert [(c.proto.spec, c.proto.id) for c in at.get("plotly_chart")] == first


def test_the_network_figure_is_cached_on_the_network():
    import plotly.io as pio

    from conv.network import Network
    from ui import arithmetic_view as view
    from viz.network import network_figure

    net = PRESETS["lenet5"].network
    fig = view.network_chart(net)
    same = Network(net.input, tuple(net.layers))  # an equal network, built again
    assert view.network_chart(same) is fig
    assert view.analysis_of(same) is view.analysis_of(net)
    assert pio.to_json(fig, validate=False) == pio.to_json(network_figure(analyze(net)),
                                                           validate=False)
    wider = Network((net.input[0], net.input[1] + 4, net.input[2]), net.layers)
    assert view.network_chart(wider) is not fig
    fewer = Network(net.input, net.layers[:-1])
    assert view.network_chart(fewer) is not fig


def test_a_comparison_figure_is_keyed_on_every_argument():
    from conv.comparisons import bottleneck_cost, dense_vs_conv
    from ui import arithmetic_view as view

    dense, fig = view.comparison_chart(dense_vs_conv, 32, 32, 3, 16, f=3)
    assert view.comparison_chart(dense_vs_conv, 32, 32, 3, 16, f=3)[1] is fig
    assert dense == dense_vs_conv(32, 32, 3, 16, f=3)
    assert view.comparison_chart(dense_vs_conv, 32, 32, 3, 16, f=5)[1] is not fig
    assert view.comparison_chart(dense_vs_conv, 32, 32, 3, 8, f=3)[1] is not fig
    # another comparison with the same numbers is another figure
    other = view.comparison_chart(bottleneck_cost, 32, 32, 3, 16, 16, 3)
    assert other[1] is not fig


@pytest.mark.parametrize("key", list(PRESETS))
def test_network_text_reads_back_every_preset(key):
    from conv.network_io import layer_to_row
    from ui import arithmetic_view as view

    net = PRESETS[key].network
    rows = [layer_to_row(layer) for layer in net.layers]
    text = view.network_text(net.input, rows)
    assert view.parse_network(text) == (net.input, view.plain_rows(rows))


def test_network_text_keeps_odd_names_and_cells():
    from ui import arithmetic_view as view

    rows = [{"type": "conv", "name": "a.b,c+d %", "f": 3, "fw": 5, "p": 2, "s": 2, "d": 2,
             "units": 7, "bias": False},
            {"type": "avgpool", "name": None, "f": 2, "fw": None, "p": None, "s": 1, "d": None,
             "units": None, "bias": None},
            {"type": "flatten"}, {"type": "softmax", "units": None}]
    text = view.network_text((9, 9, 2), rows)
    (shape, back) = view.parse_network(text)
    assert shape == (9, 9, 2)
    assert back[0] == {"type": "conv", "name": "a.b,c+d %", "f": 3, "fw": 5, "p": 2, "s": 2,
                       "d": 2, "units": 7, "bias": False}
    assert back[1]["s"] == 1 and back[2]["type"] == "flatten" and back[3]["units"] is None
    for bad in ("", "9x9", "9x9x0,conv.f3.u1", "9x9x1,conv.f3", "9x9x1,conv.q3.u1"):
        with pytest.raises(ValueError):
            view.parse_network(bad)
