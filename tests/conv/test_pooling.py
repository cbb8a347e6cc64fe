"""conv.pooling against the lecture notes' worked example, reshape and brute-force oracles."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conv.geometry import as_pair
from conv.options import POOL_MODES
from conv.pooling import pool2d

X = np.ones((3, 8, 8), np.float32)


def test_seed_max_pool_4x4():
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], np.float32)[None]
    assert pool2d(x, 2)[0].tolist() == [[6, 8], [3, 4]]
    assert pool2d(x, 2, mode="avg")[0].tolist() == [[3.25, 5.25], [2, 2]]


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("k", [2, 3, (2, 4)])
def test_non_overlapping_pool_matches_reshape_oracle(mode, k):
    rng = np.random.default_rng(10)
    kh, kw = as_pair(k, "k")
    x = rng.normal(size=(3, 5 * kh + 1, 4 * kw + 1)).astype(np.float32)  # the floor drops one row/col
    blocks = x[:, :5 * kh, :4 * kw].reshape(3, 5, kh, 4, kw)
    expected = blocks.max(axis=(2, 4)) if mode == "max" else blocks.mean(axis=(2, 4))
    np.testing.assert_allclose(pool2d(x, k, mode=mode), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", POOL_MODES)
def test_overlapping_padded_pool_matches_brute_force(mode):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(2, 7, 8)).astype(np.float32)
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)), constant_values=fill)
    out = pool2d(x, 3, 2, 1, mode=mode)
    for c, i, j in itertools.product(range(2), range(out.shape[1]), range(out.shape[2])):
        window = xp[c, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
        expected = window.max() if mode == "max" else window.sum() / 9  # count_include_pad
        assert out[c, i, j] == pytest.approx(float(expected), rel=1e-6)


def test_large_pool_in_parallel_bands():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(8, 600, 500)).astype(np.float32)
    expected = x.reshape(8, 300, 2, 250, 2).max(axis=(2, 4))
    np.testing.assert_array_equal(pool2d(x, 2), expected)


@pytest.mark.parametrize("call,words", [
    (lambda: pool2d(X, 9), ["pooling window", "9 x 9", "8 x 8"]),
    (lambda: pool2d(X, 2, padding=2), ["padding", "half"]),
    (lambda: pool2d(X, 2, stride=0), ["stride", "0"]),
    (lambda: pool2d(X, 2, mode="median"), ["mode", "'median'", "'max'"]),
])
def test_bad_pool_arguments_are_explained(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 16), st.integers(2, 16), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 2 ** 31))
def test_max_pool_is_at_least_avg_pool(h, w, k, s, seed):
    k = min(k, h, w)
    x = np.random.default_rng(seed).normal(size=(2, h, w))
    assert np.all(pool2d(x, k, s) >= pool2d(x, k, s, mode="avg") - 1e-6)
