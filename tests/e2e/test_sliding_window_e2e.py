"""The sliding-window page in a real browser: playback runs in the browser (the scrubber advances,
Pause holds it), Step moves one cell, clicking an output cell jumps there; classroom screenshots
at 1920x1080 of every worked example, and a student's patch of a photo."""

import pytest

from conv.examples import EXAMPLES
from tests.e2e.harness import screenshot, wait_for_app
from ui.window_view import SHORT_LABELS

pytestmark = pytest.mark.browser

STATE = """() => {
  const g = document.querySelector('.js-plotly-plot');
  return {active: g._fullLayout.sliders[0].active, title: g._fullLayout.annotations[0].text};
}"""


def _open(page, app_url: str, query: str) -> None:
    page.goto(f"{app_url}/sliding-window?{query}")
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot .annotation-text")
    assert page.locator('[data-testid="stException"]').count() == 0


def _button(page, label: str) -> None:
    page.locator("g.updatemenu-button", has_text=label).first.click()


def _state(page) -> dict:
    return page.evaluate(STATE)


def _wait_active(page, k: int) -> None:
    """Wait for the slider at step ``k`` (a click re-renders the chart: it may be gone a moment)."""
    page.wait_for_function(f"""() => {{
      const g = document.querySelector('.js-plotly-plot');
      return !!(g && g._fullLayout && g._fullLayout.sliders[0].active === {k});
    }}""")


def _cell(page, k: int) -> tuple[float, float]:
    """Screen position of output cell (step) ``k``: its click marker, through plotly's axes."""
    return page.evaluate("""(k) => {
      const g = document.querySelector('.js-plotly-plot');
      const t = g._fullData.find(d => d.name === 'output cells');
      const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
      const r = g.querySelector('.main-svg').getBoundingClientRect();
      return [r.left + xa._offset + xa.d2p(t.x[k]), r.top + ya._offset + ya.d2p(t.y[k])];
    }""", k)


def test_play_pause_step_and_click_a_cell(page, app_url):
    _open(page, app_url, "ex=edge_6x6&classroom=1")
    assert _state(page) == {"active": 0, "title": "Step 1 of 16 · row 1, col 1"}

    _button(page, "Step")
    _wait_active(page, 1)
    _button(page, "Back")
    _wait_active(page, 0)

    # Play: the scrubber advances in the browser, with no server round-trip per frame
    _button(page, "Play slowly")
    page.wait_for_function(
        "() => document.querySelector('.js-plotly-plot')._fullLayout.sliders[0].active >= 2")
    # (the chart is not re-rendered during playback: no server round-trip)
    _button(page, "Pause")
    held = _state(page)
    page.wait_for_timeout(2500)  # longer than two frames at 1 step/s: nothing may move
    assert _state(page) == held
    assert held["title"].startswith(f"Step {held['active'] + 1} of 16")

    # click output cell 10 (row 3, column 2): the window jumps there
    x, y = _cell(page, 9)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    _wait_active(page, 9)
    wait_for_app(page)
    assert _state(page)["title"] == "Step 10 of 16 · row 3, col 2"
    assert "step=10" in page.url
    selected = page.locator('[data-testid="stMarkdown"]').filter(
        has_text="click any output cell to jump there")
    assert "row 3, column 2" in selected.inner_text()
    # the window drawn is the one for that cell: rows 3-5, columns 2-4 of the input
    path = page.evaluate(
        "() => document.querySelector('.js-plotly-plot')._fullLayout.shapes[0].path")
    assert path.startswith("M1,2H4V5H1Z")
    screenshot(page, "sliding_window_jump_1920x1080")

    # stepping continues from the clicked cell, then a click after playing (and Pause) still jumps
    _button(page, "Step")
    _wait_active(page, 10)
    _button(page, "Fast")
    _wait_active(page, 15)
    # a Fast run never redraws; Back's redraw re-arms clicks (see viz.animation.figure._frames)
    _button(page, "Back")
    _wait_active(page, 14)
    x, y = _cell(page, 4)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    _wait_active(page, 4)
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize("key", list(EXAMPLES))
def test_classroom_screenshots_of_every_example(page, app_url, key):
    _open(page, app_url, f"ex={key}&classroom=1&step=2")
    # the sidebar is collapsed, the example's button is one click away
    assert page.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "true"
    examples = page.locator(".st-key-sw-examples")
    assert examples.get_by_text(SHORT_LABELS[key], exact=True).count() == 1
    # the step, from the back of the room: 36 px bold; cell numbers at least 24 px
    sizes = page.evaluate("""() => {
      const g = document.querySelector('.js-plotly-plot');
      const cells = Array.from(g.querySelectorAll('.heatmaplayer text'))
        .map(t => parseFloat(getComputedStyle(t).fontSize)).filter(s => s > 0);
      const title = g.querySelector('.annotation-text');
      return {min: Math.min(...cells), count: cells.length,
              title: parseFloat(getComputedStyle(title).fontSize)};
    }""")
    # (laid out for the screen the browser measured: at least 85 % of the classroom sizes,
    # 36 px for the step and 24 px for cell numbers; a volume's three slices are smaller)
    assert sizes["count"] > 0 and sizes["min"] >= 18, sizes
    assert sizes["title"] >= 0.85 * 36
    page.locator(".js-plotly-plot").first.evaluate("e => e.scrollIntoView({block: 'end'})")
    page.wait_for_timeout(300)
    screenshot(page, f"sliding_window_classroom_{key}_1920x1080")


def test_student_steps_through_a_patch_of_a_photo(page, app_url):
    _open(page, app_url, "ex=photo&photo=chelsea&cells=10&x=40&y=35&region=120")
    assert page.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "false"
    assert _state(page)["title"].startswith("Step 1 of 100")
    _button(page, "Step")
    _wait_active(page, 1)
    eq = page.evaluate(
        "() => document.querySelector('.js-plotly-plot')._fullLayout.annotations[1].text")
    assert "×" in eq and "=" in eq
    screenshot(page, "sliding_window_photo_patch_1920x1080")


HEATMAPS_DRAWN = """() => {
  const g = document.querySelector('.js-plotly-plot');
  const n = g._fullData.filter(t => t.type === 'heatmap').length;
  return {heatmaps: n, drawn: g.querySelectorAll('g.hm image').length};
}"""


@pytest.mark.parametrize("query", ["ex=edge_6x6", "ex=pad1_stride2&classroom=1"])
def test_grids_stay_drawn_while_stepping_and_playing_fast(page, app_url, query):
    # plotly.js drops heatmaps when a frame lists a trace: the grids must survive every control
    _open(page, app_url, query)
    drawn = page.evaluate(HEATMAPS_DRAWN)
    assert drawn["drawn"] == drawn["heatmaps"] > 0
    for label, k in (("Step", 1), ("Step", 2), ("Back", 1), ("Last", None)):
        _button(page, label)
        if k is not None:
            _wait_active(page, k)
        page.wait_for_timeout(300)
        assert page.evaluate(HEATMAPS_DRAWN) == drawn, label
    _button(page, "First")
    _wait_active(page, 0)
    _button(page, "Fast")
    page.wait_for_function(
        "() => document.querySelector('.js-plotly-plot')._fullLayout.sliders[0].active >= 3")
    assert page.evaluate(HEATMAPS_DRAWN) == drawn
    # after a Step (a redraw) an output-cell click still jumps
    _button(page, "First")
    _wait_active(page, 0)
    _button(page, "Step")
    _wait_active(page, 1)
    x, y = _cell(page, 3)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    _wait_active(page, 3)
