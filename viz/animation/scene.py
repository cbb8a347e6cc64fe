"""A scene: grids, shapes and texts in cell units, drawn by Plotly and by Pillow alike.

Here are the pieces every scene is built from: the boxes where grids go, the grids and their
cell texts, the cell size and fonts that fit a :class:`~viz.animation.look.Look`, and the text
templates every scene shares (the step line, the equation, the output-size formula, the note
on hidden numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viz.animation.look import Look
from viz.animation.palette import DIVERGING, GREYS, MONO, SANS
from viz.animation.steps import fit_number, fmt
from viz.style import LIGHT, Style

# Input channels and filters a scene lays out: more would not fit side by side on a screen.
MAX_CHANNELS = 4

# --------------------------------------------------------------------------------------------
# Boxes and paths, in cell units
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Box:
    """A grid's place in the scene, in cell units (x right, y down); each of its cells is
    ``unit`` cell units wide (a kernel drawn larger than the input's cells)."""

    x: float
    y: float
    h: int
    w: int
    unit: float = 1.0

    def rect(self, r0: float, r1: float, c0: float, c1: float) -> dict:
        u = self.unit
        return {"x0": coord(self.x + c0 * u), "x1": coord(self.x + c1 * u),
                "y0": coord(self.y + r0 * u), "y1": coord(self.y + r1 * u)}

    @property
    def hidden(self) -> dict:
        """A rectangle of zero area at the box's top right: a shape with nothing to show."""
        return self.rect(0, 0, self.w, self.w)

    def corners(self, r0: float, r1: float, c0: float, c1: float) -> tuple:
        """``(x0, y0, x1, y1)`` of rows ``[r0, r1)`` and columns ``[c0, c1)``."""
        u = self.unit
        return (coord(self.x + c0 * u), coord(self.y + r0 * u), coord(self.x + c1 * u),
                coord(self.y + r1 * u))

    def window(self, rows, cols) -> dict:
        return self.rect(rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)

    @property
    def right(self) -> float:
        return self.x + self.w * self.unit

    @property
    def bottom(self) -> float:
        return self.y + self.h * self.unit

    @property
    def cx(self) -> float:
        return self.x + self.w * self.unit / 2


def rects_path(rects) -> str:
    """Rectangles ``(x0, y0, x1, y1)`` as one SVG path: ``M x0,y0 H x1 V y1 H x0 Z`` each."""
    return "".join(f"M{a},{b}H{c}V{d}H{a}Z" for a, b, c, d in rects)


def path_rects(path: str) -> list[tuple[float, float, float, float]]:
    """The rectangles of a path written by :func:`rects_path` (for the GIF and the tests); an empty
    move (``M x,y Z``) has none."""
    import re

    return [tuple(float(v) for v in m) for m in
            re.findall(r"M(-?[\d.]+),(-?[\d.]+)H(-?[\d.]+)V(-?[\d.]+)H-?[\d.]+Z", path)]


def coord(v: float):
    """Coordinates as JSON-short numbers: ints where integral, else 3 decimals."""
    v = round(float(v), 3)
    return int(v) if v.is_integer() else v


# --------------------------------------------------------------------------------------------
# Grids, the scene, and the texts of their cells
# --------------------------------------------------------------------------------------------

@dataclass
class Grid:
    """One heatmap of the scene: its values, cell texts and colour scale."""

    box: Box
    z: np.ndarray            # float; NaN = transparent
    text: list | None        # rows of strings, or None
    colorscale: list
    zmin: float
    zmax: float
    font_px: int
    font_color: str | None = None
    italic: bool = False
    name: str = ""


@dataclass
class Scene:
    """Everything drawn, in cell units; ``steps[k]`` holds frame ``k``'s dynamic shapes and
    texts (full dicts, same length and order in every step)."""

    look: Look
    cell_px: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    grids: list
    static_shapes: list
    static_texts: list
    dyn_shapes: list          # templates (style) of the dynamic shapes
    dyn_texts: list           # templates of the dynamic annotations
    steps: list               # per step: (list of shape coords, list of texts)
    step_labels: list
    click: dict | None        # x, y, step index of each clickable output cell
    style: Style = LIGHT
    hidden: tuple = ()        # names of the grids whose numbers are too small to show


CHAR_W = 0.6  # a digit's width in em, Arial and DejaVu alike
HIDDEN_NOTE = ("Numbers too small to read at this size are hidden: hover a cell for its value, "
               "or click an output cell to see its window's numbers under the figure.")


def cell_numbers(a: np.ndarray, look: Look, cell_px: float, mask: np.ndarray | None = None):
    """The cell texts of a grid and their font size in px (``(None, 0)`` when the font would
    be smaller than ``look.legible_px``: numbers nobody can read are hidden, and a note says so).

    Values are shortened (decimals first) to what fits at the look's smallest cell font, never
    below 3 characters; the font is then as large as the longest text allows, up to half the
    cell and the look's maximum.
    """
    chars = max(3, int(cell_px * 0.92 / (CHAR_W * look.min_cell_font)))
    texts = _texts(a, chars, mask)
    longest = max((len(t) for row in texts for t in row), default=1) or 1
    font = min(look.max_cell_font, int(cell_px * 0.5), int(cell_px * 0.92 / (CHAR_W * longest)))
    return (texts, font) if font >= look.legible_px else (None, 0)


def _texts(a: np.ndarray, chars: int, mask: np.ndarray | None = None) -> list:
    out = []
    for r in range(a.shape[0]):
        row = []
        for c in range(a.shape[1]):
            row.append("" if mask is not None and not mask[r, c] else fit_number(a[r, c], chars))
        out.append(row)
    return out


def only_where(cells: list | None, mask: np.ndarray) -> list | None:
    """The cell texts where ``mask`` is true, blanks elsewhere."""
    if cells is None:
        return None
    return [[t if mask[i, j] else "" for j, t in enumerate(row)] for i, row in enumerate(cells)]


def _range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        lo, hi = (lo - 1, hi + 1) if lo != 0 else (0.0, 1.0)
    return lo, hi


def scale_for(values: np.ndarray) -> tuple[list, float, float]:
    """Greys for a map without negative values (an image), PuOr centred on 0 for signed ones."""
    lo, hi = _range(values)
    if lo < 0:
        m = max(abs(lo), abs(hi))
        return DIVERGING, -m, m
    return GREYS, min(lo, 0.0) if hi > 0 else lo, hi


def kernel_cells(k2d: np.ndarray) -> tuple[str, list[list[str]]]:
    """A kernel slice for its panel: a common fraction taken out when that makes the cells short
    (the 1/16 Gaussian shows as 1/16 x [1 2 1; 2 4 2; 1 2 1]), else the weights as the equations
    print them."""
    from kernels.text import format_kernel  # kernels -> conv only; viz may use it

    try:
        lines = format_kernel(np.asarray(k2d, np.float64)).split("\n")
    except ValueError:
        lines = []
    if lines and lines[0].endswith("*"):
        rows = [ln.split() for ln in lines[1:]]
        if len(rows) == k2d.shape[0] and all(len(r) == k2d.shape[1] for r in rows):
            return lines[0][:-1].strip(), rows
    return "", [[fmt(v) for v in row] for row in np.asarray(k2d, np.float64)]


# --------------------------------------------------------------------------------------------
# Layout: the cell size and fonts that fit a look
# --------------------------------------------------------------------------------------------

EQ_GAP_PX = 14  # between the grids (and their captions) and the equation


@dataclass(frozen=True)
class Sizes:
    """What :func:`layout_px` chose: the cell size, the equation's font, and the heights of
    the blocks around the grids."""

    cell: float          # px per cell
    eq_font: int
    head_u: float        # header height, in cells
    eq_u: float          # equation block height, in cells
    formula_y_u: float   # where the formula line starts, below the top, in cells
    formula_below: bool  # the formula has its own line under the step line
    note_px: float = 0.0  # the note on hidden numbers, between the grids and the equation
    beside_u: float = 0.0  # the equation beside the grids: its column's width, gap included,
                           # in cells (0: under the grids)


BESIDE_GAP_PX = 28  # between the grids and an equation beside them


def _note_font(look: Look) -> int:
    return max(12, look.label_font - 2)


def _note_lines(look: Look) -> list[str]:
    """The note on hidden numbers, wrapped to the figure's width."""
    font = _note_font(look)
    return _wrap(HIDDEN_NOTE, max(30, int(look.width_px / (0.5 * font))))


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line] if line else lines


def layout_px(look: Look, grid_w: float, grid_h: float, n_eq: int, eq_chars: int,
              title_chars: int, formula_chars: int, note: bool = False) -> Sizes:
    """Cell size and fonts for a scene of ``grid_w`` x ``grid_h`` cells, a step line of
    ``title_chars``, an output-size formula of ``formula_chars`` and ``n_eq`` equation lines of
    up to ``eq_chars`` characters, within the look's width and height: the equation under the
    grids, or (``look.eq_beside``) beside them when that makes the cells a tenth larger;
    ``note``: room for the note saying that numbers are hidden, under the grids."""
    below = _layout_below(look, grid_w, grid_h, n_eq, eq_chars, title_chars, formula_chars,
                          note)
    if not look.eq_beside or not eq_chars:
        return below
    eq_font = look.eq_font  # monospace: 0.6 em a character; the column takes at most half
    if eq_chars * 0.61 * eq_font + BESIDE_GAP_PX > 0.5 * look.width_px:
        eq_font = max(10, int((0.5 * look.width_px - BESIDE_GAP_PX) / (0.61 * eq_chars)))
    eq_w = eq_chars * 0.61 * eq_font + BESIDE_GAP_PX
    eq_h = n_eq * eq_font * 1.32 + 6
    note_px = len(_note_lines(look)) * _note_font(look) * 1.3 + 4 if note else 0.0
    under = look.label_font * 0.8 + 6 + note_px  # captions (and the note) under the grids

    def fit(header_px: float) -> tuple[float, float]:
        free_h = look.max_height_px - look.controls_px - header_px - 20
        cell = max(4.0, min(look.max_cell_px, (look.width_px - eq_w) / grid_w,
                            max(free_h - under, 60) / grid_h))
        return cell, free_h

    header_px = look.title_font * 1.5 + look.label_font * 1.9
    cell, free_h = fit(header_px)
    side_by_side = (title_chars * 0.55 * look.title_font + formula_chars * 0.5 * look.label_font
                    + 60 <= grid_w * cell + eq_w)
    if not side_by_side:
        header_px += look.label_font * 1.5
        cell, free_h = fit(header_px)
    below_px = (below.head_u + grid_h + below.eq_u) * below.cell + look.controls_px
    overflows = below_px > look.max_height_px + look.extra_height_px
    if eq_h > free_h or (cell < 1.1 * below.cell and not overflows):
        return below
    eq_u = max(under / cell, eq_h / cell - grid_h + 0.1)
    return Sizes(cell, eq_font, header_px / cell, eq_u,
                 0.0 if side_by_side else look.title_font * 1.5 / cell, not side_by_side,
                 note_px=note_px, beside_u=eq_w / cell)


def _layout_below(look: Look, grid_w: float, grid_h: float, n_eq: int, eq_chars: int,
                  title_chars: int, formula_chars: int, note: bool = False) -> Sizes:
    """:func:`layout_px` with the equation under the grids."""
    eq_font = look.eq_font
    if eq_chars:
        eq_font = max(10, min(eq_font, int(look.width_px / (0.61 * eq_chars))))
    note_px = len(_note_lines(look)) * _note_font(look) * 1.3 + 4 if note else 0.0
    eq_px = n_eq * eq_font * 1.32 + look.label_font * 0.8 + EQ_GAP_PX + 6 + note_px

    def fit(header_px: float) -> float:
        cell = 0.0
        for height in (look.max_height_px, look.max_height_px + look.extra_height_px):
            free_h = height - look.controls_px - header_px - eq_px - 20
            cell = max(4.0, min(look.max_cell_px, look.width_px / grid_w,
                                max(free_h, 60) / grid_h))
            if cell * 0.5 >= look.min_cell_font:  # cell numbers big enough: no taller
                break
        return cell

    header_px = look.title_font * 1.5 + look.label_font * 1.9
    cell = fit(header_px)
    # average character widths of bold Arial and Arial (letters are narrower than digits)
    side_by_side = (title_chars * 0.55 * look.title_font + formula_chars * 0.5 * look.label_font
                    + 60 <= grid_w * cell)
    if not side_by_side:
        header_px += look.label_font * 1.5
        cell = fit(header_px)
    return Sizes(cell, eq_font, header_px / cell, eq_px / cell,
                 0.0 if side_by_side else look.title_font * 1.5 / cell, not side_by_side,
                 note_px)


# --------------------------------------------------------------------------------------------
# Texts every scene shares
# --------------------------------------------------------------------------------------------

def note_text(look: Look, style: Style, x_lo: float, grid_h: float, cell: float) -> dict:
    """The note saying that numbers too small to read are hidden, under the grids."""
    return {"showarrow": False, "xref": "x", "yref": "y", "x": coord(x_lo + 0.2),
            "y": coord(grid_h + (look.label_font * 0.8 + 4) / cell), "xanchor": "left",
            "yanchor": "top", "align": "left", "text": "<br>".join(_note_lines(look)),
            "font": {"size": _note_font(look), "family": SANS, "color": style.muted,
                     "style": "italic"}, "name": "hidden-note"}


def kernel_font(look: Look, kernel_px: float, longest: int) -> int:
    """The font of a kernel's numbers in cells of ``kernel_px``."""
    return min(look.max_cell_font, int(kernel_px * 0.5),
               int(kernel_px * 0.92 / (CHAR_W * max(longest, 1))))


def kernel_room(look: Look, cell: float, kw: int, longest: int,
                label_chars: int) -> tuple[float, float]:
    """The kernel's cell size (in input cells) and the gap on each side of it, so that its
    numbers can be read whatever the input's size (a 3 x 3 kernel beside a 32 x 32 input is
    not a glyph) and its title and caption never reach the operators beside it."""
    want = max(look.kernel_cell_px, look.legible_px * CHAR_W * longest / 0.92 + 2,
               2.0 * look.legible_px)
    kpx = min(max(cell, want), max(cell, look.max_cell_px))
    unit = round(kpx / cell, 3)
    op_px = look.label_font * 1.6 * 0.75  # the widest operator glyph
    over = max(0.0, (label_chars * 0.55 * look.label_font - kw * kpx) / 2)
    gap = round(max(2.0 * cell, op_px + 24, op_px + 16 + over) / cell, 3)
    return unit, gap


def formula_text(label: dict, text: str, sz: Sizes, x_lo: float, x_hi: float,
                 y_lo: float) -> dict:
    """The output-size formula: top right, beside the step line, or on its own line under it."""
    if sz.formula_below:
        return {**label, "text": text, "x": coord(x_lo + 0.02), "y": coord(y_lo + sz.formula_y_u),
                "xanchor": "left", "yanchor": "top", "name": "formula"}
    return {**label, "text": text, "x": coord(x_hi - 0.02), "y": coord(y_lo + 0.02),
            "xanchor": "right", "yanchor": "top", "name": "formula"}


def step_texts(look: Look, style: Style, x_lo: float, y_lo: float, grid_h: float,
               cell: float, eq_font: int, note_px: float = 0.0,
               beside: float | None = None) -> list[dict]:
    """Templates of the two texts every frame rewrites: the step line at the top left and the
    equation under the grids (under the note on hidden numbers, if any), or beside them (from
    ``x = beside``, level with their top)."""
    eq_at = ({"x": coord(x_lo + 0.2),
              "y": coord(grid_h + (look.label_font * 0.8 + EQ_GAP_PX + note_px) / cell)}
             if beside is None else {"x": coord(beside), "y": 0.0})
    return [
        {"showarrow": False, "xref": "x", "yref": "y", "x": coord(x_lo), "y": coord(y_lo + 0.02),
         "xanchor": "left", "yanchor": "top",
         "font": {"size": look.title_font, "family": SANS, "color": style.text,
                  "weight": "bold"}},
        {"showarrow": False, "xref": "x", "yref": "y", **eq_at, "xanchor": "left",
         "yanchor": "top", "align": "left",
         "font": {"size": eq_font, "family": MONO, "color": style.text}},
    ]


def pending_masks(outs: list[Box], current: int, row: int, col: int) -> list[dict]:
    """Two rectangles per output map covering the cells not computed yet when output
    ``current`` is at ``(row, col)``: the rest of the row, and the rows below (maps before
    ``current`` are complete, maps after it are covered whole)."""
    sh: list[dict] = []
    for o, box in enumerate(outs):
        if o < current:
            sh += [box.hidden, box.hidden]
        elif o > current:
            sh += [box.hidden, box.rect(0, box.h, 0, box.w)]
        else:
            sh += [box.rect(row, row + 1, col + 1, box.w), box.rect(row + 1, box.h, 0, box.w)]
    return sh
