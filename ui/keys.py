"""Presenter keys for a page's animations (``ui/keys.js``, a Streamlit v2 component).

In a lecture hall the animation is driven from the keyboard or a presentation clicker:

    → / PageDown  step forward      ← / PageUp  step back
    Space         play / pause      Home / End  first / last step
    "." / "b"     play / pause (a clicker's third button sends one of them)

The component is one line on the page, the hint saying so; the keys act when no text field,
slider or table has the focus and one of its animations is on the screen. It works in the
browser through each animation's own controls, found by their labels (its buttons; its slider
when it has no step buttons): a key costs the server nothing. What it sends is the frame an
animation settles on (after a key, a button, a slider drag, the end of a play; never while it
plays), so that the page can keep the position in its link.

Use (any Plotly animation in ``st.plotly_chart`` inside a keyed container)::

    with st.container(key="my-figure"):
        st.plotly_chart(fig, key="my.chart")
    keys.presenter_keys([keys.Target("main", ".st-key-my-figure", buttons=keys.PLAY_PAUSE)],
                        key="my.keys", on_step=_on_step)

    def _on_step():               # a frame the browser settled on
        target, frame = keys.reported("my.keys")
        st.session_state["my.step"] = int(frame)

The sliding window's animations (``viz.animation``): :func:`animation_target`. A page that
keeps a position reported by the browser in its link, without sending the figure again (the
browser shows that position already): :func:`browser_step` in the callback,
:func:`figure_start` where the figure is drawn.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

__all__ = ["HINT", "PLAY_PAUSE", "STEP_BUTTONS", "Target", "animation_target", "browser_step",
           "figure_start", "presenter_keys", "reported", "reported_screen"]

_JS = Path(__file__).with_name("keys.js").read_text(encoding="utf-8")
_CSS = """
.conv-keys { margin: 0; font-size: 0.875rem; line-height: 1.4; opacity: 0.72; }
/* a phone or a tablet has no keyboard to speak of */
@media (hover: none) and (pointer: coarse) { .conv-keys { display: none; } }
"""
_component = st.components.v2.component("conv_keys", js=_JS, css=_CSS, isolate_styles=False)

HINT = ("Keys: ← → step · Space play/pause · Home/End first/last "
        "(a clicker's PageDown/PageUp step too)")

#: The labels of the sliding window's buttons (``viz.animation.Animation.layout``), by action.
STEP_BUTTONS: Mapping[str, str] = {
    "first": "|\u25c0 First", "prev": "\u25c0 Back", "pause": "|| Pause",
    "next": "Step \u25b6", "last": "Last \u25b6|", "play": "\u25b6 Play",
}
#: Every sliding-window button that starts playback (``viz.animation.SPEEDS``).
PLAYING = ("\u25b6 Play slowly", "\u25b6 Play", "\u25b6\u25b6 Fast")
#: A figure with only Play and Pause buttons and a slider (the slider steps).
PLAY_PAUSE: Mapping[str, str] = {"play": "Play", "pause": "Pause"}


@dataclass(frozen=True)
class Target:
    """One animation the keys drive.

    ``name`` identifies it in reports; ``selector`` is a CSS selector of an element holding its
    chart (a keyed container: ``".st-key-<key>"``); ``buttons`` maps the actions ``next``,
    ``prev``, ``first``, ``last``, ``play``, ``pause`` to the labels of the figure's own buttons
    (an action without a button moves the slider); ``playing``: the labels of every button that
    starts playback (default: ``buttons["play"]``); ``report``: send the frame it settles on.
    """

    name: str
    selector: str
    buttons: Mapping[str, str] = field(default_factory=dict)
    playing: tuple[str, ...] = ()
    report: bool = False

    def spec(self) -> dict:
        play = self.buttons.get("play")
        return {"name": self.name, "selector": self.selector, "buttons": dict(self.buttons),
                "playing": list(self.playing or ((play,) if play else ())),
                "report": self.report}


def animation_target(name: str, selector: str, *, report: bool = True) -> Target:
    """A sliding-window animation (``viz.animation``): its Step, Back, First, Last, Play and
    Pause buttons; every frame it settles on reported."""
    return Target(name, selector, STEP_BUTTONS, PLAYING, report)


def presenter_keys(targets: Sequence[Target], *, key: str,
                   on_step: Callable[[], None] | None = None, hint: str = HINT,
                   fit: str | None = None, screen: tuple[int, int] | None = None,
                   on_screen: Callable[[], None] | None = None) -> None:
    """The keys for ``targets`` and their one-line ``hint``. ``on_step``: called (a callback,
    before the rerun) when the browser reports the frame an animation settled on; read it with
    :func:`reported`. Inside ``st.fragment``, a report reruns only the fragment.

    ``fit``: a selector of the element whose room to measure (its width, and the window's
    height below its top); ``on_screen`` is called when it changes (read it with
    :func:`reported_screen`); ``screen``: the size the figure was laid out for (not reported
    again)."""
    data = json.dumps({"hint": hint, "targets": [t.spec() for t in targets], "fit": fit,
                       "sent": f"{screen[0]}x{screen[1]}" if screen else None},
                      ensure_ascii=False, sort_keys=True)
    _component(data=data, key=key, on_step_change=on_step or (lambda: None),
               on_screen_change=on_screen or (lambda: None))


def reported_screen(key: str) -> dict | None:
    """``{"width", "height"}`` (px) just measured by the keys ``key`` (a trigger)."""
    state = st.session_state.get(key)
    if state is None:
        return None
    try:
        value = state["screen"]
    except (KeyError, TypeError):
        value = getattr(state, "screen", None)
    return value if isinstance(value, dict) else None


def reported(key: str) -> tuple[str, str] | None:
    """``(target, frame)`` just reported by the keys ``key`` (a trigger: only in the run it
    started, and in its callback)."""
    state = st.session_state.get(key)
    if state is None:
        return None
    try:
        value = state["step"]
    except (KeyError, TypeError):
        value = getattr(state, "step", None)
    if not isinstance(value, dict):
        return None
    target, frame = value.get("target"), value.get("frame")
    if not isinstance(target, str) or frame is None:
        return None
    return target, str(frame)


def browser_step(step_key: str, step: int) -> None:
    """Record a position the browser reported (from the report's callback): ``step_key`` holds
    it, and :func:`figure_start` knows the browser shows it already."""
    st.session_state[step_key] = step
    st.session_state[f"{step_key}@browser"] = step


def figure_start(step_key: str, step: int, figure: object = None) -> int:
    """The step to draw ``figure`` (anything identifying the figure but its start) at, for the
    position ``step`` held in ``step_key``.

    A position the browser reported (:func:`browser_step`) is on the screen already: the same
    figure stays drawn where it was (its spec unchanged, Streamlit does not send it again and
    the animation is not reset). Any other position (a click, a link), or another figure, is
    drawn at ``step``."""
    ss = st.session_state
    drawn, seen = f"{step_key}@drawn", f"{step_key}@browser"
    last = ss.get(drawn)
    if last is not None and last[0] == figure and ss.get(seen) == step:
        return last[1]
    ss[drawn] = (figure, step)
    ss.pop(seen, None)
    return step
