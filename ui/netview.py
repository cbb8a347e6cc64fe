"""Every layer's maps of one digit, clickable (``ui/netview.js``, a Streamlit v2 component).

The maps travel as one small JSON text built by :func:`viz.lenet.maps_payload` (each layer's
values as bytes along its colour scale, about 13 kB for LeNet-5), drawn on canvases in the
browser; a click on a cell comes back as ``{"stage", "c", "i", "j"}`` and the page answers with
the cell's receptive field, outlined on every earlier map. A payload equal to the one drawn is
not drawn again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

_JS = Path(__file__).with_name("netview.js").read_text(encoding="utf-8")
_CSS = """
.conv-net { display: flex; flex-direction: column; gap: 0.9rem; }
.conv-net-stage { display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; align-items: flex-start; }
.conv-net-head { flex: 0 0 15rem; display: flex; flex-direction: column; gap: 0.2rem; }
.conv-net-title { font-size: 1.15rem; font-weight: 700; line-height: 1.3; }
.conv-net-note { font-size: 0.95rem; color: var(--st-text-color, #333333); opacity: 0.85;
                 line-height: 1.3; }
.conv-net-maps { flex: 1 1 30rem; display: flex; flex-wrap: wrap; gap: 0.5rem 0.6rem;
                 align-items: flex-start; }
.conv-net-map { margin: 0; display: flex; flex-direction: column; align-items: center; }
.conv-net-map canvas { display: block; cursor: pointer; image-rendering: pixelated;
                       outline: 1px solid #999999; }
.conv-net-map figcaption { font-size: 0.9rem; color: var(--st-text-color, #333333);
                           line-height: 1.2; }
.conv-net-names { display: flex; font-size: 0.95rem; font-weight: 600; }
.conv-net-names span { text-align: center; }
.conv-net-bar { width: 13rem; font-size: 0.85rem; color: var(--st-text-color, #222222); }
.conv-net-bar-strip { position: relative; height: 0.8rem; border: 1px solid #888888; }
.conv-net-bar-mark { position: absolute; top: -0.25rem; width: 2px; height: 1.3rem;
                     margin-left: -1px; background: var(--st-text-color, #000000); }
.conv-net-bar-ticks { display: flex; justify-content: space-between; }
.conv-net-bar-range { font-weight: 600; }
"""
_component = st.components.v2.component("conv_netview", js=_JS, css=_CSS, isolate_styles=False)


def netview(payload: str, *, key: str, on_cell: Callable[[], None]) -> None:
    """Show the maps of ``payload`` (:func:`viz.lenet.maps_payload`); a clicked cell is
    ``clicked(key)`` inside ``on_cell``."""
    _component(data=payload, key=key, on_cell_change=on_cell)


def clicked(key: str) -> dict | None:
    """The cell just clicked in the view ``key`` (a trigger: only in the run it started)."""
    state = st.session_state.get(key)
    if state is None:
        return None
    try:
        return state["cell"]
    except (KeyError, TypeError):
        return getattr(state, "cell", None)
