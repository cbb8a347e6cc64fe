"""The sliding-window animation: a kernel moving over its input, one frame per output cell.

Every window position comes from :class:`conv.ops.Windows`, the object whose slices the engine
itself reads, and every number shown is the engine's (``conv.stages.run``): the highlighted window
always matches the value computed for it.

Public API
----------
conv_steps(stages, spec) -> list[ConvStep]        one step per output cell, with its equation
pool_steps(pre, pool, pooled) -> list[PoolStep]   one step per pooled cell
conv_animation(stages, spec, *, classroom, style) -> Animation
pool_animation(pre, pool, pooled, *, classroom, title, style) -> Animation
Animation.figure(start) -> go.Figure             the figure, showing step ``start``
Animation.gif(max_frames) -> bytes               an animated GIF drawn with Pillow
output_size_lines(...), receptive_field_text(...) the formulas with the actual numbers

How it plays in the browser (measured in PERFORMANCE.md and ``bench/bench_animation.py``): the
heatmaps are drawn once; a frame changes only ``layout.shapes`` (the window, the current output
cell, the masks hiding cells not computed yet) and two annotations (the step and its equation),
with ``redraw=False``. A frame lists only the shape attributes that change between frames.

Step buttons move one frame from wherever the animation is, in the browser: plotly's ``animate``
with ``fromcurrent`` plays a list from the frame after the current one, and a frame's duration can
be given per position in the list. A step list starts with an empty frame ``{}`` shown for 0 ms,
then the next frame, held for ~11 days; each frame's first occurrence in the list is followed by
its successor (see :func:`step_chain`).
"""

from __future__ import annotations

import copy
import io
import itertools
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64

from conv import ops
from conv.geometry import Geometry
from conv.options import ACTIVATIONS, PADDING
from conv.shapes import receptive_field
from conv.stages import ConvSpec, PoolSpec, Stages
from viz.style import LIGHT, Style

__all__ = [
    "TIMES",
    "Animation",
    "ConvStep",
    "PoolStep",
    "conv_animation",
    "conv_steps",
    "fit_look",
    "fmt",
    "output_size_lines",
    "pool_animation",
    "pool_steps",
    "receptive_field_text",
    "step_chain",
]

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency, and each of these contrasts with both black and white cells.
VERMILLION = "#D55E00"  # the current window and output cell
SKY_BLUE = "#56B4E9"  # the previous window: the stride jump
BLUISH_GREEN = "#009E73"  # the active filter
BLUE = "#0072B2"
PADDING_FILL = "#D6E6F4"  # pale blue: padding cells
PADDING_TEXT = "#0B3C6B"
PADDING_LINE_DARK = "#9CC3E6"  # the padding's outline on a dark page
MASK_FILL = "#EDEDED"  # output cells not computed yet (the light style's mask)
GREYS = [[0.0, "#111111"], [1.0, "#FFFFFF"]]
# ColorBrewer PuOr (colour-blind safe), white at zero
DIVERGING = [[0.0, "#5E3C99"], [0.25, "#B2ABD2"], [0.5, "#F7F7F7"], [0.75, "#FDB863"],
             [1.0, "#E66101"]]
FLAT = [[0.0, PADDING_FILL], [1.0, PADDING_FILL]]
MONO = "DejaVu Sans Mono, Menlo, Consolas, Courier New, monospace"
SANS = "Arial, Helvetica, sans-serif"

TIMES = "\u00d7"  # the multiplication sign in equations
MINUS_INF = "\u2212\u221e"
HOLD_MS = 10**9  # a step button holds its frame for ~11.6 days: until the next click
SPEEDS = (("\u25b6 Play slowly", 1000), ("\u25b6 Play", 350), ("\u25b6\u25b6 Fast", 0))
# Buttons that stop on a frame redraw after it (see _frames: it keeps output-cell clicks working)
FRAME_ARGS = {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
              "transition": {"duration": 0}}
# A slider step's frame: plotly caps the transition by the frame's duration, so 0 needs no
# transition of its own (1,024 steps: 28 KB less).
SLIDER_ARGS = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}}
MAX_CHANNELS = 4  # input channels and filters the figure lays out
MAX_GIF_FRAMES = 300
# A slider position per step up to this many steps; beyond, one every ceil(n / 400) steps (the
# Step buttons reach the others): each position is ~95 bytes of JSON.
MAX_SLIDER_STEPS = 400


# --------------------------------------------------------------------------------------------
# Numbers as text
# --------------------------------------------------------------------------------------------

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


def _paren(text: str) -> str:
    return f"({text})" if text.startswith(("-", "\u2212")) else text


def _fit(v: float, chars: int) -> str:
    """``v`` for a grid cell: at most 2 decimals and ``chars`` characters, dropping decimals
    first (216.4375 -> 216.44 -> 216.4 -> 216); the equations show the exact value."""
    for decimals in (2, 1, 0):
        text = fmt(v, decimals)
        if len(text) <= chars:
            return text
    return f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-")


# --------------------------------------------------------------------------------------------
# Steps: one per output cell, straight from the engine
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
    weight_text = np.vectorize(lambda v: _paren(fmt(v)), otypes=[object])(w)
    value_text: dict[float, str] = {}

    def vtext(v: float) -> str:
        s = value_text.get(v)
        if s is None:
            s = value_text[v] = _paren(fmt(v))
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
                    lines.append("sum: " + " + ".join(_paren(fmt(p)) for p in partials)
                                 + f" = {fmt(value)}")
                b_val = a_val = None
                last = value
                if biased is not None:
                    b_val = float(biased[o, i, j])
                    lines.append(f"{fmt(value)} + {_paren(fmt(bias))} (bias) = {fmt(b_val)}")
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
                    line = f"({' + '.join(_paren(t) for t in items)}) / {kh * kw} = {fmt(result)}"
                steps.append(PoolStep(len(steps), c, i, j, tuple(int(r) for r in rows),
                                      tuple(int(q) for q in cols), vals, pool.mode, result, (line,)))
    return steps


# --------------------------------------------------------------------------------------------
# Formulas with the actual numbers
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Step buttons: lists for plotly's animate(fromcurrent=True)
# --------------------------------------------------------------------------------------------

def step_chain(n: int, start: int, forward: bool) -> list:
    """The frame list of a step button for a figure that opened at frame ``start``.

    Plotly's ``animate(list, {fromcurrent: true})`` finds the current frame's first position
    ``E`` in the list and plays the items after it when ``0 < E < len - 1``, else the whole list;
    with no current frame (a figure just drawn) it plays the whole list. The list is ``[{}]`` (an
    empty frame, shown for 0 ms) then chains in which every frame's first occurrence is followed
    by its successor (``k + 1``, or ``k - 1``; the ends stay put). Held for :data:`HOLD_MS` at
    position 1, exactly one step is shown: the successor of the current frame, or of ``start``.
    """
    succ = (lambda k: min(k + 1, n - 1)) if forward else (lambda k: max(k - 1, 0))
    out: list = [{}]
    seen: set[int] = set()

    def walk(k: int) -> None:
        while True:
            out.append(str(k))
            if k in seen:
                return
            seen.add(k)
            k = succ(k)

    walk(succ(start))
    for k in (range(n) if forward else range(n - 1, -1, -1)):
        if k not in seen:
            walk(k)
    return out


# --------------------------------------------------------------------------------------------
# Look: sizes for a screen, and the classroom (projector) variant
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Look:
    classroom: bool
    width_px: int        # the width the figure is laid out for (Streamlit's wide main column)
    max_height_px: int
    max_cell_px: int
    title_font: int      # the step line
    label_font: int      # panel titles, formulas
    eq_font: int
    max_cell_font: int
    min_cell_font: int   # values are shortened to fit at this size (24 px on a projector)
    line_width: int
    gap_px: int          # white gap between cells
    controls_px: int     # buttons and slider under the plot
    button_font: int
    extra_height_px: int = 0  # allowed beyond max_height_px to keep cell numbers readable
    legible_px: int = 10  # cell numbers smaller than this are hidden (a note says so)
    kernel_cell_px: int = 40  # the kernel's cells at least this large (its numbers readable)
    control_rows: int = 1     # the buttons in one row, or two (Play under Step: a phone)
    eq_beside: bool = False   # the equation may go beside the grids (a wide, short screen)


# A 1280 x 720 laptop with the sidebar open leaves Streamlit's main column ~820 px: laid out for
# that, the figure only grows on wider screens (fonts are in pixels: a figure laid out wider
# and shrunk to fit would overflow its cells).
NORMAL = Look(False, 800, 760, 76, 22, 16, 17, 22, 11, 3, 1, 108, 15)
# A projector at 1920x1080 with the sidebar collapsed: Streamlit's wide column is ~1750 px.
CLASSROOM = Look(True, 1700, 880, 112, 36, 24, 26, 40, 24, 5, 2, 126, 22, 160, 18, 64)
# Numbers smaller than this are hidden in high contrast (a projector: read from afar).
HC_LEGIBLE_PX = 16


def look_for(classroom: bool, style: Style = LIGHT) -> Look:
    """The sizes for a screen; in high contrast (``style.contrast``) larger type, thicker
    lines, and cell numbers hidden below :data:`HC_LEGIBLE_PX`."""
    look = CLASSROOM if classroom else NORMAL
    if not style.contrast:
        return look
    return replace(look, title_font=style.font(look.title_font),
                   label_font=style.font(look.label_font), eq_font=style.font(look.eq_font),
                   button_font=style.font(look.button_font),
                   line_width=int(round(look.line_width * 1.7)),
                   legible_px=max(look.legible_px, HC_LEGIBLE_PX),
                   kernel_cell_px=max(look.kernel_cell_px, 52))


#: Below this width the Play buttons go under the step buttons (side by side they overlap).
NARROW_PX = 620


def fit_look(look: Look, width_px: int, height_px: int) -> Look:
    """``look`` for a figure ``width_px`` wide with ``height_px`` of the window for it, buttons
    and slider included (the browser measures both: ``ui/keys.js``).

    The grids take what the width and the height allow (no taller than the window: the buttons
    stay on the screen). Type follows the width: smaller on a phone, larger on a wide screen,
    never below readable sizes, and in classroom mode at least 85% of its size on a
    projector. Narrower than :data:`NARROW_PX`, the buttons take two rows; wider, the equation
    may go beside the grids instead of under them (a projector's 1280 x 720 is wide and short:
    the grids get twice the room)."""
    width_px = max(240, int(width_px))
    height_px = max(280, int(height_px))
    scale = min(max(width_px / look.width_px, 0.85 if look.classroom else 0.7), 1.3)

    def f(size: int, least: int) -> int:
        return max(least, round(size * scale))

    narrow = width_px < NARROW_PX
    button_font = f(look.button_font, 13)
    controls = look.controls_px + 2 * (button_font - look.button_font)
    if narrow:
        controls += button_font * 2 + 12
    return replace(look, width_px=width_px, max_height_px=height_px, extra_height_px=0,
                   max_cell_px=f(look.max_cell_px, 24), title_font=f(look.title_font, 16),
                   label_font=f(look.label_font, 13), eq_font=f(look.eq_font, 12),
                   max_cell_font=f(look.max_cell_font, 12), min_cell_font=f(look.min_cell_font, 10),
                   button_font=button_font, controls_px=controls,
                   control_rows=2 if narrow else 1, eq_beside=not narrow)


# --------------------------------------------------------------------------------------------
# A scene: grids and shapes in cell units, drawn by Plotly and by Pillow alike
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
        return {"x0": _n(self.x + c0 * u), "x1": _n(self.x + c1 * u), "y0": _n(self.y + r0 * u),
                "y1": _n(self.y + r1 * u)}

    @property
    def hidden(self) -> dict:
        """A rectangle of zero area at the box's top right: a shape with nothing to show."""
        return self.rect(0, 0, self.w, self.w)

    def corners(self, r0: float, r1: float, c0: float, c1: float) -> tuple:
        """``(x0, y0, x1, y1)`` of rows ``[r0, r1)`` and columns ``[c0, c1)``."""
        u = self.unit
        return (_n(self.x + c0 * u), _n(self.y + r0 * u), _n(self.x + c1 * u),
                _n(self.y + r1 * u))

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


def _path(rects) -> str:
    """Rectangles ``(x0, y0, x1, y1)`` as one SVG path: ``M x0,y0 H x1 V y1 H x0 Z`` each."""
    return "".join(f"M{a},{b}H{c}V{d}H{a}Z" for a, b, c, d in rects)


def path_rects(path: str) -> list[tuple[float, float, float, float]]:
    """The rectangles of a path written by :func:`_path` (for the GIF and the tests); an empty
    move (``M x,y Z``) has none."""
    import re

    return [tuple(float(v) for v in m) for m in
            re.findall(r"M(-?[\d.]+),(-?[\d.]+)H(-?[\d.]+)V(-?[\d.]+)H-?[\d.]+Z", path)]


def _n(v: float):
    """Coordinates as JSON-short numbers: ints where integral, else 3 decimals."""
    v = round(float(v), 3)
    return int(v) if v.is_integer() else v


@dataclass
class Grid:
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


def _cells(a: np.ndarray, look: Look, cell_px: float, mask: np.ndarray | None = None):
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
            row.append("" if mask is not None and not mask[r, c] else _fit(a[r, c], chars))
        out.append(row)
    return out


def _only(cells: list | None, mask: np.ndarray) -> list | None:
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


def _scale_for(values: np.ndarray) -> tuple[list, float, float]:
    """Greys for a map without negative values (an image), PuOr centred on 0 for signed ones."""
    lo, hi = _range(values)
    if lo < 0:
        m = max(abs(lo), abs(hi))
        return DIVERGING, -m, m
    return GREYS, min(lo, 0.0) if hi > 0 else lo, hi


def _kernel_cells(k2d: np.ndarray) -> tuple[str, list[list[str]]]:
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


EQ_GAP_PX = 14  # between the grids (and their captions) and the equation


@dataclass(frozen=True)
class _Sizes:
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


def _layout_px(look: Look, grid_w: float, grid_h: float, n_eq: int, eq_chars: int,
               title_chars: int, formula_chars: int, note: bool = False) -> _Sizes:
    """Cell size and fonts for a scene of ``grid_w`` x ``grid_h`` cells, a step line of
    ``title_chars``, an output-size formula of ``formula_chars`` and ``n_eq`` equation lines of
    up to ``eq_chars`` characters, within the look's width and height: the equation under the
    grids, or (``look.eq_beside``) beside them when that makes the cells a tenth larger;
    ``note``: room for the note saying that numbers are hidden (under the grids, so the
    equation goes under it too)."""
    below = _layout_below(look, grid_w, grid_h, n_eq, eq_chars, title_chars, formula_chars,
                          note)
    if not look.eq_beside or not eq_chars or note:
        return below
    eq_font = look.eq_font  # monospace: 0.6 em a character; the column takes at most half
    if eq_chars * 0.61 * eq_font + BESIDE_GAP_PX > 0.5 * look.width_px:
        eq_font = max(10, int((0.5 * look.width_px - BESIDE_GAP_PX) / (0.61 * eq_chars)))
    eq_w = eq_chars * 0.61 * eq_font + BESIDE_GAP_PX
    eq_h = n_eq * eq_font * 1.32 + 6
    under = look.label_font * 0.8 + 6  # captions under the grids

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
    if eq_h > free_h or cell < 1.1 * below.cell:
        return below
    eq_u = max(under / cell, eq_h / cell - grid_h + 0.1)
    return _Sizes(cell, eq_font, header_px / cell, eq_u,
                  0.0 if side_by_side else look.title_font * 1.5 / cell, not side_by_side,
                  beside_u=eq_w / cell)


def _layout_below(look: Look, grid_w: float, grid_h: float, n_eq: int, eq_chars: int,
                  title_chars: int, formula_chars: int, note: bool = False) -> _Sizes:
    """:func:`_layout_px` with the equation under the grids."""
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
    return _Sizes(cell, eq_font, header_px / cell, eq_px / cell,
                  0.0 if side_by_side else look.title_font * 1.5 / cell, not side_by_side,
                  note_px)


def _note_text(look: Look, style: Style, x_lo: float, grid_h: float, cell: float) -> dict:
    """The note saying that numbers too small to read are hidden, under the grids."""
    return {"showarrow": False, "xref": "x", "yref": "y", "x": _n(x_lo + 0.2),
            "y": _n(grid_h + (look.label_font * 0.8 + 4) / cell), "xanchor": "left",
            "yanchor": "top", "align": "left", "text": "<br>".join(_note_lines(look)),
            "font": {"size": _note_font(look), "family": SANS, "color": style.muted,
                     "style": "italic"}, "name": "hidden-note"}


def _kernel_font(look: Look, kernel_px: float, longest: int) -> int:
    """The font of a kernel's numbers in cells of ``kernel_px``."""
    return min(look.max_cell_font, int(kernel_px * 0.5),
               int(kernel_px * 0.92 / (CHAR_W * max(longest, 1))))


def _kernel_room(look: Look, cell: float, kw: int, longest: int,
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


def _formula_text(label: dict, text: str, sz: _Sizes, x_lo: float, x_hi: float,
                  y_lo: float) -> dict:
    """The output-size formula: top right, beside the step line, or on its own line under it."""
    if sz.formula_below:
        return {**label, "text": text, "x": _n(x_lo + 0.02), "y": _n(y_lo + sz.formula_y_u),
                "xanchor": "left", "yanchor": "top", "name": "formula"}
    return {**label, "text": text, "x": _n(x_hi - 0.02), "y": _n(y_lo + 0.02),
            "xanchor": "right", "yanchor": "top", "name": "formula"}


def _plotly_shape(template: dict, coords: dict) -> dict:
    return {**template, **coords}


# --------------------------------------------------------------------------------------------
# The convolution scene
# --------------------------------------------------------------------------------------------

def _step_texts(look: Look, style: Style, x_lo: float, y_lo: float, grid_h: float,
                cell: float, eq_font: int, note_px: float = 0.0,
                beside: float | None = None) -> list[dict]:
    """Templates of the two texts every frame rewrites: the step line at the top left and the
    equation under the grids (under the note on hidden numbers, if any), or beside them (from
    ``x = beside``, level with their top)."""
    eq_at = ({"x": _n(x_lo + 0.2),
              "y": _n(grid_h + (look.label_font * 0.8 + EQ_GAP_PX + note_px) / cell)}
             if beside is None else {"x": _n(beside), "y": 0.0})
    return [
        {"showarrow": False, "xref": "x", "yref": "y", "x": _n(x_lo), "y": _n(y_lo + 0.02),
         "xanchor": "left", "yanchor": "top",
         "font": {"size": look.title_font, "family": SANS, "color": style.text,
                  "weight": "bold"}},
        {"showarrow": False, "xref": "x", "yref": "y", **eq_at, "xanchor": "left",
         "yanchor": "top", "align": "left",
         "font": {"size": eq_font, "family": MONO, "color": style.text}},
    ]


def _pending_masks(outs: list[Box], current: int, row: int, col: int) -> list[dict]:
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


def _conv_scene(stages: Stages, spec: ConvSpec, steps: list[ConvStep], look: Look,
                style: Style = LIGHT) -> Scene:
    padded = stages.padded.array
    x = stages.input.array
    c_in, hp, wp = padded.shape
    w = applied_weights(spec)
    c_out, cpg, kh, kw = w.shape
    out = (stages.activated or stages.biased or stages.conv).array
    _, ho, wo = out.shape
    (t, b), (l, r) = stages.padding
    if c_in > MAX_CHANNELS or c_out > MAX_CHANNELS:
        raise ValueError(
            f"the animation lays out at most {MAX_CHANNELS} input channels and {MAX_CHANNELS} "
            f"filters, got {c_in} and {c_out}")
    single = c_in == 1 and c_out == 1
    gap = 2
    n_eq = len(steps[0].equation)
    eq_chars = max(len(line) for line in steps[0].equation) + 2
    formula = "Output size " + "; ".join(output_size_lines(stages.layer.conv))
    title_chars = len(f"Step {len(steps)} of {len(steps)} \u00b7 filter W9, row {ho}, col {wo}")
    k_factor = _kernel_cells(w[0, 0])[0]
    k_longest = max(len(v) for o in range(c_out) for ci in range(cpg)
                    for row in _kernel_cells(w[o, ci])[1] for v in row)
    # --- boxes, in cell units
    if single:
        # the kernel's cells are drawn large enough for its numbers, and the gaps wide enough
        # for the operators beside its title; both depend on the cell size they change: a
        # few rounds settle them
        unit, gap_k = 1.0, float(gap)
        k_label = max(len(f"Kernel {kh}x{kw}"), len(f"all x {k_factor}") if k_factor else 0)
        for _ in range(4):
            # whole numbers where the input's and the output's cells start: every frame's
            # path names their corners, and 1,024 frames must stay under 0.5 MB
            h = max(hp, math.ceil(kh * unit), ho)
            inp = [Box(0, (h - hp) / 2, hp, wp)]
            ker = [[Box(wp + gap_k, (h - kh * unit) / 2, kh, kw, unit)]]
            outs = [Box(math.ceil(ker[0][0].right + gap_k), (h - ho) / 2, ho, wo)]
            x_lo, x_hi, grid_h = -0.2, outs[0].right + 0.2, h
            cell = _layout_px(look, x_hi - x_lo, grid_h, n_eq, eq_chars, title_chars,
                              len(formula)).cell
            room = _kernel_room(look, cell, kw, k_longest, k_label)
            if room == (unit, gap_k):
                break
            unit, gap_k = room
    else:
        # the input slices side by side; under them each filter's slices as a group (titled
        # with its name and bias), the groups side by side; the output slices stacked right
        inp = [Box(c * (wp + gap), 0, hp, wp) for c in range(c_in)]
        group_w = cpg * kw + (cpg - 1) * 0.6
        top = hp + 0.6 + look.label_font * 1.9 / look.max_cell_px * 1.6
        ker = []
        for o in range(c_out):
            x0 = o * (group_w + gap)
            ker.append([Box(x0 + ci * (kw + 0.6), top, kh, kw) for ci in range(cpg)])
        x_out = max(inp[-1].right, ker[-1][-1].right) + gap
        outs = [Box(x_out, o * (ho + 1.6), ho, wo) for o in range(c_out)]
        grid_h = max(ker[-1][0].bottom, outs[-1].bottom)
        x_lo, x_hi = -0.2, outs[0].right + 0.2
    grid_w = x_hi - x_lo
    sz = _layout_px(look, grid_w, grid_h, n_eq, eq_chars, title_chars, len(formula))

    def too_small(cell: float) -> tuple[str, ...]:
        names = tuple(name for name, grid in (("input", padded[0]), ("output", out[0]))
                      if _cells(grid, look, cell)[0] is None)
        if _kernel_font(look, cell * ker[0][0].unit, k_longest) < look.legible_px:
            names += ("kernel",)
        return names

    # numbers too small to read are hidden, and a note under the grids says so (its line
    # makes the cells a little smaller: what is hidden is decided at their final size)
    hidden = too_small(sz.cell)
    if hidden:
        sz = _layout_px(look, grid_w, grid_h, n_eq, eq_chars, title_chars, len(formula),
                        note=True)
        hidden = too_small(sz.cell)
    cell, eq_font, head_u, eq_u = sz.cell, sz.eq_font, sz.head_u, sz.eq_u
    y_lo, y_hi = -head_u, grid_h + eq_u
    eq_x = x_hi + BESIDE_GAP_PX / cell if sz.beside_u else None  # the equation beside them
    x_end = x_hi + sz.beside_u

    grids: list[Grid] = []
    static_shapes: list[dict] = []
    texts: list[dict] = []
    lw = look.line_width
    label = {"font": {"size": look.label_font, "family": SANS, "color": style.text},
             "showarrow": False, "xref": "x", "yref": "y"}
    pad_line = PADDING_LINE_DARK if style.dark else PADDING_TEXT

    # --- input slices: image cells by value, padding cells flat and pale, values in italics
    inner = np.zeros((hp, wp), bool)
    inner[t:t + x.shape[1], l:l + x.shape[2]] = True
    scale, zmin, zmax = _scale_for(padded[:, inner])
    names = channel_names(c_in)
    pad_word = PADDING[spec.padding_mode].cells
    for c, box in enumerate(inp):
        z = np.where(inner, padded[c], np.nan)
        cells, font = _cells(padded[c], look, cell)
        grids.append(Grid(box, z, _only(cells, inner), scale, zmin, zmax, font, name=f"input {c}"))
        if not inner.all():
            zp = np.where(inner, np.nan, 0.0)
            grids.append(Grid(box, zp, _only(cells, ~inner), FLAT, 0.0, 1.0, font, PADDING_TEXT,
                              True, name=f"padding {c}"))
            static_shapes.append({"type": "rect", **box.rect(t, t + x.shape[1], l, l + x.shape[2]),
                                  "line": {"color": pad_line, "width": max(2, lw - 2),
                                           "dash": "dash"}, "layer": "above"})
        size = f"{x.shape[1]}x{x.shape[2]}"
        title = f"Input {size}" if single else f"{names[c]} {size}"
        if not inner.all():
            pads = {t, b, l, r}
            p = f"p = {t}" if len(pads) == 1 else f"p = {t},{b},{l},{r} (top, bottom, left, right)"
            title += f" + {pad_word} padding {p} (pale)"
        # centred over the grid when it fits; else flush with the scene's left edge (the first
        # slice), so that it is not cut off (Arial: about 0.5 em a character)
        wide = c == 0 and len(title) * 0.5 * look.label_font > (wp + 0.4) * cell
        texts.append({**label, "text": title, "x": _n(x_lo + 0.02 if wide else box.cx),
                      "y": _n(box.y - 0.12), "xanchor": "left" if wide else "center",
                      "yanchor": "bottom"})

    # --- kernels
    k_scale_m = float(np.abs(w).max()) or 1.0
    for o, row in enumerate(ker):
        for ci, box in enumerate(row):
            factor, kcells = _kernel_cells(w[o, ci])
            longest = max(len(s) for rr in kcells for s in rr)
            kf = _kernel_font(look, cell * box.unit, longest)
            legible = kf >= look.legible_px
            grids.append(Grid(box, w[o, ci].astype(np.float64), kcells if legible else None,
                              DIVERGING, -k_scale_m, k_scale_m, kf if legible else 0,
                              name=f"kernel {o} {ci}"))
            if single:
                flip = " (rotated 180°: flip)" if spec.flip else ""
                dil = f", dilation {spec.dilation[0]}" if spec.dilation != (1, 1) else ""
                title = f"Kernel {kh}x{kw}{flip}{dil}"
                texts.append({**label, "text": title, "x": _n(box.cx), "y": _n(box.y - 0.12),
                              "xanchor": "center", "yanchor": "bottom"})
                if factor:
                    texts.append({**label, "text": f"all x {factor}", "x": _n(box.cx),
                                  "y": _n(box.bottom + 0.12), "xanchor": "center", "yanchor": "top"})
            elif factor:
                texts.append({**label, "text": f"x {factor}", "x": _n(box.cx),
                              "y": _n(box.bottom + 0.05), "xanchor": "center", "yanchor": "top",
                              "font": {**label["font"], "size": max(10, look.label_font - 4)}})
        if not single:
            bias = f", bias b{o + 1} = {fmt(spec.bias[o])}" if spec.bias is not None else ""
            g = o // (c_out // spec.groups)
            slices = " ".join(names[g * cpg + ci][0].upper() if c_in == 3 else str(g * cpg + ci + 1)
                              for ci in range(cpg))
            texts.append({**label, "text": f"Filter W{o + 1} ({slices}){bias}",
                          "x": _n((row[0].x + row[-1].right) / 2), "y": _n(row[0].y - 0.3),
                          "xanchor": "center", "yanchor": "bottom"})

    # --- outputs
    o_scale, o_min, o_max = _scale_for(out)
    stage = ("after " + spec.activation_title if stages.activated is not None
             else "+ bias" if stages.biased is not None else "")
    for o, box in enumerate(outs):
        cells, font = _cells(out[o], look, cell)
        grids.append(Grid(box, out[o].astype(np.float64), cells, o_scale, o_min, o_max, font,
                          name=f"output {o}"))
        static_shapes.append({"type": "rect", **box.rect(0, ho, 0, wo),
                              "line": {"color": style.line, "width": style.width(1)},
                              "layer": "below"})
        title = f"Output {ho}x{wo}" + (f" ({stage})" if stage else "")
        if not single:
            title = f"Output {o + 1}: {ho}x{wo}" + (f" ({stage})" if stage else "")
        # centred over the grid when it fits; else flush with the scene's right edge, so that
        # it is not cut off (Arial: about 0.5 em a character)
        wide = len(title) * 0.5 * look.label_font > (wo + 0.4) * cell
        texts.append({**label, "text": title, "x": _n(box.right + 0.1 if wide else box.cx),
                      "y": _n(box.y - 0.12), "xanchor": "right" if wide else "center",
                      "yanchor": "bottom"})
    if single:
        big = {**label, "font": {**label["font"], "size": int(look.label_font * 1.6)}}
        mid = (inp[0].cx + 0, outs[0].y + ho / 2)
        texts.append({**big, "text": "\u2217", "x": _n(inp[0].right + gap_k / 2),
                      "y": _n(mid[1]), "xanchor": "center", "yanchor": "middle"})
        texts.append({**big, "text": "=", "x": _n((ker[0][0].right + outs[0].x) / 2),
                      "y": _n(mid[1]),
                      "xanchor": "center", "yanchor": "middle"})
    texts.append(_formula_text(label, formula, sz, x_lo, x_end, y_lo))
    if hidden:
        texts.append(_note_text(look, style, x_lo, grid_h, cell))

    # --- dynamic shapes. One path draws every vermillion rectangle of a step (the window on
    # each input slice, or with dilation the cells it samples, and the output cell): a path is
    # half the JSON of separate rectangles, and a 1,024-frame animation must stay under 0.5 MB.
    dil = spec.dilation != (1, 1)
    jumps = spec.stride != (1, 1)
    hl_t = {"type": "path", "layer": "above", "line": {"color": VERMILLION, "width": lw},
            "fillcolor": "rgba(213,94,0,0.12)"}
    span_t = {"type": "path", "layer": "above",
              "line": {"color": VERMILLION, "width": max(2, lw - 2), "dash": "dot"}}
    ghost_t = {"type": "path", "layer": "above",
               "line": {"color": SKY_BLUE, "width": max(2, lw - 1), "dash": "dash"}}
    filt_t = {"type": "rect", "layer": "above", "line": {"color": BLUISH_GREEN, "width": lw}}
    mask_t = {"type": "rect", "layer": "above", "line": {"width": 0}, "fillcolor": style.mask}
    dyn_shapes = ([hl_t] + ([span_t] if dil else []) + ([ghost_t] if jumps else [])
                  + ([filt_t] if c_out > 1 else []) + [mask_t] * (2 * c_out))
    dyn_texts = _step_texts(look, style, x_lo, y_lo, grid_h, cell, eq_font, sz.note_px, eq_x)
    nowhere = {"path": f"M{_n(inp[0].x)},{_n(inp[0].y)}Z"}

    n = len(steps)
    scene_steps = []
    labels = []
    for k, st in enumerate(steps):
        prev = steps[k - 1] if k else st
        rects = []
        for c in st.channels:
            if dil:
                rects += [inp[c].corners(rr + 0.08, rr + 0.92, cc + 0.08, cc + 0.92)
                          for rr in st.rows for cc in st.cols]
            else:
                rects.append(inp[c].corners(st.rows[0], st.rows[-1] + 1, st.cols[0],
                                            st.cols[-1] + 1))
        rects.append(outs[st.filter].corners(st.row, st.row + 1, st.col, st.col + 1))
        sh = [{"path": _path(rects)}]
        if dil:
            sh.append({"path": _path([inp[c].corners(st.rows[0], st.rows[-1] + 1, st.cols[0],
                                                     st.cols[-1] + 1) for c in st.channels])})
        if jumps:
            sh.append({"path": _path([inp[c].corners(prev.rows[0], prev.rows[-1] + 1,
                                                     prev.cols[0], prev.cols[-1] + 1)
                                      for c in prev.channels])} if k else nowhere)
        if c_out > 1:
            row = ker[st.filter]
            sh.append({"x0": _n(row[0].x - 0.22), "x1": _n(row[-1].right + 0.22),
                       "y0": _n(row[0].y - 0.22), "y1": _n(row[0].bottom + 0.22)})
        sh += _pending_masks(outs, st.filter, st.row, st.col)
        where = f"row {st.row + 1}, col {st.col + 1}"
        if c_out > 1:
            where = f"filter W{st.filter + 1}, " + where
        scene_steps.append((sh, [f"Step {k + 1} of {n} \u00b7 {where}", "<br>".join(st.equation)]))
        labels.append(str(k + 1))

    click = {"x": [], "y": [], "step": []}
    for st in steps:
        cx, cy = outs[st.filter].x + st.col + 0.5, outs[st.filter].y + st.row + 0.5
        click["x"].append(_n(cx))
        click["y"].append(_n(cy))
        click["step"].append(st.index)
    return Scene(look, cell, (x_lo, x_end), (y_lo, y_hi), grids, static_shapes, texts,
                 dyn_shapes, dyn_texts, scene_steps, labels, click, style, hidden)


# --------------------------------------------------------------------------------------------
# The pooling scene
# --------------------------------------------------------------------------------------------

def _pool_scene(pre: np.ndarray, pool: PoolSpec, pooled: np.ndarray, steps: list[PoolStep],
                look: Look, title: str, style: Style = LIGHT) -> Scene:
    padded = pool_padded(pre, pool)
    c, hp, wp = padded.shape
    _, ho, wo = pooled.shape
    if c > MAX_CHANNELS:
        raise ValueError(f"the animation lays out at most {MAX_CHANNELS} channels, got {c}")
    ph, pw = pool.padding
    gap = 2
    maps = [Box(0, ch * (hp + 1.6), hp, wp) for ch in range(c)]
    outs = [Box(wp + gap, m.y + (hp - ho) / 2, ho, wo) for m in maps]
    x_lo, x_hi = -0.2, max(outs[0].right, wp + gap + 3) + 0.2
    grid_h = maps[-1].bottom
    eq_chars = max(len(s.equation[0]) for s in steps[:50]) + 2
    kh, kw = pool.kernel_size
    (sh, sw) = pool.effective_stride
    formula = f"{pool.title}. Output size " + "; ".join(output_size_lines(
        pool.resolve(pre.shape[1:])))
    title_chars = len(f"Step {len(steps)} of {len(steps)} \u00b7 slice 9, row {ho}, col {wo}")
    sz = _layout_px(look, x_hi - x_lo, grid_h, 1, eq_chars, title_chars, len(formula))
    def too_small(cell: float) -> tuple[str, ...]:
        return tuple(name for name, grid in (("map", padded[0]), ("pooled", pooled[0]))
                     if _cells(grid, look, cell)[0] is None)

    hidden = too_small(sz.cell)
    if hidden:
        sz = _layout_px(look, x_hi - x_lo, grid_h, 1, eq_chars, title_chars, len(formula),
                        note=True)
        hidden = too_small(sz.cell)
    cell, eq_font, head_u, eq_u = sz.cell, sz.eq_font, sz.head_u, sz.eq_u
    y_lo, y_hi = -head_u, grid_h + eq_u
    eq_x = x_hi + BESIDE_GAP_PX / cell if sz.beside_u else None  # the equation beside them
    x_end = x_hi + sz.beside_u
    label = {"font": {"size": look.label_font, "family": SANS, "color": style.text},
             "showarrow": False, "xref": "x", "yref": "y"}
    inner = np.zeros((hp, wp), bool)
    inner[ph:ph + pre.shape[1], pw:pw + pre.shape[2]] = True
    scale, zmin, zmax = _scale_for(pre)
    o_scale, o_min, o_max = _scale_for(pooled)
    grids, static_shapes, texts = [], [], []
    lw = look.line_width
    mode = "Max" if pool.mode == "max" else "Average"
    for ch in range(c):
        m, ob = maps[ch], outs[ch]
        cells, font = _cells(padded[ch], look, cell)
        grids.append(Grid(m, np.where(inner, padded[ch], np.nan), _only(cells, inner), scale,
                          zmin, zmax, font, name=f"map {ch}"))
        if not inner.all():
            grids.append(Grid(m, np.where(inner, np.nan, 0.0), _only(cells, ~inner), FLAT, 0, 1,
                              font, PADDING_TEXT, True, name=f"padding {ch}"))
        cells, font = _cells(pooled[ch], look, cell)
        grids.append(Grid(ob, pooled[ch].astype(np.float64), cells, o_scale, o_min, o_max, font,
                          name=f"pooled {ch}"))
        static_shapes.append({"type": "rect", **ob.rect(0, ho, 0, wo),
                              "line": {"color": style.line, "width": style.width(1)},
                              "layer": "below"})
        name = title if c == 1 else f"{title}, slice {ch + 1}"
        texts.append({**label, "text": f"{name}: {pre.shape[1]}x{pre.shape[2]}"
                      + (f" + padding {ph} ({MINUS_INF if pool.mode == 'max' else '0'})"
                         if not inner.all() else ""),
                      "x": _n(m.cx), "y": _n(m.y - 0.12), "xanchor": "center",
                      "yanchor": "bottom"})
        texts.append({**label, "text": f"{mode} pool: {ho}x{wo}", "x": _n(ob.cx),
                      "y": _n(ob.y - 0.12), "xanchor": "center", "yanchor": "bottom"})
        texts.append({**label, "text": "\u2192", "x": _n(m.right + gap / 2), "y": _n(m.y + hp / 2),
                      "xanchor": "center", "yanchor": "middle",
                      "font": {**label["font"], "size": int(look.label_font * 1.6)}})
    texts.append(_formula_text(label, formula, sz, x_lo, x_end, y_lo))
    if hidden:
        texts.append(_note_text(look, style, x_lo, grid_h, cell))
    jumps = pool.effective_stride != (1, 1)
    hl_t = {"type": "path", "layer": "above", "line": {"color": VERMILLION, "width": lw},
            "fillcolor": "rgba(213,94,0,0.12)"}
    ghost_t = {"type": "path", "layer": "above",
               "line": {"color": SKY_BLUE, "width": max(2, lw - 1), "dash": "dash"}}
    mask_t = {"type": "rect", "layer": "above", "line": {"width": 0}, "fillcolor": style.mask}
    dyn_shapes = [hl_t] + ([ghost_t] if jumps else []) + [mask_t] * (2 * c)
    nowhere = {"path": f"M{_n(maps[0].x)},{_n(maps[0].y)}Z"}
    scene_steps, labels = [], []
    n = len(steps)
    for k, st in enumerate(steps):
        prev = steps[k - 1] if k else st
        m = maps[st.channel]
        window = m.corners(st.rows[0], st.rows[-1] + 1, st.cols[0], st.cols[-1] + 1)
        sh = [{"path": _path([window, outs[st.channel].corners(st.row, st.row + 1, st.col,
                                                               st.col + 1)])}]
        if jumps:
            pm = maps[prev.channel]
            sh.append({"path": _path([pm.corners(prev.rows[0], prev.rows[-1] + 1, prev.cols[0],
                                                 prev.cols[-1] + 1)])} if k else nowhere)
        sh += _pending_masks(outs, st.channel, st.row, st.col)
        where = f"row {st.row + 1}, col {st.col + 1}"
        if c > 1:
            where = f"slice {st.channel + 1}, " + where
        scene_steps.append((sh, [f"Step {k + 1} of {n} \u00b7 {where}", st.equation[0]]))
        labels.append(str(k + 1))
    click = {"x": [], "y": [], "step": []}
    for st in steps:
        click["x"].append(_n(outs[st.channel].x + st.col + 0.5))
        click["y"].append(_n(outs[st.channel].y + st.row + 0.5))
        click["step"].append(st.index)
    return Scene(look, cell, (x_lo, x_end), (y_lo, y_hi), grids, static_shapes, texts,
                 dyn_shapes, _step_texts(look, style, x_lo, y_lo, grid_h, cell, eq_font,
                                         sz.note_px, eq_x), scene_steps, labels, click, style,
                 hidden)


# --------------------------------------------------------------------------------------------
# Plotly: the scene as a figure with frames
# --------------------------------------------------------------------------------------------

class AnimatedFigure(go.Figure):
    """A ``go.Figure`` whose frames are kept as plain dicts.

    plotly.py would build and validate a ``go.Frame`` per frame, a large share of a rerun for
    hundreds of frames. The frames here are generated from the scene, and a test
    validates the whole dict against plotly's schema; :meth:`to_dict` (which ``st.plotly_chart``
    and ``plotly.io.to_json`` call) adds them, without copying them, to the validated rest.
    """

    def __init__(self, data, layout, frames, *, validate: bool = False):
        # validate: check data and layout as go.Figure does (and later updates too)
        super().__init__(data=data, layout=layout, _validate=validate)
        object.__setattr__(self, "_raw_frames", frames)

    @property
    def raw_frames(self) -> list[dict]:
        return self._raw_frames

    def to_dict(self):
        res = super().to_dict()
        res["frames"] = list(self._raw_frames)
        return res

    def to_plotly_json(self):
        return self.to_dict()


def _varying(steps_shapes: list[list[dict]]) -> list[tuple[str, ...]]:
    """For each dynamic shape, the attributes (coordinates or path) that differ between frames."""
    out = []
    for s in range(len(steps_shapes[0])):
        first = steps_shapes[0][s]
        keys = tuple(key for key in first if any(st[s][key] != first[key] for st in steps_shapes))
        out.append(keys)
    return out


@dataclass
class Animation:
    """A scene ready to draw: :meth:`figure` for Plotly, :meth:`gif` for slides."""

    scene: Scene
    steps: list
    traces: list
    frames: list[dict]
    varying: list[tuple[str, ...]]
    # the traces as JSON-ready dicts (numpy arrays as plotly.js typed arrays), for spec()
    data_spec: list[dict] = field(default_factory=list, compare=False, repr=False)
    # the slider's positions, shared by the figures of every step
    slider_steps: list[dict] = field(default_factory=list, compare=False, repr=False)
    # the bytes it holds, once someone measured them (a byte-budgeted cache reads it)
    nbytes: int | None = field(default=None, compare=False, repr=False)

    @property
    def n_steps(self) -> int:
        return len(self.steps)

    def shapes_at(self, k: int) -> list[dict]:
        """The dynamic shapes of step ``k``, full dicts (templates with coordinates)."""
        return [_plotly_shape(t, c) for t, c in zip(self.scene.dyn_shapes, self.scene.steps[k][0])]

    def texts_at(self, k: int) -> list[str]:
        return list(self.scene.steps[k][1])

    def figure(self, start: int = 0) -> AnimatedFigure:
        """The figure drawn at step ``start`` (its slider there, its step buttons stepping from
        there); the frames are shared between the figures of one animation."""
        return AnimatedFigure(self.traces, self.layout(start), self.frames)

    def spec(self, start: int = 0) -> dict:
        """:meth:`figure`'s JSON-ready dict, built directly: the traces converted once per
        animation (numpy arrays as plotly.js typed arrays) and the frames are the animation's
        own, shared by every step's spec; only the layout is new. Going through the figure
        (``to_dict`` deep-copies it and walks it for arrays) costs several times as much,
        and a click on an output cell asks for a new step's figure."""
        return {"data": self.data_spec, "layout": self.layout(start), "frames": self.frames}

    def layout(self, start: int = 0) -> dict:
        """The layout of :meth:`figure` (plain dicts)."""
        sc = self.scene
        n = self.n_steps
        start = min(max(int(start), 0), n - 1)
        look = sc.look
        shapes = self.shapes_at(start) + sc.static_shapes
        texts = [{**t, "text": s} for t, s in zip(sc.dyn_texts, sc.steps[start][1])]
        hold = {"mode": "immediate", "fromcurrent": True,
                "frame": [{"duration": 0, "redraw": True}, {"duration": HOLD_MS, "redraw": True}],
                "transition": {"duration": 0}}
        step_buttons = [
            {"label": "|\u25c0 First", "method": "animate", "args": [["0"], FRAME_ARGS]},
            {"label": "\u25c0 Back", "method": "animate", "args": [step_chain(n, start, False), hold]},
            {"label": "|| Pause", "method": "animate", "args": [[None], FRAME_ARGS]},
            {"label": "Step \u25b6", "method": "animate", "args": [step_chain(n, start, True), hold]},
            {"label": "Last \u25b6|", "method": "animate", "args": [[str(n - 1)], FRAME_ARGS]},
        ]
        # Play continues after the current frame; a figure just drawn at `start` has none, so
        # its play list begins after `start` (at 0 it is every frame).
        play_list = None if start in (0, n - 1) else [str(k) for k in range(start + 1, n)]
        play_buttons = [
            {"label": label, "method": "animate",
             "args": [play_list, {"mode": "immediate", "fromcurrent": True,
                                  # a redraw per frame fits the slower speeds (see _frames)
                                  "frame": {"duration": ms, "redraw": ms > 0},
                                  "transition": {"duration": 0}}]}
            for label, ms in SPEEDS]
        sty = sc.style
        bfont = {"size": look.button_font, "family": SANS, "color": sty.button_text}
        menu = {"type": "buttons", "direction": "right", "showactive": False, "x": 0, "xanchor": "left",
                "y": 0, "yanchor": "top", "pad": {"t": 8, "r": 6}, "font": bfont,
                "bgcolor": sty.button, "bordercolor": sty.button_line,
                "borderwidth": 2 if sty.contrast else 1}
        # a narrow figure (a phone): the Play buttons in a row of their own under the steps
        row_px = look.button_font * 2 + 12
        two_rows = look.control_rows > 1
        play_menu = ({"x": 0, "xanchor": "left", "pad": {"t": 8 + row_px, "r": 6}} if two_rows
                     else {"x": 0.995, "xanchor": "right"})
        few = n <= 40
        every = max(1, -(-n // MAX_SLIDER_STEPS))
        slider = {
            "active": start, "x": 0, "len": 1.0, "xanchor": "left", "y": 0, "yanchor": "top",
            "pad": {"t": look.button_font * 2 + 26 + (row_px if two_rows else 0), "b": 0,
                    "l": 0, "r": 0},
            "currentvalue": {"visible": False}, "ticklen": 4 if few else 0,
            "minorticklen": 0, "bgcolor": sty.slider, "activebgcolor": VERMILLION,
            "bordercolor": sty.button_line, "borderwidth": 1, "tickcolor": sty.line,
            "font": {"size": max(10, look.button_font - 4), "color": sty.muted if few else
                     "rgba(0,0,0,0)"},
            "transition": {"duration": 0},
            "steps": self.slider_steps,
        }
        width_px = (sc.x_range[1] - sc.x_range[0]) * sc.cell_px
        height_px = (sc.y_range[1] - sc.y_range[0]) * sc.cell_px
        layout = {
            "height": round(height_px + look.controls_px + 12),
            "margin": {"l": 8, "r": 8, "t": 12, "b": look.controls_px},
            "paper_bgcolor": sty.paper, "plot_bgcolor": sty.paper,
            "xaxis": {"range": list(sc.x_range), "visible": False, "fixedrange": True,
                      "constrain": "domain", "constraintoward": "left"},
            "yaxis": {"range": [sc.y_range[1], sc.y_range[0]], "visible": False,
                      "fixedrange": True, "scaleanchor": "x", "scaleratio": 1,
                      "constrain": "domain", "constraintoward": "top"},
            "showlegend": False, "hovermode": "closest", "dragmode": False,
            "template": {"data": {}, "layout": {}},
            "font": {"family": SANS, "color": sty.text},
            "hoverlabel": {"bgcolor": sty.hover, "font": {"color": sty.text, "size": 16},
                           "bordercolor": sty.line},
            "shapes": shapes, "annotations": texts + sc.static_texts,
            "updatemenus": [
                {**menu, "buttons": step_buttons},
                {**menu, "buttons": play_buttons, **play_menu},
            ],
            "sliders": [slider],
            "meta": {"steps": n, "start": start, "width_px": int(width_px), "slider_every": every},
        }
        return layout

    def still(self, k: int = 0, *, heading: str | None = None,
              formula: bool = True) -> go.Figure:
        """Step ``k`` as a still: the same picture without buttons, slider or frames (a page
        showing one computation, e.g. a cell traced back through a network). ``heading``
        replaces the step line; ``formula=False`` leaves out the output-size formula."""
        sc = self.scene
        k = min(max(int(k), 0), self.n_steps - 1)
        texts = [{**t, "text": s} for t, s in zip(sc.dyn_texts, sc.steps[k][1])]
        if heading is not None:
            texts[0]["text"] = heading
        static = [t for t in sc.static_texts if formula or t.get("name") != "formula"]
        layout = self.figure(k).layout.to_plotly_json()
        controls = sc.look.controls_px
        layout.update(annotations=texts + static, updatemenus=[], sliders=[],
                      height=layout["height"] - controls + 8,
                      margin={**layout["margin"], "b": 8})
        return go.Figure(data=self.traces, layout=layout, _validate=False)

    def gif(self, *, max_frames: int = MAX_GIF_FRAMES, frame_ms: int = 600) -> bytes:
        """The animation as an animated GIF (Pillow), at most ``max_frames`` steps, the last
        frame held twice as long."""
        return _gif(self.scene, min(self.n_steps, max_frames), frame_ms)


def _traces(scene: Scene) -> list[dict]:
    traces = []
    gap = scene.look.gap_px
    for g in scene.grids:
        u = g.box.unit
        t = {"type": "heatmap", "z": np.asarray(g.z, np.float32), "x0": _n(g.box.x + u / 2),
             "dx": _n(u), "y0": _n(g.box.y + u / 2), "dy": _n(u), "colorscale": g.colorscale,
             "zmin": g.zmin, "zmax": g.zmax, "showscale": False, "hoverinfo": "skip",
             "xgap": gap, "ygap": gap, "name": g.name}
        if g.text is None and g.colorscale is not FLAT:
            # numbers hidden (too small to read): the value on hover instead, from z itself
            t.pop("hoverinfo")
            t["hovertemplate"] = "%{z:.6~g}<extra></extra>"
        if g.text is not None and g.font_px:
            font = {"size": g.font_px, "family": SANS}
            if g.font_color:
                font["color"] = g.font_color
            if g.italic:
                font["style"] = "italic"
            t.update(text=g.text, texttemplate="%{text}", textfont=font)
        traces.append(t)
    if scene.click:
        size = max(6, int(scene.cell_px * 0.9))
        traces.append({
            "type": "scatter", "mode": "markers",
            "x": np.asarray(scene.click["x"], np.float32), "y": np.asarray(scene.click["y"], np.float32),
            "name": "output cells",
            "marker": {"size": size, "symbol": "square", "color": "rgba(0,0,0,0)",
                       "line": {"width": 0}},
            "selected": {"marker": {"opacity": 0}}, "unselected": {"marker": {"opacity": 0}},
            "hoverinfo": "none", "showlegend": False,
        })
    return traces


def _frames(scene: Scene) -> tuple[list[dict], list[tuple[str, ...]]]:
    """One frame per step: the shape attributes that vary and the two texts; no trace data.

    Measured in headless Chromium with the plotly.js that Streamlit ships (4.2): a frame that
    lists any trace makes plotly re-plot only the listed, animatable traces, and the heatmaps
    (not animatable) disappear; a layout-only ``redraw: false`` frame keeps them, but leaves
    every trace without its drawn node, so plotly's select-on-click then fails ("Cannot read
    properties of undefined (reading 'selectAll')") and an output-cell click is lost. Hence
    layout-only frames here, and ``redraw: true`` on every button that stops on a frame (Step,
    Back, First, Last, Pause, the slider, and the two slower Play speeds): the redraw after the
    frame restores the nodes, so clicks work. Only "Fast" plays without redraws.
    """
    varying = _varying([s for s, _ in scene.steps])
    frames = []
    for k, (shapes, texts) in enumerate(scene.steps):
        fs = [{key: coords[key] for key in keys} for coords, keys in zip(shapes, varying)]
        while fs and not fs[-1]:
            fs.pop()
        frames.append({"name": str(k), "layout": {"shapes": fs,
                                                  "annotations": [{"text": s} for s in texts]}})
    return frames, varying


def _slider_steps(scene: Scene) -> list[dict]:
    """The slider's positions: the same in the figure of every step, so built once (they are
    most of a figure's layout, and a cache holds the figures of many steps)."""
    n = len(scene.steps)
    every = max(1, -(-n // MAX_SLIDER_STEPS))
    return [{"method": "animate", "label": scene.step_labels[k], "args": [[str(k)], SLIDER_ARGS]}
            if n <= 40 else {"method": "animate", "args": [[str(k)], SLIDER_ARGS]}
            for k in range(0, n, every)]


def _animation(scene: Scene, steps: list) -> Animation:
    traces = _traces(scene)
    frames, varying = _frames(scene)
    data = copy.deepcopy(traces)
    convert_to_base64(data)
    return Animation(scene, steps, traces, frames, varying, data_spec=data,
                     slider_steps=_slider_steps(scene))


def conv_animation(stages: Stages, spec: ConvSpec, *, classroom: bool = False,
                   style: Style = LIGHT, look: Look | None = None) -> Animation:
    """The convolution of ``stages`` (from ``conv.stages.run(x, spec)``), one frame per output
    cell: the window on the (padded) input, the kernel, the output filling in, the equation.
    ``look``: the sizes (default: ``look_for(classroom)``; :func:`fit_look` for a screen).

    Raises
    ------
    ValueError
        When the layer has more than :data:`MAX_CHANNELS` input channels or filters.
    """
    steps = conv_steps(stages, spec)
    return _animation(_conv_scene(stages, spec, steps, look or look_for(classroom, style),
                                  style), steps)


def pool_animation(pre: np.ndarray, pool: PoolSpec, pooled: np.ndarray, *,
                   classroom: bool = False, title: str = "Map",
                   style: Style = LIGHT, look: Look | None = None) -> Animation:
    """Pooling of ``pre`` (C, H, W) into the engine's ``pooled``, one frame per pooled cell."""
    pre = np.asarray(pre, np.float32)
    steps = pool_steps(pre, pool, pooled)
    return _animation(_pool_scene(pre, pool, pooled, steps, look or look_for(classroom, style),
                                  title, style), steps)


# --------------------------------------------------------------------------------------------
# GIF: the same scene drawn by Pillow
# --------------------------------------------------------------------------------------------

FONT_FILES = {
    "sans": ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
             "LiberationSans-Regular.ttf"),
    "bold": ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
             "LiberationSans-Bold.ttf"),
    "mono": ("DejaVuSansMono.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
             "LiberationMono-Regular.ttf"),
    "italic": ("DejaVuSans-Oblique.ttf",
               "/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf",
               "LiberationSans-Italic.ttf"),
}


@lru_cache(maxsize=64)
def _font(kind: str, size: int):
    from PIL import ImageFont

    for name in FONT_FILES[kind]:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)  # Pillow's bundled font: always there


def _hex(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def _rgba(color: str) -> tuple[int, int, int, int]:
    if color.startswith("rgba"):
        parts = [p.strip() for p in color[color.index("(") + 1:-1].split(",")]
        return (int(parts[0]), int(parts[1]), int(parts[2]), int(float(parts[3]) * 255))
    return (*_hex(color), 255)


def _colour(scale: list, zmin: float, zmax: float, v: float) -> tuple[int, int, int]:
    f = 0.0 if zmax == zmin else min(max((v - zmin) / (zmax - zmin), 0.0), 1.0)
    for (p0, c0), (p1, c1) in itertools.pairwise(scale):
        if f <= p1:
            u = 0.0 if p1 == p0 else (f - p0) / (p1 - p0)
            a, b = _hex(c0), _hex(c1)
            return tuple(round(a[i] + (b[i] - a[i]) * u) for i in range(3))  # type: ignore
    return _hex(scale[-1][1])


def _plain(text: str) -> list[str]:
    import re

    return [re.sub(r"<[^>]+>", "", line) for line in text.split("<br>")]


def _gif(scene: Scene, n: int, frame_ms: int) -> bytes:
    from PIL import Image, ImageDraw

    scale = max(0.5, min(1.0, 900 / ((scene.x_range[1] - scene.x_range[0]) * scene.cell_px)))
    cell = scene.cell_px * scale
    x0, y0 = scene.x_range[0], scene.y_range[0]
    wpx = int((scene.x_range[1] - x0) * cell) + 16
    hpx = int((scene.y_range[1] - y0) * cell) + 16

    def px(x: float, y: float) -> tuple[float, float]:
        return 8 + (x - x0) * cell, 8 + (y - y0) * cell

    sty = scene.style
    base = Image.new("RGB", (wpx, hpx), sty.rgb_paper)
    d = ImageDraw.Draw(base)
    for g in scene.grids:
        fnt = _font("italic" if g.italic else "sans", max(8, int(g.font_px * scale))) if g.font_px else None
        u = g.box.unit
        side = cell * u
        for r in range(g.z.shape[0]):
            for c in range(g.z.shape[1]):
                v = g.z[r, c]
                if not np.isfinite(v):
                    continue
                rgb = _colour(g.colorscale, g.zmin, g.zmax, float(v))
                a, b = px(g.box.x + c * u, g.box.y + r * u)
                d.rectangle([a + 1, b + 1, a + side - 1, b + side - 1], fill=rgb)
                if fnt is not None and g.text is not None and g.text[r][c]:
                    lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
                    col = _hex(g.font_color) if g.font_color else ((0, 0, 0) if lum > 140 else (255, 255, 255))
                    d.text((a + side / 2, b + side / 2), g.text[r][c], fill=col, font=fnt, anchor="mm")

    def draw_shape(dr, s: dict) -> None:
        if "path" in s:
            for x0_, y0_, x1_, y1_ in path_rects(s["path"]):
                draw_shape(dr, {**{k: v for k, v in s.items() if k != "path"},
                                "x0": x0_, "y0": y0_, "x1": x1_, "y1": y1_})
            return
        a = px(s["x0"], s["y0"])
        b = px(s["x1"], s["y1"])
        if abs(b[0] - a[0]) < 1 or abs(b[1] - a[1]) < 1:
            return
        box = [min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])]
        fill = s.get("fillcolor")
        line = s.get("line", {})
        width = int(line.get("width", 1) * scale + 0.5)
        if fill:
            rgba = _rgba(fill)
            if rgba[3] == 255:
                dr.rectangle(box, fill=rgba[:3])
        if width > 0 and line.get("color"):
            dr.rectangle(box, outline=_hex(line["color"]), width=max(1, width))

    def draw_text(dr, t: dict, text: str) -> None:
        kind = "mono" if t.get("font", {}).get("family") == MONO else "sans"
        if "<b>" in text and kind == "sans":
            kind = "bold"
        if t.get("font", {}).get("style") == "italic" and kind == "sans":
            kind = "italic"
        size = max(9, int(t.get("font", {}).get("size", 14) * scale))
        fnt = _font(kind, size)
        lines = _plain(text)
        x, y = px(t["x"], t["y"])
        line_h = size * 1.3
        total = line_h * len(lines)
        if t.get("yanchor") == "bottom":
            y -= total
        elif t.get("yanchor") == "middle":
            y -= total / 2
        for i, line in enumerate(lines):
            w = dr.textlength(line, font=fnt)
            xx = x - w if t.get("xanchor") == "right" else x - w / 2 if t.get("xanchor") == "center" else x
            colour = t.get("font", {}).get("color")
            fill = _hex(colour) if colour and colour.startswith("#") else sty.rgb_text
            dr.text((xx, y + i * line_h), line, fill=fill, font=fnt)

    for s in scene.static_shapes:
        draw_shape(d, s)
    for t in scene.static_texts:
        draw_text(d, t, t["text"])
    frames = []
    for k in range(n):
        im = base.copy()
        dr = ImageDraw.Draw(im)
        shapes, texts = scene.steps[k]
        for tpl, coords in zip(scene.dyn_shapes, shapes):
            draw_shape(dr, {**tpl, **coords})
        for tpl, s in zip(scene.dyn_texts, texts):
            draw_text(dr, tpl, s)
        frames.append(im.convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
    buf = io.BytesIO()
    durations = [frame_ms] * len(frames)
    durations[-1] = frame_ms * 3
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=durations,
                   loop=0, optimize=False, disposal=1)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Zoom: one window's neighbourhood with its numbers (for grids whose numbers are hidden)
# --------------------------------------------------------------------------------------------

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
                rgb = _colour(g.colorscale, g.zmin, g.zmax, value)
                bg = "#%02x%02x%02x" % rgb
                lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
                fg, italic = ("#000000" if lum > 140 else "#ffffff"), False
                text = _fit(value, 6)
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
    factor, rows = _kernel_cells(k)
    m = float(np.abs(k).max()) or 1.0
    out = [f'<table style="border-collapse:separate;border-spacing:2px;font-family:{SANS}">']
    for i, row in enumerate(rows):
        out.append("<tr>")
        for j, text in enumerate(row):
            rgb = _colour(DIVERGING, -m, m, float(k[i, j]))
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
