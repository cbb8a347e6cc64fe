"""Reference implementations the kernel tests check against (scipy, and PyTorch's padding)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, signal


def correlate_same(image: np.ndarray, w: np.ndarray, mode: str = "constant") -> np.ndarray:
    """scipy.ndimage.correlate anchored like PyTorch 'same': cell ((k-1)//2, (k-1)//2).

    scipy anchors an even kernel at k//2; origin -1 moves it to (k-1)//2.
    """
    origin = [-1 if n % 2 == 0 else 0 for n in w.shape]
    return ndimage.correlate(image, w, mode=mode, cval=0.0, origin=origin)


def pytorch_same(image: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Zero 'same' padding as PyTorch does it (odd pixel bottom/right), then valid correlation."""
    kh, kw = w.shape
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = np.pad(image, ((top, kh - 1 - top), (left, kw - 1 - left)))
    return signal.correlate2d(padded, w, mode="valid")


def rng_image(shape=(17, 19), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape).astype(np.float64)


def check_blur(w: np.ndarray, *, symmetric: bool = True) -> None:
    """A blur: no negative weight, weights summing to 1, mirror-symmetric unless told not."""
    assert np.all(w >= 0)
    assert w.sum() == pytest.approx(1.0, rel=0, abs=1e-14)
    if symmetric:
        assert np.array_equal(w, np.fliplr(w))
        assert np.array_equal(w, np.flipud(w))
