"""The rest of the convolution family, step by step: transposed convolution (stamps, and zero
insertion), 1-D and causal convolution, im2col, and the gradients of a convolution.

Every figure is a :class:`viz.animation.scene.Scene` played by the sliding window's own machinery
(:class:`viz.animation.Animation`: Plotly frames that move only shapes and text, the Step /
Play buttons and the slider, the GIF export); this module only lays out the grids and writes
each step's shapes and numbers. Window and stamp positions come from :mod:`conv.geometry`
(:meth:`Axis.taps`, :class:`Windows`), the values shown from the engine (``conv.ops``).

Colours say what a grid is, in every mode: the input in blues, the kernel in greens, the output
in oranges, an upstream gradient in purples; zeros that are not data (padding, the zeros a
transposed convolution inserts) in grey italics. Each grid carries a large label in its colour
("INPUT (3 x 3)").

Every figure is drawn in a :class:`viz.style.Style` (``style=``): the page's light or dark
theme, or their high-contrast variants. The style gives the background, the text, the masks of
cells not computed yet and the zeros' grey, and thickens the highlights in high contrast (the
larger type comes with :func:`viz.animation.look_for`); the cells' pale role colours and their
dark numbers are the same in every style (a value has one colour), the labels on the
background take a lighter shade of their role's hue on a dark page.

Public API (each takes ``look=`` and ``style=``)
----------
transposed_stamps(x, w, layer, out)         each input cell stamps x * kernel onto the output
zero_insertion(x, w, layer, out)            the same as a correlation of the zero-inserted,
                                            padded input with the flipped kernel
conv1d_animation(x, w, layer, out)          a kernel sliding along a time axis
im2col_animation(x, w, layer, matrix, out)  the patch matrix built column by column
weight_grad_animation(x, g, layer, grad_w)  dL/dw as the correlation of x with dL/dy
groups_figure(c_in, c_out, groups)          which input channels each filter sees
zero_inserted(x, layer)                     the zero-inserted padded input and its cell kinds
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from conv.geometry import Axis, Geometry, Windows
from viz.animation.figure import Animation, animate
from viz.animation.look import NARROW_PX as NARROW_PX_BUTTONS
from viz.animation.look import NORMAL, Look
from viz.animation.palette import SANS, SKY_BLUE, VERMILLION
from viz.animation.scene import (
    CHAR_W,
    Box,
    Grid,
    Scene,
    coord,
    formula_text,
    layout_px,
    rects_path,
    step_texts,
)
from viz.animation.steps import TIMES, fit_number, fmt, paren
from viz.style import LIGHT, Style

MIN_TEXT_PX = 7  # smaller cell numbers are left out (the equation still has them)

__all__ = [
    "ROLES", "Role", "conv1d_animation", "groups_figure", "half_look", "im2col_animation",
    "transposed_stamps", "weight_grad_animation", "zero_inserted", "zero_insertion",
]

# --------------------------------------------------------------------------------------------
# Roles: one hue family each (Okabe & Ito's blue, bluish green, orange, reddish purple)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    line: str        # the grid's frame
    label: str       # its big label (dark enough on white: 5.7:1 or more)
    scale: tuple     # pale ramp by value: black numbers stay readable on every cell
    dark: str = ""   # the label on a dark page (8:1 or more on #0E1117)
    dark_hc: str = ""  # the label on black, high contrast (10:1 or more)

    def label_on(self, style: Style) -> str:
        """The colour of this role's labels on the background of ``style``."""
        if not style.dark:
            return self.label
        return (self.dark_hc if style.contrast else self.dark) or self.label


ROLES = {
    "input": Role("#0072B2", "#005A8C", ((0.0, "#EEF5FC"), (1.0, "#A9CDEB")),
                  "#56B4E9", "#8FCBF2"),
    "kernel": Role("#009E73", "#00704F", ((0.0, "#EFF9F4"), (1.0, "#A6DEC8")),
                   "#3DCC9A", "#6FDDB5"),
    "output": Role("#E69F00", "#9A5600", ((0.0, "#FFF6E8"), (1.0, "#F8C67E")),
                   "#F0A830", "#FFC266"),
    "grad": Role("#CC79A7", "#8A2F66", ((0.0, "#FBF0F6"), (1.0, "#E9B2D1")),
                 "#E8A3CC", "#F2B8DA"),
}
ZERO_FILL = "#EDEDED"  # the light style's mask: zeros that are not data
ZERO_TEXT = "#6A6A6A"
CELL_TEXT = "#000000"  # numbers on the pale cells, in every style
BLANK_FILL = "#FAFAFA"  # the 1-D figure's kernel and product strips, on a light page
HL_FILL = "rgba(213,94,0,0.14)"


def zero_colours(style: Style) -> tuple[str, str]:
    """The fill and the text of zeros that are not data (padding, inserted zeros), in
    ``style``: its mask's grey, with its muted text (the light style: ``ZERO_TEXT``)."""
    return style.mask, ZERO_TEXT if style == LIGHT else style.muted


def blank_colours(style: Style) -> tuple[str, str]:
    """The fill of cells written only by the steps (the 1-D strips) and their text."""
    return (BLANK_FILL, CELL_TEXT) if not style.dark else (style.panel, style.text)
GAP = 1.4  # between grids, in cells
NARROW_PX = 600  # a figure laid out narrower than this puts long labels on two lines


def half_look(look: Look) -> Look:
    """``look`` for a figure sharing the width with another (two columns): half as wide,
    labels and the step line a little smaller; narrower than :data:`viz.animation.NARROW_PX`,
    the Play buttons in a row of their own under the step buttons (side by side they
    overlap, as :func:`viz.animation.fit_look` does on a phone)."""
    half = dataclasses.replace(look, width_px=look.width_px // 2 - 16,
                               label_font=look.label_font - 2, title_font=look.title_font - 2)
    if half.width_px < NARROW_PX_BUTTONS and look.control_rows == 1:
        half = dataclasses.replace(half, control_rows=2,
                                   controls_px=look.controls_px + look.button_font * 2 + 12)
    return half


def _flat(colour: str) -> list:
    return [[0.0, colour], [1.0, colour]]


def _label_px(look: Look) -> float:
    return look.label_font * 1.15 * 1.5


def _title_font(look: Look) -> dict:
    return {"size": int(look.label_font * 1.15), "family": SANS, "weight": "bold"}


def _cell_font(look: Look, cell: float, longest: int) -> int:
    """The font of a grid's numbers (as :func:`viz.animation.scene.cell_numbers` sizes it); 0 if
    too small."""
    font = min(look.max_cell_font, int(cell * 0.5), int(cell * 0.92 / (CHAR_W * max(longest, 1))))
    return font if font >= MIN_TEXT_PX else 0


def _chars(look: Look, cell: float) -> int:
    return max(3, int(cell * 0.92 / (CHAR_W * look.min_cell_font)))


def _texts(a: np.ndarray, chars: int) -> list[list[str]]:
    return [[fit_number(float(v), chars) for v in row] for row in np.asarray(a, np.float64)]


def _vec(values) -> str:
    return "[" + " ".join(fmt(v) for v in values) + "]"


def _rng(a: np.ndarray) -> tuple[float, float]:
    a = np.asarray(a, np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return 0.0, 1.0
    lo, hi = float(a.min()), float(a.max())
    return (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)


# --------------------------------------------------------------------------------------------
# A scene under construction
# --------------------------------------------------------------------------------------------

class _Kit:
    """Grids, frames, labels and per-step shapes and texts, in cell units."""

    def __init__(self, look: Look, cell: float, style: Style = LIGHT):
        self.look, self.cell, self.style = look, cell, style
        self.grids: list[Grid] = []
        self.shapes: list[dict] = []
        self.texts: list[dict] = []
        self.chars = _chars(look, cell)

    # -- grids
    def panel(self, box: Box, values: np.ndarray, role: str, *, name: str,
              zeros: np.ndarray | None = None, numbers: bool = True,
              texts: list | None = None) -> None:
        """A grid of ``values`` in the role's colours; ``zeros`` (bool, same shape): cells
        drawn as grey italic zeros (padding, inserted zeros); ``numbers=False``: no cell text
        (the steps write it)."""
        v = np.asarray(values, np.float64)
        r = ROLES[role]
        data = v if zeros is None else np.where(zeros, np.nan, v)
        lo, hi = _rng(data)
        cells = texts if texts is not None else _texts(v, self.chars)
        longest = max((len(t) for row in cells for t in row), default=1)
        font = _cell_font(self.look, self.cell, longest) if numbers else 0
        shown = None
        if font:
            shown = cells if zeros is None else [[t if not zeros[i, j] else "" for j, t in
                                                  enumerate(row)] for i, row in enumerate(cells)]
        scale = [list(p) for p in r.scale] if numbers else _flat(r.scale[0][1])
        self.grids.append(Grid(box, data, shown, scale, lo, hi, font, CELL_TEXT, name=name))
        if zeros is not None and zeros.any():
            zt = None
            if font:
                zt = [[t if zeros[i, j] else "" for j, t in enumerate(row)]
                      for i, row in enumerate(cells)]
            fill, text = zero_colours(self.style)
            self.grids.append(Grid(box, np.where(zeros, 0.0, np.nan), zt, _flat(fill), 0.0, 1.0,
                                   font, text, True, name=f"{name} zeros"))
        self.frame(box, role)

    def frame(self, box: Box, role: str, *, dash: str | None = None, rect=None) -> None:
        line = {"color": ROLES[role].line, "width": max(2, self.look.line_width - 1)}
        if dash:
            line["dash"] = dash
        coords = box.rect(*(rect or (0, box.h, 0, box.w)))
        self.shapes.append({"type": "rect", **coords, "line": line, "layer": "above"})

    def label(self, box: Box, text: str, role: str | None, *, below: bool = False,
              small: bool = False, align: str = "left") -> None:
        font = (_title_font(self.look) if not small else
                {"size": max(10, self.look.label_font - 2), "family": SANS})
        font["color"] = self.colour(role)
        x = {"left": box.x, "center": box.cx, "right": box.right}[align]
        self.texts.append({"showarrow": False, "xref": "x", "yref": "y", "text": text,
                           "x": coord(x), "y": coord(box.bottom + 0.1 if below else box.y - 0.1),
                           "xanchor": align, "yanchor": "top" if below else "bottom",
                           "font": font})

    def symbol(self, x: float, y: float, text: str) -> None:
        self.texts.append({"showarrow": False, "xref": "x", "yref": "y", "text": text,
                           "x": coord(x), "y": coord(y), "xanchor": "center", "yanchor": "middle",
                           "font": {"size": int(self.look.label_font * 1.6), "family": SANS,
                                    "color": self.style.text}})

    def colour(self, role: str | None) -> str:
        """The colour of text on the background: the role's label colour, or plain text."""
        return ROLES[role].label_on(self.style) if role else self.style.text

    def cell_texts(self, box: Box, font: int, *, colour: str = CELL_TEXT,
                   italic: bool = False) -> list[dict]:
        """Templates of one dynamic text per cell of ``box`` (row-major)."""
        f = {"size": max(font, MIN_TEXT_PX), "family": SANS, "color": colour}
        if italic:
            f["style"] = "italic"
        return [{"showarrow": False, "xref": "x", "yref": "y", "x": coord(box.x + c + 0.5),
                 "y": coord(box.y + r + 0.5), "xanchor": "center", "yanchor": "middle", "font": f}
                for r in range(box.h) for c in range(box.w)]


def _tw(look: Look, cell: float, text: str, *, small: bool = False) -> float:
    """A label's width in cells (bold Arial: about 0.62 em a character; its longest line)."""
    size = max(10, look.label_font - 2) if small else look.label_font * 1.15
    return max(len(line) for line in text.split("<br>")) * 0.62 * size / cell


def _two(look: Look, head: str, tail: str) -> str:
    """A label on one line, or on two in a narrow figure (two side by side)."""
    return f"{head}<br>{tail}" if look.width_px < NARROW_PX else f"{head} {tail}"


def _lines(text: str) -> int:
    return text.count("<br>") + 1


def _wrap(text: str, width_chars: int) -> list[str]:
    """``text`` in lines of at most ``width_chars`` characters (words kept whole)."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > max(width_chars, 12):
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])


def _small_chars(look: Look, cell: float, width_cells: float) -> int:
    """How many characters of a small label fit in ``width_cells``."""
    return int(width_cells * cell / (0.55 * max(10, look.label_font - 2)))


def _small_line_u(look: Look, cell: float) -> float:
    return max(10, look.label_font - 2) * 1.35 / cell


def _sized(look: Look, place: Callable[[float, float], tuple[dict, float, float]], n_eq: int,
           eq_chars: int, title_chars: int, formula_chars: int):
    """Boxes and sizes for a scene: ``place(band, cell)`` lays the grids out with ``band``
    cells above each for its label (labels measured at ``cell`` px a cell) and returns
    ``(boxes, width, height)`` in cells; repeated until the cell size settles."""
    cell = look.max_cell_px * 0.6
    for _ in range(5):
        band = max(0.6, _label_px(look) / cell)
        boxes, w, h = place(band, cell)
        sz = layout_px(look, w + 0.4, h, n_eq, eq_chars, title_chars, formula_chars)
        if abs(sz.cell - cell) < 0.5:
            break
        cell = sz.cell
    return boxes, w, h, sz


def _scene(kit: _Kit, sz, w: float, h: float, formula: str, dyn_shapes: list,
           extra_texts: list, steps: list, labels: list, click: dict | None) -> Scene:
    look = kit.look
    x_lo, x_hi = -0.2, w + 0.2
    y_lo, y_hi = -sz.head_u, h + sz.eq_u
    style = kit.style
    label = {"font": {"size": look.label_font, "family": SANS, "color": style.text},
             "showarrow": False, "xref": "x", "yref": "y"}
    # a formula too long for the figure's width (a narrow column, a phone) on two lines, cut at
    # the "; " nearest its middle, else between words: under the step line there is room for
    # them (the layout reckons 0.5 em a character, as here)
    chars = int((look.width_px - 20) / (0.5 * look.label_font))
    if sz.formula_below and len(formula) > chars:
        cuts = [i for i in range(len(formula)) if formula.startswith("; ", i)]
        lines = []
        if cuts:
            cut = min(cuts, key=lambda i: abs(i - len(formula) / 2))
            lines = [formula[:cut + 1], formula[cut + 2:]]
        if not lines or max(map(len, lines)) > chars:
            lines = _wrap(formula.replace("  (", " ("), chars)
        formula = "<br>".join(lines)
    texts = kit.texts + [{**formula_text(label, formula, sz, x_lo, x_hi, y_lo),
                          "align": "left"}]
    dyn_texts = step_texts(look, style, x_lo, y_lo, h, sz.cell, sz.eq_font) + extra_texts
    return Scene(look, sz.cell, (x_lo, x_hi), (y_lo, y_hi), kit.grids, kit.shapes, texts,
                 dyn_shapes, dyn_texts, steps, labels, click, style)


def _hl(style: Style = LIGHT) -> dict:
    return {"type": "path", "layer": "above",
            "line": {"color": VERMILLION, "width": style.width(3)}, "fillcolor": HL_FILL}


def _ghost(style: Style = LIGHT) -> dict:
    return {"type": "path", "layer": "above",
            "line": {"color": SKY_BLUE, "width": style.width(2), "dash": "dash"}}


def _mask(style: Style = LIGHT) -> dict:
    return {"type": "path", "layer": "above", "line": {"width": 0}, "fillcolor": style.mask}


def _nowhere(box: Box) -> str:
    return f"M{coord(box.x)},{coord(box.y)}Z"


def _window_rects(box: Box, rows: Sequence[int], cols: Sequence[int]) -> list[tuple]:
    """The cells read: one rectangle when they are contiguous, else one per cell."""
    rows, cols = list(rows), list(cols)
    if rows == list(range(rows[0], rows[-1] + 1)) and cols == list(range(cols[0], cols[-1] + 1)):
        return [box.corners(rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)]
    return [box.corners(r + 0.08, r + 0.92, c + 0.08, c + 0.92) for r in rows for c in cols]


def _pending(box: Box, done: int) -> str:
    """A path covering the cells of ``box`` after the first ``done`` (row-major)."""
    h, w = box.h, box.w
    r, c = divmod(done, w)
    rects = []
    if r < h and c:
        rects.append(box.corners(r, r + 1, c, w))
        r += 1
    if r < h:
        rects.append(box.corners(r, h, 0, w))
    return rects_path(rects) if rects else _nowhere(box)


def _size_formula(layer: Geometry, what: str = "Output size", look: Look = NORMAL) -> str:
    """The output-size formula with the numbers (shorter in a narrow figure)."""
    w = layer.worked()
    narrow = look.width_px < NARROW_PX
    if len(w) == 1 or w[0].formula == w[1].formula:
        axis = "" if len(w) == 1 or narrow else "rows and columns: "
        return f"{what.split()[0] if narrow else what} {axis}{w[0].formula}"
    return f"{what.split()[0] if narrow else what} rows: {w[0].formula}; columns: {w[1].formula}"


# --------------------------------------------------------------------------------------------
# Transposed convolution: stamps
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StampStep:
    """Input cell ``(row, col)`` (value ``value``) adds ``value * kernel`` to the canvas cells
    ``rows`` x ``cols`` (canvas = the full result before the padding is cut; output cell
    ``(r, c)`` is canvas cell ``(r + top, c + left)``); ``before``/``after`` are those cells
    before and after, ``canvas`` the whole running sum after the stamp."""

    index: int
    row: int
    col: int
    value: float
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    before: np.ndarray
    after: np.ndarray
    canvas: np.ndarray
    equation: tuple[str, ...]


def _canvas_size(a: Axis) -> int:
    return max(a.before + a.out, (a.n - 1) * a.stride + a.span)


def stamp_steps(x: np.ndarray, w: np.ndarray, layer: Geometry) -> list[StampStep]:
    """One step per input cell, in raster order: where its stamp lands comes from the
    transposed axes (:meth:`conv.geometry.Axis.taps`: input ``i``'s tap ``k`` lands on the
    full result's ``i*s + k*d``)."""
    rows_ax, cols_ax = layer.axes
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    canvas = np.zeros((_canvas_size(rows_ax), _canvas_size(cols_ax)))
    steps = []
    top, h_out = rows_ax.before, rows_ax.out
    for i in range(x.shape[0]):
        tr = rows_ax.taps(i)
        for j in range(x.shape[1]):
            tc = cols_ax.taps(j)
            at = np.ix_(tr, tc)
            before = canvas[at].copy()
            canvas[at] += x[i, j] * w
            after = canvas[at].copy()
            lines = []
            for a, r in enumerate(tr):
                orow = int(r) - top + 1
                cut = "" if 1 <= orow <= h_out else " (cut by p)"
                lines.append(f"row {orow}{cut}: {_vec(before[a])} + {paren(fmt(x[i, j]))}"
                             f"{TIMES}{_vec(w[a])} = {_vec(after[a])}")
            steps.append(StampStep(len(steps), i, j, float(x[i, j]),
                                   tuple(int(v) for v in tr), tuple(int(v) for v in tc),
                                   before, after, canvas.copy(), tuple(lines)))
    return steps


def transposed_stamps(x, w, layer: Geometry, out: np.ndarray, *, look: Look = NORMAL,
                      style: Style = LIGHT) -> Animation:
    """Transposed convolution as stamps: each input cell adds ``x * kernel`` to the output,
    ``stride`` apart; overlapping stamps add up; the padding ``p`` is then cut from every side
    (and ``output_padding`` adds rows/columns at the bottom/right). One frame per input cell.

    ``x`` (H, W) and ``w`` (kH, kW) as the engine took them, ``layer`` their transposed
    geometry (:func:`conv.geometry.transposed_geometry`), ``out`` the engine's output (its
    values are the last frame's, within float rounding).
    """
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    rows_ax, cols_ax = layer.axes
    steps = stamp_steps(x, w, layer)
    h, wd = x.shape
    kh, kw = w.shape
    ch, cw = steps[-1].canvas.shape
    top, left = rows_ax.before, cols_ax.before
    ho, wo = rows_ax.out, cols_ax.out
    n = len(steps)
    eq_chars = max(len(line) for s in steps for line in s.equation) + 2
    title = f"Stamp {n} of {n} · input row {h}, col {wd}: x = {fmt(x.min())}"
    formula = _size_formula(layer, look=look)

    l_in, l_k = _two(look, "INPUT", f"({h} x {wd})"), _two(look, "KERNEL", f"({kh} x {kw})")
    l_st = _two(look, "x ×", "KERNEL")
    # each step's label names its x ("(-2) × KERNEL"): room for the widest
    l_st_w = l_st.replace("x ×", "(" + "0" * max(len(fmt(v)) for v in x.ravel()) + ") ×")
    l_out = f"OUTPUT ({ho} x {wo})"
    kept = np.zeros((ch, cw), bool)
    kept[top:top + ho, left:left + wo] = True
    cut = []
    if top or left:
        cut.append(f"padding p = {top}" + (f", {left}" if left != top else "")
                   + " cut from every side")
    if rows_ax.output_padding or cols_ax.output_padding:
        op = {rows_ax.output_padding, cols_ax.output_padding}
        cut.append(f"output_padding {'/'.join(map(str, sorted(op)))} added at the bottom/right")
    note = (f"The orange frame is the output; the grey cells of the full {ch} x {cw} result: "
            + "; ".join(cut) + ".") if not kept.all() else ""

    def place(band: float, cell: float, beside: bool = False):
        """The input, kernel and stamp in a row, the output canvas under them, or (``beside``:
        a wide, short figure) at the row's right; the note under everything."""
        top_u = band * _lines(l_in)
        inp = Box(0, top_u, h, wd)
        ker = Box(max(inp.right + GAP, _tw(look, cell, l_in) + 0.5), top_u, kh, kw)
        stamp = Box(max(ker.right + GAP, ker.x + _tw(look, cell, l_k) + 0.5), top_u, kh, kw)
        row_w = stamp.x + max(kw, _tw(look, cell, l_st_w))
        if beside:
            canvas = Box(row_w + GAP, top_u, ch, cw)
            width = canvas.x + max(cw, _tw(look, cell, l_out))
        else:
            canvas = Box(0, top_u + max(h, kh) + band, ch, cw)
            width = max(row_w, canvas.right, _tw(look, cell, l_out))
        bottom = max(inp.bottom, canvas.bottom)
        lines = len(_wrap(note, _small_chars(look, cell, width))) if note else 0
        return ({"in": inp, "k": ker, "st": stamp, "cv": canvas,
                 "note": Box(0, bottom, 0, 0)}, width,
                bottom + 0.15 + lines * _small_line_u(look, cell))

    boxes, width, height, sz = max(
        (_sized(look, lambda b, c, side=side: place(b, c, side), kh, eq_chars, len(title),
                len(formula)) for side in (False, True)),
        key=lambda laid: laid[3].cell - laid[1] * 1e-6)  # larger cells; else the narrower
    kit = _Kit(look, sz.cell, style)
    inp, ker, stb, cvb = boxes["in"], boxes["k"], boxes["st"], boxes["cv"]
    kit.panel(inp, x, "input", name="input")
    kit.label(inp, l_in, "input")
    kit.panel(ker, w, "kernel", name="kernel")
    kit.label(ker, l_k, "kernel")
    kit.panel(stb, np.zeros((kh, kw)), "output", name="stamp", numbers=False)
    kit.frame(stb, "output", dash="dot")
    kit.label(stb, l_st, None)
    stamp_label = kit.texts.pop()  # written by each step: "3 × KERNEL"
    kit.symbol((inp.right + ker.x) / 2, inp.y + h / 2, "·")
    kit.symbol((ker.right + stb.x) / 2, ker.y + kh / 2, "→")
    # the canvas: output cells orange, cells cut by the padding grey
    kit.panel(cvb, np.zeros((ch, cw)), "output", name="output", numbers=False,
              zeros=~kept if not kept.all() else None)
    kit.label(cvb, l_out, "output")
    if note:
        kit.frame(cvb, "output", rect=(top, top + ho, left, left + wo))
        kit.label(boxes["note"], "<br>".join(_wrap(note, _small_chars(look, sz.cell, width))),
                  None, below=True, small=True)

    # per-cell texts: the stamp's products, the running canvas
    final_texts = _texts(steps[-1].canvas, kit.chars)
    prod_texts = [_texts(s.value * w, kit.chars) for s in steps]
    longest = max([len(t) for row in final_texts for t in row]
                  + [len(t) for pt in prod_texts for row in pt for t in row])
    # running sums are never longer than they are digits: size for the longest seen
    for s in steps:
        longest = max(longest, max(len(t) for row in _texts(s.canvas, kit.chars) for t in row))
    font = _cell_font(look, sz.cell, longest) or MIN_TEXT_PX
    stamp_t = kit.cell_texts(stb, font)
    canvas_t = []
    for r in range(ch):
        for c in range(cw):
            t = kit.cell_texts(Box(cvb.x + c, cvb.y + r, 1, 1), font,
                               colour=CELL_TEXT if kept[r, c] else zero_colours(style)[1],
                               italic=not kept[r, c])
            canvas_t += t

    scene_steps, labels = [], []
    # cells no stamp ever reaches hold 0 from the start
    touched = np.ones((ch, cw), bool)
    for s in steps:
        touched[np.ix_(s.rows, s.cols)] = False
    for k, s in enumerate(steps):
        touched[np.ix_(s.rows, s.cols)] = True
        rects = [inp.corners(s.row, s.row + 1, s.col, s.col + 1)]
        rects += _window_rects(cvb, s.rows, s.cols)
        rects.append(stb.corners(0, kh, 0, kw))
        prev = steps[k - 1] if k else None
        ghost = (rects_path(_window_rects(cvb, prev.rows, prev.cols)) if prev is not None
                 else _nowhere(cvb))
        shapes = [{"path": rects_path(rects)}, {"path": ghost}]
        texts = [(f"Stamp {k + 1} of {n} · input row {s.row + 1}, col {s.col + 1}: "
                 f"x = {fmt(s.value)}"), "<br>".join(s.equation)]
        texts.append(l_st.replace("x ×", f"{paren(fmt(s.value))} ×"))
        texts += [t for row in prod_texts[k] for t in row]
        cur = _texts(s.canvas, kit.chars)
        texts += [cur[r][c] if touched[r, c] else "" for r in range(ch) for c in range(cw)]
        scene_steps.append((shapes, texts))
        labels.append(str(k + 1))
    click = {"x": [coord(inp.x + s.col + 0.5) for s in steps],
             "y": [coord(inp.y + s.row + 0.5) for s in steps], "step": [s.index for s in steps]}
    scene = _scene(kit, sz, width, height, formula, [_hl(style), _ghost(style)],
                   [stamp_label] + stamp_t + canvas_t,
                   scene_steps, labels, click)
    return animate(scene, steps)


# --------------------------------------------------------------------------------------------
# Transposed convolution: zero insertion (also the gradient with respect to the input)
# --------------------------------------------------------------------------------------------

INPUT, INSERTED, PADDING = 0, 1, 2


def _axis_map(a: Axis) -> tuple[np.ndarray, np.ndarray]:
    """For each cell of the zero-inserted, padded axis: the input index there (-1: a zero)
    and its kind (INPUT, INSERTED, PADDING). The input is spread ``stride`` apart and padded
    by ``d*(k - 1) - p`` (a negative amount cuts), ``output_padding`` more after."""
    q = a.span - 1 - a.before
    t = np.arange(a.padded) - q
    inside = (t >= 0) & (t <= (a.n - 1) * a.stride)
    on = inside & (t % a.stride == 0)
    src = np.where(on, t // a.stride, -1)
    kind = np.where(on, INPUT, np.where(inside, INSERTED, PADDING))
    return src, kind


def zero_inserted(x, layer: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """The input of the direct correlation equivalent to a transposed convolution: ``stride -
    1`` zeros inserted between the inputs, ``d*(k - 1) - p`` zeros around (``output_padding``
    more at the bottom/right). Returns the array and the kind of each cell (0 input, 1 an
    inserted zero, 2 padding)."""
    x = np.asarray(x, np.float64)
    (sr, kr), (sc, kc) = (_axis_map(a) for a in layer.axes)
    z = np.zeros((len(sr), len(sc)))
    rr, cc = np.ix_(sr, sc)
    ok = (rr >= 0) & (cc >= 0)
    z[ok] = x[np.broadcast_to(rr, ok.shape)[ok], np.broadcast_to(cc, ok.shape)[ok]]
    kind = np.maximum(kr[:, None], kc[None, :])
    kind = np.where(ok, INPUT, kind)
    return z, kind


@dataclass(frozen=True)
class WindowStep:
    """Output cell ``(row, col)``: the window over padded rows ``rows`` and columns ``cols``,
    the ``values`` there, the ``weights`` multiplied (the flipped kernel) and the engine's
    ``value``."""

    index: int
    row: int
    col: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    values: np.ndarray
    weights: np.ndarray
    value: float
    equation: tuple[str, ...]


def _product_lines(vals: np.ndarray, wts: np.ndarray, value: float) -> tuple[str, ...]:
    """One line per kernel row, the running sum after each, the engine's value at the end
    (the sliding window's layout)."""
    kh, kw = wts.shape
    cells = [[f"{paren(fmt(vals[r, c]))}{TIMES}{paren(fmt(wts[r, c]))}" for c in range(kw)]
             for r in range(kh)]
    widths = [max(len(cells[r][c]) for r in range(kh)) for c in range(kw)]
    lines, running = [], 0.0
    for r in range(kh):
        terms = " + ".join(cells[r][c].ljust(widths[c]) if c < kw - 1 else cells[r][c]
                           for c in range(kw))
        running += float((vals[r] * wts[r]).sum())
        tail = f" = {fmt(value)}" if r == kh - 1 else f" → {fmt(running)}"
        lines.append(("  " if r == 0 else "+ ") + terms + tail)
    return tuple(lines)


@dataclass(frozen=True)
class Names:
    """The words of a zero-insertion figure (a transposed convolution, or a gradient)."""

    role: str = "input"
    inp: str = "INPUT"
    out: str = "OUTPUT"
    kernel: str = "KERNEL"
    symbol: str = ""


def zero_insertion_steps(x, w, layer: Geometry, out: np.ndarray) -> list[WindowStep]:
    z, _ = zero_inserted(x, layer)
    wf = np.asarray(w, np.float64)[::-1, ::-1]
    rows_ax, cols_ax = layer.axes
    win = Windows(z.shape, wf.shape, (1, 1), (rows_ax.dilation, cols_ax.dilation))
    if win.out_hw != layer.out_shape:
        raise ValueError(f"window grid {win.out_hw} does not match the output {layer.out_shape}")
    out = np.asarray(out, np.float64)
    steps = []
    for i in range(win.out_hw[0]):
        rows = win.rows(i)
        for j in range(win.out_hw[1]):
            cols = win.cols(j)
            vals = z[np.ix_(rows, cols)]
            value = float(out[i, j])
            steps.append(WindowStep(len(steps), i, j, tuple(int(r) for r in rows),
                                    tuple(int(c) for c in cols), vals, wf, value,
                                    _product_lines(vals, wf, value)))
    return steps


def zero_insertion(x, w, layer: Geometry, out: np.ndarray, *, look: Look = NORMAL,
                   names: Names = Names(), style: Style = LIGHT) -> Animation:
    """Transposed convolution as a plain correlation: the input with ``stride - 1`` zeros
    between its cells, padded by ``d*(k - 1) - p``, read by the flipped kernel at stride 1,
    one frame per output cell. The window positions are :class:`conv.geometry.Windows` over
    the zero-inserted input; the values the engine's ``out``."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    z, kind = zero_inserted(x, layer)
    steps = zero_insertion_steps(x, w, layer, out)
    ph, pw = z.shape
    kh, kw = w.shape
    ho, wo = layer.out_shape
    n = len(steps)
    eq_chars = max(len(line) for s in steps[:60] for line in s.equation) + 2
    title = f"Step {n} of {n} · row {ho}, col {wo}"
    what = "Output size" if names.out == "OUTPUT" else f"{names.out} size"
    formula = _size_formula(layer, what, look=look)
    pads = [a.span - 1 - a.before for a in layer.axes]
    strides = [a.stride for a in layer.axes]
    ops_ = [a.output_padding for a in layer.axes]

    h, wd = x.shape
    l_z = _two(look, f"{names.inp} {h} x {wd}", f"→ {ph} x {pw}")
    l_f = _two(look, "ROTATED", "180°")
    l_o = f"{names.out} ({ho} x {wo})"
    s_txt = "/".join(str(v) for v in sorted(set(strides)))
    p_txt = "/".join(str(v) for v in sorted(set(pads)))
    note = (f"{names.inp} with stride - 1 zeros between its cells (s = {s_txt}) and "
            f"d*(k - 1) - p = {p_txt} zeros around")
    if any(ops_):
        note += (f", output_padding {'/'.join(str(v) for v in sorted(set(ops_)))} more at the "
                 "bottom/right")
    note += "; grey: zeros."

    def place(band: float, cell: float, row: bool = False, under_all: bool = False):
        """The zero-inserted input at the left, the kernels at its right and the output under
        them, or (``row``: a wide, short figure) at their right; the note under the input, or
        (``under_all``: a narrow figure, where it would take many short lines) under
        everything, across the figure."""
        top_u = band * _lines(l_z)
        zb = Box(0, top_u, ph, pw)
        x2 = max(zb.right + GAP, _tw(look, cell, l_z) + 0.5)
        kb = Box(x2, top_u, kh, kw)
        fb = Box(max(kb.right + GAP, kb.x + _tw(look, cell, names.kernel) + 0.5), top_u, kh, kw)
        kernels_w = fb.x + max(kw, _tw(look, cell, l_f))
        ob = (Box(kernels_w + GAP, top_u, ho, wo) if row else
              Box(x2, top_u + kh + band * 1.2, ho, wo))
        width = max(kernels_w, ob.x + max(wo, _tw(look, cell, l_o)))
        if under_all:
            at = Box(0, max(zb.bottom, ob.bottom), 0, 0)
            lines = len(_wrap(note, _small_chars(look, cell, width)))
            return ({"z": zb, "k": kb, "f": fb, "o": ob, "note": at, "note_w": width}, width,
                    at.bottom + 0.15 + lines * _small_line_u(look, cell))
        lines = len(_wrap(note, _small_chars(look, cell, pw)))
        return ({"z": zb, "k": kb, "f": fb, "o": ob, "note": zb, "note_w": pw}, width,
                max(zb.bottom + 0.15 + lines * _small_line_u(look, cell), ob.bottom))

    boxes, width, height, sz = max(
        (_sized(look, lambda b, c, row=row, under=under: place(b, c, row, under), kh,
                eq_chars, len(title), len(formula))
         for row in (False, True) for under in (False, True)),
        key=lambda laid: laid[3].cell - laid[2] * 1e-6)  # larger cells; else the shorter
    kit = _Kit(look, sz.cell, style)
    zb, kb, fb, ob = boxes["z"], boxes["k"], boxes["f"], boxes["o"]
    kit.panel(zb, z, names.role, name="zero-inserted", zeros=kind != INPUT)
    # the input's own extent, dashed: the zeros inside it were inserted, those outside padding
    src_r = np.nonzero(kind.min(axis=1) != PADDING)[0]
    src_c = np.nonzero(kind.min(axis=0) != PADDING)[0]
    if len(src_r) and len(src_c) and (len(src_r) < ph or len(src_c) < pw):
        kit.frame(zb, names.role, dash="dash",
                  rect=(src_r[0], src_r[-1] + 1, src_c[0], src_c[-1] + 1))
    kit.label(zb, l_z, names.role)
    kit.label(boxes["note"], "<br>".join(_wrap(note, _small_chars(look, sz.cell, boxes["note_w"]))),
              None, below=True, small=True)
    kit.panel(kb, w, "kernel", name="kernel")
    kit.label(kb, names.kernel, "kernel")
    kit.panel(fb, w[::-1, ::-1], "kernel", name="flipped kernel")
    kit.label(fb, l_f, "kernel")
    kit.symbol((kb.right + fb.x) / 2, kb.y + kh / 2, "→")
    if ob.y == kb.y:  # the output in the row: it is what the rotated kernel computes
        kit.symbol((fb.right + ob.x) / 2, fb.y + kh / 2, "=")
    kit.panel(ob, np.asarray(out, np.float64), "output", name="output")
    kit.label(ob, l_o, "output")

    scene_steps, labels = [], []
    for k, s in enumerate(steps):
        rects = _window_rects(zb, s.rows, s.cols) + [ob.corners(s.row, s.row + 1, s.col,
                                                                s.col + 1)]
        rects.append(fb.corners(0, kh, 0, kw))
        shapes = [{"path": rects_path(rects)}, {"path": _pending(ob, k + 1)}]
        where = f"{names.symbol + ' ' if names.symbol else ''}row {s.row + 1}, col {s.col + 1}"
        scene_steps.append((shapes, [f"Step {k + 1} of {n} · {where}", "<br>".join(s.equation)]))
        labels.append(str(k + 1))
    click = {"x": [coord(ob.x + s.col + 0.5) for s in steps],
             "y": [coord(ob.y + s.row + 0.5) for s in steps], "step": [s.index for s in steps]}
    scene = _scene(kit, sz, width, height, formula, [_hl(style), _mask(style)], [], scene_steps,
                   labels,
                   click)
    return animate(scene, steps)


# --------------------------------------------------------------------------------------------
# 1-D and causal convolution
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignalStep:
    """Output ``y[index]``: padded positions ``taps`` (padded index = time + ``before``), the
    samples there, the weights and the engine's ``value``."""

    index: int
    taps: tuple[int, ...]
    values: np.ndarray
    weights: np.ndarray
    value: float
    equation: tuple[str, ...]


def conv1d_steps(x, w, layer: Geometry, out) -> list[SignalStep]:
    (a,) = layer.axes
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    padded = np.zeros(a.padded)
    padded[a.before:a.before + a.n] = x[:max(0, min(a.n, a.padded - a.before))]
    out = np.asarray(out, np.float64)
    steps = []
    for o in range(a.out):
        taps = a.taps(o)
        vals = padded[taps]
        value = float(out[o])
        sym = " + ".join(f"x[{int(t) - a.before}]·w[{k}]" for k, t in enumerate(taps))
        num = " + ".join(f"{paren(fmt(v))}{TIMES}{paren(fmt(c))}" for v, c in zip(vals, w))
        lead = f"y[{o}] = "
        steps.append(SignalStep(o, tuple(int(t) for t in taps), vals, w, value,
                                (lead + sym, " " * (len(lead) - 2) + "= " + num
                                 + f" = {fmt(value)}")))
    return steps


def output_anchor(layer: Geometry) -> int:
    """Where output ``o`` is drawn on the time axis: under padded position ``o*s + anchor``
    (its window's centre for "same", its last tap for "causal" and "full", its first for
    "valid")."""
    (a,) = layer.axes
    return min(a.before, a.span - 1)


def conv1d_animation(x, w, layer: Geometry, out, *, look: Look = NORMAL,
                     padding_word: str = "", style: Style = LIGHT) -> Animation:
    """A 1-D kernel sliding along a time axis: the signal (with its padding: for "causal",
    the past only), the kernel under the window, the products, the output growing; one frame
    per output sample. ``layer`` from :func:`conv.geometry.conv_geometry` over ``(L,)``."""
    (a,) = layer.axes
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    steps = conv1d_steps(x, w, layer, out)
    out = np.asarray(out, np.float64)
    p_len, n_out, k = a.padded, a.out, a.k
    anchor = output_anchor(layer)
    out_pos = [o * a.stride + anchor for o in range(n_out)]
    n = len(steps)
    eq_chars = max(len(line) for s in steps for line in s.equation) + 2
    title = f"Step {n} of {n} · y[{n - 1}] at time {n - 1}"
    formula = _size_formula(layer, "Output length")
    margin = 2.2

    tap = anchor // a.dilation if anchor % a.dilation == 0 else None
    where = ("its window's first tap" if anchor == 0 else
             "its window's last tap" if anchor == a.span - 1 else
             "its window's centre" if 2 * anchor == a.span - 1 else
             f"tap {tap} of its window" if tap is not None else
             f"the sample {anchor} after its window's start")
    align = f"Each y[o] is drawn under {where}"
    align += (": y[t] sees x[t] and the past only." if padding_word == "causal" else ".")

    def place(band: float, cell: float):
        sig = Box(margin, band + 0.7, 1, p_len)
        ker = Box(margin, sig.bottom + 0.35, 1, p_len)
        prod = Box(margin, ker.bottom + 0.35, 1, p_len)
        outb = Box(margin, prod.bottom + 0.9, 1, p_len)
        return ({"sig": sig, "ker": ker, "prod": prod, "out": outb}, margin + p_len,
                outb.bottom + 0.7 + band + _small_line_u(look, cell))

    boxes, width, height, sz = _sized(look, place, 2, eq_chars, len(title), len(formula))
    kit = _Kit(look, sz.cell, style)
    sig, ker, prod, outb = boxes["sig"], boxes["ker"], boxes["prod"], boxes["out"]
    padded = np.zeros(p_len)
    padded[a.before:a.before + a.n] = x[:max(0, min(a.n, p_len - a.before))]
    is_pad = np.ones(p_len, bool)
    is_pad[a.before:a.before + a.n] = False
    kit.panel(sig, padded[None], "input", name="signal", zeros=is_pad[None])
    if is_pad.any():
        kit.frame(sig, "input", dash="dash", rect=(0, 1, a.before, a.before + a.n))
    word = f", padding '{padding_word}'" if padding_word else ""
    pads = f" + {a.before} before" + (" (the past)" if padding_word == "causal" else "")
    if a.after:
        pads += f" + {a.after} after"
    kit.label(Box(0, sig.y - 0.55, 1, 1), f"INPUT x ({a.n} samples{pads if a.before or a.after else ''}{word})",
              "input")
    small = max(9, look.label_font - 4)
    for t in range(p_len):  # the time axis
        kit.texts.append({"showarrow": False, "xref": "x", "yref": "y", "text": str(t - a.before),
                          "x": coord(sig.x + t + 0.5), "y": coord(sig.y - 0.05),
                          "xanchor": "center", "yanchor": "bottom",
                          "font": {"size": small, "family": SANS,
                                   "color": zero_colours(style)[1] if is_pad[t]
                                   else kit.colour("input")}})
    kit.texts.append({"showarrow": False, "xref": "x", "yref": "y", "text": "t", "x": coord(0.2),
                      "y": coord(sig.y - 0.05), "xanchor": "left", "yanchor": "bottom",
                      "font": {"size": small, "family": SANS, "color": style.muted}})
    # the kernel and product strips: blank cells, written by each step
    blank, blank_text = blank_colours(style)
    kit.grids.append(Grid(ker, np.zeros((1, p_len)), None, _flat(blank), 0, 1, 0,
                          name="kernel strip"))
    kit.grids.append(Grid(prod, np.zeros((1, p_len)), None, _flat(blank), 0, 1, 0,
                          name="products"))
    zout = np.full((1, p_len), np.nan)
    otext = [[""] * p_len]
    chars = kit.chars
    for o, pos in enumerate(out_pos):
        zout[0, pos] = out[o]
        otext[0][pos] = fit_number(out[o], chars)
    lo, hi = _rng(out)
    longest = max(len(t) for t in otext[0])
    font_o = _cell_font(look, sz.cell, longest)
    kit.grids.append(Grid(outb, zout, otext if font_o else None,
                          [list(p) for p in ROLES["output"].scale], lo, hi, font_o, CELL_TEXT,
                          name="output"))
    for o, pos in enumerate(out_pos):
        kit.frame(outb, "output", rect=(0, 1, pos, pos + 1))
        kit.texts.append({"showarrow": False, "xref": "x", "yref": "y", "text": str(o),
                          "x": coord(outb.x + pos + 0.5), "y": coord(outb.bottom + 0.05),
                          "xanchor": "center", "yanchor": "top",
                          "font": {"size": small, "family": SANS,
                                   "color": kit.colour("output")}})
    for box, name, role in ((sig, "x", "input"), (ker, "w", "kernel"), (prod, "x·w", None),
                            (outb, "y", "output")):
        kit.texts.append({"showarrow": False, "xref": "x", "yref": "y", "text": f"<b>{name}</b>",
                          "x": coord(margin - 0.25), "y": coord(box.y + 0.5), "xanchor": "right",
                          "yanchor": "middle",
                          "font": {"size": int(look.label_font * 1.15), "family": SANS,
                                   "color": kit.colour(role)}})
    kit.label(Box(margin, outb.bottom + 0.55, 0, p_len), f"OUTPUT y ({n_out} samples)",
              "output")
    kit.texts[-1]["yanchor"] = "top"
    band = _label_px(look) / sz.cell
    kit.label(Box(margin, outb.bottom + 0.55 + band, 0, p_len), align, None, small=True)
    kit.texts[-1]["yanchor"] = "top"
    kw_texts = [fmt(v) for v in w]
    prods = [[fmt(v * c) for v, c in zip(s.values, w)] for s in steps]
    longest = max([len(t) for t in kw_texts] + [len(t) for p in prods for t in p]
                  + [len(fit_number(v, chars)) for v in padded])
    font = _cell_font(look, sz.cell, longest) or MIN_TEXT_PX
    ker_t = kit.cell_texts(ker, font, colour=ROLES["kernel"].label if not style.dark
                           else kit.colour("kernel"))
    prod_t = kit.cell_texts(prod, font, colour=blank_text)
    kstyle = {"type": "path", "layer": "below",
              "line": {"color": ROLES["kernel"].line, "width": style.width(2)},
              "fillcolor": "#DDF3EA"}
    scene_steps, labels = [], []
    for k, s in enumerate(steps):
        pos = out_pos[k]
        rects = [sig.corners(0, 1, t, t + 1) for t in s.taps]
        rects.append(outb.corners(0, 1, pos, pos + 1))
        pending = [outb.corners(0, 1, q, q + 1) for q in out_pos[k + 1:]]
        kcells = [ker.corners(0, 1, t, t + 1) for t in s.taps]
        kcells += [prod.corners(0, 1, t, t + 1) for t in s.taps]
        shapes = [{"path": rects_path(kcells)}, {"path": rects_path(rects)},
                  {"path": rects_path(pending) if pending else _nowhere(outb)}]
        ktexts = [""] * p_len
        ptexts = [""] * p_len
        for j, t in enumerate(s.taps):
            ktexts[t] = kw_texts[j]
            ptexts[t] = prods[k][j]
        scene_steps.append((shapes, [f"Step {k + 1} of {n} · y[{k}]", "<br>".join(s.equation)]
                            + ktexts + ptexts))
        labels.append(str(k + 1))
    click = {"x": [coord(outb.x + p + 0.5) for p in out_pos], "y": [coord(outb.y + 0.5)] * n,
             "step": list(range(n))}
    scene = _scene(kit, sz, width, height, formula, [kstyle, _hl(style), _mask(style)],
                   ker_t + prod_t,
                   scene_steps, labels, click)
    return animate(scene, steps)


# --------------------------------------------------------------------------------------------
# im2col
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnStep:
    """Column ``index`` of the patch matrix: output cell ``(row, col)``'s window (padded rows
    ``rows``, columns ``cols``), the ``column`` (the engine's im2col), the kernel row and
    their product ``value`` (= the convolution's output there)."""

    index: int
    row: int
    col: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    column: np.ndarray
    value: float
    equation: tuple[str, ...]


def im2col_steps(w_row, matrix, layer: Geometry, out) -> list[ColumnStep]:
    win = layer.windows
    wo = layer.out_shape[1]
    w_row = np.asarray(w_row, np.float64).ravel()
    matrix = np.asarray(matrix, np.float64)
    out = np.asarray(out, np.float64)
    steps = []
    for l in range(matrix.shape[1]):
        i, j = divmod(l, wo)
        col = matrix[:, l]
        value = float(out.reshape(-1)[l])
        terms = [f"{paren(fmt(a))}{TIMES}{paren(fmt(b))}" for a, b in zip(w_row, col)]
        per = min(len(terms), 9)
        lines = [f"column {l + 1} = the window at row {i + 1}, col {j + 1}, read (c, ky, kx): "
                 + _vec(col), f"y[{l + 1}] = kernel row · column {l + 1}"]
        lines += ["     = " + " + ".join(terms[q:q + per]) if q == 0 else
                  "       + " + " + ".join(terms[q:q + per]) for q in range(0, len(terms), per)]
        lines.append(f"     = {fmt(value)} → output row {i + 1}, col {j + 1}")
        steps.append(ColumnStep(l, i, j, tuple(int(r) for r in win.rows(i)),
                                tuple(int(c) for c in win.cols(j)), col, value, tuple(lines)))
    return steps


def im2col_animation(x, w, layer: Geometry, matrix, out, *, look: Look = NORMAL,
                     style: Style = LIGHT) -> Animation:
    """im2col: each window of the (padded) input becomes one column of the patch matrix
    (``C*kH*kW x L``, the engine's :func:`conv.ops.im2col`); the kernel as a row
    (``1 x C*kH*kW``) times the matrix is the output row (``1 x L``), reshaped to
    ``H_out x W_out``. One frame per column. ``x`` (C, H, W), ``w`` (C, kH, kW)."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    matrix = np.asarray(matrix, np.float64)
    c, h, wd = x.shape
    _, kh, kw = w.shape
    (t, b), (l, r) = layer.padding
    padded = np.pad(x, ((0, 0), (t, b), (l, r)))
    ph, pw = padded.shape[1:]
    ho, wo = layer.out_shape
    kk, n_cols = matrix.shape
    w_row = w.reshape(1, -1)
    steps = im2col_steps(w_row, matrix, layer, out)
    n = len(steps)
    # in a narrow figure (a phone) the lines longer than it is wide (at the smallest equation
    # type, 10 px) folded: the window's numbers under its name, the products a few a line
    eq_limit = max(24, int((look.width_px - 16) / (0.61 * 10)))

    def fold(line: str) -> list[str]:
        if len(line) <= eq_limit:
            return [line]
        head, sep, tail = line.partition(": ")
        if sep and tail.startswith("["):
            return [head + ":", "  " + tail]
        parts = line.split(" + ")
        lines, cur = [], parts[0]
        for part in parts[1:]:
            if len(cur) + 3 + len(part) > eq_limit:
                lines.append(cur)
                cur = "       + " + part
            else:
                cur += " + " + part
        return lines + [cur]

    equations = [[f for line in s.equation for f in fold(line)] for s in steps]
    eq_chars = max(len(line) for eq in equations[:40] for line in eq) + 2
    n_eq = max(len(eq) for eq in equations)
    title = f"Column {n} of {n} · window at row {ho}, col {wo}"
    shapes_txt = (f"Shapes: patch matrix C*kH*kW x L = {c}*{kh}*{kw} x {n_cols} = {kk} x "
                  f"{n_cols}; kernel row 1 x {kk}; product 1 x {n_cols} → {ho} x {wo}")
    # labels on two lines in a narrow figure (side by side on one they run into each other)
    l_in = (_two(look, "INPUT" if c == 1 else "INPUT channel 1", f"({h} x {wd})")
            + (" + padding" if (t, b, l, r) != (0, 0, 0, 0) else ""))
    l_k = _two(look, "KERNEL", f"({c} x {kh} x {kw})" if c > 1 else f"({kh} x {kw})")
    l_o = _two(look, "OUTPUT", f"({ho} x {wo})")
    l_m = _two(look, "PATCH MATRIX", f"({kk} x {n_cols})")
    l_kr = _two(look, "KERNEL ROW", f"(1 x {kk})")
    l_y = _two(look, "OUTPUT ROW", f"(1 x {n_cols})")
    lines = _lines(l_m)

    def place(band: float, cell: float):
        band *= lines
        ins = [Box(q * max(pw + GAP, _tw(look, cell, l_in) + 0.5), band, ph, pw)
               for q in range(c)]
        kers = [Box(q * (kw + GAP * 0.6), ins[0].bottom + band, kh, kw) for q in range(c)]
        ob = Box(max(kers[-1].right + GAP, _tw(look, cell, l_k) + 0.5), kers[0].y, ho, wo)
        kr_w = max(kk, _tw(look, cell, l_kr))
        left_w = max(ins[-1].x + max(pw, _tw(look, cell, l_in)), ob.x + max(
            wo, _tw(look, cell, l_o)), kr_w)
        left_h = max(kers[-1].bottom, ob.bottom)
        mx = Box(left_w + GAP * 1.5, band, kk, n_cols)
        row_y = max(mx.bottom, left_h) + band + 0.6 * band / lines
        kr = Box(mx.x - GAP * 1.5 - kr_w, row_y, 1, kk)
        yr = Box(mx.x, row_y, 1, n_cols)
        width = max(mx.x + max(n_cols, _tw(look, cell, l_m), _tw(look, cell, l_y)), mx.right)
        return ({"in": ins, "k": kers, "o": ob, "m": mx, "kr": kr, "y": yr}, width,
                yr.bottom + 0.5 * band / lines)

    boxes, width, height, sz = _sized(look, place, n_eq, eq_chars, len(title),
                                      len(shapes_txt))
    kit = _Kit(look, sz.cell, style)
    ins, kers, ob, mx, kr, yr = (boxes[k] for k in ("in", "k", "o", "m", "kr", "y"))
    inner = np.zeros((ph, pw), bool)
    inner[t:t + h, l:l + wd] = True
    for q, box in enumerate(ins):
        kit.panel(box, padded[q], "input", name=f"input {q}", zeros=~inner if not inner.all()
                  else None)
        if not inner.all():
            kit.frame(box, "input", dash="dash", rect=(t, t + h, l, l + wd))
        kit.label(box, l_in.replace("channel 1", f"channel {q + 1}"), "input")
    for q, box in enumerate(kers):
        kit.panel(box, w[q], "kernel", name=f"kernel {q}")
    kit.label(kers[0], l_k, "kernel")
    kit.panel(ob, np.asarray(out, np.float64).reshape(ho, wo), "output", name="output")
    kit.label(ob, l_o, "output")
    kit.panel(mx, matrix, "input", name="patch matrix")
    kit.label(mx, l_m, "input")
    kit.panel(kr, w_row, "kernel", name="kernel row")
    kit.label(kr, l_kr, "kernel")
    kit.panel(yr, np.asarray(out, np.float64).reshape(1, -1), "output", name="output row")
    kit.label(yr, l_y, "output")
    # the patch matrix's row names: which channel and tap each row holds
    small = max(8, min(look.label_font - 4, int(sz.cell * 0.42)))
    for rr in range(kk):
        cq, rem = divmod(rr, kh * kw)
        ky, kx = divmod(rem, kw)
        name = f"{cq + 1},{ky + 1},{kx + 1}" if c > 1 else f"{ky + 1},{kx + 1}"
        kit.texts.append({"showarrow": False, "xref": "x", "yref": "y", "text": name,
                          "x": coord(mx.x - 0.1), "y": coord(mx.y + rr + 0.5), "xanchor": "right",
                          "yanchor": "middle",
                          "font": {"size": small, "family": SANS, "color": style.muted}})
    scene_steps, labels = [], []
    for k, s in enumerate(steps):
        rects = []
        for box in ins:
            rects += _window_rects(box, s.rows, s.cols)
        rects += [mx.corners(0, kk, k, k + 1), yr.corners(0, 1, k, k + 1),
                  ob.corners(s.row, s.row + 1, s.col, s.col + 1)]
        masks = []
        if k + 1 < n_cols:
            masks += [mx.corners(0, kk, k + 1, n_cols), yr.corners(0, 1, k + 1, n_cols)]
        mpath = rects_path(masks) if masks else _nowhere(mx)
        shapes = [{"path": rects_path(rects)}, {"path": mpath}, {"path": _pending(ob, k + 1)}]
        scene_steps.append((shapes, [(f"Column {k + 1} of {n} · window at row {s.row + 1}, "
                                     f"col {s.col + 1}"), "<br>".join(equations[k])]))
        labels.append(str(k + 1))
    click = {"x": [coord(yr.x + k + 0.5) for k in range(n)], "y": [coord(yr.y + 0.5)] * n,
             "step": list(range(n))}
    kr_frame = {"type": "rect", "layer": "above", **kr.rect(0, 1, 0, kk),
                "line": {"color": ROLES["kernel"].line, "width": style.width(3)}}
    kit.shapes.append(kr_frame)
    scene = _scene(kit, sz, width, height, shapes_txt, [_hl(style), _mask(style), _mask(style)], [],
                   scene_steps, labels, click)
    return animate(scene, steps)


# --------------------------------------------------------------------------------------------
# The gradient with respect to the weights
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeightGradStep:
    """Weight ``(ky, kx)``: the padded-input cells every output read through that tap (rows
    ``rows`` x columns ``cols``), the upstream gradient, and the engine's ``value``."""

    index: int
    ky: int
    kx: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    values: np.ndarray
    grads: np.ndarray
    value: float
    equation: tuple[str, ...]


def tap_windows(layer: Geometry, out_hw) -> Windows:
    """The cells of the padded input that tap ``(ky, kx)`` reads for every output: a window of
    the upstream gradient's size, ``stride`` apart inside (its dilation), moving ``dilation``
    per tap (its stride). Tap ``(ky, kx)`` is window ``(ky, kx)``."""
    rows, cols = layer.axes
    return Windows((rows.padded, cols.padded), tuple(out_hw), (rows.dilation, cols.dilation),
                   (rows.stride, cols.stride))


def weight_grad_steps(x, g, layer: Geometry, grad_w) -> list[WeightGradStep]:
    rows_ax, cols_ax = layer.axes
    (t, b), (l, r) = layer.padding
    xp = np.pad(np.asarray(x, np.float64), ((t, b), (l, r)))
    g = np.asarray(g, np.float64)
    grad_w = np.asarray(grad_w, np.float64)
    win = tap_windows(layer, g.shape)
    steps = []
    for ky in range(rows_ax.k):
        rr = win.rows(ky)
        for kx in range(cols_ax.k):
            cc = win.cols(kx)
            vals = xp[np.ix_(rr, cc)]
            value = float(grad_w[ky, kx])
            lines = []
            for i in range(g.shape[0]):
                terms = " + ".join(f"{paren(fmt(g[i, j]))}{TIMES}{paren(fmt(vals[i, j]))}"
                                   for j in range(g.shape[1]))
                lines.append(("  " if i == 0 else "+ ") + terms)
            lines[-1] += f" = {fmt(value)}"
            steps.append(WeightGradStep(len(steps), ky, kx, tuple(int(v) for v in rr),
                                        tuple(int(v) for v in cc), vals, g, value, tuple(lines)))
    return steps


def weight_grad_animation(x, g, layer: Geometry, grad_w, *, look: Look = NORMAL,
                          style: Style = LIGHT) -> Animation:
    """dL/dw: weight ``(ky, kx)`` met, in the forward pass, the input cells under that tap of
    every window; its gradient is their sum weighted by dL/dy: the correlation of the padded
    input with the upstream gradient (taps ``stride`` apart). One frame per weight; values
    the engine's (:func:`conv.ops.conv2d_grad`)."""
    x = np.asarray(x, np.float64)
    g = np.asarray(g, np.float64)
    (t, b), (l, r) = layer.padding
    xp = np.pad(x, ((t, b), (l, r)))
    ph, pw = xp.shape
    ho, wo = g.shape
    kh, kw = layer.axes[0].k, layer.axes[1].k
    steps = weight_grad_steps(x, g, layer, grad_w)
    n = len(steps)
    eq_chars = max(len(line) for s in steps for line in s.equation) + 2
    title = f"Step {n} of {n} · dL/dw row {kh}, col {kw}"
    formula = "dL/dw[ky, kx] = Σ_ij dL/dy[i, j] × x[i*s + ky*d, j*s + kx*d]  (padded x)"

    def place(band: float, cell: float):
        xb = Box(0, band, ph, pw)
        gb = Box(xb.right + GAP, band, ho, wo)
        wb = Box(gb.right + GAP * 1.3, band, kh, kw)
        return {"x": xb, "g": gb, "w": wb}, wb.right, max(xb.bottom, gb.bottom, wb.bottom)

    boxes, width, height, sz = _sized(look, place, ho, eq_chars, len(title), len(formula))
    kit = _Kit(look, sz.cell, style)
    xb, gb, wb = boxes["x"], boxes["g"], boxes["w"]
    inner = np.zeros((ph, pw), bool)
    inner[t:t + x.shape[0], l:l + x.shape[1]] = True
    kit.panel(xb, xp, "input", name="input", zeros=~inner if not inner.all() else None)
    if not inner.all():
        kit.frame(xb, "input", dash="dash", rect=(t, t + x.shape[0], l, l + x.shape[1]))
    kit.label(xb, f"INPUT x ({x.shape[0]} x {x.shape[1]})" + (" + padding" if not inner.all()
                                                               else ""), "input")
    kit.panel(gb, g, "grad", name="upstream")
    kit.label(gb, f"dL/dy ({ho} x {wo})", "grad")
    kit.panel(wb, np.asarray(grad_w, np.float64), "output", name="dL/dw")
    kit.label(wb, f"dL/dw ({kh} x {kw})", "output")
    kit.symbol(xb.right + GAP / 2, xb.y + ph / 2, "⋆")
    kit.symbol(gb.right + GAP * 0.65, gb.y + ho / 2, "=")
    gframe = {"type": "rect", "layer": "above", **gb.rect(0, ho, 0, wo),
              "line": {"color": VERMILLION, "width": style.width(3)}}
    kit.shapes.append(gframe)
    scene_steps, labels = [], []
    for k, s in enumerate(steps):
        rects = _window_rects(xb, s.rows, s.cols) + [wb.corners(s.ky, s.ky + 1, s.kx, s.kx + 1)]
        shapes = [{"path": rects_path(rects)}, {"path": _pending(wb, k + 1)}]
        scene_steps.append((shapes, [(f"Step {k + 1} of {n} · dL/dw row {s.ky + 1}, col "
                                     f"{s.kx + 1}"), "<br>".join(s.equation)]))
        labels.append(str(k + 1))
    click = {"x": [coord(wb.x + s.kx + 0.5) for s in steps],
             "y": [coord(wb.y + s.ky + 0.5) for s in steps], "step": list(range(n))}
    scene = _scene(kit, sz, width, height, formula, [_hl(style), _mask(style)], [], scene_steps,
                   labels,
                   click)
    return animate(scene, steps)


# --------------------------------------------------------------------------------------------
# Groups: which input channels each filter sees
# --------------------------------------------------------------------------------------------

# Okabe & Ito's, grey last (their black would vanish on a dark page)
GROUP_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
                 "#7A7A7A")


def connections(c_in: int, c_out: int, groups: int) -> np.ndarray:
    """``(c_out, c_in)``: the group of each connection (filter o sees channel c), -1 none."""
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide both the input channels ({c_in}) and the "
                         f"filters ({c_out})")
    cpg, opg = c_in // groups, c_out // groups
    m = np.full((c_out, c_in), -1)
    for o in range(c_out):
        g = o // opg
        m[o, g * cpg:(g + 1) * cpg] = g
    return m


def groups_figure(c_in: int, c_out: int, groups: int, kernel: int = 3, *,
                  look: Look = NORMAL, style: Style = LIGHT) -> go.Figure:
    """Filters as rows, input channels as columns; a cell is coloured by its group when the
    filter sees the channel (and says what it holds: a ``k x k`` slice), blank otherwise
    (the page's background: white, or ``style.panel`` on a dark page)."""
    m = connections(c_in, c_out, groups)
    cell = max(22.0, min(64.0, (look.width_px - 160) / max(c_in, 1), 520 / max(c_out, 1)))
    colours = [GROUP_COLOURS[g % len(GROUP_COLOURS)] for g in range(groups)]
    none = style.panel if style.dark else "#FFFFFF"
    scale = [[0.0, none], [1 / (groups + 1), none]]
    for g, col in enumerate(colours):
        scale += [[(g + 1) / (groups + 1), col], [min(1.0, (g + 2) / (groups + 1)), col]]
    scale[-1][0] = 1.0
    # plotly wants strictly increasing stops: drop duplicates at the joins
    clean = []
    for pos, col in scale:
        if clean and pos <= clean[-1][0]:
            pos = clean[-1][0] + 1e-9
        clean.append([min(pos, 1.0), col])
    clean[-1][0] = 1.0
    z = (m + 1).astype(float)
    text = [[f"{kernel}x{kernel}" if m[o, c] >= 0 else "" for c in range(c_in)]
            for o in range(c_out)]
    font = int(min(look.max_cell_font, cell * 0.32))
    fig = go.Figure(go.Heatmap(
        z=z, zmin=0, zmax=groups, colorscale=clean, showscale=False, xgap=3, ygap=3,
        text=text, texttemplate="%{text}" if font >= MIN_TEXT_PX else "",
        textfont={"size": font, "color": "#FFFFFF", "family": SANS},
        x=[f"ch {c + 1}" for c in range(c_in)], y=[f"W{o + 1}" for o in range(c_out)],
        hovertemplate="filter %{y} sees input %{x}<extra></extra>"))
    tick = {"size": max(12, look.label_font - 2), "family": SANS, "color": style.text}
    fig.update_layout(
        height=int(cell * c_out + 110), margin={"l": 70, "r": 10, "t": 70, "b": 10},
        xaxis={"side": "top", "tickfont": tick, "fixedrange": True,
               "title": {"text": "INPUT CHANNELS",
                         "font": {**tick, "color": ROLES["input"].label_on(style),
                                  "weight": "bold"}}},
        yaxis={"autorange": "reversed", "tickfont": tick, "fixedrange": True,
               "scaleanchor": "x", "constrain": "domain",
               "title": {"text": "FILTERS (output channels)",
                         "font": {**tick, "color": ROLES["output"].label_on(style),
                                  "weight": "bold"}}},
        dragmode=False, template={"data": {}, "layout": {}})
    fig.update_layout(**style.layout())
    fig.update_layout(font={"family": SANS, "color": style.text})
    return fig

