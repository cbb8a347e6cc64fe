"""What pages hand to each other through ``st.session_state`` (one browser session).

- The filter lab publishes its current working image; the sliding window cuts patches from it
  and "Learn a kernel" trains on it.
- A page sends a kernel (a learned one, say) to the others; each page adopts a sent kernel once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

_IMAGE = "shared.lab_image"
_SENT = "shared.sent_kernels"
_ADOPTED = "shared.adopted"


@dataclass(frozen=True)
class SharedImage:
    """The filter lab's image. Its pixels are fetched when asked for (from the byte budget,
    ``ui/cache.py``), so the session state holds no pixels: a session's state is outside the
    budget, and outlives a closed tab by Streamlit's grace period."""

    load: Callable[[], np.ndarray] = field(repr=False)  # -> uint8 (H, W, 3), read-only
    name: str        # e.g. "chelsea (sample)" or "IMG_1234.jpg"
    key: str = ""    # identifies the pixels (a cache key for pages deriving from them)

    @property
    def rgb(self) -> np.ndarray:
        """uint8 (H, W, 3), at the filter lab's working resolution."""
        return self.load()


@dataclass(frozen=True)
class SentKernel:
    weights: np.ndarray  # float64 2-D, exactly as it will be applied
    name: str            # e.g. "learned from Sobel x, Adam, 200 steps"
    source: str          # the page that sent it
    serial: int          # increases with every kernel sent in this session


def publish_lab_image(load: Callable[[], np.ndarray], name: str, *, key: str = "") -> None:
    """The filter lab's current image, for the other pages: ``load()`` gives its pixels (a
    callable holding no pixels itself)."""
    old = st.session_state.get(_IMAGE)
    if old is None or old.key != key or old.name != name or not key:
        st.session_state[_IMAGE] = SharedImage(load, name, key)


def lab_image() -> SharedImage | None:
    """The image last published by the filter lab in this session, if any."""
    return st.session_state.get(_IMAGE)


def send_kernel(weights, name: str, source: str) -> SentKernel:
    """Offer a kernel to the other pages (the kernel pickers list it under "sent to this page")."""
    w = np.array(weights, dtype=np.float64)
    if w.ndim != 2 or not np.isfinite(w).all():
        raise ValueError(f"a sent kernel must be a finite 2-D array, got shape {w.shape}")
    w.setflags(write=False)
    sent = list(st.session_state.get(_SENT, []))
    kernel = SentKernel(w, name, source, (sent[-1].serial + 1) if sent else 1)
    st.session_state[_SENT] = sent + [kernel]
    return kernel


def sent_kernels() -> list[SentKernel]:
    """Every kernel sent in this session, oldest first."""
    return list(st.session_state.get(_SENT, []))


def take_new_kernel(page: str) -> SentKernel | None:
    """The newest sent kernel if ``page`` has not adopted it yet (and mark it adopted)."""
    sent = st.session_state.get(_SENT)
    if not sent:
        return None
    adopted = st.session_state.setdefault(_ADOPTED, {})
    if adopted.get(page, 0) >= sent[-1].serial:
        return None
    adopted[page] = sent[-1].serial
    return sent[-1]
