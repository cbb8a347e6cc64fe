"""Session state <-> URL query parameters, so that a link restores a page's exact configuration.

A page declares its settings as :class:`Param` s (query name, session-state key, default, a
parser for the text in the URL) and wraps them in a :class:`UrlState`::

    URL = UrlState("lab", [
        Param("s", "lab.stride", 1, integer(1, 64), label="stride"),
        Param("act", "lab.act", "identity", choice(ops.ACTIVATIONS), label="activation"),
    ])
    notices = URL.restore()   # top of the page, before the widgets: URL -> session state
    ...widgets keyed on "lab.stride", "lab.act"...
    URL.publish()             # after the widgets: session state -> URL (defaults left out)

- ``restore`` applies the URL on a session's first run of the page (a shared link) and whenever
  the URL's parameters differ from the ones last published (a link pasted into the same
  session); otherwise it puts back widget values that Streamlit dropped on a page switch.
- A value that does not parse (a typo, an outdated link) falls back to the default and yields a
  notice naming the parameter; unknown parameters are reported too. Never an exception.
- ``publish`` writes only values that differ from their defaults, so links stay short, and
  only touches ``st.query_params`` when something changed. It works inside ``st.fragment``.

The parsers (:func:`choice`, :func:`integer`, :func:`number`, :func:`flag`, :func:`words`) are
plain functions ``str -> value`` that raise ``ValueError`` with a readable reason; they are
testable without Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

__all__ = ["Param", "UrlState", "choice", "flag", "fmt_number", "integer", "number", "words"]

# Query names every page shares, never a page's own setting, owned by one module each
# (``classroom``: ui/classroom.py, ``display``: ui/display.py): a page's UrlState leaves them
# alone and copies them into the links it makes.
SHARED = ("classroom", "display")

# Longest value read from a URL; longer ones are refused before parsing (a 15 x 15 kernel in
# compact text needs ~2 kB).
MAX_VALUE_LENGTH = 4000


@dataclass(frozen=True)
class Param:
    """One setting mirrored in the URL.

    ``parse`` turns the URL's text into a value (raising ``ValueError`` with the reason);
    ``format`` turns a value back into text; ``default`` is what a missing parameter means
    (``None``: the page derives the value itself, and publishes it only when it is set);
    ``skip(value)`` leaves out values implied by other settings (a preset's own size).
    """

    name: str
    key: str
    default: Any
    parse: Callable[[str], Any] = str
    format: Callable[[Any], str] = str
    label: str = ""
    skip: Callable[[Any], bool] | None = None  # True: leave this value out (it is implied)

    def text(self, value) -> str | None:
        """The URL text of ``value``, or None when it is the default or implied (left out)."""
        if value is None or _same(value, self.default) or (self.skip and self.skip(value)):
            return None
        return self.format(value)


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):  # True == 1 in Python, not in a URL
        return type(a) is type(b) and a == b
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------------------
# Parsers
# --------------------------------------------------------------------------------------------

def choice(options: Iterable[str]) -> Callable[[str], str]:
    """A parser accepting one of ``options`` (case-insensitive, surrounding spaces ignored)."""
    options = tuple(options)
    lower = {o.lower(): o for o in options}

    def parse(text: str) -> str:
        t = text.strip().lower()
        if t in lower:
            return lower[t]
        shown = ", ".join(options) if len(options) <= 12 else ", ".join(options[:12]) + ", ..."
        raise ValueError(f"{_show(text)} is not one of {shown}")
    return parse


def integer(lo: int, hi: int) -> Callable[[str], int]:
    """A parser accepting a whole number from ``lo`` to ``hi``."""

    def parse(text: str) -> int:
        t = text.strip()
        try:
            value = int(t)
        except ValueError:
            try:
                f = float(t)
            except ValueError:
                raise ValueError(f"{_show(text)} is not a whole number") from None
            if not math.isfinite(f) or not f.is_integer():
                raise ValueError(f"{_show(text)} is not a whole number") from None
            value = int(f)
        if not lo <= value <= hi:
            raise ValueError(f"{value} is outside {lo}..{hi}")
        return value
    return parse


def number(lo: float, hi: float) -> Callable[[str], float]:
    """A parser accepting a finite number from ``lo`` to ``hi``."""

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError(f"{_show(text)} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{_show(text)} is not a finite number")
        if not lo <= value <= hi:
            raise ValueError(f"{fmt_number(value)} is outside {fmt_number(lo)}..{fmt_number(hi)}")
        return value
    return parse


def flag(text: str) -> bool:
    """``1/true/yes/on`` -> True, ``0/false/no/off`` -> False."""
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{_show(text)} is not 1 or 0")


def words(options: Iterable[str], *, max_items: int = 16) -> Callable[[str], list[str]]:
    """A parser for a comma-separated list of ``options`` (duplicates dropped, order kept)."""
    options = tuple(options)

    def parse(text: str) -> list[str]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in options]
        if bad:
            raise ValueError(f"unknown {', '.join(_show(b) for b in bad[:3])}")
        out = list(dict.fromkeys(items))
        if len(out) > max_items:
            raise ValueError(f"{len(out)} items, at most {max_items} allowed")
        return out
    return parse


def fmt_number(value: float) -> str:
    """Shortest text that parses back to the same float (integers without ``.0``)."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _show(text: str) -> str:
    text = str(text)
    return repr(text if len(text) <= 40 else text[:37] + "...")


# --------------------------------------------------------------------------------------------
# The mirror
# --------------------------------------------------------------------------------------------

@dataclass
class UrlState:
    """The settings of one page, mirrored between ``st.session_state`` and the URL."""

    scope: str
    params: Sequence[Param]
    ignore: Sequence[str] = ()  # query names that belong to someone else (left alone)
    applied: bool = field(default=False, init=False)
    given: frozenset = field(default=frozenset(), init=False)  # the page's names in the link

    def __post_init__(self):
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate query names in {names}")
        self.ignore = (*self.ignore, *(n for n in SHARED if n not in self.ignore))

    @property
    def _published(self) -> str:
        return f"{self.scope}.__published"

    @property
    def _shadow(self) -> str:
        return f"{self.scope}.__shadow"

    def _raw(self) -> dict[str, str]:
        qp = st.query_params
        out = {}
        for name in qp:
            values = qp.get_all(name)
            if values:
                out[name] = values[-1]  # a repeated parameter: the last one wins, as in forms
        return out

    def restore(self) -> list[str]:
        """Bring the URL's settings into session state when it carries a new configuration.

        Returns notices (one per ignored or invalid parameter) for the page to show.
        ``self.applied`` tells whether the URL was applied in this run.
        """
        ss = st.session_state
        raw = self._raw()
        known = {p.name for p in self.params}
        ours = {k: v for k, v in raw.items() if k in known}
        self.given = frozenset(ours)
        first = self._published not in ss
        self.applied = first or (bool(ours) and ours != ss.get(self._published))
        notices: list[str] = []
        if self.applied:
            for p in self.params:
                if p.name in ours:
                    text = ours[p.name]
                    try:
                        if len(text) > MAX_VALUE_LENGTH:
                            raise ValueError(f"the value is {len(text)} characters long")
                        ss[p.key] = p.parse(text)
                    except ValueError as exc:
                        self._set_default(p)
                        notices.append(
                            f"The link's `{p.name}` ({p.label or p.key}) was ignored: {exc}. "
                            f"Using {'the default' if p.default is None else _describe(p)}."
                        )
                else:
                    self._set_default(p)
            unknown = [k for k in raw if k not in known and k not in self.ignore
                       and k.lower() not in ("embed", "embed_options")]
            if unknown:
                notices.append(
                    f"The link has parameters this page does not know "
                    f"({', '.join(f'`{k}`' for k in unknown[:5])}); they were ignored."
                )
            ss[self._published] = ours
            ss[self._shadow] = {p.key: ss.get(p.key) for p in self.params}
        else:
            shadow = ss.get(self._shadow, {})
            for p in self.params:
                if p.key not in ss and shadow.get(p.key) is not None:
                    ss[p.key] = shadow[p.key]
                elif p.key not in ss and p.default is not None:
                    ss[p.key] = p.default
        return notices

    def _set_default(self, p: Param) -> None:
        ss = st.session_state
        if p.default is None:
            ss.pop(p.key, None)
        else:
            ss[p.key] = list(p.default) if isinstance(p.default, list) else p.default

    def query(self, values: dict | None = None) -> dict[str, str]:
        """The URL parameters of the current settings (defaults left out), in declaration order.
        ``values``: the settings by session-state key, when already read (:meth:`_values`)."""
        values = self._values() if values is None else values
        out = {}
        for p in self.params:
            value = values.get(p.key)
            text = p.text(p.default if value is None and p.key not in values else value)
            if text is not None:
                out[p.name] = text
        return out

    def _values(self) -> dict:
        """The settings present in the session state, by key, read once (each read of
        ``st.session_state`` takes Streamlit's lock)."""
        ss = st.session_state
        missing = object()
        values = {p.key: ss.get(p.key, missing) for p in self.params}
        return {k: v for k, v in values.items() if v is not missing}

    def publish(self) -> dict[str, str]:
        """Write the current settings into the URL (only when they changed); returns them."""
        ss = st.session_state
        values = self._values()
        query = self.query(values)
        ss[self._shadow] = {p.key: values.get(p.key) for p in self.params}
        current = {k: v for k, v in self._raw().items() if k not in self.ignore}
        if current != query:
            keep = {k: v for k, v in self._raw().items() if k in self.ignore}
            st.query_params.from_dict({**keep, **query})
        ss[self._published] = query
        return query

    def link(self, base: str | None = None) -> str:
        """The full link restoring the current settings (``base``: the page's URL; by default
        the one in the browser, without its query)."""
        if base is None:
            try:
                base = st.context.url or ""
            except Exception:  # noqa: BLE001 - no browser (AppTest): a relative link
                base = ""
        parts = urlsplit(base)
        shared = {k: v for k, v in self._raw().items() if k in SHARED}
        query = urlencode({**self.query(), **shared}, safe=":,;|/")
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

    @staticmethod
    def link_css(key: str) -> str:
        """The style of :meth:`show`'s link (inside a ``<style>``): the copy button always shown
        (Streamlit shows it on hover only), and larger."""
        k = f".st-key-{key}"
        return f"""
{k} [data-testid="stCode"] div:has(> div > [data-testid="stElementToolbarButton"]),
{k} [data-testid="stCode"] div:has(> [data-testid="stElementToolbarButton"]),
{k} [data-testid="stElementToolbarButton"] {{ opacity: 1 !important; visibility: visible !important; }}
{k} [data-testid="stElementToolbarButton"] svg {{ width: 1.6rem; height: 1.6rem; }}
{k} [data-testid="stCode"] code {{ font-size: 1.0rem; }}
"""

    def show(self, what: str, key: str, *, css: bool = True, lazy: bool = False) -> None:
        """Publish, and offer the link: a button that opens it with a copy button at its right.

        ``what``: what the link restores, in a few words. The link sits in a popover because
        Streamlit loads its code highlighter (half a second of main-thread time on a slow CPU,
        measured with Chromium's profiler) only when an ``st.code`` is first shown; the page's
        figure is interactive that much sooner. ``key``: the container around the link.
        ``css``: write the link's style (:meth:`link_css`) here; a page that reruns this often
        (in a fragment) puts it in its own style once instead, one element less to redraw.
        ``lazy``: the popover's content only while it is open (opening it reruns the page or
        its fragment); closed, a change sends one element instead of four.
        """
        self.publish()
        if css:
            st.html(f"<style>{self.link_css(key)}</style>")
        box = st.popover("Link to this exact configuration", icon=":material/link:",
                         key=f"{key}-open", on_change="rerun" if lazy else "ignore")
        if not lazy or box.open:
            with box, st.container(key=key):
                st.markdown(f"Opens this page with {what}. Copy it with the button at its right:")
                st.code(self.link(), language=None, wrap_lines=True)


def _describe(p: Param) -> str:
    if isinstance(p.default, bool):
        return f"the default ({'on' if p.default else 'off'})"
    if isinstance(p.default, list):
        return "the default (none)" if not p.default else f"the default ({', '.join(p.default)})"
    return f"the default ({p.format(p.default)})"
