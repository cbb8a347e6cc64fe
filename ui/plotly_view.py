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
from pathlib import Path

import plotly.io as pio
import streamlit as st
from _plotly_utils.utils import is_homogeneous_array, is_skipped_key, to_typed_array_spec

_JS = Path(__file__).with_name("plotly_view.js").read_text(encoding="utf-8")
_component = st.components.v2.component("conv_plotly_view", js=_JS, isolate_styles=False)


def payload(fig, config: dict | None = None) -> bytes:
    """The figure (a ``go.Figure``, or plain ``{"data": ..., "layout": ...}`` whose numpy
    arrays travel as plotly.js typed arrays, as ``go.Figure`` would send them) and its Plotly
    config as the UTF-8 JSON the component reads."""
    if isinstance(fig, dict):
        fig = _typed_arrays(fig)
    spec = pio.to_json(fig, validate=False)  # '{"data": ..., "layout": ...}'
    return ('{"config":' + json.dumps(config or {}) + "," + spec.lstrip()[1:]).encode()


def _typed_arrays(obj):
    """A copy of ``obj`` with its numpy arrays as plotly.js typed-array specs (base64), the
    containers copied and the input left untouched (it may be cached)."""
    if isinstance(obj, dict):
        return {k: (v if is_skipped_key(k) else
                    to_typed_array_spec(v) if is_homogeneous_array(v) else _typed_arrays(v))
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_typed_array_spec(v) if is_homogeneous_array(v) else _typed_arrays(v)
                for v in obj]
    return obj


def static_serving() -> bool:
    return bool(st.get_option("server.enableStaticServing"))


def plotly_view(fig, *, key: str, config: dict | None = None) -> None:
    """Show ``fig``; a later call with the same key updates the same plot in place."""
    if static_serving():
        _component(data=payload(fig, config), key=key)
    else:
        st.plotly_chart(fig, key=key, config=config, theme=None)
