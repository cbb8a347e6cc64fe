"""The "Learn a kernel" page driven by Streamlit's AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conv import samples

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "ui/pages/learn_kernel.py"


def _open() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()  # pages registered with a url_path are found only after a first run
    at.switch_page(PAGE)
    return at.run()


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _set(at: AppTest, key: str, value) -> AppTest:
    at.session_state[key] = value
    return at


@pytest.fixture()
def page() -> AppTest:
    at = _open()
    _set(at, "learn.resolution", 64)  # small and quick; the page's default is 256
    return at.run()


def test_opens_with_a_sample_and_sobel_as_the_hidden_target(page):
    _ok(page)
    assert page.title[0].value == "Learn a kernel"
    # the filter lab's photo when it has published one (it ran first), else a sample photo
    lab = "shared.lab_image" in page.session_state
    assert page.session_state["learn.source"] == ("lab" if lab else "sample")
    assert page.session_state["learn.target.preset"] == "sobel_x"
    assert page.session_state["learn.optimizer"] == "adam"
    assert page.session_state["learn.lr"] == 0.05
    assert "stable for learning rates below" in page.info[0].value
    assert [b.key for b in page.button if b.key and b.key.startswith("learn_")] == [
        "learn_train", "learn_stop"]


def test_default_training_run_recovers_sobel_and_sends_it(page):
    page.button(key="learn_train").click().run()
    _ok(page)
    run = page.session_state["learn.run"]
    assert run.status == "done" and run.step == 300
    assert run.losses[-1] < 1e-3 * run.losses[0]
    assert page.success[0].value.startswith("Finished 300 steps")
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Steps"] == "300"
    assert float(metrics["Kernel error"].rstrip("%")) < 5
    charts = page.get("plotly_chart")
    assert len(charts) == 3  # the loss curve, the animation, the comparison with the target
    page.button(key="learn_use").click().run()
    _ok(page)
    sent = page.session_state["shared.sent_kernels"][-1]
    assert sent.source == "Learn a kernel" and "Sobel x" in sent.name
    np.testing.assert_allclose(sent.weights, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], atol=0.1)
    assert "Sent:" in page.success[-1].value


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "rmsprop", "adam"])
def test_every_optimiser_trains_on_an_uploaded_photo(optimizer):
    at = _open()
    _set(at, "learn.resolution", 32)
    _set(at, "learn.source", "upload").run()
    at.get("file_uploader")[0].set_value(("cat.png", samples.load_sample("chelsea"), "image/png"))
    at.run()
    at.segmented_control(key="learn.optimizer").set_value(optimizer).run()
    assert at.session_state["learn.lr"] == {"sgd": 0.5, "momentum": 0.5, "rmsprop": 0.01,
                                            "adam": 0.05}[optimizer]
    _set(at, "learn.steps", 100)
    at.button(key="learn_train").click().run()
    _ok(at)
    run = at.session_state["learn.run"]
    assert run.status == "done" and run.losses[-1] < run.losses[0]
    assert "cat.png" in at.caption[-1].value if at.caption else True


def test_a_diverging_learning_rate_is_explained_not_raised(page):
    page.segmented_control(key="learn.optimizer").set_value("sgd").run()
    _set(page, "learn.lr", 50.0)
    page.button(key="learn_train").click().run()
    assert not page.exception
    run = page.session_state["learn.run"]
    assert run.status == "diverged"
    assert any("fold" in e.value and "Lower the learning rate" in e.value for e in page.error)
    use = page.button(key="learn_use")
    assert use.disabled


def test_stop_keeps_the_partial_run_and_continue_finishes_it(page):
    from conv import image
    from kernels import learned

    rgb = image.decode(samples.load_sample("chelsea")).rgb
    gray = image.to_gray(image.working_resolution(rgb, 64))[0]
    run = learned.start(learned.make_problem(gray, learned.library.SOBEL_X, size=3), steps=300)
    page.session_state["learn.run"] = run.advance(40)  # as if Stop interrupted the loop here
    page.button(key="learn_stop").click().run()
    _ok(page)
    run = page.session_state["learn.run"]
    assert run.status == "stopped" and run.step == 40
    assert any("Stopped at step 40 of 300" in w.value for w in page.warning)
    page.button(key="learn_continue").click().run()
    _ok(page)
    assert page.session_state["learn.run"].status == "done"
    assert page.session_state["learn.run"].step == 300


def test_a_flat_image_is_explained(page):
    _set(page, "learn.source", "synthetic")
    page.run()
    page.selectbox(key="learn.synthetic").set_value("impulse").run()
    _ok(page)  # an impulse is not flat: it can be learned from (a little)
    _set(page, "learn.source", "upload").run()
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 120, 120)).save(buf, format="PNG")
    page.get("file_uploader")[0].set_value(("gray.png", buf.getvalue(), "image/png"))
    page.run()
    assert not page.exception
    assert any("flat" in e.value for e in page.error)


def test_a_file_that_is_not_an_image_is_explained(page):
    _set(page, "learn.source", "upload").run()
    page.get("file_uploader")[0].set_value(("notes.png", b"not an image at all", "image/png"))
    page.run()
    assert not page.exception
    assert any("cannot be used" in e.value for e in page.error)


def test_a_target_of_another_size_compares_with_the_best_possible_kernel(page):
    _set(page, "learn.size", 2)
    _set(page, "learn.steps", 50)
    page.button(key="learn_train").click().run()
    _ok(page)
    assert "Error vs best possible" in [m.label for m in page.metric]


def test_on_random_noise_plain_sgd_finds_sobel_exactly(page):
    _set(page, "learn.source", "synthetic").run()
    page.selectbox(key="learn.synthetic").set_value("noise").run()
    page.segmented_control(key="learn.optimizer").set_value("sgd").run()
    _set(page, "learn.steps", 100)
    page.button(key="learn_train").click().run()
    _ok(page)
    assert "nearly round" in page.info[0].value
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Kernel error"] == "0.00%"
    assert page.session_state["learn.run"].kernel_error < 1e-3


def test_the_cnn_filters_are_in_the_picker_and_can_be_learned(page):
    picker = page.selectbox(key="learn.target.preset")
    assert "Learned · LeNet-5, conv1 filter 3" in picker.options
    picker.set_value("lenet5_conv1_3").run()
    _set(page, "learn.steps", 50)
    page.button(key="learn_train").click().run()
    _ok(page)
    assert "LeNet-5, conv1 filter 3" in page.session_state["learn.run_info"]["target"]
