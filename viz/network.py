"""Figures for the CNN arithmetic page: a network's shapes and costs, and cost comparisons.

Every value is printed on the figure itself (text on bars and markers), so nothing depends on
hovering: the page is projected in lecture halls. Builders return ``go.Figure`` and never import
streamlit.

Public API
----------
network_figure(analysis, *, font_size=18, style=LIGHT) -> go.Figure
comparison_figure(comparison, *, font_size=18, style=LIGHT) -> go.Figure

``style`` (:mod:`viz.style`): the page's theme and high contrast; the bars keep their colours.
"""

from __future__ import annotations

import math
from fractions import Fraction

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from conv.comparisons import Comparison
from conv.network import Analysis
from viz.style import LIGHT, Style, restyle

__all__ = ["network_figure", "comparison_figure", "compact"]

# Colours from Plotly's default qualitative sequence, fixed so the page is stable.
SPATIAL_COLOR = "#636efa"
WIDTH_COLOR = "#00cc96"
CHANNEL_COLOR = "#ef553b"
PARAM_COLOR = "#ab63fa"
NEURON_COLOR = "#ffa15a"
IMPOSSIBLE_COLOR = "#d62728"


def compact(value: int) -> str:
    """``62378344`` -> ``"62.4M"`` (3 significant digits); under 10,000 exactly (``"4,704"``)."""
    if abs(value) < 10_000:
        return f"{value:,}"
    for size, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:,}"  # pragma: no cover - unreachable


def _labels(analysis: Analysis) -> list[str]:
    labels = []
    for row in analysis.rows:
        label = f"{row.index}. {row.name}" if row.index else row.name
        labels.append(f"{label} ✗" if row.error else label)
    return labels


def _log_dtick(top: int) -> int:
    return 1 if top < 10**6 else 2


def _bar(x, y, text, name, color, font_size) -> go.Bar:
    return go.Bar(
        x=x,
        y=y,
        text=text,
        name=name,
        marker_color=color,
        textposition="outside",
        textfont=dict(size=font_size),
        constraintext="none",
        cliponaxis=False,
    )


def network_figure(analysis: Analysis, *, font_size: int = 18,
                   style: Style = LIGHT) -> go.Figure:
    """Four stacked panels sharing the layer axis, input first, every value written on it.

    1. Spatial size (height, and width when it differs) of each layer's output; flat layers
       (flatten, FC, softmax) have none.
    2. Channels (filters; units for flat layers), log scale.
    3. Parameters per layer, log scale; a layer without parameters shows "0".
    4. Neurons (activations) per layer, log scale.

    Impossible layers are marked with "✗" on the axis and have no bars.

    Parameters
    ----------
    analysis : Analysis
        From :func:`conv.network.analyze`.
    font_size : int
        Base font size; the value labels are a little smaller on long networks.
    """
    font_size = style.font(font_size)
    labels = _labels(analysis)
    rows = analysis.rows
    label_size = font_size - 2 if len(labels) <= 12 else font_size - 5
    fig = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=(
            "Spatial size of the output (height)",
            "Channels / units (log scale)",
            "Parameters (log scale)",
            "Neurons = activations H*W*C (log scale)",
        ),
    )
    pairs = list(zip(labels, rows, strict=True))
    spatial = [(lab, r) for lab, r in pairs if r.ok and not r.output.flat]
    square = all(r.output.h == r.output.w for _, r in spatial)
    if not square:
        fig.layout.annotations[0].text = "Spatial size of the output (height; width dashed)"
    fig.add_trace(
        go.Scatter(
            x=[lab for lab, _ in spatial],
            y=[r.output.h for _, r in spatial],
            mode="lines+markers+text",
            text=[str(r.output.h) if square else f"{r.output.h}x{r.output.w}" for _, r in spatial],
            textposition="top center",
            textfont=dict(size=label_size),
            name="height = width" if square else "height",
            line=dict(color=SPATIAL_COLOR, width=3),
            marker=dict(size=12),
            cliponaxis=False,
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    if not square:
        fig.add_trace(
            go.Scatter(
                x=[lab for lab, _ in spatial],
                y=[r.output.w for _, r in spatial],
                mode="lines+markers",
                name="width",
                line=dict(color=WIDTH_COLOR, width=3, dash="dash"),
                marker=dict(size=10),
                showlegend=False,
            ),
            row=1,
            col=1,
        )

    ok = [(lab, r) for lab, r in pairs if r.ok]
    fig.add_trace(
        _bar(
            [lab for lab, _ in ok],
            [r.output.c for _, r in ok],
            [f"{r.output.c:,}" for _, r in ok],
            "channels / units",
            CHANNEL_COLOR,
            label_size,
        ),
        row=2,
        col=1,
    )
    with_params = [(lab, r) for lab, r in ok if r.params.value > 0]
    fig.add_trace(
        _bar(
            [lab for lab, _ in with_params],
            [r.params.value for _, r in with_params],
            [compact(r.params.value) for _, r in with_params],
            "parameters",
            PARAM_COLOR,
            label_size,
        ),
        row=3,
        col=1,
    )
    layers_ok = [(lab, r) for lab, r in ok if r.index > 0]
    fig.add_trace(
        _bar(
            [lab for lab, _ in ok],
            [r.neurons for _, r in ok],
            [compact(r.neurons) for _, r in ok],
            "neurons",
            NEURON_COLOR,
            label_size,
        ),
        row=4,
        col=1,
    )
    zero = [lab for lab, r in layers_ok if r.params.value == 0]
    if zero:
        fig.add_trace(
            go.Scatter(
                x=zero,
                y=[1] * len(zero),
                mode="text",
                text=["0"] * len(zero),
                textposition="top center",
                textfont=dict(size=label_size, color=PARAM_COLOR),
                name="no parameters",
            ),
            row=3,
            col=1,
        )
    bad = [lab for lab, r in pairs if r.error]
    for row_number in (2, 3, 4):
        if bad:
            fig.add_trace(
                go.Scatter(
                    x=bad,
                    y=[1] * len(bad),
                    mode="text",
                    text=["✗"] * len(bad),
                    textposition="top center",
                    textfont=dict(size=font_size, color=IMPOSSIBLE_COLOR),
                    name="impossible layer",
                ),
                row=row_number,
                col=1,
            )

    tallest = (
        max((r.output.c for _, r in ok), default=1),
        max((r.params.value for _, r in ok), default=1),
        max((r.neurons for _, r in ok), default=1),
    )
    for row_number, top in zip((2, 3, 4), tallest, strict=True):
        # powers of ten only (Plotly's default "10, 2, 5, 100" confuses a class), every other
        # one when there are many, so that the labels never overlap
        fig.update_yaxes(type="log", dtick=_log_dtick(top), row=row_number, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_xaxes(categoryorder="array", categoryarray=labels, type="category")
    fig.update_xaxes(tickangle=-35 if len(labels) > 8 else 0, row=4, col=1)
    fig.update_layout(
        height=1000,
        font=dict(size=font_size),
        margin=dict(l=70, r=30, t=50, b=40),
        showlegend=False,
        template="plotly_white",
    )
    for annotation in fig.layout.annotations:
        annotation.font = dict(size=font_size + 2)
    return restyle(fig, style)


def comparison_figure(comparison: Comparison, *, font_size: int = 18,
                      style: Style = LIGHT) -> go.Figure:
    """Two horizontal bars, the expensive way and the cheap way, each split into its parts.

    When the cheap way is under 1/100 of the expensive one the axis is logarithmic and each way is
    one bar (stacking on a log axis would misstate the parts); the parts stay in the page's text.
    """
    font_size = style.font(font_size)
    log = comparison.ratio < Fraction(1, 100)
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
                textfont=dict(size=font_size + 2),
                constraintext="none",
                marker_color=[colors[0], colors[1]],
                cliponaxis=False,
                showlegend=False,
            )
        )
        top = math.log10(comparison.a_total.value)
        fig.update_xaxes(
            type="log",
            dtick=_log_dtick(comparison.a_total.value),
            range=[0, top * 1.15],
            title_text=f"{comparison.unit} (log scale)",
        )
    else:
        for way_index, (label, parts, _total) in enumerate(ways):
            for part_index, (part_label, worked) in enumerate(parts):
                fig.add_trace(
                    go.Bar(
                        y=[label],
                        x=[worked.value],
                        orientation="h",
                        name=part_label,
                        text=[f"{worked.value:,}"],
                        textposition="inside",
                        insidetextanchor="middle",
                        textfont=dict(size=font_size),
                        marker_color=colors[(2 * way_index + part_index) % len(colors)],
                    )
                )
        for label, _parts, total in ways:
            fig.add_annotation(
                y=label,
                x=total.value,
                text=f"<b>{total.value:,}</b>",
                showarrow=False,
                xanchor="left",
                xshift=8,
                font=dict(size=font_size + 2),
            )
        fig.update_xaxes(range=[0, comparison.a_total.value * 1.3], title_text=comparison.unit)
    fig.update_layout(
        barmode="stack",
        title=dict(
            text=f"{comparison.unit.capitalize()}: ratio {comparison.ratio_formula}",
            font=dict(size=font_size + 2),
        ),
        height=380,
        font=dict(size=font_size),
        margin=dict(l=40, r=40, t=70, b=40),
        showlegend=not log,
        legend=dict(orientation="h", yanchor="top", y=-0.3, x=0, traceorder="normal"),
        uniformtext=dict(minsize=max(10, font_size - 6), mode="hide"),
        template="plotly_white",
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    return restyle(fig, style)
