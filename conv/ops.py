"""Convolution, pooling and activations with the semantics of ``torch.nn.functional``.

Arrays are channels-first without a batch axis: an input is ``(C_in, H, W)``, weights are
``(C_out, C_in // groups, kH, kW)``, a bias is ``(C_out,)``, an output ``(C_out, H_out, W_out)``.
Everything is computed in float32, as PyTorch does; integer inputs (uint8 photos) are converted
first, so nothing ever wraps around.

The convolution is a cross-correlation (no kernel flip), as in every deep-learning library;
``flip=True`` rotates the kernel by 180 degrees and gives the mathematical convolution.

How it is fast (figures printed by ``bench/bench_engine.py``): one of three methods is chosen
per case from a cost estimate.

- ``direct``: a compiled loop (numba, ``conv/_jit.py``) over output rows on every core; each
  row's sum stays in the L1 cache, up to four taps are fused per pass, zero taps are skipped,
  padding is read through index maps (no padded copy of the photo) and a stride computes only
  the outputs it keeps.
- ``separable``: rank-1 kernels (Sobel, Gaussian, box) as a row pass then a column pass, both
  through the same loop: ``kH + kW`` taps instead of ``kH * kW``.
- ``fft``: large kernels, by bands of rows (with their halo) through scipy's real FFT, times
  each kernel's spectrum; memory stays a few bands, never a whole-image spectrum per kernel.

Pooling and activations are numpy passes over bands of rows on a thread pool (numpy releases
the GIL), never a whole-image ``reshape(...).max()``.

The rest of the family (``conv_transpose2d``, ``conv_transpose1d``, ``conv1d``, ``conv2d_grad``,
``im2col``) lives in :mod:`conv.family` and is importable from here (see :data:`FAMILY`).
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.fft
from scipy import special

from conv import warm
from conv.geometry import (Geometry, Padding, Pair, Windows, as_int, conv_geometry,
                           effective_size, pool_geometry, resolve_padding)
from conv.options import ACTIVATION_MODES as ACTIVATIONS
from conv.options import PADDING, PADDING_MODES, POOL_MODES

METHODS = ("direct", "separable", "fft")


# numpy.pad's names for PyTorch's padding modes (conv/options.py translates them)
NUMPY_PAD_MODE = {m.name: m.numpy for m in PADDING.values()}

# A band's working set (its input rows, output rows and scratch) should stay in the L2 cache.
BAND_BYTES = 1 << 20
# Below this many multiply-adds a call runs on the calling thread: a pool costs ~50 us a task.
_INLINE_WORK = 1 << 20
_THREADS = max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
_pool: ThreadPoolExecutor | None = None


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------

def _check_pad_mode(mode: str, padding: Padding, in_hw: Pair) -> None:
    if mode not in PADDING_MODES:
        raise ValueError(
            f"padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, got {mode!r}"
        )
    for (before, after), n, axis in zip(padding, in_hw, ("height", "width")):
        p = max(before, after)
        # The limits are PyTorch's: a single reflection or wrap-around must suffice.
        if mode == "reflect" and p >= n:
            raise ValueError(
                f"padding_mode='reflect' needs padding smaller than the input: padding {p} "
                f">= input {axis} {n}; use 'replicate' or 'zeros', or less padding"
            )
        if mode == "circular" and p > n:
            raise ValueError(
                f"padding_mode='circular' needs padding at most the input size: padding {p} "
                f"> input {axis} {n}"
            )


def _as_image(x, name: str = "x") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(
            f"{name} must be a (C, H, W) array, got shape {x.shape}"
            + (" (add a channel axis: x[None])" if x.ndim == 2 else "")
        )
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if min(x.shape) < 1:
        raise ValueError(f"{name} must not be empty, got shape {x.shape}")
    return np.ascontiguousarray(x, dtype=np.float32)


def _check_finite(a: np.ndarray, name: str) -> None:
    if (a.size >= _INLINE_WORK and a.dtype == np.float32 and a.flags.c_contiguous
            and warm.compiled_ready()):
        from conv import _jit

        # a parallel compiled pass: a photo is checked on every rerun
        with _JIT_LOCK:
            bad = _jit.count_nonfinite(a.reshape(-1, a.shape[-1]))
        if not bad:
            return
    else:
        # A float32 sum is a fast test (one pass, SIMD); only if it is not finite (NaN, inf, or
        # an overflow of huge but finite values) is the element-wise test needed.
        with np.errstate(over="ignore", invalid="ignore"):
            total = a.sum(dtype=np.float32)
        if np.isfinite(total):
            return
    bad_mask = ~np.isfinite(a)
    if bad_mask.any():
        idx = tuple(int(i) for i in np.argwhere(bad_mask)[0])
        raise ValueError(f"{name} must be finite, got {a[idx]} at index {idx}")


# --------------------------------------------------------------------------------------------
# Padding
# --------------------------------------------------------------------------------------------

def source_index(idx: np.ndarray, n: int, mode: str) -> np.ndarray:
    """Map coordinates relative to an axis of length ``n`` (possibly outside it) to the index
    that padding mode ``mode`` reads there; -1 means a zero."""
    idx = np.asarray(idx)
    if mode == "zeros":
        return np.where((idx >= 0) & (idx < n), idx, -1)
    if mode == "replicate":
        return np.clip(idx, 0, n - 1)
    if mode == "circular":
        return np.mod(idx, n)
    if n == 1:  # reflect with n == 1 is only valid with no padding
        return np.zeros_like(idx)
    m = np.mod(idx, 2 * (n - 1))  # reflect without repeating the edge pixel
    return np.where(m < n, m, 2 * (n - 1) - m)


def index_map(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """``source_index(np.arange(-before, n + after), n, mode)`` as int64, computing only the
    borders (inside, padded index ``before + i`` reads ``i``): one array, one pass. A 1-D
    signal of a million samples runs as one row of a million columns, where the five passes
    and temporaries of ``source_index`` took several times the convolution itself."""
    m = np.arange(-before, n + after, dtype=np.int64)
    m[:before] = source_index(m[:before], n, mode)
    m[before + n:] = source_index(m[before + n:], n, mode)
    return m


def pad(x, padding, mode: str = "zeros") -> np.ndarray:
    """The padded input that the convolution reads, as float32 ``(C, H + t + b, W + l + r)``.

    ``padding`` is anything :func:`resolve_padding` accepts except the words (which depend on the
    kernel); ``mode`` is one of ``"zeros"``, ``"reflect"``, ``"replicate"``, ``"circular"``.
    """
    x = _as_image(x)
    if isinstance(padding, str):
        raise ValueError(f"pad() needs explicit padding, got {padding!r}; see resolve_padding()")
    padding = resolve_padding(padding, x.shape[1:], (1, 1))
    _check_pad_mode(mode, padding, x.shape[1:])
    (t, b), (l, r) = padding
    out = np.empty((x.shape[0], x.shape[1] + t + b, x.shape[2] + l + r), np.float32)
    rows = source_index(np.arange(-t, x.shape[1] + b), x.shape[1], mode)
    cols = source_index(np.arange(-l, x.shape[2] + r), x.shape[2], mode)
    _gather(x, rows, cols, l, out)
    return out


def _gather(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, left: int, out: np.ndarray) -> None:
    """``out[:, a, b] = x[:, rows[a], cols[b]]``, zero where an index is -1.

    ``cols[left:left + W]`` must be ``0..W-1`` (the image's own columns): they are copied as one
    block, and the border columns are then copied from the buffer itself.
    """
    w = x.shape[2]
    inner = out[:, :, left:left + w]
    valid = rows >= 0
    if valid.all() and rows[-1] - rows[0] == len(rows) - 1 and np.all(np.diff(rows) == 1):
        inner[...] = x[:, rows[0]:rows[-1] + 1, :]
    else:
        inner[:, valid, :] = x[:, rows[valid], :]
        inner[:, ~valid, :] = 0
    for dest, src in ((slice(0, left), cols[:left]), (slice(left + w, None), cols[left + w:])):
        if len(src):
            if (src < 0).any():
                out[:, :, dest] = 0
            else:
                out[:, :, dest] = inner[:, :, src]


# --------------------------------------------------------------------------------------------
# The band driver
# --------------------------------------------------------------------------------------------

def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="conv")
    return _pool


def rows_per_band(row_bytes: int) -> int:
    """How many rows of ``row_bytes`` bytes of working set fit one cache-sized band."""
    return max(1, BAND_BYTES // max(row_bytes, 1))


def _run_bands(n_rows: int, per_band: int, work: int, fn: Callable[[int, int], None]) -> None:
    """Call ``fn(r0, r1)`` over bands of ``per_band`` rows covering ``[0, n_rows)``, on the
    thread pool when there is enough ``work`` (multiply-adds) to pay for it."""
    bands = [(r0, min(r0 + per_band, n_rows)) for r0 in range(0, n_rows, per_band)]
    if work < _INLINE_WORK or _THREADS == 1 or len(bands) == 1:
        for r0, r1 in bands:
            fn(r0, r1)
        return
    for future in [_executor().submit(fn, r0, r1) for r0, r1 in bands]:
        future.result()


@dataclass(frozen=True)
class _Plan:
    """Everything a band function needs: the input, geometry and how padding is read."""

    x: np.ndarray          # (C_in, H, W) float32, C-contiguous
    padding: Padding
    mode: str
    win: Windows
    cols: np.ndarray       # source column for each padded column

    @property
    def padded_w(self) -> int:
        return self.win.padded_hw[1]

    def band(self, r0: int, r1: int, channels: slice | None = None) -> np.ndarray:
        """The padded input rows needed for output rows [r0, r1), as a (C, rows, Wp) array."""
        p0, p1 = self.win.band_rows(r0, r1)
        x = self.x if channels is None else self.x[channels]
        (top, _), (left, right) = self.padding
        h = x.shape[1]
        if left == 0 and right == 0 and p0 - top >= 0 and p1 - top <= h:
            return x[:, p0 - top:p1 - top, :]  # inside the image, no padding: a view, no copy
        buf = np.empty((x.shape[0], p1 - p0, self.padded_w), np.float32)
        _gather(x, source_index(np.arange(p0 - top, p1 - top), h, self.mode), self.cols, left, buf)
        return buf


def _plan(x: np.ndarray, padding: Padding, mode: str, kernel_hw: Pair, stride: Pair,
          dilation: Pair) -> _Plan:
    (t, b), (l, r) = padding
    h, w = x.shape[1:]
    win = Windows((h + t + b, w + l + r), kernel_hw, stride, dilation)
    cols = source_index(np.arange(-l, w + r), w, mode)
    return _Plan(x, padding, mode, win, cols)


# --------------------------------------------------------------------------------------------
# The four methods. Each fills out[:, r0:r1, :] for every output channel.
# --------------------------------------------------------------------------------------------

_JIT_LOCK = threading.Lock()  # numba's default thread pool must not be entered twice at once
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
    from conv import _jit  # imported late: importing numba is slow, and not always needed
    import numba

    work = (r1 - r0) * out.shape[2] * np.count_nonzero(weight)
    with _JIT_LOCK:
        # A small layer on one thread: waking the second one costs more than it saves, and on
        # a busy machine the parallel loop would wait for a core.
        numba.set_num_threads(1 if work < _INLINE_WORK else numba.config.NUMBA_NUM_THREADS)
        # bands of rows per task: a few dozen tasks per thread, each allocating its scratch once
        band = max(1, (r1 - r0) // (32 * _THREADS))
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


def _fft(plan: _Plan, weight: np.ndarray, groups: int, out: np.ndarray) -> None:
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
    # 128-row bands measured fastest at 12 MP (the halo is redone per band: keep bands >= 4x it)
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

    _run_bands(out.shape[1], n_per_band, _INLINE_WORK * c_out * cpg, band)


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
# Public operations
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
        Rows/columns added on each side (see :func:`resolve_padding`).
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


def check_conv_args(x_shape, weight_shape, *, bias_shape=None, stride=1, padding=0, dilation=1,
                    groups=1, padding_mode="zeros") -> Geometry:
    """Validate a convolution's arguments from shapes alone and resolve its geometry. Raises
    the same ``ValueError`` as :func:`conv2d` would."""
    if len(x_shape) != 3:
        raise ValueError(f"x must be a (C, H, W) array, got shape {tuple(x_shape)}")
    if len(weight_shape) != 4:
        raise ValueError(
            f"weight must be a (C_out, C_in // groups, kH, kW) array, got shape {tuple(weight_shape)}"
        )
    c_in, h, w = x_shape
    c_out, cpg, kh, kw = weight_shape
    if min(weight_shape) < 1:
        raise ValueError(f"weight must not be empty, got shape {tuple(weight_shape)}")
    groups = as_int(groups, "groups", 1)
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"groups={groups} must divide both the input channels ({c_in}) and the output "
            f"channels ({c_out})"
        )
    if cpg != c_in // groups:
        raise ValueError(
            f"weight has {cpg} input channels per filter but x has {c_in} channels"
            + (f" in {groups} groups (expected {c_in // groups})" if groups > 1 else
               f" (expected weight.shape[1] == {c_in})")
        )
    if bias_shape is not None and tuple(bias_shape) != (c_out,):
        raise ValueError(f"bias must have shape ({c_out},) (one per filter), got {tuple(bias_shape)}")
    layer = conv_geometry((h, w), (kh, kw), stride=stride, padding=padding, dilation=dilation)
    _check_pad_mode(padding_mode, layer.padding, (h, w))
    return layer


def _conv2d(x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1,
            padding_mode="zeros", flip=False, method=None, layer: Geometry | None = None
            ) -> np.ndarray:
    x = _as_image(x)
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
    _check_finite(weight, "weight")
    if bias is not None:
        bias = bias.astype(np.float32)
        _check_finite(bias, "bias")
    _check_finite(x, "x")
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
        _fft(_plan(x, pads, padding_mode, weight.shape[2:], stride, dilation), weight, groups, out)
    if bias is not None:
        out += bias[:, None, None]
    return out


def pool2d(x, kernel_size=2, stride=None, padding=0, *, mode="max",
           layer: Geometry | None = None) -> np.ndarray:
    """Max or average pooling of a ``(C, H, W)`` map, as ``max_pool2d`` / ``avg_pool2d``.

    ``stride`` defaults to the window (``kernel_size``); floor mode; ``padding`` is at most half
    the window and counts as -inf for max and as zeros for the average
    (``count_include_pad=True``: every window divides by ``kH*kW``). ``layer``: the geometry
    already resolved (:func:`conv.geometry.pool_geometry`), instead of the three.
    """
    x = _as_image(x)
    if mode not in POOL_MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, POOL_MODES))}, got {mode!r}")
    if layer is None:
        layer = pool_geometry(x.shape[1:], kernel_size, stride, padding)
    (kh, sh, ph), (kw, sw, pw) = ((a.k, a.stride, a.before) for a in layer.axes)
    h, w = x.shape[1:]
    _check_finite(x, "x")
    pads = ((ph, ph), (pw, pw))
    plan = _plan(x, pads, "zeros", (kh, kw), (sh, sw), (1, 1))
    c = x.shape[0]
    h_out, w_out = plan.win.out_hw
    out = np.empty((c, h_out, w_out), np.float32)
    fill = -np.inf if mode == "max" else 0.0
    reduce = np.maximum if mode == "max" else np.add

    def band(r0: int, r1: int) -> None:
        n = r1 - r0
        buf = plan.band(r0, r1)
        if (ph or pw) and mode == "max":
            buf = _fill_padding(buf, plan, r0, r1, fill)
        acc = out[:, r0:r1]
        for ky in range(kh):
            for kx in range(kw):
                rs, cs = plan.win.tap_slice(ky, kx, n)
                src = buf[:, rs, cs]
                if ky == 0 and kx == 0:
                    acc[...] = src
                else:
                    reduce(acc, src, out=acc)
        if mode == "avg":
            acc *= np.float32(1.0 / (kh * kw))

    row_bytes = 4 * c * (w + 2 * pw) * sh + 4 * c * w_out
    _run_bands(h_out, rows_per_band(row_bytes), c * h_out * w_out * kh * kw, band)
    return out


def _fill_padding(buf: np.ndarray, plan: _Plan, r0: int, r1: int, value: float) -> np.ndarray:
    """Set a band buffer's padding cells (zeros from :meth:`_Plan.band`) to ``value``."""
    buf = np.array(buf, copy=True) if not buf.flags.writeable or buf.base is plan.x else buf
    (top, _), (left, right) = plan.padding
    h, w = plan.x.shape[1:]
    p0, p1 = plan.win.band_rows(r0, r1)
    rows = np.arange(p0, p1) - top
    outside = (rows < 0) | (rows >= h)
    buf[:, outside, :] = value
    if left:
        buf[:, :, :left] = value
    if right:
        buf[:, :, left + w:] = value
    return buf


def activate(x, name: str, **params) -> np.ndarray:
    """Apply an activation function element-wise; float32 out.

    ``name`` is one of ``"identity"``, ``"relu"``, ``"leaky_relu"`` (``negative_slope``,
    default 0.01 as PyTorch), ``"sigmoid"``, ``"tanh"``, ``"abs"``.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"name must be one of {', '.join(map(repr, ACTIVATIONS))}, got {name!r}")
    allowed = {"negative_slope"} if name == "leaky_relu" else set()
    unknown = set(params) - allowed
    if unknown:
        raise ValueError(
            f"activation {name!r} takes "
            + (f"only {', '.join(sorted(allowed))}" if allowed else "no parameters")
            + f", got {', '.join(sorted(unknown))}"
        )
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"x must hold real numbers, got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    slope = params.get("negative_slope", 0.01)
    if name == "leaky_relu":
        if isinstance(slope, bool) or not isinstance(slope, (int, float, np.number)) or not math.isfinite(slope):
            raise ValueError(f"negative_slope must be a finite number, got {slope!r}")
    out = np.empty_like(x)
    flat_in, flat_out = x.reshape(-1), out.reshape(-1)
    slope32 = np.float32(slope)

    def chunk(a: int, b: int) -> None:
        src, dst = flat_in[a:b], flat_out[a:b]
        if name == "identity":
            dst[...] = src
        elif name == "relu":
            np.maximum(src, 0, out=dst)
        elif name == "leaky_relu":
            np.multiply(src, slope32, out=dst)
            np.maximum(src, dst, out=dst) if slope <= 1 else np.minimum(src, dst, out=dst)
        elif name == "sigmoid":
            special.expit(src, out=dst)
        elif name == "tanh":
            np.tanh(src, out=dst)
        else:
            np.abs(src, out=dst)

    step = BAND_BYTES // 4
    n = flat_in.size
    _run_bands(-(-n // step), 1, n, lambda a, b: chunk(a * step, min(b * step, n)))
    return out


# --------------------------------------------------------------------------------------------
# The rest of the family, importable from here
# --------------------------------------------------------------------------------------------

# Defined in conv/family.py, which imports this module: it is imported on first use (PEP 562)
# rather than at the end of this file, so that either module may be imported first.
FAMILY = ("conv_transpose2d", "conv_transpose1d", "conv1d", "conv2d_grad", "im2col")


def __getattr__(name: str):
    if name in FAMILY:
        from conv import family

        return getattr(family, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *FAMILY})
