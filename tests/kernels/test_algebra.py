"""Tests for kernels.algebra: a layer's weights per colour mode, and derivative pairs.

The expected layouts are PyTorch's ``(C_out, C_in / groups, kH, kW)``; a grouped layer's
output channels come group by group (R's maps first), as ``F.conv2d`` orders them.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernels import library
from kernels.algebra import derivative_pair, layer_weights


def _k(key: str) -> tuple[str, np.ndarray]:
    kernel = library.get(key)
    return kernel.name, np.asarray(kernel.weights, np.float64)


SOBEL_X, SOBEL_Y, BOX = _k("sobel_x"), _k("sobel_y"), _k("box")


def test_gray_is_one_single_channel_filter_per_kernel():
    w, groups, names = layer_weights([SOBEL_X, BOX], "gray")
    assert w.shape == (2, 1, 3, 3) and groups == 1
    assert names == [SOBEL_X[0], BOX[0]]
    np.testing.assert_array_equal(w[0, 0], SOBEL_X[1])
    np.testing.assert_array_equal(w[1, 0], BOX[1])


def test_channels_runs_every_kernel_on_r_g_and_b_in_three_groups():
    w, groups, names = layer_weights([SOBEL_X, BOX], "channels")
    assert w.shape == (6, 1, 3, 3) and groups == 3
    assert names == [f"{n} · {c}" for c in "RGB" for n in (SOBEL_X[0], BOX[0])]
    for g in range(3):  # group g holds every kernel once, in order
        np.testing.assert_array_equal(w[2 * g, 0], SOBEL_X[1])
        np.testing.assert_array_equal(w[2 * g + 1, 0], BOX[1])


def test_rgb_is_one_three_channel_filter_per_kernel_the_first_from_its_slices():
    slices = np.arange(27, dtype=np.float64).reshape(3, 3, 3)
    w, groups, names = layer_weights([SOBEL_X, BOX], "rgb", slices)
    assert w.shape == (2, 3, 3, 3) and groups == 1 and names == [SOBEL_X[0], BOX[0]]
    np.testing.assert_array_equal(w[0], slices)
    for c in range(3):
        np.testing.assert_array_equal(w[1, c], BOX[1])
    plain, _, _ = layer_weights([SOBEL_X], "rgb")  # no slices: the kernel on every channel
    np.testing.assert_array_equal(plain[0], np.stack([SOBEL_X[1]] * 3))


def test_weights_are_float64_whatever_the_kernels_type():
    w, _, _ = layer_weights([("ints", np.array([[1, 0, -1]]))], "gray")
    assert w.dtype == np.float64


@pytest.mark.parametrize("a, b", [("sobel_x", "sobel_y"), ("roberts_se", "roberts_sw"),
                                  ("prewitt_x", "prewitt_y"), ("scharr_x", "scharr_y")])
def test_a_kernel_and_its_turned_copy_are_a_derivative_pair(a, b):
    assert derivative_pair([_k(a), _k(b)]) == (0, 1)


def test_the_pair_is_found_among_other_kernels_by_index():
    assert derivative_pair([BOX, SOBEL_X, _k("gaussian_3x3"), SOBEL_Y]) == (1, 3)


@pytest.mark.parametrize("kernels", [
    [SOBEL_X, BOX],                                 # the box does not sum to 0
    [SOBEL_X, ("minus", -SOBEL_X[1])],              # the same axis, negated
    [SOBEL_X, SOBEL_X],                             # the same kernel twice
    [SOBEL_X, _k("laplacian_4")],                   # sums to 0, but not a turned Sobel
    [SOBEL_X],
    [],
])
def test_no_pair(kernels):
    assert derivative_pair(kernels) is None


def test_kernels_of_different_shapes_are_no_pair():
    assert derivative_pair([SOBEL_X, ("wide", np.array([[-1.0, 0.0, 1.0]]))]) is None
