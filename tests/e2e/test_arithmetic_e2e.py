"""The CNN arithmetic page in a real browser: a shared link restores LeNet-5 and its totals."""

import pytest

from tests.e2e.harness import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def _metric(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_lenet5_link_shows_its_totals_at_two_screen_sizes(page, app_url):
    page.goto(app_url + "/arithmetic?preset=lenet5")
    wait_for_app(page)
    page.get_by_role("heading", name="Layer by layer").wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert _metric(page, "Parameters") == "62,006"
    assert _metric(page, "Neurons") == "8,094"
    assert _metric(page, "Multiply-adds") == "651,720"
    # the computed table shows the formulas with the numbers and the corrected FC3 count
    table = page.locator('[data-testid="stTable"]').first
    assert "(400 + 1) * 120 = 48,120" in table.inner_text()
    assert "preset=lenet5" in page.url
    # the big totals are large type on a projector
    size = page.locator('[data-testid="stMetricValue"]').first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert size >= 32
    page.locator('[data-testid="stMetric"]').first.scroll_into_view_if_needed()
    screenshot(page, "arithmetic_lenet5_1920x1080")
    page.get_by_role("heading", name="Layer by layer").scroll_into_view_if_needed()
    screenshot(page, "arithmetic_lenet5_table_1920x1080")

    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(500)
    page.locator('[data-testid="stMetric"]').first.scroll_into_view_if_needed()
    screenshot(page, "arithmetic_lenet5_1280x720")
    page.get_by_role("heading", name="Layer by layer").scroll_into_view_if_needed()
    screenshot(page, "arithmetic_lenet5_table_1280x720")
    page.get_by_role("heading", name="Through the network").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    screenshot(page, "arithmetic_lenet5_chart_1280x720")
    page.get_by_role("heading", name="What does it cost?").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    screenshot(page, "arithmetic_costs_1280x720")
    # nothing wider than the window: no horizontal scrolling of the page
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_preset_click_loads_it_and_its_link(page, app_url):
    """A preset's pill reruns only the network's section (a fragment): the totals, the
    description, the table and the address bar follow; the cost comparisons stay."""
    page.goto(app_url + "/arithmetic?preset=lenet5")
    wait_for_app(page)
    page.get_by_role("heading", name="Layer by layer").wait_for()
    assert _metric(page, "Parameters") == "62,006"
    costs = page.get_by_role("heading", name="What does it cost?")
    costs.wait_for()
    page.locator(".st-key-arith_pick").get_by_text("AlexNet", exact=True).click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')].some(m =>
             m.innerText.includes('Parameters') && m.innerText.includes('62,378,344'))""")
    page.wait_for_url("**preset=alexnet**")
    assert "AlexNet" in page.locator('[data-testid="stAlert"]').first.inner_text()
    assert _metric(page, "Neurons") == "781,736"
    assert costs.is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
