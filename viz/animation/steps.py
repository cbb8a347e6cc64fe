"""The steps of a sliding window, one per output cell, straight from the engine, and the text
that explains them: each step's equation, the numbers as the equations print them, and the
formulas (output size, receptive field) with the actual numbers.

Every window position comes from :class:`conv.ops.Windows`, the object whose slices the engine
itself reads, and every number shown is the engine's (``conv.stages.run``): the highlighted window
always matches the value computed for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from conv import ops
from conv.geometry import Geometry
from conv.options import ACTIVATIONS
from conv.shapes import receptive_field
from conv.stages import ConvSpec, PoolSpec, Stages

# --------------------------------------------------------------------------------------------
# Numbers as text
# --------------------------------------------------------------------------------------------

TIMES = "\u00d7"  # the multiplication sign in equations
MINUS_INF = "\u2212\u221e"


def fmt(v: float, decimals: int = 4) -> str:
    """A number as the equations print it: integers plain, others rounded to ``decimals`` places
    with trailing zeros dropped (177.75, 0.0625, 1/9 -> 0.1111); -0 prints as 0, -inf as -∞."""
    v = float(v)
    if math.isinf(v):
        return MINUS_INF if v < 0 else "\u221e"
    if math.isnan(v):
        return "NaN"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    text = f"{v:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def paren(text: str) -> str:
    """``text`` in parentheses when it is negative, so that a product reads ``3 × (-1)``."""
    return f"({text})" if text.startswith(("-", "\u2212")) else text


def fit_number(v: float, chars: int) -> str:
    """``v`` for a grid cell: at most 2 decimals and ``chars`` characters, dropping decimals
    first (216.4375 -> 216.44 -> 216.4 -> 216); the equations show the exact value."""
    for decimals in (2, 1, 0):
        text = fmt(v, decimals)
        if len(text) <= chars:
            return text
    return f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-")


# --------------------------------------------------------------------------------------------
# Steps: one per output cell
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConvStep:
    """The computation of one output cell.

    ``rows``/``cols`` are the padded-input rows and columns read (``Windows.rows(i)``,
    ``Windows.cols(j)``); ``values`` and ``weights`` are ``(C_in // groups, kH, kW)`` float32 as
    the engine multiplies them; ``conv``, ``biased`` and ``activated`` are the engine's outputs for
    this cell. ``equation`` holds the lines shown, with the actual numbers.
    """

    index: int
    filter: int
    row: int
    col: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    channels: tuple[int, ...]
    values: np.ndarray
    weights: np.ndarray
    partials: tuple[float, ...]
    conv: float
    bias: float | None
    biased: float | None
    activation: str | None
    activated: float | None
    equation: tuple[str, ...]

    @property
    def output(self) -> float:
        """The value the output grid shows: after the bias and the activation, if any."""
        if self.activated is not None:
            return self.activated
        return self.biased if self.biased is not None else self.conv


@dataclass(frozen=True)
class PoolStep:
    """One pooled cell: ``rows``/``cols`` in the padded map, its window ``values`` (padding as
    -inf for max, 0 for the average), and the engine's ``result``."""

    index: int
    channel: int
    row: int
    col: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    values: np.ndarray
    mode: str
    result: float
    equation: tuple[str, ...]


def applied_weights(spec: ConvSpec) -> np.ndarray:
    """The weights as multiplied, tap by tap: rotated by 180 degrees when ``spec.flip``."""
    w = spec.weight_array
    return np.ascontiguousarray(w[:, :, ::-1, ::-1]) if spec.flip else w


def channel_names(c: int) -> list[str]:
    return ["red", "green", "blue"] if c == 3 else [f"channel {k + 1}" for k in range(c)]


def conv_steps(stages: Stages, spec: ConvSpec) -> list[ConvStep]:
    """One :class:`ConvStep` per output cell, filter by filter, in raster order.

    Window positions come from :class:`conv.ops.Windows` over the padded input of ``stages``;
    the output values are the engine's (``stages.conv``, ``.biased``, ``.activated``).
    """
    padded = stages.padded.array
    w = applied_weights(spec)
    c_out, cpg, kh, kw = w.shape
    win = ops.Windows(padded.shape[1:], (kh, kw), spec.stride, spec.dilation)
    conv = stages.conv.array
    if win.out_hw != conv.shape[1:]:
        raise ValueError(f"window grid {win.out_hw} does not match the output {conv.shape[1:]}")
    biased = stages.biased.array if stages.biased is not None else None
    activated = stages.activated.array if stages.activated is not None else None
    act = ACTIVATIONS[spec.activation].equation if activated is not None else None
    slope = f"  (slope {fmt(spec.negative_slope)})" if spec.activation == "leaky_relu" else ""
    names = channel_names(padded.shape[0])
    opg = c_out // spec.groups
    weight_text = np.vectorize(lambda v: paren(fmt(v)), otypes=[object])(w)
    value_text: dict[float, str] = {}

    def vtext(v: float) -> str:
        s = value_text.get(v)
        if s is None:
            s = value_text[v] = paren(fmt(v))
        return s

    steps = []
    h_out, w_out = win.out_hw
    for o in range(c_out):
        g = o // opg
        chans = tuple(range(g * cpg, (g + 1) * cpg))
        bias = spec.bias[o] if biased is not None else None
        for i in range(h_out):
            rows = win.rows(i)
            for j in range(w_out):
                cols = win.cols(j)
                vals = padded[np.ix_(chans, rows, cols)]
                prods = vals.astype(np.float64) * w[o].astype(np.float64)
                partials = tuple(float(p) for p in prods.sum(axis=(1, 2)))
                lines = []
                value = float(conv[o, i, j])
                if cpg == 1:
                    # one line per kernel row, as the notes write it; the running sum after each
                    # row, and the engine's value at the end
                    running = 0.0
                    cells = [[f"{vtext(float(vals[0, r, c]))}{TIMES}{weight_text[o, 0, r, c]}"
                              for c in range(kw)] for r in range(kh)]
                    widths = [max(len(cells[r][c]) for r in range(kh)) for c in range(kw)]
                    for r in range(kh):
                        terms = " + ".join(cells[r][c].ljust(widths[c]) if c < kw - 1
                                           else cells[r][c] for c in range(kw))
                        running += float(prods[0, r].sum())
                        tail = f" = {fmt(value)}" if r == kh - 1 else f" \u2192 {fmt(running)}"
                        lines.append(("  " if r == 0 else "+ ") + terms + tail)
                else:
                    for ci, c in enumerate(chans):
                        terms = " + ".join(
                            f"{vtext(float(vals[ci, r, q]))}{TIMES}{weight_text[o, ci, r, q]}"
                            for r in range(kh) for q in range(kw))
                        lines.append(f"{names[c]}: {terms} = {fmt(partials[ci])}")
                    lines.append("sum: " + " + ".join(paren(fmt(p)) for p in partials)
                                 + f" = {fmt(value)}")
                b_val = a_val = None
                last = value
                if biased is not None:
                    b_val = float(biased[o, i, j])
                    lines.append(f"{fmt(value)} + {paren(fmt(bias))} (bias) = {fmt(b_val)}")
                    last = b_val
                if activated is not None:
                    a_val = float(activated[o, i, j])
                    lines.append(f"{act}({fmt(last)}) = {fmt(a_val)}{slope}")
                steps.append(ConvStep(
                    index=len(steps), filter=o, row=i, col=j, rows=tuple(int(r) for r in rows),
                    cols=tuple(int(c) for c in cols), channels=chans, values=vals,
                    weights=w[o], partials=partials, conv=value, bias=bias, biased=b_val,
                    activation=act, activated=a_val, equation=tuple(lines)))
    return steps


def pool_padded(pre: np.ndarray, pool: PoolSpec) -> np.ndarray:
    """The map as pooling reads it: padded with -inf for max and zeros for the average."""
    ph, pw = pool.padding
    fill = -np.inf if pool.mode == "max" else 0.0
    return np.pad(np.asarray(pre, np.float32), ((0, 0), (ph, ph), (pw, pw)), constant_values=fill)


def pool_steps(pre: np.ndarray, pool: PoolSpec, pooled: np.ndarray) -> list[PoolStep]:
    """One :class:`PoolStep` per pooled cell; windows from :class:`conv.ops.Windows` over the
    padded map, results from the engine's ``pooled`` map."""
    padded = pool_padded(pre, pool)
    win = ops.Windows(padded.shape[1:], pool.kernel_size, pool.effective_stride, (1, 1))
    if win.out_hw != pooled.shape[1:]:
        raise ValueError(f"window grid {win.out_hw} does not match the pooled map {pooled.shape[1:]}")
    kh, kw = pool.kernel_size
    steps = []
    for c in range(padded.shape[0]):
        for i in range(win.out_hw[0]):
            rows = win.rows(i)
            for j in range(win.out_hw[1]):
                cols = win.cols(j)
                vals = padded[c][np.ix_(rows, cols)]
                result = float(pooled[c, i, j])
                items = [fmt(v) for v in vals.ravel()]
                if pool.mode == "max":
                    line = f"max({', '.join(items)}) = {fmt(result)}"
                else:
                    line = f"({' + '.join(paren(t) for t in items)}) / {kh * kw} = {fmt(result)}"
                steps.append(PoolStep(len(steps), c, i, j, tuple(int(r) for r in rows),
                                      tuple(int(q) for q in cols), vals, pool.mode, result, (line,)))
    return steps


def output_size_lines(layer: Geometry) -> list[str]:
    """The output-size formula per axis of a resolved 2-D layer, with the numbers, e.g.
    ``["rows and columns: (5 + 2*1 - 3) / 2 + 1 = 3"]`` (one line when both axes agree)."""
    rows, cols = layer.worked()
    if rows.formula == cols.formula:
        return [f"rows and columns: {rows.formula}"]
    return [f"rows: {rows.formula}", f"columns: {cols.formula}"]


def receptive_field_text(step: ConvStep, padding, in_hw, spec: ConvSpec,
                         kernel_hw: tuple[int, int]) -> str:
    """Which input cells output cell ``(row, col)`` sees, in the input's own coordinates
    (1-based, as the page counts), and the receptive-field size from ``conv.shapes``."""
    (t, _), (l, _) = padding
    kh, kw = kernel_hw
    fh = receptive_field([(kh, spec.stride[0], spec.dilation[0])])[-1]
    fw = receptive_field([(kw, spec.stride[1], spec.dilation[1])])[-1]
    r0, r1 = step.rows[0] - t, step.rows[-1] - t
    c0, c1 = step.cols[0] - l, step.cols[-1] - l
    outside = []
    if r0 < 0 or r1 >= in_hw[0] or c0 < 0 or c1 >= in_hw[1]:
        outside.append("part of it is padding")
    dil = ""
    if spec.dilation != (1, 1):
        dil = (f"; with dilation {spec.dilation[0]}x{spec.dilation[1]} it samples only "
               f"{kh}x{kw} of those cells")
    note = f" ({', '.join(outside)})" if outside else ""
    return (f"Output row {step.row + 1}, column {step.col + 1} sees input rows {r0 + 1} to "
            f"{r1 + 1} and columns {c0 + 1} to {c1 + 1}{note}: a receptive field of "
            f"{fh.r} x {fw.r} cells{dil}.")
