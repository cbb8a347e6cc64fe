"""Pictures of LeNet-5 at work: every layer's maps (as the data of ``ui/netview.js``), the ten
probabilities, the drawing's preprocessing strip, and the multiply-adds behind one cell.

Every number a class needs is written out (bars carry their percentages, the colour bars their
real minimum and maximum): nothing depends on hovering. Signed maps use a diverging scale
centred on 0 (blue negative, red positive) running from ``-M`` to ``+M``, ``M`` the largest
magnitude; maps after ReLU and pooling the positive half of it, from 0 to their maximum; the
input black ink on white paper. Builders return plain data, HTML text or ``go.Figure`` and never
import streamlit (nor ``kernels``: the page hands them arrays).

Public API
----------
MapLayer, layers_json(layers) -> str, maps_payload(layers_json, sel, regions) -> str
quantise(values, scale, end) -> uint8
prediction_html(probs, *, label=None) -> str
strip_html(...) -> str
conv_channels_figure(step, *, map_names, value_title) -> go.Figure
fc_figure(inputs, weights, bias, *, ...) -> go.Figure, and top_terms(...)
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

from viz.animation.steps import ConvStep, fmt
from viz.maps import data_uri
from viz.style import LIGHT, Style

__all__ = [
    "MapLayer",
    "conv_channels_figure",
    "fc_figure",
    "layers_json",
    "maps_payload",
    "prediction_html",
    "quantise",
    "strip_html",
    "top_terms",
]

SCALES = ("ink", "div", "seq")
PREDICTED = "#D55E00"  # Okabe & Ito vermillion, as the sliding window's current cell
OTHER = "#8c96a0"
TRUE = "#0072B2"  # Okabe & Ito blue
# Plotly's RdBu reversed (blue negative, red positive) and its positive half: the same colours
# as ui/netview.js
DIVERGING_STOPS = [[0.0, "#053061"], [0.1, "#2166ac"], [0.2, "#4393c3"], [0.3, "#92c5de"],
                   [0.4, "#d1e5f0"], [0.5, "#f7f7f7"], [0.6, "#fddbc7"], [0.7, "#f4a582"],
                   [0.8, "#d6604d"], [0.9, "#b2182b"], [1.0, "#67001f"]]
POSITIVE = [[0.0, "#f7f7f7"], [0.2, "#fddbc7"], [0.4, "#f4a582"], [0.6, "#d6604d"],
            [0.8, "#b2182b"], [1.0, "#67001f"]]


# --------------------------------------------------------------------------------------------
# The maps, for ui/netview.js
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MapLayer:
    """One layer's maps: ``values`` ``(C, H, W)`` (units of a fully connected layer:
    ``(C, 1, 1)``), drawn ``px`` screen pixels a cell, on colour scale ``scale`` (``"ink"``:
    0..1 white to black; ``"div"``: diverging, centred on 0; ``"seq"``: from 0 up), or as few as
    ``minpx`` when the maps would not fit in one row otherwise (they wrap below it). Units are
    laid out ``cols`` a row; ``names`` label them (the ten digits)."""

    key: str
    title: str
    values: np.ndarray
    scale: str
    px: int
    note: str = ""
    minpx: int = 0
    cols: int = 0
    names: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.scale not in SCALES:
            raise ValueError(f"The parameter `scale` must be one of {SCALES}, got {self.scale!r}")
        if np.asarray(self.values).ndim != 3:
            raise ValueError(f"The parameter `values` must be (C, H, W), got {np.shape(self.values)}")

    @property
    def end(self) -> float:
        """Where the colour scale ends (it starts at ``-end`` when diverging, else at 0)."""
        v = np.asarray(self.values, np.float64)
        if self.scale == "ink":
            return 1.0
        m = float(np.abs(v).max()) if self.scale == "div" else float(v.max())
        return m if m > 0 else 1.0


def quantise(values: np.ndarray, scale: str, end: float) -> np.ndarray:
    """Values as uint8 positions along their colour scale: 0 is its start (``-end`` diverging,
    else 0), 255 its end, and 0 itself 127.5 on a diverging scale (rounded to 128)."""
    v = np.asarray(values, np.float64)
    t = (v / end + 1) / 2 if scale == "div" else v / end
    return np.clip(np.rint(t * 255), 0, 255).astype(np.uint8)


def layers_json(layers: Sequence[MapLayer]) -> str:
    """The layers as the JSON array ``ui/netview.js`` draws (built once per digit and cached:
    the selection is added by :func:`maps_payload` without encoding the maps again)."""
    out = []
    for layer in layers:
        v = np.asarray(layer.values, np.float64)
        c, h, w = v.shape
        end = layer.end
        out.append({
            "key": layer.key, "title": layer.title, "note": layer.note, "c": c, "h": h, "w": w,
            "px": layer.px, "minpx": layer.minpx or layer.px, "cols": layer.cols or c, "scale": layer.scale, "end": end,
            "lo": float(v.min()), "hi": float(v.max()),
            "data": base64.b64encode(quantise(v, layer.scale, end).tobytes()).decode("ascii"),
            "names": list(layer.names) if layer.names else None,
        })
    return json.dumps(out, separators=(",", ":"))


def maps_payload(stages_json: str, sel: dict | None = None, regions: Sequence[dict] = ()) -> str:
    """The component's data: the layers (:func:`layers_json`), the selected cell
    ``{"stage", "c", "i", "j"}`` and the regions it reads ``{"stage", "channels", "r0", "r1",
    "c0", "c1"}`` (``channels`` None: all), outlined on the maps."""
    tail = json.dumps({"sel": sel, "regions": list(regions)}, separators=(",", ":"))
    return '{"stages":' + stages_json + "," + tail[1:]


# --------------------------------------------------------------------------------------------
# The probabilities
# --------------------------------------------------------------------------------------------


def prediction_line(probs: Sequence[float]) -> str:
    """``"Prediction: 7 (93.1%)"``."""
    p = np.asarray(probs, np.float64)
    best = int(np.argmax(p))
    return f"Prediction: {best} ({p[best]:.1%})"


def prediction_html(probs: Sequence[float], *, label: int | None = None,
                    note: str = "") -> str:
    """The prediction line in large type and the ten probabilities as bars with their
    percentages written on them; the predicted digit in vermillion; ``label`` (the true digit
    of a test digit) marked under its bar."""
    p = np.asarray(probs, np.float64)
    best = int(np.argmax(p))
    verdict = ""
    if label is not None:
        ok = label == best
        verdict = (f'<span class="conv-pred-verdict {"ok" if ok else "wrong"}">'
                   f'{"right" if ok else "wrong"}: the writer wrote {label}</span>')
    bars = []
    for d, v in enumerate(p):
        text = f"{v:.1%}" if v >= 0.0005 else "<0.1%"
        colour = PREDICTED if d == best else OTHER
        true = ' conv-pred-true' if label == d else ""
        bars.append(
            f'<div class="conv-pred-col{true}"><div class="conv-pred-pct">{text}</div>'
            f'<div class="conv-pred-track"><div class="conv-pred-bar" '
            f'style="height:{max(v, 0.0) * 100:.1f}%;background:{colour}"></div></div>'
            f'<div class="conv-pred-digit">{d}</div></div>')
    extra = f'<div class="conv-pred-note">{html.escape(note)}</div>' if note else ""
    return (f'<div class="conv-pred"><div class="conv-pred-line" role="status">'
            f'{html.escape(prediction_line(p))}{verdict}</div>{extra}'
            f'<div class="conv-pred-bars" aria-label="Probability of each digit">'
            f'{"".join(bars)}</div></div>')


PREDICTION_CSS = """
.conv-pred { display: flex; flex-direction: column; gap: 0.4rem; }
.conv-pred-line { font-size: 2.1rem; font-weight: 700; line-height: 1.2; }
.conv-pred-verdict { display: inline-block; margin-left: 0.8rem; font-size: 1.2rem;
                     font-weight: 600; padding: 0.1rem 0.5rem; border-radius: 4px; }
.conv-pred-verdict.ok { background: #d9efe4; color: #0b4d2c; }
.conv-pred-verdict.wrong { background: #fbe0d0; color: #7a2d00; }
.conv-pred-note { font-size: 1.05rem; color: var(--st-text-color, #333333); opacity: 0.85; }
.conv-pred-bars { display: flex; gap: 0.35rem; align-items: flex-end; max-width: 34rem; }
.conv-pred-col { flex: 1 1 0; display: flex; flex-direction: column; align-items: center; }
.conv-pred-pct { font-size: 0.95rem; font-weight: 600; white-space: nowrap; }
.conv-pred-track { width: 100%; height: var(--conv-pred-height, 7rem); display: flex;
                   align-items: flex-end; background: var(--st-secondary-background-color, #f1f1f1); }
.conv-pred-bar { width: 100%; }
.conv-pred-digit { font-size: 1.4rem; font-weight: 700; }
.conv-pred-true .conv-pred-digit { color: #ffffff; background: #0072B2; border-radius: 4px;
                                   padding: 0 0.45rem; }
"""


# --------------------------------------------------------------------------------------------
# The preprocessing strip
# --------------------------------------------------------------------------------------------


def _ink_rgb(a: np.ndarray) -> np.ndarray:
    """0..1 ink as RGB: white paper, black ink."""
    g = np.clip(np.rint(255 * (1 - np.asarray(a, np.float64))), 0, 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def _enlarge(rgb: np.ndarray, side: int) -> Image.Image:
    return Image.fromarray(rgb).resize((side, side), Image.Resampling.NEAREST)


def strip_html(*, drawn: np.ndarray, box: tuple[float, float, float, float], canvas: int,
               fitted: np.ndarray, com: tuple[float, float], image: np.ndarray,
               pen_px: float, width_px: float, side: int = 112) -> str:
    """Four small pictures, what the network sees last: the drawing with its ink's bounding
    box; the ink scaled to fit 20x20 (its stroke width); placed in 28x28 by its centre of mass
    (marked, and the centre); the 28x28 digit as the network reads it."""
    im = _enlarge(_ink_rgb(drawn), side)
    d = ImageDraw.Draw(im)
    k = side / canvas
    x0, y0, x1, y1 = (max(0.0, min(canvas, v)) * k for v in box)
    d.rectangle([x0, y0, x1, y1], outline=PREDICTED, width=2)
    fit = _enlarge(_ink_rgb(fitted), side)
    d = ImageDraw.Draw(fit)
    cell = side / 28
    d.rectangle([0, 0, 20 * cell, 20 * cell], outline=PREDICTED, width=2)
    placed = _enlarge(_ink_rgb(np.asarray(image, np.float64) / 255), side)
    d = ImageDraw.Draw(placed)
    cy, cx = 14 * cell + cell / 2, 14 * cell + cell / 2
    d.line([cx - 8, cy, cx + 8, cy], fill=TRUE, width=2)
    d.line([cx, cy - 8, cx, cy + 8], fill=TRUE, width=2)
    pen = (f"stroke {width_px:.1f} px" if abs(pen_px - width_px) < 0.05 else
           f"stroke {pen_px:.1f} → {width_px:.1f} px")
    cards = [
        (im, "1. Your drawing and its ink's box"),
        (fit, f"2. Scaled to fit 20 x 20 ({pen})"),
        (placed, "3. Centre of mass to the centre of 28 x 28: what the network sees"),
    ]
    parts = []
    for picture, caption in cards:
        uri = data_uri(np.asarray(picture), fmt="png")
        parts.append(f'<figure class="conv-strip-card"><img src="{uri}" width="{side}" '
                     f'height="{side}" alt="{html.escape(caption)}"><figcaption>'
                     f'{html.escape(caption)}</figcaption></figure>')
    return f'<div class="conv-strip">{"<span class=conv-strip-arrow>→</span>".join(parts)}</div>'


STRIP_CSS = """
.conv-strip { display: flex; align-items: flex-start; gap: 0.3rem; flex-wrap: wrap; }
.conv-strip-card { margin: 0; width: 7.4rem; display: flex; flex-direction: column; }
.conv-strip-card img { image-rendering: pixelated; border: 1px solid #888888; width: 7rem;
                       height: 7rem; }
.conv-strip-card figcaption { font-size: 0.88rem; line-height: 1.25;
                              color: var(--st-text-color, #222222); }
.conv-strip-arrow { font-size: 1.5rem; align-self: center; margin-top: -2rem; }
"""


# --------------------------------------------------------------------------------------------
# The multiply-adds of one cell
# --------------------------------------------------------------------------------------------


def short(v: float) -> str:
    """A number in at most 4 characters for a small cell: ``0.56`` -> ``.56``, ``-0.134`` ->
    ``-.13``, ``3.68`` -> ``3.7``, ``12.3`` -> ``12`` (the equations show every digit)."""
    v = float(v)
    if v == 0 or abs(v) < 0.005:
        return "0"
    a = abs(v)
    text = f"{v:.0f}" if a >= 9.95 else f"{v:.1f}" if a >= 0.995 else f"{v:.2f}"
    return text.replace("0.", ".", 1) if a < 0.995 else text


def _cells_text(a: np.ndarray) -> list[list[str]]:
    return [[short(v) for v in row] for row in a]


def _figure(traces: list[dict], layout: dict, style: Style = LIGHT) -> go.Figure:
    """A figure from plain dicts, not validated (a test checks them against plotly's schema):
    plotly.py's validation of a CONV2 cell's twelve heatmaps would dominate, and a drawn
    digit's traced cell is drawn again on every stroke. Its
    backgrounds and text in ``style``'s colours."""
    base = {"template": {"data": {}, "layout": {}}, "paper_bgcolor": style.paper,
            "plot_bgcolor": style.paper, "font": {"family": "Arial, Helvetica, sans-serif",
                                                  "color": style.text}}
    font = {**base["font"], **layout.get("font", {})}
    return go.Figure(data=traces, layout={**base, **layout, "font": font}, _validate=False)


def conv_channels_figure(step: ConvStep, *, map_names: Sequence[str], value_title: str,
                         font_size: int = 15, height: int = 420,
                         style: Style = LIGHT) -> go.Figure:
    """A convolution cell over many input channels (the sliding window's display lays out at
    most four): for each channel its window (top) and the kernel's slice for it (bottom), every
    number written in its cell (:func:`short`), and under each pair the channel's sum of
    products. Cells are square."""
    values, weights = np.asarray(step.values, np.float64), np.asarray(step.weights, np.float64)
    c, kh, kw = values.shape
    gap = 1.0
    top = kh + 1.3  # the kernels' first row
    vmax = float(values.max()) or 1.0
    wmax = float(np.abs(weights).max()) or 1.0
    traces, annotations = [], []
    for ch in range(c):
        x0 = ch * (kw + gap)
        common = {"type": "heatmap", "x0": x0, "dx": 1, "dy": 1, "xgap": 1, "ygap": 1,
                  "showscale": False, "hoverinfo": "skip", "texttemplate": "%{text}",
                  "textfont": {"size": font_size - 3}}
        traces.append({**common, "z": values[ch], "y0": 0, "zmin": 0, "zmax": vmax,
                       "colorscale": POSITIVE, "text": _cells_text(values[ch])})
        traces.append({**common, "z": weights[ch], "y0": top, "zmin": -wmax, "zmax": wmax,
                       "colorscale": DIVERGING_STOPS, "text": _cells_text(weights[ch])})
        cx = x0 + (kw - 1) / 2
        note = {"showarrow": False, "x": cx}
        annotations += [
            {**note, "y": -0.6, "text": f"<b>{html.escape(map_names[ch])}</b>",
             "yanchor": "bottom", "font": {"size": font_size - 1}},
            {**note, "y": kh - 0.5 + 0.65, "text": "×", "yanchor": "middle",
             "font": {"size": font_size + 4}},
            {**note, "y": top + kh - 0.5 + 0.1, "text": f"= {fmt(step.partials[ch])}",
             "yanchor": "top", "font": {"size": font_size}},
        ]
    width = c * (kw + gap) - gap
    return _figure(traces, {
        "annotations": annotations, "height": height, "font": {"size": font_size},
        "margin": {"l": 4, "r": 4, "t": 34, "b": 4},
        "title": {"text": value_title, "font": {"size": font_size + 1}, "x": 0.01, "y": 0.985},
        "xaxis": {"visible": False, "range": [-0.6, width - 0.4], "fixedrange": True,
                  "constrain": "domain", "constraintoward": "left"},
        "yaxis": {"visible": False, "range": [top + kh + 0.6, -1.5], "fixedrange": True,
                  "scaleanchor": "x", "constrain": "domain", "constraintoward": "top"},
    }, style)


def top_terms(inputs: np.ndarray, weights: np.ndarray, n: int = 8) -> np.ndarray:
    """Indices of the ``n`` products ``inputs[k] * weights[k]`` largest in magnitude, largest
    first (ties: the lower index first)."""
    prod = np.asarray(inputs, np.float64) * np.asarray(weights, np.float64)
    order = np.lexsort((np.arange(len(prod)), -np.abs(prod)))
    return order[:n]


def fc_figure(inputs: np.ndarray, weights: np.ndarray, *, input_names: Sequence[str],
              n: int = 8, font_size: int = 15, title: str = "",
              style: Style = LIGHT) -> go.Figure:
    """A fully connected unit's biggest products ``input x weight`` as horizontal bars, each
    written out (``0.83 × -1.2 = -1.0``), the input named."""
    x, w = np.asarray(inputs, np.float64), np.asarray(weights, np.float64)
    idx = top_terms(x, w, n)
    prod = x[idx] * w[idx]
    span = float(np.abs(prod).max()) if len(prod) and np.abs(prod).max() > 0 else 1.0
    bar = {"type": "bar", "orientation": "h", "y": [input_names[k] for k in idx],
           "x": [float(p) for p in prod], "cliponaxis": False, "hoverinfo": "skip",
           "text": [f"{fmt(x[k], 3)} × {fmt(w[k], 3)} = {fmt(p, 3)}" for k, p in zip(idx, prod)],
           "textposition": "outside", "textfont": {"size": font_size - 1},
           "marker": {"color": [PREDICTED if p > 0 else TRUE for p in prod]}}
    axis = {"gridcolor": style.grid, "fixedrange": True, "linecolor": style.line,
            "tickfont": {"color": style.muted}}
    return _figure([bar], {
        "height": 70 + 34 * len(idx), "font": {"size": font_size}, "showlegend": False,
        "margin": {"l": 10, "r": 10, "t": 40 if title else 10, "b": 30},
        "title": {"text": title, "x": 0.01} if title else {"text": ""},
        "xaxis": {**axis, "range": [-2.2 * span, 2.2 * span], "zeroline": True,
                  "zerolinewidth": 2, "zerolinecolor": style.line,
                  "title": {"text": "input × weight"}},
        "yaxis": {**axis, "autorange": "reversed", "automargin": True},
    }, style)
