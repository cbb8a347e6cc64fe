"""Max and average pooling with the semantics of ``max_pool2d`` / ``avg_pool2d``.

numpy passes over bands of rows on the thread pool (:mod:`conv.bands`), one per window tap,
never a whole-image ``reshape(...).max()``: memory stays a few bands whatever the photo.
"""

from __future__ import annotations

import numpy as np

from conv.bands import rows_per_band, run_bands
from conv.checks import as_image, check_finite
from conv.geometry import Geometry, pool_geometry
from conv.options import POOL_MODES
from conv.padding import Plan, band_plan

__all__ = ["pool2d"]


def pool2d(x, kernel_size=2, stride=None, padding=0, *, mode="max",
           layer: Geometry | None = None) -> np.ndarray:
    """Max or average pooling of a ``(C, H, W)`` map, as ``max_pool2d`` / ``avg_pool2d``.

    ``stride`` defaults to the window (``kernel_size``); floor mode; ``padding`` is at most half
    the window and counts as -inf for max and as zeros for the average
    (``count_include_pad=True``: every window divides by ``kH*kW``). ``layer``: the geometry
    already resolved (:func:`conv.geometry.pool_geometry`), instead of the three.
    """
    x = as_image(x)
    if mode not in POOL_MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, POOL_MODES))}, got {mode!r}")
    if layer is None:
        layer = pool_geometry(x.shape[1:], kernel_size, stride, padding)
    (kh, sh, ph), (kw, sw, pw) = ((a.k, a.stride, a.before) for a in layer.axes)
    h, w = x.shape[1:]
    check_finite(x, "x")
    pads = ((ph, ph), (pw, pw))
    plan = band_plan(x, pads, "zeros", (kh, kw), (sh, sw), (1, 1))
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
    run_bands(h_out, rows_per_band(row_bytes), c * h_out * w_out * kh * kw, band)
    return out


def _fill_padding(buf: np.ndarray, plan: Plan, r0: int, r1: int, value: float) -> np.ndarray:
    """Set a band buffer's padding cells (zeros from :meth:`Plan.band`) to ``value``."""
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
