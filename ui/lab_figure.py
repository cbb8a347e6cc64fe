"""The filter lab's main figure: the row of display options above it (the stage the right
panel shows, the display mapping, the colour limits, the map), and the input beside that stage
with linked zoom, with the token and key that say when the browser already holds it.
"""

from __future__ import annotations

import html

import streamlit as st

from conv.options import PADDING
from conv.stages import ConvSpec
from ui.lab_result import (
    LabResult,
    present_stages,
    shape_text,
    spec_digest,
    stage_title,
)
from ui.lab_source import LabImage
from viz import maps
from viz.style import LIGHT, Style

STAGE_CHOICES = ("output", "conv", "biased", "activated", "pooled")
MAX_MAPS = 8  # kernels in a bank (the main kernel + 7)
MAP_CHOICES = tuple(str(i) for i in range(MAX_MAPS)) + ("mag",)

PLOTLY_CONFIG = {
    "displayModeBar": True,  # always visible: no hover-only controls on a projector
    "displaylogo": False,
    "responsive": True,  # follows the window's size (ui/plotly_view.js also follows the column)
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "filename": "filter-lab"},
}


def stage_options(spec: ConvSpec) -> list[str]:
    """``output`` (the last stage) and every earlier stage after the convolution."""
    return ["output"] + present_stages(spec)[:-1]


def stage_label(spec: ConvSpec):
    """The stage pills' words: the output named by its last stage, as ``spec`` applies it."""
    last = present_stages(spec)[-1]
    return lambda k: (f"Output ({stage_title(spec, last)})" if k == "output"
                      else stage_title(spec, k))


def map_label(kernels, pair):
    """The map pills' words: each kernel's name, and the gradient magnitude of a pair."""
    def label(k: str) -> str:
        if k == "mag":
            return "√(gx² + gy²)"
        return kernels[int(k)][0]
    return label


def display_options(spec: ConvSpec, kernels, pair) -> tuple[str, object, str]:
    """The row above the figure: which stage the right panel shows, the display mapping, and
    which map (with a bank or a derivative pair). Returns (stage, map index or "mag", mapping);
    the colour limits are in ``st.session_state["lab.lim"]``."""
    ss = st.session_state
    stage_opts = stage_options(spec)
    if ss.get("lab.show") not in stage_opts:
        ss["lab.show"] = "output"
    map_opts = [str(i) for i in range(len(kernels))] + (["mag"] if pair else [])
    if ss.get("lab.map") not in map_opts:
        ss["lab.map"] = "0"
    # one block, not columns (a block and three columns): every element sent costs the browser
    # a redraw on every change; the mapping and the limits fold into a button, so that the
    # figure stays on a 1280 x 720 screen under the row
    row = st.container(horizontal=True, gap="small", vertical_alignment="bottom")
    shown = row.pills("Right panel shows", stage_opts, key="lab.show", required=True,
                      format_func=stage_label(spec), wrap=True)
    j = "0"
    if len(map_opts) > 1:
        j = row.pills("Map", map_opts, key="lab.map", required=True,
                      format_func=map_label(kernels, pair), wrap=True)
    mapping, limits = ss.get("lab.mapping", "auto"), ss.get("lab.lim", "p99.5")
    current = (f"{maps.MAPPING_TITLES.get(mapping, mapping)} · "
               f"{maps.LIMIT_TITLES.get(limits, limits)}")
    with row.popover(f"Display: {current}", icon=":material/contrast:", key="lab-display"):
        mapping = st.pills("Display mapping", maps.MAPPINGS, key="lab.mapping", required=True,
                           format_func=maps.MAPPING_TITLES.get, wrap=True)
        st.pills("Colour limits", maps.LIMITS, key="lab.lim", required=True,
                 format_func=maps.LIMIT_TITLES.get, wrap=True,
                 help="Where the signed and |x| colour scales end: at the 99.5th (or 98th: "
                      "stronger colours, for a washed-out projector) percentile of |x|, so "
                      "that the structure of the map shows, the few pixels beyond in the end "
                      "colours and the colour bar saying how many; or at the largest |x| "
                      "(nothing clipped, but a few strong edges can leave the rest nearly "
                      "white).")
    return shown, ("mag" if j == "mag" else int(j)), mapping


# --------------------------------------------------------------------------------------------
# The figure
# --------------------------------------------------------------------------------------------

def panel(result: LabResult, stage: str, j, mapping: str, title: str,
          limits: str = "p99.5") -> maps.Panel:
    """One side of the figure: a stage's map, placed in input coordinates."""
    values = result.values(stage, j)
    origin = (0, 0)
    outline = None
    index_name = "output" if stage not in ("input", "padded") else "input"
    if stage == "padded":
        (t, _), (l, _) = result.stages.padding
        origin = (-t, -l)
        h, w = result.x.shape[1:]
        outline = (-0.5, -0.5, w - 0.5, h - 0.5)
    names = ("R", "G", "B")
    if result.colour == "channels" and stage not in ("input", "padded"):
        names = ("R map", "G map", "B map")
    return maps.Panel(title=title, values=values,
                      mapped=result.mapped(stage, j, mapping, limits=limits),
                      placement=result.placement(stage), index_origin=origin, outline=outline,
                      channel_names=names, index_name=index_name)


def right_key(result: LabResult, shown: str, j) -> str:
    """The key of what the right panel shows ("mag" for the gradient magnitude)."""
    return "mag" if j == "mag" else right_stage(result, shown)


def figure_token(img: LabImage, longest, colour: str, spec: ConvSpec, shown: str, j,
                 mapping: str, limits: str = "p99.5", style: Style = LIGHT) -> str:
    """Identifies the figure's content (``layout.meta``); its first part, the image, is the
    ``uirevision`` that keeps the zoom while only the layer changes."""
    return (f"{img.key}@{longest}|{colour}|{spec_digest(spec)}|{shown}|{j}|{mapping}|{limits}"
            f"|{style.name}")


def right_stage(result: LabResult, shown: str) -> str:
    """The stage for the right panel: the chosen one, or the output if it is not in the layer."""
    keys = result.stage_keys()
    if shown == "output" or shown not in keys:
        return result.stages.output.key
    return shown


def main_figure(result: LabResult, shown: str, j, mapping: str, *, token: str,
                height: int | None = None, limits: str = "p99.5", style: Style = LIGHT):
    """Input (padded, when there is padding) beside the chosen stage, linked zoom (plain data:
    the page keeps what it sends, see :func:`figure_key`)."""
    left_key = "padded" if result.stages.padding != ((0, 0), (0, 0)) else "input"
    right_key = "mag" if j == "mag" else right_stage(result, shown)
    lv = result.values(left_key, 0)
    (t, b), (l, r) = result.stages.padding
    if left_key == "padded":
        mode = PADDING[result.spec.padding_mode].fills
        sides = f"{t}" if t == b == l == r else f"t{t} b{b} l{l} r{r}"
        left_title = f"<b>Padded input</b><br>{shape_text(lv)}<br>padding {sides}: {mode}"
    else:
        left_title = f"<b>Input</b><br>{shape_text(lv)}<br>no padding"
    rv = result.values(right_key, 0 if j == "mag" else j)
    rname = stage_title(result.spec, right_key)
    right_title = f"<b>{rname}</b><br>{shape_text(rv)}<br>{html.escape(result.map_name(j))}"
    # plain data: ui/plotly_view.py sends it to plotly.js without go.Figure's validation
    fig = maps.compare_figure_data(
        panel(result, left_key, 0, mapping, left_title, limits),
        panel(result, right_key, 0 if j == "mag" else j, mapping, right_title, limits),
        height=height, style=style)
    fig["layout"].update(meta={"token": token}, uirevision=token.split("|")[0])
    return fig


def figure_key(result: LabResult, shown: str, j, mapping: str, token: str) -> tuple:
    """Identifies :func:`main_figure`'s content, for ``plotly_view``'s cache of what it sends."""
    return ("lab.figure", result.key, shown, j, mapping, token)

