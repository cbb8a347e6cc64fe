"""The sliding-window animation: a kernel moving over its input, one frame per output cell.

One job per module: ``steps`` (the steps, their equations and the numbers as text), ``look``
(sizes for a screen), ``palette`` (colours), ``scene`` (boxes, grids, layout and shared
texts), ``conv_scene`` and ``pool_scene``, ``figure`` (Plotly frames, buttons and slider),
``gif`` (Pillow) and ``zoom`` (one window's numbers as HTML). Pages use the names below.
"""

from viz.animation.conv_scene import conv_animation
from viz.animation.figure import SPEEDS, Animation, step_chain
from viz.animation.gif import MAX_GIF_FRAMES
from viz.animation.look import CLASSROOM, HC_LEGIBLE_PX, NARROW_PX, NORMAL, Look, fit_look, look_for
from viz.animation.palette import VERMILLION
from viz.animation.pool_scene import pool_animation
from viz.animation.scene import MAX_CHANNELS, path_rects
from viz.animation.steps import (
    MINUS_INF,
    TIMES,
    ConvStep,
    PoolStep,
    applied_weights,
    conv_steps,
    fmt,
    output_size_lines,
    pool_padded,
    pool_steps,
    receptive_field_text,
)
from viz.animation.zoom import window_zoom_html

__all__ = [
    "CLASSROOM", "HC_LEGIBLE_PX", "MAX_CHANNELS", "MAX_GIF_FRAMES", "MINUS_INF", "NARROW_PX",
    "NORMAL", "SPEEDS", "TIMES", "VERMILLION", "Animation", "ConvStep", "Look", "PoolStep",
    "applied_weights", "conv_animation", "conv_steps", "fit_look", "fmt", "look_for",
    "output_size_lines", "path_rects", "pool_animation", "pool_padded", "pool_steps",
    "receptive_field_text", "step_chain", "window_zoom_html",
]
