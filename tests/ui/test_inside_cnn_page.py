"""The "Inside a CNN" page (LeNet-5 on MNIST) driven by Streamlit's AppTest (no browser): its
controls, its link, the notes' table, the drawn digits' path and the traced cell."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from kernels import drawing, lenet

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "ui/pages/inside_cnn.py"


def _open(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(PAGE)
    return at.run()


@pytest.fixture(scope="module")
def page() -> AppTest:
    return _open()


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _component(at: AppTest, suffix: str):
    views = [e for e in at.get("bidi_component") if e.proto.id.endswith(suffix)]
    assert len(views) == 1, [e.proto.id for e in at.get("bidi_component")]
    return views[0].proto


def _prediction(at: AppTest) -> str:
    """The prediction, the bars and the strip as the browser receives them (html_view)."""
    return _component(at, "-inside-pred").bytes.decode()


def _maps(at: AppTest) -> dict:
    """The maps view's data (ui/netview.js)."""
    return json.loads(json.loads(_component(at, "-inside.maps").json))


def _canvas(at: AppTest) -> dict:
    return json.loads(_component(at, "-inside.canvas").json)


def test_opens_on_a_held_out_seven_with_its_prediction(page):
    _ok(page)
    assert page.title[0].value.startswith("Inside a CNN")
    html = _prediction(page)
    assert "Prediction: 7 (" in html and "right: the writer wrote 7" in html
    assert html.count('class="conv-pred-col') == 10  # ten bars, each with its percentage
    canvas = _canvas(page)
    assert canvas["label"] == "Draw a digit" and canvas["active"] is False
    assert dict(page.query_params) == {}  # the defaults make no link parameters


def test_the_notes_table_with_the_trained_networks_numbers(page):
    table = page.table[0].value
    assert list(table["Layer"]) == ["Input (the digit, padded)", "CONV1", "POOL1", "CONV2",
                                    "POOL2", "FC3", "FC4", "Softmax",
                                    "Total (without the input)"]
    assert list(table["Activation shape"])[:8] == [
        "(32, 32, 1)", "(28, 28, 6)", "(14, 14, 6)", "(10, 10, 16)", "(5, 5, 16)", "(120, 1)",
        "(84, 1)", "(10, 1)"]
    assert list(table["Activation size"]) == ["1,024", "4,704", "1,176", "1,600", "400", "120",
                                              "84", "10", "8,094"]
    assert list(table["# parameters"]) == ["0", "156", "0", "2,416", "0", "48,120", "10,164",
                                           "850", "61,706"]
    text = " ".join(m.value for m in page.markdown)
    assert "97.70%" in text and f"{lenet.load().accuracy:.2%}" in text
    assert "48210" in text and "4707" in text  # the notes' slips, named


def test_every_layer_is_in_the_maps_with_honest_scales(page):
    maps = _maps(page)
    keys = [s["key"] for s in maps["stages"]]
    assert keys == list(lenet.STAGE_KEYS)
    conv1 = maps["stages"][1]
    assert conv1["scale"] == "div" and conv1["end"] == pytest.approx(max(-conv1["lo"],
                                                                         conv1["hi"]))
    assert conv1["lo"] < 0 < conv1["hi"]  # signed: a diverging scale centred on 0
    pool1 = maps["stages"][2]
    assert pool1["scale"] == "seq" and pool1["lo"] >= 0
    assert maps["sel"] is None and maps["regions"] == []
    # the maps' bytes are the trace's values along the scale
    idx = int(np.flatnonzero(lenet.load_digits().labels[lenet.load().test_idx] == 7)[0])
    trace = lenet.forward(lenet.load(), lenet.load_digits().images[lenet.load().test_idx[idx]])
    import base64

    raw = np.frombuffer(base64.b64decode(conv1["data"]), np.uint8).reshape(6, 28, 28)
    expected = np.rint((trace.conv1 / conv1["end"] + 1) / 2 * 255)
    assert np.abs(raw.astype(int) - expected).max() <= 1


def test_picking_digits_examples_and_mistakes():
    at = _open()
    at.pills(key="inside.digit").set_value(3).run()
    _ok(at)
    assert "the writer wrote 3" in _prediction(at)
    assert at.query_params["digit"] == "3"
    at.button(key="inside_next").click().run()
    _ok(at)
    assert at.session_state["inside.ex"] == 1 and at.query_params["ex"] == "2"
    at.button(key="inside_wrong").click().run()
    _ok(at)
    assert "wrong: the writer wrote" in _prediction(at)


def test_a_link_restores_the_digit_the_example_and_the_traced_cell():
    at = _open({"digit": "4", "ex": "3", "cell": "conv2:5:3:7"})
    _ok(at)
    assert at.session_state["inside.digit"] == 4 and at.session_state["inside.ex"] == 2
    assert at.session_state["inside.sel"] == ("conv2", 4, 2, 6)
    assert "the writer wrote 4" in _prediction(at)
    maps = _maps(at)
    assert maps["sel"] == {"stage": "conv2", "c": 4, "i": 2, "j": 6}
    # the receptive field outlined: CONV2 row 2 reads POOL1 rows [2*1 - 0, 2*1 - 0 + 5 - 1]
    regions = {r["stage"]: r for r in maps["regions"]}
    assert (regions["pool1"]["r0"], regions["pool1"]["r1"]) == (2, 6)
    assert (regions["pool1"]["c0"], regions["pool1"]["c1"]) == (6, 10)
    assert (regions["conv1"]["r0"], regions["conv1"]["r1"]) == (4, 13)
    assert (regions["input"]["r0"], regions["input"]["r1"]) == (4, 17)
    assert (regions["input"]["c0"], regions["input"]["c1"]) == (12, 25)
    assert all(r["channels"] is None for r in maps["regions"])
    assert any(s.value.startswith("CONV2 map 5, row 3, column 7 = ") for s in at.subheader)
    assert at.text_input(key="inside.cell_text").value == "conv2:5:3:7"


def test_a_bad_link_is_explained_and_ignored():
    at = _open({"digit": "12", "cell": "conv9:1:1:1", "d": "@@@"})
    _ok(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "`digit`" in warnings and "`cell`" in warnings and "`d`" in warnings
    assert at.session_state["inside.digit"] == 7
    assert "inside.sel" not in at.session_state  # no cell selected


@pytest.mark.parametrize("cell, heading, words", [
    ("conv1:3:11:6", "CONV1 map 3, row 11, column 6 = ", "5 x 5 window at rows 10..14"),
    ("pool1:2:4:5", "POOL1 map 2, row 4, column 5 = ", "ReLU sets the negatives to 0"),
    ("conv2:5:3:7", "CONV2 map 5, row 3, column 7 = ", "POOL1 (all 6 maps)"),
    ("pool2:4:5:1", "POOL2 map 4, row 5, column 1 = ", "of CONV2 map 4"),
    ("fc3:18", "FC3 unit 18 = ", "400 inputs"),
    ("fc4:4", "FC4 unit 4 = ", "120 inputs"),
    ("out:8", "The output's score for the digit 7 = ", "Softmax"),
    ("input:1:11:11", "The input row 11, column 11 = ", "divided by 255"),
])
def test_tracing_a_cell_shows_where_it_comes_from_and_its_multiply_adds(page, cell, heading,
                                                                         words):
    page.text_input(key="inside.cell_text").set_value(cell).run()
    _ok(page)
    assert any(s.value.startswith(heading) for s in page.subheader), \
        [s.value for s in page.subheader]
    text = " ".join(m.value for m in page.markdown)
    assert words in text
    assert page.query_params["cell"] == cell
    if cell.startswith(("conv", "pool", "fc", "out")):
        # the multiply-adds figure (in place, through ui/plotly_view.py)
        assert _component(page, "-inside-trace-figure")
    if cell.startswith("conv2"):
        code = " ".join(c.value for c in page.code)
        assert "(bias)" in code and "ReLU(" in code


def test_a_traced_cells_value_is_the_maps(page):
    page.text_input(key="inside.cell_text").set_value("conv2:5:3:7").run()
    heading = next(s.value for s in page.subheader if s.value.startswith("CONV2"))
    w, d = lenet.load(), lenet.load_digits()
    index = int(w.test_idx[d.labels[w.test_idx] == 7][0])
    value = lenet.forward(w, d.images[index]).conv2[4, 2, 6]
    assert float(heading.split(" = ")[1]) == pytest.approx(float(value), abs=1e-4)


def test_a_mistyped_cell_is_explained(page):
    page.text_input(key="inside.cell_text").set_value("conv2:17:1:1").run()
    _ok(page)
    assert any("outside conv2" in w.value for w in page.warning)
    page.button(key="inside_clear_cell").click().run()
    _ok(page)
    assert page.session_state["inside.sel"] is None and "cell" not in page.query_params


def _strokes(kind: str) -> dict:
    """A canvas value as ui/canvas.js sends it, drawn by a program."""
    s = drawing.template_strokes({"bar": 1, "ring": 0}[kind], width=22)
    return {"size": 280, "width": 22, "n": 1,
            "strokes": [[round(float(v), 1) for v in p.ravel()] for p in s.paths]}


@pytest.mark.parametrize("kind, digit", [("bar", 1), ("ring", 0)])
def test_generated_strokes_are_read_through_the_canvas_path(kind, digit):
    from ui import learn_cnn as data

    pre = data.read_canvas(_strokes(kind))
    shown = data.drawn_digit(pre.image)
    assert shown.trace.prediction == digit
    assert shown.trace.probs[digit] > 0.9


def test_a_drawing_is_shown_with_its_preprocessing_and_travels_in_the_link():
    from ui import learn_cnn as data

    at = _open()
    pre = data.read_canvas(_strokes("ring"))
    at.session_state["inside.pre"] = pre
    at.session_state["inside.drawn"] = pre.image
    at.session_state["inside.source"] = "drawn"
    at.run()
    _ok(at)
    html = _prediction(at)
    assert "Prediction: 0 (" in html and "your drawing" in html
    assert "1. Your drawing" in html and "what the network sees" in html
    assert _canvas(at)["active"] is True
    assert at.query_params["src"] == "drawn"
    link_d = at.query_params["d"]
    np.testing.assert_array_equal(drawing.decode_image(link_d), pre.image)
    assert at.button(key="inside_next") is not None
    # a test digit again: the drawing stays for "Back to my drawing", the link drops it
    at.pills(key="inside.digit").set_value(2).run()
    assert "the writer wrote 2" in _prediction(at) and "d" not in at.query_params
    at.button(key="inside_mine").click().run()
    assert "your drawing" in _prediction(at)


def test_a_drawing_from_a_link_is_restored():
    img = drawing.preprocess(drawing.template_strokes(4)).image
    at = _open({"src": "drawn", "d": drawing.encode_image(img)})
    _ok(at)
    np.testing.assert_array_equal(at.session_state["inside.drawn"], img)
    html = _prediction(at)
    assert "Prediction: 4 (" in html and "The drawing from the link" in html
    assert _canvas(at)["clear"] == 1  # the canvas cannot show it: it is cleared


def test_an_empty_drawing_asks_for_one():
    at = _open()
    at.session_state["inside.drawn"] = np.zeros((28, 28), np.uint8)
    at.session_state["inside.source"] = "drawn"
    at.run()
    _ok(at)
    assert "Draw a digit" in _prediction(at) and "Prediction:" not in _prediction(at)


def test_a_test_digits_maps_are_built_once_and_shared():
    from ui import learn_cnn as data

    index = int(data.examples_of(5)[0])
    assert data.test_digit(index) is data.test_digit(index)
    assert data.explain_test(index, ("conv1", 0, 3, 3)) is data.explain_test(index,
                                                                             ("conv1", 0, 3, 3))
