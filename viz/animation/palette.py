"""The animation's colours and font families, and a colour scale read at a value.

Plotly draws the scales itself; the GIF and the zoom's HTML table read them with
:func:`colour_at`, so all three show a value in the same colour.
"""

from __future__ import annotations

import itertools

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


def hex_rgb(color: str) -> tuple[int, int, int]:
    """``"#RRGGBB"`` as an ``(r, g, b)`` tuple of 0-255 integers."""
    color = color.lstrip("#")
    return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def colour_at(scale: list, zmin: float, zmax: float, v: float) -> tuple[int, int, int]:
    """The RGB colour of ``v`` on a Plotly colour ``scale`` spanning ``zmin`` to ``zmax``
    (clamped at both ends, interpolated linearly between stops, as Plotly does)."""
    f = 0.0 if zmax == zmin else min(max((v - zmin) / (zmax - zmin), 0.0), 1.0)
    for (p0, c0), (p1, c1) in itertools.pairwise(scale):
        if f <= p1:
            u = 0.0 if p1 == p0 else (f - p0) / (p1 - p0)
            a, b = hex_rgb(c0), hex_rgb(c1)
            return tuple(round(a[i] + (b[i] - a[i]) * u) for i in range(3))  # type: ignore
    return hex_rgb(scale[-1][1])
