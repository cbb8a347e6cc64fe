"""The filter lab's CSS: the stage strip's cards, the arithmetic panel, the notes and headings
of the page's HTML, the gallery's buttons and the link; larger titles in classroom mode.

One stylesheet for all the page's HTML, which ``ui/classroom.py``'s ``style`` writes with the
rules every page shares, so that a class is styled in one place.
"""

from __future__ import annotations

from ui.lab_state import LINK_KEY
from ui.state import UrlState
from viz import maps

PAGE_CSS = """
<style>
/* Lecture-hall type for the filter lab. */
.lab-strip { display: flex; flex-wrap: wrap; gap: 10px; align-items: stretch; }
/* Colours from Streamlit's theme (the variables of the component the HTML is shown in), so
   that the cards read in the light and the dark theme alike; the maps' own colours stay. */
.lab-arrow { align-self: center; font-size: 2rem; color: #888; }
.lab-card { width: 215px; border: 1px solid rgba(128, 128, 128, 0.35); border-radius: 8px;
            padding: 8px; background: var(--st-secondary-background-color, #fafafa);
            color: var(--st-text-color, #262730); }
.lab-card.lab-current { border: 3px solid #ff4b4b; padding: 6px; }
.lab-title { font-size: 1.1rem; font-weight: 700; margin-bottom: 4px; }
.lab-img { position: relative; width: 100%; height: 150px; display: flex;
           align-items: center; justify-content: center; background: rgba(128, 128, 128, 0.2); }
.lab-img img { max-width: 100%; max-height: 150px; image-rendering: pixelated; }
.lab-box { position: absolute; border: 2px dashed #00b8d4; pointer-events: none; }
.lab-shape { font-size: 1.3rem; font-weight: 700; margin-top: 6px;
             font-variant-numeric: tabular-nums; }
.lab-range { font-size: 1.0rem; font-variant-numeric: tabular-nums; }
.lab-bar { height: 12px; border: 1px solid #999; margin-top: 4px; }
.lab-ticks { display: flex; justify-content: space-between; font-size: 0.9rem; }
.lab-how { font-size: 0.85rem; opacity: 0.8; margin-top: 2px; }
.lab-clip { font-size: 0.85rem; font-weight: 600; margin-top: 2px; }
.lab-h3 { font-size: 1.75rem; font-weight: 600; margin: 1.5rem 0 0.75rem; }
.lab-note { font-size: 0.875rem; color: var(--st-text-color, rgb(49, 51, 63)); opacity: 0.6;
            margin: 0 0 0.75rem; }
.lab-metrics { display: flex; flex-wrap: wrap; gap: 0.5rem 4rem; margin: 0.5rem 0 0.75rem; }
.lab-metric-label { font-size: 1.1rem; color: var(--st-text-color, rgb(49, 51, 63)); }
.lab-metric-value { font-size: 2.1rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.lab-arith p { margin: 0 0 0.5rem; }
.lab-arith ul { margin: 0 0 0.75rem; padding-left: 1.5rem; }
.lab-arith code { font-size: 0.9em; padding: 0.1em 0.25em; border-radius: 0.25rem;
                  background: rgba(172, 177, 195, 0.25); color: rgb(9, 171, 59); }
.lab-info { margin: 0.5rem 0; padding: 0.75rem 1rem; border-radius: 0.5rem;
            background: rgba(28, 131, 225, 0.1); color: var(--st-text-color, rgb(0, 66, 128));
            border-left: 4px solid rgb(28, 131, 225); }
/* less empty space above the title, so the figure starts higher on a 720-pixel screen */
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
.st-key-lab-gallery [data-testid="stButton"] button p { font-size: 0.8rem; line-height: 1.1; }
""" + maps.PIXELATED_CSS + UrlState.link_css(LINK_KEY) + "</style>\n"
#: Classroom mode (``ui/classroom.py``) adds this on a projector: larger strips' titles.
CLASSROOM_CSS = """
.lab-title { font-size: 1.2rem; }
"""

