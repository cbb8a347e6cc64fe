"""The "Convolution family" page in a real browser: stepping a transposed convolution (both
views) and a 1-D causal convolution in the browser, the numbers shown checked against the
engine; a click on an output cell jumps there; the presenter keys step an animation and the
link keeps the position; in the dark theme the figures are dark; screenshots of every mode at
1280x720 and 1920x1080 (tests/e2e/artifacts/family_*.png). Every wait is for a condition."""

import re

import numpy as np
import pytest

from tests.e2e.harness import screenshot, wait_for_app
from ui import family_view as fv
from viz import animation
from viz import family as vf
from viz.animation.steps import paren

pytestmark = pytest.mark.browser

PLOT = "document.querySelectorAll('.js-plotly-plot')[{i}]"


def _open(page, app_url: str, query: str, plots: int = 1) -> None:
    page.goto(f"{app_url}/family?{query}")
    wait_for_app(page)
    page.wait_for_function(
        f"() => document.querySelectorAll('.js-plotly-plot .annotation-text').length > 0 && "
        f"document.querySelectorAll('.js-plotly-plot').length >= {plots}")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def _button(page, i: int, label: str) -> None:
    page.locator(".js-plotly-plot").nth(i).locator("g.updatemenu-button",
                                                   has_text=label).first.click()


def _wait_active(page, i: int, k: int) -> None:
    page.wait_for_function(f"""() => {{
      const g = {PLOT.format(i=i)};
      return !!(g && g._fullLayout && g._fullLayout.sliders[0].active === {k});
    }}""")


def _texts(page, i: int) -> list[str]:
    return page.evaluate(f"() => {PLOT.format(i=i)}._fullLayout.annotations.map(a => a.text)")


def test_step_a_transposed_convolution_both_ways(page, app_url):
    _open(page, app_url, "mode=transposed", plots=2)
    cfg = fv.transposed_config(3, 3, 2, 1, 0, 1, 1)
    out = cfg.output()
    layer = cfg.geometry()
    stamps = vf.transposed_stamps(fv.array(cfg.x), fv.array(cfg.w), layer, out)
    x, w = np.asarray(cfg.x), np.asarray(cfg.w)
    assert _texts(page, 0)[0].startswith("Stamp 1 of 9")

    # stamps: Step moves one input cell; its equation is x times the kernel added
    _button(page, 0, "Step")
    _wait_active(page, 0, 1)
    texts = _texts(page, 0)
    assert texts[0] == f"Stamp 2 of 9 · input row 1, col 2: x = {animation.fmt(x[0, 1])}"
    first_row = texts[1].split("<br>")[0]
    assert f"{animation.TIMES}[{' '.join(animation.fmt(v) for v in w[0])}]" in first_row
    # Last: the canvas holds the engine's conv_transpose2d output inside the cut padding
    _button(page, 0, "Last")
    _wait_active(page, 0, 8)
    texts = _texts(page, 0)
    ch, cw = stamps.steps[-1].canvas.shape
    assert texts[2].replace("<br>", " ") == f"{paren(animation.fmt(x[2, 2]))} × KERNEL"
    canvas = texts[3 + w.size:3 + w.size + ch * cw]
    top, left = layer.axes[0].before, layer.axes[1].before
    ho, wo = layer.out_shape
    shown = np.array([[float(canvas[(r + top) * cw + c + left]) for c in range(wo)]
                      for r in range(ho)])
    np.testing.assert_allclose(shown, out, atol=1e-6)

    # zero insertion: step to the 7th output cell; its sum is the engine's value there
    for k in range(1, 7):
        _button(page, 1, "Step")
        _wait_active(page, 1, k)
    texts = _texts(page, 1)
    assert texts[0] == "Step 7 of 25 · row 2, col 2"
    assert texts[1].endswith(f"= {animation.fmt(out[1, 1])}")
    assert texts[1].count(animation.TIMES) == w.size
    screenshot(page, "family_transposed_stepped_1920x1080")
    # the checkerboard: computed when opened
    page.locator(".st-key-fam-checker summary").click()
    page.wait_for_selector(".st-key-fam-checker img")
    assert page.locator(".st-key-fam-checker img").count() == 3
    page.locator(".st-key-fam-checker").scroll_into_view_if_needed()
    screenshot(page, "family_checkerboard_1920x1080")


def test_step_a_causal_1d_convolution(page, app_url):
    _open(page, app_url, "mode=1d&sig=sine&pad=causal")
    cfg = fv.signal_config("sine", 12, "smooth", "causal", 0, 1, 1, 1)
    out = cfg.output()
    x = np.asarray(cfg.x)
    for k in range(1, 4):
        _button(page, 0, "Step")
        _wait_active(page, 0, k)
    texts = _texts(page, 0)
    assert texts[0] == "Step 4 of 12 · y[3]"
    symbolic, numeric = texts[1].split("<br>")
    assert symbolic.startswith("y[3] = x[1]·w[0] + x[2]·w[1] + x[3]·w[2]")
    products = " + ".join(f"{paren(animation.fmt(v))}{animation.TIMES}"
                          f"{animation.fmt(c)}" for v, c in zip(x[1:4], (0.25, 0.5, 0.25)))
    assert numeric.strip() == f"= {products} = {animation.fmt(out[3])}"
    # the causal padding: two cells before the signal, none after (the time axis says so)
    assert "-2" in texts and "-1" in texts
    # a click on output sample 8 jumps there
    xy = page.evaluate(f"""() => {{
      const g = {PLOT.format(i=0)};
      const t = g._fullData.find(d => d.name === 'output cells');
      const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
      const r = g.querySelector('.main-svg').getBoundingClientRect();
      return [r.left + xa._offset + xa.d2p(t.x[8]), r.top + ya._offset + ya.d2p(t.y[8])];
    }}""")
    page.mouse.move(*xy)
    page.mouse.click(*xy)
    _wait_active(page, 0, 8)
    wait_for_app(page)
    assert _texts(page, 0)[1].endswith(f"= {animation.fmt(out[8])}")
    assert "step=9" in page.url
    screenshot(page, "family_1d_causal_clicked_1920x1080")


QUERIES = {
    "transposed": ("mode=transposed&step=5&step2=8", 2),
    "1d": ("mode=1d&sig=sine&step=6", 1),
    "groups": ("mode=groups&cin=4&cout=4&g=2", 2),
    "im2col": ("mode=im2col&step=5", 1),
    "backprop": ("mode=backprop&step=6", 1),
}


@pytest.mark.parametrize("mode", QUERIES)
@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_screenshots_of_every_mode(browser, app_url, mode, size):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        query, plots = QUERIES[mode]
        _open(pg, app_url, query, plots)
        pg.wait_for_timeout(400)  # let the figures settle before the picture
        screenshot(pg, f"family_{mode}_{size[0]}x{size[1]}")
        pg.locator(".js-plotly-plot").first.evaluate("e => e.scrollIntoView({block: 'start'})")
        pg.wait_for_timeout(300)
        screenshot(pg, f"family_{mode}_{size[0]}x{size[1]}_figure")
    finally:
        context.close()


def test_classroom_transposed_at_1920(browser, app_url):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        _open(pg, app_url, "mode=transposed&classroom=1&step=5&step2=8", 2)
        assert pg.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "true"
        pg.locator(".js-plotly-plot").first.evaluate("e => e.scrollIntoView({block: 'start'})")
        pg.wait_for_timeout(300)
        screenshot(pg, "family_transposed_classroom_1920x1080")
    finally:
        context.close()


def test_presenter_keys_step_an_animation_and_the_link_keeps_it(page, app_url, browser):
    _open(page, app_url, "mode=transposed", plots=2)
    assert page.get_by_text(re.compile(r"^Keys: ← → step")).count() == 1
    stamps = ".st-key-fam-figure-stamps .js-plotly-plot"
    page.locator(stamps).scroll_into_view_if_needed()
    for k in (1, 2, 3):
        page.keyboard.press("ArrowRight")
        _wait_active(page, 0, k)
    assert _texts(page, 0)[0].startswith("Stamp 4 of 9")
    # the position the browser settled on reaches the link (reported once the animation rests)
    page.wait_for_function("() => /[?&]step=4(&|$)/.test(location.search)")
    wait_for_app(page)
    assert _texts(page, 0)[0].startswith("Stamp 4 of 9")  # not drawn again from step 1
    # the other animation, once touched, takes the keys: End, then ← (its own step2)
    page.locator(".st-key-fam-figure-zeros .js-plotly-plot").dispatch_event("pointerdown")
    page.keyboard.press("End")
    _wait_active(page, 1, 24)
    page.keyboard.press("ArrowLeft")
    _wait_active(page, 1, 23)
    assert _texts(page, 1)[0] == "Step 24 of 25 · row 5, col 4"
    page.wait_for_function("() => /[?&]step2=24(&|$)/.test(location.search)")
    wait_for_app(page)
    assert page.evaluate(f"() => {PLOT.format(i=0)}._fullLayout.sliders[0].active") == 3
    # the link restores both positions in a new session
    link = page.url
    assert "step=4" in link
    other = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        fresh = other.new_page()
        fresh.set_default_timeout(60_000)
        _open(fresh, app_url, link.split("?", 1)[1], plots=2)
        _wait_active(fresh, 0, 3)
        _wait_active(fresh, 1, 23)
        assert _texts(fresh, 0)[0].startswith("Stamp 4 of 9")
    finally:
        other.close()


# the luminance (0..1) of each figure's background, null for one not drawn yet
LUMINANCES = """() => [...document.querySelectorAll('.js-plotly-plot')].map((gd) => {
    if (!gd._fullLayout) return null;
    const probe = document.createElement("span");
    probe.style.color = gd._fullLayout.paper_bgcolor;
    document.body.appendChild(probe);
    const rgb = getComputedStyle(probe).color.match(/[\\d.]+/g).map(Number);
    probe.remove();
    return (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255;
})"""


@pytest.mark.parametrize("query,plots,name", [
    ("mode=transposed&step=5&step2=8", 2, "transposed"),
    ("mode=groups&cin=4&cout=4&g=4&embed_options=dark_theme", 3, "groups")])
def test_in_the_dark_theme_the_figures_are_dark(browser, app_url, query, plots, name):
    """The browser's dark preference (or the link's ``embed_options=dark_theme``): every
    figure's background dark, its step line light; a screenshot at 1280x720 to look at."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, color_scheme="dark")
    pg = context.new_page()
    pg.set_default_timeout(90_000)
    try:
        _open(pg, app_url, query, plots)
        # the page may rerun once when the browser's theme reaches the server (ui/display.js)
        pg.wait_for_function(f"() => {{ const ls = ({LUMINANCES})();"
                             f" return ls.length >= {plots} && ls.every((l) => l !== null && l < 0.2); }}")
        wait_for_app(pg)
        step_line = pg.evaluate(f"() => {PLOT.format(i=plots - 1)}._fullLayout.annotations[0]"
                                ".font.color")
        assert step_line.upper() in ("#FAFAFA", "#FFFFFF"), step_line
        # the figure's top under Streamlit's header (64 px), not behind it
        pg.locator(".js-plotly-plot").nth(plots - 1).evaluate(
            "e => { e.style.scrollMarginTop = '64px'; e.scrollIntoView({block: 'start'}); }")
        wait_for_app(pg)
        screenshot(pg, f"family_{name}_dark_1280x720")
    finally:
        context.close()
