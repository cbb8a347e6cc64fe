"""Figures for the CNN arithmetic page: a network's shapes and costs, and cost comparisons.

Every value is printed on the figure itself (text on bars and markers), so nothing depends on
hovering: the page is projected in lecture halls. Builders return ``go.Figure`` and never import
streamlit.

Public API
----------
network_figure(analysis, *, font_size=18) -> go.Figure
comparison_figure(comparison, *, font_size=18) -> go.Figure
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from conv.network import Analysis, Comparison

__all__ = ["network_figure", "comparison_figure", "compact"]

# Colours from Plotly's default qualitative sequence, fixed so the page is stable.
SPATIAL_COLOR = "#636efa"
WIDTH_COLOR = "#00cc96"
CHANNEL_COLOR = "#ef553b"
PARAM_COLOR = "#ab63fa"
NEURON_COLOR = "#ffa15a"
IMPOSSIBLE_COLOR = "#d62728"


def compact(value: int) -> str:
    """``62378344`` -> ``"62.4M"``; small numbers exactly (``"850"``)."""
    for size, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if abs(value) >= 10 * size or (abs(value) >= size and value % (size // 10) == 0):
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{value:,}"


def _labels(analysis: Analysis) -> list[str]:
    labels = []
    for row in analysis.rows:
        label = f"{row.index}. {row.name}" if row.index else row.name
        labels.append(f"{label} ✗" if row.error else label)
    return labels


def network_figure(analysis: Analysis, *, font_size: int = 18) -> go.Figure:
    """Three stacked panels sharing the layer axis, input first.

    1. Spatial size (height, and width when it differs) of each layer's output; flat layers
       (flatten, FC, softmax) have none.
    2. Channels (filters; units for flat layers), log scale.
    3. Parameters and neurons per layer, log scale; a layer with no parameters shows "0".

    Impossible layers are marked with "✗" on the axis and carry no bars.

    Parameters
    ----------
    analysis : Analysis
        From :func:`conv.network.analyze`.
    font_size : int
        Base font size; titles and labels scale from it.
    """
    labels = _labels(analysis)
    rows = analysis.rows
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.09,
        subplot_titles=(
            "Spatial size (output height x width)",
            "Channels / units (log scale)",
            "Parameters and neurons per layer (log scale)",
        ),
    )
    ok_spatial = [(lab, r) for lab, r in zip(labels, rows, strict=True)
                  if r.ok and not r.output.flat]  # fmt: skip
    square = all(r.output.h == r.output.w for _, r in ok_spatial)
    fig.add_trace(
        go.Scatter(
            x=[lab for lab, _ in ok_spatial],
            y=[r.output.h for _, r in ok_spatial],
            mode="lines+markers+text",
            text=[str(r.output.h) if square else f"{r.output.h}x{r.output.w}" for _, r in ok_spatial],
            textposition="top center",
            name="height = width" if square else "height",
            line=dict(color=SPATIAL_COLOR, width=3),
            marker=dict(size=12),
            cliponaxis=False,
        ),
        row=1,
        col=1,
    )
    if not square:
        fig.add_trace(
            go.Scatter(
                x=[lab for lab, _ in ok_spatial],
                y=[r.output.w for _, r in ok_spatial],
                mode="lines+markers",
                name="width",
                line=dict(color=WIDTH_COLOR, width=3, dash="dash"),
                marker=dict(size=10),
            ),
            row=1,
            col=1,
        )

    ok = [(lab, r) for lab, r in zip(labels, rows, strict=True) if r.ok]
    fig.add_trace(
        go.Bar(
            x=[lab for lab, _ in ok],
            y=[r.output.c for _, r in ok],
            text=[f"{r.output.c:,}" for _, r in ok],
            textposition="outside",
            name="channels / units",
            marker_color=CHANNEL_COLOR,
            cliponaxis=False,
        ),
        row=2,
        col=1,
    )

    with_params = [(lab, r) for lab, r in ok if r.params.value > 0]
    fig.add_trace(
        go.Bar(
            x=[lab for lab, _ in with_params],
            y=[r.params.value for _, r in with_params],
            text=[compact(r.params.value) for _, r in with_params],
            textposition="outside",
            name="parameters",
            marker_color=PARAM_COLOR,
            cliponaxis=False,
        ),
        row=3,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=[lab for lab, _ in ok],
            y=[r.neurons for _, r in ok],
            text=[compact(r.neurons) for _, r in ok],
            textposition="outside",
            name="neurons (activations)",
            marker_color=NEURON_COLOR,
            cliponaxis=False,
        ),
        row=3,
        col=1,
    )
    zero = [lab for lab, r in ok if r.params.value == 0 and r.index > 0]
    if zero:
        fig.add_trace(
            go.Scatter(
                x=zero,
                y=[1] * len(zero),
                mode="text",
                text=["0 params"] * len(zero),
                textposition="top center",
                name="no parameters",
                showlegend=False,
                textfont=dict(color=PARAM_COLOR),
            ),
            row=3,
            col=1,
        )
    bad = [lab for lab, r in zip(labels, rows, strict=True) if r.error]
    if bad:
        fig.add_trace(
            go.Scatter(
                x=bad,
                y=[1] * len(bad),
                mode="text",
                text=["impossible"] * len(bad),
                textposition="top center",
                name="impossible layer",
                showlegend=False,
                textfont=dict(color=IMPOSSIBLE_COLOR),
            ),
            row=2,
            col=1,
        )

    fig.update_yaxes(type="log", row=2, col=1)
    fig.update_yaxes(type="log", row=3, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_xaxes(categoryorder="array", categoryarray=labels, type="category")
    fig.update_xaxes(tickangle=-35 if len(labels) > 8 else 0, row=3, col=1)
    fig.update_layout(
        barmode="group",
        height=880,
        font=dict(size=font_size),
        margin=dict(l=70, r=30, t=70, b=40),
        legend=dict(orientation="h", yanchor="bottom", y=1.04, x=0),
        uniformtext=dict(minsize=max(10, font_size - 6), mode="show"),
        template="plotly_white",
    )
    for annotation in fig.layout.annotations:
        annotation.font = dict(size=font_size + 2)
    return fig


def comparison_figure(comparison: Comparison, *, font_size: int = 18) -> go.Figure:
    """Two horizontal bars, the expensive way and the cheap way, each split into its parts.

    When the cheap way is under 1/100 of the expensive one the axis is logarithmic and each way is
    one bar (stacking on a log axis would misstate the parts); the parts stay in the labels.
    """
    log = comparison.ratio < 0.01
    fig = go.Figure()
    ways = (
        (comparison.a_label, comparison.a_parts, comparison.a_total),
        (comparison.b_label, comparison.b_parts, comparison.b_total),
    )
    colors = ("#636efa", "#ef553b", "#00cc96", "#ab63fa")
    if log:
        fig.add_trace(
            go.Bar(
                y=[label for label, _, _ in ways],
                x=[total.value for _, _, total in ways],
                orientation="h",
                text=[f"{total.value:,}" for _, _, total in ways],
                textposition="outside",
                marker_color=[colors[0], colors[1]],
                cliponaxis=False,
                showlegend=False,
            )
        )
        fig.update_xaxes(type="log")
    else:
        for way_index, (label, parts, _total) in enumerate(ways):
            for part_index, (part_label, worked) in enumerate(parts):
                fig.add_trace(
                    go.Bar(
                        y=[label],
                        x=[worked.value],
                        orientation="h",
                        name=part_label,
                        text=[f"{part_label}: {worked.value:,}"],
                        textposition="inside",
                        insidetextanchor="middle",
                        marker_color=colors[(2 * way_index + part_index) % len(colors)],
                    )
                )
        for label, _parts, total in ways:
            fig.add_annotation(
                y=label, x=total.value, text=f"<b>{total.value:,}</b>", showarrow=False,
                xanchor="left", xshift=8, font=dict(size=font_size + 2),
            )  # fmt: skip
        fig.update_xaxes(range=[0, comparison.a_total.value * 1.3])
    fig.update_layout(
        barmode="stack",
        title=dict(text=f"{comparison.unit.capitalize()}: ratio {comparison.ratio_formula}",
                   font=dict(size=font_size + 2)),  # fmt: skip
        height=320,
        font=dict(size=font_size),
        margin=dict(l=40, r=40, t=70, b=40),
        showlegend=False,
        uniformtext=dict(minsize=max(10, font_size - 6), mode="hide"),
        template="plotly_white",
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig
