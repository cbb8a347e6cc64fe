"""Inside a CNN in a real browser: digits drawn on the real canvas with the mouse and with a
finger are read by LeNet-5, Undo and Clear work, a clicked cell is traced back, and the link
carries it all; the canvas and the prediction share the screen at 1280x720 and 1920x1080."""

import math
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.harness import screenshot, wait_for_app

pytestmark = pytest.mark.browser

PREDICTION = ".conv-pred-line"


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def _open(page, app_url, query: str = "") -> None:
    page.goto(app_url + "/inside-cnn" + query)
    wait_for_app(page)
    page.get_by_role("heading", name=re.compile("Inside a CNN")).wait_for()
    page.locator(PREDICTION).wait_for()


def _wait_prediction(page, pattern: str) -> str:
    """Wait until the prediction line matches ``pattern`` (a regular expression)."""
    page.wait_for_function(
        "([sel, pattern]) => { const e = document.querySelector(sel);"
        " return e && new RegExp(pattern).test(e.textContent); }",
        arg=[PREDICTION, pattern], timeout=60_000)
    return page.locator(PREDICTION).inner_text()


def _canvas_box(page):
    canvas = page.get_by_label("Draw a digit")
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()
    return canvas.bounding_box()


def _draw_with_mouse(page, points) -> None:
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y)
    page.mouse.up()


def _ring(box, n=40):
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    rx, ry = box["width"] * 0.2, box["height"] * 0.3
    return [(cx + rx * math.cos(2 * math.pi * k / n), cy + ry * math.sin(2 * math.pi * k / n))
            for k in range(n + 1)]


def _bar(box, n=20, x=0.45):
    top, bottom = box["y"] + box["height"] * 0.2, box["y"] + box["height"] * 0.8
    return [(box["x"] + box["width"] * x, top + (bottom - top) * k / n) for k in range(n + 1)]


def _query(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}


def test_a_ring_and_a_bar_drawn_with_the_mouse_are_read_as_0_and_1(page, app_url):
    page.set_viewport_size({"width": 1280, "height": 720})
    _open(page, app_url)
    _no_exception(page)
    assert _wait_prediction(page, r"^Prediction: 7 ").startswith("Prediction: 7")  # a test 7

    box = _canvas_box(page)
    _draw_with_mouse(page, _ring(box))
    text = _wait_prediction(page, r"^Prediction: 0 \(\d+\.\d%\)")
    assert "LeNet-5 reads your drawing" in page.locator(".conv-pred").inner_text()
    # the preprocessing strip: what the network sees
    assert page.locator(".conv-strip img").count() == 3
    # the canvas and the prediction are on the screen together, at 1280x720
    pred = page.locator(PREDICTION).bounding_box()
    assert box["y"] + box["height"] <= 720 and pred["y"] + pred["height"] <= 720
    screenshot(page, "inside_cnn_drawn_zero_1280x720")
    assert text.startswith("Prediction: 0")

    # the link carries the drawing
    page.wait_for_function("() => location.search.includes('src=drawn')")
    assert _query(page)["src"] == "drawn" and len(_query(page)["d"]) > 50

    # Undo removes the ring: a blank canvas asks for a digit
    page.get_by_role("button", name="↶ Undo").click()
    _wait_prediction(page, r"^Draw a digit")
    _draw_with_mouse(page, _bar(box))
    _wait_prediction(page, r"^Prediction: 1 ")
    # Clear, then a 0 again
    page.get_by_role("button", name="✕ Clear").click()
    _wait_prediction(page, r"^Draw a digit")
    _draw_with_mouse(page, _ring(box))
    _wait_prediction(page, r"^Prediction: 0 ")
    _no_exception(page)

    # another page and back: the canvas shows the drawing the page reads
    page.get_by_role("link", name="CNN arithmetic").click()
    wait_for_app(page)
    page.get_by_role("link", name="Inside a CNN").click()
    _wait_prediction(page, r"^Prediction: 0 ")
    page.wait_for_function("() => { const r = document.querySelector('.conv-canvas');"
                           " return r && r.__st && r.__st.strokes.length === 1; }")


def test_a_bar_drawn_with_a_finger_is_read_as_1(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        _open(page, app_url)
        box = _canvas_box(page)
        cdp = context.new_cdp_session(page)
        points = _bar(box, x=0.5)

        def touch(kind, point=None):
            pts = [] if point is None else [{"x": point[0], "y": point[1], "id": 1}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": pts})

        touch("touchStart", points[0])
        for p in points[1:]:
            touch("touchMove", p)
        touch("touchEnd")
        _wait_prediction(page, r"^Prediction: 1 ")
        _no_exception(page)
    finally:
        context.close()


def _click_cell(page, stage: str, map_index: int, row: int, col: int) -> None:
    """Click the middle of cell (row, col) of map ``map_index`` of ``stage``'s maps."""
    canvas = page.locator(f'.conv-net-stage[data-stage="{stage}"] canvas').nth(map_index)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    h, w = {"conv1": (28, 28), "pool1": (14, 14), "conv2": (10, 10), "pool2": (5, 5)}[stage]
    page.mouse.click(box["x"] + (col + 0.5) * box["width"] / w,
                     box["y"] + (row + 0.5) * box["height"] / h)


def test_a_clicked_cell_is_traced_back_and_kept_in_the_link(page, app_url):
    _open(page, app_url)
    _click_cell(page, "conv2", 4, 2, 6)
    heading = page.get_by_role("heading", name=re.compile(r"^CONV2 map 5, row 3, column 7 = "))
    heading.wait_for(timeout=60_000)
    page.wait_for_function("() => location.search.includes('cell=conv2')")
    assert _query(page)["cell"] == "conv2:5:3:7"
    # the receptive field, written with the formula's numbers
    trace = page.locator(".st-key-inside-trace")
    assert "[2, 6]" in trace.inner_text() and "[4, 17]" in trace.inner_text()
    # the multiply-adds: the six windows and kernel slices, their sums, the bias and ReLU
    page.locator(".st-key-inside-trace .conv-plot .main-svg").first.wait_for()
    assert "(bias)" in trace.inner_text() and "ReLU(" in trace.inner_text()
    heading.scroll_into_view_if_needed()
    screenshot(page, "inside_cnn_traced_conv2_1920x1080")

    # a POOL1 cell: its 2 x 2 window, through the sliding window's step display
    _click_cell(page, "pool1", 1, 3, 4)
    page.get_by_role("heading", name=re.compile(r"^POOL1 map 2, row 4, column 5 = ")).wait_for()
    assert _query(page)["cell"] == "pool1:2:4:5" or page.wait_for_function(
        "() => location.search.includes('cell=pool1')")
    _no_exception(page)

    # the link restores the cell in a new visit
    page.goto(app_url + "/inside-cnn?digit=3&cell=conv1:2:14:14")
    wait_for_app(page)
    page.get_by_role("heading", name=re.compile(r"^CONV1 map 2, row 14, column 14 = ")).wait_for()
    assert "the writer wrote 3" in page.locator(".conv-pred").inner_text()


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_the_canvas_and_the_prediction_fit_the_screen(page, app_url, width, height):
    page.set_viewport_size({"width": width, "height": height})
    _open(page, app_url, "?digit=2")
    _wait_prediction(page, r"^Prediction: ")
    canvas = _canvas_box(page)
    bars = page.locator(".conv-pred-bars").bounding_box()
    for box in (canvas, bars):
        assert box["y"] >= 0 and box["y"] + box["height"] <= height
    assert canvas["width"] >= 240  # big enough to draw on
    _no_exception(page)
    screenshot(page, f"inside_cnn_{width}x{height}")
