"""Tests for kernels.library: every kernel's defining property, checked against scipy as oracle.

Expected arrays and responses are written out by hand here (from the references and the lecture
notes), never copied from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, signal

import kernels.learned  # noqa: F401  (registers LeNet-5's filters, as the app does)
from kernels import library as L
from kernels.library import GROUPS, PARAMETRIC, Kernel

ALL_KEYS = [k.key for k in L.presets()]
FIXED_KEYS = [k for k in ALL_KEYS if k not in PARAMETRIC]

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


def correlate_same(image: np.ndarray, w: np.ndarray, mode: str = "constant") -> np.ndarray:
    """scipy.ndimage.correlate anchored like PyTorch 'same': cell ((k-1)//2, (k-1)//2).

    scipy anchors an even kernel at k//2; origin -1 moves it to (k-1)//2.
    """
    origin = [-1 if n % 2 == 0 else 0 for n in w.shape]
    return ndimage.correlate(image, w, mode=mode, cval=0.0, origin=origin)


def pytorch_same(image: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Zero 'same' padding as PyTorch does it (odd pixel bottom/right), then valid correlation."""
    kh, kw = w.shape
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = np.pad(image, ((top, kh - 1 - top), (left, kw - 1 - left)))
    return signal.correlate2d(padded, w, mode="valid")


def _rng_image(shape=(17, 19), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape).astype(np.float64)


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


def test_keys_are_unique_and_get_returns_the_preset():
    assert len(ALL_KEYS) == len(set(ALL_KEYS))
    assert L.keys() == ALL_KEYS
    for k in L.presets():
        assert L.get(k.key) == k
        # a kernel carries what is needed to rebuild it (what a shareable URL stores)
        assert L.get(k.key, size=k.size, sigma=k.sigma) == k


def test_required_keys_are_present():
    required = {"identity", "vertical_edge", "horizontal_edge", "horizontal_lines", "sobel_x",
                "sobel_y", "scharr_x", "scharr_y", "prewitt_x", "prewitt_y", "laplacian_4",
                "laplacian_8", "outline", "box", "gaussian", "gaussian_3x3", "sharpen",
                "emboss"}  # fmt: skip
    assert required <= set(ALL_KEYS)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_exact_arrays(key):
    # Bitwise equality: these are the numbers the app promises to apply.
    expected = np.asarray(EXPECTED[key], dtype=np.float64)
    assert L.get(key).weights.tobytes() == expected.tobytes()
    assert L.get(key).weights.shape == expected.shape


def test_module_constants_are_the_kernels():
    assert np.array_equal(L.SOBEL_X, L.get("sobel_x").weights)
    assert np.array_equal(L.SOBEL_Y, L.get("sobel_y").weights)
    assert np.array_equal(L.SCHARR_X, L.get("scharr_x").weights)
    assert np.array_equal(L.PREWITT_Y, L.get("prewitt_y").weights)
    assert np.array_equal(L.LAPLACIAN_4, L.get("laplacian_4").weights)
    assert not L.SOBEL_X.flags.writeable and not L.SOBEL_SMOOTH.flags.writeable


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


@pytest.mark.parametrize("size", L.PARAMETRIC["log"].sizes)
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


def test_sharpen_and_outline_are_built_from_the_laplacians():
    ident = L.get("identity").weights
    assert np.array_equal(L.get("sharpen").weights, ident - L.get("laplacian_4").weights)
    assert np.array_equal(L.get("outline").weights, -L.get("laplacian_8").weights)


@pytest.mark.parametrize("key", ["sharpen", "unsharp_5x5", "emboss"])
def test_sharpening_and_emboss_keep_flat_areas(key):
    assert L.get(key).weights.sum() == 1.0


# --- blurs ----------------------------------------------------------------------------------------


def _check_blur(w: np.ndarray, *, symmetric: bool = True) -> None:
    assert np.all(w >= 0)
    assert w.sum() == pytest.approx(1.0, rel=0, abs=1e-14)
    if symmetric:
        assert np.array_equal(w, np.fliplr(w))
        assert np.array_equal(w, np.flipud(w))


@pytest.mark.parametrize("key", BLURS)
def test_blurs_at_default_size(key):
    _check_blur(L.get(key).weights)


@pytest.mark.parametrize("size", range(1, 16))
def test_box_every_size(size):
    k = L.get("box", size=size)
    assert k.weights.shape == (size, size)
    assert np.all(k.weights == 1 / (size * size))  # the float a person gets typing 1/size^2
    _check_blur(k.weights)
    assert np.array_equal(k.weights, k.weights.T)
    assert L.box(size) == k


@pytest.mark.parametrize("size", range(1, 16, 2))
@pytest.mark.parametrize("sigma", [None, 0.1, 0.5, 1.0, 2.0, 20.0])
def test_gaussian_every_odd_size(size, sigma):
    k = L.get("gaussian", size=size, sigma=sigma)
    w = k.weights
    assert w.shape == (size, size)
    _check_blur(w)
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
    assert L.gaussian(size, sigma) == k


@pytest.mark.parametrize("size, sigma", [(3, 0.8), (5, 1.1), (7, 1.4), (9, 1.7), (1, 0.5)])
def test_gaussian_default_sigma_is_opencvs(size, sigma):
    assert L.get("gaussian", size=size).sigma == pytest.approx(sigma)


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


@pytest.mark.parametrize("size", range(1, 16))
def test_motion_blur_every_size(size):
    w = L.get("motion_blur", size=size).weights
    _check_blur(w, symmetric=False)
    assert np.array_equal(w, np.fliplr(w))
    row = (size - 1) // 2
    assert np.all(w[row] == 1 / size)
    assert np.count_nonzero(w) == size


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
    image = _rng_image()
    for key in SEPARABLE:
        k = L.get(key)
        col, row = k.factors
        two_pass = ndimage.correlate1d(
            ndimage.correlate1d(image, col, axis=0, mode="constant"), row, axis=1, mode="constant"
        )
        np.testing.assert_allclose(two_pass, correlate_same(image, k.weights), atol=1e-9)


def test_sobel_is_built_from_named_factors():
    np.testing.assert_array_equal(L.SOBEL_SMOOTH, [1, 2, 1])
    np.testing.assert_array_equal(L.CENTRAL_DIFF, [-1, 0, 1])
    col, row = L.get("sobel_x").factors
    np.testing.assert_array_equal(col, [1, 2, 1])
    np.testing.assert_array_equal(row, [-1, 0, 1])


# --- identity -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(1, 16))
def test_identity_leaves_the_image_unchanged(size):
    image = _rng_image(seed=size)
    w = L.get("identity", size=size).weights
    assert w.sum() == 1 and np.count_nonzero(w) == 1
    np.testing.assert_array_equal(correlate_same(image, w), image)
    # and under PyTorch's 'same' padding, which is what the engine implements
    np.testing.assert_array_equal(pytorch_same(image, w), image)
    assert L.identity(size) == L.get("identity", size=size)


def test_even_identity_puts_the_one_upper_left_of_centre():
    w = L.identity(4).weights
    assert w[1, 1] == 1.0
    assert "row 2, column 2" in L.identity(4).description


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


def test_fixed_kernels_ignore_size_and_sigma():
    assert L.get("sobel_x", size=7, sigma=2.0) == L.get("sobel_x")
    assert L.get("box", size=5, sigma=3.0) == L.get("box", size=5)


@pytest.mark.parametrize("key", ["sobel", "", "SOBEL_X", None, 3])
def test_unknown_key_names_it_and_lists_allowed(key):
    with pytest.raises(ValueError) as info:
        L.get(key)
    message = str(info.value)
    assert repr(key) in message
    assert "sobel_x" in message and "gaussian" in message and "identity" in message


# --- order and registry ---------------------------------------------------------------------------


def test_presets_are_ordered_by_group_and_by_group_matches():
    ranks = [GROUPS.index(k.group) for k in L.presets()]
    assert ranks == sorted(ranks)
    groups = L.by_group()
    assert list(groups) == [g for g in GROUPS if g in groups]
    assert [k for ks in groups.values() for k in ks] == L.presets()
    assert {"edges", "smoothing", "sharpening", "other"} <= set(groups)


def _learned_kernel(key="learned_test_edge", value=0.5):
    return Kernel(
        key=key,
        name="Learned test edge",
        group="learned",
        weights=np.array([[value, -value]]),
        description="A kernel registered by a test.",
        detects="vertical edges",
        reference="this test",
    )


@pytest.fixture
def registered():
    kernel = L.register(_learned_kernel())
    try:
        yield kernel
    finally:
        L._unregister(kernel.key)


def test_register_adds_a_learned_kernel(registered):
    assert L.get(registered.key) is registered
    # other learned kernels (LeNet-5's) may be registered already: this one comes last
    assert L.by_group()["learned"][-1] is registered
    assert L.presets()[-1] is registered
    assert registered.key in L.keys()


def test_register_is_idempotent_and_refuses_clashes(registered):
    assert L.register(_learned_kernel()) is registered  # re-import of the registering module
    with pytest.raises(ValueError, match="learned_test_edge"):
        L.register(_learned_kernel(value=0.25))
    with pytest.raises(ValueError, match="sobel_x"):
        L.register(
            Kernel(
                key="sobel_x",
                name="x",
                group="edges",
                weights=np.ones((3, 3)),
                description="d",
                detects="d",
                reference="r",
            )
        )
    with pytest.raises(ValueError, match="parametric"):
        L.register(_learned_kernel(key="gaussian"))
    with pytest.raises(ValueError, match="`kernel`"):
        L.register("sobel_x")


def test_by_group_leaves_out_empty_groups():
    assert all(kernels for kernels in L.by_group().values())


# --- the Kernel record ----------------------------------------------------------------------------


def test_kernel_copies_and_freezes_its_arrays():
    source = np.array([[1.0, -1.0]])
    k = _learned_kernel()
    k2 = Kernel(**{**_kernel_fields(k), "weights": source})
    source[0, 0] = 99.0
    assert k2.weights[0, 0] == 1.0 and not k2.weights.flags.writeable
    with pytest.raises(AttributeError):
        k2.key = "other"  # frozen


def _kernel_fields(k: Kernel) -> dict:
    return {f: getattr(k, f) for f in ("key", "name", "group", "weights", "description",
                                       "detects", "reference", "factors")}  # fmt: skip


def test_kernel_equality_and_hash():
    a, b = _learned_kernel(), _learned_kernel()
    assert a == b and hash(a) == hash(b)
    assert a != _learned_kernel(value=0.25)
    assert a != Kernel(**{**_kernel_fields(a), "name": "Other name"})
    assert a != "learned_test_edge"
    assert len({a, b, _learned_kernel(value=0.25)}) == 2
    assert {a: 1}[b] == 1
    assert L.get("sobel_x") == Kernel(**_kernel_fields(L.get("sobel_x")))


@pytest.mark.parametrize(
    "change, match",
    [
        ({"weights": np.ones(3)}, "2-dimensional"),
        ({"weights": np.ones((16, 3))}, "1x1 to 15x15"),
        ({"weights": np.ones((0, 3))}, "1x1 to 15x15"),
        ({"weights": np.array([[1.0, np.nan]])}, "finite"),
        ({"weights": np.array([[1.0, np.inf]])}, "finite"),
        ({"weights": np.array([["a", "b"]])}, "real numbers"),
        ({"weights": np.array([[1j, 0]])}, "real numbers"),
        ({"group": "misc"}, "`group`"),
        ({"key": "Bad Key"}, "`key`"),
        ({"description": "two\nlines"}, "`description`"),
        ({"detects": ""}, "`detects`"),
        ({"factors": (np.array([1.0]), np.array([0.5, -0.25]))}, "exactly"),
        ({"factors": (np.array([1.0, 2.0]), np.array([0.5, -0.5]))}, "lengths"),
        ({"factors": (np.array([[1.0]]), np.array([0.5, -0.5]))}, "1-D"),
    ],
)
def test_kernel_validation(change, match):
    with pytest.raises(ValueError, match=match):
        Kernel(**{**_kernel_fields(_learned_kernel()), **change})


def test_kernel_accepts_exact_factors_and_integer_weights():
    k = Kernel(**{**_kernel_fields(_learned_kernel()), "weights": np.array([[1, -1]]),
                  "factors": (np.array([1]), np.array([1, -1]))})  # fmt: skip
    assert k.weights.dtype == np.float64 and k.factors[1].dtype == np.float64


def test_docstring_examples_run():
    # The docstrings draw the exact arrays; running their examples keeps them honest.
    import doctest

    from kernels import text

    for module in (L, text):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("key", ["sobel_x", "gaussian", "log"])
def test_kernel_pickles_back_equal_and_read_only(key):
    import pickle

    k = L.get(key)
    again = pickle.loads(pickle.dumps(k))
    assert again == k
    assert not again.weights.flags.writeable
    assert again.factors is None or not again.factors[0].flags.writeable
