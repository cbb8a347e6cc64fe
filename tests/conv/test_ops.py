"""conv.ops (the convolution) against the lecture notes' worked examples, a scipy oracle, and
properties. Padding, pooling and activations have their own tests beside this one."""

import itertools

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from conv import ops
from conv.geometry import as_pair, resolve_padding, same_padding

# A kernel of distinct powers of two: any flip, transpose or shift gives a different sum. The
# exponents are permuted so that it is not separable (2 ** (3i + j) would be an outer product).
POW2 = 2.0 ** np.array([[0, 1, 2], [4, 3, 5], [8, 7, 6]])


def oracle(x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros", flip=False):
    """Float64 reference: numpy.pad, then scipy.signal.correlate2d per channel pair."""
    x = np.asarray(x, np.float64)
    w = np.asarray(weight, np.float64)
    if flip:
        w = w[:, :, ::-1, ::-1]
    sh, sw = as_pair(stride, "stride")
    dh, dw = as_pair(dilation, "dilation")
    (t, b), (l, r) = resolve_padding(padding, x.shape[1:], w.shape[2:], stride=stride,
                                         dilation=dilation)
    mode = ops.NUMPY_PAD_MODE[padding_mode]
    xp = np.pad(x, ((0, 0), (t, b), (l, r)), mode=mode)
    c_out, cpg, kh, kw = w.shape
    dilated = np.zeros((c_out, cpg, dh * (kh - 1) + 1, dw * (kw - 1) + 1))
    dilated[:, :, ::dh, ::dw] = w
    opg = c_out // groups
    outs = []
    for o in range(c_out):
        g = o // opg
        acc = sum(scipy.signal.correlate2d(xp[g * cpg + ci], dilated[o, ci], mode="valid")
                  for ci in range(cpg))
        outs.append(acc[::sh, ::sw] + (0 if bias is None else bias[o]))
    return np.stack(outs)


def close(got, expected, weight, x):
    """Agreement to float32 precision, relative to the largest possible |term sum|."""
    scale = np.abs(np.asarray(weight, np.float64)).sum(axis=(1, 2, 3)).max() * max(np.abs(x).max(), 1)
    assert got.shape == expected.shape
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6 * scale)


# ---------------------------------------------------------------------------------------------
# The lecture notes' worked examples, exact values
# ---------------------------------------------------------------------------------------------

def test_seed_vertical_edge_6x6_gives_0_30_30_0():
    x = np.array([[10, 10, 10, 0, 0, 0]] * 6, np.float32)[None]
    k = np.array([[1, 0, -1]] * 3, np.float32)[None, None]
    out = ops.conv2d(x, k)
    assert out.shape == (1, 4, 4)
    assert out[0].tolist() == [[0, 30, 30, 0]] * 4


def test_seed_vertical_edge_reversed_step_gives_negative_30():
    x = np.array([[0, 0, 0, 10, 10, 10]] * 6, np.float32)[None]
    k = np.array([[1, 0, -1]] * 3, np.float32)[None, None]
    assert ops.conv2d(x, k)[0].tolist() == [[0, -30, -30, 0]] * 4


GRID_5X5 = np.array([
    [206, 205, 247, 245, 244],
    [244, 161, 137, 244, 254],
    [192, 154, 75, 200, 249],
    [90, 109, 96, 143, 223],
    [67, 69, 107, 196, 236],
], np.float32)


def test_seed_gaussian_blur_5x5_rounds_to_the_notes_values():
    # The note prints one weight as 0.0125: a typo for 0.125 (the kernel is 1/16 [1 2 1; 2 4 2; 1 2 1]).
    k = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 16
    out = ops.conv2d(GRID_5X5[None], k[None, None])[0]
    assert np.round(out).astype(int).tolist() == [[178, 175, 216], [141, 133, 183], [106, 117, 167]]
    assert out[0, 0] == pytest.approx(177.75, abs=1e-4)  # 206/16 + 205/8 + ... + 75/16


def test_seed_n5_p1_f3_s2_gives_3x3():
    assert ops.conv2d(np.ones((1, 5, 5)), np.ones((1, 1, 3, 3)), padding=1, stride=2).shape == (1, 3, 3)


def test_seed_n5_p1_f3_s1_gives_5x5():
    assert ops.conv2d(np.ones((1, 5, 5)), np.ones((1, 1, 3, 3)), padding=1).shape == (1, 5, 5)


def test_seed_50x50x10_with_25_filters_gives_48x48x25():
    rng = np.random.default_rng(0)
    out = ops.conv2d(rng.random((10, 50, 50)), rng.random((25, 10, 3, 3)))
    assert out.shape == (25, 48, 48)


def test_seed_6x6x3_with_two_3x3x3_filters_gives_4x4x2_summing_channels():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, (3, 6, 6)).astype(np.float32)
    w = rng.integers(-1, 2, (2, 3, 3, 3)).astype(np.float32)
    b = np.array([1, 0], np.float32)
    out = ops.conv2d(x, w, b)
    assert out.shape == (2, 4, 4)
    # 27 multiplications per output value, plus its filter's bias
    assert out[1, 2, 3] == np.sum(x[:, 2:5, 3:6] * w[1]) + b[1]


# ---------------------------------------------------------------------------------------------
# Against the oracle
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ops.METHODS)
@pytest.mark.parametrize("padding_mode", ops.PADDING_MODES)
@pytest.mark.parametrize("padding", [0, 1, 2, "same", "full", (2, 0), ((0, 2), (1, 0))])
def test_single_channel_matches_oracle_with_powers_of_two_kernel(method, padding_mode, padding):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (1, 9, 11)).astype(np.float32)
    # separable needs a rank-1 kernel: outer products of powers of two are still distinct
    w = (np.outer([1, 2, 4], [1, 8, 64]) if method == "separable" else POW2)[None, None]
    kwargs = dict(padding=padding, padding_mode=padding_mode)
    close(ops.conv2d_using(method, x, w, **kwargs), oracle(x, w, **kwargs), w, x)


@pytest.mark.parametrize("method", ops.METHODS)
@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (3, 2), ((1, 2), (2, 1)), ((3, 1), (1, 3))])
@pytest.mark.parametrize("flip", [False, True])
def test_stride_dilation_flip_match_oracle(method, stride, dilation, flip):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 13, 12)).astype(np.float32)
    if method == "separable":
        w = np.einsum("oci,ocj->ocij", 2.0 ** rng.integers(0, 6, (3, 2, 3)),
                      2.0 ** rng.integers(0, 6, (3, 2, 2)))
    else:
        w = np.stack([np.stack([POW2[:, :2] * (o + 1), -POW2[:, :2]]) for o in range(3)])
    b = np.array([0.5, -1, 2])
    kwargs = dict(stride=stride, dilation=dilation, flip=flip, padding="same", padding_mode="reflect")
    close(ops.conv2d_using(method, x, w, b, **kwargs), oracle(x, w, b, **kwargs), w, x)


@pytest.mark.parametrize("method", ops.METHODS)
@pytest.mark.parametrize("groups,c_in,c_out", [(1, 3, 2), (3, 3, 3), (3, 3, 6), (2, 4, 2)])
def test_groups_match_oracle(method, groups, c_in, c_out):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(c_in, 10, 9)).astype(np.float32)
    cols, rows = 2.0 ** rng.integers(0, 5, (2, c_out, c_in // groups, 3))
    w = np.einsum("oci,ocj->ocij", cols, rows) if method == "separable" else \
        rng.normal(size=(c_out, c_in // groups, 3, 3))
    kwargs = dict(groups=groups, padding=1, padding_mode="circular")
    close(ops.conv2d_using(method, x, w, **kwargs), oracle(x, w, **kwargs), w, x)


def test_flip_is_true_convolution():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1, 8, 9))
    got = ops.conv2d(x, POW2[None, None], padding="same", flip=True)[0]
    expected = ndi.convolve(x[0], POW2, mode="constant")  # odd kernel: same centring as "same"
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)


def test_correlation_matches_scipy_ndimage_reflect_101():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(1, 12, 7))
    got = ops.conv2d(x, POW2[None, None], padding="same", padding_mode="reflect")[0]
    expected = ndi.correlate(x[0], POW2, mode="mirror")  # scipy 'mirror' = PyTorch 'reflect'
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("method", ops.METHODS)
def test_large_input_runs_in_parallel_bands_and_matches(method):
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, (3, 301, 257)).astype(np.float32)
    k = 7 if method != "fft" else 17
    if method == "separable":
        w = np.einsum("oi,oj->oij", rng.random((2, k)), rng.random((2, k)))[:, None].repeat(3, 1)
    else:
        w = rng.normal(size=(2, 3, k, k))
    kwargs = dict(padding="same", padding_mode="replicate", stride=(1, 2))
    close(ops.conv2d_using(method, x, w, **kwargs), oracle(x, w, **kwargs), w, x)


def test_even_kernel_same_padding_puts_the_odd_pixel_bottom_right():
    assert resolve_padding("same", (10, 10), (4, 2)) == ((1, 2), (0, 1))
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    w = np.zeros((1, 1, 2, 2), np.float32)
    w[0, 0, 0, 0] = 1  # picks the window's top-left: the output pixel itself
    np.testing.assert_array_equal(ops.conv2d(x, w, padding="same"), x)


def test_same_at_stride_2_is_tensorflow_same():
    for n in range(5, 12):
        out = ops.conv2d(np.ones((1, n, n)), np.ones((1, 1, 3, 3)), padding="same", stride=2)
        assert out.shape[1:] == (-(-n // 2), -(-n // 2))
    assert same_padding(10, 3, 2) == (0, 1)  # TF: total max((5-1)*2 + 3 - 10, 0) = 1, after
    assert same_padding(11, 3, 2) == (1, 1)


def test_full_padding_gives_every_overlap():
    x = np.ones((1, 4, 5), np.float32)
    out = ops.conv2d(x, np.ones((1, 1, 3, 3)), padding="full")
    assert out.shape == (1, 6, 7)
    assert out[0, 0, 0] == 1 and out[0, 2, 2] == 9


def test_uint8_input_never_wraps():
    x = np.full((1, 5, 5), 250, np.uint8)
    out = ops.conv2d(x, np.ones((1, 1, 3, 3)))
    assert out.dtype == np.float32 and np.all(out == 2250)


def test_zero_weights_give_zero_and_bias():
    out = ops.conv2d(np.ones((2, 5, 5)), np.zeros((3, 2, 3, 3)), np.array([1.0, 0, -2]))
    assert out[:, 0, 0].tolist() == [1, 0, -2]


# ---------------------------------------------------------------------------------------------
# Method choice
# ---------------------------------------------------------------------------------------------

def test_method_choice():
    rng = np.random.default_rng(8)
    g9 = np.exp(-np.linspace(-2, 2, 9) ** 2)
    assert ops.choose_method(np.outer(g9, g9)[None, None]) == "separable"
    # at 5x5 the direct loop measured faster than two 1-D passes (bench/calibrate_methods.py)
    g5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1])[None, None] / 256
    assert ops.choose_method(g5) == "direct"
    assert ops.choose_method(rng.normal(size=(1, 3, 3, 3))) == "direct"
    assert ops.choose_method(rng.normal(size=(1, 1, 31, 31))) == "fft"
    assert ops.choose_method(rng.normal(size=(8, 3, 15, 15))) == "fft"
    # a huge kernel with a tiny output (a learned kernel's gradient): the FFT would transform
    # the whole input for 9 outputs
    assert ops.choose_method(rng.normal(size=(1, 1, 256, 256)), in_hw=(258, 258)) == "direct"


def test_rank1_factors_are_exact_for_sobel():
    col, row = ops.rank1_factors(np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]]))
    np.testing.assert_array_equal(np.outer(col, row), [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    assert ops.rank1_factors(POW2) is None
    assert ops.rank1_factors(np.zeros((3, 3))) is None


def test_forcing_separable_on_a_full_rank_kernel_is_refused():
    with pytest.raises(ValueError, match="rank 1"):
        ops.conv2d_using("separable", np.ones((1, 5, 5)), POW2[None, None])


# ---------------------------------------------------------------------------------------------
# Window positions: one source for the computation and the animation
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stride,dilation,padding", [(1, 1, 0), (2, 1, 1), ((2, 3), (2, 1), "same")])
def test_every_output_value_is_the_dot_product_at_its_window(stride, dilation, padding):
    rng = np.random.default_rng(9)
    x = rng.integers(0, 10, (1, 9, 10)).astype(np.float32)
    w = POW2[None, None]
    pads = resolve_padding(padding, x.shape[1:], (3, 3), stride=stride, dilation=dilation)
    xp = ops.pad(x, pads)
    win = ops.Windows(xp.shape[1:], (3, 3), as_pair(stride, "s"), as_pair(dilation, "d"))
    out = ops.conv2d(x, w, stride=stride, dilation=dilation, padding=padding)
    assert out.shape[1:] == win.out_hw
    for i, j in itertools.product(range(win.out_hw[0]), range(win.out_hw[1])):
        window = xp[0][np.ix_(win.rows(i), win.cols(j))]
        assert out[0, i, j] == pytest.approx(float(np.sum(window * POW2)), rel=1e-6)


def test_the_modules_beside_it_are_importable_from_ops():
    from conv import activations, padding, pooling

    assert ops.pad is padding.pad and ops.NUMPY_PAD_MODE is padding.NUMPY_PAD_MODE
    assert ops.pool2d is pooling.pool2d and ops.activate is activations.activate
    assert all(hasattr(ops, name) for name in ops.__all__)


# ---------------------------------------------------------------------------------------------
# Every bad argument: ValueError naming the parameter, the value and what is allowed
# ---------------------------------------------------------------------------------------------

X = np.ones((3, 8, 8), np.float32)
W = np.ones((2, 3, 3, 3), np.float32)


@pytest.mark.parametrize("kwargs,words", [
    (dict(stride=0), ["stride", "0", ">= 1"]),
    (dict(stride=(1, -2)), ["stride", "-2"]),
    (dict(dilation=0), ["dilation", "0"]),
    (dict(stride=1.5), ["stride", "1.5"]),
    (dict(padding=-1), ["padding", "-1", ">= 0"]),
    (dict(padding="middle"), ["padding", "'middle'", "'same'"]),
    (dict(padding_mode="mirror"), ["padding_mode", "'mirror'", "'reflect'"]),
    (dict(groups=2), ["groups=2", "3"]),
    (dict(groups=0), ["groups", "0"]),
    (dict(padding=8, padding_mode="reflect"), ["reflect", "8", "8"]),
    (dict(padding=9, padding_mode="circular"), ["circular", "9"]),
    (dict(dilation=4), ["kernel", "9", "larger than the padded input", "8 + 0 + 0 = 8"]),
])
def test_bad_arguments_are_explained(kwargs, words):
    with pytest.raises(ValueError) as info:
        ops.conv2d(X, W, **kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("x,w,b,words", [
    (np.ones((8, 8)), W, None, ["x", "(C, H, W)", "x[None]"]),
    (X, np.ones((3, 3)), None, ["weight", "(C_out, C_in // groups, kH, kW)"]),
    (X, np.ones((2, 2, 3, 3)), None, ["2 input channels", "3 channels"]),
    (X, W, np.ones(3), ["bias", "(2,)"]),
    (np.where(np.eye(8, dtype=bool), np.nan, 1.0)[None].repeat(3, 0), W, None, ["x", "finite", "nan"]),
    (X, np.full((2, 3, 3, 3), np.inf), None, ["weight", "finite", "inf"]),
    (X, W, np.array([np.nan, 0]), ["bias", "finite"]),
    (np.array([[["a"]]]), W, None, ["x", "real numbers"]),
    (np.ones((3, 2, 2)), W, None, ["larger than the padded input", "2 + 0 + 0 = 2"]),
])
def test_bad_arrays_are_explained(x, w, b, words):
    with pytest.raises(ValueError) as info:
        ops.conv2d(x, w, b)
    for word in words:
        assert word in str(info.value)


def test_huge_but_finite_values_are_accepted():
    x = np.full((1, 4, 4), 3e37, np.float32)  # the float32 sum overflows: the exact check must pass
    assert ops.conv2d(x, np.ones((1, 1, 1, 1))).max() == pytest.approx(3e37)


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

geometry = st.tuples(
    st.integers(1, 12), st.integers(1, 12),  # H, W
    st.integers(1, 4), st.integers(1, 4),    # kH, kW
    st.integers(1, 3), st.integers(1, 3),    # stride
    st.integers(1, 2),                       # dilation
    st.integers(0, 2),                       # padding
)


@settings(max_examples=60, deadline=None)
@given(geometry, st.sampled_from(ops.METHODS))
def test_output_shape_is_the_formula(g, method):
    h, w, kh, kw, s, s2, d, p = g
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, h, w))
    weight = np.outer(rng.random(kh) + 0.5, rng.random(kw) + 0.5)[None, None]
    expected = [(n + 2 * p - d * (k - 1) - 1) // st_ + 1 for n, k, st_ in ((h, kh, s), (w, kw, s2))]
    if min(expected) < 1:
        with pytest.raises(ValueError):
            ops.conv2d_using(method, x, weight, stride=(s, s2), dilation=d, padding=p)
        return
    out = ops.conv2d_using(method, x, weight, stride=(s, s2), dilation=d, padding=p)
    assert list(out.shape[1:]) == expected


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 14), st.integers(3, 14), st.floats(-3, 3), st.floats(-3, 3),
       st.sampled_from(ops.PADDING_MODES), st.integers(0, 2 ** 31))
def test_linearity(h, w, a, b, mode, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(2, 2, h, w))
    k = rng.normal(size=(3, 2, 3, 3))
    kwargs = dict(padding=1, padding_mode=mode)
    lhs = ops.conv2d(a * x + b * y, k, **kwargs)
    rhs = a * ops.conv2d(x, k, **kwargs) + b * ops.conv2d(y, k, **kwargs)
    scale = (abs(a) + abs(b)) * np.abs(k).sum() * 5 + 1
    np.testing.assert_allclose(lhs, rhs, atol=1e-5 * scale)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 20), st.integers(3, 20), st.floats(0, 255), st.integers(0, 2 ** 31))
def test_zero_sum_kernel_on_a_constant_image_gives_zero_inside(h, w, value, seed):
    k = np.random.default_rng(seed).normal(size=(3, 3))
    k -= k.mean()
    out = ops.conv2d(np.full((1, h, w), value), k[None, None], padding="valid")
    np.testing.assert_allclose(out, 0, atol=1e-4 * (value + 1))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_pixel_in_a_large_image_is_found(bad):
    x = np.zeros((2, 700, 800), np.float32)  # large: the compiled parallel check runs
    x[1, 650, 3] = bad
    with pytest.raises(ValueError, match=r"x must be finite, got .* at index \(1, 650, 3\)"):
        ops.conv2d(x, np.ones((1, 2, 3, 3)))
