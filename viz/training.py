"""Figures for learning kernels.

Small grids (kernels) are heatmaps with their values written in the cells, so nothing depends
on hovering (the pages are projected in lecture halls). Signed values use a diverging colour scale
centred on 0 (blue negative, white 0, red positive); non-negative ones a sequential one. Builders
return ``go.Figure`` and never import streamlit.

Public API
----------
loss_figure(losses, *, floor=None, note=None, font_size=18) -> go.Figure
kernel_evolution_figure(snapshots, *, zmax=None, font_size=18) -> go.Figure
kernel_comparison_figure(learned, reference, *, reference_title="Target", font_size=18)
signed_rgb(a, *, vmax=None) -> uint8 (H, W, 3);  gray_rgb(a) -> uint8 (H, W, 3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.utils import to_typed_array_spec
from plotly.subplots import make_subplots

from viz.animation import AnimatedFigure

__all__ = [
    "DIVERGING",
    "SEQUENTIAL",
    "gray_rgb",
    "kernel_comparison_figure",
    "kernel_evolution_figure",
    "loss_figure",
    "signed_rgb",
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


def _white(fig: go.Figure) -> go.Figure:
    """``fig`` with the "plotly_white" template. Assigning a template validates all of it
    again, the largest part of building a small figure; a registered template is valid
    already, so it is assigned unvalidated, as plotly assigns its default template to every
    new figure."""
    layout = fig.layout
    validate = layout._validate
    layout._validate = False
    try:
        layout.template = pio.templates["plotly_white"]
    finally:
        layout._validate = validate
    return fig


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
                font_size: int = 18) -> go.Figure:
    """The loss after each step on a log scale; ``floor`` (the least-squares minimum) dashed.

    Non-finite losses (a diverged run) are left out; zeros are drawn at the axis' bottom.
    """
    y = np.asarray(losses, dtype=np.float64)
    steps = np.arange(len(y))
    keep = np.isfinite(y)
    shown = np.maximum(y[keep], _TINY)
    fig = go.Figure(go.Scatter(
        x=steps[keep], y=shown, mode="lines+markers" if len(y) <= 30 else "lines",
        line={"color": LOSS_COLOR, "width": 3}, name="loss",
        hovertemplate="step %{x}: loss %{y:.4g}<extra></extra>",
    ))
    positive = shown[shown > _TINY]
    if floor is not None and floor > 0 and math.isfinite(floor):
        fig.add_hline(y=floor, line={"color": FLOOR_COLOR, "dash": "dash", "width": 2},
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
                           showarrow=True, arrowhead=2, ax=-60, ay=-40,
                           font={"size": font_size})
    _white(fig).update_layout(
        height=380, margin={"l": 70, "r": 20, "t": 50, "b": 50},
        font={"size": font_size}, showlegend=False,
        title={"text": note or "Loss (mean squared error), log scale", "font": {"size": font_size}},
    )
    fig.update_yaxes(type="log", title_text="loss", exponentformat="power")
    fig.update_xaxes(title_text="step", rangemode="tozero")
    return fig


def kernel_evolution_figure(snapshots: Sequence[tuple[int, np.ndarray]], *,
                            zmax: float | None = None, font_size: int = 18) -> go.Figure:
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
    _white(fig).update_layout(
        height=460, font={"size": font_size},
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
    _square_axes(fig, 1, 1)
    return fig


def kernel_comparison_figure(learned: np.ndarray, reference: np.ndarray, *,
                             reference_title: str = "Target", font_size: int = 18) -> go.Figure:
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
    _white(fig).update_layout(height=360, font={"size": font_size},
                      margin={"l": 10, "r": 10, "t": 60, "b": 10})
    fig.update_annotations(font_size=font_size)
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
