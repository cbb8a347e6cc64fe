"""Learn a kernel in a real browser: a training run with its progress, Stop, the loss curve and
the learned kernel sent to the other pages (Inside a CNN: test_inside_cnn_e2e.py)."""

import re

import pytest

from tests.e2e.harness import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def _plotly_count(page) -> int:
    return page.locator(".js-plotly-plot").count()


def test_training_shows_progress_stops_and_draws_the_loss_curve(page, app_url):
    page.goto(app_url + "/learn-kernel")
    wait_for_app(page)
    page.get_by_role("heading", name="Learn a kernel").wait_for()
    _no_exception(page)
    screenshot(page, "learn_kernel_settings_1920x1080")

    # a long run (2000 steps: the slider's last value, chosen with the keyboard; played at
    # learn_view.STEP_PACE a step, the default 300 steps could end before Stop is clicked) so
    # that its progress can be watched, and stopped
    resolution = page.get_by_role("slider", name=re.compile("Training resolution"))
    resolution.focus()
    resolution.press("End")
    wait_for_app(page)
    steps = page.get_by_role("slider", name="Steps")
    steps.focus()
    steps.press("End")
    wait_for_app(page)
    page.locator(".st-key-learn_train button").click()
    progress = page.locator('[data-testid="stProgress"]')
    progress.wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"Step \d+ of 2000: loss")).wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for()  # the live loss curve
    screenshot(page, "learn_kernel_training_1920x1080")
    page.locator(".st-key-learn_stop button").click()
    stopped = page.get_by_text(re.compile(r"Stopped at step \d+ of 2000"))
    finished = page.get_by_text(re.compile(r"Finished 2000 steps"))
    stopped.or_(finished).first.wait_for(timeout=60_000)
    assert finished.count() == 0, "the run ended before Stop was clicked: make it longer"
    wait_for_app(page)
    _no_exception(page)
    assert page.locator(".st-key-learn_continue button").count() == 1
    assert _plotly_count(page) >= 3  # loss curve, animation, comparison

    # back to 300 steps (the default) and a complete run
    steps = page.get_by_role("slider", name="Steps")
    steps.focus()
    for _ in range(3):
        steps.press("ArrowLeft")
        wait_for_app(page)
    page.locator(".st-key-learn_train button").click()
    page.get_by_text(re.compile(r"Finished 300 steps")).wait_for(timeout=90_000)
    wait_for_app(page)
    _no_exception(page)
    loss = page.locator(".js-plotly-plot").first
    loss.scroll_into_view_if_needed()
    # the loss axis is logarithmic: its tick labels are powers of ten
    assert page.locator(".js-plotly-plot .ytick text").count() > 0
    screenshot(page, "learn_kernel_result_1920x1080")
    animation = page.locator(".js-plotly-plot").nth(1)
    animation.evaluate("e => e.scrollIntoView({block: 'end'})")
    assert animation.locator(".slider-container").count() == 1  # the step slider
    assert animation.get_by_text("Play").count() == 1
    page.wait_for_timeout(300)
    screenshot(page, "learn_kernel_animation_1920x1080")

    page.locator(".st-key-learn_use button").click()
    page.get_by_text(re.compile(r"^Sent: learned")).wait_for()
    _no_exception(page)

    # the filter lab adopts the learned kernel and applies it to its photo
    page.get_by_role("link", name=re.compile("Filter lab")).click()
    wait_for_app(page)
    page.get_by_text(re.compile(r"learned \(Sobel x")).first.wait_for(timeout=60_000)
    wait_for_app(page)
    _no_exception(page)
    screenshot(page, "learn_kernel_sent_to_filter_lab_1920x1080")
