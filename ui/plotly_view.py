"""A Plotly figure updated in place in the browser, for figures that change on every control
change (the filter lab's input beside its result).

``st.plotly_chart`` gives a chart a new identity whenever its figure changes (the figure is
part of the element's id), so the browser discards the plot and builds a new one on every
change, then draws it a second time when Streamlit applies its theme, and the user's zoom is
lost. :func:`plotly_view` keeps one plot per key and hands each new figure to ``Plotly.react``
(``ui/plotly_view.js``, a Streamlit v2 component): only what changed is redrawn and the zoom
survives (``layout.uirevision``). In Chromium, the lab's bias change: 336 -> 276 ms (median of
20 changes each, side by side; ``bench/ab_lab_browser.py``).

plotly.js comes from ``static/plotly.min.js`` (the copy in the plotly package this app pins),
served by Streamlit's static file serving (``server.enableStaticServing`` in
``.streamlit/config.toml``). Where that option is off (Streamlit started from another directory,
so that it did not read the app's config), the figure falls back to ``st.plotly_chart``.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from pathlib import Path

import numpy as np
import orjson
import plotly.io as pio
import streamlit as st
from _plotly_utils.utils import is_homogeneous_array, is_skipped_key, to_typed_array_spec

from ui import cache

_JS = Path(__file__).with_name("plotly_view.js").read_text(encoding="utf-8")
_component = st.components.v2.component("conv_plotly_view", js=_JS, isolate_styles=False)


def payload(fig, config: dict | None = None, *, fit: bool = False) -> bytes:
    """The figure (a ``go.Figure``, or plain ``{"data": ..., "layout": ...}`` whose numpy
    arrays travel as plotly.js typed arrays, as ``go.Figure`` would send them) and its Plotly
    config as the UTF-8 JSON the component reads (``fit``: see :func:`plotly_view`)."""
    head = ('{"config":' + json.dumps(config or {}) + ("," + '"fit":true' if fit else "")
            + ",").encode()
    if isinstance(fig, dict):
        # plain data with its arrays as typed-array specs: orjson directly (pio.to_json would
        # walk it again to clean it first)
        spec = orjson.dumps(_typed_arrays(fig), option=orjson.OPT_SERIALIZE_NUMPY)
        return head + spec[1:]
    spec = pio.to_json(fig, validate=False)  # '{"data": ..., "layout": ...}'
    return head + spec.lstrip()[1:].encode()


def _typed_arrays(obj):
    """A copy of ``obj`` with its numpy arrays as plotly.js typed-array specs (base64), the
    containers copied and the input left untouched (it may be cached). Only numpy arrays are
    looked at (plotly's own check of every value, for pandas and others, is slow)."""
    if isinstance(obj, dict):
        return {k: (v if is_skipped_key(k) else _typed_arrays(v)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_typed_arrays(v) for v in obj]
    if isinstance(obj, np.ndarray) and is_homogeneous_array(obj):
        return to_typed_array_spec(obj)
    return obj


def static_serving() -> bool:
    return bool(st.get_option("server.enableStaticServing"))


def plotly_view(fig, *, key: str, config: dict | None = None,
                cache_key: Hashable | None = None, fit: bool = False) -> None:
    """Show ``fig`` (a figure, or a callable building it); a later call with the same key
    updates the same plot in place.

    ``cache_key``: identifies the figure's content; its payload (the JSON sent) is then kept
    in the byte budget, and a rerun that shows the same figure neither builds nor serialises
    it again. ``fit``: the plot is no taller than the window below its top (its layout's
    height at most; 320 px at least), so that it and the controls beside it fit one screen."""
    def build():
        return fig() if callable(fig) else fig
    if not static_serving():
        st.plotly_chart(build(), key=key, config=config, theme=None)
        return
    if cache_key is None:
        data = payload(build(), config, fit=fit)
    else:
        data = cache.get_or_build(
            ("plotly_view", cache_key, json.dumps(config, sort_keys=True), fit),
            lambda: payload(build(), config, fit=fit))
    _component(data=data, key=key)
