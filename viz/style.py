"""How figures look on a given screen: the page's theme (light or dark) and a high-contrast
variant for projectors.

A :class:`Style` holds the colours and sizes of everything around the data: backgrounds, text,
grid lines, borders, buttons, the masks of cells not computed yet, line widths and a font
scale. The data's own colour scales (diverging blue < 0 < red, grey levels) are the same in
every style: a value has one colour whatever the page looks like.

- Light and dark follow Streamlit's own themes (backgrounds ``#ffffff`` / ``#0e1117``, text
  ``#31333f`` / ``#fafafa``, secondary backgrounds ``#f0f2f6`` / ``#262730``), so a figure
  looks like part of the page.
- High contrast is for washed-out projectors: text in pure black or white, 25 % larger type,
  lines twice as thick, borders and masks that differ clearly from the cells around them.

A style is a frozen dataclass: it hashes cleanly and is part of every cache key of a figure
built with it. Nothing here imports Streamlit (``ui/display.py`` chooses the style of a page).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DARK", "DARK_HC", "LIGHT", "LIGHT_HC", "STYLES", "Style", "style_for"]


@dataclass(frozen=True)
class Style:
    """Colours and sizes around the data of a figure (see the module docstring)."""

    name: str            # "light", "dark", "light-hc", "dark-hc"
    dark: bool
    contrast: bool       # the high-contrast variant (projection)
    paper: str           # the figure's background: the page's
    panel: str           # behind a picture that does not fill its axes
    text: str            # titles, labels, equations
    muted: str           # captions, notes, tick labels
    grid: str            # grid lines
    line: str            # axis lines, borders of grids
    mask: str            # output cells not computed yet (sliding window)
    button: str          # buttons' background
    button_text: str
    button_line: str
    slider: str          # the slider's rail
    hover: str           # hover labels' background
    font_scale: float = 1.0
    line_scale: float = 1.0

    def font(self, size: float) -> int:
        """A font size in this style (larger in high contrast)."""
        return int(round(size * self.font_scale))

    def width(self, px: float) -> float:
        """A line width in this style (thicker in high contrast)."""
        return px * self.line_scale

    @property
    def rgb_paper(self) -> tuple[int, int, int]:
        return _rgb(self.paper)

    @property
    def rgb_text(self) -> tuple[int, int, int]:
        return _rgb(self.text)

    def axis(self, **extra) -> dict:
        """The colours of a Plotly axis in this style, with ``extra`` on top."""
        return {"gridcolor": self.grid, "linecolor": self.line, "zerolinecolor": self.line,
                "tickcolor": self.line, "tickfont": {"color": self.muted},
                "title": {"font": {"color": self.text}}, **extra}

    def layout(self) -> dict:
        """The part of a Plotly layout this style sets: backgrounds, the default font colour
        (which annotations and colour bars inherit), hover labels."""
        return {"paper_bgcolor": self.paper, "plot_bgcolor": self.paper,
                "font": {"color": self.text},
                "hoverlabel": {"bgcolor": self.hover, "font": {"color": self.text},
                               "bordercolor": self.line}}


def _rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


LIGHT = Style("light", False, False, paper="#FFFFFF", panel="#ECECEC", text="#262730",
              muted="#444444", grid="#E5E5E5", line="#888888", mask="#EDEDED",
              button="#F2F2F2", button_text="#000000", button_line="#444444",
              slider="#DDDDDD", hover="#FFFFFF")
DARK = Style("dark", True, False, paper="#0E1117", panel="#262730", text="#FAFAFA",
             muted="#C9CAD1", grid="#31333F", line="#8A8D99", mask="#262730",
             button="#262730", button_text="#FAFAFA", button_line="#8A8D99",
             slider="#3B3D4A", hover="#262730")
# Projection: pure black on white (or white on black), thick lines, larger type; masks and
# borders far from both the page and the cells' colours.
LIGHT_HC = Style("light-hc", False, True, paper="#FFFFFF", panel="#D9D9D9", text="#000000",
                 muted="#000000", grid="#9E9E9E", line="#000000", mask="#BDBDBD",
                 button="#FFFFFF", button_text="#000000", button_line="#000000",
                 slider="#BDBDBD", hover="#FFFFFF", font_scale=1.25, line_scale=2.0)
DARK_HC = Style("dark-hc", True, True, paper="#000000", panel="#333333", text="#FFFFFF",
                muted="#FFFFFF", grid="#6B6B6B", line="#FFFFFF", mask="#4A4A4A",
                button="#000000", button_text="#FFFFFF", button_line="#FFFFFF",
                slider="#4A4A4A", hover="#000000", font_scale=1.25, line_scale=2.0)
STYLES = {s.name: s for s in (LIGHT, DARK, LIGHT_HC, DARK_HC)}


def style_for(theme: str | None, high_contrast: bool = False) -> Style:
    """The style of a page whose theme is ``theme`` ("light", "dark"; None: light)."""
    dark = theme == "dark"
    if high_contrast:
        return DARK_HC if dark else LIGHT_HC
    return DARK if dark else LIGHT


def restyle(fig, style: Style):
    """A ``go.Figure`` recoloured for ``style`` (in place, and returned): backgrounds, the
    default font colour (titles, annotations, legends, colour bars inherit it), axis lines,
    grid lines and tick labels of every subplot, hover labels. The traces' colours (the data)
    are left as they are. :data:`LIGHT` leaves the figure untouched."""
    if style == LIGHT:
        return fig
    fig.update_layout(**style.layout())
    fig.update_layout(legend_font_color=style.text, title_font_color=style.text)
    axis = {"gridcolor": style.grid, "linecolor": style.line, "zerolinecolor": style.line,
            "tickcolor": style.line, "tickfont_color": style.muted,
            "title_font_color": style.text}
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)
    for a in fig.layout.annotations:
        if a.font is None or a.font.color is None:
            a.font.color = style.text
    return fig
