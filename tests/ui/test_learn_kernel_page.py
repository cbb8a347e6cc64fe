"""The "Learn a kernel" page driven by Streamlit's AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conv import samples
from kernels.catalogue import SOBEL_X

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
    assert any("Trained on cat.png" in m.value for m in at.markdown)


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
    run = learned.start(learned.make_problem(gray, SOBEL_X, size=3), steps=300)
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


# --------------------------------------------------------------------------------------------
# Caches: a rerun rebuilds nothing; every key holds what its value is made of
# --------------------------------------------------------------------------------------------


def test_a_rerun_after_training_sends_the_same_figures_and_pictures(page):
    page.button(key="learn_train").click().run()
    _ok(page)
    before = [(c.proto.spec, c.proto.id) for c in page.get("plotly_chart")]
    pictures = [i.proto.imgs[0].url for i in page.get("image")]
    assert len(pictures) == 4  # the training image, the target's output, the learned, the difference
    page.run()
    _ok(page)
    assert [(c.proto.spec, c.proto.id) for c in page.get("plotly_chart")] == before
    assert [i.proto.imgs[0].url for i in page.get("image")] == pictures


def _run_of(steps: int = 30, seed: int = 0):
    from kernels import learned

    gray = np.random.default_rng(seed).uniform(0, 255, (24, 24)).astype(np.float32)
    problem = learned.make_problem(gray, SOBEL_X, size=3)
    return learned.start(problem, steps=steps).advance(steps)


def test_result_figures_are_cached_on_what_they_show():
    import plotly.io as pio

    from ui import learn_view as view
    from viz import training

    run = _run_of()
    loss = view.loss_figure(run.losses, 1e-3)
    assert view.loss_figure(list(run.losses), 1e-3) is loss  # equal numbers: the same figure
    assert view.loss_figure(run.losses, 2e-3) is not loss
    assert view.loss_figure(run.losses[:-1], 1e-3) is not loss
    assert pio.to_json(loss, validate=False) == pio.to_json(
        training.loss_figure(run.losses, floor=1e-3), validate=False)

    evolution = view.evolution_figure(run.snapshots)
    assert view.evolution_figure(list(run.snapshots)) is evolution
    moved = [(s, k + (i == 1)) for i, (s, k) in enumerate(run.snapshots)]
    assert view.evolution_figure(moved) is not evolution
    assert pio.to_json(evolution, validate=False) == pio.to_json(
        training.kernel_evolution_figure(run.snapshots), validate=False)

    comparison = view.comparison_figure(run.kernel, run.reference, "Target")
    assert view.comparison_figure(run.kernel.copy(), run.reference, "Target") is comparison
    assert view.comparison_figure(run.kernel, run.reference, "Best") is not comparison
    assert view.comparison_figure(run.kernel * 2, run.reference, "Target") is not comparison


def test_result_pictures_are_cached_on_the_problem_and_the_kernel():
    from ui import learn_view as view

    run, other = _run_of(seed=0), _run_of(seed=1)
    pics = view.pictures(run.problem, run.kernel)
    assert view.pictures(run.problem, run.kernel.copy()) is pics
    assert view.pictures(run.problem, run.kernel * 0.5) is not pics
    assert view.pictures(other.problem, run.kernel) is not pics
    nan = view.pictures(run.problem, np.full((3, 3), np.nan))
    assert nan.output is None and nan.difference is None and nan.target == pics.target


@pytest.mark.parametrize("width", [None, 260])
def test_pictures_are_encoded_as_st_image_would_and_sent_as_they_are(width):
    """What ``st.image`` makes of an RGB array (its own encoding rules, read from Streamlit
    1.67) is ``jpeg()``'s picture (resized, ours comes from the array itself, not from a first
    JPEG), and it sends ``jpeg()``'s bytes without encoding them again."""
    import io

    from PIL import Image
    from streamlit.elements.lib import image_utils
    from streamlit.elements.lib.layout_utils import LayoutConfig

    from ui.media import jpeg

    yy, xx = np.mgrid[0:300, 0:400]
    rgb = np.stack([xx * 0.6, yy * 0.8, 128 + 100 * np.sin(xx / 17.0)], -1).astype(np.uint8)
    layout = LayoutConfig(width=width if width is not None else "content")
    data = image_utils._np_array_to_bytes(rgb, output_format="auto")
    theirs = image_utils._ensure_image_size_and_format(data, layout, "JPEG")
    ours = jpeg(rgb, width)
    if width is None:
        assert ours == theirs
    else:
        a, b = (np.asarray(Image.open(io.BytesIO(d)), np.float64) for d in (ours, theirs))
        assert a.shape == b.shape == (195, 260, 3)
        assert np.abs(a - b).mean() < 2
    assert image_utils._ensure_image_size_and_format(ours, layout, "JPEG") is ours


def test_live_redraws_are_bounded_on_a_slow_server(monkeypatch):
    """On a busy server a step takes longer: redrawing by the clock alone would redraw after
    every step. A run redraws at most ``MAX_REDRAWS`` times (plus its end)."""
    from ui import learn_view as view

    clock = iter(float(t) for t in range(10**6))  # one second per step: a very slow server
    monkeypatch.setattr(view.time, "monotonic", lambda: next(clock))
    drawn = []
    real = view.figs.loss_figure
    monkeypatch.setattr(view.figs, "loss_figure", lambda *a, **k: drawn.append(1) or real(*a, **k))
    from kernels import learned

    gray = np.random.default_rng(0).uniform(0, 255, (16, 16)).astype(np.float32)
    run = learned.start(learned.make_problem(gray, SOBEL_X, size=3), steps=200)
    view.train_live(run)  # outside a page: Streamlit's elements draw nothing
    assert run.status == "done"
    assert 2 <= len(drawn) <= view.MAX_REDRAWS + 1
