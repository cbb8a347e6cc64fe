"""The zoom: one window's neighbourhood with every number, beside the kernel and the cell it
computes, as HTML under the figure, for grids too large to show their numbers."""

from __future__ import annotations

import numpy as np

from viz.animation.figure import Animation
from viz.animation.palette import DIVERGING, PADDING_FILL, PADDING_TEXT, SANS, VERMILLION, colour_at
from viz.animation.scene import Grid, Scene, kernel_cells
from viz.animation.steps import TIMES, ConvStep, channel_names, fit_number, fmt
from viz.style import Style


def _grid(scene: Scene, name: str) -> Grid | None:
    return next((g for g in scene.grids if g.name == name), None)


def _zoom_table(g: Grid, pad: Grid | None, rows: range, cols: range, window: set,
                span: tuple[int, int, int, int], origin: tuple[int, int], cell: int,
                font: int, style: Style) -> str:
    """A small HTML table of ``g``'s cells in ``rows`` x ``cols`` with their numbers, in the
    animation's colours; the cells in ``window`` outlined in vermillion, padding pale."""
    import html

    top, left = origin
    in_rows, in_cols = np.isfinite(g.z).any(axis=1), np.isfinite(g.z).any(axis=0)

    def number(i: int, inside: np.ndarray, first: int) -> str:
        # the input's own row or column number (1-based); padding has none
        return str(i - first + 1) if 0 <= i < inside.size and inside[i] else ""

    small = max(11, font - 5)
    head = "".join(f'<th style="font-weight:400;font-size:{small}px;padding:0 2px">'
                   f'{number(c, in_cols, left)}</th>' for c in cols)
    out = [f'<table style="border-collapse:separate;border-spacing:2px;'
           f'font-family:{SANS};color:{style.text}"><tr><th></th>{head}</tr>']
    r0, r1, c0, c1 = span
    for r in rows:
        out.append(f'<tr><th style="font-weight:400;font-size:{small}px;'
                   f'padding:0 4px;text-align:right">{number(r, in_rows, top)}</th>')
        for c in cols:
            inside = 0 <= r < g.z.shape[0] and 0 <= c < g.z.shape[1]
            if not inside:
                out.append(f'<td style="width:{cell}px;height:{cell}px"></td>')
                continue
            v = g.z[r, c]
            is_pad = not np.isfinite(v)
            if is_pad and pad is not None:
                text = pad.text[r][c] if pad.text is not None else ""
                value = float(np.nan_to_num(v))
                bg, fg, italic = PADDING_FILL, PADDING_TEXT, True
                text = text or "pad"
            else:
                value = float(v)
                rgb = colour_at(g.colorscale, g.zmin, g.zmax, value)
                bg = "#%02x%02x%02x" % rgb
                lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
                fg, italic = ("#000000" if lum > 140 else "#ffffff"), False
                text = fit_number(value, 6)
            border = f"3px solid {VERMILLION}" if (r, c) in window else "1px solid transparent"
            if (r, c) not in window and r0 <= r < r1 and c0 <= c < c1:
                border = f"2px dotted {VERMILLION}"
            out.append(f'<td style="width:{cell}px;height:{cell}px;background:{bg};color:{fg};'
                       f'text-align:center;font-size:{font}px;border:{border};'
                       f'{"font-style:italic;" if italic else ""}box-sizing:border-box">'
                       f'{html.escape(text)}</td>')
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _kernel_table(k: np.ndarray, cell: int, font: int, style: Style) -> str:
    factor, rows = kernel_cells(k)
    m = float(np.abs(k).max()) or 1.0
    out = [f'<table style="border-collapse:separate;border-spacing:2px;font-family:{SANS}">']
    for i, row in enumerate(rows):
        out.append("<tr>")
        for j, text in enumerate(row):
            rgb = colour_at(DIVERGING, -m, m, float(k[i, j]))
            lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
            fg = "#000000" if lum > 140 else "#ffffff"
            out.append(f'<td style="width:{cell}px;height:{cell}px;background:#%02x%02x%02x;'
                       f'color:{fg};text-align:center;font-size:{font}px">{text}</td>' % rgb)
        out.append("</tr>")
    out.append("</table>")
    table = "".join(out)
    if factor:
        table = (f'<div style="display:flex;align-items:center;gap:6px;color:{style.text}">'
                 f'<span style="font-size:{font}px">{factor} ×</span>{table}</div>')
    return table


def inner_all(g: Grid, r0: int, r1: int, c0: int, c1: int) -> bool:
    """Whether rows ``r0:r1`` and columns ``c0:c1`` of ``g`` all lie inside the input (not in
    its padding)."""
    return bool(np.isfinite(g.z[r0:r1, c0:c1]).all())


def window_zoom_html(anim: Animation, k: int, *, margin: int = 1, large: bool = False) -> str:
    """Step ``k``'s window and ``margin`` cells around it (a 3 x 3 kernel: 5 x 5 cells) with
    every number, beside the kernel and the cell it computes: for grids too large to show
    their numbers (:attr:`Scene.hidden`). ``large``: sizes for a projector."""
    sc = anim.scene
    style = sc.style
    step = anim.steps[min(max(int(k), 0), anim.n_steps - 1)]
    cell, font = (60, 26) if large or sc.look.classroom else (44, 18)
    conv = isinstance(step, ConvStep)
    channels = step.channels if conv else (step.channel,)
    names = channel_names(len(channels)) if conv and len(channels) > 1 else None
    r0, r1 = step.rows[0], step.rows[-1] + 1
    c0, c1 = step.cols[0], step.cols[-1] + 1
    rows = range(r0 - margin, r1 + margin)
    cols = range(c0 - margin, c1 + margin)
    window = {(r, c) for r in step.rows for c in step.cols}
    parts = []
    for i, ch in enumerate(channels):
        g = _grid(sc, f"input {ch}" if conv else f"map {ch}")
        pad = _grid(sc, f"padding {ch}")
        if g is None:
            continue
        inner = np.isfinite(g.z)
        top = int(np.argmax(inner.any(axis=1)))
        left = int(np.argmax(inner.any(axis=0)))
        table = _zoom_table(g, pad, rows, cols, window, (r0, r1, c0, c1), (top, left), cell,
                            font, style)
        what = (f"{names[ch]}: " if names else "") + (
            f"the window: rows {r0 - top + 1} to {r1 - top}, columns {c0 - left + 1} to "
            f"{c1 - left}" + ("" if inner_all(g, r0, r1, c0, c1) else " (pale: padding)"))
        block = [f'<div><div style="font-size:15px;margin-bottom:4px">{what}</div>{table}</div>']
        if conv:
            block.append(f'<div style="font-size:{font + 8}px">{TIMES}</div>')
            block.append(f'<div><div style="font-size:15px;margin-bottom:4px">Kernel</div>'
                         f'{_kernel_table(np.asarray(step.weights[i], np.float64), cell, font, style)}'
                         f'</div>')
        parts.append("".join(block))
    op = "=" if conv else ("max" if step.mode == "max" else "average") + " ="
    value = step.output if conv else step.result
    where = (f"output row {step.row + 1}, col {step.col + 1}" if conv
             else f"pooled row {step.row + 1}, col {step.col + 1}")
    parts.append(f'<div style="font-size:{font + 8}px">{op}</div>'
                 f'<div><div style="font-size:15px;margin-bottom:4px">{where}</div>'
                 f'<div style="font-size:{font + 6}px;font-weight:700;border:3px solid '
                 f'{VERMILLION};padding:6px 12px">{fmt(value)}</div></div>')
    return (f'<div class="conv-zoom" style="display:flex;flex-wrap:wrap;align-items:center;'
            f'gap:12px 18px;color:{style.text};font-family:{SANS};margin:0.25rem 0 0.75rem">'
            + "".join(parts) + "</div>")
