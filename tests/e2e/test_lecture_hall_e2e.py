"""The lecture hall and the small screen, in a real browser: every page's main figure and the
controls that drive it inside the window at 1280x720 (a projector) and 1920x1080, classroom mode
included; the presenter keys step the animation; a link made after stepping restores the step;
``/filter-lab`` is the filter lab; on a 390-pixel phone nothing overlaps. Screenshots of every
page at the three sizes go to ``tests/e2e/artifacts/`` (``lecture_<page>_<size>.png``).

Every wait is for a condition, never for time.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.harness import screenshot, wait_for_app

pytestmark = pytest.mark.browser

SIZES = {"1280x720": (1280, 720), "1920x1080": (1920, 1080), "390x844": (390, 844)}
DESKTOP = ["1280x720", "1920x1080"]


@pytest.fixture()
def sized(browser, request):
    """A page at the viewport ``request.param`` ("1280x720", ...)."""
    w, h = SIZES[request.param]
    phone = w < 600
    context = browser.new_context(viewport={"width": w, "height": h}, accept_downloads=True,
                                  device_scale_factor=1, is_mobile=phone, has_touch=phone)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.console_log = []
    pg.on("console", lambda m: pg.console_log.append(f"{m.type}: {m.text}"))
    pg.on("pageerror", lambda e: pg.console_log.append(f"page error: {e}"))
    pg.size_name = request.param
    yield pg
    context.close()


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def _box(page, locator) -> dict:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not laid out"
    return box


def _in_view(page, locator, what: str) -> None:
    """``locator``'s box lies inside the window (scrolled to the top: no scrolling needed)."""
    vw, vh = page.viewport_size["width"], page.viewport_size["height"]
    b = _box(page, locator)
    assert b["x"] >= -1 and b["y"] >= -1, (what, b)
    assert b["x"] + b["width"] <= vw + 1 and b["y"] + b["height"] <= vh + 1, (what, b, vw, vh)


def _overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] - 1 and b["x"] < a["x"] + a["width"] - 1
            and a["y"] < b["y"] + b["height"] - 1 and b["y"] < a["y"] + a["height"] - 1)


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page is {overflow} px wider than the window"


# ---- the sliding window -------------------------------------------------------------------

SETTLED = """() => {
  const k = document.querySelector('.conv-keys');
  const g = document.querySelector('.st-key-sw-figure .js-plotly-plot');
  const app = document.querySelector('[data-testid="stApp"]');
  const state = app && app.getAttribute('data-test-script-state');
  return !!(k && g && g._fullLayout && k.__config && k.__config.sent
            && k.__config.sent === k.__fitSent && state === 'notRunning');
}"""

STATE = """() => {
  const g = document.querySelector('.st-key-sw-figure .js-plotly-plot');
  return {active: g._fullLayout.sliders[0].active, title: g._fullLayout.annotations[0].text,
          path: g._fullLayout.shapes[0].path};
}"""


def _open_window(page, base: str, query: str) -> None:
    page.goto(f"{base}/sliding-window?{query}")
    wait_for_app(page)
    page.wait_for_selector(".st-key-sw-figure .js-plotly-plot .annotation-text")
    # the figure is laid out for the room the browser measured (one rerun after the first)
    page.wait_for_function(SETTLED)
    wait_for_app(page)
    _no_exception(page)


def _wait_active(page, k: int) -> None:
    page.wait_for_function(f"""() => {{
      const g = document.querySelector('.st-key-sw-figure .js-plotly-plot');
      return !!(g && g._fullLayout && g._fullLayout.sliders[0].active === {k});
    }}""")


def _edge_window(k: int) -> str:
    """The window of step ``k`` of the notes' 6x6 edge example (4x4 output, 3x3 kernel): its
    outline on the input, as the figure's first shape draws it."""
    r, c = divmod(k, 4)
    return f"M{c},{r}H{c + 3}V{r + 3}H{c}Z"


def _buttons(page) -> list[dict]:
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        '.st-key-sw-figure g.updatemenu-button')).map(b => {
          const r = b.getBoundingClientRect();
          return {label: b.textContent.trim(), x: r.x, y: r.y, width: r.width, height: r.height};
        })""")


@pytest.mark.parametrize("sized", DESKTOP, indirect=True)
@pytest.mark.parametrize("classroom", [False, True])
def test_sliding_window_fits_with_its_buttons(sized, app_url, classroom):
    page = sized
    _open_window(page, app_url, "ex=edge_6x6" + ("&classroom=1" if classroom else ""))
    figure = page.locator(".st-key-sw-figure .js-plotly-plot .main-svg").first
    _in_view(page, figure, "the figure")
    for b in _buttons(page):
        assert b["y"] + b["height"] <= page.viewport_size["height"], b
        assert b["x"] + b["width"] <= page.viewport_size["width"], b
    slider = page.locator(".st-key-sw-figure .slider-container").first
    _in_view(page, slider, "the slider")
    # the title and the classroom switch share a row without overlapping, the switch's label
    # whole (it was cut to "Classroo...")
    title = _box(page, page.locator(".st-key-page-head h1").first)
    switch = page.locator(".st-key-page-head [data-testid='stWidgetLabel']").first
    assert not _overlap(title, _box(page, switch))
    assert switch.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    # "Step 1 of 16" and the output-size line do not overlap
    texts = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.st-key-sw-figure .infolayer .annotation')).map(a => {
          const r = a.getBoundingClientRect();
          return {text: a.textContent, x: r.x, y: r.y, width: r.width, height: r.height};
        })""")
    step = next(t for t in texts if t["text"].startswith("Step 1 of 16"))
    formula = next(t for t in texts if t["text"].startswith("Output size"))
    assert not _overlap(step, formula), (step, formula)
    # the panels use the width they are given: the figure spans most of the main column
    column = _box(page, page.locator(".st-key-sw-figure").first)
    used = page.evaluate("() => document.querySelector('.st-key-sw-figure .js-plotly-plot')"
                         ".layout.meta.width_px")
    fig_h = _box(page, figure)["height"]
    assert used >= 0.75 * column["width"] or fig_h >= 0.45 * page.viewport_size["height"]
    assert page.get_by_text(re.compile(r"^Keys: ← → step")).count() == 1
    _no_sideways_scroll(page)
    screenshot(page, f"lecture_sliding_window{'_classroom' if classroom else ''}_"
                     f"{page.size_name}")


@pytest.mark.parametrize("sized", ["1280x720"], indirect=True)
def test_presenter_keys_step_play_and_jump(sized, app_url):
    page = sized
    _open_window(page, app_url, "ex=edge_6x6&classroom=1")
    assert page.evaluate(STATE)["active"] == 0
    for k, key in enumerate(("ArrowRight", "ArrowRight", "PageDown"), start=1):
        page.keyboard.press(key)
        _wait_active(page, k)
        state = page.evaluate(STATE)
        assert state["title"].startswith(f"Step {k + 1} of 16")
        assert state["path"].startswith(_edge_window(k))
    page.keyboard.press("PageUp")
    _wait_active(page, 2)
    page.keyboard.press("ArrowLeft")
    _wait_active(page, 1)
    page.keyboard.press("End")
    _wait_active(page, 15)
    assert page.evaluate(STATE)["path"].startswith(_edge_window(15))
    page.keyboard.press("Home")
    _wait_active(page, 0)
    # Space plays (the scrubber advances in the browser), Space again pauses
    page.keyboard.press(" ")
    page.wait_for_function("""() => document.querySelector('.st-key-sw-figure .js-plotly-plot')
        ._fullLayout.sliders[0].active >= 2""")
    page.keyboard.press(" ")
    page.wait_for_function("""() => !document.querySelector('.st-key-sw-figure .js-plotly-plot')
        .__convPlaying""")
    held = page.evaluate(STATE)
    # the position it paused at reaches the link (reported once the animation rests)
    page.wait_for_url(re.compile(rf"step={held['active'] + 1}(&|$)"))
    assert page.evaluate(STATE) == held
    # a clicker's "." plays too; keys typed into a text field are left alone
    page.keyboard.press(".")
    page.wait_for_function(f"""() => document.querySelector('.st-key-sw-figure .js-plotly-plot')
        ._fullLayout.sliders[0].active > {held['active']}""")
    page.keyboard.press(".")
    page.wait_for_function("""() => !document.querySelector('.st-key-sw-figure .js-plotly-plot')
        .__convPlaying""")
    _no_exception(page)


@pytest.mark.parametrize("sized", ["1920x1080"], indirect=True)
def test_a_link_made_after_three_steps_restores_step_three(sized, app_url, browser):
    page = sized
    _open_window(page, app_url, "ex=edge_6x6")
    for k in (1, 2, 3):
        page.locator(".st-key-sw-figure g.updatemenu-button", has_text="Step").first.click()
        _wait_active(page, k)
    page.wait_for_url(re.compile(r"step=4(&|$)"))
    wait_for_app(page)
    # the link popover says the same
    page.get_by_text("Link to this exact configuration").click()
    code = page.locator(".st-key-sw-link code").first
    code.wait_for()
    assert "step=4" in code.inner_text()
    link = page.url
    other = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        fresh = other.new_page()
        fresh.set_default_timeout(60_000)
        _open_window(fresh, app_url, link.split("?", 1)[1])
        state = fresh.evaluate(STATE)
        assert state["active"] == 3 and state["title"].startswith("Step 4 of 16")
        assert state["path"].startswith(_edge_window(3))
    finally:
        other.close()


@pytest.mark.parametrize("sized", ["390x844"], indirect=True)
def test_on_a_phone_the_playback_buttons_do_not_overlap(sized, app_url):
    page = sized
    _open_window(page, app_url, "ex=edge_6x6")
    buttons = _buttons(page)
    assert len(buttons) == 8
    for i, a in enumerate(buttons):
        assert a["x"] >= 0 and a["x"] + a["width"] <= page.viewport_size["width"] + 1, a
        for b in buttons[i + 1:]:
            assert not _overlap(a, b), (a, b)
    title = _box(page, page.locator(".st-key-page-head h1").first)
    switch = _box(page, page.locator(".st-key-page-head [data-testid='stWidgetLabel']").first)
    assert not _overlap(title, switch)
    _no_sideways_scroll(page)
    screenshot(page, "lecture_sliding_window_390x844")


# ---- every page's own address ---------------------------------------------------------------

def test_filter_lab_has_its_own_address_and_the_root_leads_there(page, app_url):
    page.goto(f"{app_url}/filter-lab?s=2")
    wait_for_app(page)
    page.get_by_role("heading", name="Filter lab").wait_for()
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator('[role="dialog"]').count() == 0
    assert "/filter-lab" in page.url and "s=2" in page.url
    page.goto(app_url + "/?s=3")
    wait_for_app(page)
    page.get_by_role("heading", name="Filter lab").wait_for()
    page.wait_for_url(re.compile(r"/filter-lab\?.*s=3"))
    assert page.get_by_text("Page not found").count() == 0
    # students see no developer toolbar
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
    _no_exception(page)


# ---- the other pages ------------------------------------------------------------------------

@pytest.mark.parametrize("sized", DESKTOP, indirect=True)
def test_learn_a_kernel_shows_train_with_its_curve(sized, app_url):
    page = sized
    page.goto(app_url + "/learn-kernel")
    wait_for_app(page)
    train = page.locator(".st-key-learn_train button")
    train.wait_for()
    _in_view(page, train, "Train")
    train.click()
    page.get_by_text(re.compile(r"Finished 300 steps")).wait_for(timeout=120_000)
    wait_for_app(page)
    _no_exception(page)
    page.evaluate("() => window.scrollTo(0, 0)")
    _in_view(page, train, "Train")
    curve = page.locator(".st-key-learn-run .js-plotly-plot").first
    curve.wait_for()
    box = _box(page, curve)
    # the curve starts on the screen beside Train, most of it visible
    assert box["y"] + 0.6 * box["height"] <= page.viewport_size["height"], box
    _no_sideways_scroll(page)
    screenshot(page, f"lecture_learn_kernel_{page.size_name}")


@pytest.mark.parametrize("sized", DESKTOP, indirect=True)
def test_arithmetic_shows_the_presets_with_the_table(sized, app_url):
    page = sized
    page.goto(app_url + "/arithmetic?preset=lenet5")
    wait_for_app(page)
    page.locator('[data-testid="stTable"]').first.wait_for()
    _in_view(page, page.locator(".st-key-arith_pick").first, "the presets")
    head = page.locator('[data-testid="stTable"] thead').first
    _in_view(page, head, "the table's head")
    first_rows = page.locator('[data-testid="stTable"] tbody tr').nth(2)
    _in_view(page, first_rows, "the table's first rows")
    _no_sideways_scroll(page)
    screenshot(page, f"lecture_arithmetic_{page.size_name}")


@pytest.mark.parametrize("sized", DESKTOP, indirect=True)
def test_inside_a_cnn_still_fits(sized, app_url):
    page = sized
    page.goto(app_url + "/inside-cnn")
    wait_for_app(page)
    canvas = page.locator(".st-key-inside-canvas canvas").first
    canvas.wait_for()
    _in_view(page, canvas, "the canvas")
    _in_view(page, page.locator(".conv-pred").first, "the prediction")
    _in_view(page, page.locator(".st-key-inside-picker").first, "the test digits")
    _no_sideways_scroll(page)
    screenshot(page, f"lecture_inside_cnn_{page.size_name}")


@pytest.mark.parametrize("sized", list(SIZES), indirect=True)
@pytest.mark.parametrize("path", ["filter-lab", "sliding-window", "learn-kernel", "inside-cnn",
                                  "arithmetic"])
def test_screenshots_of_every_page(sized, app_url, path):
    page = sized
    page.goto(f"{app_url}/{path}")
    wait_for_app(page)
    page.locator("h1").first.wait_for()
    if path == "sliding-window":
        page.wait_for_function(SETTLED)
    wait_for_app(page)
    _no_exception(page)
    _no_sideways_scroll(page)
    # the title and the classroom switch never overlap
    if page.locator(".st-key-page-head").count():
        title = _box(page, page.locator(".st-key-page-head h1").first)
        switch = page.locator(".st-key-page-head [data-testid='stWidgetLabel']").first
        assert not _overlap(title, _box(page, switch))
    screenshot(page, f"lecture_page_{path}_{page.size_name}")
