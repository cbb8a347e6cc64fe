"""Browser fixtures: the real app (``streamlit run app.py``) in headless Chromium.

Without a browser the tests skip, unless ``REQUIRE_BROWSER=1`` (set by ``.ci/run``): then they fail.
"""

import pytest

from tests.e2e.harness import CHROMIUM_ARGS, chromium_path, missing, start_streamlit, stop


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = chromium_path()
    if path is None:
        missing("no Chromium found (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser(chromium_executable):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def app_url(chromium_executable):
    proc, url = start_streamlit()
    yield url
    stop(proc)


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()
