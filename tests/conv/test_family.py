"""The convolution family (conv/family.py) against slow float64 references written here, the
adjoint identity, finite differences, textbook configurations, and every bad argument.

No PyTorch: the references are loops over the definitions. (The operations were also compared
once by hand with PyTorch 2.13 in a throwaway environment; two of its results are quoted in
``test_values_quoted_from_pytorch``.)
"""

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conv import family, geometry, ops, warm
from conv.ops import conv1d, conv2d_grad, conv_transpose1d, conv_transpose2d, im2col

ROOT = Path(__file__).resolve().parents[2]

# Distinct powers of two, permuted so that the kernel is not separable: a flip, a transpose or
# a shift of the kernel gives a different sum.
POW2 = 2.0 ** np.array([[0, 1, 2], [4, 3, 5], [8, 7, 6]])


# ---------------------------------------------------------------------------------------------
# Slow references: loops over the definitions, float64
# ---------------------------------------------------------------------------------------------

def ref_conv2d(x, w, b=None, *, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1),
               groups=1):
    """out[o, i, j] = b[o] + sum_{c, ky, kx} w[o, c, ky, kx] * xpad[g*cpg + c, i*sh + ky*dh,
    j*sw + kx*dw], zeros outside the input (a loop over the terms, every output at once)."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    (sh, sw), (dh, dw), ((t, bo), (l, r)) = stride, dilation, pads
    xp = np.pad(x, ((0, 0), (t, bo), (l, r)))
    c_out, cpg, kh, kw = w.shape
    h_out = (xp.shape[1] - dh * (kh - 1) - 1) // sh + 1
    w_out = (xp.shape[2] - dw * (kw - 1) - 1) // sw + 1
    opg = c_out // groups
    out = np.zeros((c_out, h_out, w_out))
    for o, c, ky, kx in itertools.product(range(c_out), range(cpg), range(kh), range(kw)):
        rows = ky * dh + sh * np.arange(h_out)
        cols = kx * dw + sw * np.arange(w_out)
        out[o] += w[o, c, ky, kx] * xp[(o // opg) * cpg + c][np.ix_(rows, cols)]
    if b is not None:
        out += np.asarray(b, np.float64)[:, None, None]
    return out


def ref_conv_transpose2d(x, w, b=None, *, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                         dilation=(1, 1), groups=1):
    """Scatter: input (c, i, j) through tap (ky, kx) adds x * w[c, o, ky, kx] to output
    (i*sh - ph + ky*dh, j*sw - pw + kx*dw) of every output o of its group."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = stride, padding, output_padding, dilation
    c_in, opg, kh, kw = w.shape
    h, wd = x.shape[1:]
    h_out = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1
    w_out = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1
    cpg = c_in // groups
    out = np.zeros((opg * groups, h_out, w_out))
    for c, i, j, ky, kx in itertools.product(range(c_in), range(h), range(wd), range(kh),
                                             range(kw)):
        oi, oj = i * sh - ph + ky * dh, j * sw - pw + kx * dw
        if 0 <= oi < h_out and 0 <= oj < w_out:
            g = c // cpg
            for o in range(opg):
                out[g * opg + o, oi, oj] += x[c, i, j] * w[c, o, ky, kx]
    if b is not None:
        out += np.asarray(b, np.float64)[:, None, None]
    return out


def ref_conv1d(x, w, b=None, *, stride=1, pads=(0, 0), dilation=1, groups=1,
               padding_mode="zeros"):
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    xp = np.pad(x, ((0, 0), pads), mode=ops.NUMPY_PAD_MODE[padding_mode])
    c_out, cpg, k = w.shape
    n_out = (xp.shape[1] - dilation * (k - 1) - 1) // stride + 1
    opg = c_out // groups
    out = np.zeros((c_out, n_out))
    for o, t, c, kk in itertools.product(range(c_out), range(n_out), range(cpg), range(k)):
        out[o, t] += w[o, c, kk] * xp[(o // opg) * cpg + c, t * stride + kk * dilation]
    if b is not None:
        out += np.asarray(b, np.float64)[:, None]
    return out


def ref_conv_transpose1d(x, w, b=None, *, stride=1, padding=0, output_padding=0, dilation=1,
                         groups=1):
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    c_in, opg, k = w.shape
    n = x.shape[1]
    n_out = (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    cpg = c_in // groups
    out = np.zeros((opg * groups, n_out))
    for c, i, kk, o in itertools.product(range(c_in), range(n), range(k), range(opg)):
        t = i * stride - padding + kk * dilation
        if 0 <= t < n_out:
            out[(c // cpg) * opg + o, t] += x[c, i] * w[c, o, kk]
    if b is not None:
        out += np.asarray(b, np.float64)[:, None]
    return out


def ref_im2col(x, k, *, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1)):
    """Row (c, ky, kx), column i*W_out + j: the padded input under that tap of that window."""
    (kh, kw), (sh, sw), (dh, dw) = k, stride, dilation
    xp = np.pad(np.asarray(x, np.float64), ((0, 0), *pads))
    c = xp.shape[0]
    h_out = (xp.shape[1] - dh * (kh - 1) - 1) // sh + 1
    w_out = (xp.shape[2] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((c * kh * kw, h_out * w_out))
    for ch, ky, kx, i, j in itertools.product(range(c), range(kh), range(kw), range(h_out),
                                              range(w_out)):
        out[(ch * kh + ky) * kw + kx, i * w_out + j] = xp[ch, i * sh + ky * dh, j * sw + kx * dw]
    return out


def close(got, expected, scale):
    """Float32 agreement, relative to ``scale`` (the largest possible |sum of terms|)."""
    assert got.shape == expected.shape
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=3e-6 * max(scale, 1.0))


def abs_scale(ref, *args, **kwargs):
    """The reference applied to absolute values: a bound on every |term sum|."""
    return float(np.abs(ref(*(np.abs(np.asarray(a, np.float64)) if a is not None else None
                             for a in args), **kwargs)).max())


# ---------------------------------------------------------------------------------------------
# Textbook configurations (Dumoulin & Visin, "A guide to convolution arithmetic", sec. 4)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,k,s,p,op,expected", [
    (2, 3, 1, 0, 0, 4),  # no zero padding, unit strides, transposed: 2x2 -> 4x4
    (5, 3, 1, 1, 0, 5),  # half (same) padding, transposed: 5x5 -> 5x5
    (7, 3, 1, 2, 0, 5),  # full padding, transposed: 7x7 -> 5x5
    (2, 3, 2, 0, 0, 5),  # no zero padding, non-unit strides, transposed: 2x2 -> 5x5
    (3, 3, 2, 1, 0, 5),  # zero padding, non-unit strides, transposed: 3x3 -> 5x5
    (3, 3, 2, 1, 1, 6),  # ... odd: the output_padding picks 6x6
])
def test_conv_arithmetic_transposed_configurations(n, k, s, p, op, expected):
    out = conv_transpose2d(np.ones((1, n, n)), np.ones((1, 1, k, k)), stride=s, padding=p,
                           output_padding=op)
    assert out.shape == (1, expected, expected)
    # ... and the direct convolution of the same settings maps the output size back to n
    assert ops.conv2d(np.ones((1, expected, expected)), np.ones((1, 1, k, k)), stride=s,
                      padding=p).shape == (1, n, n)


def test_transposed_2x2_to_4x4_counts_the_overlaps():
    """Every output counts the (input, tap) pairs that land on it."""
    out = conv_transpose2d(np.ones((1, 2, 2)), np.ones((1, 1, 3, 3)))[0]
    assert out.tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]


def test_transposed_stride_2_gives_the_checkerboard():
    """k = 3, s = 2, p = 1: even outputs get one tap per axis, odd ones two (the uneven overlap
    behind transposed convolutions' checkerboard artefacts)."""
    out = conv_transpose2d(np.ones((1, 3, 3)), np.ones((1, 1, 3, 3)), stride=2, padding=1)[0]
    row_a, row_b = [1, 2, 1, 2, 1], [2, 4, 2, 4, 2]
    assert out.tolist() == [row_a, row_b, row_a, row_b, row_a]


def test_values_quoted_from_pytorch():
    """Results of torch.nn.functional 2.13 (float64), computed once by hand."""
    x = np.array([[[1, 2], [3, 4]]], np.float32)
    out = conv_transpose2d(x, POW2[None, None], stride=2, padding=1, output_padding=1)
    assert out[0].tolist() == [[8, 64, 16, 64], [134, 592, 264, 144], [24, 160, 32, 128],
                               [384, 1216, 512, 256]]
    out = conv_transpose1d(np.array([[1, 2, 3, 4, 5, 6]]), np.array([[[1, 2, 4]]]), stride=3,
                           dilation=2, padding=1)
    assert out[0].tolist() == [0, 2, 2, 4, 4, 3, 8, 6, 4, 12, 8, 5, 16, 10, 6, 20, 12, 0]


def test_conv1d_is_a_matrix_and_conv_transpose1d_its_transpose():
    """The notes' view of a 1-D convolution as a matrix whose rows are the shifted kernel: the
    transposed convolution multiplies by that matrix's transpose (hence its name)."""
    k = np.array([[[1.0, 2.0, 4.0]]])
    n, s = 9, 2
    eye = np.eye(n)
    matrix = np.stack([conv1d(e[None], k, stride=s)[0] for e in eye], axis=1)  # (out, n)
    assert matrix.shape == (4, 9)
    assert matrix[1].tolist() == [0, 0, 1, 2, 4, 0, 0, 0, 0]  # row 1: the kernel at 2*1
    y = np.array([[1.0, -2.0, 3.0, 5.0]])
    back = conv_transpose1d(y, k, stride=s)  # (4 - 1)*2 + 3 = 9 samples: x's length
    np.testing.assert_allclose(back[0], matrix.T @ y[0])


# ---------------------------------------------------------------------------------------------
# Against the references
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stride,padding,output_padding,dilation", [
    (1, 0, 0, 1), (2, 0, 0, 1), (2, 1, 1, 1), (3, 2, 2, 1), ((2, 3), (1, 0), (0, 2), 1),
    (1, 1, 1, 2), (2, 2, 0, 2), ((3, 1), (0, 3), (1, 0), (2, 3)), (2, 4, 1, 1), (1, 3, 0, 1),
])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv_transpose2d_matches_the_scatter_reference(stride, padding, output_padding,
                                                        dilation, groups):
    rng = np.random.default_rng(0)
    x = rng.integers(-8, 9, (4, 5, 6)).astype(np.float32)
    w = np.stack([np.stack([POW2 * (c + 1) * (-1) ** o for o in range(3)]) for c in range(4)])
    b = np.array([0.5, -1, 2, 3, -4, 0.25])[:3 * groups]
    pair = geometry.as_pair
    kwargs = dict(stride=pair(stride, "s"), padding=pair(padding, "p", minimum=0),
                  output_padding=pair(output_padding, "op", minimum=0),
                  dilation=pair(dilation, "d"), groups=groups)
    got = conv_transpose2d(x, w, b, **kwargs)
    close(got, ref_conv_transpose2d(x, w, b, **kwargs),
          abs_scale(ref_conv_transpose2d, x, w, b, **kwargs))


def test_conv_transpose2d_channels_and_depthwise():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 7, 4))
    for w, groups in [(rng.normal(size=(3, 5, 2, 3)), 1), (rng.normal(size=(3, 2, 4, 4)), 3)]:
        kwargs = dict(stride=(2, 2), padding=(1, 1), output_padding=(1, 0), dilation=(1, 1),
                      groups=groups)
        close(conv_transpose2d(x, w, **kwargs), ref_conv_transpose2d(x, w, **kwargs),
              abs_scale(ref_conv_transpose2d, x, w, **kwargs))


def test_conv_transpose2d_in_bands_and_large_kernels(monkeypatch):
    """Several bands of rows (a tiny band budget), and a kernel large enough for conv2d's FFT."""
    monkeypatch.setattr(family, "_BAND_BYTES", 4096)
    monkeypatch.setattr(family, "_CHUNK_BYTES", 256)  # the interleaving by chunks of rows too
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 23, 9)).astype(np.float32)
    w = rng.normal(size=(2, 3, 4, 3)).astype(np.float32)
    kwargs = dict(stride=(3, 2), padding=(2, 1), output_padding=(1, 1), dilation=(1, 1))
    close(conv_transpose2d(x, w, **kwargs), ref_conv_transpose2d(x, w, **kwargs),
          abs_scale(ref_conv_transpose2d, x, w, **kwargs))
    monkeypatch.undo()
    big = rng.normal(size=(1, 1, 19, 19))
    x = rng.normal(size=(1, 24, 20))
    assert ops.choose_method(big, in_hw=(60, 56)) == "fft"
    close(conv_transpose2d(x, big), ref_conv_transpose2d(x, big),
          abs_scale(ref_conv_transpose2d, x, big))


def test_conv_transpose2d_on_a_large_map_equals_zero_insertion():
    """On the thread pool (bands, chunks): the textbook method, stride - 1 zeros between the
    input pixels then conv2d with the flipped kernel (its channel axes swapped)."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(4, 320, 300)).astype(np.float32)
    w = rng.normal(size=(4, 3, 4, 4)).astype(np.float32)
    got = conv_transpose2d(x, w, stride=2, padding=1)
    assert got.shape == (3, 640, 600)
    up = np.zeros((4, 639, 599), np.float32)
    up[:, ::2, ::2] = x
    want = ops.conv2d(up, w.swapaxes(0, 1)[:, :, ::-1, ::-1], padding=2)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())


def test_conv_transpose2d_where_no_tap_reaches_an_output():
    """k = 1, stride 3: two of every three outputs get nothing but the bias."""
    out = conv_transpose2d(np.ones((1, 2, 2)), np.full((1, 2, 1, 1), 2.0), np.array([1.0, -1]),
                           stride=3, output_padding=2)
    assert out.shape == (2, 6, 6)
    expected = np.full((6, 6), 1.0)
    expected[::3, ::3] = 3
    np.testing.assert_array_equal(out[0], expected)
    np.testing.assert_array_equal(out[1], expected - 2)


CONV1D_CASES = [
    (mode, *case) for mode in ops.PADDING_MODES for case in [
        (1, 0, 1), (2, 1, 1), (3, (2, 0), 2), (1, "same", 2), (1, "full", 1), (2, "valid", 1),
        (2, "same", 1), (1, "causal", 1), (1, "causal", 3)]
    # causal with reflect or circular would read later samples: refused (the bad arguments)
    if not (case[1] == "causal" and mode in ("reflect", "circular"))
]


@pytest.mark.parametrize("padding_mode,stride,padding,dilation", CONV1D_CASES)
def test_conv1d_matches_the_reference(padding_mode, stride, padding, dilation):
    rng = np.random.default_rng(3)
    x = rng.integers(-9, 10, (4, 11)).astype(np.float32)
    w = 2.0 ** rng.permutation(24).reshape(3, 2, 4)[:, :, :3]  # distinct powers of two
    w = np.concatenate([w, -w])  # 6 filters, 2 groups of 3
    b = np.arange(6.0)
    pads = geometry.resolve_padding_1d(padding, 11, 3, stride=stride, dilation=dilation)
    got = conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=2,
                 padding_mode=padding_mode)
    kwargs = dict(stride=stride, pads=pads, dilation=dilation, groups=2,
                  padding_mode=padding_mode)
    close(got, ref_conv1d(x, w, b, **kwargs), abs_scale(ref_conv1d, x, w, b, **kwargs))


@pytest.mark.parametrize("stride,padding,output_padding,dilation,groups", [
    (1, 0, 0, 1, 1), (2, 1, 1, 1, 1), (3, 2, 2, 1, 2), (2, 0, 1, 3, 1), (1, 4, 0, 2, 2),
])
def test_conv_transpose1d_matches_the_reference(stride, padding, output_padding, dilation,
                                                groups):
    rng = np.random.default_rng(4)
    x = rng.integers(-9, 10, (4, 7)).astype(np.float32)
    w = 2.0 ** rng.permutation(32).reshape(4, 2, 4)
    kwargs = dict(stride=stride, padding=padding, output_padding=output_padding,
                  dilation=dilation, groups=groups)
    close(conv_transpose1d(x, w, np.ones(2 * groups), **kwargs),
          ref_conv_transpose1d(x, w, np.ones(2 * groups), **kwargs),
          abs_scale(ref_conv_transpose1d, x, w, np.ones(2 * groups), **kwargs))


@pytest.mark.parametrize("k,stride,padding,dilation", [
    (3, 1, 0, 1), ((2, 3), (2, 1), (1, 2), (1, 2)), (1, 3, 0, 1), (3, 2, "same", 1),
    ((4, 2), 1, ((0, 2), (1, 0)), (2, 1)), (3, 1, "full", 1),
])
def test_im2col_is_unfolds_layout(k, stride, padding, dilation):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 7, 8)).astype(np.float32)
    kh, kw = geometry.as_pair(k, "k")
    layer = geometry.conv_geometry((7, 8), (kh, kw), stride=stride, padding=padding,
                                   dilation=dilation)
    cols = im2col(x, k, stride=stride, padding=padding, dilation=dilation)
    ref = ref_im2col(x, (kh, kw), stride=geometry.as_pair(stride, "s"), pads=layer.padding,
                     dilation=geometry.as_pair(dilation, "d"))
    np.testing.assert_array_equal(cols, ref.astype(np.float32))  # a copy: exact
    # the matrix of the convolution: weight (C_out, C*kH*kW) @ columns
    w = rng.normal(size=(3, 2, kh, kw)).astype(np.float32)
    conv = ops.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    product = w.reshape(3, -1).astype(np.float64) @ cols
    np.testing.assert_allclose(conv.reshape(3, -1), product, rtol=1e-5, atol=1e-5)


def test_im2col_layout_by_example():
    """PyTorch's documented unfold of a 3x3 arange with a 2x2 kernel."""
    cols = im2col(np.arange(9).reshape(1, 3, 3), 2)
    assert cols.tolist() == [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]


# ---------------------------------------------------------------------------------------------
# The adjoint identity: <conv2d(x, w), y> == <x, conv_transpose2d(y, w)>
# ---------------------------------------------------------------------------------------------

def inner(a, b) -> float:
    return float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))


@settings(max_examples=80, deadline=None)
@given(h=st.integers(1, 13), w=st.integers(1, 13), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sh=st.integers(1, 3), sw=st.integers(1, 3), dh=st.integers(1, 3), dw=st.integers(1, 2),
       ph=st.integers(0, 3), pw=st.integers(0, 3), groups=st.sampled_from([1, 2]),
       cpg=st.integers(1, 2), opg=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_transposed_is_the_adjoint_of_conv2d(h, w, kh, kw, sh, sw, dh, dw, ph, pw, groups, cpg,
                                              opg, seed):
    rows = geometry.Axis(h, kh, sh, dh, ph, ph)
    cols = geometry.Axis(w, kw, sw, dw, pw, pw)
    assume(rows.fits and cols.fits)
    rng = np.random.default_rng(seed)
    c_in, c_out = groups * cpg, groups * opg
    x = rng.normal(size=(c_in, h, w))
    weight = rng.normal(size=(c_out, cpg, kh, kw))
    kwargs = dict(stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=groups)
    y = rng.normal(size=(c_out, rows.out, cols.out))
    # the output_padding that gives back x's size: the rows the floor division dropped
    op = (h - geometry.transposed_out_size(rows.out, kh, sh, ph, ph, dh),
          w - geometry.transposed_out_size(cols.out, kw, sw, pw, pw, dw))
    assume(op[0] < max(sh, dh) and op[1] < max(sw, dw))  # PyTorch's rule
    lhs = inner(ops.conv2d(x, weight, **kwargs), y)
    back = conv_transpose2d(y, weight, output_padding=op, **kwargs)
    assert back.shape == x.shape
    rhs = inner(x, back)
    scale = inner(np.abs(ops.conv2d(np.abs(x), np.abs(weight), **kwargs)), np.abs(y))
    assert abs(lhs - rhs) <= 1e-5 * scale + 1e-9


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 30), k=st.integers(1, 5), s=st.integers(1, 4), d=st.integers(1, 3),
       p=st.integers(0, 4), seed=st.integers(0, 2**16))
def test_conv_transpose1d_is_the_adjoint_of_conv1d(n, k, s, d, p, seed):
    axis = geometry.Axis(n, k, s, d, p, p)
    assume(axis.fits)
    op = n - geometry.transposed_out_size(axis.out, k, s, p, p, d)
    assume(op < max(s, d))
    rng = np.random.default_rng(seed)
    x, w, y = rng.normal(size=(2, n)), rng.normal(size=(3, 2, k)), rng.normal(size=(3, axis.out))
    lhs = inner(conv1d(x, w, stride=s, padding=p, dilation=d), y)
    # conv1d's weight (C_out, C_in, k), read as a transposed one (C_in' = C_out, C_out' = C_in)
    rhs = inner(x, conv_transpose1d(y, w, stride=s, padding=p, output_padding=op, dilation=d))
    scale = inner(conv1d(np.abs(x), np.abs(w), stride=s, padding=p, dilation=d), np.abs(y))
    assert abs(lhs - rhs) <= 1e-5 * scale + 1e-9


# ---------------------------------------------------------------------------------------------
# conv2d_grad: finite differences
# ---------------------------------------------------------------------------------------------

GRAD_CASES = [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=2, padding=1, dilation=1, groups=1),
    dict(stride=(2, 3), padding=(2, 0), dilation=(1, 2), groups=2),
    dict(stride=1, padding="same", dilation=(2, 1), groups=1),  # columns (0, 1): asymmetric
    dict(stride=3, padding="valid", dilation=1, groups=2),  # the floor drops input rows
    dict(stride=1, padding="full", dilation=1, groups=1),
]


@pytest.mark.parametrize("kwargs", GRAD_CASES)
def test_conv2d_grad_matches_finite_differences(kwargs):
    """Loss = sum(y**2) / 2 + <y, r> for y = conv2d(x, w) + b: dL/dy = y + r. The gradients the
    engine gives (float32) against central differences of the float64 reference (h = 1e-4:
    the loss is quadratic, so the differences are exact up to rounding)."""
    rng = np.random.default_rng(6)
    g = kwargs["groups"]
    x = rng.normal(size=(2 * g, 7, 8))
    w = rng.normal(size=(2 * g, 2, 3, 2))
    b = rng.normal(size=2 * g)
    layer = ops.check_conv_args(x.shape, w.shape, **{k: v for k, v in kwargs.items()})
    (sh, sw), (dh, dw) = (geometry.as_pair(kwargs[k], k) for k in ("stride", "dilation"))
    ref = dict(stride=(sh, sw), pads=layer.padding, dilation=(dh, dw), groups=g)
    r = rng.normal(size=(2 * g, *layer.out_shape))

    def loss(x, w, b):
        y = ref_conv2d(x, w, b, **ref)
        return float(np.sum(y**2) / 2 + np.sum(y * r))

    y = ref_conv2d(x, w, b, **ref)
    grad_x, grad_w, grad_b = conv2d_grad(x, w, y + r, **kwargs)
    assert grad_x.shape == x.shape and grad_w.shape == w.shape and grad_b.shape == b.shape
    assert grad_x.dtype == grad_w.dtype == grad_b.dtype == np.float32
    h = 1e-4
    params = {"x": x, "w": w, "b": b}
    for (name, arr), got in zip(params.items(), (grad_x, grad_w, grad_b)):
        fd = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            plus, minus = arr.copy(), arr.copy()
            plus[idx] += h
            minus[idx] -= h
            fd[idx] = (loss(**{**params, name: plus}) - loss(**{**params, name: minus})) / (2 * h)
        np.testing.assert_allclose(got, fd, rtol=1e-4, atol=1e-4 * np.abs(fd).max(),
                                   err_msg=f"grad_{name}")


def test_conv2d_grad_by_finite_differences_of_the_engine_itself():
    """The engine's float32 conv2d, differentiated numerically along random directions, agrees
    with its gradients (looser: float32 rounding in the differences)."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 12, 10)).astype(np.float32)
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    kwargs = dict(stride=2, padding=1, dilation=1)
    r = rng.normal(size=ops.conv2d(x, w, **kwargs).shape).astype(np.float32)
    grad_x, grad_w, _ = conv2d_grad(x, w, r, **kwargs)

    def loss(x_, w_):
        return inner(ops.conv2d(x_, w_, **kwargs), r)

    for _ in range(5):
        vx, vw = rng.normal(size=x.shape), rng.normal(size=w.shape)
        h = 1e-2
        fd_x = (loss(x + h * vx, w) - loss(x - h * vx, w)) / (2 * h)
        fd_w = (loss(x, w + h * vw) - loss(x, w - h * vw)) / (2 * h)
        assert inner(grad_x, vx) == pytest.approx(fd_x, rel=2e-3, abs=2e-2)
        assert inner(grad_w, vw) == pytest.approx(fd_w, rel=2e-3, abs=2e-2)


@pytest.mark.parametrize("kwargs", GRAD_CASES)
def test_conv2d_grad_on_larger_inputs_against_the_reference_definitions(kwargs):
    """Bands of rows and the border columns of the compiled loop, against the definitions:
    grad_weight[o, c, ky, kx] = sum grad_out[o] * window, grad_x the scatter."""
    rng = np.random.default_rng(8)
    g = kwargs["groups"]
    x = rng.normal(size=(2 * g, 29, 37)).astype(np.float32)
    w = rng.normal(size=(3 * g, 2, 3, 4)).astype(np.float32)
    layer = ops.check_conv_args(x.shape, w.shape, **kwargs)
    go = rng.normal(size=(3 * g, *layer.out_shape)).astype(np.float32)
    grad_x, grad_w, grad_b = conv2d_grad(x, w, go, **kwargs)
    (sh, sw), (dh, dw) = (geometry.as_pair(kwargs[k], k) for k in ("stride", "dilation"))
    (t, bo), (l, r) = layer.padding
    xp = np.pad(x.astype(np.float64), ((0, 0), (t, bo), (l, r)))
    want_w = np.zeros(w.shape)
    h_out, w_out = layer.out_shape
    for o, c, ky, kx in np.ndindex(w.shape):
        window = xp[(o // 3) * 2 + c, ky * dh:ky * dh + (h_out - 1) * sh + 1:sh,
                    kx * dw:kx * dw + (w_out - 1) * sw + 1:sw]
        want_w[o, c, ky, kx] = np.sum(go[o] * window)
    scale = np.abs(go).sum() * np.abs(x).max()
    np.testing.assert_allclose(grad_w, want_w, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(grad_b, go.astype(np.float64).sum(axis=(1, 2)), rtol=1e-6,
                               atol=1e-5)
    # grad_x: scatter of grad_out through the weights, cropped to the padding
    want_x = np.zeros(xp.shape)
    for o, i, j in np.ndindex(go.shape):
        c0 = (o // 3) * 2
        for c, ky, kx in np.ndindex(w.shape[1:]):
            want_x[c0 + c, i * sh + ky * dh, j * sw + kx * dw] += go[o, i, j] * w[o, c, ky, kx]
    want_x = want_x[:, t:t + x.shape[1], l:l + x.shape[2]]
    np.testing.assert_allclose(grad_x, want_x, rtol=0,
                               atol=1e-5 * np.abs(go).max() * np.abs(w).sum())


def test_conv2d_grad_of_a_large_kernel_takes_the_fft_and_agrees(monkeypatch):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(2, 40, 36)).astype(np.float32)
    w = rng.normal(size=(3, 2, 17, 16)).astype(np.float32)  # 272 taps: the FFT
    assert 17 * 16 > family._GRAD_FFT_TAPS
    kwargs = dict(padding=(6, 5), stride=(1, 2), dilation=1)
    go = rng.normal(size=ops.conv2d(x, w, **kwargs).shape).astype(np.float32)
    layer = ops.check_conv_args(x.shape, w.shape, **kwargs)
    loop = family._grad_weight_jit(x, go, layer, 1, (17, 16))
    monkeypatch.setattr(family, "_GRAD_FFT_BYTES", 1)  # one map at a time
    _, fft, _ = conv2d_grad(x, w, go, **kwargs)
    np.testing.assert_allclose(fft, loop, rtol=0, atol=2e-5 * np.abs(loop).max())


# ---------------------------------------------------------------------------------------------
# Shapes are geometry's formulas; causality
# ---------------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 9), w=st.integers(1, 9), k=st.integers(1, 4), s=st.integers(1, 4),
       d=st.integers(1, 3), p=st.integers(0, 3), op=st.integers(0, 3))
def test_transposed_shapes_are_the_formula(h, w, k, s, d, p, op):
    expected = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n in (h, w)]
    if op >= max(s, d) or min(expected) < 1:
        with pytest.raises(ValueError):
            conv_transpose2d(np.ones((1, h, w)), np.ones((1, 2, k, k)), stride=s, padding=p,
                             output_padding=op, dilation=d)
        return
    out = conv_transpose2d(np.ones((1, h, w)), np.ones((1, 2, k, k)), stride=s, padding=p,
                           output_padding=op, dilation=d)
    assert list(out.shape) == [2, *expected]
    assert out.shape[1:] == geometry.transposed_geometry(
        (h, w), (k, k), stride=s, padding=p, output_padding=op, dilation=d).out_shape
    out1 = conv_transpose1d(np.ones((1, w)), np.ones((1, 1, k)), stride=s, padding=p,
                            output_padding=op, dilation=d)
    assert out1.shape == (1, expected[1])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 30), k=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3),
       padding=st.one_of(st.integers(0, 4), st.sampled_from(geometry.PADDING_WORDS_1D)))
def test_conv1d_and_im2col_shapes_are_the_formula(n, k, s, d, padding):
    before, after = geometry.resolve_padding_1d(padding, n, k, stride=s, dilation=d)
    expected = (n + before + after - d * (k - 1) - 1) // s + 1
    if expected < 1:
        with pytest.raises(ValueError, match="larger than the padded input"):
            conv1d(np.ones((1, n)), np.ones((1, 1, k)), stride=s, padding=padding, dilation=d)
        return
    assert conv1d(np.ones((1, n)), np.ones((2, 1, k)), stride=s, padding=padding,
                  dilation=d).shape == (2, expected)
    if padding != "causal":
        cols = im2col(np.ones((2, 1, n)), (1, k), stride=(1, s), padding=(
            (0, 0), (before, after)), dilation=(1, d))
        assert cols.shape == (2 * k, expected)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 30), k=st.integers(1, 5), d=st.integers(1, 3), data=st.data(),
       mode=st.sampled_from(["zeros", "replicate"]))
def test_causal_output_t_sees_only_inputs_up_to_t(n, k, d, data, mode):
    t = data.draw(st.integers(0, n - 2))
    rng = np.random.default_rng(t)
    x = rng.normal(size=(2, n))
    w = rng.normal(size=(3, 2, k))
    out = conv1d(x, w, padding="causal", dilation=d, padding_mode=mode)
    assert out.shape == (3, n)  # stride 1: one output per input step
    changed = x.copy()
    changed[:, t + 1:] = rng.normal(size=(2, n - t - 1)) * 100
    out2 = conv1d(changed, w, padding="causal", dilation=d, padding_mode=mode)
    np.testing.assert_array_equal(out2[:, :t + 1], out[:, :t + 1])
    # and the future is read from the next step on: changing input t + 1 changes output t + 1
    assert not np.allclose(out2[:, t + 1], out[:, t + 1])


# ---------------------------------------------------------------------------------------------
# Every bad argument: ValueError naming the parameter, the value and what is allowed
# ---------------------------------------------------------------------------------------------

X2 = np.ones((2, 6, 6))
WT = np.ones((2, 3, 3, 3))  # transposed: (C_in, C_out // groups, kH, kW)
X1 = np.ones((2, 10))


@pytest.mark.parametrize("call,words", [
    (lambda: conv_transpose2d(X2, WT, stride=2, output_padding=2),
     ["output_padding", "2", "smaller than either the stride or the dilation", "stride 2"]),
    (lambda: conv_transpose2d(X2, WT, output_padding=1), ["output_padding", "1", "stride 1"]),
    (lambda: conv_transpose2d(X2, WT, padding="same"),
     ["padding", "'same'", "an int or an (h, w) pair", "transposed"]),
    (lambda: conv_transpose2d(X2, WT, padding=-1), ["padding", "-1", ">= 0"]),
    (lambda: conv_transpose2d(X2, WT, stride=0), ["stride", "0", ">= 1"]),
    (lambda: conv_transpose2d(X2, WT, dilation=(1, 0)), ["dilation", "0"]),
    (lambda: conv_transpose2d(X2, WT, groups=3), ["groups=3", "input channels (2)"]),
    (lambda: conv_transpose2d(X2, WT, groups=0), ["groups", "0", ">= 1"]),
    (lambda: conv_transpose2d(X2, np.ones((3, 3, 3, 3))),
     ["weight has 3 input channels", "x has 2", "(C_in, C_out // groups, kH, kW)"]),
    (lambda: conv_transpose2d(X2, np.ones((2, 3, 3))),
     ["weight", "(C_in, C_out // groups, kH, kW)", "(2, 3, 3)"]),
    (lambda: conv_transpose2d(X2, WT, np.ones(2)), ["bias", "(3,)", "(2,)"]),
    (lambda: conv_transpose2d(X2, WT, groups=2, bias=np.ones(3)), ["bias", "(6,)"]),
    (lambda: conv_transpose2d(np.ones((6, 6)), WT), ["x", "(C_in, H, W)", "x[None]"]),
    (lambda: conv_transpose2d(X2, WT, padding=4),
     ["padding 4", "too large", "output height", "= 0"]),
    (lambda: conv_transpose2d(np.full((2, 6, 6), np.nan), WT), ["x", "finite", "nan"]),
    (lambda: conv_transpose2d(X2, np.full((2, 3, 3, 3), np.inf)), ["weight", "finite", "inf"]),
    (lambda: conv_transpose2d(X2.astype(str), WT), ["x", "real numbers"]),
])
def test_bad_transposed_2d_arguments_are_explained(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("call,words", [
    (lambda: conv1d(X1, np.ones((2, 2, 3)), padding="causal", padding_mode="reflect"),
     ["padding='causal'", "padding_mode='reflect'", "'zeros' or 'replicate'"]),
    (lambda: conv1d(X1, np.ones((2, 2, 3)), padding="causal", padding_mode="circular"),
     ["padding='causal'", "padding_mode='circular'"]),
    (lambda: conv1d(X1, np.ones((2, 2, 3)), padding="middle"),
     ["padding", "'middle'", "'causal'", "'same'"]),
    (lambda: conv1d(X1, np.ones((2, 2, 3)), padding=-2), ["padding", "-2", ">= 0"]),
    (lambda: conv1d(X1, np.ones((2, 2, 3)), padding_mode="mirror"),
     ["padding_mode", "'mirror'", "'reflect'"]),
    (lambda: conv1d(X1, np.ones((2, 2, 3)), padding=10, padding_mode="reflect"),
     ["reflect", "padding 10", "input length 10"]),
    (lambda: conv1d(X1, np.ones((2, 2, 3)), padding=11, padding_mode="circular"),
     ["circular", "padding 11", "input length 10"]),
    (lambda: conv1d(X1, np.ones((2, 2, 3)), stride=0), ["stride", "0", ">= 1"]),
    (lambda: conv1d(X1, np.ones((2, 2, 3)), stride=(2,)), ["stride", "(2,)"]),
    (lambda: conv1d(X1, np.ones((2, 2, 3)), dilation=5),
     ["kernel", "5*(3-1)+1 = 11", "length", "larger than the padded input"]),
    (lambda: conv1d(X1, np.ones((3, 1, 3)), groups=2), ["groups=2", "(3)"]),
    (lambda: conv1d(X1, np.ones((2, 1, 3))), ["weight has 1 input channels", "x has 2"]),
    (lambda: conv1d(X1, np.ones((2, 2, 3)), np.ones(3)), ["bias", "(2,)", "(3,)"]),
    (lambda: conv1d(X1, np.ones((2, 2))), ["weight", "(C_out, C_in // groups, k)"]),
    (lambda: conv1d(np.ones(10), np.ones((2, 1, 3))), ["x", "(C_in, L)", "x[None]"]),
    (lambda: conv_transpose1d(X1, np.ones((2, 1, 3)), padding="causal"),
     ["padding", "'causal'", "int >= 0", "transposed"]),
    (lambda: conv_transpose1d(X1, np.ones((2, 1, 3)), stride=2, dilation=3, output_padding=3),
     ["output_padding", "3", "stride 2", "dilation 3"]),
    (lambda: conv_transpose1d(X1, np.ones((3, 1, 3))), ["weight has 3 input channels", "x has 2"]),
    (lambda: ops.conv2d(X2, np.ones((1, 2, 3, 3)), padding="causal"),
     ["padding", "'causal'", "'valid', 'same', 'full'"]),
])
def test_bad_1d_arguments_are_explained(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("call,words", [
    (lambda: conv2d_grad(X2, np.ones((4, 2, 3, 3)), np.ones((4, 5, 5))),
     ["grad_out", "(4, 4, 4)", "(4, 5, 5)"]),
    (lambda: conv2d_grad(X2, np.ones((4, 2, 3, 3)), np.ones((4, 4))),
     ["grad_out", "(C_out, H_out, W_out)"]),
    (lambda: conv2d_grad(X2, np.ones((4, 3, 3, 3)), np.ones((4, 4, 4))),
     ["weight has 3 input channels", "x has 2"]),
    (lambda: conv2d_grad(X2, np.ones((4, 2, 3, 3)), np.ones((4, 4, 4)), stride=0),
     ["stride", "0"]),
    (lambda: conv2d_grad(X2, np.ones((4, 2, 3, 3)), np.full((4, 4, 4), np.nan)),
     ["grad_out", "finite"]),
    (lambda: conv2d_grad(X2, np.ones((4, 2, 3, 3)), np.ones((4, 4, 4)), padding="middle"),
     ["padding", "'middle'"]),
    (lambda: im2col(X2, 0), ["kernel_size", "0"]),
    (lambda: im2col(X2, 7), ["kernel", "7", "larger than the padded input"]),
    (lambda: im2col(X2, 3, padding="causal"), ["padding", "'causal'"]),
    (lambda: im2col(np.ones((6, 6)), 3), ["x", "(C, H, W)", "x[None]"]),
])
def test_bad_grad_and_im2col_arguments_are_explained(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)


# ---------------------------------------------------------------------------------------------
# Plumbing: imports, the warm-up's numpy path
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("first", ["conv.family", "conv.ops"])
def test_importable_from_conv_ops_whichever_module_comes_first(first):
    code = (f"import {first}; from conv.ops import conv_transpose2d, conv1d, conv_transpose1d, "
            f"conv2d_grad, im2col; import conv.ops as o; assert 'im2col' in dir(o); "
            f"assert conv_transpose2d is __import__('conv.family').family.conv_transpose2d")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    with pytest.raises(AttributeError):
        ops.no_such_operation  # noqa: B018


def test_the_warm_up_numpy_path_gives_the_same(monkeypatch):
    """While a server compiles the loops (the gate up), the family computes the same."""
    rng = np.random.default_rng(10)
    x = rng.normal(size=(4, 33, 40)).astype(np.float32)
    w = rng.normal(size=(6, 2, 3, 4)).astype(np.float32)
    kwargs = dict(stride=(2, 3), padding=(1, 2), dilation=(1, 2), groups=2)
    go = rng.normal(size=ops.conv2d(x, w, **kwargs).shape).astype(np.float32)
    wt = rng.normal(size=(4, 3, 4, 4)).astype(np.float32)
    compiled = [*conv2d_grad(x, w, go, **kwargs),
                conv_transpose2d(x, wt, stride=2, padding=1, groups=2)]
    monkeypatch.setattr(warm, "_state", "warming")
    fallback = [*conv2d_grad(x, w, go, **kwargs),
                conv_transpose2d(x, wt, stride=2, padding=1, groups=2)]
    for a, b in zip(compiled, fallback):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5 * np.abs(a).max())
