"""The convolution family's animations, asserted on the figure objects: one frame per stamp,
window or column; each frame's rectangles where the geometry puts them; each frame's numbers
adding up to the engine's value for that cell."""

import re

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy import signal as sps

from conv import ops
from conv.geometry import adjoint_geometry, conv_geometry, transposed_geometry
from conv.shapes import conv_macs, conv_params
from viz import animation as A
from viz import family as F
from viz.animation.steps import paren

NUM = r"\(?(-?[\d.]+)\)?"


def _state(fig: dict, k: int) -> tuple[list[dict], list[dict]]:
    """Shapes and annotations after frame ``k`` (plotly merges frame items by index)."""
    shapes = [dict(s) for s in fig["layout"]["shapes"]]
    notes = [dict(a) for a in fig["layout"]["annotations"]]
    frame = fig["frames"][k]
    assert frame["name"] == str(k)
    assert set(frame) == {"name", "layout"}  # no trace data: the grids stay drawn
    for i, s in enumerate(frame["layout"].get("shapes", [])):
        shapes[i].update(s)
    for i, a in enumerate(frame["layout"].get("annotations", [])):
        notes[i].update(a)
    return shapes, notes


def _rects(shape: dict) -> set[tuple]:
    return {tuple(round(v, 3) for v in r) for r in A.path_rects(shape["path"])}


def _box(anim: A.Animation, name: str):
    return next(g.box for g in anim.scene.grids if g.name == name)


def _cell(box, r: float, c: float) -> tuple:
    return tuple(round(float(v), 3) for v in box.corners(r, r + 1, c, c + 1))


def _products(text: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in re.findall(NUM + A.TIMES + NUM, text)]


def _valid(anim: A.Animation, k: int = 0) -> dict:
    d = anim.figure(k).to_dict()
    go.Figure(d)  # plotly validates data, layout and every frame
    return d


# --------------------------------------------------------------------------------------------
# Transposed convolution
# --------------------------------------------------------------------------------------------

TRANSPOSED = {
    "conv_arithmetic": {"n": (3, 3), "k": (3, 3), "stride": 2, "padding": 1, "output_padding": 0, "dilation": 1},
    "output_padding": {"n": (3, 3), "k": (3, 3), "stride": 2, "padding": 1, "output_padding": 1, "dilation": 1},
    "no_padding_s1": {"n": (2, 3), "k": (2, 2), "stride": 1, "padding": 0, "output_padding": 0, "dilation": 1},
    "dilated": {"n": (3, 2), "k": (2, 3), "stride": 2, "padding": 0, "output_padding": 1, "dilation": 2},
    "big_padding": {"n": (4, 4), "k": (3, 3), "stride": 3, "padding": 3, "output_padding": 0, "dilation": 1},
    "k4_s2": {"n": (3, 3), "k": (4, 4), "stride": 2, "padding": 1, "output_padding": 0, "dilation": 1},
}


def _transposed(case: str):
    c = TRANSPOSED[case]
    rng = np.random.default_rng(len(case))
    x = rng.integers(-2, 4, c["n"]).astype(np.float32)
    w = rng.integers(-2, 3, c["k"]).astype(np.float32)
    kw = {k: c[k] for k in ("stride", "padding", "output_padding", "dilation")}
    layer = transposed_geometry(x.shape, w.shape, **kw)
    out = ops.conv_transpose2d(x[None], w[None, None], **kw)[0]
    return x, w, layer, out, kw


@pytest.mark.parametrize("case", TRANSPOSED)
def test_stamps_one_frame_per_input_cell_where_the_geometry_puts_it(case):
    x, w, layer, out, _ = _transposed(case)
    anim = F.transposed_stamps(x, w, layer, out)
    fig = _valid(anim)
    assert anim.n_steps == len(fig["frames"]) == x.size
    inp, canvas = _box(anim, "input"), _box(anim, "output")
    rows, cols = layer.axes
    for k, step in enumerate(anim.steps):
        i, j = divmod(k, x.shape[1])
        assert (step.row, step.col, step.value) == (i, j, x[i, j])
        assert step.rows == tuple(rows.taps(i)) and step.cols == tuple(cols.taps(j))
        shapes, notes = _state(fig, k)
        drawn = _rects(shapes[0])
        assert _cell(inp, i, j) in drawn
        if rows.dilation == cols.dilation == 1:
            assert tuple(round(float(v), 3) for v in canvas.corners(
                step.rows[0], step.rows[-1] + 1, step.cols[0], step.cols[-1] + 1)) in drawn
        else:  # each cell the dilated stamp reaches
            for r in step.rows:
                for c in step.cols:
                    assert tuple(round(float(v), 3) for v in canvas.corners(
                        r + 0.08, r + 0.92, c + 0.08, c + 0.92)) in drawn
        assert notes[0]["text"].startswith(f"Stamp {k + 1} of {x.size} · input row {i + 1}, "
                                           f"col {j + 1}")


@pytest.mark.parametrize("case", TRANSPOSED)
def test_each_stamps_equation_adds_up_and_the_last_is_the_engines_output(case):
    x, w, layer, out, _ = _transposed(case)
    anim = F.transposed_stamps(x, w, layer, out)
    fig = anim.figure(0).to_dict()
    ch, cw = anim.steps[-1].canvas.shape
    for k, step in enumerate(anim.steps):
        _, notes = _state(fig, k)
        lines = notes[1]["text"].split("<br>")
        assert len(lines) == w.shape[0]
        for a, line in enumerate(lines):
            m = re.fullmatch(r"row (-?\d+)(?: \(cut by p\))?: \[([^\]]*)\] \+ \(?(-?[\d.]+)\)?"
                             + A.TIMES + r"\[([^\]]*)\] = \[([^\]]*)\]", line)
            assert m, line
            before, xv, wrow, after = (m.group(2), float(m.group(3)), m.group(4), m.group(5))
            b = np.array(before.split(), float)
            wr = np.array(wrow.split(), float)
            af = np.array(after.split(), float)
            np.testing.assert_allclose(b + xv * wr, af)
            np.testing.assert_array_equal(wr, w[a])
            assert xv == x[step.row, step.col]
            assert int(m.group(1)) == step.rows[a] - layer.axes[0].before + 1
        # the canvas cells shown: the running sums (blank where no stamp arrived yet, unless
        # no stamp ever arrives: 0)
        assert notes[2]["text"] == f"{paren(A.fmt(step.value))} × KERNEL"
        products = [n["text"] for n in notes[3:3 + w.size]]
        assert [float(t) for t in products] == pytest.approx(list((step.value * w).ravel()))
        canvas_texts = [n["text"] for n in notes[3 + w.size:3 + w.size + ch * cw]]
        assert len(canvas_texts) == ch * cw
        shown = {(r, c): canvas_texts[r * cw + c] for r in range(ch) for c in range(cw)}
        for (r, c), text in shown.items():
            if text:
                assert float(text) == pytest.approx(step.canvas[r, c], abs=0.01)
    top, left = layer.axes[0].before, layer.axes[1].before
    ho, wo = layer.out_shape
    final = anim.steps[-1].canvas[top:top + ho, left:left + wo]
    np.testing.assert_allclose(final, out, atol=1e-4)


@pytest.mark.parametrize("case", TRANSPOSED)
def test_zero_inserted_input_is_the_textbook_one(case):
    x, w, layer, out, kw = _transposed(case)
    z, kind = F.zero_inserted(x, layer)
    s, p, d, op = kw["stride"], kw["padding"], kw["dilation"], kw["output_padding"]
    # the textbook construction: s - 1 zeros between the inputs, d*(k - 1) - p around
    dil = np.zeros(((x.shape[0] - 1) * s + 1, (x.shape[1] - 1) * s + 1))
    dil[::s, ::s] = x
    q = [d * (k - 1) - p for k in w.shape]
    ref = np.pad(dil, [(max(v, 0), max(v, 0) + op) for v in q])
    ref = ref[max(-q[0], 0):ref.shape[0] - max(-q[0], 0) or None,
              max(-q[1], 0):ref.shape[1] - max(-q[1], 0) or None]
    np.testing.assert_array_equal(z, ref[:z.shape[0], :z.shape[1]])
    assert z.shape == (layer.axes[0].padded, layer.axes[1].padded)
    assert (z[kind != F.INPUT] == 0).all()
    assert (kind == F.INPUT).sum() <= x.size
    # correlating it with the flipped kernel (dilated) is the engine's transposed convolution
    wd = np.zeros(((w.shape[0] - 1) * d + 1, (w.shape[1] - 1) * d + 1))
    wd[::d, ::d] = w[::-1, ::-1]
    np.testing.assert_allclose(sps.correlate2d(z, wd, mode="valid"), out, atol=1e-4)


@pytest.mark.parametrize("case", TRANSPOSED)
def test_zero_insertion_windows_and_equations_are_the_engines(case):
    x, w, layer, out, _ = _transposed(case)
    anim = F.zero_insertion(x, w, layer, out)
    fig = _valid(anim, 1)
    z, _ = F.zero_inserted(x, layer)
    from conv.geometry import Windows

    win = Windows(z.shape, w.shape, (1, 1), (layer.axes[0].dilation, layer.axes[1].dilation))
    assert anim.n_steps == len(fig["frames"]) == out.size
    zb, ob = _box(anim, "zero-inserted"), _box(anim, "output")
    for k, step in enumerate(anim.steps):
        i, j = divmod(k, out.shape[1])
        assert step.rows == tuple(win.rows(i)) and step.cols == tuple(win.cols(j))
        shapes, notes = _state(fig, k)
        drawn = _rects(shapes[0])
        assert _cell(ob, i, j) in drawn
        if layer.axes[0].dilation == layer.axes[1].dilation == 1:
            assert tuple(round(float(v), 3) for v in zb.corners(
                step.rows[0], step.rows[-1] + 1, step.cols[0], step.cols[-1] + 1)) in drawn
        text = notes[1]["text"]
        pairs = _products(text)
        assert len(pairs) == w.size  # every product, zeros included
        assert [b for _, b in pairs] == list(w[::-1, ::-1].ravel())
        assert [a for a, _ in pairs] == list(z[np.ix_(step.rows, step.cols)].ravel())
        assert sum(a * b for a, b in pairs) == pytest.approx(out[i, j], abs=1e-3)
        assert text.rsplit("= ", 1)[1] == A.fmt(out[i, j])


def test_stamps_and_zero_insertion_say_input_and_output_apart():
    x, w, layer, out, _ = _transposed("conv_arithmetic")
    for anim in (F.transposed_stamps(x, w, layer, out), F.zero_insertion(x, w, layer, out)):
        texts = " ".join(t["text"] for t in anim.scene.static_texts)
        assert "INPUT" in texts and "OUTPUT (5 x 5)" in texts
        assert "(3 - 1)*2 - 2*1 + 1*(3 - 1) + 0 + 1 = 5" in texts
        colours = {g.name: g.colorscale[-1][1] for g in anim.scene.grids}
        outputs = [c for n, c in colours.items() if n.startswith("output")]
        inputs = [c for n, c in colours.items() if n in ("input", "zero-inserted")]
        assert inputs and outputs and not set(inputs) & set(outputs)


# --------------------------------------------------------------------------------------------
# 1-D and causal
# --------------------------------------------------------------------------------------------

ONE_D = {
    "causal": {"padding": "causal", "stride": 1, "dilation": 1},
    "causal_dilated": {"padding": "causal", "stride": 1, "dilation": 2},
    "same_even": {"padding": "same", "stride": 1, "dilation": 1},
    "valid_stride": {"padding": "valid", "stride": 2, "dilation": 1},
    "full": {"padding": "full", "stride": 1, "dilation": 1},
    "custom": {"padding": 2, "stride": 3, "dilation": 1},
}


@pytest.mark.parametrize("case", ONE_D)
def test_1d_frames_windows_and_products_are_the_engines(case):
    c = ONE_D[case]
    x = np.array([0, 1, 3, -2, 0.5, 4, 4, 2, 0, -1, 1], np.float32)
    w = np.array([0.25, 0.5, 0.25, 1] if case == "same_even" else [1, -2, 0.5], np.float32)
    layer = conv_geometry(x.shape, w.shape, **c)
    out = ops.conv1d(x[None], w[None, None], **c)[0]
    word = c["padding"] if isinstance(c["padding"], str) else ""
    anim = F.conv1d_animation(x, w, layer, out, padding_word=word)
    fig = _valid(anim, 2)
    (a,) = layer.axes
    assert anim.n_steps == len(fig["frames"]) == out.size
    sig = _box(anim, "signal")
    anchor = F.output_anchor(layer)
    outb = _box(anim, "output")
    padded = np.pad(x, (a.before, a.after))
    for k, step in enumerate(anim.steps):
        assert step.taps == tuple(a.taps(k))
        shapes, notes = _state(fig, k)
        drawn = _rects(shapes[1])
        assert {_cell(sig, 0, t) for t in step.taps} <= drawn
        assert _cell(outb, 0, k * a.stride + anchor) in drawn
        symbolic, numeric = notes[1]["text"].split("<br>")
        assert symbolic.startswith(f"y[{k}] = x[{step.taps[0] - a.before}]·w[0]")
        pairs = _products(numeric)
        assert [p for p, _ in pairs] == list(padded[list(step.taps)])
        assert [q for _, q in pairs] == list(w)
        assert sum(p * q for p, q in pairs) == pytest.approx(out[k], abs=1e-4)
        assert numeric.rsplit("= ", 1)[1] == A.fmt(out[k])
        # the kernel strip under the window: the weights at the taps, blank elsewhere
        kstrip = [n["text"] for n in notes[2:2 + padded.size]]
        assert [kstrip[t] for t in step.taps] == [A.fmt(v) for v in w]
        assert sum(1 for t in kstrip if t) == w.size


def test_causal_padding_is_the_past_only():
    x = np.arange(1, 9, dtype=np.float32)
    w = np.array([1, 2, 3], np.float32)
    layer = conv_geometry(x.shape, w.shape, padding="causal", dilation=2)
    out = ops.conv1d(x[None], w[None, None], padding="causal", dilation=2)[0]
    anim = F.conv1d_animation(x, w, layer, out, padding_word="causal")
    zeros = next(g for g in anim.scene.grids if g.name == "signal zeros")
    pad_cells = np.flatnonzero(np.isfinite(zeros.z[0]))
    assert list(pad_cells) == [0, 1, 2, 3]  # d*(k - 1) = 4 before, none after
    assert anim.scene.grids[0].z.shape[1] == x.size + 4
    # y[t] sits under x[t]: its window's last tap
    for k, step in enumerate(anim.steps):
        assert step.taps[-1] == k + 4
    texts = " ".join(t["text"] for t in anim.scene.static_texts)
    assert "the past" in texts and "(8 + 4 + 0 - 5) / 1 + 1 = 8" in texts


# --------------------------------------------------------------------------------------------
# im2col
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("c,n,k,s,p,d", [(1, 5, 3, 1, 0, 1), (2, 4, 2, 1, 1, 1),
                                         (1, 6, 3, 2, 1, 1), (1, 5, 2, 1, 0, 2)])
def test_im2col_one_column_per_window(c, n, k, s, p, d):
    rng = np.random.default_rng(n * k)
    x = rng.integers(0, 4, (c, n, n)).astype(np.float32)
    w = rng.integers(-1, 3, (c, k, k)).astype(np.float32)
    layer = conv_geometry((n, n), (k, k), stride=s, padding=p, dilation=d)
    matrix = ops.im2col(x, (k, k), stride=s, padding=p, dilation=d)
    out = ops.conv2d(x, w[None], stride=s, padding=p, dilation=d)[0]
    anim = F.im2col_animation(x, w, layer, matrix, out)
    fig = _valid(anim, 1)
    win = layer.windows
    ho, wo = layer.out_shape
    assert anim.n_steps == len(fig["frames"]) == matrix.shape[1] == ho * wo
    assert matrix.shape[0] == c * k * k
    mx, yr = _box(anim, "patch matrix"), _box(anim, "output row")
    inp = _box(anim, "input 0")
    texts = " ".join(t["text"] for t in anim.scene.static_texts)
    assert f"{c}*{k}*{k} x {ho * wo} = {c * k * k} x {ho * wo}" in texts
    assert f"1 x {c * k * k}" in texts and f"→ {ho} x {wo}" in texts
    for l, step in enumerate(anim.steps):
        i, j = divmod(l, wo)
        assert step.rows == tuple(win.rows(i)) and step.cols == tuple(win.cols(j))
        np.testing.assert_array_equal(step.column, matrix[:, l])
        shapes, notes = _state(fig, l)
        drawn = _rects(shapes[0])
        assert tuple(round(float(v), 3) for v in mx.corners(0, c * k * k, l, l + 1)) in drawn
        assert _cell(yr, 0, l) in drawn
        if d == 1:
            assert tuple(round(float(v), 3) for v in inp.corners(
                step.rows[0], step.rows[-1] + 1, step.cols[0], step.cols[-1] + 1)) in drawn
        # the columns not built yet are hidden
        masks = _rects(shapes[1])
        if l + 1 < ho * wo:
            assert tuple(round(float(v), 3) for v in mx.corners(0, c * k * k, l + 1,
                                                                 ho * wo)) in masks
        pairs = _products(notes[1]["text"].split("<br>", 1)[1])
        assert [a for a, _ in pairs] == list(w.ravel())
        assert [b for _, b in pairs] == list(matrix[:, l])
        assert sum(a * b for a, b in pairs) == pytest.approx(out[i, j], abs=1e-3)
        assert notes[1]["text"].endswith(f"= {A.fmt(out[i, j])} → output row {i + 1}, col {j + 1}")


# --------------------------------------------------------------------------------------------
# Backpropagation
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,k,s,p,d", [(4, 3, 1, 0, 1), (5, 3, 2, 1, 1), (4, 2, 1, 1, 2),
                                       (6, 3, 2, 0, 1)])
def test_gradients_step_by_step_are_conv2d_grads(n, k, s, p, d):
    rng = np.random.default_rng(n + 10 * k + 100 * s)
    x = rng.integers(0, 4, (n, n)).astype(np.float32)
    w = rng.integers(-1, 3, (k, k)).astype(np.float32)
    layer = conv_geometry(x.shape, w.shape, stride=s, padding=p, dilation=d)
    g = rng.integers(-2, 3, layer.out_shape).astype(np.float32)
    gx, gw, _ = ops.conv2d_grad(x[None], w[None, None], g[None], stride=s, padding=p,
                                dilation=d)
    # dL/dw: one frame per weight, the cells its tap read in the forward pass
    anim = F.weight_grad_animation(x, g, layer, gw[0, 0])
    fig = _valid(anim)
    assert anim.n_steps == len(fig["frames"]) == k * k
    win = layer.windows
    xb, wb = _box(anim, "input"), _box(anim, "dL/dw")
    xp = np.pad(x, layer.padding)
    for t, step in enumerate(anim.steps):
        ky, kx = divmod(t, k)
        assert step.rows == tuple(int(win.rows(i)[ky]) for i in range(g.shape[0]))
        assert step.cols == tuple(int(win.cols(j)[kx]) for j in range(g.shape[1]))
        shapes, notes = _state(fig, t)
        assert _cell(wb, ky, kx) in _rects(shapes[0])
        pairs = _products(notes[1]["text"])
        assert [a for a, _ in pairs] == list(g.ravel())
        assert [b for _, b in pairs] == list(xp[np.ix_(step.rows, step.cols)].ravel())
        assert sum(a * b for a, b in pairs) == pytest.approx(gw[0, 0, ky, kx], abs=1e-3)
        assert notes[1]["text"].rsplit("= ", 1)[1] == A.fmt(gw[0, 0, ky, kx])
    assert xb.h == xp.shape[0]
    # dL/dx: the zero-insertion view of dL/dy through the adjoint geometry
    adj = adjoint_geometry(layer)
    anim = F.zero_insertion(g, w, adj, gx[0], names=F.Names("grad", "dL/dy", "dL/dx"))
    fig = _valid(anim)
    assert anim.n_steps == len(fig["frames"]) == x.size
    assert adj.out_shape == x.shape
    for t, step in enumerate(anim.steps):
        _, notes = _state(fig, t)
        pairs = _products(notes[1]["text"])
        assert sum(a * b for a, b in pairs) == pytest.approx(gx[0].ravel()[t], abs=1e-3)


# --------------------------------------------------------------------------------------------
# Groups, and the machinery
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("c_in,c_out,g", [(4, 4, 1), (4, 8, 2), (6, 6, 6), (6, 12, 3),
                                          (8, 4, 4)])
def test_groups_connections(c_in, c_out, g):
    m = F.connections(c_in, c_out, g)
    assert m.shape == (c_out, c_in)
    # each filter sees c_in / g channels, all of one group; each channel feeds c_out / g filters
    assert ((m >= 0).sum(axis=1) == c_in // g).all()
    assert ((m >= 0).sum(axis=0) == c_out // g).all()
    for o in range(c_out):
        seen = np.flatnonzero(m[o] >= 0)
        assert (seen // (c_in // g) == o // (c_out // g)).all()
    fig = F.groups_figure(c_in, c_out, g)
    go.Figure(fig.to_dict())
    assert np.asarray(fig.data[0].z).shape == (c_out, c_in)


def test_groups_refuse_a_count_that_does_not_divide():
    with pytest.raises(ValueError, match="must divide"):
        F.connections(4, 6, 4)


def test_costs_are_conv_shapes_counts():
    from ui import family_view as fv

    rows = fv.costs(32, 64, 3, 112, 2)
    assert rows[0].p_value == conv_params(3, 3, 32, 64).value
    assert rows[0].m_value == conv_macs(112, 112, 3, 3, 32, 64).value
    assert rows[1].p_value == conv_params(3, 3, 32, 64, groups=2).value
    dw = conv_macs(112, 112, 3, 3, 32, 32, groups=32).value
    pw = conv_macs(112, 112, 1, 1, 32, 64).value
    assert rows[-1].m_value == dw + pw
    assert rows[-1].m_value / rows[0].m_value == pytest.approx(1 / 64 + 1 / 9)
    assert "((3*3*32/1) + 1) * 64 = 18,496" == rows[0].params


def test_checkerboard_overlaps_from_the_geometry():
    from ui import family_view as fv

    assert sorted(fv.overlaps(3, 2, 1, 1)) == [1, 2]
    assert fv.overlaps(4, 2, 1, 0) == [2, 2]


def test_frames_are_small_and_gif_has_a_frame_per_step():
    x, w, layer, out, _ = _transposed("output_padding")
    anim = F.zero_insertion(x, w, layer, out)
    import plotly.io as pio

    assert len(pio.to_json(anim.spec(0), validate=False)) < 200_000
    import io

    from PIL import Image

    im = Image.open(io.BytesIO(anim.gif()))
    assert im.n_frames == anim.n_steps


def test_half_look_is_half_as_wide():
    assert F.half_look(A.NORMAL).width_px < A.NORMAL.width_px / 2


def test_stamps_and_zero_insertion_agree_with_the_engine_on_random_layers():
    """Sixty random transposed layers (rectangular inputs and kernels, every stride, padding,
    output_padding and dilation the geometry allows): both views end with the engine's output."""
    rng = np.random.default_rng(2026)
    seen = 0
    while seen < 60:
        n = tuple(int(v) for v in rng.integers(1, 5, 2))
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s, d = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        p, op = int(rng.integers(0, 4)), int(rng.integers(0, 3))
        try:
            layer = transposed_geometry(n, k, stride=s, padding=p, output_padding=op,
                                        dilation=d)
        except ValueError:
            continue
        seen += 1
        x = rng.integers(-3, 4, n).astype(np.float32)
        w = rng.integers(-3, 4, k).astype(np.float32)
        out = ops.conv_transpose2d(x[None], w[None, None], stride=s, padding=p,
                                   output_padding=op, dilation=d)[0]
        canvas = F.stamp_steps(x, w, layer)[-1].canvas
        top, left = layer.axes[0].before, layer.axes[1].before
        ho, wo = layer.out_shape
        np.testing.assert_allclose(canvas[top:top + ho, left:left + wo], out, atol=1e-4)
        steps = F.zero_insertion_steps(x, w, layer, out)
        sums = [float((st.values * st.weights).sum()) for st in steps]
        np.testing.assert_allclose(np.reshape(sums, out.shape), out, atol=1e-4)
