"""Kernels put together: a layer's weight tensor for a colour mode, and derivative pairs.

Pure numpy on lists of ``(name, kernel)`` pairs, as the filter lab holds them (the picked
kernel first, then the filter bank's); no Streamlit here, so the page and the tests share it.
"""

from __future__ import annotations

import numpy as np


def layer_weights(kernels: list[tuple[str, np.ndarray]], colour: str,
                  slices: np.ndarray | None = None) -> tuple[np.ndarray, int, list[str]]:
    """(weight ``(C_out, C_in / groups, kH, kW)``, groups, a name per output map).

    ``gray``: one filter per kernel on the luma channel. ``channels``: groups=3, the same
    kernels on R, G and B (outputs R maps first, then G, then B). ``rgb``: one 3-channel filter
    per kernel; the first uses ``slices`` (3, kH, kW), the others the kernel on every slice.
    """
    ws = [np.asarray(w, np.float64) for _, w in kernels]
    names = [n for n, _ in kernels]
    if colour == "gray":
        return np.stack([w[None] for w in ws]), 1, names
    if colour == "channels":
        return (np.stack([w[None] for _ in "RGB" for w in ws]), 3,
                [f"{n} · {c}" for c in "RGB" for n in names])
    filters = [np.stack([w, w, w]) for w in ws]
    if slices is not None:
        filters[0] = np.asarray(slices, np.float64)
    return np.stack(filters), 1, names


def derivative_pair(kernels: list[tuple[str, np.ndarray]]) -> tuple[int, int] | None:
    """The first two kernels that form a derivative pair: both sum to 0 and one is the other
    turned or mirrored (Sobel x and Sobel y, the two Roberts crosses, ...)."""
    def zero_sum(w):
        return abs(float(w.sum())) <= 1e-9 * max(1.0, float(np.abs(w).sum()))

    for i, (_, a) in enumerate(kernels):
        for j in range(i + 1, len(kernels)):
            b = kernels[j][1]
            if a.shape != b.shape or not (zero_sum(a) and zero_sum(b)):
                continue
            # a kernel and its copy or negative differentiate along the same axis: no pair
            if np.allclose(np.abs(a), np.abs(b)) and (np.allclose(a, b) or np.allclose(a, -b)):
                continue
            turns = [np.rot90(a, k) for k in range(4)]
            turns += [t[:, ::-1] for t in turns]
            if any(t.shape == b.shape and (np.allclose(t, b) or np.allclose(t, -b))
                   for t in turns):
                return i, j
    return None
