"""The rest of the convolution family, with the semantics of ``torch.nn.functional``:
transposed convolution (2-D and 1-D), 1-D convolution, the gradients of :func:`conv2d`, and
the im2col matrix.

Layouts are PyTorch's without the batch axis, float32 out:

==================  ==============  ==================================  ======================
operation           input           weight                              output
==================  ==============  ==================================  ======================
conv_transpose2d    (C_in, H, W)    (C_in, C_out // groups, kH, kW)     (C_out, H_out, W_out)
conv1d              (C_in, L)       (C_out, C_in // groups, k)          (C_out, L_out)
conv_transpose1d    (C_in, L)       (C_in, C_out // groups, k)          (C_out, L_out)
conv2d_grad         x, grad_out     as conv2d's                         the three gradients
im2col              (C, H, W)       --                                  (C*kH*kW, H_out*W_out)
==================  ==============  ==================================  ======================

Every size and padding comes from :mod:`conv.geometry`; every bad argument raises
``ValueError`` naming the parameter, the value and what is allowed.

How they are computed (figures: ``bench/bench_family.py``):

- Transposed convolution, the "sub-pixel" way: output phase ``(r, c)`` (the outputs
  ``out[:, r::sH, c::sW]``) is a stride-1 correlation of the *undilated* input with a
  sub-kernel of the flipped kernel (:meth:`conv.geometry.Axis.phases`); the ``sH*sW``
  sub-kernels share one kernel frame (:meth:`conv.geometry.Axis.subpixel`) and become the
  output channels of one :func:`conv.ops.conv2d` (its compiled loop skips the frame's zero
  taps), interleaved into the output by bands of rows. So ``kH*kW`` multiply-adds per *input*
  pixel, not per output pixel as zero insertion would do, in one parallel loop (a loop per
  phase measured 2-3x slower on a busy machine: each waits for the cores again).
- 1-D operations are the 2-D ones over a single row (``H = 1``, ``kH = 1``).
- ``conv2d_grad``: the gradient for the input is the transposed convolution of ``grad_out``
  with the ``output_padding`` that gives back the input's shape
  (:func:`conv.geometry.adjoint_geometry`). For the weight, the correlation of the padded
  input with ``grad_out``: a compiled loop of its own (``conv/_jit.py``: ``weight_grad``,
  compiled by :mod:`conv.warm` with the rest; while a server warms up, im2col by bands of rows
  times ``grad_out`` in numpy), or, for kernels above 15x15, :func:`conv.ops.conv2d` with the
  roles swapped (``grad_out`` as the kernel; the stride becomes the dilation) through its FFT.
  For the bias, the sum of ``grad_out``.
- ``im2col`` copies PyTorch ``unfold``'s layout tap by tap, through the tap slices of
  :class:`conv.geometry.Windows`.

Imports: this module imports :mod:`conv.ops`; ``conv.ops`` re-exports these five functions
through a module ``__getattr__`` (PEP 562) that imports this module on first use, so
``from conv.ops import conv_transpose2d`` works and either module may be imported first
(neither ever sees the other half-initialised).
"""

from __future__ import annotations

import numpy as np

from conv import ops, warm
from conv.bands import JIT_LOCK, THREADS, run_bands
from conv.checks import as_image, check_finite
from conv.geometry import (
    Geometry,
    adjoint_geometry,
    as_int,
    as_pair,
    conv_geometry,
    transposed_geometry,
)
from conv.padding import band_plan

__all__ = ["conv1d", "conv2d_grad", "conv_transpose1d", "conv_transpose2d", "im2col"]

# grad_weight: above this many taps per kernel slice the swapped correlation through the FFT
# beats the compiled loop (bench/bench_family.py, 3 -> 3 at 1 MP, two runs: the loop faster
# through 13x13, one each way at 17x17, the FFT 2.5-4x faster at 25x25); its image-sized
# spectra take at most this many bytes.
_GRAD_FFT_TAPS = 225
_GRAD_FFT_BYTES = 256 << 20
# A transposed convolution's phase maps are computed by bands of rows of about this size, and
# interleaved into the output by chunks of rows of about this size.
_BAND_BYTES = 32 << 20
_CHUNK_BYTES = 256 << 10


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------

def _array(a, name: str, layout: str, ndim: int) -> np.ndarray:
    """``a`` as a C-contiguous float32 array of ``ndim`` axes (``layout`` names them), or a
    ``ValueError`` naming the parameter."""
    a = np.asarray(a)
    if a.ndim != ndim:
        hint = " (add a channel axis: x[None])" if name == "x" and a.ndim == ndim - 1 else ""
        raise ValueError(f"{name} must be a {layout} array, got shape {a.shape}{hint}")
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if min(a.shape) < 1:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float32)


def _bias(bias, c_out: int, what: str):
    if bias is None:
        return None
    bias = np.asarray(bias)
    if bias.dtype.kind not in "biuf":
        raise ValueError(f"bias must hold real numbers, got dtype {bias.dtype}")
    if bias.shape != (c_out,):
        raise ValueError(f"bias must have shape ({c_out},) (one per {what}), got {bias.shape}")
    return bias.astype(np.float32)


def _conv_channels(c_in: int, weight_shape, groups, layout: str) -> int:
    """Check a convolution's channels (weight ``(C_out, C_in // groups, ...)``); ``groups``."""
    groups = as_int(groups, "groups", 1)
    c_out, cpg = weight_shape[:2]
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide both the input channels ({c_in}) and the "
                         f"output channels ({c_out})")
    if cpg != c_in // groups:
        raise ValueError(
            f"weight has {cpg} input channels per filter but x has {c_in} channels"
            + (f" in {groups} groups (expected {c_in // groups})" if groups > 1 else
               f" (expected weight.shape[1] == {c_in}; weight is {layout})"))
    return groups


def _transposed_channels(c_in: int, weight_shape, groups, layout: str) -> tuple[int, int]:
    """Check a transposed convolution's channels (weight ``(C_in, C_out // groups, ...)``);
    ``(groups, C_out)``."""
    groups = as_int(groups, "groups", 1)
    if c_in % groups:
        raise ValueError(f"groups={groups} must divide the input channels ({c_in})")
    if weight_shape[0] != c_in:
        raise ValueError(
            f"weight has {weight_shape[0]} input channels (weight.shape[0]) but x has {c_in}: "
            f"a transposed convolution's weight is {layout}")
    return groups, weight_shape[1] * groups


def _check_padding_mode_1d(mode, padding, before_after, n: int) -> None:
    """``padding_mode`` as :func:`conv.ops.conv2d` allows it (PyTorch's limits), for a 1-D
    input of length ``n``; ``"causal"`` only with the modes that read no future sample."""
    if mode not in ops.PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {', '.join(map(repr, ops.PADDING_MODES))}, "
                         f"got {mode!r}")
    if isinstance(padding, str) and padding == "causal" and mode in ("reflect", "circular"):
        # reflect fills the left padding with x[1], x[2], ...; circular with the signal's end
        raise ValueError(
            f"padding='causal' reads only the past, but padding_mode={mode!r} would fill the "
            f"left padding with later samples; use 'zeros' or 'replicate'")
    p = max(before_after)
    if mode == "reflect" and p >= n:
        raise ValueError(f"padding_mode='reflect' needs padding smaller than the input: padding "
                         f"{p} >= input length {n}; use 'replicate' or 'zeros', or less padding")
    if mode == "circular" and p > n:
        raise ValueError(f"padding_mode='circular' needs padding at most the input size: padding "
                         f"{p} > input length {n}")


def _finite(*named) -> None:
    for a, name in named:
        if a is not None:
            check_finite(a, name)


# --------------------------------------------------------------------------------------------
# Transposed convolution
# --------------------------------------------------------------------------------------------

def _transposed(x: np.ndarray, weight: np.ndarray, bias, layer: Geometry, groups: int
                ) -> np.ndarray:
    """The transposed convolution of checked float32 arrays, the sub-pixel way.

    ``x`` is ``(C_in, H, W)``, ``weight`` ``(C_in, C_out // groups, kH, kW)``, ``layer`` two
    transposed axes (any pads per side and output_padding). Every stride phase's sub-kernel is
    put in one kernel frame (:meth:`conv.geometry.Axis.subpixel`), so that the ``sH*sW`` phases
    are ``sH*sW`` times as many output channels of one :func:`ops.conv2d` (one parallel loop;
    its zero taps are skipped), whose maps are then interleaved into ``out[:, r::sH, c::sW]``.
    By bands of rows, so that the phases' maps never take more than about ``_BAND_BYTES``.
    """
    c_in, opg, kh, kw = weight.shape
    cpg, c_out = c_in // groups, opg * groups
    rows, cols = (a.subpixel() for a in layer.axes)
    h_out, w_out = layer.out_shape
    out = np.empty((c_out, h_out, w_out), np.float32)
    if rows.size == 0 or cols.size == 0:  # no tap reaches any output
        out[...] = 0 if bias is None else bias[:, None, None]
        return out
    n_r, n_c = len(rows.phases), len(cols.phases)
    # The same weights as a correlation's, within each group (output, input) instead of
    # (input, output), placed in the frame: (groups, row phase, column phase, opg, cpg, Kr, Kc)
    wc = weight.reshape(groups, cpg, opg, kh, kw).swapaxes(1, 2)
    frame = np.zeros((groups, n_r, n_c, opg, cpg, rows.size, cols.size), np.float32)
    for i, pr in enumerate(rows.phases):
        for j, pc in enumerate(cols.phases):
            if pr.taps and pc.taps:
                at = (np.array(rows.offsets(pr))[:, None], np.array(cols.offsets(pc)))
                frame[:, i, j][..., at[0], at[1]] = \
                    wc[..., np.array(pr.taps)[:, None], np.array(pc.taps)]
    frame = frame.reshape(groups * n_r * n_c * opg, cpg, rows.size, cols.size)
    fbias = None if bias is None else np.ascontiguousarray(
        np.broadcast_to(bias.reshape(groups, 1, opg), (groups, n_r * n_c, opg)).reshape(-1))
    lo_c, hi_c, pad_c = cols.window(0, cols.count)
    per_band = max(1, _BAND_BYTES // (4 * frame.shape[0] * cols.count))
    grouped = out.reshape(groups, opg, h_out, w_out)
    # small frames: the direct loop (factorising dozens of tiny slices to rule out the
    # separable method cost more than it could save); larger ones: conv2d's choice
    method = "direct" if rows.size * cols.size <= 25 else None
    # the interleaving goes by chunks of rows whose output stays in the L2 cache, every phase
    # of a chunk in turn: phase after phase over the whole band would bring each output line
    # from memory sH*sW times (measured 3x slower)
    chunk = max(1, _CHUNK_BYTES // (4 * c_out * w_out * layer.axes[0].stride))
    for m0 in range(0, rows.count, per_band):
        m1 = min(m0 + per_band, rows.count)
        lo_r, hi_r, pad_r = rows.window(m0, m1)
        if hi_r > lo_r and hi_c > lo_c:
            geo = conv_geometry((hi_r - lo_r, hi_c - lo_c), (rows.size, cols.size),
                                padding=(pad_r, pad_c))
            part = ops._conv2d(x[:, lo_r:hi_r, lo_c:hi_c], frame, fbias, groups=groups,
                               layer=geo, method=method)
        else:  # the band reads only zeros
            part = np.zeros((frame.shape[0], m1 - m0, cols.count), np.float32)
            if fbias is not None:
                part += fbias[:, None, None]
        if part.shape == out.shape:  # one phase (stride 1) and one band: it is the output
            return part
        part = part.reshape(groups, n_r, n_c, opg, m1 - m0, cols.count)

        def interleave(a: int, b: int, m0: int = m0, part: np.ndarray = part) -> None:
            for c0 in range(a, b, chunk):
                c1 = min(c0 + chunk, b)
                for i, pr in enumerate(rows.phases):
                    out_rows, n = pr.out_slice(m0 + c0, m0 + c1)
                    for j, pc in enumerate(cols.phases):
                        if n:
                            grouped[:, :, out_rows, pc.start::pc.stride] = \
                                part[:, i, j, :, c0:c0 + n, :pc.count]

        # one task per thread (a task per chunk: ~50 us each of the pool's own overhead); a
        # copy is cheaper than a multiply-add, so up to 4M values on the calling thread (on a
        # busy machine, waiting for the second core cost more than the copy)
        run_bands(m1 - m0, -(-(m1 - m0) // THREADS), part.size // 4, interleave)
    return out


def conv_transpose2d(x, weight, bias=None, *, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> np.ndarray:
    """2-D transposed convolution of a ``(C_in, H, W)`` input, as
    ``torch.nn.functional.conv_transpose2d``: the adjoint of :func:`conv.ops.conv2d` with the
    same stride, padding, dilation and groups (its gradient with respect to the input).

    Parameters
    ----------
    x : array_like, shape (C_in, H, W)
    weight : array_like, shape (C_in, C_out // groups, kH, kW)
        PyTorch's layout for a transposed convolution: input channels first.
    bias : array_like, shape (C_out,), optional
    stride, dilation : int or (int, int)
        >= 1. Each input pixel is spread over the output ``stride`` apart.
    padding : int or (int, int)
        Rows/columns cropped from each side of the full result (numbers only, as PyTorch):
        ``dilation*(k - 1) - padding`` zeros around the equivalent direct correlation.
    output_padding : int or (int, int)
        Rows/columns added at the bottom/right, smaller than the stride or the dilation: which
        of the ``stride`` input sizes that a convolution maps to the same output size to give.
    groups : int
        Divides ``C_in``; ``C_out = weight.shape[1] * groups``.

    Returns
    -------
    numpy.ndarray, float32, shape (C_out, H_out, W_out)
        ``H_out = (H - 1)*sH - 2*pH + dH*(kH - 1) + output_padding + 1``, likewise ``W_out``.

    Examples
    --------
    conv_arithmetic's "padding, strides, transposed": a 3x3 input, k = 3, s = 2, p = 1 gives
    5x5 (6x6 with ``output_padding=1``).

    >>> conv_transpose2d(np.ones((1, 3, 3)), np.ones((1, 1, 3, 3)), stride=2, padding=1).shape
    (1, 5, 5)
    """
    x = _array(x, "x", "(C_in, H, W)", 3)
    weight = _array(weight, "weight", "(C_in, C_out // groups, kH, kW)", 4)
    groups, c_out = _transposed_channels(x.shape[0], weight.shape, groups,
                                         "(C_in, C_out // groups, kH, kW)")
    bias = _bias(bias, c_out, "output channel: weight.shape[1] * groups")
    layer = transposed_geometry(x.shape[1:], weight.shape[2:], stride=stride, padding=padding,
                                output_padding=output_padding, dilation=dilation)
    _finite((x, "x"), (weight, "weight"), (bias, "bias"))
    return _transposed(x, weight, bias, layer, groups)


def conv_transpose1d(x, weight, bias=None, *, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> np.ndarray:
    """1-D transposed convolution of a ``(C_in, L)`` input, as
    ``torch.nn.functional.conv_transpose1d``; weight ``(C_in, C_out // groups, k)``; output
    ``(C_out, (L - 1)*s - 2p + d*(k - 1) + output_padding + 1)``. Arguments as
    :func:`conv_transpose2d`, each a single int."""
    x = _array(x, "x", "(C_in, L)", 2)
    weight = _array(weight, "weight", "(C_in, C_out // groups, k)", 3)
    groups, c_out = _transposed_channels(x.shape[0], weight.shape, groups,
                                         "(C_in, C_out // groups, k)")
    bias = _bias(bias, c_out, "output channel: weight.shape[1] * groups")
    layer = transposed_geometry(x.shape[1:], weight.shape[2:], stride=stride, padding=padding,
                                output_padding=output_padding, dilation=dilation)
    _finite((x, "x"), (weight, "weight"), (bias, "bias"))
    return _transposed(x[:, None], weight[:, :, None], bias, layer.as_2d(), groups)[:, 0]


# --------------------------------------------------------------------------------------------
# 1-D convolution
# --------------------------------------------------------------------------------------------

def conv1d(x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros") -> np.ndarray:
    """1-D cross-correlation of a ``(C_in, L)`` input, as ``torch.nn.functional.conv1d``.

    Parameters
    ----------
    x : array_like, shape (C_in, L)
    weight : array_like, shape (C_out, C_in // groups, k)
    bias : array_like, shape (C_out,), optional
    stride, dilation : int
    padding : int, (int, int) or {"valid", "same", "full", "causal"}
        Samples added before and after (an int: on both sides). ``"causal"``: ``d*(k - 1)``
        before only, so output ``t`` sees inputs ``<= t`` (with ``padding_mode`` ``"zeros"`` or
        ``"replicate"``; the other two would read later samples). ``"same"`` and ``"full"`` as
        in :func:`conv.ops.conv2d`.
    groups : int
    padding_mode : {"zeros", "reflect", "replicate", "circular"}

    Returns
    -------
    numpy.ndarray, float32, shape (C_out, L_out)
        ``L_out = floor((L + p_before + p_after - d*(k - 1) - 1) / s) + 1``.
    """
    x = _array(x, "x", "(C_in, L)", 2)
    weight = _array(weight, "weight", "(C_out, C_in // groups, k)", 3)
    groups = _conv_channels(x.shape[0], weight.shape, groups, "(C_out, C_in // groups, k)")
    bias = _bias(bias, weight.shape[0], "filter")
    layer = conv_geometry(x.shape[1:], weight.shape[2:], stride=stride, padding=padding,
                          dilation=dilation)
    _check_padding_mode_1d(padding_mode, padding, layer.padding[0], x.shape[1])
    return ops.conv2d(x[:, None], weight[:, :, None], bias, groups=groups,
                      padding_mode=padding_mode, layer=layer.as_2d())[:, 0]


# --------------------------------------------------------------------------------------------
# im2col and the gradients of conv2d
# --------------------------------------------------------------------------------------------

def _unfold_band(plan, r0: int, r1: int, channels: slice, out: np.ndarray) -> None:
    """``out[c, ky, kx, i, j]`` = the padded input under tap ``(ky, kx)`` of output
    ``(r0 + i, j)``, for the ``channels``; ``out`` is ``(C, kH, kW, r1 - r0, W_out)``."""
    buf = plan.band(r0, r1, channels)
    kh, kw = plan.win.kernel_hw
    for ky in range(kh):
        for kx in range(kw):
            rs, cs = plan.win.tap_slice(ky, kx, r1 - r0)
            out[:, ky, kx] = buf[:, rs, cs]


def _plan_for(x: np.ndarray, layer: Geometry, kernel_hw):
    rows, cols = layer.axes
    return band_plan(x, layer.padding, "zeros", tuple(kernel_hw), (rows.stride, cols.stride),
                     (rows.dilation, cols.dilation))


def im2col(x, kernel_size, *, stride=1, padding=0, dilation=1) -> np.ndarray:
    """The matrix of every window of a ``(C, H, W)`` input, in the layout of
    ``torch.nn.functional.unfold`` for one image: shape ``(C*kH*kW, H_out*W_out)``, rows in the
    order ``(c, ky, kx)``, columns the output positions in row-major order.

    ``weight.reshape(C_out, -1) @ im2col(x, (kH, kW), ...)`` is ``conv2d(x, weight, ...)``
    reshaped to ``(C_out, H_out*W_out)``. ``padding`` is anything :func:`conv.ops.conv2d`
    accepts (PyTorch's ``unfold`` takes numbers only); the padding is zeros.

    The matrix holds ``kH*kW`` copies of the input: for a 3x3 kernel on a 12-megapixel photo,
    1.3 GB. The engine itself never builds it for a whole image (see :func:`conv2d_grad`).
    """
    x = as_image(x)
    kh, kw = as_pair(kernel_size, "kernel_size")
    layer = conv_geometry(x.shape[1:], (kh, kw), stride=stride, padding=padding,
                          dilation=dilation)
    _finite((x, "x"))
    c = x.shape[0]
    h_out, w_out = layer.out_shape
    padded = ops.pad(x, layer.padding) if any(map(any, layer.padding)) else x
    win = layer.windows
    out = np.empty((c, kh, kw, h_out, w_out), np.float32)
    # one whole-image copy per tap: measured 2.4x faster than bands of rows (the output is kH*kW
    # times the input anyway, so the padded copy adds little)
    for ky in range(kh):
        for kx in range(kw):
            out[:, ky, kx] = padded[(slice(None), *win.tap_slice(ky, kx, h_out))]
    return out.reshape(c * kh * kw, h_out * w_out)


def _deinterleave(x: np.ndarray, stride: int) -> np.ndarray:
    """``(C, H, stride, ceil(W / stride))`` with ``[c, r, p, m] = x[c, r, p + m*stride]`` (zeros
    past the end); at stride 1 a view of ``x``."""
    c, h, w = x.shape
    if stride == 1:
        return x.reshape(c, h, 1, w)
    out = np.zeros((c, h, stride, -(-w // stride)), np.float32)
    for p in range(min(stride, w)):
        col = x[:, :, p::stride]
        out[:, :, p, :col.shape[2]] = col
    return out


def _grad_weight_jit(x, grad_out, layer: Geometry, groups: int, kernel_hw) -> np.ndarray:
    """The weight's gradient by the compiled loop (``conv/_jit.py``), on every core."""
    import numba

    from conv import _jit

    c_in, c_out = x.shape[0], grad_out.shape[0]
    cpg = c_in // groups
    rows, cols = layer.axes
    h_out = layer.out_shape[0]
    # about eight tasks per thread, so that a short last task leaves no core idle for long
    n_bands = min(h_out, max(1, -(-8 * THREADS // c_in)))
    partial = np.empty((n_bands, c_out, cpg, *kernel_hw), np.float64)
    xph = _deinterleave(x, cols.stride)
    with JIT_LOCK:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        _jit.weight_grad(xph, x.shape[2], grad_out, partial, rows.before, cols.before,
                         rows.stride, cols.stride, rows.dilation, cols.dilation, groups)
    return partial.sum(axis=0).astype(np.float32)


def _grad_weight_numpy(x, grad_out, layer: Geometry, groups: int, kernel_hw) -> np.ndarray:
    """What :func:`_grad_weight_jit` computes, in numpy (while a server compiles the loop): per
    band of output rows, the band's im2col (per group) times the band's ``grad_out``; float64
    sums of the bands. One band after the other: the products have two small sides, and
    OpenBLAS's threads on such products measured 20-70x slower than one on a busy machine,
    so at least no two of them run at once."""
    c_in, c_out = x.shape[0], grad_out.shape[0]
    cpg, opg = c_in // groups, c_out // groups
    kh, kw = kernel_hw
    h_out, w_out = layer.out_shape
    plan = _plan_for(x, layer, kernel_hw)
    total = np.zeros((groups, opg, cpg * kh * kw), np.float64)
    per_band = max(1, (4 << 20) // (4 * (cpg * kh * kw + opg) * w_out))  # ~4 MB bands
    for r0 in range(0, h_out, per_band):
        r1 = min(r0 + per_band, h_out)
        n = r1 - r0
        cols = np.empty((cpg, kh, kw, n, w_out), np.float32)
        for g in range(groups):
            _unfold_band(plan, r0, r1, slice(g * cpg, (g + 1) * cpg), cols)
            go = grad_out[g * opg:(g + 1) * opg, r0:r1].reshape(opg, n * w_out)
            total[g] += go @ cols.reshape(cpg * kh * kw, n * w_out).T
    return total.reshape(c_out, cpg, kh, kw).astype(np.float32)


def _grad_weight_fft(x, grad_out, layer: Geometry, groups: int, kernel_hw) -> np.ndarray:
    """The same as a correlation with the roles swapped: each input channel of a group (the
    image, padded as the layer pads it) correlated with each ``grad_out`` map of the group (the
    kernel, its taps ``stride`` apart), at a stride of the layer's dilation; through conv2d's
    FFT. Output ``(ky, kx)`` is the weight's tap ``(ky, kx)``. A few output maps at a time, so
    that their image-sized spectra stay within ``_GRAD_FFT_BYTES``."""
    c_in, c_out = x.shape[0], grad_out.shape[0]
    cpg, opg = c_in // groups, c_out // groups
    kh, kw = kernel_hw
    rows, cols = layer.axes
    result = np.empty((c_out, cpg, kh, kw), np.float32)
    # per (input, output) pair: the kernel, its flipped copy and its spectrum, image-sized
    pair_bytes = 16 * rows.padded * cols.padded
    chunk = max(1, min(opg, _GRAD_FFT_BYTES // (pair_bytes * cpg)))
    for g in range(groups):
        for o0 in range(0, opg, chunk):
            maps = grad_out[g * opg + o0:g * opg + min(o0 + chunk, opg)]
            n = maps.shape[0]
            # (cpg * n, 1, H_out, W_out): output channel ci*n + o correlates input ci with map o
            kernels = np.broadcast_to(maps[None], (cpg, *maps.shape)).reshape(
                cpg * n, 1, *maps.shape[1:])
            swapped = ops.conv2d_using(
                "fft", x[g * cpg:(g + 1) * cpg], kernels, groups=cpg, padding=layer.padding,
                stride=(rows.dilation, cols.dilation), dilation=(rows.stride, cols.stride))
            # the floor of the layer's output size may leave rows of the padded input unread:
            # the swapped correlation then has more than kH x kW outputs; the first are the taps
            result[g * opg + o0:g * opg + o0 + n] = (
                swapped[:, :kh, :kw].reshape(cpg, n, kh, kw).swapaxes(0, 1))
    return result


def conv2d_grad(x, weight, grad_out, *, stride=1, padding=0, dilation=1, groups=1
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gradients of ``y = conv2d(x, weight, bias, ...)`` (zero padding) given
    ``grad_out = dL/dy``: ``(grad_x, grad_weight, grad_bias)``, what PyTorch's autograd gives.

    Parameters
    ----------
    x : array_like, shape (C_in, H, W)
    weight : array_like, shape (C_out, C_in // groups, kH, kW)
    grad_out : array_like, shape (C_out, H_out, W_out)
        The convolution's output shape.
    stride, padding, dilation, groups
        As :func:`conv.ops.conv2d` (``padding`` also ``"valid"``, ``"same"``, ``"full"`` and
        per-side pairs); the padding is zeros.

    Returns
    -------
    grad_x : float32, shape (C_in, H, W)
        ``conv_transpose2d(grad_out, weight, ...)`` with the ``output_padding`` that gives back
        ``(H, W)``: rows the stride's floor skipped get zeros.
    grad_weight : float32, shape of ``weight``
        ``grad_weight[o, c, ky, kx] = sum_ij grad_out[o, i, j] * x_padded[c', i*sH + ky*dH,
        j*sW + kx*dW]`` (``c'`` the input channel of group ``o // (C_out // groups)``).
    grad_bias : float32, shape (C_out,)
        ``grad_out`` summed over each map.
    """
    x = _array(x, "x", "(C_in, H, W)", 3)
    weight = _array(weight, "weight", "(C_out, C_in // groups, kH, kW)", 4)
    grad_out = _array(grad_out, "grad_out", "(C_out, H_out, W_out)", 3)
    layer = ops.check_conv_args(x.shape, weight.shape, stride=stride, padding=padding,
                                dilation=dilation, groups=groups)
    groups = as_int(groups, "groups", 1)
    expected = (weight.shape[0], *layer.out_shape)
    if grad_out.shape != expected:
        raise ValueError(f"grad_out must have the convolution's output shape (C_out, H_out, "
                         f"W_out) = {expected}, got {grad_out.shape}")
    _finite((x, "x"), (weight, "weight"), (grad_out, "grad_out"))

    # The input's gradient: weight (C_out, C_in // g, ...) is, read as a transposed
    # convolution's weight (C_in' = C_out, C_out' // g = C_in // g), the adjoint's.
    grad_x = _transposed(grad_out, weight, None, adjoint_geometry(layer), groups)
    kh, kw = weight.shape[2:]
    if kh * kw > _GRAD_FFT_TAPS:
        method = _grad_weight_fft
    else:
        method = _grad_weight_jit if warm.compiled_ready() else _grad_weight_numpy
    grad_w = method(x, grad_out, layer, groups, (kh, kw))
    # each row summed in float32 (pairwise: accurate, fast), the rows' sums in float64
    grad_b = grad_out.sum(axis=2).sum(axis=1, dtype=np.float64).astype(np.float32)
    return grad_x, grad_w, grad_b
