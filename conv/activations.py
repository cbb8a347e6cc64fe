"""Activation functions with the semantics of ``torch.nn.functional``, element-wise in float32.

numpy passes over cache-sized chunks on the thread pool (:mod:`conv.bands`), written into one
output array: no whole-image temporaries.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from conv.bands import BAND_BYTES, run_bands
from conv.options import ACTIVATION_MODES as ACTIVATIONS

__all__ = ["activate"]


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
    run_bands(-(-n // step), 1, n, lambda a, b: chunk(a * step, min(b * step, n)))
    return out
