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


# --------------------------------------------------------------------------------------------
# The sliding window's machinery: presenter keys, positions reported by the browser, the
# theme, classroom mode
# --------------------------------------------------------------------------------------------

def _keys(at: AppTest) -> dict:
    """The data of the presenter keys' component on the page."""
    comp = [b for b in at.get("bidi_component") if b.proto.component_name == "conv_keys"]
    assert len(comp) == 1
    data = json.loads(comp[0].proto.json)  # the component's data: the JSON text it reads
    return json.loads(data) if isinstance(data, str) else data


def _specs(at: AppTest) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]


def _value(v):
    return v[-1] if isinstance(v, list) else v


@pytest.mark.parametrize("query,names", [
    ({"mode": "transposed"}, ["stamps", "zeros"]),
    ({"mode": "transposed", "view": "zeros"}, ["zeros"]),
    ({"mode": "1d"}, ["signal"]),
    ({"mode": "groups"}, ["grouped"]),
    ({"mode": "groups", "cin": "4", "cout": "4", "g": "4"}, ["grouped", "pointwise"]),
    ({"mode": "im2col"}, ["im2col"]),
    ({"mode": "backprop"}, ["dx"]),
    ({"mode": "backprop", "bview": "dw"}, ["dw"]),
    ({"mode": "backprop", "bview": "forward"}, ["forward"]),
])
def test_presenter_keys_drive_every_animation_of_every_mode(query, names):
    from ui import keys

    at = _open(**query)
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    data = _keys(at)
    assert data["hint"] == keys.HINT
    assert [t["name"] for t in data["targets"]] == names
    for t in data["targets"]:
        # the sliding window's buttons, found in the figure's keyed container; frames reported
        assert t["selector"] == f".st-key-fam-figure-{t['name']}"
        assert t["buttons"] == dict(keys.STEP_BUTTONS) and t["report"]
    # the figures' own buttons are the ones the keys press
    labels = {b["label"] for fig in _figures(at) for menu in fig["layout"].get("updatemenus", [])
              for b in menu["buttons"]}
    assert set(keys.STEP_BUTTONS.values()) <= labels


@pytest.mark.parametrize("query,step_key,param,chart", [
    ({"mode": "transposed"}, "fam.step", "step", 0),
    ({"mode": "transposed"}, "fam.step2", "step2", 1),
    ({"mode": "1d"}, "fam.step", "step", 0),
    ({"mode": "groups", "cin": "4", "cout": "4", "g": "4"}, "fam.step2", "step2", 2),
    ({"mode": "im2col"}, "fam.step", "step", 0),
    ({"mode": "backprop"}, "fam.step", "step", 0),
    ({"mode": "backprop", "bview": "forward"}, "fam.step", "step", 0),
])
def test_a_position_reached_in_the_browser_is_kept_in_the_link(query, step_key, param, chart):
    """What the keys' callback does (``keys.browser_step``) when the browser settles on frame
    3: the link says step 3, the figures are not sent again (the browser shows frame 3
    already); a new session opening that link draws the animation at frame 3."""
    at = _open(**query)
    _ok(at)
    before = _specs(at)
    assert json.loads(before[chart])["layout"]["sliders"][0]["active"] == 0
    at.session_state[step_key] = 2
    at.session_state[f"{step_key}@browser"] = 2
    at.run()
    _ok(at)
    assert _specs(at) == before
    assert f"{param}=3" in _link(at)
    assert _value(at.query_params[param]) == "3"
    again = _open(**{**query, param: "3"})
    _ok(again)
    fig = _figures(again)[chart]
    assert fig["layout"]["sliders"][0]["active"] == 2
    assert " 3 of " in _title(fig)
    # a click on an output cell (not reported by the browser) is drawn there
    at.session_state[step_key] = 1
    at.run()
    assert _figures(at)[chart]["layout"]["sliders"][0]["active"] == 1
    assert f"{param}=2" in _link(at)


def test_classroom_mode_from_the_link_round_trips():
    from urllib.parse import parse_qsl, urlsplit

    normal = _open(mode="1d", step="4")
    at = _open(mode="1d", step="4", classroom="1")
    _ok(at)
    assert at.session_state["classroom"] is True
    assert at.toggle(key="classroom.toggle").value is True
    assert _value(at.query_params["classroom"]) == "1"
    link = _link(at)
    assert "classroom=1" in link and "step=4" in link
    # larger type on a projector
    size = [_figures(a)[0]["layout"]["annotations"][0]["font"]["size"] for a in (normal, at)]
    assert size[1] > size[0]
    # the link made there opens the same in a new session
    again = _open(**dict(parse_qsl(urlsplit(link).query)))
    _ok(again)
    assert again.session_state["classroom"] is True
    assert _figures(again) == _figures(at)
    # the switch turns it off; the link follows, the position stays
    at.toggle(key="classroom.toggle").set_value(False).run()
    _ok(at)
    assert "classroom" not in at.query_params
    link = _link(at)
    assert "classroom" not in link and "step=4" in link
    assert _title(_figures(at)[0]).startswith("Step 4 of 12")
    # a flag that is not one: off, with a notice
    bad = _open(mode="1d", classroom="maybe")
    _ok(bad)
    assert bad.toggle(key="classroom.toggle").value is False
    assert any("`classroom`" in w.value for w in bad.warning)


@pytest.fixture()
def dark(monkeypatch):
    """The browser reports the dark theme (``st.context.theme.type``, read by ui/display.py)."""
    from ui import display

    monkeypatch.setattr(display, "theme", lambda: "dark")


@pytest.mark.parametrize("query", [
    {"mode": "transposed"}, {"mode": "1d"}, {"mode": "groups", "cin": "4", "cout": "4", "g": "4"},
    {"mode": "im2col"}, {"mode": "backprop", "bview": "dw"}, {"mode": "backprop", "p": "1"},
    {"mode": "backprop", "bview": "forward"}])
def test_the_dark_theme_reaches_every_figure(dark, query):
    from viz.style import DARK

    at = _open(**query)
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    figs = _figures(at)
    assert figs
    for fig in figs:
        layout = fig["layout"]
        assert layout["paper_bgcolor"] == layout["plot_bgcolor"] == DARK.paper
        assert layout["font"]["color"] == DARK.text
        if "sliders" in layout:  # an animation: its step line and its buttons
            assert layout["annotations"][0]["font"]["color"] == DARK.text
            assert layout["updatemenus"][0]["bgcolor"] == DARK.button


def test_high_contrast_from_the_link_thickens_and_enlarges(dark):
    from viz.style import DARK_HC

    plain, hc = _open(mode="im2col"), _open(mode="im2col", display="hc")
    _ok(hc)
    a, b = _figures(plain)[0]["layout"], _figures(hc)[0]["layout"]
    assert b["paper_bgcolor"] == DARK_HC.paper
    assert b["annotations"][0]["font"]["size"] > a["annotations"][0]["font"]["size"]
    assert b["shapes"][0]["line"]["width"] > a["shapes"][0]["line"]["width"]


def _contrast(a: str, b: str) -> float:
    def lum(c: str) -> float:
        rgb = [int(c.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _family_animations(style):
    from ui import family_view as fv

    t = fv.transposed_config(3, 3, 2, 1, 0, 1, 1)
    s = fv.signal_config("sine", 12, "smooth", "causal", 0, 1, 1, 1)
    m = fv.im2col_config(4, 3, 1, 1, 1, 1, 1)
    b = fv.backprop_config(4, 3, 2, 1, 1, 1)
    return {kind: fv._build(kind, cfg, fv.look(False, False, style), style)
            for kind, cfg in (("stamps", t), ("zeros", t), ("signal", s), ("im2col", m),
                              ("dx", b), ("dw", b))}


@pytest.mark.parametrize("name", ["light", "dark", "light-hc", "dark-hc"])
def test_every_family_figure_is_readable_in_every_style(name):
    """Text on the figure's background (labels, notes, the step line, the equation) stands
    out from it (4.5:1 at least); masks and zeros take the style's grey; the GIF for slides
    has the style's background."""
    import io

    from PIL import Image

    from viz import family as vf
    from viz.style import STYLES

    style = STYLES[name]
    for kind, anim in _family_animations(style).items():
        sc = anim.scene
        assert sc.style == style
        layout = anim.layout(0)
        assert layout["paper_bgcolor"] == style.paper
        cells = [g.box for g in sc.grids]
        for t in sc.static_texts + sc.dyn_texts:
            colour = t.get("font", {}).get("color")
            on_a_cell = any(b.x <= t["x"] <= b.right and b.y <= t["y"] <= b.bottom
                            for b in cells)
            if colour and not on_a_cell:
                assert _contrast(colour, style.paper) >= 4.5, (kind, t.get("text"), colour)
        for g in sc.grids:
            if g.name.endswith("zeros"):
                assert g.colorscale[0][1] == style.mask, (kind, g.name)
                assert g.font_color == vf.zero_colours(style)[1]
        masks = [s for s in sc.dyn_shapes if s.get("fillcolor", "").startswith("#")
                 and s.get("line", {}).get("width") == 0]
        assert all(s["fillcolor"] == style.mask for s in masks), kind
    gif = Image.open(io.BytesIO(anim.gif(max_frames=2))).convert("RGB")
    assert gif.getpixel((2, 2)) == style.rgb_paper
    fig = vf.groups_figure(4, 4, 2, style=style).to_dict()["layout"]
    assert fig["paper_bgcolor"] == style.paper
    assert _contrast(fig["xaxis"]["title"]["font"]["color"], style.paper) >= 4.5


def test_side_by_side_figures_put_their_play_buttons_under_the_steps():
    """Two figures side by side are narrow: the Play buttons get a row of their own (beside
    the step buttons they overlapped them at 1280 x 720)."""
    at = _open(mode="transposed")
    for fig in _figures(at):
        steps, plays = fig["layout"]["updatemenus"]
        assert plays["x"] == steps["x"] == 0 and plays["pad"]["t"] > steps["pad"]["t"]
    one = _figures(_open(mode="transposed", view="stamps"))[0]["layout"]["updatemenus"][1]
    assert one["xanchor"] == "right"  # a full-width figure keeps one row


# --------------------------------------------------------------------------------------------
# Figures laid out for the room the browser measured (issue 14: 1280 x 720, classroom mode)
# --------------------------------------------------------------------------------------------

def _width_px(fig: dict) -> int:
    """The width the figure was laid out for (its scene's, in px)."""
    return fig["layout"]["meta"]["width_px"]


def test_the_keys_measure_the_first_figure_and_a_measured_screen_lays_the_figures_out():
    """The keys' component measures the mode's first figure (its column, side by side); the
    room it reports (kept as the main column's, ``fam.room``, by its callback) lays every figure
    out for its own column: no wider than the column, the type smaller than a 1700-px
    projector's; the size sent back so the browser does not report it again."""
    at = _open(mode="transposed", classroom="1")
    _ok(at)
    data = _keys(at)
    assert data["fit"] == ".st-key-fam-figure-stamps" and data["sent"] is None
    before = _figures(at)
    assert max(_width_px(f) for f in before) > 536  # laid out for a 1920 x 1080 projector
    at.session_state["fam.room"] = (1092, 463)  # 1280 x 720: two columns of 536 px
    at.run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    assert _keys(at)["sent"] == "536x463"
    after = _figures(at)
    for old, new in zip(before, after):
        assert _width_px(new) <= 536
        assert new["layout"]["annotations"][0]["font"]["size"] < \
            old["layout"]["annotations"][0]["font"]["size"]
        # readable cells may need more than the room, never much more: the whole figure, its
        # title and its buttons, still fits a 720-px window once scrolled to
        assert new["layout"]["height"] <= 463 + 200
    assert _title(after[0]).startswith("Stamp 1 of 9")  # the same animation, laid out anew


def test_one_view_takes_the_whole_width_the_other_its_column():
    """Stamps alone: the figure measured is the stamps' (the whole column); the room kept is the
    main column's, so the side-by-side view gets half of it at once (no clipped first draw)."""
    from ui import family_view as fv

    at = _open(mode="transposed", view="stamps")
    at.session_state["fam.room"] = (820, 430)
    at.run()
    _ok(at)
    (fig,) = _figures(at)
    assert _keys(at)["sent"] == "820x430" and 536 < _width_px(fig) <= 820
    assert fv.screen_for((820, 430), True) == (400, 430)
    assert fv.room_of((400, 430), True) == (820, 430)  # a column measured: the page's room
    at.segmented_control(key="fam.view").set_value("both").run()
    _ok(at)
    assert _keys(at)["sent"] == "400x430"
    assert all(_width_px(f) <= 400 for f in _figures(at))


def test_figures_are_cached_per_screen():
    """The screen is part of every cache key: a rerun at the same screen sends the same figures
    (the animation playing in the browser is not reset), another screen other ones, and going
    back the first ones again, from the cache."""
    from ui import family_view as fv
    from viz.style import LIGHT

    at = _open(mode="transposed")
    at.session_state["fam.room"] = (820, 430)
    at.run()
    small = _specs(at)
    at.run()
    assert _specs(at) == small
    at.session_state["fam.room"] = (1750, 880)
    at.run()
    big = _specs(at)
    assert big != small
    at.session_state["fam.room"] = (820, 430)
    at.run()
    assert _specs(at) == small
    cfg = fv.transposed_config(3, 3, 2, 1, 0, 1, 1)
    one = fv.anim("zeros", cfg, False, True, LIGHT, (400, 430))
    assert fv.anim("zeros", cfg, False, True, LIGHT, (400, 430)) is one
    assert fv.anim("zeros", cfg, False, True, LIGHT, (865, 880)) is not one


def test_other_modes_are_laid_out_for_the_screen_too():
    at = _open(mode="groups", cin="4", cout="4", g="4")
    at.session_state["fam.room"] = (820, 430)
    at.run()
    _ok(at)
    data = _keys(at)
    assert data["fit"] == ".st-key-fam-figure-grouped" and data["sent"] == "820x430"
    for mode, bview in (("1d", None), ("im2col", None), ("backprop", "dw")):
        at = _open(mode=mode, **({"bview": bview} if bview else {}))
        at.session_state["fam.room"] = (820, 430)
        at.run()
        _ok(at)
        assert not at.error, [e.value for e in at.error]
        assert _keys(at)["sent"] == "820x430"
        assert all(_width_px(f) <= 820 for f in _figures(at) if "meta" in f["layout"])


# (classroom, half, screen): 1280 x 720 (a projector, a laptop with the sidebar), 1920 x 1080,
# a phone
SCREENS = [(True, True, (536, 463)), (True, False, (1092, 498)), (False, True, (400, 430)),
           (False, False, (820, 430)), (True, True, (845, 800)), (False, True, (720, 740)),
           (False, False, (366, 506))]


@pytest.mark.parametrize("classroom,half,screen", SCREENS)
def test_nothing_runs_out_of_a_figure_laid_out_for_a_screen(classroom, half, screen):
    """Every family animation laid out for a screen: no wider than it; its step line (at its
    longest) within the width and clear of the output-size formula beside it; the equation's
    lines within the width, the last one inside the figure (not cut off at its bottom); its
    cells' numbers readable, or
    as large as the width allows; its buttons in two rows where one would not fit."""
    from ui import family_view as fv

    t = fv.transposed_config(3, 3, 2, 1, 0, 1, 1)
    # typed, not square: the size formula is two ("rows: ...; columns: ..."), the longest
    odd = fv.transposed_config(3, 3, 2, 1, 0, 1, 1, x_text="1 2 3; 4 5 6",
                               w_text="1 0; 2 -1.5; 0 1")
    kinds = [("stamps", t), ("zeros", t), ("stamps", odd), ("zeros", odd)]
    if not half:
        kinds += [("signal", fv.signal_config("sine", 12, "smooth", "causal", 0, 1, 1, 1)),
                  ("im2col", fv.im2col_config(5, 3, 1, 0, 1, 1, 1)),
                  ("dx", fv.backprop_config(4, 3, 1, 0, 1, 1)),
                  ("dw", fv.backprop_config(4, 3, 1, 0, 1, 1))]
    for kind, cfg in kinds:
        anim = fv.anim(kind, cfg, classroom, half, screen=screen)
        sc, lk = anim.scene, anim.scene.look
        layout = anim.layout(0)
        width = layout["meta"]["width_px"]
        assert width <= screen[0], (kind, width)
        assert lk.width_px == screen[0] and not lk.eq_beside
        # the longest step line (bold Arial: ~0.43 em a character measured in Chromium; the
        # layout reckons 0.55)
        title = max((texts[0] for _, texts in sc.steps), key=len)
        title_px = len(title) * 0.5 * lk.title_font
        assert title_px <= screen[0] - 16, (kind, title, lk.title_font)
        formula = next(t for t in sc.static_texts if t.get("name") == "formula")
        longest = max(len(line) for line in formula["text"].split("<br>"))
        assert longest * 0.5 * formula["font"]["size"] <= screen[0] - 16, formula["text"]
        if formula["y"] < sc.y_range[0] + 0.5:  # on the step line's row, at its right
            formula_px = len(formula["text"]) * 0.5 * formula["font"]["size"]
            assert title_px + formula_px <= width, (kind, title, formula["text"])
        eq = sc.dyn_texts[1]
        lines = max(texts[1].count("<br>") + 1 for _, texts in sc.steps)
        longest = max(len(line) for _, texts in sc.steps for line in texts[1].split("<br>"))
        assert longest * 0.61 * eq["font"]["size"] <= screen[0], (kind, longest)  # monospace
        bottom = eq["y"] + lines * eq["font"]["size"] * 1.25 / sc.cell_px
        assert bottom <= sc.y_range[1] + 0.05, (kind, bottom, sc.y_range)
        assert sc.cell_px >= min(fv.readable_px(lk), 0.9 * width / (sc.x_range[1]
                                                                   - sc.x_range[0])), kind
        # the Play buttons beside the step buttons only where all eight fit in one row
        steps, plays = layout["updatemenus"]
        if plays["x"] > 0.5:
            assert fv.buttons_px(lk.button_font) <= screen[0] - 24, (kind, lk.button_font)
        else:
            assert plays["pad"]["t"] > steps["pad"]["t"]
