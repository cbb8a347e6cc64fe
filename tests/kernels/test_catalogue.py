"""The catalogue: every kernel's defining property, checked against scipy as oracle.

Expected arrays and responses are written out by hand here (from the references and the lecture
notes), never copied from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, signal

import kernels.learned  # noqa: F401  (registers LeNet-5's filters, as the app does)
from kernels import catalogue as C
from kernels import library as L
from kernels.parametric import PARAMETRIC
from kernels.record import GROUPS, Kernel
from tests.kernels.oracle import check_blur, correlate_same, rng_image

# d/dx-type kernels (change sign under a left-right flip) with the response to a unit step that
# rises from 0 (left) to 1 (right), on both columns next to the edge.
X_DERIVATIVES = {
    "sobel_x": 4.0,  # 1 + 2 + 1
    "scharr_x": 16.0,  # 3 + 10 + 3
    "prewitt_x": 3.0,
    "sobel_x_lecture": -4.0,  # the lecture sign: positive for bright-to-dark going right
    "scharr_x_lecture": -16.0,
    "vertical_edge": -3.0,
}
# d/dy-type kernels with the response to a step rising from 0 (top) to 1 (bottom).
Y_DERIVATIVES = {
    "sobel_y": 4.0,
    "scharr_y": 16.0,
    "prewitt_y": 3.0,
    "horizontal_edge": -3.0,
}
DIAGONAL_DERIVATIVES = ["sobel_ne", "sobel_se", "roberts_se", "roberts_sw"]
LAPLACIANS = ["laplacian_4", "laplacian_8", "outline", "log"]
BLURS = ["box", "gaussian", "gaussian_3x3", "motion_blur"]
SEPARABLE = ["sobel_x", "sobel_y", "scharr_x", "scharr_y", "prewitt_x", "prewitt_y", "box",
             "gaussian", "gaussian_3x3"]  # fmt: skip

# Exact arrays, typed from the lecture notes and the references.
EXPECTED = {
    "vertical_edge": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "horizontal_edge": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
    "horizontal_lines": [[-1, -1, -1], [2, 2, 2], [-1, -1, -1]],
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "sobel_x_lecture": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "scharr_x": [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]],
    "scharr_y": [[-3, -10, -3], [0, 0, 0], [3, 10, 3]],
    "scharr_x_lecture": [[3, 0, -3], [10, 0, -10], [3, 0, -3]],
    "prewitt_x": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "prewitt_y": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "sobel_ne": [[0, 1, 2], [-1, 0, 1], [-2, -1, 0]],
    "sobel_se": [[-2, -1, 0], [-1, 0, 1], [0, 1, 2]],
    "roberts_se": [[-1, 0], [0, 1]],
    "roberts_sw": [[0, -1], [1, 0]],
    "laplacian_4": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "laplacian_8": [[1, 1, 1], [1, -8, 1], [1, 1, 1]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "gaussian_3x3": [[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "unsharp_5x5": (
        np.array(
            [
                [1, 4, 6, 4, 1],
                [4, 16, 24, 16, 4],
                [6, 24, -476, 24, 6],
                [4, 16, 24, 16, 4],
                [1, 4, 6, 4, 1],
            ]
        )
        / -256
    ),
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "box": np.full((3, 3), 1 / 9),
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}


# --- every kernel ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", L.presets(), ids=lambda k: k.key)
def test_every_preset_is_a_valid_applied_array(kernel):
    w = kernel.weights
    assert isinstance(kernel, Kernel)
    assert w.dtype == np.float64
    assert w.ndim == 2
    assert 1 <= w.shape[0] <= 15 and 1 <= w.shape[1] <= 15
    assert np.all(np.isfinite(w))
    assert not w.flags.writeable
    with pytest.raises(ValueError):
        w[0, 0] = 1.0
    assert kernel.group in GROUPS
    for text in (kernel.name, kernel.description, kernel.detects, kernel.reference):
        assert text.strip() and "\n" not in text
    if kernel.factors is not None:
        col, row = kernel.factors
        assert col.ndim == 1 and row.ndim == 1
        assert not col.flags.writeable and not row.flags.writeable
        assert np.array_equal(np.outer(col, row), w)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_exact_arrays(key):
    # Bitwise equality: these are the numbers the app promises to apply.
    expected = np.asarray(EXPECTED[key], dtype=np.float64)
    assert L.get(key).weights.tobytes() == expected.tobytes()
    assert L.get(key).weights.shape == expected.shape


def test_module_constants_are_the_kernels():
    assert np.array_equal(C.SOBEL_X, L.get("sobel_x").weights)
    assert np.array_equal(C.SOBEL_Y, L.get("sobel_y").weights)
    assert np.array_equal(C.SCHARR_X, L.get("scharr_x").weights)
    assert np.array_equal(C.PREWITT_Y, L.get("prewitt_y").weights)
    assert np.array_equal(C.LAPLACIAN_4, L.get("laplacian_4").weights)
    assert not C.SOBEL_X.flags.writeable and not C.SOBEL_SMOOTH.flags.writeable


# --- derivatives ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(X_DERIVATIVES))
def test_x_derivatives_sum_to_zero_and_are_odd_left_right(key):
    w = L.get(key).weights
    assert w.sum() == 0
    assert np.array_equal(np.fliplr(w), -w)
    assert np.array_equal(np.flipud(w), w)


@pytest.mark.parametrize("key", sorted(Y_DERIVATIVES))
def test_y_derivatives_sum_to_zero_and_are_odd_up_down(key):
    w = L.get(key).weights
    assert w.sum() == 0
    assert np.array_equal(np.flipud(w), -w)
    assert np.array_equal(np.fliplr(w), w)


@pytest.mark.parametrize("x_key, y_key", [("sobel_x", "sobel_y"), ("scharr_x", "scharr_y"),
                                          ("prewitt_x", "prewitt_y")])  # fmt: skip
def test_d_dy_is_the_transpose_of_d_dx(x_key, y_key):
    assert np.array_equal(L.get(x_key).weights.T, L.get(y_key).weights)


@pytest.mark.parametrize("key", DIAGONAL_DERIVATIVES + ["horizontal_lines"])
def test_other_edge_kernels_sum_to_zero(key):
    assert L.get(key).weights.sum() == 0


@pytest.mark.parametrize("key", DIAGONAL_DERIVATIVES)
def test_diagonal_derivatives_change_sign_under_half_turn(key):
    w = L.get(key).weights
    assert np.array_equal(np.rot90(w, 2), -w)


@pytest.mark.parametrize("key, expected", sorted(X_DERIVATIVES.items()))
def test_unit_step_left_to_right(key, expected):
    image = np.zeros((9, 10))
    image[:, 5:] = 1.0  # intensity rises to the right between columns 4 and 5
    out = correlate_same(image, L.get(key).weights, mode="nearest")
    want = np.zeros_like(image)
    want[:, 4:6] = expected
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("key, expected", sorted(Y_DERIVATIVES.items()))
def test_unit_step_top_to_bottom(key, expected):
    image = np.zeros((10, 9))
    image[5:, :] = 1.0  # intensity rises downwards between rows 4 and 5
    out = correlate_same(image, L.get(key).weights, mode="nearest")
    want = np.zeros_like(image)
    want[4:6, :] = expected
    np.testing.assert_array_equal(out, want)


def test_sobel_x_is_positive_where_intensity_increases_to_the_right():
    # The documented convention, on a photo-like edge: dark (20) on the left, bright (200) right.
    image = np.full((7, 8), 20.0)
    image[:, 4:] = 200.0
    out = ndimage.correlate(image, L.get("sobel_x").weights, mode="nearest")
    assert np.all(out[:, 3:5] > 0) and np.all(out[:, 3:5] == 4 * 180)
    # and negative for the mirror image (bright to dark)
    out = ndimage.correlate(image[:, ::-1], L.get("sobel_x").weights, mode="nearest")
    assert np.all(out[:, 3:5] == -4 * 180)


def test_lecture_vertical_edge_reproduces_the_worked_example():
    # Ng's example: 10 10 10 0 0 0 in each of 6 rows, * [1 0 -1] rows -> 0 30 30 0 in 4 rows.
    image = np.tile([10.0, 10, 10, 0, 0, 0], (6, 1))
    out = signal.correlate2d(image, L.get("vertical_edge").weights, mode="valid")
    np.testing.assert_array_equal(out, np.tile([0.0, 30, 30, 0], (4, 1)))


@pytest.mark.parametrize(
    "key, ramp, expected",
    [
        ("sobel_se", lambda y, x: y + x, 12.0),  # rises towards the bottom right
        ("sobel_se", lambda y, x: x - y, 0.0),  # rises towards the top right
        ("sobel_ne", lambda y, x: x - y, 12.0),
        ("sobel_ne", lambda y, x: y + x, 0.0),
        ("roberts_se", lambda y, x: y + x, 2.0),
        ("roberts_sw", lambda y, x: y - x, 2.0),  # rises towards the bottom left
        ("roberts_sw", lambda y, x: y + x, 0.0),
    ],
)
def test_diagonal_sign_on_ramps(key, ramp, expected):
    y, x = np.mgrid[0:12, 0:12].astype(np.float64)
    out = correlate_same(ramp(y, x), L.get(key).weights)
    np.testing.assert_array_equal(out[2:-2, 2:-2], np.full((8, 8), expected))


# --- Laplacians -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", LAPLACIANS)
def test_laplacians_sum_to_zero_and_are_symmetric(key):
    w = L.get(key).weights
    assert abs(w.sum()) <= 1e-12 * np.abs(w).sum()
    assert np.array_equal(w, np.fliplr(w))
    assert np.array_equal(w, np.flipud(w))
    assert np.array_equal(w, w.T)


@pytest.mark.parametrize("key, expected", [("laplacian_4", 4.0), ("laplacian_8", 12.0),
                                           ("outline", -12.0), ("log", 4.0)])  # fmt: skip
def test_laplacians_on_a_paraboloid_and_a_ramp(key, expected):
    # The Laplacian of x^2 + y^2 is 4; the 8-neighbour stencil measures 3 times the Laplacian
    # (the diagonal differences span sqrt(2) pixels). Every Laplacian gives 0 on a linear ramp.
    w = L.get(key).weights
    h = w.shape[0] // 2
    y, x = np.mgrid[-10:11, -10:11].astype(np.float64)
    inner = (slice(h, -h), slice(h, -h))
    out = ndimage.correlate(x**2 + y**2, w, mode="constant")[inner]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-9)
    out = ndimage.correlate(3 * x - 2 * y + 7, w, mode="constant")[inner]
    np.testing.assert_allclose(out, 0.0, rtol=0, atol=1e-9)


def test_sharpen_and_outline_are_built_from_the_laplacians():
    ident = L.get("identity").weights
    assert np.array_equal(L.get("sharpen").weights, ident - L.get("laplacian_4").weights)
    assert np.array_equal(L.get("outline").weights, -L.get("laplacian_8").weights)


@pytest.mark.parametrize("key", ["sharpen", "unsharp_5x5", "emboss"])
def test_sharpening_and_emboss_keep_flat_areas(key):
    assert L.get(key).weights.sum() == 1.0


# --- blurs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", BLURS)
def test_blurs_at_default_size(key):
    check_blur(L.get(key).weights)


def test_lecture_blur_reproduces_the_worked_example():
    # The 5x5 image and its blurred 3x3 result, from the lecture notes. (The notes print the
    # kernel's 0.125 once as 0.0125 and the 3x3 crop's 244 as 144: OCR slips; the 5x5 numbers
    # below are consistent with 0.125 and give 177.75 -> 178.)
    image = np.array(
        [
            [206, 205, 247, 245, 244],
            [244, 161, 137, 244, 254],
            [192, 154, 75, 200, 249],
            [90, 109, 96, 143, 223],
            [67, 69, 107, 196, 236],
        ],
        dtype=np.float64,
    )
    out = signal.correlate2d(image, L.get("gaussian_3x3").weights, mode="valid")
    assert out[0, 0] == 177.75
    np.testing.assert_array_equal(
        np.round(out), [[178, 175, 216], [141, 133, 183], [106, 117, 167]]
    )


# --- separability ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, size",
    [
        (key, size)
        for key in SEPARABLE
        for size in (None, 4, 7, 15)
        if size is None or key not in PARAMETRIC or size in PARAMETRIC[key].sizes
    ],
)
def test_separable_kernels_have_exact_factors(key, size):
    k = L.get(key, size=size)
    assert k.factors is not None
    col, row = k.factors
    assert np.outer(col, row).tobytes() == k.weights.tobytes()


def test_separable_factors_apply_as_two_passes():
    # What the engine will do with the factors: a column pass then a row pass.
    image = rng_image()
    for key in SEPARABLE:
        k = L.get(key)
        col, row = k.factors
        two_pass = ndimage.correlate1d(
            ndimage.correlate1d(image, col, axis=0, mode="constant"), row, axis=1, mode="constant"
        )
        np.testing.assert_allclose(two_pass, correlate_same(image, k.weights), atol=1e-9)


def test_sobel_is_built_from_named_factors():
    np.testing.assert_array_equal(C.SOBEL_SMOOTH, [1, 2, 1])
    np.testing.assert_array_equal(C.CENTRAL_DIFF, [-1, 0, 1])
    col, row = L.get("sobel_x").factors
    np.testing.assert_array_equal(col, [1, 2, 1])
    np.testing.assert_array_equal(row, [-1, 0, 1])
