"""The convolution scene: the (padded) input, the kernel and the output, with the window moving
over the input one output cell per frame, and :func:`conv_animation`, the scene played."""

from __future__ import annotations

import math

import numpy as np

from conv.options import PADDING
from conv.stages import ConvSpec, Stages
from viz.animation.figure import Animation, animate
from viz.animation.look import Look, look_for
from viz.animation.palette import (
    BLUISH_GREEN,
    DIVERGING,
    FLAT,
    PADDING_LINE_DARK,
    PADDING_TEXT,
    SANS,
    SKY_BLUE,
    VERMILLION,
)
from viz.animation.scene import (
    BESIDE_GAP_PX,
    MAX_CHANNELS,
    Box,
    Grid,
    Scene,
    cell_numbers,
    coord,
    formula_text,
    kernel_cells,
    kernel_font,
    kernel_room,
    layout_px,
    note_text,
    only_where,
    pending_masks,
    rects_path,
    scale_for,
    step_texts,
)
from viz.animation.steps import (
    ConvStep,
    applied_weights,
    channel_names,
    conv_steps,
    fmt,
    output_size_lines,
)
from viz.style import LIGHT, Style


def _conv_scene(stages: Stages, spec: ConvSpec, steps: list[ConvStep], look: Look,
                style: Style = LIGHT) -> Scene:
    padded = stages.padded.array
    x = stages.input.array
    c_in, hp, wp = padded.shape
    w = applied_weights(spec)
    c_out, cpg, kh, kw = w.shape
    out = (stages.activated or stages.biased or stages.conv).array
    _, ho, wo = out.shape
    (t, b), (l, r) = stages.padding
    if c_in > MAX_CHANNELS or c_out > MAX_CHANNELS:
        raise ValueError(
            f"the animation lays out at most {MAX_CHANNELS} input channels and {MAX_CHANNELS} "
            f"filters, got {c_in} and {c_out}")
    single = c_in == 1 and c_out == 1
    gap = 2
    n_eq = len(steps[0].equation)
    eq_chars = max(len(line) for line in steps[0].equation) + 2
    formula = "Output size " + "; ".join(output_size_lines(stages.layer.conv))
    title_chars = len(f"Step {len(steps)} of {len(steps)} \u00b7 filter W9, row {ho}, col {wo}")
    k_factor = kernel_cells(w[0, 0])[0]
    k_longest = max(len(v) for o in range(c_out) for ci in range(cpg)
                    for row in kernel_cells(w[o, ci])[1] for v in row)
    # --- boxes, in cell units
    if single:
        # the kernel's cells are drawn large enough for its numbers, and the gaps wide enough
        # for the operators beside its title; both depend on the cell size they change: a
        # few rounds settle them
        unit, gap_k = 1.0, float(gap)
        k_label = max(len(f"Kernel {kh}x{kw}"), len(f"all x {k_factor}") if k_factor else 0)
        for _ in range(4):
            # whole numbers where the input's and the output's cells start: every frame's
            # path names their corners, and short numbers keep a long animation's JSON small
            h = max(hp, math.ceil(kh * unit), ho)
            inp = [Box(0, (h - hp) / 2, hp, wp)]
            ker = [[Box(wp + gap_k, (h - kh * unit) / 2, kh, kw, unit)]]
            outs = [Box(math.ceil(ker[0][0].right + gap_k), (h - ho) / 2, ho, wo)]
            x_lo, x_hi, grid_h = -0.2, outs[0].right + 0.2, h
            cell = layout_px(look, x_hi - x_lo, grid_h, n_eq, eq_chars, title_chars,
                             len(formula)).cell
            room = kernel_room(look, cell, kw, k_longest, k_label)
            # never taller than the input or the output: on a short screen a kernel drawn for
            # its numbers would otherwise shrink everything else, the kernel with it
            room = (min(room[0], max(1.0, round(max(hp, ho) / kh, 3))), room[1])
            if room == (unit, gap_k):
                break
            unit, gap_k = room
    else:
        # the input slices side by side; under them each filter's slices as a group (titled
        # with its name and bias), the groups side by side; the output slices stacked right
        inp = [Box(c * (wp + gap), 0, hp, wp) for c in range(c_in)]
        group_w = cpg * kw + (cpg - 1) * 0.6
        top = hp + 0.6 + look.label_font * 1.9 / look.max_cell_px * 1.6
        ker = []
        for o in range(c_out):
            x0 = o * (group_w + gap)
            ker.append([Box(x0 + ci * (kw + 0.6), top, kh, kw) for ci in range(cpg)])
        x_out = max(inp[-1].right, ker[-1][-1].right) + gap
        outs = [Box(x_out, o * (ho + 1.6), ho, wo) for o in range(c_out)]
        grid_h = max(ker[-1][0].bottom, outs[-1].bottom)
        x_lo, x_hi = -0.2, outs[0].right + 0.2
    grid_w = x_hi - x_lo
    sz = layout_px(look, grid_w, grid_h, n_eq, eq_chars, title_chars, len(formula))

    def too_small(cell: float) -> tuple[str, ...]:
        names = tuple(name for name, grid in (("input", padded[0]), ("output", out[0]))
                      if cell_numbers(grid, look, cell)[0] is None)
        if kernel_font(look, cell * ker[0][0].unit, k_longest) < look.legible_px:
            names += ("kernel",)
        return names

    # numbers too small to read are hidden, and a note under the grids says so (its line
    # makes the cells a little smaller: what is hidden is decided at their final size)
    hidden = too_small(sz.cell)
    if hidden:
        sz = layout_px(look, grid_w, grid_h, n_eq, eq_chars, title_chars, len(formula),
                       note=True)
        hidden = too_small(sz.cell)
    cell, eq_font, head_u, eq_u = sz.cell, sz.eq_font, sz.head_u, sz.eq_u
    y_lo, y_hi = -head_u, grid_h + eq_u
    eq_x = x_hi + BESIDE_GAP_PX / cell if sz.beside_u else None  # the equation beside them
    x_end = x_hi + sz.beside_u

    grids: list[Grid] = []
    static_shapes: list[dict] = []
    texts: list[dict] = []
    lw = look.line_width
    label = {"font": {"size": look.label_font, "family": SANS, "color": style.text},
             "showarrow": False, "xref": "x", "yref": "y"}
    pad_line = PADDING_LINE_DARK if style.dark else PADDING_TEXT

    # --- input slices: image cells by value, padding cells flat and pale, values in italics
    inner = np.zeros((hp, wp), bool)
    inner[t:t + x.shape[1], l:l + x.shape[2]] = True
    scale, zmin, zmax = scale_for(padded[:, inner])
    names = channel_names(c_in)
    pad_word = PADDING[spec.padding_mode].cells
    for c, box in enumerate(inp):
        z = np.where(inner, padded[c], np.nan)
        cells, font = cell_numbers(padded[c], look, cell)
        grids.append(Grid(box, z, only_where(cells, inner), scale, zmin, zmax, font,
                          name=f"input {c}"))
        if not inner.all():
            zp = np.where(inner, np.nan, 0.0)
            grids.append(Grid(box, zp, only_where(cells, ~inner), FLAT, 0.0, 1.0, font,
                              PADDING_TEXT, True, name=f"padding {c}"))
            static_shapes.append({"type": "rect", **box.rect(t, t + x.shape[1], l, l + x.shape[2]),
                                  "line": {"color": pad_line, "width": max(2, lw - 2),
                                           "dash": "dash"}, "layer": "above"})
        size = f"{x.shape[1]}x{x.shape[2]}"
        title = f"Input {size}" if single else f"{names[c]} {size}"
        if not inner.all():
            pads = {t, b, l, r}
            p = f"p = {t}" if len(pads) == 1 else f"p = {t},{b},{l},{r} (top, bottom, left, right)"
            title += f" + {pad_word} padding {p} (pale)"
        # centred over the grid when it fits; else flush with the scene's left edge (the first
        # slice), so that it is not cut off (Arial: about 0.5 em a character)
        wide = c == 0 and len(title) * 0.5 * look.label_font > (wp + 0.4) * cell
        texts.append({**label, "text": title, "x": coord(x_lo + 0.02 if wide else box.cx),
                      "y": coord(box.y - 0.12), "xanchor": "left" if wide else "center",
                      "yanchor": "bottom"})

    # --- kernels
    k_scale_m = float(np.abs(w).max()) or 1.0
    for o, row in enumerate(ker):
        for ci, box in enumerate(row):
            factor, kcells = kernel_cells(w[o, ci])
            longest = max(len(s) for rr in kcells for s in rr)
            kf = kernel_font(look, cell * box.unit, longest)
            legible = kf >= look.legible_px
            grids.append(Grid(box, w[o, ci].astype(np.float64), kcells if legible else None,
                              DIVERGING, -k_scale_m, k_scale_m, kf if legible else 0,
                              name=f"kernel {o} {ci}"))
            if single:
                flip = " (rotated 180°: flip)" if spec.flip else ""
                dil = f", dilation {spec.dilation[0]}" if spec.dilation != (1, 1) else ""
                title = f"Kernel {kh}x{kw}{flip}{dil}"
                texts.append({**label, "text": title, "x": coord(box.cx), "y": coord(box.y - 0.12),
                              "xanchor": "center", "yanchor": "bottom"})
                if factor:
                    texts.append({**label, "text": f"all x {factor}", "x": coord(box.cx),
                                  "y": coord(box.bottom + 0.12), "xanchor": "center",
                                  "yanchor": "top"})
            elif factor:
                texts.append({**label, "text": f"x {factor}", "x": coord(box.cx),
                              "y": coord(box.bottom + 0.05), "xanchor": "center", "yanchor": "top",
                              "font": {**label["font"], "size": max(10, look.label_font - 4)}})
        if not single:
            bias = f", bias b{o + 1} = {fmt(spec.bias[o])}" if spec.bias is not None else ""
            g = o // (c_out // spec.groups)
            slices = " ".join(names[g * cpg + ci][0].upper() if c_in == 3 else str(g * cpg + ci + 1)
                              for ci in range(cpg))
            texts.append({**label, "text": f"Filter W{o + 1} ({slices}){bias}",
                          "x": coord((row[0].x + row[-1].right) / 2), "y": coord(row[0].y - 0.3),
                          "xanchor": "center", "yanchor": "bottom"})

    # --- outputs
    o_scale, o_min, o_max = scale_for(out)
    stage = ("after " + spec.activation_title if stages.activated is not None
             else "+ bias" if stages.biased is not None else "")
    for o, box in enumerate(outs):
        cells, font = cell_numbers(out[o], look, cell)
        grids.append(Grid(box, out[o].astype(np.float64), cells, o_scale, o_min, o_max, font,
                          name=f"output {o}"))
        static_shapes.append({"type": "rect", **box.rect(0, ho, 0, wo),
                              "line": {"color": style.line, "width": style.width(1)},
                              "layer": "below"})
        title = f"Output {ho}x{wo}" + (f" ({stage})" if stage else "")
        if not single:
            title = f"Output {o + 1}: {ho}x{wo}" + (f" ({stage})" if stage else "")
        # centred over the grid when it fits; else flush with the scene's right edge, so that
        # it is not cut off (Arial: about 0.5 em a character)
        wide = len(title) * 0.5 * look.label_font > (wo + 0.4) * cell
        texts.append({**label, "text": title, "x": coord(box.right + 0.1 if wide else box.cx),
                      "y": coord(box.y - 0.12), "xanchor": "right" if wide else "center",
                      "yanchor": "bottom"})
    if single:
        big = {**label, "font": {**label["font"], "size": int(look.label_font * 1.6)}}
        mid = (inp[0].cx + 0, outs[0].y + ho / 2)
        texts.append({**big, "text": "\u2217", "x": coord(inp[0].right + gap_k / 2),
                      "y": coord(mid[1]), "xanchor": "center", "yanchor": "middle"})
        texts.append({**big, "text": "=", "x": coord((ker[0][0].right + outs[0].x) / 2),
                      "y": coord(mid[1]),
                      "xanchor": "center", "yanchor": "middle"})
    texts.append(formula_text(label, formula, sz, x_lo, x_end, y_lo))
    if hidden:
        texts.append(note_text(look, style, x_lo, grid_h, cell))

    # --- dynamic shapes. One path draws every vermillion rectangle of a step (the window on
    # each input slice, or with dilation the cells it samples, and the output cell): a path is
    # much shorter JSON than separate rectangles, and a long animation's JSON must stay small.
    dil = spec.dilation != (1, 1)
    jumps = spec.stride != (1, 1)
    hl_t = {"type": "path", "layer": "above", "line": {"color": VERMILLION, "width": lw},
            "fillcolor": "rgba(213,94,0,0.12)"}
    span_t = {"type": "path", "layer": "above",
              "line": {"color": VERMILLION, "width": max(2, lw - 2), "dash": "dot"}}
    ghost_t = {"type": "path", "layer": "above",
               "line": {"color": SKY_BLUE, "width": max(2, lw - 1), "dash": "dash"}}
    filt_t = {"type": "rect", "layer": "above", "line": {"color": BLUISH_GREEN, "width": lw}}
    mask_t = {"type": "rect", "layer": "above", "line": {"width": 0}, "fillcolor": style.mask}
    dyn_shapes = ([hl_t] + ([span_t] if dil else []) + ([ghost_t] if jumps else [])
                  + ([filt_t] if c_out > 1 else []) + [mask_t] * (2 * c_out))
    dyn_texts = step_texts(look, style, x_lo, y_lo, grid_h, cell, eq_font, sz.note_px, eq_x)
    nowhere = {"path": f"M{coord(inp[0].x)},{coord(inp[0].y)}Z"}

    n = len(steps)
    scene_steps = []
    labels = []
    for k, st in enumerate(steps):
        prev = steps[k - 1] if k else st
        rects = []
        for c in st.channels:
            if dil:
                rects += [inp[c].corners(rr + 0.08, rr + 0.92, cc + 0.08, cc + 0.92)
                          for rr in st.rows for cc in st.cols]
            else:
                rects.append(inp[c].corners(st.rows[0], st.rows[-1] + 1, st.cols[0],
                                            st.cols[-1] + 1))
        rects.append(outs[st.filter].corners(st.row, st.row + 1, st.col, st.col + 1))
        sh = [{"path": rects_path(rects)}]
        if dil:
            sh.append({"path": rects_path([inp[c].corners(st.rows[0], st.rows[-1] + 1, st.cols[0],
                                                          st.cols[-1] + 1) for c in st.channels])})
        if jumps:
            sh.append({"path": rects_path([inp[c].corners(prev.rows[0], prev.rows[-1] + 1,
                                                          prev.cols[0], prev.cols[-1] + 1)
                                           for c in prev.channels])} if k else nowhere)
        if c_out > 1:
            row = ker[st.filter]
            sh.append({"x0": coord(row[0].x - 0.22), "x1": coord(row[-1].right + 0.22),
                       "y0": coord(row[0].y - 0.22), "y1": coord(row[0].bottom + 0.22)})
        sh += pending_masks(outs, st.filter, st.row, st.col)
        where = f"row {st.row + 1}, col {st.col + 1}"
        if c_out > 1:
            where = f"filter W{st.filter + 1}, " + where
        scene_steps.append((sh, [f"Step {k + 1} of {n} \u00b7 {where}", "<br>".join(st.equation)]))
        labels.append(str(k + 1))

    click = {"x": [], "y": [], "step": []}
    for st in steps:
        cx, cy = outs[st.filter].x + st.col + 0.5, outs[st.filter].y + st.row + 0.5
        click["x"].append(coord(cx))
        click["y"].append(coord(cy))
        click["step"].append(st.index)
    return Scene(look, cell, (x_lo, x_end), (y_lo, y_hi), grids, static_shapes, texts,
                 dyn_shapes, dyn_texts, scene_steps, labels, click, style, hidden)


def conv_animation(stages: Stages, spec: ConvSpec, *, classroom: bool = False,
                   style: Style = LIGHT, look: Look | None = None) -> Animation:
    """The convolution of ``stages`` (from ``conv.stages.run(x, spec)``), one frame per output
    cell: the window on the (padded) input, the kernel, the output filling in, the equation.
    ``look``: the sizes (default: ``look_for(classroom)``; :func:`~viz.animation.look.fit_look`
    for a screen).

    Raises
    ------
    ValueError
        When the layer has more than :data:`~viz.animation.scene.MAX_CHANNELS` input channels
        or filters.
    """
    steps = conv_steps(stages, spec)
    return animate(_conv_scene(stages, spec, steps, look or look_for(classroom, style),
                               style), steps)
