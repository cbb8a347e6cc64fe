"""Layer geometry: padding words, output sizes (conv, pool, transposed, 1-D) and a layer
resolved once."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from conv import geometry as g
from conv.stages import ConvSpec, PoolSpec


@given(n=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4), d=st.integers(1, 3),
       b=st.integers(0, 5), a=st.integers(0, 5))
def test_axis_out_equals_the_windows_that_fit(n, k, s, d, b, a):
    """The formula counts exactly the windows whose last tap is inside the padded input."""
    axis = g.Axis(n, k, s, d, b, a)
    fitting = [i for i in range(n + b + a) if i * s + d * (k - 1) < n + b + a]
    assert max(axis.out, 0) == len(fitting)  # <= 0: no window fits (the layer cannot exist)
    assert axis.fits == bool(fitting)
    assert axis.worked().value == axis.out and axis.worked().ok == axis.fits
    if axis.out > 0:
        assert axis.taps(axis.out - 1)[-1] <= axis.padded - 1
        np.testing.assert_array_equal(axis.starts(), np.array(fitting) * s)


@given(n=st.integers(1, 30), k=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3),
       p=st.integers(0, 4))
def test_transposed_size_inverts_the_conv_size(n, k, s, d, p):
    """A transposed convolution maps the conv's output size back to an input size that the conv
    maps to it: conv(transposed(m)) == m (PyTorch's output_padding chooses among them)."""
    m = g.out_size(n, k, p, p, s, d)
    assume(m >= 1)
    t = g.transposed_out_size(m, k, s, p, p, d)
    assert t <= n < t + s  # n is one of the s sizes the conv maps to m
    assert g.out_size(t, k, p, p, s, d) == m
    assert g.out_size(t + (n - t), k, p, p, s, d) == m


def test_transposed_formula_with_numbers():
    w = g.transposed_output_size(3, 3, stride=2, padding=1, output_padding=1)
    assert w.value == 6
    assert w.formula == "(3 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 6"
    # conv_arithmetic's "No zero padding, unit strides, transposed": 2x2 -> 4x4 with k = 3
    assert g.transposed_output_size(2, 3).value == 4


def test_padding_words_1d_and_causal():
    assert g.resolve_padding_1d("causal", 10, 3, dilation=2) == (4, 0)
    assert g.resolve_padding_1d("same", 10, 4) == (1, 2)
    assert g.resolve_padding_1d("full", 10, 3) == (2, 2)
    assert g.resolve_padding_1d((2, 1), 10, 3) == (2, 1)
    geo = g.conv_geometry((10,), (3,), padding="causal", dilation=2)
    assert geo.out_shape == (10,)
    # output t reads inputs t - 4, t - 2, t: the past only
    assert list(geo.axes[0].taps(0) - geo.axes[0].before) == [-4, -2, 0]
    with pytest.raises(ValueError, match="causal"):
        g.resolve_padding("causal", (5, 5), (3, 3))


@pytest.mark.parametrize(("kwargs", "words"), [
    (dict(in_size=(4, 4), kernel=(3, 3), stride=2, output_padding=2),
     ["output_padding", "smaller than either the stride or the dilation", "2"]),
    (dict(in_size=(2, 2), kernel=(3, 3), padding=3), ["padding 3", "output height", "= -2"]),
    (dict(in_size=(4,), kernel=(3,), padding="same"), ["padding", "'same'"]),
])
def test_transposed_geometry_refuses_what_pytorch_refuses(kwargs, words):
    with pytest.raises(ValueError) as err:
        g.transposed_geometry(**kwargs)
    for w in words:
        assert w in str(err.value)


def test_a_spec_resolved_once_carries_every_size_and_note():
    spec = ConvSpec.from_kernel(np.ones((3, 3)), stride=2, padding=1, pool=PoolSpec(2))
    layer = spec.resolve((1, 8, 9))
    assert layer.padding == ((1, 1), (1, 1))
    assert layer.conv_shape == (1, 4, 5)          # floor((8 + 2 - 3)/2) + 1 = 4; 9 -> 5
    assert layer.out_shape == (1, 2, 2)           # 2x2 pool: 4 -> 2, 5 -> 2 (floor)
    notes = layer.notes()
    assert any(n.startswith("Division not exact for the rows") for n in notes)
    assert any("pooled columns" in n for n in notes)
    with pytest.raises(ValueError, match="pooling window"):
        ConvSpec.from_kernel(np.ones((3, 3)), pool=PoolSpec(4)).resolve((1, 5, 5))


def test_windows_come_from_the_resolved_axes():
    geo = g.conv_geometry((7, 9), (3, 2), stride=(2, 3), padding=1, dilation=(1, 2))
    win = geo.windows
    assert win.out_hw == geo.out_shape
    rows, cols = geo.axes
    for i in range(rows.out):
        np.testing.assert_array_equal(win.rows(i), rows.taps(i))
    for j in range(cols.out):
        np.testing.assert_array_equal(win.cols(j), cols.taps(j))


@given(n=st.integers(1, 12), k=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3),
       b=st.integers(0, 6), a=st.integers(0, 6), op=st.integers(0, 3))
def test_subpixel_phases_hold_every_scatter_term_once(n, k, s, d, b, a, op):
    """A transposed axis scatters input i through tap k to output i*s - b + k*d: its phases
    (and their places in the common frame) hold each such term of the output exactly once."""
    axis = g.Axis(n, k, s, d, b, a, "transposed", op)
    assume(axis.out >= 1)
    terms = sorted((i * s - b + t * d, t, i) for i in range(n) for t in range(k)
                   if 0 <= i * s - b + t * d < axis.out)
    sub = axis.subpixel()
    got = []
    for phase in sub.phases:
        assert phase.count == len(range(phase.start, axis.out, s))
        offsets = sub.offsets(phase)
        for j, t in enumerate(phase.taps):
            assert sub.first + offsets[j] == phase.first + j * phase.dilation  # same input
            assert 0 <= offsets[j] < sub.size
            for m in range(phase.count):
                i = phase.first + m + j * phase.dilation
                if 0 <= i < n:
                    got.append((phase.start + m * s, t, i))
    assert sorted(got) == terms
    assert sum(ph.out_slice(0, sub.count)[1] for ph in sub.phases) == axis.out


@given(n=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4), d=st.integers(1, 3),
       b=st.integers(0, 5), a=st.integers(0, 5))
def test_adjoint_geometry_gives_back_the_input_size(n, k, s, d, b, a):
    conv = g.Geometry((g.Axis(n, k, s, d, b, a),))
    assume(conv.fits)
    (back,) = g.adjoint_geometry(conv).axes
    assert back.kind == "transposed" and back.n == conv.axes[0].out
    assert back.out == n and 0 <= back.output_padding < s  # within PyTorch's rule


def test_input_window_and_1d_as_2d():
    assert g.input_window(-2, 5, 3, 10) == (0, 5, (2, 0))  # reads -2 .. 4
    assert g.input_window(8, 4, 2, 10) == (8, 10, (0, 3))  # reads 8 .. 12
    assert g.input_window(12, 2, 2, 10)[:2] == (10, 10)    # nothing of the input
    geo = g.conv_geometry((10,), (3,), padding="causal").as_2d()
    assert geo.out_shape == (1, 10) and geo.padding == ((0, 0), (2, 0))
    with pytest.raises(ValueError, match="1-D"):
        geo.as_2d()
    with pytest.raises(ValueError, match="transposed"):
        g.Axis(5, 3).phases()
