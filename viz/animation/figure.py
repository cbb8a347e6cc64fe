"""The scene as a Plotly figure with frames: :class:`Animation`, its Step / Back / Play buttons
and slider, and the frames they play.

The heatmaps are drawn once; a frame changes only ``layout.shapes`` (the window, the current
output cell, the masks hiding cells not computed yet) and two annotations (the step and its
equation), and lists only the shape attributes that change between frames, so that playing
never re-sends the grids and a long animation stays small.

Step buttons move one frame from wherever the animation is, in the browser: plotly's ``animate``
with ``fromcurrent`` plays a list from the frame after the current one, and a frame's duration can
be given per position in the list. A step list starts with an empty frame ``{}`` shown for 0 ms,
then the next frame, held until the next click; each frame's first occurrence in the list is
followed by its successor (see :func:`step_chain`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64

from viz.animation.gif import MAX_GIF_FRAMES, scene_gif
from viz.animation.palette import FLAT, SANS, VERMILLION
from viz.animation.scene import Scene, coord

HOLD_MS = 10**9  # how long a step button holds its frame: in effect, until the next click
# The Play buttons and their milliseconds per frame (0: as fast as the browser draws).
SPEEDS = (("\u25b6 Play slowly", 1000), ("\u25b6 Play", 350), ("\u25b6\u25b6 Fast", 0))
# Buttons that stop on a frame redraw after it (see _frames: it keeps output-cell clicks working)
FRAME_ARGS = {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
              "transition": {"duration": 0}}
# A slider step's frame: plotly caps the transition by the frame's duration, so 0 needs no
# transition of its own (every slider position is shorter without one).
SLIDER_ARGS = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}}
# A slider position per step up to this many steps; beyond, one every ceil(n / 400) steps (the
# Step buttons reach the others), since every position adds to the figure's JSON.
MAX_SLIDER_STEPS = 400


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


class AnimatedFigure(go.Figure):
    """A ``go.Figure`` whose frames are kept as plain dicts.

    plotly.py would build and validate a ``go.Frame`` per frame, which is slow for hundreds of
    frames. The frames here are generated from the scene, and a test validates the whole dict
    against plotly's schema; :meth:`to_dict` (which ``st.plotly_chart`` and
    ``plotly.io.to_json`` call) adds them, without copying them, to the validated rest.
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


def _plotly_shape(template: dict, coords: dict) -> dict:
    return {**template, **coords}


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
        (``to_dict`` deep-copies it and walks it for arrays) is much slower, and a click on an
        output cell asks for a new step's figure."""
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
        return scene_gif(self.scene, min(self.n_steps, max_frames), frame_ms)


def _traces(scene: Scene) -> list[dict]:
    traces = []
    gap = scene.look.gap_px
    for g in scene.grids:
        u = g.box.unit
        t = {"type": "heatmap", "z": np.asarray(g.z, np.float32), "x0": coord(g.box.x + u / 2),
             "dx": coord(u), "y0": coord(g.box.y + u / 2), "dy": coord(u),
             "colorscale": g.colorscale,
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

    A frame that lists any trace makes plotly.js re-plot only the listed, animatable traces,
    and the heatmaps (not animatable) would disappear; so frames change the layout only. A
    layout-only ``redraw: false`` frame leaves every trace without its drawn node, and a click
    on an output cell would then be lost; so every button that stops on a frame (Step, Back,
    First, Last, Pause, the slider, and the two slower Play speeds) redraws after it, which
    restores the nodes. Only "Fast" plays without redraws.
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


def animate(scene: Scene, steps: list) -> Animation:
    traces = _traces(scene)
    frames, varying = _frames(scene)
    data = copy.deepcopy(traces)
    convert_to_base64(data)
    return Animation(scene, steps, traces, frames, varying, data_spec=data,
                     slider_steps=_slider_steps(scene))
