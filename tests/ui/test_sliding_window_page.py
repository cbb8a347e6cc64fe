"""The sliding-window page driven by Streamlit's AppTest: every example, every control, links,
impossible layers; never an exception on the page.

AppTest identifies a page by its file name until the app has run once, and this page's
``url_path`` ("sliding-window") differs from its file name: run, then switch, then run.
"""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conv.examples import EXAMPLES
from viz import animation

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "ui/pages/sliding_window.py"


def _open(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page(PAGE)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Sliding window"


def _figure(at: AppTest, index: int = 0) -> dict:
    import json

    return json.loads(at.get("plotly_chart")[index].proto.spec)


def _step_title(at: AppTest, index: int = 0) -> str:
    return _figure(at, index)["layout"]["annotations"][0]["text"]


@pytest.fixture(scope="module")
def page() -> AppTest:
    return _open()


def test_opens_on_the_notes_edge_example(page):
    _ok(page)
    assert not page.error
    assert page.session_state["sw.source"] == "edge_6x6"
    fig = _figure(page)
    assert len(fig["frames"]) == 16
    assert _step_title(page).startswith("Step 1 of 16")
    assert "0 30 30 0" in page.button_group(key="sw.source").options[0]


@pytest.mark.parametrize("key", list(EXAMPLES))
def test_every_example_one_click(page, key):
    page.button_group(key="sw.source").set_value(key).run()
    _ok(page)
    assert not page.error, [e.value for e in page.error]
    ex = EXAMPLES[key]
    charts = page.get("plotly_chart")
    if ex.spec is None:  # pooling only: one animation, one frame per pooled cell
        assert len(charts) == 1
        assert len(_figure(page)["frames"]) == int(np.prod(ex.expected_shape))
        assert "max(1, 1, 5, 6) = 6" in _figure(page)["frames"][0]["layout"]["annotations"][1]["text"]
    else:
        assert len(_figure(page)["frames"]) == int(np.prod(ex.expected_shape))
    info = " ".join(i.value for i in page.info)
    assert ex.description[:40] in info
    if ex.slips:
        assert any("Where the notes slip" in c.value for c in page.caption)
    # the link restores it
    assert f"ex={key}" in page.code[-1].value or key == "edge_6x6"


def test_a_rerun_that_changes_nothing_sends_the_same_figure(page):
    page.button_group(key="sw.source").set_value("blur_5x5").run()
    first = page.get("plotly_chart")[0].proto
    page.run()
    again = page.get("plotly_chart")[0].proto
    # same spec, same element id: the browser keeps the chart and its animation playing
    assert (again.spec, again.id) == (first.spec, first.id)


def test_blur_example_shows_the_notes_equation(page):
    page.button_group(key="sw.source").set_value("blur_5x5").run()
    eq = _figure(page)["layout"]["annotations"][1]["text"]
    assert eq.startswith("  206×0.0625 + 205×0.125") and eq.endswith("= 177.75")
    assert page.session_state["sw.k.preset"] == "gaussian_3x3"


def test_volume_example_shows_partial_sums_and_bias(page):
    page.button_group(key="sw.source").set_value("volume_6x6x3").run()
    _ok(page)
    eq = _figure(page)["layout"]["annotations"][1]["text"].split("<br>")
    assert [line.split(":")[0] for line in eq[:4]] == ["red", "green", "blue", "sum"]
    assert eq[-1] == "-10 + 1 (bias) = -9"
    assert len(_figure(page)["frames"]) == 32


def test_stride_example_sets_padding_and_stride(page):
    page.button_group(key="sw.source").set_value("pad1_stride2").run()
    ss = page.session_state
    assert (ss["sw.pad"], ss["sw.ph"], ss["sw.pw"], ss["sw.stride"]) == ("custom", 1, 1, 2)
    fig = _figure(page)
    assert "(5 + 2*1 - 3) / 2 + 1 = 3" in " ".join(a["text"] for a in fig["layout"]["annotations"])


def test_every_layer_control(page):
    page.button_group(key="sw.source").set_value("blur_5x5").run()
    for key, values in (("sw.pad", ["same", "full", "custom", "valid"]),
                        ("sw.pm", ["reflect", "replicate", "circular", "zeros"]),
                        ("sw.act", ["relu", "leaky_relu", "sigmoid", "tanh", "abs", "identity"]),
                        ("sw.pool", ["max", "avg", "none"])):
        for v in values:
            page.sidebar.button_group(key=key).set_value(v).run()
            _ok(page)
            assert not page.error, (key, v, [e.value for e in page.error])
    page.sidebar.button_group(key="sw.pad").set_value("same").run()
    for key, v in (("sw.stride", 2), ("sw.dil", 2), ("sw.bias", -100.0), ("sw.stride", 1),
                   ("sw.dil", 1)):
        page.sidebar.number_input(key=key).set_value(v).run()
        _ok(page)
    eq = _figure(page)["layout"]["annotations"][1]["text"]
    assert "(bias)" in eq
    page.sidebar.checkbox(key="sw.flip").check().run()
    _ok(page)
    assert "rotated 180" in " ".join(a["text"] for a in _figure(page)["layout"]["annotations"])
    page.sidebar.checkbox(key="sw.flip").uncheck().run()
    page.sidebar.number_input(key="sw.bias").set_value(0.0).run()


def test_pooling_adds_a_second_animation(page):
    page.button_group(key="sw.source").set_value("edge_6x6").run()
    page.sidebar.button_group(key="sw.pool").set_value("max").run()
    _ok(page)
    charts = page.get("plotly_chart")
    assert len(charts) == 2
    pool = _figure(page, 1)
    assert len(pool["frames"]) == 4  # the 4x4 output pooled 2x2 -> 2x2
    assert pool["frames"][0]["layout"]["annotations"][1]["text"] == "max(0, 30, 0, 30) = 30"
    page.sidebar.button_group(key="sw.pool").set_value("none").run()


def test_kernel_picker_and_editor(page):
    page.button_group(key="sw.source").set_value("random").run()
    page.sidebar.selectbox(key="sw.k.preset").set_value("sobel_y").run()
    _ok(page)
    assert page.session_state["sw.k.preset"] == "sobel_y"
    page.sidebar.text_area(key="sw.k.text").set_value("1 2\n3 4").run()
    _ok(page)
    assert "Kernel 2x2" in " ".join(a["text"] for a in _figure(page)["layout"]["annotations"])
    assert "kt=" in page.code[-1].value
    page.sidebar.text_area(key="sw.k.text").set_value("1 2\n3 nope").run()
    _ok(page)
    assert page.sidebar.error  # the editor says what is wrong; the page keeps working
    page.sidebar.text_area(key="sw.k.text").set_value("1 0 -1\n1 0 -1\n1 0 -1").run()
    assert not page.error


def test_random_grid_controls(page):
    page.button_group(key="sw.source").set_value("random").run()
    page.sidebar.number_input(key="sw.rows").set_value(8).run()
    page.sidebar.number_input(key="sw.cols").set_value(5).run()
    page.sidebar.button_group(key="sw.vals").set_value("0-255").run()
    seed = page.session_state["sw.seed"]
    next(b for b in page.sidebar.button if b.label == "New numbers").click().run()
    _ok(page)
    assert page.session_state["sw.seed"] == seed + 1
    fig = _figure(page)
    assert fig["layout"]["annotations"][0]["text"].startswith("Step 1 of")
    assert "rows=8" in page.code[-1].value and "cols=5" in page.code[-1].value


def test_photo_patch_controls(page):
    page.button_group(key="sw.source").set_value("photo").run()
    _ok(page)
    page.sidebar.selectbox(key="sw.photo").set_value("chelsea").run()
    page.sidebar.slider(key="sw.cells").set_value(8).run()
    page.sidebar.slider(key="sw.region").set_value(40).run()
    page.sidebar.slider(key="sw.px").set_value(10).run()
    page.sidebar.slider(key="sw.py").set_value(90).run()
    _ok(page)
    assert not page.error
    assert any("square of chelsea" in c.value for c in page.caption)
    fig = _figure(page)
    inp = next(t for t in fig["data"] if t["name"] == "input 0")
    assert inp["text"][1][1].isdigit()  # whole pixel values in the cells


def test_photo_patch_of_the_filter_labs_photo():
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()  # the filter lab publishes its photo
    at.switch_page(PAGE)
    at.query_params["ex"] = "photo"
    at.run()
    _ok(at)
    assert at.session_state["sw.photo"] == "lab"
    assert any("the filter lab's photo" in c.value for c in at.caption)
    # the lab names its picture: no digest of its pixels is computed
    assert at.session_state["shared.lab_image"].key
    assert "sw.lab_digest" not in at.session_state
    # the thumbnail is encoded once: a rerun sends the same picture
    url = at.sidebar.get("image")[0].proto.imgs[0].url
    at.run()
    assert at.sidebar.get("image")[0].proto.imgs[0].url == url


def test_classroom_mode_from_the_link_and_the_toggle():
    at = _open(ex="blur_5x5", classroom="1")
    _ok(at)
    assert at.session_state["classroom"] is True
    fig = _figure(at)
    sizes = [t["textfont"]["size"] for t in fig["data"] if t["type"] == "heatmap"]
    assert min(sizes) >= 24
    assert fig["layout"]["annotations"][0]["font"]["size"] >= 36
    # every control on the page is a click: pills, buttons, a toggle (no hover-only help)
    assert at.button_group(key="sw.source").options[1] == "5x5 blur"
    assert "classroom=1" in at.code[-1].value
    assert at.query_params["classroom"] == ["1"] or at.query_params["classroom"] == "1"
    at.toggle(key="classroom.toggle").set_value(False).run()
    _ok(at)
    assert "classroom" not in at.code[-1].value
    assert "classroom" not in at.query_params
    # the position survives a switch of the mode (a new figure, drawn at the same step)
    at.session_state["sw.step"] = 3
    at.toggle(key="classroom.toggle").set_value(True).run()
    _ok(at)
    assert _step_title(at).startswith("Step 4 of")


def test_link_restores_example_step_and_settings():
    at = _open(ex="pad1_stride2", step="5", act="relu", b="-100")
    _ok(at)
    assert at.session_state["sw.step"] == 4
    assert (at.session_state["sw.stride"], at.session_state["sw.pad"]) == (2, "custom")
    fig = _figure(at)
    assert fig["layout"]["sliders"][0]["active"] == 4
    assert fig["layout"]["annotations"][0]["text"].startswith("Step 5 of 9")
    eq = fig["layout"]["annotations"][1]["text"]
    assert "(bias)" in eq and "ReLU(" in eq
    link = at.code[-1].value
    for part in ("ex=pad1_stride2", "step=5", "act=relu", "b=-100"):
        assert part in link


def test_bad_link_values_are_reported_not_raised():
    at = _open(ex="nonsense", s="zero", step="-3", classroom="maybe")
    _ok(at)
    text = " ".join(w.value for w in at.warning)
    assert "ex" in text and "was ignored" in text
    assert at.session_state["sw.source"] == "edge_6x6"


@pytest.mark.parametrize("query, message", [
    ({"ex": "random", "rows": "3", "cols": "3", "k": "gaussian", "ks": "7", "pad": "valid"},
     "larger than the padded input"),
    ({"ex": "pool_4x4", "pk": "5"}, "larger than the 4 x 4 input"),
    ({"ex": "pool_4x4", "pool": "none"}, "choose max or average pooling"),
    ({"ex": "random", "kt": "1/16*[1,2,1,2,1,2,1,2,1,2,1,2,1]"}, "shows kernels up to 11 x 11"),
])
def test_impossible_layers_show_an_error(query, message):
    at = _open(**query)
    _ok(at)
    errors = " ".join(e.value for e in at.error)
    assert message in errors, errors


def test_gif_export(page):
    page.button_group(key="sw.source").set_value("edge_6x6").run()
    next(b for b in page.button if b.key == "sw.gif").click().run()
    _ok(page)
    downloads = page.get("download_button")
    assert downloads and "Download the GIF" in downloads[0].proto.label


def test_click_handler_reads_the_point_index():
    """``clicked_step`` reads the selection Streamlit stores for the chart's key."""
    at = _open()
    from ui import window_view

    state = {"selection": {"points": [{"curve_number": 5, "point_index": 7, "x": 1, "y": 2}],
                           "point_indices": [7], "box": [], "lasso": []}}

    class FakeSession(dict):
        pass

    fake = FakeSession({"sw.chart": state})
    original = window_view.ss
    try:
        window_view.ss = fake
        assert window_view.clicked_step("sw.chart") == 7
        fake["sw.chart"] = {"selection": {"points": []}}
        assert window_view.clicked_step("sw.chart") is None
    finally:
        window_view.ss = original
    _ok(at)


def test_figure_is_the_cached_object_across_reruns(page):
    page.button_group(key="sw.source").set_value("edge_6x6").run()
    first = page.get("plotly_chart")[0].proto.spec
    page.run()
    assert page.get("plotly_chart")[0].proto.spec == first
    assert animation.MAX_GIF_FRAMES >= 16


@pytest.mark.parametrize(("key", "stride", "padding"), [("edge_6x6", False, False),
                                                        ("pad1_stride2", True, True)])
def test_the_legend_names_only_what_the_figure_draws(key, stride, padding):
    at = _open(ex=key)
    _ok(at)
    legend = next(c.value for c in at.caption if "click any output cell" in c.value)
    assert ("dashed blue" in legend) == stride  # the previous window: drawn only at stride > 1
    assert ("padding" in legend) == padding
    fig = _figure(at)
    dashed = [s for s in fig["frames"][1]["layout"]["shapes"]
              if s.get("line", {}).get("dash") == "dash"] if fig["frames"][1]["layout"].get(
                  "shapes") else []
    layout_dashed = [s for s in fig["layout"].get("shapes", [])
                     if s.get("line", {}).get("dash") == "dash"]
    assert bool(dashed or layout_dashed) == stride


def test_a_position_reached_in_the_browser_is_in_the_link_without_a_new_figure():
    """The keys' component reports the frame the browser settled on (Step x3, Play then
    Pause, a key): the link and the step's text follow, the figure is not sent again."""
    from ui import keys

    at = _open(ex="edge_6x6")
    _ok(at)
    before = _figure(at)
    assert before["layout"]["sliders"][0]["active"] == 0
    # what the report's callback does (ui/keys.browser_step), then its rerun
    at.session_state["sw.step"] = 3
    at.session_state["sw.step@browser"] = 3
    at.run()
    _ok(at)
    assert _figure(at) == before  # the browser shows step 4 already: nothing redrawn
    assert "step=4" in at.code[-1].value
    assert at.query_params["step"] in ("4", ["4"])
    assert any(m.value.startswith("**Step 4**") for m in at.markdown)
    # a click on an output cell (not reported by the browser): drawn there
    at.session_state["sw.step"] = 9
    at.run()
    assert _figure(at)["layout"]["sliders"][0]["active"] == 9
    assert "step=10" in at.code[-1].value
    # the keys' hint is on the page, with the sliding window's buttons
    assert keys.STEP_BUTTONS["next"] == "Step \u25b6"


def test_the_keys_name_the_animation_s_own_buttons():
    from conv.examples import EXAMPLES
    from conv.stages import run
    from ui import keys

    ex = EXAMPLES["edge_6x6"]
    anim = animation.conv_animation(run(ex.input_array, ex.spec), ex.spec)
    labels = {b["label"] for menu in anim.layout()["updatemenus"] for b in menu["buttons"]}
    assert set(keys.STEP_BUTTONS.values()) <= labels
    assert set(keys.PLAYING) == {label for label, _ in animation.SPEEDS}


def test_the_pooling_position_is_in_the_link_too():
    at = _open(ex="pool_4x4", pstep="3")
    _ok(at)
    assert _figure(at)["layout"]["sliders"][0]["active"] == 2
    assert "pstep=3" in at.code[-1].value
    at.session_state["sw.pstep"] = 1
    at.session_state["sw.pstep@browser"] = 1  # reported by the browser: not drawn again
    at.run()
    assert _figure(at)["layout"]["sliders"][0]["active"] == 2
    assert "pstep=2" in at.code[-1].value
