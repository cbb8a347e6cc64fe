"""2-D convolution with the semantics of ``torch.nn.functional.conv2d``, and the engine's
public entry point.

Arrays are channels-first without a batch axis: an input is ``(C_in, H, W)``, weights are
``(C_out, C_in // groups, kH, kW)``, a bias is ``(C_out,)``, an output ``(C_out, H_out, W_out)``.
Everything is computed in float32, as PyTorch does; integer inputs (uint8 photos) are converted
first, so nothing ever wraps around.

The convolution is a cross-correlation (no kernel flip), as in every deep-learning library;
``flip=True`` rotates the kernel by 180 degrees and gives the mathematical convolution.

One of three methods is chosen per case from a cost estimate (:func:`choose_method`):

- ``direct``: a compiled loop (numba, ``conv/_jit.py``) over output rows on every core; each
  row's sum stays in the L1 cache, up to four taps are fused per pass, zero taps are skipped,
  padding is read through index maps (no padded copy of the photo) and a stride computes only
  the outputs it keeps.
- ``separable``: rank-1 kernels (Sobel, Gaussian, box) as a row pass then a column pass, both
  through the same loop: ``kH + kW`` taps instead of ``kH * kW``.
- ``fft``: large kernels, by bands of rows (with their halo) through scipy's real FFT, times
  each kernel's spectrum; memory stays a few bands, never a whole-image spectrum per kernel.

The rest of the engine has a module each, and every public name is importable from here
(callers write ``ops.pad``, ``ops.pool2d``, ...): padding in :mod:`conv.padding`, pooling in
:mod:`conv.pooling`, activations in :mod:`conv.activations`, argument checks in
:mod:`conv.checks`, the thread pool in :mod:`conv.bands`, and the rest of the family
(``conv_transpose2d``, ``conv_transpose1d``, ``conv1d``, ``conv2d_grad``, ``im2col``) in
:mod:`conv.family` (see :data:`FAMILY`).
"""

from __future__ import annotations

import threading

import numpy as np
import scipy.fft

from conv import warm
from conv.activations import activate
from conv.bands import BAND_BYTES, INLINE_WORK, JIT_LOCK, THREADS, rows_per_band, run_bands
from conv.checks import as_image, check_conv_args, check_finite
from conv.geometry import Geometry, Padding, Pair, Windows, effective_size
from conv.options import ACTIVATION_MODES as ACTIVATIONS
from conv.options import PADDING_MODES, POOL_MODES
from conv.padding import NUMPY_PAD_MODE, Plan, band_plan, index_map, pad, source_index
from conv.pooling import pool2d

METHODS = ("direct", "separable", "fft")

# Defined in conv/family.py, which imports this module: it is imported on first use (PEP 562)
# rather than at the end of this file, so that either module may be imported first.
FAMILY = ("conv_transpose2d", "conv_transpose1d", "conv1d", "conv2d_grad", "im2col")

__all__ = [
    # the convolution
    "METHODS", "check_conv_args", "choose_method", "conv2d", "conv2d_using", "rank1_factors",
    # from the modules beside it
    "ACTIVATIONS", "BAND_BYTES", "NUMPY_PAD_MODE", "PADDING_MODES", "POOL_MODES", "Padding",
    "Windows", "activate", "index_map", "pad", "pool2d", "rows_per_band", "source_index",
    *FAMILY,
]

# --------------------------------------------------------------------------------------------
# The three methods. Each fills out[:, r0:r1, :] for every output channel.
# --------------------------------------------------------------------------------------------

_CHUNK = 1024  # output columns per task: a row chunk of 8 filters' sums fits the L1 cache


def _direct(x: np.ndarray, weight: np.ndarray, pads: Padding, mode: str, stride: Pair,
            dilation: Pair, groups: int, out: np.ndarray) -> None:
    """The compiled direct loop (``conv/_jit.py``), reading the padding through index maps."""
    (t, b), (l, r) = pads
    h, w = x.shape[1:]
    rows = index_map(h, t, b, mode)
    cols = index_map(w, l, r, mode)
    _conv_rows(x, weight, out, rows, cols, stride, dilation, l, groups, 0, out.shape[1])


def _conv_rows(x, weight, out, rows, cols, stride, dilation, left, groups, r0, r1) -> None:
    if not warm.compiled_ready():
        _conv_rows_numpy(x, weight, out, rows, cols, stride, dilation, groups, r0, r1)
        return
    # imported late: importing numba is slow, and not always needed
    import numba

    from conv import _jit

    work = (r1 - r0) * out.shape[2] * np.count_nonzero(weight)
    with JIT_LOCK:
        # A small layer on one thread: waking the second one costs more than it saves, and on
        # a busy machine the parallel loop would wait for a core.
        numba.set_num_threads(1 if work < INLINE_WORK else numba.config.NUMBA_NUM_THREADS)
        # bands of rows per task: a few dozen tasks per thread, each allocating its scratch once
        band = max(1, (r1 - r0) // (32 * THREADS))
        _jit.conv_rows(x, weight, out, rows, cols, stride[0], stride[1], dilation[0],
                       dilation[1], left, groups, _CHUNK, r0, r1, band)


def _conv_rows_numpy(x, weight, out, rows, cols, stride, dilation, groups, r0, r1) -> None:
    """What ``_jit.conv_rows`` computes, in numpy: used while a server compiles the loop.

    ``out[o, r, j] = sum w[o, ci, ky, kx] * x[c, rows[r*sh + ky*dh], cols[j*sw + kx*dw]]``
    (an index of -1 reads a zero), for output rows ``[r0, r1)``, in bands of rows whose padded
    copy stays small.
    """
    c_out, cpg, kh, kw = weight.shape
    opg = c_out // groups
    (sh, sw), (dh, dw) = stride, dilation
    w_out = out.shape[2]
    pcols = cols[:(w_out - 1) * sw + (kw - 1) * dw + 1]
    per_band = rows_per_band(4 * x.shape[0] * len(pcols) * sh)
    for b0 in range(r0, r1, per_band):
        b1 = min(b0 + per_band, r1)
        n = b1 - b0
        prows = rows[b0 * sh:(b1 - 1) * sh + (kh - 1) * dh + 1]
        band = x[:, np.maximum(prows, 0)][:, :, np.maximum(pcols, 0)]
        band[:, prows < 0] = 0
        band[:, :, pcols < 0] = 0
        acc = out[:, b0:b1]
        acc[...] = 0
        for o in range(c_out):
            g = o // opg
            for ci in range(cpg):
                for ky in range(kh):
                    for kx in range(kw):
                        v = weight[o, ci, ky, kx]
                        if v != 0:
                            acc[o] += v * band[g * cpg + ci, ky * dh:ky * dh + (n - 1) * sh + 1:sh,
                                               kx * dw:kx * dw + (w_out - 1) * sw + 1:sw]


def rank1_factors(kernel2d: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(col, row)`` with ``np.outer(col, row) == kernel2d`` (to rounding), or None if the kernel
    is not separable. The pivot is the largest entry, so integer kernels such as Sobel factor
    exactly (``[1, 2, 1] / 2`` times ``[2, 0, -2]``)."""
    k = np.asarray(kernel2d, np.float64)
    peak = np.abs(k).max()
    if peak == 0:
        return None
    i, j = np.unravel_index(np.argmax(np.abs(k)), k.shape)
    row = k[i, :].copy()
    col = k[:, j] / k[i, j]
    if np.abs(np.outer(col, row) - k).max() > 1e-6 * peak:
        return None
    return col, row


def _separable(x: np.ndarray, factors, pads: Padding, mode: str, stride: Pair, dilation: Pair,
               groups: int, out: np.ndarray) -> None:
    """Every (output, input) kernel slice is ``outer(col, row)`` (None for an all-zero slice).

    By bands of output rows: pass 1 filters the rows of the padded input that the band needs
    (``row`` factors, padding read through index maps, stride along the width) into one
    intermediate plane per (output, input) pair; pass 2 filters that band's columns (``col``
    factors, stride along the height) and sums over the inputs. Row filtering commutes with
    padding rows, so this equals the 2-D correlation for every padding mode; the intermediate
    is a band (about 10 halos tall), not a whole image.
    """
    c_out, cpg = len(factors), len(factors[0])
    kh = max(len(f[0]) for r in factors for f in r if f is not None)
    kw = max(len(f[1]) for r in factors for f in r if f is not None)
    row_w = np.zeros((c_out * cpg, cpg, 1, kw), np.float32)
    col_w = np.zeros((c_out, cpg, kh, 1), np.float32)
    for o in range(c_out):
        for ci in range(cpg):
            if factors[o][ci] is not None:
                col, row = factors[o][ci]
                row_w[o * cpg + ci, ci, 0, :] = row
                col_w[o, ci, :, 0] = col
    (t, b), (l, r) = pads
    h, w = x.shape[1:]
    h_out, w_out = out.shape[1:]
    rows = index_map(h, t, b, mode)
    cols = index_map(w, l, r, mode)
    win = Windows((h + t + b, w + l + r), (kh, kw), stride, dilation)
    eh = effective_size(kh, dilation[0])
    per_band = max(64, 10 * eh // stride[0])
    mid_cols = np.arange(w_out, dtype=np.int64)
    for r0 in range(0, h_out, per_band):
        r1 = min(r0 + per_band, h_out)
        p0, p1 = win.band_rows(r0, r1)
        mid = np.empty((c_out * cpg, p1 - p0, w_out), np.float32)
        # pass 1: mid row i = padded row p0 + i, filtered along the width
        _conv_rows(x, row_w, mid, rows[p0:p1], cols, (1, stride[1]), (1, dilation[1]), l,
                   groups, 0, p1 - p0)
        # pass 2: padded row p is mid row p - p0 (only the band's rows are read)
        mid_rows = np.full(len(rows), -1, np.int64)
        mid_rows[p0:p1] = np.arange(p1 - p0)
        _conv_rows(mid, col_w, out, mid_rows, mid_cols, (stride[0], 1), (dilation[0], 1), 0,
                   c_out, r0, r1)


def _fft(plan: Plan, weight: np.ndarray, groups: int, out: np.ndarray) -> None:
    """Each band (with its halo of ``kh_eff - 1`` rows) through one real 2-D FFT per input
    channel; the correlation is the convolution with the flipped kernel, and the outputs that
    a circular convolution of the FFT's size does not wrap around are kept.

    Transforms are float32 (complex64): twice as fast as float64, and the error stays below
    1e-6 of the kernel's total weight times the input's range (tests/conv/test_ops.py).
    """
    c_out, cpg, kh, kw = weight.shape
    opg = c_out // groups
    (sh, sw), (dh, dw) = plan.win.stride, plan.win.dilation
    eh, ew = effective_size(kh, dh), effective_size(kw, dw)
    wp = plan.padded_w
    w_out = out.shape[2]
    # the halo is redone for every band: bands at least four times as tall as it
    rows_target = max(4 * eh, _FFT_BAND_ROWS)
    n_per_band = max(1, (rows_target - eh) // sh + 1)
    kernels = np.zeros((c_out, cpg, eh, ew), np.float32)
    kernels[:, :, ::dh, ::dw] = weight[:, :, ::-1, ::-1]  # flipped and dilated
    spectra: dict[Pair, np.ndarray] = {}
    lock = threading.Lock()

    def spectrum(shape: Pair) -> np.ndarray:
        with lock:  # two shapes at most: full bands and the last one
            if shape not in spectra:
                spectra[shape] = scipy.fft.rfft2(kernels, s=shape, axes=(-2, -1))
            return spectra[shape]

    def band(r0: int, r1: int) -> None:
        buf = plan.band(r0, r1)
        shape = (scipy.fft.next_fast_len(buf.shape[1], real=True),
                 scipy.fft.next_fast_len(wp, real=True))
        k = spectrum(shape)
        xs = scipy.fft.rfft2(buf, s=shape, axes=(-2, -1))
        n = r1 - r0
        acc = np.empty(xs.shape[1:], xs.dtype)
        for o in range(c_out):
            g = o // opg
            np.multiply(xs[g * cpg], k[o, 0], out=acc)
            for ci in range(1, cpg):
                acc += xs[g * cpg + ci] * k[o, ci]
            full = scipy.fft.irfft2(acc, s=shape)
            out[o, r0:r1] = full[eh - 1: eh - 1 + (n - 1) * sh + 1: sh,
                                 ew - 1: ew - 1 + (w_out - 1) * sw + 1: sw]

    run_bands(out.shape[1], n_per_band, INLINE_WORK * c_out * cpg, band)


# --------------------------------------------------------------------------------------------
# Choosing a method
# --------------------------------------------------------------------------------------------

# The cost model, in nanoseconds per pixel and operation on this kind of machine (2 cores),
# fitted to timings by bench/calibrate_methods.py. Direct and separable work scales with the
# output's pixels, the FFT's with the (padded) input's: a huge kernel with a tiny output (the
# gradient of a learned kernel) goes direct.
_TAP = 0.03      # one tap of the compiled loop (fused by four), per output pixel
_GROUP = 0.1     # one load and store of the accumulator, per group of <= 4 fused taps
_PLANE = 0.5     # zeroing, copying out and the borders, per output (or intermediate) plane
_PHASE = 0.15    # deinterleaving an input row for a stride > 1, per input pixel and kernel row
_FFT = 3.3       # one real 2-D FFT or its inverse, per transformed pixel
_PRODUCT = 2.9   # one complex product-accumulate of spectra (numpy temporaries), per pixel
_SEP_PLANE = 2.0  # one separable (output, input) slice: its intermediate plane and two passes
_SEP_TAP = 0.05   # one tap of a 1-D pass (fused less well than the 2-D loop's)
_FFT_BAND_ROWS = 128


def _factorise(weight: np.ndarray):
    out = []
    for o in range(weight.shape[0]):
        row = []
        for ci in range(weight.shape[1]):
            k = weight[o, ci]
            if not k.any():
                row.append(None)
                continue
            f = rank1_factors(k)
            if f is None:
                return None
            row.append((f[0].astype(np.float32), f[1].astype(np.float32)))
        out.append(row)
    return out


def _row_cost(nnz: int) -> float:
    return _TAP * nnz + _GROUP * -(-nnz // 4)


def _costs(weight: np.ndarray, stride: Pair, dilation: Pair, factors, groups: int,
           padded_hw: Pair, out_hw: Pair) -> dict[str, float]:
    """Estimated nanoseconds of each method (see the constants above)."""
    c_out, cpg, kh, kw = weight.shape
    (sh, sw), (ph, pw) = stride, padded_hw
    out_px = out_hw[0] * out_hw[1]
    c_in = cpg * groups
    nnz = np.count_nonzero(weight.reshape(c_out * cpg, -1), axis=1)
    direct = out_px * (sum(_row_cost(int(n)) for n in nnz) + _PLANE * c_out)
    if sw > 1:
        direct += out_hw[0] * c_in * kh * pw * _PHASE
    costs = {"direct": direct}
    if factors is not None:
        eh = effective_size(kh, dilation[0])
        rows_in = min(ph, out_hw[0] * sh + (eh - 1) * -(-out_hw[0] // max(64, 10 * eh // sh)))
        sep = out_px * _PLANE * c_out
        for row in factors:
            for f in row:
                if f is not None:
                    col, r = f
                    sep += rows_in * out_hw[1] * (_SEP_PLANE + _SEP_TAP * np.count_nonzero(r))
                    sep += out_px * _SEP_TAP * np.count_nonzero(col)
        costs["separable"] = sep
    eh = effective_size(kh, dilation[0])
    rows = max(4 * eh, _FFT_BAND_ROWS)
    n_per_band = max(1, (rows - eh) // sh + 1)
    n_bands = -(-out_hw[0] // n_per_band)
    fft_px = (out_hw[0] * sh + n_bands * (eh - 1)) * pw  # every band with its halo
    costs["fft"] = fft_px * (_FFT * (c_in + c_out) + _PRODUCT * c_out * cpg)
    return costs


def choose_method(weight, *, in_hw=(3000, 4000), stride=1, padding=0, dilation=1, groups=1,
                  layer: Geometry | None = None) -> str:
    """The method :func:`conv2d` uses for these weights on an input of ``in_hw`` (H, W)
    (``layer``: the geometry already resolved, instead of stride, padding and dilation)."""
    w = np.asarray(weight, np.float32)
    c_out, cpg = w.shape[:2]
    if layer is None:
        layer = check_conv_args((cpg * groups, *in_hw), w.shape, stride=stride, padding=padding,
                                dilation=dilation, groups=groups)
    rows, cols = layer.axes
    costs = _costs(w, (rows.stride, cols.stride), (rows.dilation, cols.dilation), _factorise(w),
                   groups, (rows.padded, cols.padded), layer.out_shape)
    return min(costs, key=costs.get)


# --------------------------------------------------------------------------------------------
# The convolution
# --------------------------------------------------------------------------------------------

def conv2d(x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros", flip=False, layer: Geometry | None = None) -> np.ndarray:
    """2-D cross-correlation of a ``(C_in, H, W)`` input, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : array_like, shape (C_in, H, W)
        The input; converted to float32 (uint8 photos stay 0..255 and never wrap).
    weight : array_like, shape (C_out, C_in // groups, kH, kW)
        One kernel per output channel and input channel of its group.
    bias : array_like, shape (C_out,), optional
        Added to each output channel.
    stride, dilation : int or (int, int)
        Step between windows, and spacing between a kernel's taps; >= 1.
    padding : int, (int, int), ((int, int), (int, int)) or {"valid", "same", "full"}
        Rows/columns added on each side (see :func:`conv.geometry.resolve_padding`).
    groups : int
        Channels are split into ``groups`` independent groups (``groups == C_in`` is depthwise).
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
        What the padding holds (PyTorch's names).
    flip : bool
        Rotate each kernel by 180 degrees first: the mathematical convolution.
    layer : conv.geometry.Geometry, optional
        The geometry already resolved and checked (:func:`check_conv_args`, or
        ``ConvSpec.resolve``): then ``stride``, ``padding`` and ``dilation`` are not read.

    Returns
    -------
    numpy.ndarray, float32, shape (C_out, H_out, W_out)
        ``H_out = floor((H + top + bottom - dH*(kH-1) - 1) / sH) + 1``, likewise ``W_out``.

    Raises
    ------
    ValueError
        For every invalid argument, naming the parameter, the value and what is allowed.
    """
    return _conv2d(x, weight, bias, stride=stride, padding=padding, dilation=dilation,
                   groups=groups, padding_mode=padding_mode, flip=flip, method=None, layer=layer)


def conv2d_using(method: str, x, weight, bias=None, **kwargs) -> np.ndarray:
    """:func:`conv2d` forced to use ``method`` (one of :data:`METHODS`): for tests and benchmarks."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    return _conv2d(x, weight, bias, method=method, **kwargs)


def _conv2d(x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1,
            padding_mode="zeros", flip=False, method=None, layer: Geometry | None = None
            ) -> np.ndarray:
    x = as_image(x)
    weight = np.asarray(weight)
    if weight.ndim != 4:
        raise ValueError(
            f"weight must be a (C_out, C_in // groups, kH, kW) array, got shape {weight.shape}"
        )
    if weight.dtype.kind not in "biuf":
        raise ValueError(f"weight must hold real numbers, got dtype {weight.dtype}")
    if bias is not None:
        bias = np.asarray(bias)
        if bias.dtype.kind not in "biuf":
            raise ValueError(f"bias must hold real numbers, got dtype {bias.dtype}")
    if layer is None:
        layer = check_conv_args(
            x.shape, weight.shape, bias_shape=None if bias is None else bias.shape,
            stride=stride, padding=padding, dilation=dilation, groups=groups,
            padding_mode=padding_mode)
    pads = layer.padding
    rows, cols = layer.axes
    stride, dilation = (rows.stride, cols.stride), (rows.dilation, cols.dilation)
    out_shape = (weight.shape[0], *layer.out_shape)
    weight = np.ascontiguousarray(weight, dtype=np.float32)
    check_finite(weight, "weight")
    if bias is not None:
        bias = bias.astype(np.float32)
        check_finite(bias, "bias")
    check_finite(x, "x")
    if flip:
        weight = np.ascontiguousarray(weight[:, :, ::-1, ::-1])

    factors = _factorise(weight) if method in (None, "separable") else None
    if method is None:
        costs = _costs(weight, stride, dilation, factors, groups, (rows.padded, cols.padded),
                       out_shape[1:])
        method = min(costs, key=costs.get)
    elif method == "separable" and factors is None:
        raise ValueError("method 'separable' needs every kernel slice to be of rank 1")

    out = np.empty(out_shape, np.float32)
    if method == "direct":
        _direct(x, weight, pads, padding_mode, stride, dilation, groups, out)
    elif method == "separable":
        _separable(x, factors, pads, padding_mode, stride, dilation, groups, out)
    else:
        _fft(band_plan(x, pads, padding_mode, weight.shape[2:], stride, dilation), weight,
             groups, out)
    if bias is not None:
        out += bias[:, None, None]
    return out


# --------------------------------------------------------------------------------------------
# The rest of the family, importable from here
# --------------------------------------------------------------------------------------------

def __getattr__(name: str):
    if name in FAMILY:
        from conv import family

        return getattr(family, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *FAMILY})
