"""Figures follow the page's theme in a real browser: in the dark theme every page's figures
have dark backgrounds (and light ones in the light theme), the high-contrast link setting
holds across pages; screenshots of every page at 1280x720 and 1920x1080, light and dark, are
left in tests/e2e/artifacts/display/ for a person to look at.

The dark theme comes from the browser (``prefers-color-scheme: dark``, which Streamlit's
default "system" theme follows) or from ``?embed_options=dark_theme``. No timing assertions:
every wait is for a condition.
"""

import pytest

from tests.e2e.harness import ARTIFACTS, wait_for_app

pytestmark = pytest.mark.browser

# every page with a figure, the link that shows one, and where its figure is
PAGES = {
    "filter-lab": ("filter-lab", ".conv-plot"),
    "sliding-window": ("sliding-window?ex=blur_5x5", ".js-plotly-plot"),
    "sliding-window-32": ("sliding-window?ex=random&rows=32&cols=32&pad=same", ".js-plotly-plot"),
    "inside-cnn": ("inside-cnn?cell=conv2:5:3:7", ".conv-plot"),
    "arithmetic": ("arithmetic", ".js-plotly-plot"),
}

# the luminance (0..1) of the background of every figure matching a selector, or null for one
# not drawn yet
LUMINANCES = """(sel) => [...document.querySelectorAll(sel)].map((gd) => {
    if (!gd._fullLayout) return null;
    const probe = document.createElement("span");
    probe.style.color = gd._fullLayout.paper_bgcolor;
    document.body.appendChild(probe);
    const rgb = getComputedStyle(probe).color.match(/[\\d.]+/g).map(Number);
    probe.remove();
    return (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255;
})"""


def _open(browser, url: str, *, dark: bool, width: int = 1920, height: int = 1080):
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme="dark" if dark else "light")
    pg = context.new_page()
    pg.set_default_timeout(90_000)
    pg.goto(url)
    wait_for_app(pg, timeout=120_000)
    return context, pg


def _figure_luminance(pg, selector: str, dark: bool) -> list[float]:
    """The figures' background luminances, once every one is drawn in the expected theme
    (the page may rerun once when the browser's theme reaches the server: ui/display.js)."""
    test = "l !== null && l < 0.2" if dark else "l !== null && l > 0.8"
    pg.wait_for_function(f"() => {{ const ls = ({LUMINANCES})({selector!r});"
                         f" return ls.length > 0 && ls.every((l) => {test}); }}",
                         timeout=120_000)
    return pg.evaluate(f"({LUMINANCES})({selector!r})")


@pytest.mark.parametrize("name", list(PAGES))
def test_dark_theme_figures_are_dark(browser, app_url, name):
    path, selector = PAGES[name]
    context, pg = _open(browser, f"{app_url}/{path}", dark=True)
    try:
        lum = _figure_luminance(pg, selector, dark=True)  # every figure on the page
        assert lum and all(v < 0.2 for v in lum), lum
        assert pg.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def test_light_theme_figures_are_light(browser, app_url):
    context, pg = _open(browser, f"{app_url}/sliding-window?ex=blur_5x5", dark=False)
    try:
        assert all(v > 0.8 for v in _figure_luminance(pg, ".js-plotly-plot", dark=False))
    finally:
        context.close()


def test_embed_option_dark_theme_darkens_the_figure(browser, app_url):
    context, pg = _open(browser, f"{app_url}/arithmetic?embed_options=dark_theme", dark=False)
    try:
        assert all(v < 0.2 for v in _figure_luminance(pg, ".js-plotly-plot", dark=True))
    finally:
        context.close()


def test_learn_a_kernel_results_follow_the_dark_theme(browser, app_url):
    context, pg = _open(browser, f"{app_url}/learn-kernel", dark=True)
    try:
        pg.locator(".st-key-learn_train button").click()
        pg.get_by_text("Result:").first.wait_for(timeout=180_000)
        wait_for_app(pg, timeout=180_000)
        assert all(v < 0.2 for v in _figure_luminance(pg, ".js-plotly-plot", dark=True))
        # the difference picture is framed and captioned
        pg.get_by_text("Difference").first.wait_for()
    finally:
        context.close()


def test_high_contrast_link_setting_survives_a_page_switch(browser, app_url):
    context, pg = _open(browser, f"{app_url}/sliding-window?ex=blur_5x5&display=hc", dark=False)
    try:
        pg.wait_for_function("() => { const gd = document.querySelector('.js-plotly-plot');"
                             " return gd && gd._fullLayout && gd._fullLayout.shapes.length &&"
                             " gd._fullLayout.shapes[0].line.width >= 5; }")
        pg.locator('[data-testid="stSidebarNav"] a', has_text="CNN arithmetic").click()
        wait_for_app(pg)
        pg.wait_for_function("() => location.search.includes('display=hc')")
    finally:
        context.close()


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
@pytest.mark.parametrize("dark", [False, True])
def test_screenshots_of_every_page(browser, app_url, size, dark):
    """Screenshots for a person to look at (no assertion on pixels)."""
    out = ARTIFACTS / "display"
    out.mkdir(parents=True, exist_ok=True)
    theme = "dark" if dark else "light"
    for name, (path, selector) in {**PAGES, "learn-kernel": ("learn-kernel", None)}.items():
        context, pg = _open(browser, f"{app_url}/{path}", dark=dark, width=size[0],
                            height=size[1])
        try:
            if selector is not None:
                _figure_luminance(pg, selector, dark=dark)
            pg.wait_for_timeout(300)  # let the last redraw paint (a screenshot, no assertion)
            pg.screenshot(path=str(out / f"{name}-{size[0]}x{size[1]}-{theme}.png"))
        finally:
            context.close()
