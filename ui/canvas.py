"""A canvas to draw a digit on (``ui/canvas.js``, a Streamlit v2 component of this project:
nothing is fetched at run time).

Mouse, touch and pen through pointer events; a stroke width; Undo and Clear. The component sends
the pen's path (``kernels.drawing.parse_strokes`` reads it), a few hundred numbers, rather than a
picture, on every stroke's end: the server draws it again at MNIST's size
(``kernels.drawing.preprocess``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from kernels import drawing

LABEL = "Draw a digit"
DEFAULT_WIDTH = 20  # canvas units of 280: a 20-pixel MNIST box drawn 200 units tall gets 2.1 px

_JS = Path(__file__).with_name("canvas.js").read_text(encoding="utf-8")
_CSS = """
.conv-canvas { display: flex; flex-direction: column; gap: 0.5rem; width: 100%; }
.conv-canvas-pad { position: relative; width: min(100%, var(--conv-canvas-side, 340px)); }
.conv-canvas-surface {
  display: block; width: 100%; aspect-ratio: 1 / 1; touch-action: none; cursor: crosshair;
  background: #ffffff; border: 2px solid #555555; border-radius: 6px; box-sizing: border-box;
}
.conv-canvas-surface:focus-visible { outline: 3px solid #D55E00; outline-offset: 2px; }
.conv-canvas-inactive .conv-canvas-surface { opacity: 0.45; }
.conv-canvas-hint {
  position: absolute; left: 0; right: 0; top: 40%; text-align: center; pointer-events: none;
  font-size: 1.15rem; font-weight: 600; color: #222222; padding: 0 0.8rem;
}
.conv-canvas-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.6rem; }
.conv-canvas-btn {
  font-size: 1.1rem; padding: 0.35rem 0.9rem; border-radius: 6px; border: 1px solid #888888;
  background: #f2f2f2; color: #111111; cursor: pointer; min-height: 2.6rem;
}
.conv-canvas-btn:hover { background: #e4e4e4; }
.conv-canvas-btn:focus-visible { outline: 3px solid #D55E00; }
.conv-canvas-width { display: inline-flex; align-items: center; gap: 0.4rem; font-size: 1.05rem; }
.conv-canvas-width input { width: 8rem; min-height: 2rem; }
.conv-canvas-sr { position: absolute; width: 1px; height: 1px; overflow: hidden;
                  clip: rect(0 0 0 0); white-space: nowrap; }
"""
_component = st.components.v2.component("conv_canvas", js=_JS, css=_CSS, isolate_styles=False)


def canvas(*, key: str, on_change: Callable[[], None] | None = None, active: bool = True,
           hint: str = "", clear: int = 0, width: int = DEFAULT_WIDTH,
           restore: dict | None = None) -> None:
    """Draw the canvas. Its drawing is ``st.session_state[key]["drawing"]`` (the component's
    state: ``{"size", "width", "strokes", "n"}``), and ``on_change`` runs when it changes.

    ``active=False`` dims it with ``hint`` on it (the page shows something else); a new
    ``clear`` token clears it; ``restore`` (a drawing it sent) is drawn by a canvas built anew,
    when the page is opened again in the same session.
    """
    _component(
        data={"size": drawing.CANVAS, "width": width, "label": LABEL, "active": active,
              "hint": hint, "clear": clear, "restore": restore},
        key=key, default={"drawing": None}, on_drawing_change=on_change or (lambda: None),
    )


def value(key: str):
    """The drawing the canvas ``key`` last sent (None before the first stroke)."""
    state = st.session_state.get(key)
    if state is None:
        return None
    try:
        return state["drawing"]
    except (KeyError, TypeError):
        return getattr(state, "drawing", None)
