"""The engine's argument checks: each bad argument is a ``ValueError`` naming the parameter,
its value and what is allowed, raised before any work starts."""

from __future__ import annotations

import numpy as np

from conv import warm
from conv.bands import INLINE_WORK, JIT_LOCK
from conv.geometry import Geometry, Padding, Pair, as_int, conv_geometry
from conv.options import PADDING_MODES

__all__ = ["as_image", "check_conv_args", "check_finite", "check_pad_mode"]


def check_pad_mode(mode: str, padding: Padding, in_hw: Pair) -> None:
    """``mode`` is a padding mode, and ``padding`` is within its limits for an input of
    ``in_hw``."""
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


def as_image(x, name: str = "x") -> np.ndarray:
    """``x`` as a C-contiguous float32 ``(C, H, W)`` array, or why it cannot be one."""
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


def check_finite(a: np.ndarray, name: str) -> None:
    """Refuse a NaN or an infinity, naming the first one's index."""
    if (a.size >= INLINE_WORK and a.dtype == np.float32 and a.flags.c_contiguous
            and warm.compiled_ready()):
        from conv import _jit

        # a parallel compiled pass: a photo is checked on every rerun
        with JIT_LOCK:
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


def check_conv_args(x_shape, weight_shape, *, bias_shape=None, stride=1, padding=0, dilation=1,
                    groups=1, padding_mode="zeros") -> Geometry:
    """Validate a convolution's arguments from shapes alone and resolve its geometry. Raises
    the same ``ValueError`` as :func:`conv.ops.conv2d` would."""
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
    check_pad_mode(padding_mode, layer.padding, (h, w))
    return layer
