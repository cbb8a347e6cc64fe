"""HTML of the app's own making, updated in place in the browser (the filter lab's stage
strips and histogram, which change on every control change).

``st.html`` sanitises its HTML on every update and redraws its element whole, decoding every
picture in it again; :func:`html_view` (``ui/html_view.js``, a Streamlit v2 component) replaces
only the nodes whose HTML changed, so the pictures that did not change stay. Nothing is
sanitised: every text the app did not write itself must be escaped by the caller (as
``ui/lab_strip.py``'s cards do with ``html.escape``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_JS = Path(__file__).with_name("html_view.js").read_text(encoding="utf-8")
_component = st.components.v2.component("conv_html_view", js=_JS, isolate_styles=False)


def html_view(text: str, *, key: str) -> None:
    """Show ``text`` (HTML); a later call with the same key updates it in place."""
    _component(data=text.encode(), key=key)
