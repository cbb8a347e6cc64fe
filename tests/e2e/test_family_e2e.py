"""The "Convolution family" page in a real browser: stepping a transposed convolution (both
views) and a 1-D causal convolution in the browser, the numbers shown checked against the
engine; a click on an output cell jumps there; the presenter keys step an animation and the
link keeps the position; in the dark theme the figures are dark; the figures laid out for the
room the browser measured, nothing clipped, the step lines and the Step and Play buttons on the
screen at 1280x720 (classroom mode and not), 1920x1080 and on a phone; screenshots of every mode
at 1280x720 and 1920x1080 (tests/e2e/artifacts/family_*.png). Every wait is for a condition."""

import itertools
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
    """The page at ``query``, its figures laid out for the room the browser measured."""
    page.goto(f"{app_url}/family?{query}")
    wait_for_app(page)
    page.wait_for_function(
        f"() => document.querySelectorAll('.js-plotly-plot .annotation-text').length > 0 && "
        f"document.querySelectorAll('.js-plotly-plot').length >= {plots}")
    _settled(page)
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


# the figures are laid out for the room the browser measured: the keys' component has sent the
# size it measured, and the server's figures say that size back (ui/keys.js)
SETTLED = """() => {
  const r = document.querySelector('.conv-keys');
  return !!(r && r.__config && r.__config.sent && r.__config.sent === r.__fitSent);
}"""


def _settled(pg) -> None:
    """Wait until the figures are laid out for the room measured and the app is idle."""
    wait_for_app(pg)
    pg.wait_for_function(SETTLED)
    wait_for_app(pg)
    pg.wait_for_function(SETTLED)


def _to_top(pg, selector: str) -> None:
    """Scroll ``selector``'s top just under Streamlit's header (64 px), and wait until it is."""
    pg.locator(selector).first.evaluate(
        "e => { e.style.scrollMarginTop = '64px'; e.scrollIntoView({block: 'start'}); }")
    pg.wait_for_function(f"() => Math.abs(document.querySelector({selector!r})"
                         ".getBoundingClientRect().top - 64) < 2 || "
                         "document.scrollingElement.scrollTop + innerHeight >= "
                         "document.scrollingElement.scrollHeight - 2")


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
        _open(pg, app_url, query, plots)  # laid out for the room measured
        screenshot(pg, f"family_{mode}_{size[0]}x{size[1]}")
        _to_top(pg, ".js-plotly-plot")
        screenshot(pg, f"family_{mode}_{size[0]}x{size[1]}_figure")
    finally:
        context.close()


# Each figure of the page, in its keyed container: the step line (annotation 0), every text
# drawn (its box), the Step and Play buttons, the drawing (its SVG), the container (its column)
BOXES = """(sel) => [...document.querySelectorAll(sel)].map((box) => {
  const rect = (e) => { const r = e.getBoundingClientRect();
                        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const gd = box.querySelector('.js-plotly-plot');
  const texts = [...gd.querySelectorAll('g.annotation')]
    .filter((a) => a.getBoundingClientRect().width > 0)
    .map((a) => ({index: a.getAttribute('data-index'), text: a.textContent, ...rect(a)}));
  const buttons = [...gd.querySelectorAll('g.updatemenu-button')]
    .map((b) => ({label: b.textContent.trim(), ...rect(b)}));
  const button = (label) => buttons.find((b) => b.label === label);
  return {name: box.className, column: rect(box), svg: rect(gd.querySelector('.main-svg')),
          title: texts.find((t) => t.index === '0'), texts, buttons,
          step: button('Step \u25b6'), play: button('\u25b6 Play'),
          laidOut: gd._fullLayout.meta.width_px};
})"""


def _inside(inner: dict, outer: dict, slack: float = 1.0) -> bool:
    return (inner["left"] >= outer["left"] - slack and inner["right"] <= outer["right"] + slack
            and inner["top"] >= outer["top"] - slack
            and inner["bottom"] <= outer["bottom"] + slack)


@pytest.mark.parametrize("size,classroom", [((1280, 720), True), ((1280, 720), False),
                                            ((1920, 1080), True), ((1920, 1080), False),
                                            ((390, 844), False)])
def test_transposed_figures_fit_the_screen(browser, app_url, size, classroom):
    """Issue 14: both figures of the transposed mode laid out for their own column, as the
    browser measured it: nothing clipped (every text inside its figure's drawing, the drawing
    no wider than its column, laid out no wider than it); each figure's step line and its Step
    and Play buttons inside its column and on the screen together (at 1280x720 in classroom
    mode without scrolling; else once the figure is scrolled to the top), no button running into
    another. Screenshots to look at: family_fit_<size>[_classroom].png."""
    w, h = size
    context = browser.new_context(viewport={"width": w, "height": h})
    pg = context.new_page()
    pg.set_default_timeout(90_000)
    name = f"family_fit_{w}x{h}" + ("_classroom" if classroom else "")
    try:
        _open(pg, app_url, "mode=transposed" + ("&classroom=1" if classroom else ""), 2)
        sent = pg.evaluate("() => document.querySelector('.conv-keys').__config.sent")
        screenshot(pg, name)
        figures = ".st-key-fam-figure-stamps, .st-key-fam-figure-zeros"
        view = {"left": 0, "right": w, "top": 0, "bottom": h}
        for k in range(2):
            box = pg.evaluate(BOXES, figures)[k]
            if not (_inside(box["title"], view) and _inside(box["play"], view)):
                assert not (classroom and size == (1280, 720)), (
                    f"{box['name']}: its title and buttons should be on the screen as it opens")
                _to_top(pg, f".st-key-fam-figure-{('stamps', 'zeros')[k]}")
                box = pg.evaluate(BOXES, figures)[k]
            column, svg = box["column"], box["svg"]
            assert svg["right"] - svg["left"] <= column["right"] - column["left"] + 1, box["name"]
            assert box["laidOut"] <= column["right"] - column["left"], (box["name"], sent)
            for t in box["texts"]:
                assert _inside(t, svg), (box["name"], t["text"], t, svg)
            # the buttons: none running into the next in its row (the Play buttons beside the
            # step buttons when there is room, else under them)
            row = sorted(box["buttons"], key=lambda b: (round(b["top"]), b["left"]))
            for a, b in itertools.pairwise(row):
                if round(a["top"]) == round(b["top"]):
                    assert a["right"] <= b["left"] + 1, (box["name"], a, b)
            for part in ("title", "step", "play"):
                assert _inside(box[part], column), (box["name"], part, box[part], column)
                assert _inside(box[part], view), (box["name"], part, box[part], view)
        if classroom:
            assert pg.locator('[data-testid="stSidebar"]').get_attribute(
                "data-collapsed") == "true"
        _to_top(pg, ".st-key-fam-figure-stamps")
        screenshot(pg, f"{name}_figure")
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
