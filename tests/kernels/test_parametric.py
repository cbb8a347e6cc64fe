"""Parametric kernels: every size and sigma each family offers, the validation, the cache."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from kernels import library as L
from kernels import parametric as P
from kernels.parametric import PARAMETRIC
from tests.kernels.oracle import check_blur, correlate_same, pytorch_same, rng_image

ALL_KEYS = L.keys()


# --- the Gaussian family ----------------------------------------------------------------------


@pytest.mark.parametrize("size", PARAMETRIC["log"].sizes)
@pytest.mark.parametrize("sigma", [None, 0.1, 0.3, 1.0, 2.5, 20.0])
def test_log_over_its_whole_parameter_range(size, sigma):
    k = L.get("log", size=size, sigma=sigma)
    w = k.weights
    assert w.shape == (size, size)
    c = (size - 1) // 2
    assert w[c, c] < 0 and w[c, c] == w.min()  # the negative centre of the Mexican hat
    assert abs(w.sum()) <= 1e-12 * np.abs(w).sum()
    r2 = np.add.outer(np.arange(size) - c, np.zeros(size)) ** 2
    r2 = r2 + r2.T
    assert np.sum(w * r2) == pytest.approx(4.0, rel=1e-9)
    assert np.array_equal(w, w.T) and np.array_equal(w, np.flipud(w))


@pytest.mark.parametrize("size", range(1, 16, 2))
@pytest.mark.parametrize("sigma", [None, 0.1, 0.5, 1.0, 2.0, 20.0])
def test_gaussian_every_odd_size(size, sigma):
    k = L.get("gaussian", size=size, sigma=sigma)
    w = k.weights
    assert w.shape == (size, size)
    check_blur(w)
    assert np.array_equal(w, w.T)
    # oracle: scipy's Gaussian window, normalised
    used = 0.3 * ((size - 1) * 0.5 - 1) + 0.8 if sigma is None else sigma
    assert k.sigma == pytest.approx(used)
    g = signal.windows.gaussian(size, std=used)
    np.testing.assert_allclose(w, np.outer(g, g) / np.outer(g, g).sum(), rtol=1e-12)
    # the centre is the largest weight and the row falls off from it
    c = size // 2
    assert w[c, c] == w.max()
    assert np.all(np.diff(w[c, c:]) <= 0)
    assert P.gaussian(size, sigma) == k


@pytest.mark.parametrize("size, sigma", [(3, 0.8), (5, 1.1), (7, 1.4), (9, 1.7), (1, 0.5)])
def test_gaussian_default_sigma_is_opencvs(size, sigma):
    assert L.get("gaussian", size=size).sigma == pytest.approx(sigma)


# --- sizes only -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(1, 16))
def test_box_every_size(size):
    k = L.get("box", size=size)
    assert k.weights.shape == (size, size)
    assert np.all(k.weights == 1 / (size * size))  # the float a person gets typing 1/size^2
    check_blur(k.weights)
    assert np.array_equal(k.weights, k.weights.T)
    assert P.box(size) == k


@pytest.mark.parametrize("size", range(1, 16))
def test_motion_blur_every_size(size):
    w = L.get("motion_blur", size=size).weights
    check_blur(w, symmetric=False)
    assert np.array_equal(w, np.fliplr(w))
    row = (size - 1) // 2
    assert np.all(w[row] == 1 / size)
    assert np.count_nonzero(w) == size


# --- identity -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(1, 16))
def test_identity_leaves_the_image_unchanged(size):
    image = rng_image(seed=size)
    w = L.get("identity", size=size).weights
    assert w.sum() == 1 and np.count_nonzero(w) == 1
    np.testing.assert_array_equal(correlate_same(image, w), image)
    # and under PyTorch's 'same' padding, which is what the engine implements
    np.testing.assert_array_equal(pytorch_same(image, w), image)
    assert P.identity(size) == L.get("identity", size=size)


def test_even_identity_puts_the_one_upper_left_of_centre():
    w = P.identity(4).weights
    assert w[1, 1] == 1.0
    assert "row 2, column 2" in P.identity(4).description


# --- parameters -----------------------------------------------------------------------------------


def test_parametric_sizes_reach_1_to_15_odd_and_even():
    reachable = set().union(*(spec.sizes for spec in PARAMETRIC.values()))
    assert reachable == set(range(1, 16))
    for key, spec in PARAMETRIC.items():
        assert key in ALL_KEYS
        assert spec.default_size in spec.sizes
        assert all(1 <= s <= 15 for s in spec.sizes)
        for s in spec.sizes:
            assert L.get(key, size=s).weights.shape == (s, s)
            assert L.get(key, size=s).size == s


def test_only_the_gaussian_family_takes_sigma():
    assert {k for k, spec in PARAMETRIC.items() if spec.takes_sigma} == {"gaussian", "log"}
    assert PARAMETRIC["gaussian"].default_sigma(5) == pytest.approx(1.1)
    assert PARAMETRIC["log"].default_sigma(7) == pytest.approx(1.0)
    assert PARAMETRIC["box"].default_sigma(5) is None


@pytest.mark.parametrize(
    "key, size",
    [("gaussian", 4), ("gaussian", 17), ("log", 1), ("box", 0), ("box", 16), ("identity", -1),
     ("box", 3.0), ("box", True), ("box", "3"), ("motion_blur", 2.5)],
)  # fmt: skip
def test_bad_sizes_are_refused_naming_the_parameter(key, size):
    with pytest.raises(ValueError, match="`size`"):
        L.get(key, size=size)


@pytest.mark.parametrize("sigma", [0, -1, 0.05, 21, float("nan"), float("inf"), "1", True])
@pytest.mark.parametrize("key", ["gaussian", "log"])
def test_bad_sigmas_are_refused_naming_the_parameter(key, sigma):
    with pytest.raises(ValueError, match="`sigma`"):
        L.get(key, sigma=sigma)


def test_numpy_integer_size_is_accepted():
    assert L.get("box", size=np.int64(5)).shape == (5, 5)


def test_build_returns_one_object_per_choice():
    # Pages ask for the same kernel on every rerun; a cached build keeps it one object.
    assert P.build("gaussian", 5, 1.0) is P.build("gaussian", 5, 1.0)
    assert P.build("gaussian", 5) is P.gaussian(5) is L.get("gaussian")
    assert P.build("box", 3, sigma=2.0) is P.box(3)  # a family without sigma ignores it
    assert P.build("box", 4) is not P.build("box", 5)


def test_docstring_examples_run():
    # The docstrings draw the exact arrays; running their examples keeps them honest.
    import doctest

    result = doctest.testmod(P, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
