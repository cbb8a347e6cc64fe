"""Learning one kernel by gradient descent: the gradient, the optimisers, divergence, the library.

As in micrograd's test, the same quantity is computed two independent ways: the analytic
gradient (the engine's correlation of the input with the residual) against central differences of
a float64 loss computed by ``scipy.ndimage.correlate``.
"""

from __future__ import annotations

import importlib
import re

import numpy as np
import pytest
from scipy import ndimage

from kernels import learned as L
from kernels import library
from kernels.catalogue import SOBEL_X


def noise_image(seed=1, size=64):
    return np.random.default_rng(seed).random((size, size)) * 255


def loss64(problem, kernel) -> float:
    """The loss in float64 with scipy (zero 'same' padding, as the engine's for odd sizes)."""
    x = problem.image.astype(np.float64)
    pred = ndimage.correlate(x, np.asarray(kernel, np.float64), mode="constant")
    return float(np.mean((pred - problem.target[0].astype(np.float64)) ** 2))


# --------------------------------------------------------------------------------------------
# the problem
# --------------------------------------------------------------------------------------------


def test_target_is_the_hidden_kernels_output_on_the_normalised_image():
    p = L.make_problem(noise_image(), SOBEL_X, size=3)
    x = noise_image()
    expected = (x - x.mean()) / (x.std() * 3)  # standardised, divided by sqrt(3 * 3)
    np.testing.assert_allclose(p.image, expected, atol=1e-6)
    oracle = ndimage.correlate(p.image.astype(np.float64), SOBEL_X, mode="constant")
    np.testing.assert_allclose(p.target[0], oracle, atol=1e-5)
    assert p.loss(SOBEL_X) == 0.0  # the hidden kernel is the minimum


def test_curvature_sums_to_two_so_sgd_below_one_is_stable():
    for img in (noise_image(), np.add.outer(np.arange(40.0), np.arange(50.0)) ** 1.5):
        p = L.make_problem(img, SOBEL_X, size=3)
        # trace of (2/N) P^T P: interior patches have unit variance / 9 per tap; borders less
        assert p.curvature.sum() == pytest.approx(2.0, rel=0.1)
        assert p.max_stable_sgd_lr >= 1.0


def test_optimum_is_the_target_when_it_fits_and_a_least_squares_fit_otherwise():
    p = L.make_problem(noise_image(), SOBEL_X, size=3)
    np.testing.assert_allclose(p.optimum, SOBEL_X, atol=1e-4)
    assert p.rank == 9
    p5 = L.make_problem(noise_image(), SOBEL_X, size=5)  # Sobel sits in the middle of a 5x5
    np.testing.assert_allclose(p5.optimum, L.compare_to_target(np.zeros((5, 5)), SOBEL_X),
                               atol=1e-4)
    p2 = L.make_problem(noise_image(), SOBEL_X, size=2)  # cannot fit: a positive floor
    assert p2.optimum_loss > 0.01 * p2.loss(np.zeros((2, 2)))


def test_a_smooth_image_makes_a_long_narrow_valley_and_noise_a_round_one():
    ramp = np.tile(np.linspace(0, 255, 32), (32, 1)) ** 1.3  # every row the same
    smooth = L.make_problem(ramp, SOBEL_X, size=3).curvature
    noise = L.make_problem(noise_image(), SOBEL_X, size=3).curvature
    assert noise[0] / noise[-1] < 1.5
    assert smooth[0] / smooth[-1] > 1e4


@pytest.mark.parametrize("bad, message", [
    (np.full((20, 20), 7.0), "flat"),
    (np.zeros((2, 2)), "smaller than the kernel"),
    (np.zeros(5), "2-D"),
    (np.array([[0.0, np.nan], [1, 2]]), "finite"),
])
def test_bad_images_are_explained(bad, message):
    with pytest.raises(ValueError, match=message):
        L.make_problem(bad, SOBEL_X, size=3)


@pytest.mark.parametrize("kernel, size, message", [
    ([[np.inf, 0], [0, 1]], 3, "finite"),
    (np.ones(3), 3, "2-D"),
    (SOBEL_X, 10, "at most 9"),
    (SOBEL_X, 0, "size"),
])
def test_bad_kernels_and_sizes_are_explained(kernel, size, message):
    with pytest.raises(ValueError, match=message):
        L.make_problem(noise_image(), kernel, size=size)


# --------------------------------------------------------------------------------------------
# the gradient
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", range(6))
def test_analytic_gradient_matches_central_differences(case):
    rng = np.random.default_rng(100 + case)
    size = (3, 3, 5, 1, 2, 4)[case]  # odd sizes (scipy's and the engine's centres agree) and
    image = rng.random((int(rng.integers(9, 30)), int(rng.integers(9, 30))))
    target = rng.normal(size=(int(rng.integers(1, 6)),) * 2)
    p = L.make_problem(image, target, size=size)
    w = rng.normal(size=p.size)
    loss, grad = p.loss_and_grad(w)
    if size % 2:  # the float64 oracle (scipy) for odd sizes
        assert loss == pytest.approx(loss64(p, w), rel=1e-5)
    f = loss64 if size % 2 else (lambda prob, k: prob.loss(k))
    # the loss is quadratic in w: central differences are exact up to rounding
    eps = 1e-3 if size % 2 else 1e-1
    numerical = np.zeros_like(w)
    for idx in np.ndindex(*w.shape):
        up, down = w.copy(), w.copy()
        up[idx] += eps
        down[idx] -= eps
        numerical[idx] = (f(p, up) - f(p, down)) / (2 * eps)
    np.testing.assert_allclose(grad, numerical, rtol=1e-3, atol=1e-5 * np.abs(numerical).max())


def test_gradient_is_zero_at_the_target_and_points_away_from_it():
    p = L.make_problem(noise_image(), SOBEL_X, size=3)
    assert np.abs(p.loss_and_grad(SOBEL_X)[1]).max() == 0.0
    loss, grad = p.loss_and_grad(SOBEL_X + 0.1)
    assert loss > 0 and float(np.sum(grad * 0.1)) > 0


# --------------------------------------------------------------------------------------------
# optimisers and runs
# --------------------------------------------------------------------------------------------


def test_first_steps_follow_the_lecture_formulas():
    w, g = np.array([1.0, -2.0]), np.array([0.5, -4.0])
    np.testing.assert_allclose(L.Optimizer("sgd", 0.1).update(w, g), w - 0.1 * g)
    np.testing.assert_allclose(L.Optimizer("momentum", 0.1).update(w, g), w - 0.1 * 0.1 * g)
    rms = w - 0.1 * g / (np.sqrt(0.1 * g * g) + 1e-8)  # s = (1 - 0.9) g^2
    np.testing.assert_allclose(L.Optimizer("rmsprop", 0.1).update(w, g), rms)
    # Adam's bias correction makes its first step lr * sign(g)
    np.testing.assert_allclose(L.Optimizer("adam", 0.1).update(w, g), w - 0.1 * np.sign(g),
                               rtol=1e-6)


# Steps within which each optimiser brings the kernel to within 1e-3 of Sobel x on a 64x64 noise
# image (default learning rates; RMSProp's constant-size steps need a smaller rate to settle).
RECOVERY_STEPS = {("sgd", 0.5): 100, ("momentum", 0.5): 200, ("adam", 0.05): 200,
                  ("rmsprop", 0.002): 1200}


@pytest.mark.parametrize("init", L.INITS)
@pytest.mark.parametrize("optimizer, lr", list(RECOVERY_STEPS))
def test_gradient_descent_recovers_sobel_x(optimizer, lr, init):
    image = noise_image()
    p = L.make_problem(image, SOBEL_X, size=3)
    run = L.learn(p, optimizer=optimizer, lr=lr, init=init, seed=3,
                  steps=RECOVERY_STEPS[optimizer, lr])
    assert run.status == "done", run.message
    assert L.relative_error(run.kernel, SOBEL_X) < 1e-3
    assert run.losses[-1] < 1e-5 * run.losses[0]


def test_a_5x5_kernel_learns_sobel_in_its_middle():
    p = L.make_problem(noise_image(), SOBEL_X, size=5)
    run = L.learn(p, optimizer="sgd", lr=0.9, steps=300)
    reference = L.compare_to_target(run.kernel, SOBEL_X)
    assert L.relative_error(run.kernel, reference) < 1e-3


def test_runs_are_deterministic_and_resumable_in_chunks():
    p = L.make_problem(noise_image(), library.get("laplacian_4").weights, size=3)
    whole = L.learn(p, optimizer="adam", init="random", seed=7, steps=50)
    chunked = L.start(p, optimizer="adam", init="random", seed=7, steps=50)
    while not chunked.finished:
        chunked.advance(7)
    np.testing.assert_array_equal(whole.kernel, chunked.kernel)
    assert whole.losses == chunked.losses and len(whole.losses) == 51
    assert [s for s, _ in whole.snapshots] == L.snapshot_steps(50)


def test_snapshots_are_dense_early_and_include_both_ends():
    steps = L.snapshot_steps(300)
    assert steps[0] == 0 and steps[-1] == 300
    assert {1, 2, 3}.issubset(steps)
    assert len(steps) <= 45


@pytest.mark.parametrize("optimizer, lr", [("sgd", 5.0), ("momentum", 50.0), ("sgd", 1e6)])
def test_too_large_a_learning_rate_stops_with_an_explanation(optimizer, lr):
    smooth = ndimage.gaussian_filter(noise_image(size=48), 3)  # largest curvature near 2
    p = L.make_problem(smooth, SOBEL_X, size=3)
    run = L.learn(p, optimizer=optimizer, lr=lr, steps=500)  # warnings are errors here
    assert run.status == "diverged"
    assert run.step < 500
    assert "Lower the learning rate" in run.message
    limit = L.stable_lr_limit(p, optimizer)
    tried = float(re.search(r"try ([0-9.e+-]+)\)", run.message).group(1))
    assert tried < limit  # the hint never suggests a rate that diverges again
    assert tried == (lr / 10 if lr / 10 < 0.9 * limit else L.suggest_lr(lr, limit))
    assert f"stable only below {limit:.3g}" in run.message
    assert "fold" in run.message or "NaN" in run.message
    assert np.isfinite(run.kernel).all()
    assert run.snapshots[-1][0] == run.step


@pytest.mark.parametrize("lr, limit, expected", [
    (50.0, 1.12, 1.0),    # the case: "try 5" was itself unstable
    (5.0, 1.12, 0.5),     # lr / 10 is safely below the limit: keep it
    (3.0, 0.0371, 0.02),
    (1e6, 19.9, 10.0),
])
def test_the_suggested_rate_is_below_the_stable_limit(lr, limit, expected):
    assert L.suggest_lr(lr, limit) == pytest.approx(expected)
    assert L.suggest_lr(lr, limit) < limit


def test_momentum_is_stable_up_to_its_own_limit():
    # heavy-ball momentum with b1 = 0.9 tolerates 19 times plain gradient descent's rate
    smooth = ndimage.gaussian_filter(noise_image(size=48), 3)
    p = L.make_problem(smooth, SOBEL_X, size=3)
    limit = L.stable_lr_limit(p, "momentum")
    assert limit == pytest.approx(19 * p.max_stable_sgd_lr)
    assert L.learn(p, optimizer="momentum", lr=0.9 * limit, steps=300).status != "diverged"
    assert L.learn(p, optimizer="momentum", lr=1.2 * limit, steps=500).status == "diverged"


def test_overflowing_weights_are_caught_before_the_engine_sees_them():
    p = L.make_problem(noise_image(size=16), SOBEL_X * 1e20, size=3)
    run = L.learn(p, optimizer="sgd", lr=1e25, steps=100)
    assert run.status == "diverged"
    assert "NaN" in run.message or "fold" in run.message


def test_adam_with_a_huge_rate_does_not_explode_but_is_told_to_slow_down():
    p = L.make_problem(noise_image(), SOBEL_X, size=3)
    run = L.learn(p, optimizer="adam", lr=30.0, steps=3)  # each weight jumps by about 30
    assert run.status == "done"
    assert "too large" in run.message and "try 3" in run.message


def test_too_few_steps_says_so():
    p = L.make_problem(noise_image(), SOBEL_X, size=3)
    run = L.learn(p, optimizer="sgd", lr=0.01, steps=5)
    assert "more steps or a larger learning rate" in run.message


def test_stop_keeps_what_was_learned():
    p = L.make_problem(noise_image(), SOBEL_X, size=3)
    run = L.start(p, optimizer="sgd", steps=100).advance(10)
    kernel = run.kernel.copy()
    run.stop()
    assert run.status == "stopped" and run.step == 10
    assert "Stopped at step 10 of 100" in run.message
    np.testing.assert_array_equal(run.snapshots[-1][1], kernel)
    run.advance(5)  # a finished run does not move
    assert run.step == 10


@pytest.mark.parametrize("kwargs, message", [
    ({"optimizer": "adagrad"}, "optimizer"),
    ({"lr": 0.0}, "learning rate"),
    ({"lr": float("nan")}, "learning rate"),
    ({"steps": 0}, "steps"),
    ({"init": "ones"}, "init"),
])
def test_bad_settings_are_explained(kwargs, message):
    p = L.make_problem(noise_image(size=16), SOBEL_X, size=3)
    with pytest.raises(ValueError, match=message):
        L.start(p, **kwargs)


def test_random_initialisation_is_seeded():
    a, b = L.initial_kernel(3, "random", 5), L.initial_kernel(3, "random", 5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, L.initial_kernel(3, "random", 6))
    assert not L.initial_kernel((2, 4), "zeros").any()


# --------------------------------------------------------------------------------------------
# LeNet-5's filters in the library
# --------------------------------------------------------------------------------------------


def test_cnn_filters_are_learned_kernels_in_the_library():
    learned = [k for k in library.presets() if k.group == "learned"]
    assert [k.name for k in learned] == [f"LeNet-5, conv1 filter {i}" for i in range(1, 7)]
    k3 = library.get("lenet5_conv1_3")
    assert k3.shape == (5, 5) and k3.weights.dtype == np.float64
    assert not k3.weights.flags.writeable
    assert "MNIST" in k3.description and "closest hand-designed kernel" in k3.detects
    from kernels import lenet

    np.testing.assert_array_equal(k3.weights, lenet.load().w1[2, 0])


def test_reimporting_registers_nothing_new():
    before = library.keys()
    importlib.reload(L)
    assert library.keys() == before


def test_a_missing_weights_file_registers_nothing(tmp_path, caplog):
    assert L.register_cnn_filters(tmp_path / "missing.npz") == []
    assert "not registered" in caplog.text


def test_nearest_named_kernel_keeps_the_sign():
    kernel, cos = L.nearest_named(-2 * SOBEL_X)
    assert kernel.key == "sobel_x" and cos == pytest.approx(-1.0)
    assert L.nearest_named(np.ones((4, 4))) is None  # no hand-designed 4x4


def test_a_photo_that_barely_constrains_the_kernel_is_explained():
    ramp = np.add.outer(np.arange(48.0), np.arange(48.0)) ** 1.5 + noise_image(size=48) * 0.02
    p = L.make_problem(ramp, library.get("laplacian_4").weights, size=3)
    run = L.learn(p, optimizer="sgd", steps=100)
    assert run.kernel_error > 0.05
    assert "still" in run.message and "steeper across than along" in run.message
    good = L.learn(L.make_problem(noise_image(), library.get("laplacian_4").weights, size=3),
                   optimizer="sgd", steps=100)
    assert good.kernel_error < 1e-3 and "still" not in good.message


@pytest.mark.parametrize("size", [3, 5])
def test_the_quadratic_form_gives_the_engines_loss_and_gradient(size):
    """A run steps with H w - b; the engine's two correlations give the same numbers."""
    rng = np.random.default_rng(3)
    gray = rng.uniform(0, 255, (40, 33)).astype(np.float32)
    p = L.make_problem(gray, SOBEL_X, size=size)
    for w in (np.zeros((size, size)), rng.normal(0, 0.3, (size, size)), p.optimum):
        loss, grad = p.loss_and_grad(w)
        fast_loss, fast_grad = p.quadratic_loss_and_grad(w)
        assert fast_loss == pytest.approx(loss, rel=1e-4, abs=1e-7)
        np.testing.assert_allclose(fast_grad, grad, rtol=1e-4, atol=1e-6)
