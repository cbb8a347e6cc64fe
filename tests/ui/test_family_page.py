"""The "Convolution family" page driven by AppTest: every mode, links that restore a mode, its
settings and step, garbage in a link, impossible settings; never an exception on the page.

AppTest identifies a page by its file name until the app has run once, and this page's
``url_path`` ("family") differs from its file name: run, then switch, then run.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conv import ops
from viz import animation

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "ui/pages/family.py"


def _open(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page(PAGE)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Convolution family"


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _title(fig: dict) -> str:
    return fig["layout"]["annotations"][0]["text"]


def _link(at: AppTest) -> str:
    return at.code[-1].value if at.code else ""


@pytest.fixture(scope="module")
def page() -> AppTest:
    return _open()


def test_opens_on_conv_arithmetics_transposed_example(page):
    _ok(page)
    assert not page.error
    ss = page.session_state
    assert (ss["fam.mode"], ss["fam.n"], ss["fam.k"], ss["fam.s"], ss["fam.p"]) == \
        ("transposed", 3, 3, 2, 1)
    stamps, zeros = _figures(page)
    assert len(stamps["frames"]) == 9  # one stamp per input cell
    assert len(zeros["frames"]) == 25  # one window per output cell of 5 x 5
    assert _title(stamps).startswith("Stamp 1 of 9")
    assert _title(zeros).startswith("Step 1 of 25")
    notes = " ".join(m.value for m in page.markdown)
    assert "(3 - 1)*2 - 2*1 + 1*(3 - 1) + 0 + 1 = 5" in notes


def test_a_rerun_that_changes_nothing_sends_the_same_figures(page):
    first = [c.proto for c in page.get("plotly_chart")]
    page.run()
    again = [c.proto for c in page.get("plotly_chart")]
    assert [(c.spec, c.id) for c in again] == [(c.spec, c.id) for c in first]


def test_the_brief_link_restores_transposed_with_output_padding():
    at = _open(mode="transposed", n="3", k="3", s="2", p="1", op="1", step="4", step2="7")
    _ok(at)
    assert not at.error
    stamps, zeros = _figures(at)
    assert len(zeros["frames"]) == 36  # 6 x 6
    assert _title(stamps).startswith("Stamp 4 of 9")
    assert _title(zeros).startswith("Step 7 of 36")
    link = _link(at)
    for part in ("op=1", "step=4", "step2=7"):
        assert part in link
    # the defaults of the mode are left out of the link
    assert "n=3" not in link and "mode=" not in link


@pytest.mark.parametrize("mode,charts,frames", [
    ("1d", 1, [12]), ("groups", 2, [None, 16]), ("im2col", 1, [9]), ("backprop", 1, [16])])
def test_every_mode_from_a_link(mode, charts, frames):
    at = _open(mode=mode)
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    figs = _figures(at)
    assert len(figs) == charts
    for fig, n in zip(figs, frames):
        if n is not None:
            assert len(fig["frames"]) == n
    assert f"mode={mode}" in _link(at)


def test_mode_selector_switches_and_takes_the_modes_own_sizes(page):
    page.button_group(key="fam.mode").set_value("im2col").run()
    _ok(page)
    ss = page.session_state
    assert (ss["fam.n"], ss["fam.k"], ss["fam.s"], ss["fam.p"]) == (5, 3, 1, 0)
    fig = _figures(page)[0]
    assert len(fig["frames"]) == 9
    assert "PATCH MATRIX (9 x 9)" in " ".join(a["text"] for a in fig["layout"]["annotations"])
    page.button_group(key="fam.mode").set_value("transposed").run()
    assert page.session_state["fam.s"] == 2


def test_1d_causal_link_with_typed_values():
    at = _open(mode="1d", sig="typed", x="0 0 1 3 2 0", kern="typed", w="1 2 1", pad="causal",
               step="3")
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    fig = _figures(at)[0]
    assert len(fig["frames"]) == 6
    eq = fig["layout"]["annotations"][1]["text"]
    out = ops.conv1d(np.array([[0, 0, 1, 3, 2, 0]], np.float32),
                     np.array([[[1, 2, 1]]], np.float32), padding="causal")[0]
    assert eq.endswith(f"= {animation.fmt(out[2])}")
    assert eq.startswith("y[2] = x[0]·w[0] + x[1]·w[1] + x[2]·w[2]")
    assert "before only (the past)" in " ".join(m.value for m in at.markdown)


def test_backprop_views_and_typed_gradient():
    at = _open(mode="backprop", gt="1 -1; 2 0", bview="dw")
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    fig = _figures(at)[0]
    assert len(fig["frames"]) == 9
    assert "Σ_ij dL/dy" in " ".join(a["text"] for a in fig["layout"]["annotations"])
    at.segmented_control(key="fam.bview").set_value("forward").run()
    _ok(at)
    assert len(_figures(at)[0]["frames"]) == 4  # the forward pass: 2 x 2 outputs
    # a typed gradient of the wrong shape: a message, not an exception
    at = _open(mode="backprop", gt="1 2 3")
    _ok(at)
    assert any("dL/dy must have the output's shape 2 x 2" in e.value for e in at.error)


def test_groups_costs_and_depthwise_then_pointwise():
    at = _open(mode="groups", cin="4", cout="4", g="4")
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    text = " ".join(m.value for m in at.markdown)
    assert "depthwise" in text and "1/C_out + 1/k² = 1/4 + 1/9" in text
    figs = _figures(at)
    assert len(figs) == 3  # the diagram, the depthwise layer, the pointwise layer
    at = _open(mode="groups", cin="8", cout="16", g="8", hw="112")
    _ok(at)
    assert len(_figures(at)) == 1  # too many channels to step through: the diagram only
    assert any("at most 4" in i.value for i in at.info)


@pytest.mark.parametrize("query,message", [
    ({"mode": "banana"}, "`mode`"),
    ({"mode": "transposed", "n": "abc"}, "`n`"),
    ({"mode": "transposed", "s": "9"}, "outside 1..4"),
    ({"mode": "transposed", "s": "99"}, "`s` (stride) was ignored"),
    ({"mode": "im2col", "n": "40"}, "outside 2..7"),
    ({"mode": "1d", "x": "1 2 zz", "sig": "typed"}, "`x`"),
    ({"mode": "groups", "cin": "5"}, "`cin`"),
    ({"mode": "transposed", "nonsense": "1"}, "does not know"),
])
def test_garbage_in_a_link_gives_a_notice(query, message):
    at = _open(**query)
    _ok(at)
    assert any(message in w.value for w in at.warning), [w.value for w in at.warning]


@pytest.mark.parametrize("query,message", [
    ({"mode": "transposed", "n": "2", "k": "1", "p": "3"}, "padding 3 is too large"),
    ({"mode": "transposed", "op": "2", "s": "2"}, "output_padding must be smaller"),
    ({"mode": "transposed", "n": "6", "k": "5", "s": "4"}, "at most 20"),
    ({"mode": "1d", "pad": "valid", "sig": "typed", "x": "1 2"}, "larger than the padded"),
    ({"mode": "im2col", "n": "2", "k": "4"}, "larger than the padded input"),
    ({"mode": "backprop", "n": "2", "k": "3", "p": "0"}, "larger than the padded input"),
])
def test_impossible_settings_give_a_clear_message(query, message):
    at = _open(**query)
    _ok(at)
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


@pytest.mark.parametrize("mode,changes", [
    ("transposed", {"fam.n": 4, "fam.s": 3, "fam.p": 0, "fam.op": 2}),
    ("1d", {"fam.n": 9, "fam.d": 2}),
    ("im2col", {"fam.n": 4, "fam.p": 1, "fam.s": 2}),
    ("backprop", {"fam.n": 5, "fam.s": 2, "fam.p": 1}),
])
def test_link_round_trip(mode, changes):
    """Settings changed with the controls -> the page's link -> a new session opening it shows
    the same figures."""
    from urllib.parse import parse_qsl, urlsplit

    at = _open(mode=mode)
    for key, value in changes.items():
        at.number_input(key=key).set_value(value)
    at.run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    query = dict(parse_qsl(urlsplit(_link(at)).query))
    again = _open(**query)
    _ok(again)
    for key, value in changes.items():
        assert again.session_state[key] == value
    assert [f["layout"]["annotations"] for f in _figures(again)] == \
        [f["layout"]["annotations"] for f in _figures(at)]


def test_depthwise_with_a_channel_multiplier_then_pointwise():
    at = _open(mode="groups", cin="2", cout="4", g="2")
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    assert len(_figures(at)) == 3


def test_huge_typed_numbers_are_refused():
    at = _open(mode="transposed", x="1e30 1; 1 1")
    _ok(at)
    assert any("must lie between" in e.value for e in at.error)


@pytest.mark.parametrize("query,button", [
    ({"mode": "transposed"}, "fam.gif.stamps"), ({"mode": "1d"}, "fam.gif.signal"),
    ({"mode": "groups"}, "fam.gif.grouped"), ({"mode": "backprop", "bview": "dw"}, "fam.gif.dw")])
def test_gif_for_slides(query, button):
    at = _open(**query)
    at.button(key=button).click().run()
    _ok(at)
    assert at.get("download_button")


def test_checkerboard_kernel_3_is_uneven_and_kernel_4_even():
    """On a flat image a 3 x 3 box at stride 2 leaves a pattern of period 2; a 4 x 4 box none
    (away from the border)."""
    from ui import family_view as fv

    flat = np.full((1, 12, 12), 100, np.float32)
    for k, p, op, uneven in ((3, 1, 1, True), (4, 1, 0, False)):
        up = ops.conv_transpose2d(flat, fv.box_kernel(k, 2)[None, None], stride=2, padding=p,
                                  output_padding=op)[0][2:-2, 2:-2]
        phases = [float(up[r::2, c::2].mean()) for r in (0, 1) for c in (0, 1)]
        assert (len(set(np.round(phases, 3))) > 1) == uneven
        assert np.mean(phases) == pytest.approx(100, rel=0.01)  # the boxes keep the mean
    demo = fv.checkerboard("camera")
    assert demo["shape3"] == demo["shape4"] == (2 * demo["n"], 2 * demo["n"])
    assert demo[3][:2] == demo[4][:2] == b"\xff\xd8"  # JPEG bytes for st.image
