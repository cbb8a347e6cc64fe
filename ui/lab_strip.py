"""The filter lab's HTML under the figure: the stage strip (input -> padded input -> convolution
-> bias -> activation -> pooling, a card each with its small picture, shape, range and colour
bar), every map of a stage, and the histogram of the values shown. Each is one entry of the
result's memo (:meth:`ui.lab_result.LabResult.memo`), built when first asked for.
"""

from __future__ import annotations

import base64
import html
import math

import numpy as np

from ui.lab_result import STAGE_LABELS, LabResult, fmt, shape_text
from viz import maps
from viz.style import LIGHT, Style


def _card(title: str, values: np.ndarray, m: maps.Mapped, *, current: bool = False,
          box: tuple[float, float, float, float] | None = None, note: str = "") -> str:
    """One card: the picture (``box``: the input's outline on the padded input, in percent),
    the shape, the value range, the colour bar and how the values are mapped."""
    uri = maps.thumbnail_uri(m)
    box_html = ""
    if box is not None:
        left, top, width, height = box
        box_html = (f'<div class="lab-box" style="left:{left:.3f}%;top:{top:.3f}%;'
                    f'width:{width:.3f}%;height:{height:.3f}%"></div>')
    mid = ""
    if m.lo < 0 < m.hi:
        mid = "<span>0</span>"
    how = {"photo": "as a photo", "signed": "signed", "abs": "|x|", "clip": "clip 0..255",
           "stretch": "min-max"}.get(m.mapping, m.mapping)
    lo, hi = fmt(m.lo), fmt(m.hi)
    clip = ""
    if m.clipped and m.mapping in ("signed", "abs"):
        # the ends of the bar are limits, not the range: what lies beyond has their colours
        lo = f"≤{lo}" if m.mapping == "signed" else lo
        hi = f"≥{hi}"
        clip = f'<div class="lab-clip">clipped: {maps._pct(m.clipped)} % of pixels</div>'
    cls = "lab-card lab-current" if current else "lab-card"
    return (
        f'<div class="{cls}"><div class="lab-title">{html.escape(title)}</div>'
        f'<div class="lab-img"><div style="position:relative;display:inline-block;line-height:0">'
        f'<img src="{uri}" alt="{html.escape(title)}">{box_html}</div></div>'
        f'<div class="lab-shape">{shape_text(values)}</div>'
        f'<div class="lab-range">{fmt(m.vmin)} … {fmt(m.vmax)}</div>'
        f'<div class="lab-bar" style="background:{maps.css_gradient(m.colorscale)}"></div>'
        f'<div class="lab-ticks"><span>{lo}</span>{mid}<span>{hi}</span></div>'
        f'{clip}<div class="lab-how">{how}{html.escape(note)}</div></div>'
    )


def stage_strip_html(result: LabResult, j, mapping: str, current: str,
                     limits: str = "p99.5") -> str:
    """input -> padded input -> convolution (+ bias) -> activation -> pooling, one card each."""
    def build():
        cards = []
        jj = 0 if j == "mag" else j
        for s in result.stages.strip():
            key = s.key
            if key == "padded" and result.stages.padding == ((0, 0), (0, 0)):
                continue
            m = result.mapped(key, jj, mapping, maps.THUMB_SIDE, limits)
            values = result.stage(key).array
            box = None
            if key == "padded":
                (t, b), (l, r) = result.stages.padding
                h, w = values.shape[1:]
                box = (100 * l / w, 100 * t / h, 100 * (w - l - r) / w, 100 * (h - t - b) / h)
            cards.append(_card(s.title, values, m, current=key == current, box=box))
        return ('<div class="lab-strip">' + '<div class="lab-arrow">→</div>'.join(cards)
                + "</div>")
    return result.memo(("strip", j, mapping, current, limits), build)


def strip_note(result: LabResult, j) -> str:
    """Which map the stage strip follows when a layer has several."""
    jj = 0 if j == "mag" else j
    what = f"the map of {result.map_name(jj)}"
    if result.colour == "channels":
        what += " (its R, G and B maps recombined)"
    extra = " (the gradient magnitude is shown under Each map)" if j == "mag" else ""
    return f"The stages after the input follow {what}, map {jj + 1} of {result.n}{extra}."


def maps_strip_html(result: LabResult, stage: str, mapping: str,
                    limits: str = "p99.5") -> str:
    """Every output map of ``stage`` (one per filter, per channel), plus the magnitude."""
    def build():
        a = result.stage(stage).array
        cards = []
        for c in range(a.shape[0]):
            v = a[c:c + 1]
            rng = maps.value_range(v)
            inside = maps.inside_share(v, rng)
            resolved = maps.resolve_mapping(mapping, *rng, inside)
            clip = (maps.robust_clip(v, limits=limits, value_range_=rng)
                    if resolved in ("signed", "abs") else None)
            small = maps.reduce(v, maps.THUMB_SIDE, maps.reduce_method(resolved))
            m = maps.map_values(small[0], mapping, value_range_=rng, clip=clip, inside=inside)
            cards.append(_card(result.names[c], v, m))
        if result.pair is not None:
            v = result.magnitude()
            m = result.mapped("mag", 0, mapping, maps.THUMB_SIDE, limits)
            cards.append(_card("Gradient magnitude √(gx² + gy²)", v, m,
                               note=" · of the convolution"))
        return '<div class="lab-strip">' + "".join(cards) + "</div>"
    return result.memo(("maps", stage, mapping, limits), build)


def histogram(result: LabResult, stage: str, j, mapping: str, limits: str = "p99.5",
              style: Style = LIGHT):
    """The histogram of the values shown on the right (a regular sample of the pixels above
    4 million values, said in the title)."""
    def build():
        jj = 0 if j == "mag" else j
        values = result.values(stage, jj)
        m = result.mapped(stage, jj, mapping, limits=limits)
        n = values.size
        title = f"Histogram of the values: {STAGE_LABELS[stage]} · {result.map_name(j)}"
        k = 1
        if n > 4_000_000:  # every k-th row and column: the shape of the histogram, fast
            k = math.ceil(math.sqrt(n / 2_000_000))
            title += f" (every {k}th row and column)"
        # the counts do not depend on the mapping (only the bars' colours do): kept per stage
        counts = result.memo(("counts", stage, jj), lambda: maps.histogram_counts(
            values[:, ::k, ::k] if k > 1 else values, m.vmin, m.vmax))
        svg = maps.histogram_svg(values, m, title=title, counts=counts, style=style)
        # as an image: one node for ui/html_view.js to keep or replace as a whole
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
        return (f'<img src="{uri}" alt="{html.escape(title)}" '
                f'style="width:100%; max-width:960px; display:block; margin-top:1rem">')
    return result.memo(("hist", stage, j, mapping, limits, style), build)

