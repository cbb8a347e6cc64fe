"""The pooling scene: each map beside its pooled map, the window moving over the map one
pooled cell per frame, and :func:`pool_animation`, the scene played."""

from __future__ import annotations

import numpy as np

from conv.stages import PoolSpec
from viz.animation.figure import Animation, animate
from viz.animation.look import Look, look_for
from viz.animation.palette import FLAT, PADDING_TEXT, SANS, SKY_BLUE, VERMILLION
from viz.animation.scene import (
    BESIDE_GAP_PX,
    MAX_CHANNELS,
    Box,
    Grid,
    Scene,
    cell_numbers,
    coord,
    formula_text,
    layout_px,
    note_text,
    only_where,
    pending_masks,
    rects_path,
    scale_for,
    step_texts,
)
from viz.animation.steps import MINUS_INF, PoolStep, output_size_lines, pool_padded, pool_steps
from viz.style import LIGHT, Style


def _pool_scene(pre: np.ndarray, pool: PoolSpec, pooled: np.ndarray, steps: list[PoolStep],
                look: Look, title: str, style: Style = LIGHT) -> Scene:
    padded = pool_padded(pre, pool)
    c, hp, wp = padded.shape
    _, ho, wo = pooled.shape
    if c > MAX_CHANNELS:
        raise ValueError(f"the animation lays out at most {MAX_CHANNELS} channels, got {c}")
    ph, pw = pool.padding
    gap = 2
    maps = [Box(0, ch * (hp + 1.6), hp, wp) for ch in range(c)]
    outs = [Box(wp + gap, m.y + (hp - ho) / 2, ho, wo) for m in maps]
    x_lo, x_hi = -0.2, max(outs[0].right, wp + gap + 3) + 0.2
    grid_h = maps[-1].bottom
    eq_chars = max(len(s.equation[0]) for s in steps[:50]) + 2
    kh, kw = pool.kernel_size
    (sh, sw) = pool.effective_stride
    formula = f"{pool.title}. Output size " + "; ".join(output_size_lines(
        pool.resolve(pre.shape[1:])))
    title_chars = len(f"Step {len(steps)} of {len(steps)} \u00b7 slice 9, row {ho}, col {wo}")
    sz = layout_px(look, x_hi - x_lo, grid_h, 1, eq_chars, title_chars, len(formula))
    def too_small(cell: float) -> tuple[str, ...]:
        return tuple(name for name, grid in (("map", padded[0]), ("pooled", pooled[0]))
                     if cell_numbers(grid, look, cell)[0] is None)

    hidden = too_small(sz.cell)
    if hidden:
        sz = layout_px(look, x_hi - x_lo, grid_h, 1, eq_chars, title_chars, len(formula),
                       note=True)
        hidden = too_small(sz.cell)
    cell, eq_font, head_u, eq_u = sz.cell, sz.eq_font, sz.head_u, sz.eq_u
    y_lo, y_hi = -head_u, grid_h + eq_u
    eq_x = x_hi + BESIDE_GAP_PX / cell if sz.beside_u else None  # the equation beside them
    x_end = x_hi + sz.beside_u
    label = {"font": {"size": look.label_font, "family": SANS, "color": style.text},
             "showarrow": False, "xref": "x", "yref": "y"}
    inner = np.zeros((hp, wp), bool)
    inner[ph:ph + pre.shape[1], pw:pw + pre.shape[2]] = True
    scale, zmin, zmax = scale_for(pre)
    o_scale, o_min, o_max = scale_for(pooled)
    grids, static_shapes, texts = [], [], []
    lw = look.line_width
    mode = "Max" if pool.mode == "max" else "Average"
    for ch in range(c):
        m, ob = maps[ch], outs[ch]
        cells, font = cell_numbers(padded[ch], look, cell)
        grids.append(Grid(m, np.where(inner, padded[ch], np.nan), only_where(cells, inner), scale,
                          zmin, zmax, font, name=f"map {ch}"))
        if not inner.all():
            grids.append(Grid(m, np.where(inner, np.nan, 0.0), only_where(cells, ~inner), FLAT,
                              0, 1, font, PADDING_TEXT, True, name=f"padding {ch}"))
        cells, font = cell_numbers(pooled[ch], look, cell)
        grids.append(Grid(ob, pooled[ch].astype(np.float64), cells, o_scale, o_min, o_max, font,
                          name=f"pooled {ch}"))
        static_shapes.append({"type": "rect", **ob.rect(0, ho, 0, wo),
                              "line": {"color": style.line, "width": style.width(1)},
                              "layer": "below"})
        name = title if c == 1 else f"{title}, slice {ch + 1}"
        texts.append({**label, "text": f"{name}: {pre.shape[1]}x{pre.shape[2]}"
                      + (f" + padding {ph} ({MINUS_INF if pool.mode == 'max' else '0'})"
                         if not inner.all() else ""),
                      "x": coord(m.cx), "y": coord(m.y - 0.12), "xanchor": "center",
                      "yanchor": "bottom"})
        texts.append({**label, "text": f"{mode} pool: {ho}x{wo}", "x": coord(ob.cx),
                      "y": coord(ob.y - 0.12), "xanchor": "center", "yanchor": "bottom"})
        texts.append({**label, "text": "\u2192", "x": coord(m.right + gap / 2),
                      "y": coord(m.y + hp / 2),
                      "xanchor": "center", "yanchor": "middle",
                      "font": {**label["font"], "size": int(look.label_font * 1.6)}})
    texts.append(formula_text(label, formula, sz, x_lo, x_end, y_lo))
    if hidden:
        texts.append(note_text(look, style, x_lo, grid_h, cell))
    jumps = pool.effective_stride != (1, 1)
    hl_t = {"type": "path", "layer": "above", "line": {"color": VERMILLION, "width": lw},
            "fillcolor": "rgba(213,94,0,0.12)"}
    ghost_t = {"type": "path", "layer": "above",
               "line": {"color": SKY_BLUE, "width": max(2, lw - 1), "dash": "dash"}}
    mask_t = {"type": "rect", "layer": "above", "line": {"width": 0}, "fillcolor": style.mask}
    dyn_shapes = [hl_t] + ([ghost_t] if jumps else []) + [mask_t] * (2 * c)
    nowhere = {"path": f"M{coord(maps[0].x)},{coord(maps[0].y)}Z"}
    scene_steps, labels = [], []
    n = len(steps)
    for k, st in enumerate(steps):
        prev = steps[k - 1] if k else st
        m = maps[st.channel]
        window = m.corners(st.rows[0], st.rows[-1] + 1, st.cols[0], st.cols[-1] + 1)
        sh = [{"path": rects_path([window, outs[st.channel].corners(st.row, st.row + 1, st.col,
                                                                    st.col + 1)])}]
        if jumps:
            pm = maps[prev.channel]
            sh.append({"path": rects_path([pm.corners(prev.rows[0], prev.rows[-1] + 1, prev.cols[0],
                                                      prev.cols[-1] + 1)])} if k else nowhere)
        sh += pending_masks(outs, st.channel, st.row, st.col)
        where = f"row {st.row + 1}, col {st.col + 1}"
        if c > 1:
            where = f"slice {st.channel + 1}, " + where
        scene_steps.append((sh, [f"Step {k + 1} of {n} \u00b7 {where}", st.equation[0]]))
        labels.append(str(k + 1))
    click = {"x": [], "y": [], "step": []}
    for st in steps:
        click["x"].append(coord(outs[st.channel].x + st.col + 0.5))
        click["y"].append(coord(outs[st.channel].y + st.row + 0.5))
        click["step"].append(st.index)
    return Scene(look, cell, (x_lo, x_end), (y_lo, y_hi), grids, static_shapes, texts,
                 dyn_shapes, step_texts(look, style, x_lo, y_lo, grid_h, cell, eq_font,
                                        sz.note_px, eq_x), scene_steps, labels, click, style,
                 hidden)


def pool_animation(pre: np.ndarray, pool: PoolSpec, pooled: np.ndarray, *,
                   classroom: bool = False, title: str = "Map",
                   style: Style = LIGHT, look: Look | None = None) -> Animation:
    """Pooling of ``pre`` (C, H, W) into the engine's ``pooled``, one frame per pooled cell."""
    pre = np.asarray(pre, np.float32)
    steps = pool_steps(pre, pool, pooled)
    return animate(_pool_scene(pre, pool, pooled, steps, look or look_for(classroom, style),
                               title, style), steps)
