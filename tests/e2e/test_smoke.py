"""The app starts in a real browser and shows its first page."""

import pytest

from tests.e2e.harness import wait_for_app

pytestmark = pytest.mark.browser


def test_app_opens_on_the_filter_lab(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_role("heading", name="Filter lab").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stSidebarNav"]').count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
