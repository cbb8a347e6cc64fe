"""Widgets and display helpers of the "CNN arithmetic" page (``ui/pages/arithmetic.py``).

The page script reads as a description of the UI; the state handling (presets <-> URL, the data
editor's rows surviving reruns and page switches) and the tables live here. All numbers come from
:mod:`conv.network` and :mod:`conv.comparisons`; all figures from :mod:`viz.network`.

Session state keys (all prefixed ``arith_``)
--------------------------------------------
arith_preset     key of the preset last loaded
arith_url_preset the link's ``?preset=`` (``ui.state.UrlState``: see :func:`url_state`)
arith_url_net    the link's ``?net=``: the edited network as text (absent: not edited)
arith_notice     a message about the link (unknown preset, unreadable network), shown until
                 the next pick
arith_pick       the preset pills widget
arith_input      (H, W, C) of the network input; arith_h / arith_w / arith_c are its widgets
arith_rows       the editor's starting rows (plain dicts, see ``conv.network_io.EDITOR_COLUMNS``)
arith_edited     the rows as last edited (survive a page switch)
arith_version    suffix of the editor's key; bumped to restart the editor on new rows

Caches (``ui.cache``, one byte budget shared by every session): a network's analysis and its
figure, keyed on the network (a frozen, hashable description of its layers), and the cost
comparisons' figures, keyed on their numbers. The figures are frozen (``viz.frozen``): a rerun
that does not change them neither rebuilds nor converts them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from conv.comparisons import Comparison
from conv.network import KINDS, Analysis, Network, analyze
from conv.network_io import EDITOR_COLUMNS, layer_to_row, layers_from_rows
from conv.network_presets import DEFAULT_PRESET, PRESETS, Preset
from ui import cache
from ui.state import Param, UrlState
from viz.frozen import FrozenFigure, freeze
from viz.network import comparison_figure, network_figure
from viz.style import LIGHT, Style

QUERY_KEY = "preset"
NET_KEY = "net"  # an edited network: its input and layers (:func:`network_text`)
_NUMBER_COLUMNS = ("f", "fw", "p", "s", "d", "units")

PAGE_CSS = """
/* Lecture-hall sizes for this page only: big totals, readable tables. */
[data-testid="stMetricValue"] { font-size: 2.6rem; font-weight: 700; }
[data-testid="stMetricLabel"] p { font-size: 1.15rem; }
[data-testid="stTable"] td, [data-testid="stTable"] th { font-size: 1.05rem; }
[data-testid="stMarkdownContainer"] code { font-size: 0.95em; }
.st-key-arith_pick button p { font-size: 1.05rem; }
/* a 1280 x 720 screen: the table's formulas on one line each, the totals less tall */
@media (max-width: 1400px), (max-height: 800px) {
  [data-testid="stTable"] td, [data-testid="stTable"] th { font-size: 0.85rem;
                                                          padding: 0.2rem 0.4rem; }
  [data-testid="stMetricValue"] { font-size: 2.1rem; }
  .st-key-arith-results [data-testid="stMetric"] { padding: 0; }
  [data-testid="stAlertContainer"] { padding: 0.5rem 0.8rem; }
  [data-testid="stMetricLabel"] p { font-size: 1rem; }
  .st-key-arith-results { gap: 0.5rem; }
}
"""
#: Classroom mode (``ui/classroom.py``) adds this on a projector.
CLASSROOM_CSS = """
[data-testid="stMetricValue"] { font-size: 2.2rem; }
"""


# --------------------------------------------------------------------------------------------
# Cached results and figures
# --------------------------------------------------------------------------------------------


def analysis_of(network: Network) -> Analysis:
    """:func:`conv.network.analyze` of ``network``, computed once."""
    return cache.get_or_build(("arith.analysis", network), lambda: analyze(network))


def network_chart(network: Network, style: Style = LIGHT) -> FrozenFigure:
    """:func:`viz.network.network_figure` of ``network``'s analysis, built once per style."""
    return cache.get_or_build(("arith.network_figure", network, style),
                              lambda: freeze(network_figure(analysis_of(network), style=style)))


def comparison_chart(make, *args, style: Style = LIGHT,
                     **kwargs) -> tuple[Comparison, FrozenFigure]:
    """``make(*args, **kwargs)`` (a cost comparison of ``conv.comparisons``) and its figure, built
    once per style (the key: ``make``'s name, the arguments and the style)."""
    def build():
        comparison = make(*args, **kwargs)
        return comparison, freeze(comparison_figure(comparison, style=style))
    key = ("arith.comparison", make.__name__, args, tuple(sorted(kwargs.items())), style)
    return cache.get_or_build(key, build)


# --------------------------------------------------------------------------------------------
# Presets and the URL
# --------------------------------------------------------------------------------------------


def resolve_preset(raw) -> tuple[str, str]:
    """``?preset=`` value -> (a known preset key, ``""`` or a notice for the user)."""
    if isinstance(raw, list):  # repeated parameter: take the last, as browsers' forms do
        raw = raw[-1] if raw else None
    if raw is None:
        return DEFAULT_PRESET, ""
    key = str(raw).strip().lower()
    if key in PRESETS:
        return key, ""
    shown = str(raw)[:40]
    return DEFAULT_PRESET, (
        f"The link asks for the preset {shown!r}, which does not exist; showing "
        f"{PRESETS[DEFAULT_PRESET].title} instead. Known presets: {', '.join(PRESETS)}."
    )


def plain_rows(rows: Sequence[Mapping]) -> list[dict]:
    """Editor rows with plain Python cells: ``None`` for blanks, ints for whole numbers.

    Cells that are not numbers (text typed into a number column) stay as strings so that the
    validation can name them.
    """
    out = []
    for row in rows:
        plain = {}
        for key in EDITOR_COLUMNS:
            value = row.get(key)
            if value is None or value is pd.NA or value is pd.NaT:
                plain[key] = None
            elif isinstance(value, bool):
                plain[key] = value
            elif isinstance(value, int | float) or hasattr(value, "item"):
                try:
                    value = value.item() if hasattr(value, "item") else value
                except (ValueError, TypeError):
                    plain[key] = str(value)
                    continue
                if isinstance(value, bool):
                    plain[key] = value
                elif isinstance(value, float) and math.isnan(value):
                    plain[key] = None
                elif isinstance(value, float) and value.is_integer():
                    plain[key] = int(value)
                else:
                    plain[key] = value
            else:
                plain[key] = str(value)
        out.append(plain)
    return out


# --------------------------------------------------------------------------------------------
# An edited network as link text: ``?net=32x32x3,conv.f5.u6,avgpool.f2,fc.u120,softmax.u10``
# --------------------------------------------------------------------------------------------

# Layer cells as the link writes them (a cell left blank in the editor is left out)
_CELL_CODES = {"f": "f", "fw": "w", "p": "p", "s": "s", "d": "d", "units": "u"}
_CODE_CELLS = {v: k for k, v in _CELL_CODES.items()}
MAX_NET_LAYERS = 200


def network_text(input_shape: Sequence[int], rows: Sequence[Mapping]) -> str:
    """The network of the editor (its valid rows) and its input as one line for a link:
    ``HxWxC`` then one item per layer, ``kind.f5.w3.p2.s4.d2.u6.nb.nNAME`` (cells that are
    blank or at their default left out; ``nb``: no bias; the name percent-encoded)."""
    from urllib.parse import quote

    layers, _ = layers_from_rows(plain_rows(rows))
    items = ["x".join(str(int(v)) for v in input_shape)]
    for layer in layers:
        row = layer_to_row(layer)
        parts = [layer.kind]
        implied = {"p": 0, "d": 1, "s": 1 if layer.kind == "conv" else row["f"]}
        for cell, code in _CELL_CODES.items():
            if row[cell] is not None and implied.get(cell) != row[cell]:
                parts.append(f"{code}{row[cell]}")
        if row["bias"] is False:
            parts.append("nb")
        if layer.name:
            parts.append("n" + quote(layer.name, safe="").replace(".", "%2E"))
        items.append(".".join(parts))
    return ",".join(items)


def parse_network(text: str) -> tuple[tuple[int, int, int], list[dict]]:
    """:func:`network_text` read back: ``((H, W, C), rows)``; ``ValueError`` with the reason."""
    from urllib.parse import unquote

    items = [t.strip() for t in str(text).split(",")]
    if not items or not items[0]:
        raise ValueError("it is empty")
    dims = items[0].lower().split("x")
    if len(dims) != 3 or not all(d.isdigit() and 1 <= int(d) <= 100_000 for d in dims):
        raise ValueError(f"the input {items[0][:20]!r} is not HxWxC (whole numbers 1..100000)")
    if len(items) - 1 > MAX_NET_LAYERS:
        raise ValueError(f"{len(items) - 1} layers, at most {MAX_NET_LAYERS}")
    rows = []
    for n, item in enumerate(items[1:], start=1):
        kind, *parts = item.split(".")
        if kind not in KINDS:
            raise ValueError(f"layer {n}: {kind[:20]!r} is not one of {', '.join(KINDS)}")
        row: dict = dict.fromkeys(EDITOR_COLUMNS)
        row["type"] = kind
        for part in parts:
            if part == "nb":
                row["bias"] = False
            elif part.startswith("n"):
                row["name"] = unquote(part[1:])[:60]
            elif part[:1] in _CODE_CELLS and part[1:].isdigit():
                row[_CODE_CELLS[part[:1]]] = int(part[1:])
            else:
                raise ValueError(f"layer {n} ({kind}): {part[:20]!r} is not understood")
        rows.append(row)
    layers, errors = layers_from_rows(rows)
    if errors:
        raise ValueError(errors[0])
    h, w, c = (int(d) for d in dims)
    return (h, w, c), [layer_to_row(layer) for layer in layers]


def _load_rows(input_shape: tuple[int, int, int], rows: list[dict]) -> None:
    """Put a network into the session and restart the editor on its rows."""
    ss = st.session_state
    ss["arith_input"] = tuple(input_shape)
    ss["arith_h"], ss["arith_w"], ss["arith_c"] = input_shape
    ss["arith_rows"] = rows
    ss["arith_edited"] = rows
    ss["arith_version"] = ss.get("arith_version", 0) + 1


def load_preset(key: str) -> None:
    """Put preset ``key`` into session state (its link follows); restart the editor on its
    rows."""
    ss = st.session_state
    preset = PRESETS[key]
    _load_rows(preset.network.input, [layer_to_row(layer) for layer in preset.network.layers])
    ss["arith_preset"] = key
    ss["arith_pick"] = key
    ss["arith_url_preset"] = key
    ss.pop("arith_url_net", None)


def _parse_preset(text: str) -> str:
    key, notice = resolve_preset(text)
    if notice:
        raise ValueError(notice)
    return key


def _parse_net(text: str) -> str:
    """An edited network of a link, checked (its rows are loaded by :func:`after_restore`)."""
    try:
        parse_network(text)
    except ValueError as exc:
        raise ValueError(f"the edited network could not be read: {exc}; the preset is shown "
                         "unedited") from None
    return text


def url_state() -> UrlState:
    """The page's link: the preset, and the edited network when it is not the preset's."""
    return UrlState("arith", [
        Param(QUERY_KEY, "arith_url_preset", None, _parse_preset, label="preset"),
        Param(NET_KEY, "arith_url_net", None, _parse_net, label="edited network"),
    ])


def after_restore(url: UrlState, notices: Sequence[str]) -> None:
    """Once a link is applied (a first visit, a shared link, a link pasted into the session):
    load its preset (the default one without), then its edited network over it."""
    ss = st.session_state
    if not url.applied:
        return
    net = ss.get("arith_url_net")
    load_preset(ss.get("arith_url_preset") or DEFAULT_PRESET)
    if net:
        _load_rows(*parse_network(net))
        ss["arith_url_net"] = net
    ss["arith_notice"] = " ".join(notices)


def publish_network(url: UrlState, edited: bool, input_shape: Sequence[int],
                    rows: Sequence[Mapping]) -> None:
    """The link: the preset, with the edited network (``?net=``) until it is the preset's
    again."""
    ss = st.session_state
    ss["arith_url_preset"] = ss["arith_preset"]
    if edited:
        ss["arith_url_net"] = network_text(input_shape, rows)
    else:
        ss.pop("arith_url_net", None)
    url.publish()


def on_pick() -> None:
    """Callback of the preset pills: one click loads the preset."""
    ss = st.session_state
    key = ss.get("arith_pick")
    if key not in PRESETS:  # deselected or garbage: keep the current preset
        ss["arith_pick"] = ss.get("arith_preset", DEFAULT_PRESET)
        return
    ss["arith_notice"] = ""
    load_preset(key)


def preset_label(key: str) -> str:
    return PRESETS[key].title


def preset_pill(key: str) -> str:
    """A preset's title without its parenthesis, "Exercise" shortened: twelve pills in two rows
    on a 1280 px screen (the description above the totals gives the whole title)."""
    title = PRESETS[key].title.split(" (")[0]
    return title.replace("Exercise: ", "Ex. ")


def is_edited(preset: Preset, rows: Sequence[Mapping], input_shape: tuple[int, int, int]) -> bool:
    """Whether the editor's rows or the input differ from the preset's."""
    original = plain_rows([layer_to_row(layer) for layer in preset.network.layers])
    return plain_rows(rows) != original or tuple(input_shape) != preset.network.input


# --------------------------------------------------------------------------------------------
# The layer editor
# --------------------------------------------------------------------------------------------


def editor_key() -> str:
    """The data editor's key; restores edits made before a page switch (widget state is dropped
    when its page is left, the plain rows in ``arith_edited`` are not)."""
    ss = st.session_state
    key = f"arith_editor_{ss['arith_version']}"
    if key not in ss and ss.get("arith_edited") != ss.get("arith_rows"):
        ss["arith_rows"] = ss["arith_edited"]
        ss["arith_version"] += 1
        key = f"arith_editor_{ss['arith_version']}"
    return key


def editor_frame(rows: Sequence[Mapping]) -> pd.DataFrame:
    """The rows as a DataFrame with nullable integer and boolean columns for the editor."""
    rows = plain_rows(rows)

    def whole(v):
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    data = {
        "type": pd.array([r["type"] for r in rows], dtype="object"),
        "name": pd.array([r["name"] or "" for r in rows], dtype="object"),
    }
    for column in _NUMBER_COLUMNS:
        data[column] = pd.array([whole(r[column]) for r in rows], dtype="Int64")
    data["bias"] = pd.array(
        [r["bias"] if isinstance(r["bias"], bool) else None for r in rows], dtype="boolean"
    )
    return pd.DataFrame(data, columns=list(EDITOR_COLUMNS))


def editor_height(n_rows: int) -> int:
    """Pixels to show every row, the header and the empty "add" row without scrolling (VGG-16's
    21 layers included); 35 px is the editor's default row height."""
    return 35 * (min(n_rows, 24) + 2) + 3


def editor_column_config() -> dict:
    cc = st.column_config
    return {
        "type": cc.SelectboxColumn(
            "type",
            options=list(KINDS),
            width="small",
            help="conv, maxpool, avgpool, flatten, fc or softmax",
        ),
        "name": cc.TextColumn("name", width="small", help="blank: CONV1, POOL1, FC1, ..."),
        "f": cc.NumberColumn(
            "f", min_value=1, step=1, format="%d", help="kernel / window size (height)"
        ),
        "fw": cc.NumberColumn(
            "fw", min_value=1, step=1, format="%d", help="kernel width; blank = f"
        ),
        "p": cc.NumberColumn("p", min_value=0, step=1, format="%d", help="zero padding"),
        "s": cc.NumberColumn(
            "s",
            min_value=1,
            step=1,
            format="%d",
            help="stride; blank = 1 for conv, = f for pooling",
        ),
        "d": cc.NumberColumn("d", min_value=1, step=1, format="%d", help="dilation; blank = 1"),
        "units": cc.NumberColumn(
            "filters / units",
            min_value=1,
            step=1,
            format="%d",
            help="conv: filters; fc, softmax: units",
        ),
        # a new row's bias shows ticked: blank means on
        "bias": cc.CheckboxColumn("bias", help="one bias per filter / unit", default=True),
    }


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

RESULT_COLUMNS = (
    "Layer",
    "Output",
    "Output size",
    "Neurons",
    "Parameters",
    "Multiply-adds",
    "RF / jump",
    "Notes",
)


def esc(text: str) -> str:
    """Plain text for Streamlit Markdown: ``*`` and ``_`` stay characters, not emphasis."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def code(text: str) -> str:
    """A formula as a Markdown code span (shown literally, in a monospace font)."""
    return f"`{text}`" if text else ""


def shape_text(shape) -> str:
    """``28x28x6`` as ``28 × 28 × 6`` with no-break spaces (a table cell never splits it)."""
    return str(shape).replace("x", "\u202f×\u202f")


def results_frame(analysis: Analysis) -> pd.DataFrame:
    """The computed table for ``st.table``: Markdown cells, formulas as code, a totals row."""
    records = []
    for row in analysis.rows:
        notes = [f"✗ **IMPOSSIBLE**: {esc(row.error)}"] if row.error else []
        notes += [esc(flag) for flag in row.flags]
        if row.index == 0:
            neurons = f"{row.neurons:,} (input)"
        elif row.error:
            neurons = "—"
        else:
            neurons = f"{row.neurons:,}" + ("" if row.counted else " (not counted)")
        kind = "" if row.layer is None else f" ({row.layer.kind})"
        params = row.params.formula if row.params.value else "0"
        macs = row.macs.formula if row.macs.value else "0"
        records.append(
            {
                # "1\\." so that Markdown does not start a numbered list
                "Layer": f"{row.index}\\. {esc(row.name)}{kind}" if row.index else "Input",
                "Output": "—" if row.error else shape_text(row.output),
                "Output size": esc(row.size_formula),
                "Neurons": neurons,
                "Parameters": "—" if row.error else esc(params),
                "Multiply-adds": "—" if row.error else esc(macs),
                "RF / jump": "—"
                if row.error
                else (row.rf_text if row.jump is None else f"{row.rf_text} / {row.jump}"),
                "Notes": "; ".join(notes),
            }
        )
    impossible = len(analysis.impossible)
    records.append(
        {
            "Layer": "**Total**",
            "Output": f"**{shape_text(analysis.output)}**",
            "Output size": "",
            "Neurons": f"**{analysis.neurons:,}**",
            "Parameters": f"**{analysis.params:,}**",
            "Multiply-adds": f"**{analysis.macs:,}**",
            "RF / jump": "",
            "Notes": f"{impossible} impossible layer(s) left out" if impossible else "",
        }
    )
    return pd.DataFrame(records, columns=list(RESULT_COLUMNS))


def rf_steps(analysis: Analysis) -> str:
    """The receptive-field formula of every layer, one Markdown list item each."""
    lines = []
    for row in analysis.rows[1:]:
        if row.error:
            formula = "cannot exist, left out"
        else:
            formula = code(row.rf_formula) if row.rf is not None else "sees the whole input"
        lines.append(f"- **{esc(row.name)}**: {formula}")
    return "\n".join(lines) or "No layers."


def show_seed_notes(notes: Sequence[str], *, folded: bool = False, what: str = "preset") -> None:
    """The lecture notes' wrong numbers and the right ones, in one box (``folded``: in an
    expander that says how many, one line high: the table stays on a projector's screen)."""
    if notes:
        lines = "\n".join(f"- {esc(note)}" for note in notes)
        if folded:
            n = len(notes)
            label = (f"Corrections to the lecture notes for this {what}: {n} number"
                     f"{'s' if n > 1 else ''} the notes print wrong")
            with st.expander(label, icon=":material/rule:"):
                st.markdown(lines)
        else:
            st.warning(f"**Corrections to the lecture notes**\n{lines}")


def show_totals(analysis: Analysis) -> None:
    """Four large numbers: parameters, neurons, multiply-adds, output shape."""
    # A wrapping row sized to the numbers: fixed columns clip "1,135,256,096" on a laptop screen.
    row = st.container(horizontal=True, gap="large")
    row.metric("Parameters", f"{analysis.params:,}", width="content")
    row.metric("Neurons", f"{analysis.neurons:,}", width="content")
    row.metric("Multiply-adds", f"{analysis.macs:,}", width="content")
    row.metric("Output", shape_text(analysis.output), width="content")


def show_comparison(comparison: Comparison) -> None:
    """Both ways with their formulas and the ratio (the figure is separate)."""
    left, right = st.columns(2)
    for col, label, parts, total in (
        (left, comparison.a_label, comparison.a_parts, comparison.a_total),
        (right, comparison.b_label, comparison.b_parts, comparison.b_total),
    ):
        with col:
            lines = [f"**{esc(label.capitalize())}**", ""]
            lines += [f"- {esc(part)}: {code(worked.formula)}" for part, worked in parts]
            lines += ["", f"Total {comparison.unit}: **{total.value:,}**"]
            st.markdown("\n".join(lines))
    st.markdown(f"Ratio (cheap / expensive): {code(comparison.ratio_formula)}")
    for note in comparison.notes:
        st.warning(esc(note))
