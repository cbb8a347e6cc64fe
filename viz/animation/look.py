"""The Look: the sizes a figure is laid out for (width, height, fonts, cells, buttons), for a
laptop, for a projector (classroom mode), in high contrast, or fitted to the browser's screen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from viz.style import LIGHT, Style


@dataclass(frozen=True)
class Look:
    """The sizes, in pixels, that a figure's grids, type and controls are laid out for."""

    classroom: bool
    width_px: int        # the width the figure is laid out for (Streamlit's wide main column)
    max_height_px: int
    max_cell_px: int
    title_font: int      # the step line
    label_font: int      # panel titles, formulas
    eq_font: int
    max_cell_font: int
    min_cell_font: int   # values are shortened to fit at this size
    line_width: int
    gap_px: int          # white gap between cells
    controls_px: int     # buttons and slider under the plot
    button_font: int
    extra_height_px: int = 0  # allowed beyond max_height_px to keep cell numbers readable
    legible_px: int = 10  # cell numbers smaller than this are hidden (a note says so)
    kernel_cell_px: int = 40  # the kernel's cells at least this large (its numbers readable)
    control_rows: int = 1     # the buttons in one row, or two (Play under Step: a phone)
    eq_beside: bool = False   # the equation may go beside the grids (a wide, short screen)


# Laid out for the main column of a 1280 x 720 laptop with the sidebar open, so the figure only
# grows on wider screens (fonts are in pixels: a figure laid out wider and shrunk to fit would
# overflow its cells).
NORMAL = Look(False, 800, 760, 76, 22, 16, 17, 22, 11, 3, 1, 108, 15)
# Laid out for Streamlit's wide column on a 1920 x 1080 projector with the sidebar collapsed.
CLASSROOM = Look(True, 1700, 880, 112, 36, 24, 26, 40, 24, 5, 2, 126, 22, 160, 16, 64)
# Numbers smaller than this are hidden in high contrast (a projector: read from afar).
HC_LEGIBLE_PX = 16


def look_for(classroom: bool, style: Style = LIGHT) -> Look:
    """The sizes for a screen; in high contrast (``style.contrast``) larger type, thicker
    lines, and cell numbers hidden below :data:`HC_LEGIBLE_PX`."""
    look = CLASSROOM if classroom else NORMAL
    if not style.contrast:
        return look
    return replace(look, title_font=style.font(look.title_font),
                   label_font=style.font(look.label_font), eq_font=style.font(look.eq_font),
                   button_font=style.font(look.button_font),
                   line_width=int(round(look.line_width * 1.7)),
                   legible_px=max(look.legible_px, HC_LEGIBLE_PX),
                   kernel_cell_px=max(look.kernel_cell_px, 52))


#: Below this width the Play buttons go under the step buttons (side by side they overlap).
NARROW_PX = 620


def fit_look(look: Look, width_px: int, height_px: int) -> Look:
    """``look`` for a figure ``width_px`` wide with ``height_px`` of the window for it, buttons
    and slider included (the browser measures both: ``ui/keys.js``).

    The grids take what the width and the height allow (no taller than the window: the buttons
    stay on the screen). Type follows the width: smaller on a phone, larger on a wide screen,
    never below readable sizes, and in classroom mode at least 85% of its size on a
    projector. Narrower than :data:`NARROW_PX`, the buttons take two rows; wider, the equation
    may go beside the grids instead of under them (on a wide, short screen that leaves the
    grids more room)."""
    width_px = max(240, int(width_px))
    height_px = max(280, int(height_px))
    scale = min(max(width_px / look.width_px, 0.85 if look.classroom else 0.7), 1.3)

    def f(size: int, least: int) -> int:
        return max(least, round(size * scale))

    narrow = width_px < NARROW_PX
    button_font = f(look.button_font, 13)
    controls = look.controls_px + 2 * (button_font - look.button_font)
    if narrow:
        controls += button_font * 2 + 12
    return replace(look, width_px=width_px, max_height_px=height_px, extra_height_px=0,
                   max_cell_px=f(look.max_cell_px, 24), title_font=f(look.title_font, 16),
                   label_font=f(look.label_font, 13), eq_font=f(look.eq_font, 12),
                   max_cell_font=f(look.max_cell_font, 12), min_cell_font=f(look.min_cell_font, 10),
                   button_font=button_font, controls_px=controls,
                   kernel_cell_px=f(look.kernel_cell_px, 20), legible_px=f(look.legible_px, 10),
                   control_rows=2 if narrow else 1, eq_beside=not narrow)
