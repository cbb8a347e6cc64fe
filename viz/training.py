"""Figures for learning kernels.

Small grids (kernels) are heatmaps with their values written in the cells, so nothing depends
on hovering (the pages are projected in lecture halls). Signed values use a diverging colour scale
centred on 0 (blue negative, white 0, red positive); non-negative ones a sequential one. Builders
return ``go.Figure`` and never import streamlit.

Public API
----------
loss_figure(losses, *, floor=None, note=None, font_size=18, style=LIGHT) -> go.Figure
kernel_evolution_figure(snapshots, *, zmax=None, font_size=18, style=LIGHT) -> go.Figure
kernel_comparison_figure(learned, reference, *, reference_title="Target", font_size=18,
                         style=LIGHT)
signed_rgb(a, *, vmax=None) -> uint8 (H, W, 3);  gray_rgb(a) -> uint8 (H, W, 3)
framed(rgb, *, style) -> uint8 (H+2b, W+2b, 3)    a picture with a border (white on white shows)
training_gif(snapshots, losses, *, floor=None, style=LIGHT) -> bytes   the run, for slides

Every figure takes a :class:`viz.style.Style` (light, dark, high contrast): backgrounds, text,
grid lines and buttons follow it; the data's colour scales do not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.utils import to_typed_array_spec
from plotly.subplots import make_subplots

from viz.animation.figure import AnimatedFigure
from viz.style import LIGHT, Style

__all__ = [
    "DIVERGING",
    "SEQUENTIAL",
    "gray_rgb",
    "kernel_comparison_figure",
    "kernel_evolution_figure",
    "loss_figure",
    "signed_rgb",
    "framed",
    "training_gif",
]

DIVERGING = "RdBu_r"  # blue negative, white zero, red positive
SEQUENTIAL = "Viridis"
LOSS_COLOR = "#636efa"
FLOOR_COLOR = "#00a36c"
_TINY = 1e-30  # a log axis cannot show 0


def _fmt(x: float) -> str:
    """Short cell text: 3 significant digits, no "-0"."""
    if x == 0:
        return "0"
    return f"{x:.3g}" if abs(x) >= 1e-3 else f"{x:.1e}"


def _text(a: np.ndarray, decimals: int | None = None) -> list[list[str]]:
    """Cell texts: 3 significant digits, or a fixed number of ``decimals`` (shorter, for grids
    of many small maps)."""
    if decimals is None:
        return [[_fmt(float(v)) for v in row] for row in a]
    return [["0" if round(float(v), decimals) == 0 else f"{v:.{decimals}f}" for v in row]
            for row in a]


def _symmetric(*arrays: np.ndarray) -> float:
    finite = [np.abs(a[np.isfinite(a)]).max() for a in arrays if np.isfinite(a).any()]
    m = max(finite, default=0.0)
    return float(m) if m > 0 else 1.0


def _heatmap(a: np.ndarray, *, zmax: float | None = None, signed: bool = True,
             values: bool = True, font_size: int = 16, colorbar: dict | None = None,
             showscale: bool = False, name: str = "", decimals: int | None = None) -> go.Heatmap:
    a = np.asarray(a, dtype=np.float64)
    if signed:
        zmax = _symmetric(a) if zmax is None else zmax
        zmin, scale, mid = -zmax, DIVERGING, 0.0
    else:
        zmin = 0.0
        zmax = float(a.max()) if zmax is None else zmax
        zmax = zmax if zmax > 0 else 1.0
        scale, mid = SEQUENTIAL, None
    return go.Heatmap(
        z=a, zmin=zmin, zmax=zmax, zmid=mid, colorscale=scale, showscale=showscale,
        colorbar=colorbar, name=name,
        text=_text(a, decimals) if values else None,
        texttemplate="%{text}" if values else None,
        textfont={"size": font_size},
        hovertemplate="row %{y}, column %{x}: %{z:.4g}<extra></extra>",
        xgap=1, ygap=1,
    )


def _white(fig: go.Figure, style: Style = LIGHT) -> go.Figure:
    """``fig`` with the "plotly_white" template, coloured for ``style`` (backgrounds, text, grid
    lines; the data's colours stay). Assigning a template validates all of it again, the
    largest part of building a small figure; a registered template is valid already, so it is
    assigned unvalidated, as plotly assigns its default template to every new figure."""
    layout = fig.layout
    validate = layout._validate
    layout._validate = False
    try:
        layout.template = pio.templates["plotly_white"]
    finally:
        layout._validate = validate
    if style != LIGHT:
        fig.update_layout(**style.layout())
        fig.update_xaxes(gridcolor=style.grid, linecolor=style.line, zerolinecolor=style.line,
                         tickfont_color=style.muted, title_font_color=style.text)
        fig.update_yaxes(gridcolor=style.grid, linecolor=style.line, zerolinecolor=style.line,
                         tickfont_color=style.muted, title_font_color=style.text)
    return fig


def _controls_colours(fig: go.Figure, style: Style) -> None:
    """The play buttons and the slider in ``style``'s colours."""
    for menu in fig.layout.updatemenus:
        menu.update(bgcolor=style.button, bordercolor=style.button_line,
                    font_color=style.button_text)
    for slider in fig.layout.sliders:
        slider.update(bgcolor=style.slider, bordercolor=style.button_line,
                      activebgcolor=style.button, font_color=style.muted,
                      currentvalue_font_color=style.text, tickcolor=style.line)


def _square_axes(fig: go.Figure, rows: int, cols: int) -> None:
    """Row 0 at the top, square cells, no tick labels."""
    for i in range(1, rows * cols + 1):
        suffix = "" if i == 1 else str(i)
        fig.layout[f"yaxis{suffix}"].update(autorange="reversed", scaleanchor=f"x{suffix}",
                                            showticklabels=False, showgrid=False, zeroline=False)
        fig.layout[f"xaxis{suffix}"].update(showticklabels=False, showgrid=False, zeroline=False,
                                            constrain="domain")


# --------------------------------------------------------------------------------------------
# Learning one kernel
# --------------------------------------------------------------------------------------------


def loss_figure(losses: Sequence[float], *, floor: float | None = None, note: str | None = None,
                font_size: int = 18, style: Style = LIGHT) -> go.Figure:
    """The loss after each step on a log scale; ``floor`` (the least-squares minimum) dashed.

    Non-finite losses (a diverged run) are left out; zeros are drawn at the axis' bottom.
    """
    y = np.asarray(losses, dtype=np.float64)
    steps = np.arange(len(y))
    keep = np.isfinite(y)
    shown = np.maximum(y[keep], _TINY)
    fig = go.Figure(go.Scatter(
        x=steps[keep], y=shown, mode="lines+markers" if len(y) <= 30 else "lines",
        line={"color": LOSS_COLOR, "width": style.width(3)}, name="loss",
        hovertemplate="step %{x}: loss %{y:.4g}<extra></extra>",
    ))
    positive = shown[shown > _TINY]
    if floor is not None and floor > 0 and math.isfinite(floor):
        fig.add_hline(y=floor, line={"color": FLOOR_COLOR, "dash": "dash", "width": style.width(2)},
                      annotation_text=f"best possible for this size: {floor:.3g}",
                      annotation_position="top right", annotation_font_size=font_size - 2)
        positive = np.append(positive, floor)
    if len(positive):
        lo, hi = math.log10(positive.min()), math.log10(positive.max())
        pad = max((hi - lo) * 0.05, 0.3)
        fig.update_yaxes(range=[lo - pad, hi + pad])
    if len(y):
        last = int(steps[keep][-1]) if keep.any() else 0
        fig.add_annotation(x=last, y=math.log10(shown[-1]) if len(shown) else 0,
                           text=f"step {last}: {_fmt(float(y[keep][-1])) if keep.any() else '?'}",
                           showarrow=True, arrowhead=2, ax=-60, ay=-40, arrowcolor=style.text,
                           font={"size": font_size})
    _white(fig, style).update_layout(
        height=380, margin={"l": 70, "r": 20, "t": 50, "b": 50},
        font={"size": style.font(font_size)}, showlegend=False,
        title={"text": note or "Loss (mean squared error), log scale", "font": {"size": font_size}},
    )
    fig.update_yaxes(type="log", title_text="loss", exponentformat="power")
    fig.update_xaxes(title_text="step", rangemode="tozero")
    return fig


def kernel_evolution_figure(snapshots: Sequence[tuple[int, np.ndarray]], *,
                            zmax: float | None = None, font_size: int = 18,
                            style: Style = LIGHT) -> go.Figure:
    """The kernel at each snapshot as an animation: play/pause and a slider with the step.

    One frame per snapshot; every frame replaces the heatmap's values (``redraw=True``). The
    colour scale is the same for all frames (centred on 0, ``zmax`` or the largest magnitude).
    The frames are plain dicts: ``fig.raw_frames``, and ``fig.to_dict()["frames"]``.
    """
    if not snapshots:
        raise ValueError("snapshots must not be empty")
    kernels = [np.asarray(k, dtype=np.float64) for _, k in snapshots]
    steps = [int(s) for s, _ in snapshots]
    zmax = _symmetric(*kernels) if zmax is None else zmax
    values_size = max(font_size - 2 * max(kernels[0].shape[0] - 3, 0), 10)

    last = _heatmap(kernels[-1], zmax=zmax, font_size=values_size, showscale=True,
                    colorbar={"thickness": 18})
    template = last.to_plotly_json()

    def frame(s: int, k: np.ndarray) -> dict:
        # the last snapshot's validated heatmap with this snapshot's values: the frame a
        # validated go.Frame gives, without validating each one
        data = {**template, "z": to_typed_array_spec(k), "text": _text(k)}
        return {"data": [data], "layout": {"title": {"text": f"The kernel at step {s}"}},
                "name": str(s)}

    fig = AnimatedFigure([last], None, [frame(s, k) for s, k in zip(steps, kernels)],
                         validate=True)
    duration = 250
    _white(fig, style).update_layout(
        height=460, font={"size": style.font(font_size)},
        margin={"l": 20, "r": 20, "t": 60, "b": 100},
        title={"text": f"The kernel at step {steps[-1]}"},
        updatemenus=[{
            "type": "buttons", "direction": "left", "x": 0.0, "y": -0.08, "xanchor": "left",
            "yanchor": "top", "pad": {"r": 10, "t": 10}, "showactive": False,
            "font": {"size": font_size},
            "buttons": [
                {"label": "Play", "method": "animate",
                 "args": [None, {"frame": {"duration": duration, "redraw": True},
                                 "transition": {"duration": 0}, "fromcurrent": True,
                                 "mode": "immediate"}]},
                {"label": "Pause", "method": "animate",
                 "args": [[None], {"frame": {"duration": 0, "redraw": False},
                                   "transition": {"duration": 0}, "mode": "immediate"}]},
            ],
        }],
        sliders=[{
            "active": len(steps) - 1, "x": 0.22, "len": 0.78, "y": -0.02, "yanchor": "top",
            "currentvalue": {"prefix": "step ", "font": {"size": font_size}},
            "font": {"size": max(font_size - 6, 10)},
            "steps": [{"label": str(s), "method": "animate",
                       "args": [[str(s)], {"frame": {"duration": 0, "redraw": True},
                                           "transition": {"duration": 0},
                                           "mode": "immediate"}]} for s in steps],
        }],
    )
    _controls_colours(fig, style)
    _square_axes(fig, 1, 1)
    return fig


def kernel_comparison_figure(learned: np.ndarray, reference: np.ndarray, *,
                             reference_title: str = "Target", font_size: int = 18,
                             style: Style = LIGHT) -> go.Figure:
    """Learned, reference and their difference side by side, every value written in its cell.

    Learned and reference share one colour scale; the difference has its own (centred on 0), so
    that small errors still show.
    """
    learned = np.asarray(learned, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if learned.shape != reference.shape:
        raise ValueError(f"learned {learned.shape} and reference {reference.shape} must have the "
                         "same shape")
    diff = learned - reference
    zmax = _symmetric(learned, reference)
    dmax = _symmetric(diff)
    size = max(font_size - 2 * max(learned.shape[0] - 3, 0), 9)
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.06, subplot_titles=(
        "Learned", reference_title, f"Difference (largest {_fmt(float(np.abs(diff).max()))})"))
    fig.add_trace(_heatmap(learned, zmax=zmax, font_size=size, name="learned"), 1, 1)
    fig.add_trace(_heatmap(reference, zmax=zmax, font_size=size, name="reference"), 1, 2)
    fig.add_trace(_heatmap(diff, zmax=dmax, font_size=size, name="difference"), 1, 3)
    _white(fig, style).update_layout(height=360, font={"size": style.font(font_size)},
                                     margin={"l": 10, "r": 10, "t": 60, "b": 10})
    fig.update_annotations(font_size=style.font(font_size), font_color=style.text)
    _square_axes(fig, 1, 3)
    return fig


# --------------------------------------------------------------------------------------------
# Images for st.image
# --------------------------------------------------------------------------------------------

# RdBu_r end points and white, for a simple piecewise-linear diverging map.
_BLUE = np.array([5, 48, 97], np.float64)
_RED = np.array([103, 0, 31], np.float64)
_WHITE = np.array([255, 255, 255], np.float64)


def signed_rgb(a: np.ndarray, *, vmax: float | None = None) -> np.ndarray:
    """A signed map as uint8 RGB: blue negative, white 0, red positive, ``+-vmax`` at the ends
    (default: the largest magnitude)."""
    a = np.asarray(a, dtype=np.float64)
    vmax = _symmetric(a) if vmax is None else float(vmax)
    t = np.clip(np.nan_to_num(a / vmax), -1, 1)[..., None]
    rgb = np.where(t < 0, _WHITE + (_BLUE - _WHITE) * (-t), _WHITE + (_RED - _WHITE) * t)
    return np.round(rgb).astype(np.uint8)


def gray_rgb(a: np.ndarray) -> np.ndarray:
    """A map stretched from its min (black) to its max (white) as uint8 RGB."""
    a = np.asarray(a, dtype=np.float64)
    lo, hi = float(a.min()), float(a.max())
    g = np.zeros_like(a) if hi <= lo else (a - lo) / (hi - lo)
    return np.repeat(np.round(g * 255).astype(np.uint8)[..., None], 3, axis=2)


def framed(rgb: np.ndarray, *, style: Style = LIGHT, width: int = 2) -> np.ndarray:
    """``rgb`` with a border of ``width`` pixels in the style's line colour: a white picture
    (an all-zero map on the diverging scale) is then a white square, not a hole in the page."""
    rgb = np.asarray(rgb, np.uint8)
    h, w = rgb.shape[:2]
    out = np.empty((h + 2 * width, w + 2 * width, 3), np.uint8)
    out[:] = np.array(_hex_rgb(style.line), np.uint8)
    out[width:width + h, width:width + w] = rgb
    return out


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


# --------------------------------------------------------------------------------------------
# An animated GIF of a run, for slides
# --------------------------------------------------------------------------------------------

GIF_MAX_FRAMES = 80


def _lerp_colour(scale: str, t: float) -> tuple[int, int, int]:
    """The RdBu_r colour at ``t`` in 0..1 (blue, white at 0.5, red), as :func:`signed_rgb`."""
    t = min(max(t, 0.0), 1.0) * 2 - 1
    c = _WHITE + ((_BLUE - _WHITE) * (-t) if t < 0 else (_RED - _WHITE) * t)
    return tuple(int(round(v)) for v in c)  # type: ignore[return-value]


def training_gif(snapshots: Sequence[tuple[int, np.ndarray]], losses: Sequence[float], *,
                 floor: float | None = None, style: Style = LIGHT,
                 max_frames: int = GIF_MAX_FRAMES, frame_ms: int = 400) -> bytes:
    """The run as an animated GIF, one frame per snapshot (at most ``max_frames``, spread
    evenly, the last one always): the kernel at that step with its numbers, on one colour
    scale centred on 0 for the whole run, beside the loss curve (log scale) drawn up to that
    step. Drawn with Pillow, in ``style``'s colours; the last frame is held longer."""
    from PIL import Image, ImageDraw

    from viz.animation.gif import pil_font

    if not snapshots:
        raise ValueError("snapshots must not be empty")
    snaps = [(int(s), np.asarray(k, np.float64)) for s, k in snapshots]
    if len(snaps) > max_frames:
        picks = sorted({round(i * (len(snaps) - 1) / (max_frames - 1)) for i in range(max_frames)})
        snaps = [snaps[i] for i in picks]
    y = np.asarray(losses, np.float64)
    zmax = _symmetric(*(k for _, k in snaps))
    kh, kw = snaps[0][1].shape
    scale = style.font_scale
    W, H = 980, 460
    side = 360  # the kernel's square
    cell = side / max(kh, kw)
    paper, text, muted, line = (_hex_rgb(style.paper), _hex_rgb(style.text),
                                _hex_rgb(style.muted), _hex_rgb(style.line))
    title_f = pil_font("bold", int(22 * scale))
    label_f = pil_font("sans", int(15 * scale))
    num_f = pil_font("sans", max(9, min(int(cell * 0.3), int(cell * 0.92 / (0.6 * 6)))))
    # the loss plot's box and its log scale
    px0, py0, px1, py1 = 470, 70, W - 30, H - 60
    finite = y[np.isfinite(y) & (y > 0)]
    marks = list(finite) + ([floor] if floor and floor > 0 else [])
    lo, hi = (math.log10(min(marks)), math.log10(max(marks))) if marks else (0.0, 1.0)
    pad = max((hi - lo) * 0.05, 0.3)
    lo, hi = lo - pad, hi + pad
    n = max(len(y) - 1, 1)

    def to_px(step: float, v: float) -> tuple[float, float]:
        v = math.log10(max(v, 10 ** lo))
        return (px0 + (px1 - px0) * step / n, py1 - (py1 - py0) * (v - lo) / (hi - lo))

    base = Image.new("RGB", (W, H), paper)
    d = ImageDraw.Draw(base)
    d.text((px0, py0 - 30), "Loss (mean squared error), log scale", fill=text, font=label_f)
    d.rectangle([px0, py0, px1, py1], outline=line, width=max(1, int(style.width(1))))
    for e in range(math.ceil(lo), math.floor(hi) + 1):
        _, yy = to_px(0, 10.0 ** e)
        d.line([px0, yy, px1, yy], fill=_hex_rgb(style.grid), width=1)
        d.text((px0 - 8, yy), f"1e{e}", fill=muted, font=label_f, anchor="rm")
    d.text(((px0 + px1) / 2, py1 + 22), f"step (0 to {len(y) - 1})", fill=muted, font=label_f,
           anchor="mm")
    if floor and floor > 0:
        _, fy = to_px(0, floor)
        for x0 in range(px0, px1, 14):
            d.line([x0, fy, min(x0 + 7, px1), fy], fill=_hex_rgb(FLOOR_COLOR), width=2)
        d.text((px1 - 4, fy - 4), f"best possible: {floor:.3g}", fill=_hex_rgb(FLOOR_COLOR),
               font=label_f, anchor="rb")
    points = [to_px(t, v) for t, v in enumerate(y) if np.isfinite(v)]
    frames = []
    kx0, ky0 = 40, 70
    for step, k in snaps:
        im = base.copy()
        dr = ImageDraw.Draw(im)
        dr.text((kx0, 20), f"The kernel at step {step}", fill=text, font=title_f)
        for i in range(kh):
            for j in range(kw):
                rgb = _lerp_colour(DIVERGING, (k[i, j] / zmax + 1) / 2)
                a, b = kx0 + j * cell, ky0 + i * cell
                dr.rectangle([a + 1, b + 1, a + cell - 1, b + cell - 1], fill=rgb,
                             outline=line)  # a zero weight is white: its cell still shows
                lum = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
                dr.text((a + cell / 2, b + cell / 2), _fmt(float(k[i, j])),
                        fill=(0, 0, 0) if lum > 140 else (255, 255, 255), font=num_f,
                        anchor="mm")
        dr.text((kx0, ky0 + side + 14), f"blue < 0 < red, limits ±{_fmt(zmax)} (the whole run)",
                fill=muted, font=label_f)
        upto = [p for p in points if p[0] <= to_px(step, 1)[0] + 1e-9]
        if len(upto) > 1:
            dr.line(upto, fill=_hex_rgb(LOSS_COLOR), width=max(2, int(style.width(3))))
        if step < len(y) and np.isfinite(y[step]):
            cx, cy = to_px(step, y[step])
            r = 6 * scale
            dr.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_hex_rgb(LOSS_COLOR))
            dr.text((px0 + 8, py0 + 8), f"step {step}: loss {_fmt(float(y[step]))}", fill=text,
                    font=label_f)
        frames.append(im.convert("P", palette=Image.Palette.ADAPTIVE, colors=128))
    import io

    buf = io.BytesIO()
    durations = [frame_ms] * len(frames)
    durations[-1] = frame_ms * 5
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                   duration=durations, loop=0, optimize=False, disposal=1)
    return buf.getvalue()
