"""Pictures encoded once, and content keys for caches (shared by the pages' view modules).

- :func:`jpeg` encodes an RGB array the way ``st.image`` would; given those bytes, ``st.image``
  sends them as they are, so a cached picture is not encoded again on every rerun.
- :func:`digest` is a short content key of arrays; :func:`held_digest` computes one for an
  object of the session (the filter lab's picture, an upload) once, not on every rerun.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Hashable

import numpy as np
import streamlit as st
from PIL import Image

__all__ = ["digest", "held_digest", "jpeg"]


def jpeg(rgb: np.ndarray | Image.Image, width: int | None = None) -> bytes:
    """``rgb`` as ``st.image`` sends it (Streamlit 1.67, ``output_format="auto"``): JPEG at
    quality 100, or, when wider than ``width``, resized bilinearly to it at quality 90."""
    im = rgb if isinstance(rgb, Image.Image) else Image.fromarray(np.asarray(rgb, np.uint8))
    quality = 100
    if width is not None and im.width > width:
        im = im.resize((width, int(1.0 * im.height * width / im.width)), Image.BILINEAR)
        quality = 90
    buf = io.BytesIO()
    im.convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def digest(*arrays: np.ndarray) -> str:
    """A short digest of arrays' types, shapes and values: a cache key for what they make."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.data)
    return h.hexdigest()


def held_digest(slot: str, what: Hashable | object, data: Callable[[], bytes | np.ndarray]) -> str:
    """The content digest of ``data()`` for ``what`` (an object of the session, compared by
    identity; or a tuple naming it, compared by value), computed once and kept in the session
    under ``slot`` with ``what`` itself, so that an object's id is not reused meanwhile."""
    s = st.session_state
    held = s.get(slot)
    if held is not None and (held[0] is what or isinstance(what, tuple) and held[0] == what):
        return held[1]
    value = data()
    key = hashlib.sha256(value).hexdigest() if isinstance(value, bytes) else digest(value)
    s[slot] = (what, key)
    return key
