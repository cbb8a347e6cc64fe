"""The filter lab's arithmetic panel: the output size per axis (convolution, then pooling) with
the actual numbers, the parameters and the multiply-adds, with the formulas they come from.

:func:`arithmetic` never raises for a layer that cannot exist (its ``error`` says why), so the
page can show the working of an impossible layer too.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from conv import geometry, shapes
from conv.stages import ConvSpec
from ui.html_view import html_view


@dataclass(frozen=True)
class Arithmetic:
    """The worked numbers of one layer on one input (``geometry.Worked``: value and formula)."""

    rows: geometry.Worked
    cols: geometry.Worked
    pool_rows: geometry.Worked | None
    pool_cols: geometry.Worked | None
    params: geometry.Worked
    macs: geometry.Worked | None
    out_shape: tuple[int, int, int] | None  # (C, H, W)
    padding: tuple
    error: str = ""


def arithmetic(in_shape: tuple[int, int, int], spec: ConvSpec) -> Arithmetic:
    """Output size per axis (conv, then pool) with the actual numbers, parameters and
    multiply-adds. Never raises for a layer that cannot exist: ``error`` says why."""
    c_in, h, w = in_shape
    kh, kw = spec.weight_shape[2:]
    c_out = spec.weight_shape[0]
    conv = geometry.conv_geometry((h, w), (kh, kw), stride=spec.stride, padding=spec.padding,
                                  dilation=spec.dilation, check=False)
    pads = conv.padding
    rows, cols = conv.worked()
    params = shapes.conv_params(kh, kw, c_in, c_out, groups=spec.groups, bias=True)
    error = rows.error or cols.error
    pool_rows = pool_cols = macs = None
    out = None
    if not error:
        macs = shapes.conv_macs(rows.value, cols.value, kh, kw, c_in, c_out, groups=spec.groups)
        out = (c_out, rows.value, cols.value)
        if spec.pool is not None:
            p = spec.pool
            pool_rows, pool_cols = geometry.pool_geometry(
                (rows.value, cols.value), p.kernel_size, p.stride, p.padding, check=False).worked()
            error = pool_rows.error or pool_cols.error
            if error:
                error = f"pooling: {error} (the map it pools is {rows.value} x {cols.value})"
                out = None
            else:
                out = (c_out, pool_rows.value, pool_cols.value)
    else:
        error = f"convolution: {error}"
    return Arithmetic(rows, cols, pool_rows, pool_cols, params, macs, out, pads, error)


def _code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def arithmetic_html(arith: Arithmetic, spec: ConvSpec, in_shape) -> str:
    """Output size with the actual numbers (flags for dropped rows and columns), parameters,
    multiply-adds: three large figures, the formulas with the numbers, and a note for each
    division that is not exact. One element, not eight (metrics, their row, the formulas, the
    notes): every element sent costs the browser a redraw on every change of the layer."""
    out = arith.out_shape
    figures = (("Output H x W x C", "—" if out is None else f"{out[1]} x {out[2]} x {out[0]}"),
               ("Parameters", f"{arith.params.value:,}"),
               ("Multiply-adds", "—" if arith.macs is None else f"{arith.macs.value:,}"))
    parts = ['<div class="lab-metrics">'] + [
        f'<div class="lab-metric" data-label="{html.escape(label)}"><div class="lab-metric-label">'
        f'{html.escape(label)}</div><div class="lab-metric-value">{html.escape(value)}</div></div>'
        for label, value in figures] + ["</div>"]
    (t, b), (l, r) = arith.padding
    kh, kw = spec.weight_shape[2:]
    same_tf = (isinstance(spec.padding, str) and spec.padding == "same"
               and max(spec.stride) > 1)

    def rows_cols(rows, cols) -> str:
        return (f"<ul><li>rows: {_code(rows.formula)}</li>"
                f"<li>columns: {_code(cols.formula)}</li></ul>")

    parts += [
        f"<p><b>Output size</b> "
        f"{_code('floor((n + p_before + p_after - d*(k - 1) - 1) / s) + 1')} with padding top "
        f"{t}, bottom {b}, left {l}, right {r}"
        + (" (TensorFlow-style SAME at stride &gt; 1: output = ceil(n / s))" if same_tf else "")
        + ":</p>", rows_cols(arith.rows, arith.cols)]
    if arith.pool_rows is not None:
        parts += [(f"<p><b>{html.escape(spec.pool.title)}</b> on the {arith.rows.value} x "
                   f"{arith.cols.value} map:</p>"), rows_cols(arith.pool_rows, arith.pool_cols)]
    c_out = spec.weight_shape[0]
    parts.append(f"<p><b>Parameters</b> {_code('((f*f*c_in/groups) + 1) * c_out')}: "
                 f"{_code(arith.params.formula)} ({kh} x {kw} weights per input channel of a "
                 f"filter, one bias per filter, {c_out} filter{'s' if c_out > 1 else ''})</p>")
    if arith.macs is not None:
        parts.append(f"<p><b>Multiply-adds</b> {_code('H_out*W_out*c_out * (f*f*c_in/groups)')}"
                     f": {_code(arith.macs.formula)}</p>")
    for worked, what in ((arith.rows, "rows"), (arith.cols, "columns"),
                         (arith.pool_rows, "pooled rows"), (arith.pool_cols, "pooled columns")):
        if worked is not None and not worked.exact and not worked.error:
            note = worked.note.removeprefix("not exact: ")
            parts.append(f'<div class="lab-info">Division not exact for the {what}: '
                         f"{html.escape(note)}.</div>")
    return '<div class="lab-arith">' + "".join(parts) + "</div>"


def show_arithmetic(arith: Arithmetic, spec: ConvSpec, in_shape) -> None:
    """The panel on the page, as one HTML view (replaced in place on a change)."""
    html_view(arithmetic_html(arith, spec, in_shape), key="lab.arith")

