"""Whole networks: shapes, neurons, parameters, multiply-adds and receptive fields, layer by layer.

A :class:`Network` is an input ``(H, W, C)`` and a chain of :class:`Layer` s (conv, max/avg pool,
flatten, fully connected, softmax). :func:`analyze` walks the chain with the one-layer arithmetic
of :mod:`conv.shapes` and returns an :class:`Analysis`: one :class:`Row` per layer, with the worked
formulas, and the totals. Nothing here raises for a layer that cannot exist: the row says why
(``Row.error``), the layer is bypassed (its input goes on to the next layer) and counts nothing.

Conventions (they reproduce the tables in the lecture notes)
------------------------------------------------------------
- Neurons are the activations a layer produces, ``H*W*C`` of its output. The input is not counted
  in the total (the MNIST table: 8,910 neurons for a 28x28x1 input). ``flatten`` and a softmax
  that only normalizes an FC layer's outputs produce the same values again: their rows show them,
  the total does not count them twice.
- Parameters: conv ``((fh*fw*c_in) + 1) * filters``, FC ``(inputs + 1) * units`` (no ``+ 1``
  without bias), pooling and flatten 0.
- ``softmax`` with ``units`` is, as in the notes' LeNet-5 and MNIST tables, a fully connected
  layer followed by the softmax function: ``(inputs + 1) * units`` parameters (LeNet-5: 850).
  When it directly follows an FC layer with the same number of units, or has no ``units``, it is
  the softmax function alone: 0 parameters.
- Multiply-adds: conv ``h_out*w_out*filters * (fh*fw*c_in)``, FC ``inputs * units``; pooling
  compares or sums and counts 0.
- An FC (or softmax) layer after a spatial output flattens it implicitly (flagged); a conv or pool
  layer after a flat output is impossible.
- Receptive field ``r`` and jump ``j`` per axis, in input pixels; FC and later layers see the whole
  input (``None``).

Public API
----------
Layer, conv(), maxpool(), avgpool(), flatten(), fc(), softmax(), Network, Shape, Row, Analysis,
analyze(network) -> Analysis, Analysis.to_records() / to_csv() / to_markdown(),
records_from_csv(text), network_from_csv(text), layer_to_row(layer), layers_from_rows(rows),
Preset, PRESETS, DEFAULT_PRESET, Comparison, dense_vs_conv(), separable_cost(), bottleneck_cost().
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real

from conv.geometry import Worked, check_int, effective_size, output_size
from conv.shapes import conv_macs, conv_params, fc_macs, fc_params, receptive_field

KINDS = ("conv", "maxpool", "avgpool", "flatten", "fc", "softmax")
SPATIAL = ("conv", "maxpool", "avgpool")
POOLS = ("maxpool", "avgpool")
_DEFAULT_NAMES = {
    "conv": "CONV",
    "maxpool": "POOL",
    "avgpool": "POOL",
    "flatten": "FLAT",
    "fc": "FC",
    "softmax": "Softmax",
}


# --------------------------------------------------------------------------------------------
# Layers and networks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """One layer of a chain. Build it with :func:`conv`, :func:`maxpool`, :func:`fc`, ...

    Attributes
    ----------
    kind : {"conv", "maxpool", "avgpool", "flatten", "fc", "softmax"}
    f : int
        Kernel (window) height; 0 for flatten/fc/softmax.
    fw : int
        Kernel width (``f`` for a square kernel).
    p : int
        Zero padding on every side.
    s : int
        Stride.
    d : int
        Dilation (conv and max pooling).
    units : int or None
        Filters of a conv, units of an FC or softmax layer; ``None`` for pooling and flatten, and
        for a softmax that is only the activation.
    bias : bool
        Conv and FC: one bias per filter/unit.
    name : str
        Shown in the table; ``""`` gives ``CONV1``, ``POOL1``, ``FC1`` ... by kind.
    """

    kind: str
    f: int = 0
    fw: int = 0
    p: int = 0
    s: int = 1
    d: int = 1
    units: int | None = None
    bias: bool = True
    name: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"The parameter `kind` must be one of {KINDS}, got {self.kind!r}.")
        if self.kind in SPATIAL:
            check_int("f", self.f, minimum=1)
            check_int("fw", self.fw, minimum=1)
            check_int("p", self.p, minimum=0)
            check_int("s", self.s, minimum=1)
            check_int("d", self.d, minimum=1)
            if self.kind == "avgpool" and self.d != 1:
                raise ValueError(
                    f"The parameter `d` must be 1 for average pooling (no dilation), got {self.d}."
                )
        if self.kind in ("conv", "fc"):
            check_int("units", self.units, minimum=1)
        if self.kind == "softmax" and self.units is not None:
            check_int("units", self.units, minimum=1)
        if not isinstance(self.bias, bool):
            raise ValueError(f"The parameter `bias` must be True or False, got {self.bias!r}.")
        if not isinstance(self.name, str):
            raise ValueError(f"The parameter `name` must be a string, got {self.name!r}.")

    @property
    def kernel_text(self) -> str:
        """``"5"`` or ``"5x3"``; ``""`` for layers without a window."""
        if self.kind not in SPATIAL:
            return ""
        return str(self.f) if self.f == self.fw else f"{self.f}x{self.fw}"


def _kernel(f) -> tuple[int, int]:
    if isinstance(f, tuple | list):
        if len(f) != 2:
            raise ValueError(f"The parameter `f` must be an int or an (fh, fw) pair, got {f!r}.")
        return check_int("f", f[0], minimum=1), check_int("f", f[1], minimum=1)
    f = check_int("f", f, minimum=1)
    return f, f


def conv(f, filters, *, p=0, s=1, d=1, bias=True, name="") -> Layer:
    """A convolution: ``filters`` kernels of ``f x f`` (or ``(fh, fw)``) over all input channels."""
    fh, fw = _kernel(f)
    return Layer("conv", fh, fw, p, s, d, filters, bias, name)


def maxpool(f, s=None, *, p=0, d=1, name="") -> Layer:
    """Max pooling over ``f x f`` windows; the stride defaults to the window size (PyTorch)."""
    fh, fw = _kernel(f)
    return Layer("maxpool", fh, fw, p, fh if s is None else s, d, None, True, name)


def avgpool(f, s=None, *, p=0, name="") -> Layer:
    """Average pooling over ``f x f`` windows; the stride defaults to the window size."""
    fh, fw = _kernel(f)
    return Layer("avgpool", fh, fw, p, fh if s is None else s, 1, None, True, name)


def flatten(*, name="") -> Layer:
    """Reshape ``H x W x C`` into ``H*W*C`` values."""
    return Layer("flatten", name=name)


def fc(units, *, bias=True, name="") -> Layer:
    """A fully connected layer of ``units`` neurons (flattens a spatial input implicitly)."""
    return Layer("fc", units=units, bias=bias, name=name)


def softmax(units=None, *, bias=True, name="") -> Layer:
    """A softmax output: FC + softmax with ``units``, or the function alone with ``units=None``."""
    return Layer("softmax", units=units, bias=bias, name=name)


@dataclass(frozen=True)
class Network:
    """An input of ``(H, W, C)`` and a chain of layers."""

    input: tuple[int, int, int]
    layers: tuple[Layer, ...] = ()

    def __post_init__(self):
        if not isinstance(self.input, tuple | list) or len(self.input) != 3:
            raise ValueError(
                f"The parameter `input` must be an (H, W, C) triple, got {self.input!r}."
            )
        h, w, c = self.input
        object.__setattr__(
            self,
            "input",
            (
                check_int("input height", h, minimum=1),
                check_int("input width", w, minimum=1),
                check_int("input channels", c, minimum=1),
            ),
        )
        layers = tuple(self.layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(
                    f"The parameter `layers` must hold Layer objects; item {i} is {layer!r}."
                )
        object.__setattr__(self, "layers", layers)


@dataclass(frozen=True)
class Shape:
    """An activation volume ``H x W x C``, or ``C`` values when ``flat``."""

    h: int
    w: int
    c: int
    flat: bool = False

    @property
    def size(self) -> int:
        return self.h * self.w * self.c

    def __str__(self) -> str:
        return str(self.c) if self.flat else f"{self.h}x{self.w}x{self.c}"


# --------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------

_NONE = Worked(0, "")


@dataclass(frozen=True)
class Row:
    """One line of the table: what a layer does to its input.

    Attributes
    ----------
    index : int
        0 for the input, then 1, 2, ... for the layers.
    name : str
    layer : Layer or None
        ``None`` for the input row.
    input, output : Shape or None
        ``output`` equals ``input`` for a bypassed (impossible) layer.
    size_h, size_w : Worked or None
        Output height and width with their formulas (conv and pooling).
    size_formula : str
        The formula(s) with numbers: one if height and width agree, else ``"H: ...; W: ..."``.
    neurons : int
        Activations produced, ``H*W*C`` of the output.
    counted : bool
        Whether ``neurons`` is added to the total (not for the input, flatten, a bare softmax).
    params, macs : Worked
    rf : (int, int) or None
        Receptive field (height, width) in input pixels; ``None`` when the layer sees everything.
    jump : int or None
    rf_formula : str
    flags : tuple of str
        Notices: inexact divisions (which rows/columns the floor drops), implicit flatten, ...
    error : str
        ``""``, or why this layer cannot exist.
    """

    index: int
    name: str
    layer: Layer | None
    input: Shape | None
    output: Shape
    size_h: Worked | None
    size_w: Worked | None
    size_formula: str
    neurons: int
    counted: bool
    params: Worked
    macs: Worked
    rf: tuple[int, int] | None
    jump: int | None
    rf_formula: str
    flags: tuple[str, ...] = ()
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def rf_text(self) -> str:
        if self.rf is None:
            return "whole input"
        rh, rw = self.rf
        return str(rh) if rh == rw else f"{rh}x{rw}"


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


@dataclass(frozen=True)
class Analysis:
    """The table of a network: ``rows[0]`` is the input, then one row per layer.

    Attributes
    ----------
    network : Network
    rows : tuple of Row
    params, neurons, macs : int
        Totals over the layers that can exist (neurons as in :class:`Row` ``.counted``).
    """

    network: Network
    rows: tuple[Row, ...]
    params: int
    neurons: int
    macs: int

    @property
    def impossible(self) -> tuple[Row, ...]:
        """Rows of layers that cannot exist."""
        return tuple(r for r in self.rows if r.error)

    @property
    def flagged(self) -> tuple[Row, ...]:
        """Rows with notices (inexact divisions, implicit flattening, ...)."""
        return tuple(r for r in self.rows if r.flags)

    @property
    def output(self) -> Shape:
        return self.rows[-1].output

    def to_records(self, *, totals: bool = True) -> list[dict]:
        """The table as dicts keyed by :data:`RECORD_COLUMNS` (ints, bools, strings, ``None``)."""
        records = [_record(row) for row in self.rows]
        if totals:
            total = {
                k: None if k in _INT_COLUMNS or k in _BOOL_COLUMNS else "" for k in RECORD_COLUMNS
            }
            total.update(
                name=TOTAL_NAME,
                neurons=self.neurons,
                params=self.params,
                macs=self.macs,
                flags=" | ".join(f"{r.name}: {r.error}" for r in self.impossible),
            )
            records.append(total)
        return records

    def to_csv(self) -> str:
        """CSV with a header row; :func:`records_from_csv` reads it back to ``to_records()``."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=RECORD_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for rec in self.to_records():
            writer.writerow({k: _csv_cell(v) for k, v in rec.items()})
        return out.getvalue()

    def to_markdown(self) -> str:
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
        h, w, c = self.network.input
        lines = [
            f"Input {h}x{w}x{c}: {len(self.network.layers)} layers.",
            "",
            "| " + " | ".join(header) + " |",
            "|---:|:---|---:|:---|---:|---:|---:|---:|---:|:---|",
        ]
        for row in self.rows:
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
            f"| | **{TOTAL_NAME}** | | | **{self.neurons:,}** | **{self.params:,}** | "
            f"**{self.macs:,}** | | | |"
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
    """Parse :meth:`Analysis.to_csv` back into the records of :meth:`Analysis.to_records`.

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
    """Rebuild the :class:`Network` whose :meth:`Analysis.to_csv` is ``text``."""
    records = [r for r in records_from_csv(text) if r["name"] != TOTAL_NAME or r["kind"]]
    if not records or records[0]["kind"] != "input":
        raise ValueError("The parameter `text` must start with the input row (kind 'input').")
    first = records[0]
    rows = [{**r, "type": r["kind"]} for r in records[1:]]
    layers, errors = layers_from_rows(rows)
    if errors:
        raise ValueError("The parameter `text` has invalid layers: " + " ".join(errors))
    return Network((first["out_h"], first["out_w"], first["out_c"]), tuple(layers))


def analyze(network: Network) -> Analysis:
    """Walk the chain and compute every row and the totals. Never raises for impossible layers.

    Examples
    --------
    >>> a = analyze(PRESETS["lenet5"].network)
    >>> [r.params.value for r in a.rows[1:]]
    [456, 0, 2416, 0, 48120, 10164, 850]
    """
    h, w, c = network.input
    cur = Shape(h, w, c)
    rows = [
        Row(
            index=0,
            name="Input",
            layer=None,
            input=None,
            output=cur,
            size_h=None,
            size_w=None,
            size_formula="",
            neurons=cur.size,
            counted=False,
            params=_NONE,
            macs=_NONE,
            rf=(1, 1),
            jump=1,
            rf_formula="r = 1, j = 1",
        )
    ]
    chain_h: list[tuple[int, int, int]] = []
    chain_w: list[tuple[int, int, int]] = []
    rf: tuple[int, int] | None = (1, 1)
    jump: int | None = 1
    prev_ok: Layer | None = None
    counters: dict[str, int] = {}
    params = neurons = macs = 0

    for index, layer in enumerate(network.layers, start=1):
        prefix = _DEFAULT_NAMES[layer.kind]
        counters[prefix] = counters.get(prefix, 0) + 1
        name = layer.name or (prefix if layer.kind == "softmax" else f"{prefix}{counters[prefix]}")
        row = _layer_row(index, name, layer, cur, prev_ok, chain_h, chain_w, rf, jump)
        rows.append(row)
        if row.error:
            continue
        cur = row.output
        rf, jump = row.rf, row.jump
        prev_ok = layer
        params += row.params.value
        macs += row.macs.value
        if row.counted:
            neurons += row.neurons
    return Analysis(network, tuple(rows), params, neurons, macs)


def _impossible(index, name, layer, cur, reason, size_h=None, size_w=None, formula="") -> Row:
    return Row(
        index=index,
        name=name,
        layer=layer,
        input=cur,
        output=cur,
        size_h=size_h,
        size_w=size_w,
        size_formula=formula,
        neurons=0,
        counted=False,
        params=_NONE,
        macs=_NONE,
        rf=None,
        jump=None,
        rf_formula="",
        flags=(),
        error=reason,
    )


def _layer_row(index, name, layer, cur, prev_ok, chain_h, chain_w, rf, jump) -> Row:
    if layer.kind in SPATIAL:
        return _spatial_row(index, name, layer, cur, chain_h, chain_w)
    if layer.kind == "flatten":
        flags = ("already flat: nothing to do",) if cur.flat else ()
        out = Shape(1, 1, cur.size, flat=True)
        formula = "" if cur.flat else f"{cur.h}*{cur.w}*{cur.c} = {cur.size:,}"
        return Row(
            index=index,
            name=name,
            layer=layer,
            input=cur,
            output=out,
            size_h=None,
            size_w=None,
            size_formula=formula,
            neurons=out.size,
            counted=False,
            params=Worked(0, "no parameters"),
            macs=Worked(0, "no multiply-adds"),
            rf=rf,
            jump=jump,
            rf_formula="unchanged (a reshape)" if rf else "",
            flags=flags + ("the same values reshaped: not counted again in the total",),
        )

    # fc and softmax: flat outputs
    flags: list[str] = []
    n_in = cur.size
    if not cur.flat:
        flags.append(f"flattens {cur.h}x{cur.w}x{cur.c} = {n_in:,} inputs implicitly")
    follows_fc = prev_ok is not None and prev_ok.kind == "fc" and prev_ok.units == layer.units
    if layer.kind == "softmax" and (layer.units is None or (follows_fc and cur.flat)):
        out = Shape(1, 1, n_in, flat=True)
        what = (
            f"the outputs of the previous FC layer ({n_in:,})" if follows_fc else f"{n_in:,} values"
        )
        flags.append(
            f"softmax function only, over {what}: no parameters; the same values are not counted "
            "again in the neuron total"
        )
        return Row(
            index=index,
            name=name,
            layer=layer,
            input=cur,
            output=out,
            size_h=None,
            size_w=None,
            size_formula=f"{n_in:,}",
            neurons=n_in,
            counted=False,
            params=Worked(0, "no parameters"),
            macs=Worked(0, "no multiply-adds"),
            rf=None,
            jump=None,
            rf_formula="whole input",
            flags=tuple(flags),
        )
    units = layer.units
    if layer.kind == "softmax":
        flags.append("a fully connected layer followed by the softmax function")
    out = Shape(1, 1, units, flat=True)
    return Row(
        index=index,
        name=name,
        layer=layer,
        input=cur,
        output=out,
        size_h=None,
        size_w=None,
        size_formula=f"{units:,} units",
        neurons=units,
        counted=True,
        params=fc_params(n_in, units, bias=layer.bias),
        macs=fc_macs(n_in, units),
        rf=None,
        jump=None,
        rf_formula="whole input (every unit sees every input)",
        flags=tuple(flags),
    )


def _spatial_row(index, name, layer, cur, chain_h, chain_w) -> Row:
    what = "a convolution" if layer.kind == "conv" else "pooling"
    if cur.flat:
        return _impossible(
            index,
            name,
            layer,
            cur,
            f"{what} needs an H x W x C input, but its input is flat ({cur.c:,} values after "
            "flatten or a fully connected layer)",
        )
    square = cur.h == cur.w and layer.f == layer.fw
    sh = output_size(
        cur.h,
        layer.f,
        padding=layer.p,
        stride=layer.s,
        dilation=layer.d,
        axis="row and column" if square else "row",
    )
    sw = output_size(
        cur.w,
        layer.fw,
        padding=layer.p,
        stride=layer.s,
        dilation=layer.d,
        axis="row and column" if square else "column",
    )
    formula = sh.formula if square else f"H: {sh.formula}; W: {sw.formula}"
    if not (sh.ok and sw.ok):
        reasons = (
            [sh.error]
            if square
            else [f"{axis}: {s.error}" for axis, s in (("height", sh), ("width", sw)) if s.error]
        )
        return _impossible(index, name, layer, cur, "; ".join(reasons), sh, sw, formula)

    flags = []
    if square:
        if not sh.exact:
            flags.append(sh.note)
    else:
        flags.extend(f"height: {s.note}" for s in (sh,) if not s.exact)
        flags.extend(f"width: {s.note}" for s in (sw,) if not s.exact)
    if layer.kind == "conv":
        c_out = layer.units
        params = conv_params(layer.f, layer.fw, cur.c, c_out, bias=layer.bias)
        macs = conv_macs(sh.value, sw.value, layer.f, layer.fw, cur.c, c_out)
    else:
        c_out = cur.c
        params = Worked(0, "no parameters")
        macs = Worked(0, "no multiply-adds (compares or sums)")
        # PyTorch refuses pool padding larger than half the window (a window of padding only).
        half = effective_size(min(layer.f, layer.fw), layer.d) // 2
        if layer.p > half:
            flags.append(
                f"padding {layer.p} is more than half the window ({half}): PyTorch refuses this"
            )
    chain_h.append((layer.f, layer.s, layer.d))
    chain_w.append((layer.fw, layer.s, layer.d))
    fh = receptive_field(chain_h)[-1]
    fw = receptive_field(chain_w)[-1]
    rf_formula = fh.formula if fh == fw else f"H: {fh.formula}; W: {fw.formula}"
    out = Shape(sh.value, sw.value, c_out)
    return Row(
        index=index,
        name=name,
        layer=layer,
        input=cur,
        output=out,
        size_h=sh,
        size_w=sw,
        size_formula=formula,
        neurons=out.size,
        counted=True,
        params=params,
        macs=macs,
        rf=(fh.r, fw.r),
        jump=fh.j,
        rf_formula=rf_formula,
        flags=tuple(flags),
    )


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
# Cost comparisons
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Two ways to do the same job and what each costs.

    ``a`` is the expensive way, ``b`` the cheap one; each is a list of labelled parts and a total.
    ``ratio = b / a`` exactly, with ``ratio_formula`` in numbers.
    """

    title: str
    unit: str
    a_label: str
    a_parts: tuple[tuple[str, Worked], ...]
    a_total: Worked
    b_label: str
    b_parts: tuple[tuple[str, Worked], ...]
    b_total: Worked
    ratio: Fraction
    ratio_formula: str
    notes: tuple[str, ...] = ()


def _sum(parts: tuple[tuple[str, Worked], ...]) -> Worked:
    value = sum(w.value for _, w in parts)
    if len(parts) == 1:
        return Worked(value, f"{value:,}")
    return Worked(value, " + ".join(f"{w.value:,}" for _, w in parts) + f" = {value:,}")


def _ratio(b: int, a: int) -> tuple[Fraction, str]:
    """``b / a`` exactly, and in words a class reads: ``0.311``, or ``1/112,384`` when tiny."""
    r = Fraction(b, a)
    if r >= Fraction(1, 1000):
        shown = f"= {float(r):.3g}"
    elif r.numerator == 1:
        shown = f"= 1/{r.denominator:,}"
    else:
        shown = f"≈ 1/{round(1 / r):,}"
    return r, f"{b:,} / {a:,} {shown}"


def dense_vs_conv(h, w, c_in, c_out, *, f=3, p=None) -> Comparison:
    """Parameters to map ``h x w x c_in`` to ``h x w x c_out``: fully connected vs an f x f conv.

    ``p`` defaults to ``(f - 1) // 2`` (same size for odd ``f``). The FC weights and biases are
    listed separately (the notes compare the weights alone: 314,572,800 for 3x32x32 -> 100x32x32).
    """
    h = check_int("h", h, minimum=1)
    w = check_int("w", w, minimum=1)
    c_in = check_int("c_in", c_in, minimum=1)
    c_out = check_int("c_out", c_out, minimum=1)
    f = check_int("f", f, minimum=1)
    p = (f - 1) // 2 if p is None else check_int("p", p)
    n_in, n_out = h * w * c_in, h * w * c_out
    oh, ow = output_size(h, f, padding=p), output_size(w, f, padding=p)
    weights = Worked(n_in * n_out, f"{n_in} * {n_out} = {n_in * n_out:,}")
    biases = Worked(n_out, f"{h}*{w}*{c_out} = {n_out:,}")
    conv_p = conv_params(f, f, c_in, c_out)
    a_parts = (("weights", weights), ("biases", biases))
    b_parts = ((f"{f}x{f} conv, padding {p}: weights + biases", conv_p),)
    notes = []
    if (oh.value, ow.value) != (h, w):
        notes.append(
            f"with f={f} and p={p} the convolution gives {oh.value}x{ow.value}, not {h}x{w}"
        )
    ratio, ratio_formula = _ratio(conv_p.value, n_in * n_out + n_out)
    return Comparison(
        title=f"{h}x{w}x{c_in} -> {h}x{w}x{c_out}: fully connected vs convolution",
        unit="parameters",
        a_label="fully connected",
        a_parts=a_parts,
        a_total=_sum(a_parts),
        b_label=f"{f}x{f} convolution",
        b_parts=b_parts,
        b_total=_sum(b_parts),
        ratio=ratio,
        ratio_formula=ratio_formula,
        notes=tuple(notes),
    )


def separable_cost(h_out, w_out, f, c_in, c_out) -> Comparison:
    """Multiplications of a standard ``f x f`` conv vs depthwise ``f x f`` + pointwise ``1 x 1``.

    The ratio is ``1/c_out + 1/f^2`` exactly (MobileNet, Howard et al. 2017, eq. 5).

    Examples
    --------
    >>> c = separable_cost(4, 4, 3, 3, 5)
    >>> c.a_total.value, c.b_total.value
    (2160, 672)
    """
    standard = conv_macs(h_out, w_out, f, f, c_in, c_out)
    depthwise = conv_macs(h_out, w_out, f, f, c_in, c_in, groups=c_in)
    pointwise = conv_macs(h_out, w_out, 1, 1, c_in, c_out)
    a_parts = ((f"standard {f}x{f}x{c_in} x {c_out}", standard),)
    b_parts = (
        (f"depthwise {f}x{f} x {c_in}", depthwise),
        (f"pointwise 1x1x{c_in} x {c_out}", pointwise),
    )
    b_total = _sum(b_parts)
    ratio, ratio_formula = _ratio(b_total.value, standard.value)
    ratio_formula += f" = {ratio} = 1/{c_out} + 1/{f}^2"
    return Comparison(
        title=f"{h_out}x{w_out}x{c_out} output: standard vs depthwise-separable convolution",
        unit="multiplications",
        a_label="standard",
        a_parts=a_parts,
        a_total=_sum(a_parts),
        b_label="depthwise-separable",
        b_parts=b_parts,
        b_total=b_total,
        ratio=ratio,
        ratio_formula=ratio_formula,
    )


def bottleneck_cost(h, w, c_in, c_mid, c_out, f) -> Comparison:
    """Multiplications of an ``f x f`` conv ``c_in -> c_out`` vs a 1x1 squeeze to ``c_mid`` first.

    Both keep the ``h x w`` size ("same" padding). Inception's example: 28x28x192 -> 28x28x32 with
    5x5 costs 120,422,400; through 16 channels 2,408,448 + 10,035,200 = 12,443,648.
    """
    direct = conv_macs(h, w, f, f, c_in, c_out)
    reduce = conv_macs(h, w, 1, 1, c_in, c_mid)
    expand = conv_macs(h, w, f, f, c_mid, c_out)
    a_parts = ((f"{f}x{f} conv {c_in} -> {c_out}", direct),)
    b_parts = (
        (f"1x1 conv {c_in} -> {c_mid}", reduce),
        (f"{f}x{f} conv {c_mid} -> {c_out}", expand),
    )
    b_total = _sum(b_parts)
    ratio, ratio_formula = _ratio(b_total.value, direct.value)
    return Comparison(
        title=f"{h}x{w}x{c_in} -> {h}x{w}x{c_out}: direct {f}x{f} vs 1x1 bottleneck to {c_mid}",
        unit="multiplications",
        a_label="direct",
        a_parts=a_parts,
        a_total=_sum(a_parts),
        b_label="bottleneck",
        b_parts=b_parts,
        b_total=b_total,
        ratio=ratio,
        ratio_formula=ratio_formula,
    )


# --------------------------------------------------------------------------------------------
# Presets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    """A named network from the lecture notes, with what the notes got wrong.

    Attributes
    ----------
    key : str
        Used in the URL (``?preset=lenet5``).
    title : str
    network : Network
    description : str
        Where it comes from and the choices made in reconstructing it.
    seed_notes : tuple of str
        The notes' printed numbers that are wrong, with the right ones.
    kind : {"network", "example"}
        A whole network or one of the notes' exercises.
    dense_example : (h, w, c_in, c_out, f) or None
        Arguments of :func:`dense_vs_conv` for an exercise that compares with a dense layer.
    """

    key: str
    title: str
    network: Network
    description: str
    seed_notes: tuple[str, ...] = ()
    kind: str = "network"
    dense_example: tuple[int, int, int, int, int] | None = None


def _vgg16() -> tuple[Layer, ...]:
    layers: list[Layer] = []
    for block, (filters, repeat) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 1):
        for i in range(1, repeat + 1):
            layers.append(conv(3, filters, p=1, name=f"CONV{block}_{i}"))
        layers.append(maxpool(2, 2, name=f"POOL{block}"))
    layers += [fc(4096, name="FC6"), fc(4096, name="FC7"), softmax(1000, name="FC8+Softmax")]
    return tuple(layers)


_PRESET_LIST = (
    Preset(
        "lenet5",
        "LeNet-5",
        Network(
            (32, 32, 3),
            (
                conv(5, 6, name="CONV1"),
                avgpool(2, 2, name="POOL1"),
                conv(5, 16, name="CONV2"),
                avgpool(2, 2, name="POOL2"),
                fc(120, name="FC3"),
                fc(84, name="FC4"),
                softmax(10, name="Softmax"),
            ),
        ),
        "LeNet-5 as in the notes' analysis table (Andrew Ng's version, 32x32x3 input): "
        "CONV f=5 s=1 x6, POOL 2/2, CONV f=5 s=1 x16, POOL 2/2, FC 120, FC 84, softmax 10 "
        "(a 10-unit layer with its own weights, 850 parameters, as the table counts it).",
        (
            (
                "The note prints CONV1's shape as (8, 20, 6) with 4707 activations: it is "
                "(32 + 2*0 - 5) / 1 + 1 = 28, so 28x28x6 = 4,704."
            ),
            "The note prints 48210 parameters for FC3: it is (400 + 1) * 120 = 48,120.",
            "The note prints the softmax's activation size as 16: it has 10 units.",
        ),
    ),
    Preset(
        "mnist",
        "MNIST CNN (notes' table)",
        Network(
            (28, 28, 1),
            (
                conv(5, 10, name="Conv1"),
                maxpool(2, name="Pool1"),
                conv(5, 20, name="Conv2"),
                maxpool(2, name="Pool2"),
                fc(100, name="FC1"),
                softmax(10, name="Softmax"),
            ),
        ),
        "The notes' MNIST summary table: 28x28x1, conv 5x5 x10, pool 2, conv 5x5 x20, pool 2, "
        "FC 100, softmax 10 (with weights): 8,910 neurons and 38,390 parameters.",
    ),
    Preset(
        "harley",
        "Harley's network (notes' table, corrected)",
        Network(
            (32, 32, 1),
            (
                conv(5, 6, name="Conv1"),
                maxpool(2, name="MaxPool1"),
                conv(5, 16, name="Conv2"),
                maxpool(2, name="MaxPool2"),
                fc(120, name="FC1"),
                fc(100, name="FC2"),
                softmax(10, name="Softmax"),
            ),
        ),
        "The network of A. Harley's interactive node-link visualization as tabulated in the notes: "
        "32x32x1, conv 5x5 x6, max pool 2, conv 5x5 x16, max pool 2, FC 120, FC 100, softmax 10.",
        (
            (
                "The note gives the second MaxPool 128 channels and 3200 neurons: pooling keeps the "
                "16 channels, so 5x5x16 = 400."
            ),
            "Hence FC1 has (400 + 1) * 120 = 48,120 parameters, not 384,120 (= (3200 + 1) * 120).",
            "The note's totals 10,910 neurons and 399,802 parameters become 8,110 and 63,802.",
        ),
    ),
    Preset(
        "alexnet",
        "AlexNet",
        Network(
            (227, 227, 3),
            (
                conv(11, 96, s=4, name="CONV1"),
                maxpool(3, 2, name="POOL1"),
                conv(5, 256, p=2, name="CONV2"),
                maxpool(3, 2, name="POOL2"),
                conv(3, 384, p=1, name="CONV3"),
                conv(3, 384, p=1, name="CONV4"),
                conv(3, 256, p=1, name="CONV5"),
                maxpool(3, 2, name="POOL5"),
                fc(4096, name="FC6"),
                fc(4096, name="FC7"),
                softmax(1000, name="FC8+Softmax"),
            ),
        ),
        "AlexNet as usually taught (one tower, 227x227x3 input so that (227 - 11)/4 + 1 = 55 is "
        'exact): 62,378,344 parameters, "about 60 million" in the notes. The paper\'s two GPU '
        "towers and its grouped conv2/conv4/conv5 are not modelled (grouping would give "
        "60,965,224).",
    ),
    Preset(
        "alexnet_half",
        "AlexNet, one GPU's half (coursework)",
        Network(
            (227, 227, 3),
            (
                conv(11, 48, s=4, name="Conv1"),
                maxpool(3, 2, name="MaxPool1"),
                conv(5, 128, p=2, name="Conv2"),
                maxpool(3, 2, name="MaxPool2"),
                conv(3, 192, p=1, name="Conv3"),
                conv(3, 192, p=1, name="Conv4"),
                conv(3, 128, p=1, name="Conv5"),
                maxpool(3, 2, name="MaxPool3"),
                fc(2048, name="FC1"),
                fc(2048, name="FC2"),
                softmax(1000, name="Softmax"),
            ),
        ),
        "The notes' coursework table filled in: one GPU's half of AlexNet (Krizhevsky et al. "
        "2012, fig. 2) as a chain of its own. The OCR shifted the f/p/s columns; they are "
        "reconstructed from the paper: conv1 11x11 stride 4 (48 filters), overlapping max pools "
        "3/2, conv2 5x5 p2 (128), conv3 and conv4 3x3 p1 (192), conv5 3x3 p1 (128). The FC "
        "layers have 2048 units, half of the paper's 4096 and the figure's '2048' on the "
        "coursework slide; the table's printed '1600' does not match either and is not used. "
        "Simplification: in the paper conv3 and the FC layers also read the other GPU's maps.",
        (
            (
                "The coursework table's f/p/s cells are shifted by the OCR (e.g. conv2 '6 2 1', "
                "last pool '4 0 3'); the layers here follow the AlexNet paper."
            ),
            "The table prints 1600 units for FC1 and FC2; one GPU's half of AlexNet has 2048.",
        ),
    ),
    Preset(
        "vgg16",
        "VGG-16",
        Network((224, 224, 3), _vgg16()),
        "VGG-16 (configuration D, Simonyan & Zisserman 2014): 13 conv 3x3 p1 layers in five "
        "blocks, each ended by a 2x2 max pool, then FC 4096, FC 4096, FC 1000 + softmax: "
        "138,357,544 parameters (the notes' '138 MM'), most of them in FC6.",
    ),
    Preset(
        "ng_simple",
        "Simple CNN (39x39x3 -> 1960)",
        Network(
            (39, 39, 3),
            (
                conv(3, 10),
                conv(5, 20, s=2),
                conv(5, 40, s=2),
                flatten(),
                softmax(1),
            ),
        ),
        "The notes' 'CNN for image classification' example: 39x39x3, conv f=3 s=1 x10 -> "
        "37x37x10, conv f=5 s=2 x20 -> 17x17x20, conv f=5 s=2 x40 -> 7x7x40, flattened to "
        "1,960 values feeding one logistic/softmax unit.",
        kind="example",
    ),
    Preset(
        "ex_280",
        "Exercise: 10 filters 3x3x3",
        Network((39, 39, 3), (conv(3, 10),)),
        "How many parameters does a layer with 10 filters of 3x3x3 have? "
        "((3*3*3) + 1) * 10 = 280, whatever the image size (here the 39x39x3 example).",
        kind="example",
    ),
    Preset(
        "ex_4900",
        "Exercise: 100 filters 4x4x3",
        Network((32, 32, 3), (conv(4, 100),)),
        "100 filters of 4x4x3, each with a bias: 100 * (4*4*3 + 1) = 4,900 parameters, "
        "independent of the input size (here 32x32x3).",
        kind="example",
    ),
    Preset(
        "ex_fc_vs_conv",
        "Exercise: 3x32x32 -> 100x32x32",
        Network((32, 32, 3), (conv(3, 100, p=1),)),
        "From (3, 32, 32) to (100, 32, 32): a 3x3 convolution with padding 1 and stride 1 needs "
        "((3*3*3) + 1) * 100 = 2,800 parameters; a fully connected layer needs "
        "3072 * 102400 = 314,572,800 weights plus 102,400 biases (see the comparison below).",
        ("The note computes ((3 x 3 x 3) + 1) x 100 = 1000: it is 28 x 100 = 2,800.",),
        kind="example",
        dense_example=(32, 32, 3, 100, 3),
    ),
    Preset(
        "ex_48x48",
        "Exercise: 50x50x10, 25 filters 3x3x10",
        Network((50, 50, 10), (conv(3, 25),)),
        "An input of 50x50 with 10 channels, 25 filters of 3x3x10, stride 1, no padding: "
        "(50 + 2*0 - 3) / 1 + 1 = 48, so 48x48x25.",
        kind="example",
    ),
    Preset(
        "ex_5x5_s2",
        "Exercise: n=5, p=1, f=3, s=2",
        Network((5, 5, 1), (conv(3, 1, p=1, s=2),)),
        "The notes' stride example: (5 + 2*1 - 3) / 2 + 1 = 3, a 3x3 output.",
        kind="example",
    ),
)

PRESETS: dict[str, Preset] = {p.key: p for p in _PRESET_LIST}
DEFAULT_PRESET = "lenet5"

# The notes' cost examples, shown by the page's comparison section.
SEPARABLE_EXAMPLE = dict(h_out=4, w_out=4, f=3, c_in=3, c_out=5)
SEPARABLE_SEED_NOTES = (
    (
        "The note prints the depthwise cost as '43^2' and the pointwise cost as '290': they are "
        "4*4*3 * 3*3 = 432 and 4*4*5 * 3 = 240 (432 + 240 = 672, as the note's total says)."
    ),
    (
        "The note gives the ratio as 1/n_c + 1/f^3: it is 1/n_c + 1/f^2 = 1/5 + 1/9 = 14/45 "
        "(672 / 2,160)."
    ),
)
BOTTLENECK_EXAMPLE = dict(h=28, w=28, c_in=192, c_mid=16, c_out=32, f=5)
