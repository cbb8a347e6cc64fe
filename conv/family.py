"""The rest of the convolution family, with the semantics of ``torch.nn.functional``:
transposed convolution (2-D and 1-D), 1-D convolution, the gradients of :func:`conv2d`, and
the im2col matrix.

Layouts are PyTorch's without the batch axis, float32 out:

=====================  ==================  ====================================  ==============
operation              input               weight                                output
=====================  ==================  ====================================  ==============
``conv_transpose2d``   ``(C_in, H, W)``    ``(C_in, C_out // groups, kH, kW)``   ``(C_out, H_out, W_out)``
``conv1d``             ``(C_in, L)``       ``(C_out, C_in // groups, k)``        ``(C_out, L_out)``
``conv_transpose1d``   ``(C_in, L)``       ``(C_in, C_out // groups, k)``        ``(C_out, L_out)``
``conv2d_grad``        ``x``, ``grad_out``  as :func:`conv.ops.conv2d`           the gradients
``im2col``             ``(C, H, W)``       --                                    ``(C*kH*kW, L)``
=====================  ==================  ====================================  ==============

Every size and padding comes from :mod:`conv.geometry`; every bad argument raises
``ValueError`` naming the parameter, the value and what is allowed.

How they are computed: with the 2-D engine's :func:`conv.ops.conv2d` (its compiled loop, its
separable and FFT methods) and its band driver; there is no compiled loop of its own, so
nothing new for :mod:`conv.warm` to compile (while a server warms up, these run on conv2d's
numpy path like everything else).

- Transposed convolution, the "sub-pixel" way: output phase ``(r, c)`` (the outputs
  ``out[:, r::sH, c::sW]``) is a stride-1 correlation of the *undilated* input with a sub-kernel
  of the flipped kernel (:meth:`conv.geometry.Axis.phases`), so the ``sH*sW`` phases together
  do ``kH*kW`` multiply-adds per *input* pixel, not per output pixel as zero insertion would.
- 1-D operations are the 2-D ones over a single row (``H = 1``, ``kH = 1``).
- ``conv2d_grad``: the gradient for the input is the transposed convolution of ``grad_out``
  with the ``output_padding`` that gives back the input's shape
  (:func:`conv.geometry.adjoint_geometry`); for the weight, the correlation of the padded input
  with ``grad_out``: im2col by bands of rows times ``grad_out`` (one matrix product per band
  and group), or, for large kernels, :func:`conv.ops.conv2d` with the roles swapped (``grad_out``
  as the kernel; the stride becomes the dilation) through its FFT; for the bias, the sum of
  ``grad_out``.
- ``im2col`` fills PyTorch ``unfold``'s layout band by band from the tap slices of
  :class:`conv.geometry.Windows` (no padded copy of the whole input).

Imports: this module imports :mod:`conv.ops`; ``conv.ops`` re-exports these five functions
through a module ``__getattr__`` (PEP 562) that imports this module on first use, so
``from conv.ops import conv_transpose2d`` works and either module may be imported first
(neither ever sees the other half-initialised).
"""

from __future__ import annotations

import numpy as np

from conv import ops
from conv.geometry import (Geometry, adjoint_geometry, as_int, as_pair, conv_geometry,
                           transposed_geometry)

__all__ = ["conv1d", "conv2d_grad", "conv_transpose1d", "conv_transpose2d", "im2col"]

# grad_weight: above this many taps per kernel slice the swapped correlation through the FFT
# beats im2col + matrix products (bench/bench_family.py measures both).
_GRAD_FFT_TAPS = 121


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
            ops._check_finite(a, name)


# --------------------------------------------------------------------------------------------
# Transposed convolution
# --------------------------------------------------------------------------------------------

def _transposed(x: np.ndarray, weight: np.ndarray, bias, layer: Geometry, groups: int
                ) -> np.ndarray:
    """The transposed convolution of checked float32 arrays, phase by phase.

    ``x`` is ``(C_in, H, W)``, ``weight`` ``(C_in, C_out // groups, kH, kW)``, ``layer`` two
    transposed axes (any pads per side and output_padding). Each phase is :func:`ops.conv2d` of
    the input slice it reads with its sub-kernel, written to ``out[:, r::sH, c::sW]``.
    """
    c_in, opg, kh, kw = weight.shape
    cpg, c_out = c_in // groups, opg * groups
    # The same weights as a correlation's (C_out, C_in // groups, kH, kW): within each group
    # the first two axes swap roles.
    wc = weight.reshape(groups, cpg, opg, kh, kw).swapaxes(1, 2).reshape(c_out, cpg, kh, kw)
    rows, cols = layer.axes
    out = np.empty((c_out, *layer.out_shape), np.float32)
    for pr in rows.phases():
        for pc in cols.phases():
            dst = out[:, pr.start::rows.stride, pc.start::cols.stride]
            if not (pr.reads_input and pc.reads_input):
                dst[...] = 0 if bias is None else bias[:, None, None]
                continue
            sub = wc[:, :, list(pr.taps)][:, :, :, list(pc.taps)]
            geo = conv_geometry((pr.hi - pr.lo, pc.hi - pc.lo), sub.shape[2:],
                                padding=(pr.padding, pc.padding),
                                dilation=(pr.dilation, pc.dilation))
            part = ops.conv2d(x[:, pr.lo:pr.hi, pc.lo:pc.hi], sub, bias, groups=groups,
                              layer=geo)
            if dst.shape == out.shape:  # stride 1: the one phase is the output
                return part
            dst[...] = part
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
    return ops._plan(x, layer.padding, "zeros", tuple(kernel_hw), (rows.stride, cols.stride),
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
    x = ops._as_image(x)
    kh, kw = as_pair(kernel_size, "kernel_size")
    layer = conv_geometry(x.shape[1:], (kh, kw), stride=stride, padding=padding,
                          dilation=dilation)
    _finite((x, "x"))
    c = x.shape[0]
    h_out, w_out = layer.out_shape
    plan = _plan_for(x, layer, (kh, kw))
    out = np.empty((c, kh, kw, h_out, w_out), np.float32)
    every = slice(None)
    per_band = ops.rows_per_band(4 * c * (kh * kw + layer.axes[0].stride) * w_out)
    ops._run_bands(h_out, per_band, out.size,
                   lambda r0, r1: _unfold_band(plan, r0, r1, every, out[:, :, :, r0:r1]))
    return out.reshape(c * kh * kw, h_out * w_out)


def _grad_weight_gemm(x, grad_out, layer: Geometry, groups: int, kernel_hw) -> np.ndarray:
    """``sum over outputs of grad_out[o] * window[c, ky, kx]``: per band of output rows, the
    band's im2col (per group) times the band's ``grad_out``; float64 sums of the bands."""
    c_in, c_out = x.shape[0], grad_out.shape[0]
    cpg, opg = c_in // groups, c_out // groups
    kh, kw = kernel_hw
    h_out, w_out = layer.out_shape
    plan = _plan_for(x, layer, kernel_hw)
    partial: dict[int, np.ndarray] = {}

    def band(r0: int, r1: int) -> None:
        n = r1 - r0
        cols = np.empty((cpg, kh, kw, n, w_out), np.float32)
        acc = np.empty((groups, opg, cpg * kh * kw), np.float64)
        for g in range(groups):
            _unfold_band(plan, r0, r1, slice(g * cpg, (g + 1) * cpg), cols)
            go = grad_out[g * opg:(g + 1) * opg, r0:r1].reshape(opg, n * w_out)
            acc[g] = go @ cols.reshape(cpg * kh * kw, n * w_out).T
        partial[r0] = acc

    per_band = ops.rows_per_band(4 * (cpg * kh * kw + opg) * w_out)
    ops._run_bands(h_out, per_band, c_out * cpg * kh * kw * h_out * w_out, band)
    total = sum(partial.values())
    return total.reshape(c_out, cpg, kh, kw).astype(np.float32)


def _grad_weight_fft(x, grad_out, layer: Geometry, groups: int, kernel_hw) -> np.ndarray:
    """The same as a correlation with the roles swapped: each input channel of a group (the
    image, padded as the layer pads it) correlated with each ``grad_out`` map of the group (the
    kernel, its taps ``stride`` apart), at a stride of the layer's dilation; through conv2d's
    FFT. Output ``(ky, kx)`` is the weight's tap ``(ky, kx)``."""
    c_in, c_out = x.shape[0], grad_out.shape[0]
    cpg, opg = c_in // groups, c_out // groups
    kh, kw = kernel_hw
    rows, cols = layer.axes
    result = np.empty((c_out, cpg, kh, kw), np.float32)
    # (cpg * opg, 1, H_out, W_out): output channel ci*opg + o correlates input ci with map o
    for g in range(groups):
        maps = grad_out[g * opg:(g + 1) * opg]
        kernels = np.broadcast_to(maps[None], (cpg, opg, *maps.shape[1:])).reshape(
            cpg * opg, 1, *maps.shape[1:])
        swapped = ops.conv2d_using(
            "fft", x[g * cpg:(g + 1) * cpg], kernels, groups=cpg, padding=layer.padding,
            stride=(rows.dilation, cols.dilation), dilation=(rows.stride, cols.stride))
        # the floor of the layer's output size may leave rows of the padded input unread: the
        # swapped correlation then has more than kH x kW outputs; the first kH x kW are the taps
        result[g * opg:(g + 1) * opg] = swapped[:, :kh, :kw].reshape(cpg, opg, kh, kw).swapaxes(0, 1)
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
    method = _grad_weight_fft if kh * kw > _GRAD_FFT_TAPS else _grad_weight_gemm
    grad_w = method(x, grad_out, layer, groups, (kh, kw))
    grad_b = grad_out.sum(axis=(1, 2), dtype=np.float64).astype(np.float32)
    return grad_x, grad_w, grad_b
