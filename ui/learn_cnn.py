"""Data, state and tables of the "Inside a CNN" page (``ui/pages/inside_cnn.py``): LeNet-5 on
MNIST, a test digit or a drawn one, every layer's maps and a cell traced back.

Session state keys (all prefixed ``inside.``)
--------------------------------------------
inside.source   "test" (a held-out digit) or "drawn" (the canvas, or a drawing from a link)
inside.digit    the test digit's class (the pills), 0..9
inside.ex       which held-out example of that class (0-based; the link counts from 1)
inside.drawn    the drawn digit as the network's 28x28 uint8 input, or None
inside.pre      the drawing's preprocessing steps (:class:`kernels.drawing.Preprocessed`),
                None when the drawing came from a link
inside.strokes  the canvas' last value (its strokes), drawn again by a canvas built anew
inside.sel      the selected cell ``(stage, c, i, j)``, or None
inside.clear    a token; a new value clears the canvas (a link's drawing replaced it)
inside.mistake  how many times "Show a mistake" was clicked (it steps through them)

Caches: everything that depends only on a test digit (its maps' data, a traced cell's figures)
and the shipped weights, data and tables are entries of the app's one byte budget
(``ui/cache.py``), shared by every session: a class looking at the same digits shares them, and
a rerun that changes nothing rebuilds nothing. A test digit costs about 60 kB, a traced cell's
figure 10-50 kB; the weights 0.26 MB and the 5,000 digits 4 MB.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from conv import stages as conv_stages
from conv.network import Analysis, analyze
from conv.stages import ConvSpec, PoolSpec
from kernels import drawing, lenet
from ui import cache
from ui.state import Param, UrlState, choice, integer
from viz import animation
from viz import lenet as figs
from viz.style import LIGHT, Style

SOURCES = ("test", "drawn")
DEFAULT_DIGIT = 7
CANVAS_KEY = "inside.canvas"
VIEW_KEY = "inside.maps"


# --------------------------------------------------------------------------------------------
# Shared, read-only data
# --------------------------------------------------------------------------------------------


@cache.cached
def weights() -> lenet.Weights:
    """The shipped weights (read-only, shared by every session)."""
    return lenet.load()


@cache.cached
def digits() -> lenet.Digits:
    return lenet.load_digits()


@cache.cached
def analysis() -> Analysis:
    return analyze(lenet.network())


@cache.cached
def held_out_predictions() -> np.ndarray:
    """The prediction for every held-out digit, by the batched forward pass (a test checks it
    decides as the engine's forward does, digit by digit)."""
    w, d = weights(), digits()
    probs, _ = lenet.forward_batch(w.params(), d.images[w.test_idx])
    return probs.argmax(axis=1)


def examples_of(digit: int) -> np.ndarray:
    """Indices (into the data) of the held-out examples of ``digit``."""
    w, d = weights(), digits()
    return w.test_idx[d.labels[w.test_idx] == digit]


def mistakes() -> np.ndarray:
    """Indices of the held-out digits the network gets wrong."""
    w, d = weights(), digits()
    return w.test_idx[held_out_predictions() != d.labels[w.test_idx]]


# --------------------------------------------------------------------------------------------
# The notes' table
# --------------------------------------------------------------------------------------------

NOTES_COLUMNS = ["Layer", "Activation shape", "Activation size", "# parameters"]


def _shape_text(r) -> str:
    o = r.output
    return f"({o.c}, 1)" if o.flat else f"({o.h}, {o.w}, {o.c})"


@cache.cached
def notes_table() -> pd.DataFrame:
    """The network in the lecture notes' LeNet-5 table format (their "Analysis": activation
    shape, activation size, parameters), with the trained network's numbers, and the totals."""
    a = analysis()
    rows = []
    for r in a.rows:
        name = "Input (the digit, padded)" if r.index == 0 else r.name
        size = r.output.size if r.index == 0 else r.neurons
        rows.append([name, _shape_text(r), f"{size:,}", f"{r.params.value:,}"])
    rows.append(["Total (without the input)", "", f"{a.neurons:,}", f"{a.params:,}"])
    return pd.DataFrame(rows, columns=NOTES_COLUMNS)


NOTES_CORRECTIONS = (
    ("The notes' input has 3 channels (32, 32, 3); MNIST's digits are grey: (32, 32, 1), 1,024 "
     "values, and CONV1 has (5 x 5 x 1 + 1) x 6 = 156 parameters instead of 456."),
    ("The notes print CONV1's shape as (8, 20, 6) with 4707 activations: it is (32 - 5) / 1 + 1 "
     "= 28, so (28, 28, 6) and 4,704."),
    "The notes print 48210 parameters for FC3: it is (400 + 1) x 120 = 48,120.",
    "The notes print the softmax's activation size as 16: it has 10 units, one per digit.",
)


# --------------------------------------------------------------------------------------------
# URL state
# --------------------------------------------------------------------------------------------


def parse_cell(text: str) -> tuple[str, int, int, int]:
    """``"conv2:5:3:7"`` (stage, then map, row and column counted from 1; a unit of a fully
    connected layer: ``"fc3:17"``) -> ``("conv2", 4, 2, 6)``, checked against the stage's
    shape."""
    parts = text.strip().split(":")
    key = parts[0].lower()
    if key not in lenet.STAGE_KEYS:
        raise ValueError(f"{text!r}: the layer must be one of {', '.join(lenet.STAGE_KEYS)}")
    st_ = lenet.stage(key)
    want = 4 if st_.spatial else 2
    if len(parts) != want:
        raise ValueError(f"{text!r}: write {key}:map:row:column" if st_.spatial
                         else f"{text!r}: write {key}:unit")
    try:
        nums = [int(p) - 1 for p in parts[1:]]
    except ValueError:
        raise ValueError(f"{text!r}: map, row and column must be whole numbers") from None
    c, i, j = (nums + [0, 0])[:3]
    lenet.receptive_regions(key, c, i, j)  # raises when outside the stage
    return key, c, i, j


def format_cell(sel: tuple[str, int, int, int]) -> str:
    key, c, i, j = sel
    return f"{key}:{c + 1}:{i + 1}:{j + 1}" if lenet.stage(key).spatial else f"{key}:{c + 1}"


def url_state() -> UrlState:
    """Every setting of the page in the link (``?digit=7&ex=3&cell=conv2:5:3:7``); a drawn
    digit travels as its 28x28 input (``src=drawn&d=...``, :func:`kernels.drawing.encode_image`)."""
    return UrlState("inside", [
        Param("src", "inside.source", "test", choice(SOURCES), label="test digit or drawing"),
        Param("digit", "inside.digit", DEFAULT_DIGIT, integer(0, 9), label="test digit"),
        Param("ex", "inside.ex", 0, lambda t: integer(1, 100)(t) - 1,
              format=lambda v: str(v + 1), label="held-out example"),
        Param("d", "inside.link_d", None, drawing.decode_image, format=drawing.encode_image,
              label="drawn digit"),
        Param("cell", "inside.sel", None, parse_cell, format=format_cell, label="traced cell"),
    ])


def after_restore(url: UrlState) -> None:
    """Once a link is applied: its drawing becomes the page's (the canvas is cleared: it cannot
    show a drawing it did not make)."""
    ss = st.session_state
    if not url.applied:
        return
    link_d = ss.get("inside.link_d")
    if link_d is not None:
        ss["inside.drawn"] = link_d
        ss["inside.pre"] = ss["inside.strokes"] = None
        ss["inside.clear"] = ss.get("inside.clear", 0) + 1
    if ss.get("inside.source") == "drawn" and ss.get("inside.drawn") is None:
        ss["inside.source"] = "test"


def before_publish() -> None:
    """The link carries the drawing only when the page shows it."""
    ss = st.session_state
    ss["inside.link_d"] = ss.get("inside.drawn") if ss.get("inside.source") == "drawn" else None


# --------------------------------------------------------------------------------------------
# One digit through the network
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Shown:
    """The digit the page shows: its input, its trace, the maps' JSON and a key naming it (a
    test digit's index, or the drawn input's bytes) for the caches."""

    image: np.ndarray
    trace: lenet.Trace
    layers_json: str
    label: int | None
    key: tuple


def map_layers(t: lenet.Trace) -> list[figs.MapLayer]:
    """The maps the page shows: each layer before its ReLU (signed, diverging), the pooled maps
    after ReLU and max (from 0 up), the input as ink."""
    M = figs.MapLayer
    return [
        M("input", "Input 32 x 32", t.input, "ink", 5, "the 28 x 28 digit / 255, padded by 2",
          minpx=4),
        M("conv1", "CONV1: 6 maps 28 x 28", t.conv1, "div", 5, "5 x 5 filters, before ReLU",
          minpx=3),
        M("pool1", "POOL1: 6 maps 14 x 14", t.pool1, "seq", 8, "ReLU, then max of 2 x 2",
          minpx=5),
        M("conv2", "CONV2: 16 maps 10 x 10", t.conv2, "div", 8, "5 x 5 x 6 filters, before ReLU",
          minpx=5),
        M("pool2", "POOL2: 16 maps 5 x 5", t.pool2, "seq", 12, "ReLU, then max of 2 x 2",
          minpx=8),
        M("fc3", "FC3: 120 units", t.fc3[:, None, None], "div", 14,
          "400 inputs each, before ReLU", cols=30, minpx=10),
        M("fc4", "FC4: 84 units", t.fc4[:, None, None], "div", 14,
          "120 inputs each, before ReLU", cols=28, minpx=10),
        M("out", "Output: 10 scores", t.logits[:, None, None], "div", 32,
          "84 inputs each; softmax makes them the probabilities",
          names=tuple(str(d) for d in range(10)), minpx=24),
    ]


def _shown(image: np.ndarray, label: int | None, key: tuple) -> Shown:
    trace = lenet.forward(weights(), image)
    return Shown(image, trace, figs.layers_json(map_layers(trace)), label, key)


@cache.cached
def test_digit(index: int) -> Shown:
    """A held-out digit through the network (shared by every session)."""
    d = digits()
    # a copy: a view would keep (and be charged) all 5,000 digits
    return _shown(d.images[index].copy(), int(d.labels[index]), ("test", index))


def drawn_digit(image: np.ndarray) -> Shown:
    """A drawn digit through the network (computed every time: it is cheap, and every stroke
    is new)."""
    img = np.asarray(image, np.uint8)
    return _shown(img, None, ("drawn", img.tobytes()))


def read_canvas(value) -> drawing.Preprocessed:
    """The canvas' value as the page reads it: its strokes made into MNIST's 28x28 format
    (``ValueError`` when it is not a drawing); :func:`drawn_digit` of its ``image`` is what
    the page shows."""
    return drawing.preprocess(drawing.parse_strokes(value))


# --------------------------------------------------------------------------------------------
# A cell traced back
# --------------------------------------------------------------------------------------------

STAGE_NAMES = {"input": "the input", "conv1": "CONV1", "pool1": "POOL1", "conv2": "CONV2",
               "pool2": "POOL2", "fc3": "FC3", "fc4": "FC4", "out": "the output"}


def cell_name(sel: tuple[str, int, int, int]) -> str:
    key, c, i, j = sel
    st_ = lenet.stage(key)
    if key == "out":
        return f"the output's score for the digit {c}"
    if not st_.spatial:
        return f"{STAGE_NAMES[key]} unit {c + 1}"
    where = f"row {i + 1}, column {j + 1}"
    return f"{STAGE_NAMES[key]} map {c + 1}, {where}" if st_.shape[0] > 1 else \
        f"{STAGE_NAMES[key]} {where}"


def regions_json(sel: tuple[str, int, int, int] | None) -> list[dict]:
    """The receptive field of the selected cell on every earlier map, for ``ui/netview.js``."""
    if sel is None:
        return []
    return [{"stage": r.key, "channels": None if r.channels is None else list(r.channels),
             "r0": r.r0, "r1": r.r1, "c0": r.c0, "c1": r.c1}
            for r in lenet.receptive_regions(*sel)]


def receptive_lines(sel: tuple[str, int, int, int]) -> list[str]:
    """The receptive field in words, layer by layer, with the formula's numbers (Markdown)."""
    key, c, i, j = sel
    regions = lenet.receptive_regions(key, c, i, j)
    if not regions:
        return [("An input pixel: the digit's pixel / 255 (0 on the padding). Nothing comes "
                 "before it.")]
    lines = []
    rows, cols = (i, i), (j, j)
    here = lenet.STAGE_KEYS.index(key)
    for r in regions:
        layer = lenet.STAGES[lenet.STAGE_KEYS.index(r.key) + 1]
        below = lenet.stage(r.key)
        name = STAGE_NAMES[r.key]
        which = ("" if below.shape[0] == 1 else "all its maps" if r.channels is None else
                 f"map {r.channels[0] + 1} only")
        if not below.spatial or layer.k == 0:
            count = int(np.prod(below.shape))
            lines.append(f"**{name}**: all {count:,} values (a fully connected layer reads "
                         "everything before it)")
            continue
        k, s, p = layer.k, layer.s, layer.p
        if lenet.STAGE_KEYS.index(r.key) + 1 == here:
            formula = (f"rows [{i}·{s} − {p}, {i}·{s} − {p} + {k} − 1] = [{r.r0}, {r.r1}], "
                       f"columns [{j}·{s} − {p}, {j}·{s} − {p} + {k} − 1] = [{r.c0}, {r.c1}]")
        else:
            formula = (f"rows [{rows[0]}·{s} − {p}, {rows[1]}·{s} − {p} + {k} − 1] = "
                       f"[{r.r0}, {r.r1}], columns [{cols[0]}·{s} − {p}, {cols[1]}·{s} − {p} "
                       f"+ {k} − 1] = [{r.c0}, {r.c1}]")
        size = f"{r.r1 - r.r0 + 1} x {r.c1 - r.c0 + 1}" + (f", {which}" if which else "")
        extra = ""
        if r.key == "input":
            extra = (f"; of the 28 x 28 digit, rows {max(r.r0 - lenet.PAD, 0) + 1} to "
                     f"{min(r.r1 - lenet.PAD, 27) + 1} and columns "
                     f"{max(r.c0 - lenet.PAD, 0) + 1} to {min(r.c1 - lenet.PAD, 27) + 1}"
                     if r.r1 >= lenet.PAD and r.r0 <= 29 and r.c1 >= lenet.PAD and r.c0 <= 29
                     else "; all of it padding")
        lines.append(f"**{name}** ({size}): window {k}, stride {s}, padding {p}: "
                     f"{formula} (counted from 0){extra}")
        rows, cols = (r.r0, r.r1), (r.c0, r.c1)
    return lines


def value_of(t: lenet.Trace, sel) -> float:
    key, c, i, j = sel
    arrays = {"input": t.input, "conv1": t.conv1, "pool1": t.pool1, "conv2": t.conv2,
              "pool2": t.pool2}
    if key in arrays:
        return float(arrays[key][c, i, j])
    return float({"fc3": t.fc3, "fc4": t.fc4, "out": t.logits}[key][c])


@dataclass(frozen=True, eq=False)
class Explained:
    """The multiply-adds of one cell: a heading, lines of Markdown, a figure (or None), the
    last steps (sum, bias, activation) and the full equation as monospaced text (or "")."""

    heading: str
    lines: tuple[str, ...]
    figure: object
    equation: str
    summary: str = ""


def _conv_crop(x: np.ndarray, i: int, j: int, k: int) -> np.ndarray:
    return np.ascontiguousarray(x[:, i:i + k, j:j + k], np.float32)


def _conv_step(x: np.ndarray, w: np.ndarray, b: float, i: int, j: int) -> tuple:
    """The window of cell (i, j) and its computation by the sliding window's own code
    (:func:`viz.animation.conv_steps` on that window: one step)."""
    k = w.shape[-1]
    spec = ConvSpec(weight=w[None], bias=(float(b),), activation="relu")
    run = conv_stages.run(_conv_crop(x, i, j, k), spec)
    return spec, run, animation.conv_steps(run, spec)[0]


def explain(shown: Shown, sel: tuple[str, int, int, int], style: Style = LIGHT) -> Explained:
    """The computation behind cell ``sel`` of ``shown``'s maps (its figure in ``style``)."""
    key, c, i, j = sel
    w, t = weights(), shown.trace
    value = value_of(t, sel)
    head = f"{cell_name(sel)[0].upper()}{cell_name(sel)[1:]} = {animation.fmt(value)}"
    if key == "input":
        inside = lenet.PAD <= i < lenet.PAD + 28 and lenet.PAD <= j < lenet.PAD + 28
        line = (f"The digit's pixel (row {i - lenet.PAD + 1}, column {j - lenet.PAD + 1}) is "
                f"{int(shown.image[i - lenet.PAD, j - lenet.PAD])}; the network reads it "
                f"divided by 255: {animation.fmt(value)}." if inside else
                "Padding: LeNet-5 reads its 28 x 28 digit in a 32 x 32 frame of zeros.")
        return Explained(head, (line,), None, "")
    if key in ("conv1", "conv2"):
        x = t.input if key == "conv1" else t.pool1
        weight = w.w1 if key == "conv1" else w.w2
        bias = w.b1 if key == "conv1" else w.b2
        spec, run, step = _conv_step(x, weight[c], float(bias[c]), i, j)
        relu = max(value, 0.0)
        lines = ((f"The 5 x 5 window at rows {i}..{i + 4}, columns {j}..{j + 4} of "
                  f"{'the input' if key == 'conv1' else 'POOL1 (all 6 maps)'}, times filter "
                  f"{c + 1}, summed; plus its bias {animation.fmt(bias[c])}. The map shows "
                  f"this sum before ReLU; the next layer reads ReLU of it: "
                  f"{animation.fmt(relu)}."),)
        if key == "conv1":
            anim = animation.conv_animation(run, spec, style=style)
            fig = anim.still(0, heading=f"CONV1 filter {c + 1} at row {i + 1}, column {j + 1}",
                             formula=False)
            return Explained(head, lines, fig, "")
        fig = figs.conv_channels_figure(
            step, map_names=[f"POOL1 map {m + 1}" for m in range(x.shape[0])],
            value_title=f"CONV2 filter {c + 1} at row {i + 1}, column {j + 1}: each POOL1 "
                        f"map's window times the filter's slice for it", style=style)
        return Explained(head, lines, fig, "\n".join(step.equation),
                         "\n".join(step.equation[-3:]))
    if key in ("pool1", "pool2"):
        pre = t.relu1 if key == "pool1" else t.relu2
        conv = t.conv1 if key == "pool1" else t.conv2
        window = np.ascontiguousarray(pre[c:c + 1, 2 * i:2 * i + 2, 2 * j:2 * j + 2])
        before = conv[c, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
        pool = PoolSpec(kernel_size=2, mode="max")
        pooled = np.array([[[value]]], np.float32)
        anim = animation.pool_animation(window, pool, pooled, style=style,
                                        title=f"ReLU({'CONV1' if key == 'pool1' else 'CONV2'})")
        fig = anim.still(0, heading=f"{key.upper()} map {c + 1} at row {i + 1}, column {j + 1}",
                         formula=False)
        src = "CONV1" if key == "pool1" else "CONV2"
        nums = ", ".join(animation.fmt(v) for v in before.ravel())
        lines = ((f"The 2 x 2 window at rows {2 * i}..{2 * i + 1}, columns "
                  f"{2 * j}..{2 * j + 1} of {src} map {c + 1}: {nums}. ReLU sets the negatives "
                  f"to 0, and the largest is kept: {animation.fmt(value)}."),)
        return Explained(head, lines, fig, "")
    # fully connected
    if key == "fc3":
        x, weight, bias, act = t.flat, w.w3, w.b3, True
        names = [f"POOL2 map {k // 25 + 1}, r{k % 25 // 5 + 1} c{k % 5 + 1}" for k in range(400)]
    elif key == "fc4":
        x, weight, bias, act = t.relu3, w.w4, w.b4, True
        names = [f"FC3 unit {k + 1}" for k in range(120)]
    else:
        x, weight, bias, act = t.relu4, w.w5, w.b5, False
        names = [f"FC4 unit {k + 1}" for k in range(84)]
    prods = x.astype(np.float64) * weight[c].astype(np.float64)
    total = float(prods.sum())
    pos, neg = float(prods[prods > 0].sum()), float(prods[prods < 0].sum())
    n = len(x)
    zero = int(np.count_nonzero(x == 0))
    lines = [
        (f"{n} inputs, each times its weight: {n - zero} inputs are not 0 ({zero} are 0 after "
         f"ReLU and add nothing). The positive products add up to {animation.fmt(pos)}, the "
         f"negative ones to {animation.fmt(neg)}: {animation.fmt(total)} in all; plus the bias "
         f"{animation.fmt(bias[c])}: **{animation.fmt(total + float(bias[c]))}**."),
    ]
    if act:
        lines.append(f"The next layer reads ReLU of it: "
                     f"{animation.fmt(max(total + float(bias[c]), 0.0))}.")
    else:
        p = float(t.probs[c])
        lines.append(f"Softmax: e^{animation.fmt(value)} / (the sum of e^score over the ten "
                     f"digits) = **{p:.2%}**, the bar of the digit {c}.")
    fig = figs.fc_figure(x, weight[c], input_names=names,
                         title=f"The 8 largest of its {n} products (input × weight)",
                         style=style)
    return Explained(head, tuple(lines), fig, "")


@cache.cached
def explain_test(index: int, sel: tuple[str, int, int, int],
                 style: Style = LIGHT) -> Explained:
    """:func:`explain` for a test digit, shared by every session."""
    return explain(test_digit(index), sel, style)


def escape(text: str) -> str:
    return html.escape(text, quote=False)
