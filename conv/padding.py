"""Padding as PyTorch's ``padding_mode`` fills it: ``"zeros"``, ``"reflect"``, ``"replicate"``,
``"circular"``.

The engine never pads a whole photo to convolve it: it reads the padding through index maps
(:func:`source_index`, :func:`index_map`), and copies only the padded rows a band of outputs
needs (:class:`Plan`). :func:`pad` builds the padded input itself, for figures and checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conv.checks import as_image, check_pad_mode
from conv.geometry import Padding, Pair, Windows, resolve_padding
from conv.options import PADDING

__all__ = ["NUMPY_PAD_MODE", "Plan", "band_plan", "gather", "index_map", "pad", "source_index"]

# numpy.pad's names for PyTorch's padding modes (conv/options.py translates them)
NUMPY_PAD_MODE = {m.name: m.numpy for m in PADDING.values()}


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
    borders (inside, padded index ``before + i`` reads ``i``): one array and one pass, so that
    a long 1-D signal (one row of a million columns) costs little beside its convolution."""
    m = np.arange(-before, n + after, dtype=np.int64)
    m[:before] = source_index(m[:before], n, mode)
    m[before + n:] = source_index(m[before + n:], n, mode)
    return m


def pad(x, padding, mode: str = "zeros") -> np.ndarray:
    """The padded input that the convolution reads, as float32 ``(C, H + t + b, W + l + r)``.

    ``padding`` is anything :func:`resolve_padding` accepts except the words (which depend on the
    kernel); ``mode`` is one of ``"zeros"``, ``"reflect"``, ``"replicate"``, ``"circular"``.
    """
    x = as_image(x)
    if isinstance(padding, str):
        raise ValueError(f"pad() needs explicit padding, got {padding!r}; see resolve_padding()")
    padding = resolve_padding(padding, x.shape[1:], (1, 1))
    check_pad_mode(mode, padding, x.shape[1:])
    (t, b), (l, r) = padding
    out = np.empty((x.shape[0], x.shape[1] + t + b, x.shape[2] + l + r), np.float32)
    rows = source_index(np.arange(-t, x.shape[1] + b), x.shape[1], mode)
    cols = source_index(np.arange(-l, x.shape[2] + r), x.shape[2], mode)
    gather(x, rows, cols, l, out)
    return out


def gather(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, left: int, out: np.ndarray) -> None:
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


@dataclass(frozen=True)
class Plan:
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
        gather(x, source_index(np.arange(p0 - top, p1 - top), h, self.mode), self.cols, left, buf)
        return buf


def band_plan(x: np.ndarray, padding: Padding, mode: str, kernel_hw: Pair, stride: Pair,
              dilation: Pair) -> Plan:
    """The :class:`Plan` of a checked float32 ``x`` for a layer of this geometry."""
    (t, b), (l, r) = padding
    h, w = x.shape[1:]
    win = Windows((h + t + b, w + l + r), kernel_hw, stride, dilation)
    cols = source_index(np.arange(-l, w + r), w, mode)
    return Plan(x, padding, mode, win, cols)
