"""Classroom mode on every page, kept in the link (``classroom=1``), and each page's one style.

Classroom mode is for a projector (often 1280 x 720): larger type, fewer controls, the sidebar
folded, nothing overlapping. A page uses it in three calls::

    on = classroom.mode(notices)                   # top of the page: the link's flag
    classroom.style(PAGE_CSS, CLASSROOM_CSS, on=on)  # the page's one <style>, shared CSS included
    classroom.header("Sliding window")             # the title, with the switch at its right

The mode is the session's, not a page's: a teacher switching pages keeps it. Streamlit clears
the query string on a page switch; :func:`mode` writes the flag back, so every page's address
bar (and every link made from it) says ``classroom=1`` while the mode is on. Pages' own
:class:`ui.state.UrlState` leave the parameter to this module (it is in their ``ignore``).

:func:`style` writes the page's CSS with the shared rules: a layout that fits a 390-pixel
phone (titles that wrap instead of overlapping, rows of controls that wrap) and, in classroom
mode, the larger type. One ``st.html`` per page run: every element sent is a redraw.
"""

from __future__ import annotations

import streamlit as st

from ui.state import flag

__all__ = ["KEY", "PARAM", "header", "mode", "style", "toggle"]

KEY = "classroom"          # session state: the mode, shared by the pages
PARAM = "classroom"        # the link's parameter
_WIDGET = "classroom.toggle"
HELP = ("For a projector: large type, the sidebar folded, fewer controls. The link keeps it "
        "(classroom=1).")

# Every page: a phone (390 px) and a projector (1280 x 720) need no sideways scrolling and no
# overlaps; the title shares its row with the classroom switch.
BASE_CSS = """
.st-key-page-head { gap: 0.4rem 1rem; flex-wrap: wrap; }
.st-key-page-head h1 { padding: 0.25rem 0 0 0 !important; }
.st-key-page-head [data-testid="stElementContainer"]:has(.stToggle) { margin-left: auto; }
@media (max-height: 800px) {  /* a 1280 x 720 projector: less room above the title */
  [data-testid="stMainBlockContainer"] { padding-top: 3rem; }
}
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-left: 0.75rem; padding-right: 0.75rem;
                                         padding-top: 3.2rem; }
  h1 { font-size: 1.7rem !important; line-height: 1.2 !important; overflow-wrap: anywhere; }
  h2 { font-size: 1.35rem !important; }
  h3 { font-size: 1.15rem !important; }
  [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
}
"""
# Classroom mode: type that reads from the back of a lecture hall, less space above it.
CLASSROOM_CSS = """
html { font-size: 19px; }
@media (min-width: 1600px) and (min-height: 900px) { html { font-size: 21px; } }
[data-testid="stMainBlockContainer"] { padding-top: 3rem; padding-bottom: 2rem; }
h1 { font-size: 1.6rem !important; padding: 0.1rem 0 0 0 !important; }
h2, h3 { padding-top: 0.3rem !important; }
[data-testid="stCaptionContainer"] { font-size: 0.9rem; }
"""


def _write(on: bool) -> None:
    """The link's flag for mode ``on`` (written only when it differs)."""
    if on and st.query_params.get(PARAM) != "1":
        st.query_params[PARAM] = "1"
    elif not on and PARAM in st.query_params:
        del st.query_params[PARAM]


def mode(notices: list[str] | None = None) -> bool:
    """Classroom mode for this run: the link's ``classroom=1`` / ``classroom=0`` when it has
    one, else the session's mode (off at first); the address bar is made to say it. A value
    that is not a flag turns it off, with a notice appended to ``notices``."""
    ss = st.session_state
    raw = st.query_params.get_all(PARAM)
    if raw:
        try:
            ss[KEY] = flag(raw[-1])
        except ValueError as exc:
            ss[KEY] = False
            if notices is not None:
                notices.append(f"The link's `{PARAM}` (classroom mode) was ignored: {exc}. "
                               "Using the default (off).")
    on = bool(ss.get(KEY, False))
    _write(on)
    return on


def _flip() -> None:
    st.session_state[KEY] = bool(st.session_state[_WIDGET])
    _write(st.session_state[KEY])


def toggle(where=st) -> bool:
    """The classroom switch (in ``where``: ``st``, a container or a column)."""
    st.session_state[_WIDGET] = bool(st.session_state.get(KEY, False))
    return where.toggle("Classroom", key=_WIDGET, on_change=_flip, help=HELP)


def header(title: str) -> None:
    """The page's title with the classroom switch at its right; on a narrow screen the switch
    wraps under the title instead of overlapping it."""
    with st.container(key="page-head", horizontal=True, vertical_alignment="center"):
        st.title(title, width="content")
        toggle()


def style(page_css: str = "", classroom_css: str = "", *, on: bool) -> None:
    """The page's one ``<style>``: the shared rules, ``page_css``, and in classroom mode the
    shared classroom rules and ``classroom_css``. (``<style>`` tags in them are dropped.) Also
    folds the sidebar away in classroom mode."""
    st.set_page_config(initial_sidebar_state="collapsed" if on else "auto")
    parts = [BASE_CSS, page_css]
    if on:
        parts += [CLASSROOM_CSS, classroom_css]
    css = "\n".join(_bare(p) for p in parts if p)
    st.html(f"<style>{css}</style>")


def _bare(css: str) -> str:
    return css.replace("<style>", "").replace("</style>", "").strip()
