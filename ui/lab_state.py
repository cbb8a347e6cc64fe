"""The filter lab's settings: their names in the URL (a link restores every setting but an
uploaded photo), the checks once a link has been applied, and the link shown on the page.

Session-state keys start with ``lab.``; the URL names are in :func:`url_state`.
"""

from __future__ import annotations

import streamlit as st

from kernels import learned as _learned  # noqa: F401 - the presets include LeNet-5's filters
from kernels import library, parametric, record
from ui import kernel_controls, layer_controls
from ui.lab_figure import MAP_CHOICES, MAX_MAPS, STAGE_CHOICES
from ui.lab_source import COLOURS, DEFAULT_IMAGE, DEFAULT_RES, RESOLUTIONS, image_choice
from ui.state import Param, UrlState, choice, fmt_number, integer, number, words
from viz import maps

LINK_KEY = "lab-link"


def url_state() -> UrlState:
    """Every setting of the page but the uploaded photo, with its URL name."""
    keys = kernel_controls.preset_keys()
    P = Param
    return UrlState("lab", [
        P("img", "lab.img", DEFAULT_IMAGE, image_choice, label="image"),
        P("res", "lab.res", DEFAULT_RES, choice(RESOLUTIONS), label="working resolution"),
        P("colour", "lab.colour", "gray", choice(COLOURS), label="colour handling"),
        P("k", "lab.k.preset", "sobel_x", choice(keys), label="kernel preset"),
        P("ks", "lab.k.size", None, integer(1, record.MAX_SIZE), label="kernel size",
          skip=_implied_size),
        P("sigma", "lab.k.sigma", None, number(*parametric.SIGMA_RANGE), format=fmt_number,
          label="sigma", skip=_implied_sigma),
        P("kt", "lab.kt", None, kernel_controls.parse_compact,
          format=kernel_controls.format_compact,
          label="kernel"),
        P("bank", "lab.k.bank", [], words(keys, max_items=MAX_MAPS - 1), format=",".join,
          label="filter bank"),
        P("kr", "lab.k.slice.R", None, kernel_controls.parse_compact,
          format=kernel_controls.format_compact, label="R slice"),
        P("kg", "lab.k.slice.G", None, kernel_controls.parse_compact,
          format=kernel_controls.format_compact, label="G slice"),
        P("kb", "lab.k.slice.B", None, kernel_controls.parse_compact,
          format=kernel_controls.format_compact, label="B slice"),
        *layer_controls.layer_params("lab"),
        P("show", "lab.show", "output", choice(STAGE_CHOICES), label="stage shown"),
        P("map", "lab.map", "0", choice(MAP_CHOICES), label="map shown"),
        P("mapping", "lab.mapping", "auto", choice(maps.MAPPINGS), label="display mapping"),
        P("lim", "lab.lim", "p99.5", choice(maps.LIMITS), label="colour limits"),
    ])


def after_restore(url: UrlState, notices: list[str]) -> None:
    """Settings that depend on each other, checked once a link has been applied: the kernel
    text of an edited kernel, a size the preset does not offer, an upload that links cannot
    carry."""
    ss = st.session_state
    if not url.applied:
        return
    for k in ("lab.k.origin", "lab.k.note"):
        ss.pop(k, None)
    ss.pop("lab.k.text", None)  # the picker rebuilds it from the preset...
    kernel_controls.drop_pending("lab.k.text", "lab.k.sigma")
    if ss.get("lab.kt"):
        ss["lab.k.text"] = ss["lab.kt"]  # ...unless the link carries an edited kernel
    spec = library.PARAMETRIC.get(ss.get("lab.k.preset"))
    size = ss.get("lab.k.size")
    if spec is not None and size is not None and size not in spec.sizes:
        notices.append(f"The link's kernel size {size} x {size} is not offered for "
                       f"{library.get(ss['lab.k.preset']).name.split(' (')[0]}; using "
                       f"{spec.default_size} x {spec.default_size}.")
        ss["lab.k.size"] = spec.default_size
    sigma = ss.get("lab.k.sigma")
    if spec is not None and spec.takes_sigma and sigma is not None and sigma > 10.0:
        notices.append(f"The link's sigma {sigma:g} is above 10, the largest offered; using "
                       f"the default for the size.")
        ss.pop("lab.k.sigma")
    if ss.get("lab.img") in ("upload", "camera") and not ss.get("lab.upload"):
        notices.append("This link was made with an uploaded photo, and uploads are not part of "
                       "links (they stay on the computer they came from). Showing the sample "
                       "photo instead: upload the photo to see it with these settings.")
        ss["lab.img"] = DEFAULT_IMAGE


def _implied_size(size) -> bool:
    spec = library.PARAMETRIC.get(st.session_state.get("lab.k.preset"))
    return spec is None or size == spec.default_size


def _implied_sigma(sigma) -> bool:
    ss = st.session_state
    spec = library.PARAMETRIC.get(ss.get("lab.k.preset"))
    if spec is None or not spec.takes_sigma:
        return True
    size = ss.get("lab.k.size") or spec.default_size
    return sigma == round(float(spec.default_sigma(size)), 2)


def show_link(url: UrlState) -> None:
    """Write the settings into the URL, and show the link with a copy button."""
    # its style is in ui/lab_style.py's PAGE_CSS and its content is built when it opens, so that
    # a change of the layer sends fewer elements
    url.show("every setting but an uploaded photo", key=LINK_KEY, css=False, lazy=True)
