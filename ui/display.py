"""How every page draws its figures: the page's theme (light or dark) and the high-contrast
option for projectors, in one place.

- **Theme.** Streamlit's theme (its settings menu, the browser's preference, ``?embed_options=
  dark_theme``, or ``theme.base`` in the config) reaches the server as
  ``st.context.theme.type`` with every rerun. A theme change in the browser does not rerun the
  page, and the first run of a session may not know the theme yet (streamlit #11920): a small
  component (``ui/display.js``) compares the page's background with the theme the figures were
  built for, and reruns the page once when they differ.
- **High contrast** (``?display=hc`` in the link): thick lines, larger type, black on white or
  white on black (:data:`viz.style.LIGHT_HC`). A toggle in the sidebar of every page; the
  setting is kept in the link of every page (``ui/state.py`` leaves ``display`` to this
  module and copies it into the links it makes) and survives a switch of page.

Pages ask :func:`style` for the :class:`viz.style.Style` of their figures and put it in the
cache keys of what they build with it; :func:`controls` (called once, by ``app.py``) draws the
toggle and the theme watcher.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from viz.style import Style, style_for

__all__ = ["HC_KEY", "PARAM", "controls", "high_contrast", "style", "sync", "theme"]

PARAM = "display"  # the URL parameter: "hc" for high contrast
HC_VALUES = ("hc", "high-contrast", "contrast")
HC_KEY = "display.hc"  # session state: the toggle
_SEEN = "display.url"  # the URL's value last applied

_JS = Path(__file__).with_name("display.js").read_text(encoding="utf-8")
_watcher = st.components.v2.component("conv_theme_watch", js=_JS, isolate_styles=False)


def theme() -> str:
    """``"light"`` or ``"dark"``: the theme of the page, as the browser last reported it."""
    try:
        kind = st.context.theme.type
    except Exception:  # noqa: BLE001 - no browser session (bare script, some tests)
        kind = None
    return "dark" if kind == "dark" else "light"


def high_contrast() -> bool:
    """Whether the high-contrast option (for projectors) is on."""
    return bool(st.session_state.get(HC_KEY, False))


def style(*, contrast: bool | None = None) -> Style:
    """The style of this page's figures: its theme, in high contrast when the option is on
    (``contrast``: force it on or off, e.g. a page's classroom mode)."""
    return style_for(theme(), high_contrast() if contrast is None else contrast)


def sync() -> None:
    """The URL's ``display`` into the session (a link, or a value typed in the address bar),
    and back into the URL when a page switch dropped it (Streamlit keeps no query parameters
    across pages). Call before the page's own ``UrlState.restore``."""
    ss = st.session_state
    values = st.query_params.get_all(PARAM)
    if values:
        text = values[-1].strip().lower()
        if text != ss.get(_SEEN):
            ss[_SEEN] = text
            ss[HC_KEY] = text in HC_VALUES
        return
    if ss.get(HC_KEY):
        st.query_params[PARAM] = "hc"
        ss[_SEEN] = "hc"


def _on_toggle() -> None:
    ss = st.session_state
    if ss.get(HC_KEY):
        st.query_params[PARAM] = "hc"
        ss[_SEEN] = "hc"
    else:
        if PARAM in st.query_params:
            del st.query_params[PARAM]
        ss[_SEEN] = None


# High contrast for the app's own HTML (the filter lab's cards, the sliding window's zoom, the
# kernel tables): thicker borders, larger type. Streamlit's widgets keep the theme's look.
HC_CSS = """<style>
.lab-card { border-width: 2px !important; border-color: currentColor !important; }
.lab-card.lab-current { border: 4px solid #ff4b4b !important; }
.lab-title { font-size: 1.35rem !important; }
.lab-shape { font-size: 1.5rem !important; }
.lab-range, .lab-ticks, .lab-clip, .lab-how { font-size: 1.1rem !important; opacity: 1 !important; }
.lab-bar { height: 16px !important; border: 2px solid currentColor !important; }
.kernel-table td { border: 2px solid currentColor !important; }
.conv-zoom { font-size: 1.2rem; }
</style>"""


def controls() -> None:
    """The high-contrast toggle and the theme watcher, in the sidebar of every page (and, in
    high contrast, the CSS of the app's own HTML)."""
    sync()
    if high_contrast():
        st.html(HC_CSS)
    with st.sidebar:
        st.toggle("High contrast (projector)", key=HC_KEY, on_change=_on_toggle,
                  help="Thicker lines, larger type, black on white (or white on black in the "
                       "dark theme). The link keeps it (display=hc). The light or dark theme "
                       "is Streamlit's: Settings in the menu at the top right.")
        _watcher(data=theme(), key="display.theme_watch", on_theme_change=lambda: None)
