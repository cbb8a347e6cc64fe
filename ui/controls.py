"""Widgets shared by the pages. Each draws its controls and returns plain values.

Session-state keys are ``f"{key}.<name>"`` so that ``ui/state.py`` can mirror them in the URL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

import kernels.learned  # noqa: F401  (registers the learned kernels)
from kernels import library
from kernels.text import KernelTextError, format_kernel, parse_kernel
from ui import shared

GROUP_TITLES = {
    "edges": "Edges",
    "smoothing": "Smoothing",
    "sharpening": "Sharpening",
    "other": "Other",
    "learned": "Learned",
}
SENT_PREFIX = "sent:"  # picker options for kernels sent from another page: "sent:<serial>"


@dataclass(frozen=True)
class PickedKernel:
    weights: np.ndarray   # float64 2-D: exactly the kernel applied
    name: str             # the preset's name, or "Custom (edited from ...)"
    preset: library.Kernel | None  # the preset it came from (None for a sent kernel)
    edited: bool          # the text differs from the preset


def _options() -> list[str]:
    return [k.key for k in library.presets()] + [
        f"{SENT_PREFIX}{s.serial}" for s in shared.sent_kernels()
    ]


def _sent(option: str) -> shared.SentKernel | None:
    if not option.startswith(SENT_PREFIX):
        return None
    serial = int(option[len(SENT_PREFIX):])
    return next((s for s in shared.sent_kernels() if s.serial == serial), None)


def _label(option: str) -> str:
    sent = _sent(option)
    if sent is not None:
        return f"Sent · {sent.name} (from {sent.source})"
    if option.startswith(SENT_PREFIX):
        return "Sent kernel (no longer available)"
    k = library.get(option)
    return f"{GROUP_TITLES.get(k.group, k.group)} · {k.name}"


def preset_kernel(option: str, size: int | None, sigma: float | None) -> np.ndarray:
    """The weights of a picker option at the given parameters."""
    sent = _sent(option)
    if sent is not None:
        return sent.weights
    spec = library.PARAMETRIC.get(option)
    if spec is None:
        return library.get(option).weights
    return library.get(option, size=size, sigma=sigma if spec.takes_sigma else None).weights


def _reset_text(key: str) -> None:
    """Show the chosen preset's weights in the editor (on a change of preset or parameters)."""
    s = st.session_state
    option = s[f"{key}.preset"]
    try:
        w = preset_kernel(option, s.get(f"{key}.size"), s.get(f"{key}.sigma"))
    except ValueError:
        return
    s[f"{key}.text"] = format_kernel(w)


def _on_size(key: str) -> None:
    """A new size: the sigma goes back to that size's default, then the editor follows."""
    s = st.session_state
    spec = library.PARAMETRIC.get(s[f"{key}.preset"])
    if spec is not None and spec.takes_sigma:
        s[f"{key}.sigma"] = round(float(spec.default_sigma(s[f"{key}.size"])), 2)
    _reset_text(key)


def kernel_picker(key: str, *, default: str = "sobel_x", label: str = "Kernel",
                  editable: bool = True, page: str | None = None) -> PickedKernel:
    """A preset picker grouped by purpose, its parameters (size, sigma), its description and
    reference, and a text editor holding exactly the kernel that will be applied.

    A kernel sent from another page (``ui.shared.send_kernel``) is offered in the list, and
    selected once when ``page`` is given and it has not adopted that kernel yet.
    """
    s = st.session_state
    options = _options()
    if f"{key}.preset" not in s or s[f"{key}.preset"] not in options:
        s[f"{key}.preset"] = default if default in options else options[0]
    new = shared.take_new_kernel(page) if page else None
    if new is not None:
        s[f"{key}.preset"] = f"{SENT_PREFIX}{new.serial}"
        s[f"{key}.text"] = format_kernel(new.weights)
        st.toast(f"Using the kernel sent from {new.source}: {new.name}")
    option = st.selectbox(label, options, key=f"{key}.preset", format_func=_label,
                          on_change=_reset_text, args=(key,))
    spec = library.PARAMETRIC.get(option)
    size = sigma = None
    if spec is not None:
        if f"{key}.size" not in s or s[f"{key}.size"] not in spec.sizes:
            s[f"{key}.size"] = spec.default_size
        size = st.select_slider("Kernel size", spec.sizes, key=f"{key}.size",
                                on_change=_on_size, args=(key,),
                                format_func=lambda n: f"{n} x {n}")
        if spec.takes_sigma:
            lo, hi = spec.sigma_range
            default_sigma = round(float(spec.default_sigma(size)), 2)
            if f"{key}.sigma" not in s:
                s[f"{key}.sigma"] = default_sigma
            sigma = st.slider("Sigma (spread)", float(lo), float(min(hi, 10.0)), step=0.05,
                              key=f"{key}.sigma", on_change=_reset_text, args=(key,))
    try:
        base = preset_kernel(option, size, sigma)
    except ValueError as exc:  # e.g. a sigma outside the range after a URL edit
        st.error(str(exc))
        base = library.get(option).weights
    sent = _sent(option)
    preset = None if option.startswith(SENT_PREFIX) else library.get(option, size=size, sigma=sigma)
    if preset is not None:
        st.caption(f"**{preset.description}** Finds {preset.detects}. Source: {preset.reference}.")
    elif sent is not None:
        st.caption(f"Sent from {sent.source}.")
    if f"{key}.text" not in s:
        s[f"{key}.text"] = format_kernel(base)
    weights, edited = base, False
    if editable:
        text = st.text_area(
            "The kernel applied (edit it: numbers in rows, fractions like 1/9, `1/16 * [...]`)",
            key=f"{key}.text", height=min(60 + 28 * base.shape[0], 360))
        try:
            weights = parse_kernel(text)
            edited = weights.shape != base.shape or not np.array_equal(weights, base)
        except KernelTextError as exc:
            st.error(f"The kernel text has a problem: {exc}. Using the preset instead.")
            weights = base
    name = (preset.name if preset else sent.name if sent else "Kernel")
    if edited:
        name = f"Custom (edited from {name})"
    return PickedKernel(np.asarray(weights, np.float64), name, preset, edited)
