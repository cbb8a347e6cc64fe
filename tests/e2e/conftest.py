"""Browser fixtures: the real app (``streamlit run app.py``) in headless Chromium.

Without a browser the tests skip, unless ``REQUIRE_BROWSER=1`` (set by ``.ci/run``): then they fail.
"""

import time

import pytest

from tests.e2e.harness import (CHROMIUM_ARGS, chromium_path, missing, screenshot,
                               start_streamlit, stop)


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, add what the page looked like to its report: a screenshot
    (in tests/e2e/artifacts/), the script's state and the page's last console messages and websocket frames (for a
    failure seen only in CI)."""
    report = yield
    pg = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and pg is not None:
        try:
            path = screenshot(pg, f"FAILED_{item.name}")
            state = pg.evaluate("() => { const a = document.querySelector('[data-testid=stApp]');"
                                " return a && a.getAttribute('data-test-script-state'); }")
            plots = pg.evaluate(
                "() => [...document.querySelectorAll('.conv-plot')].map(g => ({busy: !!g.__busy,"
                " queued: g.__next != null, token: g.layout && g.layout.meta && g.layout.meta.token,"
                " connected: g.isConnected}))")
            draws = pg.evaluate("() => performance.getEntriesByName('conv-plot-react').length")
            notes = [f"screenshot: {path}", f"script state: {state}",
                     f"plots (ui/plotly_view.js): {plots}, {draws} drawn", "console:",
                     *getattr(pg, "console_log", [])[-40:]]
        except Exception as exc:  # the page may be gone
            notes = [f"no notes: {exc}"]
        report.sections.append(("the page when it failed", "\n".join(notes)))
    return report


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, accept_downloads=True)
    pg = context.new_page()
    # generous: on a loaded 2-core CI host a page load was seen to take 15 s; a real hang
    # still fails, with the notes above
    pg.set_default_timeout(60_000)
    pg.console_log = []
    pg.on("console", lambda m: pg.console_log.append(f"{m.type}: {m.text}"))
    pg.on("pageerror", lambda e: pg.console_log.append(f"page error: {e}"))
    start = time.monotonic()

    def frames(ws):  # when messages went to and came from the server
        for event, what in (("framesent", "sent"), ("framereceived", "received")):
            ws.on(event, lambda f, what=what: pg.console_log.append(
                f"{time.monotonic() - start:8.3f} s: websocket {what} {len(f)} bytes"))
        ws.on("close", lambda _: pg.console_log.append(
            f"{time.monotonic() - start:8.3f} s: websocket closed"))

    pg.on("websocket", frames)
    yield pg
    context.close()
