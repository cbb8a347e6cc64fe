"""A network as rows and text: the page's layer editor, and the table as CSV and Markdown.

Editor rows are plain dicts keyed by :data:`EDITOR_COLUMNS`, one per layer: :func:`layer_to_row`
writes them, :func:`layers_from_rows` reads them back from whatever a data editor hands over
(blanks, NaN, strings, floats) and names every bad cell instead of raising.

The table of an :class:`~conv.network.Analysis` exports as records keyed by
:data:`RECORD_COLUMNS` (:func:`to_records`), as CSV (:func:`to_csv`) and as a Markdown table
(:func:`to_markdown`). The CSV reads back: :func:`records_from_csv` gives the records again and
:func:`network_from_csv` the network.

Public API
----------
EDITOR_COLUMNS, layer_to_row(layer), layers_from_rows(rows), RECORD_COLUMNS, TOTAL_NAME,
to_records(analysis), to_csv(analysis), to_markdown(analysis), records_from_csv(text),
network_from_csv(text).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from numbers import Integral, Real

from conv.network import KINDS, SPATIAL, Analysis, Layer, Network, Row

# --------------------------------------------------------------------------------------------
# Editable rows (the page's data editor) <-> layers
# --------------------------------------------------------------------------------------------

EDITOR_COLUMNS = ("type", "name", "f", "fw", "p", "s", "d", "units", "bias")
MAX_CELL = 10**9  # a sanity bound for typed numbers; no real layer comes near it


def layer_to_row(layer: Layer) -> dict:
    """The editable cells of a layer (``None`` where the cell does not apply)."""
    spatial = layer.kind in SPATIAL
    return {
        "type": layer.kind,
        "name": layer.name,
        "f": layer.f if spatial else None,
        "fw": layer.fw if spatial and layer.fw != layer.f else None,  # blank: square
        "p": layer.p if spatial else None,
        "s": layer.s if spatial else None,
        "d": layer.d if spatial else None,
        "units": layer.units,
        "bias": layer.bias if layer.kind in ("conv", "fc", "softmax") else None,
    }


class _CellError(ValueError):
    pass


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, Real) and not isinstance(value, Integral):
        return math.isnan(value)
    try:  # NaN-like values (pandas.NA, NaT) differ from themselves; NA's truth value raises
        return bool(value != value)  # noqa: PLR0124
    except TypeError:
        return True


def _cell_int(row: Mapping, key: str, *, minimum: int, default: int | None) -> int | None:
    value = row.get(key)
    if _blank(value):
        if default is None:
            raise _CellError(f"`{key}` is empty; a whole number >= {minimum} is needed")
        return default
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise _CellError(
                f"`{key}` must be a whole number >= {minimum}, got {value!r}"
            ) from None
    if isinstance(number, bool) or not isinstance(number, Real):
        raise _CellError(f"`{key}` must be a whole number >= {minimum}, got {value!r}")
    if not math.isfinite(number) or number != int(number):
        raise _CellError(f"`{key}` must be a whole number >= {minimum}, got {value!r}")
    number = int(number)
    if number < minimum:
        raise _CellError(f"`{key}` must be a whole number >= {minimum}, got {number}")
    if number > MAX_CELL:
        raise _CellError(f"`{key}` must be at most {MAX_CELL:,}, got {number:,}")
    return number


def _cell_bool(row: Mapping, key: str) -> bool:
    value = row.get(key)
    if _blank(value):
        return True
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on", "1.0"):
        return True
    if text in ("false", "0", "no", "off", "0.0"):
        return False
    raise _CellError(f"`{key}` must be on or off, got {value!r}")


def layers_from_rows(rows: Iterable[Mapping]) -> tuple[list[Layer], list[str]]:
    """Turn edited table rows into layers; collect a message for every bad cell.

    Parameters
    ----------
    rows : iterable of mappings
        Keys as in :data:`EDITOR_COLUMNS`; values as they come out of an editor: ``None``, NaN,
        strings, floats such as ``5.0``. Rows with every cell empty are ignored.

    Returns
    -------
    layers : list of Layer
        The valid rows, in order.
    errors : list of str
        ``"Row 3 (conv): `s` must be a whole number >= 1, got -2"``, one per invalid row. Invalid
        rows are left out of ``layers``.
    """
    layers: list[Layer] = []
    errors: list[str] = []
    for number, row in enumerate(rows, start=1):
        if all(_blank(row.get(k)) or (k == "bias" and row.get(k) is True) for k in EDITOR_COLUMNS):
            continue
        kind_raw = row.get("type")
        kind = "" if _blank(kind_raw) else str(kind_raw).strip().lower()
        if kind not in KINDS:
            shown = "nothing" if not kind else repr(kind_raw)
            errors.append(f"Row {number}: `type` must be one of {', '.join(KINDS)}; got {shown}")
            continue
        name_raw = row.get("name")
        name = "" if _blank(name_raw) else str(name_raw).strip()
        try:
            layers.append(_layer_from_cells(kind, name, row))
        except ValueError as exc:
            errors.append(f"Row {number} ({kind}): {str(exc).rstrip('.')}")
    return layers, errors


def _layer_from_cells(kind: str, name: str, row: Mapping) -> Layer:
    if kind in SPATIAL:
        f = _cell_int(row, "f", minimum=1, default=None)
        fw = _cell_int(row, "fw", minimum=1, default=f)
        p = _cell_int(row, "p", minimum=0, default=0)
        s = _cell_int(row, "s", minimum=1, default=1 if kind == "conv" else f)
        d = _cell_int(row, "d", minimum=1, default=1)
        if kind == "conv":
            units = _cell_int(row, "units", minimum=1, default=None)
            return Layer(kind, f, fw, p, s, d, units, _cell_bool(row, "bias"), name)
        if kind == "avgpool" and d != 1:
            raise _CellError(f"`d` must be 1 for average pooling (no dilation), got {d}")
        return Layer(kind, f, fw, p, s, d, None, True, name)
    if kind == "flatten":
        return Layer(kind, name=name)
    if kind == "fc":
        units = _cell_int(row, "units", minimum=1, default=None)
        return Layer(kind, units=units, bias=_cell_bool(row, "bias"), name=name)
    units = _cell_int(row, "units", minimum=1, default=0) or None
    return Layer(kind, units=units, bias=_cell_bool(row, "bias"), name=name)


# --------------------------------------------------------------------------------------------
# The table as records, CSV and Markdown
# --------------------------------------------------------------------------------------------

RECORD_COLUMNS = (
    "index",
    "name",
    "kind",
    "f",
    "fw",
    "p",
    "s",
    "d",
    "units",
    "bias",
    "input",
    "output",
    "out_h",
    "out_w",
    "out_c",
    "size_formula",
    "neurons",
    "counted",
    "params",
    "params_formula",
    "macs",
    "macs_formula",
    "rf_h",
    "rf_w",
    "jump",
    "flags",
    "error",
)
_INT_COLUMNS = frozenset(
    (
        "index",
        "f",
        "fw",
        "p",
        "s",
        "d",
        "units",
        "out_h",
        "out_w",
        "out_c",
        "neurons",
        "params",
        "macs",
        "rf_h",
        "rf_w",
        "jump",
    )
)
_BOOL_COLUMNS = frozenset(("bias", "counted"))
TOTAL_NAME = "Total"


def to_records(analysis: Analysis, *, totals: bool = True) -> list[dict]:
    """The table as dicts keyed by :data:`RECORD_COLUMNS` (ints, bools, strings, ``None``)."""
    records = [_record(row) for row in analysis.rows]
    if totals:
        total = {
            k: None if k in _INT_COLUMNS or k in _BOOL_COLUMNS else "" for k in RECORD_COLUMNS
        }
        total.update(
            name=TOTAL_NAME,
            neurons=analysis.neurons,
            params=analysis.params,
            macs=analysis.macs,
            flags=" | ".join(f"{r.name}: {r.error}" for r in analysis.impossible),
        )
        records.append(total)
    return records


def to_csv(analysis: Analysis) -> str:
    """CSV with a header row; :func:`records_from_csv` reads it back to :func:`to_records`."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RECORD_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for rec in to_records(analysis):
        writer.writerow({k: _csv_cell(v) for k, v in rec.items()})
    return out.getvalue()


def to_markdown(analysis: Analysis) -> str:
    """A Markdown table (GitHub style) with the formulas and the totals."""
    header = [
        "#",
        "Layer",
        "Output",
        "Output size",
        "Neurons",
        "Parameters",
        "Multiply-adds",
        "RF",
        "Jump",
        "Notes",
    ]
    h, w, c = analysis.network.input
    lines = [
        f"Input {h}x{w}x{c}: {len(analysis.network.layers)} layers.",
        "",
        "| " + " | ".join(header) + " |",
        "|---:|:---|---:|:---|---:|---:|---:|---:|---:|:---|",
    ]
    for row in analysis.rows:
        notes = "; ".join(([f"IMPOSSIBLE: {row.error}"] if row.error else []) + list(row.flags))
        params = _md_code(row.params.formula) if row.params.value else "0"
        macs = _md_code(row.macs.formula) if row.macs.value else "0"
        cells = [
            str(row.index),
            _md_text(row.name),
            "—" if row.error else str(row.output),
            _md_code(row.size_formula),
            f"{row.neurons:,}" + ("" if row.counted or row.index == 0 else " (not counted)"),
            params,
            macs,
            row.rf_text,
            "" if row.jump is None else str(row.jump),
            _md_text(notes),
        ]
        lines.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
    lines.append(
        f"| | **{TOTAL_NAME}** | | | **{analysis.neurons:,}** | **{analysis.params:,}** | "
        f"**{analysis.macs:,}** | | | |"
    )
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_text(text: str) -> str:
    """Plain text in Markdown: ``*`` and ``_`` are characters, not emphasis."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def _md_code(text: str) -> str:
    """A formula as a code span, so that ``*`` is not read as emphasis."""
    return f"`{text}`" if text else ""


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _record(row: Row) -> dict:
    layer = row.layer
    rec = dict.fromkeys(RECORD_COLUMNS)
    rec.update(
        index=row.index,
        name=row.name,
        kind=layer.kind if layer else "input",
        input="" if row.input is None else str(row.input),
        output="" if row.error else str(row.output),
        out_h=None if row.error else row.output.h,
        out_w=None if row.error else row.output.w,
        out_c=None if row.error else row.output.c,
        size_formula=row.size_formula,
        neurons=row.neurons,
        counted=row.counted,
        params=row.params.value,
        params_formula=row.params.formula,
        macs=row.macs.value,
        macs_formula=row.macs.formula,
        rf_h=None if row.rf is None else row.rf[0],
        rf_w=None if row.rf is None else row.rf[1],
        jump=row.jump,
        flags=" | ".join(row.flags),
        error=row.error,
    )
    if layer is not None:
        rec.update(layer_to_row(layer))
        del rec["type"]
        rec["kind"] = layer.kind
    return rec


def records_from_csv(text: str) -> list[dict]:
    """Parse :func:`to_csv` back into the records of :func:`to_records`.

    Raises
    ------
    ValueError
        If the header is not :data:`RECORD_COLUMNS` or a number cell is not an integer.
    """
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != RECORD_COLUMNS:
        raise ValueError(
            f"The parameter `text` must be a CSV with the columns {', '.join(RECORD_COLUMNS)}; "
            f"got {reader.fieldnames!r}."
        )
    records = []
    for line, raw in enumerate(reader, start=2):
        rec = {}
        for key in RECORD_COLUMNS:
            cell = raw[key]
            if key in _INT_COLUMNS:
                try:
                    rec[key] = None if cell == "" else int(cell)
                except ValueError:
                    raise ValueError(
                        f"The parameter `text` has {cell!r} in column {key} on line {line}; "
                        "an integer or nothing is allowed."
                    ) from None
            elif key in _BOOL_COLUMNS:
                rec[key] = {"true": True, "false": False, "": None}.get(cell.lower())
            else:
                rec[key] = cell
        records.append(rec)
    return records


def network_from_csv(text: str) -> Network:
    """Rebuild the :class:`~conv.network.Network` whose :func:`to_csv` is ``text``."""
    records = [r for r in records_from_csv(text) if r["name"] != TOTAL_NAME or r["kind"]]
    if not records or records[0]["kind"] != "input":
        raise ValueError("The parameter `text` must start with the input row (kind 'input').")
    first = records[0]
    rows = [{**r, "type": r["kind"]} for r in records[1:]]
    layers, errors = layers_from_rows(rows)
    if errors:
        raise ValueError("The parameter `text` has invalid layers: " + " ".join(errors))
    return Network((first["out_h"], first["out_w"], first["out_c"]), tuple(layers))
