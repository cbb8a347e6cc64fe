"""A figure turned into JSON-ready data once, for figures a cache hands out again and again.

``st.plotly_chart(fig)`` calls ``fig.to_dict()`` on every run of the page, which deep-copies the
figure and walks it to turn numpy arrays into base64, and then encodes the result with
``plotly.io.to_json``. For a figure that did not change this is all repeated work: a cached
:class:`FrozenFigure` returns the same plain dict every time (only JSON types, arrays already
in plotly.js's typed-array form), which ``plotly.io.to_json`` encodes in one orjson call
without cleaning it first. Its JSON is the original figure's, character for character, so
Streamlit gives the chart the same identity and the browser keeps the chart (and an
animation playing in it).

Public API
----------
freeze(fig) -> FrozenFigure          the figure's dict, computed once
FrozenFigure(spec, *, shared=())     a JSON-ready dict as a figure (``shared``: parts owned by
                                     someone else, not charged to its size)
FrozenFigure.to_dict()               the dict (shared: never mutate it)
FrozenFigure.nbytes                  the memory it owns (for a byte-budgeted cache)
"""

from __future__ import annotations

import json
import sys

import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["FrozenFigure", "freeze"]


class FrozenFigure(go.Figure):
    """A figure reduced to its JSON-ready dict; read it with :meth:`to_dict`.

    The ``go.Figure`` part is empty (``fig.data``, ``fig.layout`` show nothing): it only makes
    ``st.plotly_chart`` and ``plotly.io`` accept the object. Build one with :func:`freeze`, or
    from a dict of JSON types only (an animation's ``spec``); ``shared``: objects in it that
    others own too (an animation's frames, the same in the figure of every step), left out of
    :attr:`nbytes`.
    """

    def __init__(self, spec: dict, *, shared=()):
        super().__init__()
        object.__setattr__(self, "_spec", spec)
        object.__setattr__(self, "_nbytes", _json_size(spec, skip={id(v) for v in shared}))

    def to_dict(self) -> dict:
        return self._spec

    def to_plotly_json(self) -> dict:
        return self._spec

    @property
    def nbytes(self) -> int:
        return self._nbytes


def freeze(fig: go.Figure) -> FrozenFigure:
    """``fig`` as a :class:`FrozenFigure`.

    ``fig.to_dict()`` is kept when orjson encodes it as it is (what ``plotly.io.to_json``
    tries first); anything else (a type only plotly's cleaning pass knows) goes through one
    round trip through JSON, so that no later call takes the slow path.
    """
    if isinstance(fig, FrozenFigure):
        return fig
    spec = fig.to_dict()
    if not _encodes(spec):
        spec = json.loads(pio.to_json(spec, validate=False))
    return FrozenFigure(spec)


def _encodes(spec: dict) -> bool:
    """Whether ``plotly.io.to_json`` encodes ``spec`` in its first, uncleaned orjson call."""
    try:
        import orjson
    except ImportError:  # plotly then uses the json module, which has no fast path to keep
        return True
    try:
        orjson.dumps(spec, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        return False
    return True


def _json_size(value, skip: set[int] = frozenset()) -> int:
    """Bytes held by a tree of dicts, lists and scalars (each container's own size included),
    without the objects whose ids are in ``skip``."""
    total = 0
    stack = [value]
    while stack:
        obj = stack.pop()
        if id(obj) in skip:
            continue
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list):
            stack.extend(obj)
    return total
