"""The sliding-window animation, asserted on the figure objects.

Each frame's window must be the engine's window (``conv.ops.Windows``), each frame's equation
must evaluate to the engine's output for that cell, and the padding cells must be marked exactly
where the padding is.
"""

import io
import json
import math
import re
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from PIL import Image

from conv import examples, ops, stages
from conv.stages import ConvSpec, PoolSpec
from kernels import library
from viz import animation as A

# --------------------------------------------------------------------------------------------
# helpers: the figure's state at a frame, parsed back
# --------------------------------------------------------------------------------------------


def _state(fig_dict: dict, k: int) -> tuple[list[dict], list[dict]]:
    """Shapes and annotations after frame ``k`` is applied (plotly merges frame items by index)."""
    shapes = [dict(s) for s in fig_dict["layout"]["shapes"]]
    notes = [dict(a) for a in fig_dict["layout"]["annotations"]]
    frame = fig_dict["frames"][k]
    assert frame["name"] == str(k)
    for i, s in enumerate(frame["layout"].get("shapes", [])):
        shapes[i].update(s)
    for i, a in enumerate(frame["layout"].get("annotations", [])):
        notes[i].update(a)
    return shapes, notes


def _trace(fig_dict: dict, name: str) -> dict:
    return next(t for t in fig_dict["data"] if t.get("name") == name)


def _z(trace: dict) -> np.ndarray:
    z = trace["z"]
    if isinstance(z, dict):  # plotly's base64 typed array
        import base64

        raw = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        shape = z.get("shape", [raw.size])
        return raw.reshape(shape if isinstance(shape, (list, tuple))
                           else [int(v) for v in shape.split(",")])
    return np.asarray(z, dtype=np.float64)


NUM = r"\(?(-?[\d.]+|−∞)\)?"


def _num(text: str) -> float:
    text = text.strip().strip("()")
    return -math.inf if text in ("−∞", "-∞") else float(text)


def _check_equation(text: str, step: A.ConvStep):
    """Evaluate a frame's equation and compare each result with the engine's value."""
    lines = text.split("<br>")
    product_lines = [ln for ln in lines if A.TIMES in ln]
    total = 0.0
    tol = 0.0
    for ln in product_lines:
        pairs = re.findall(NUM + A.TIMES + NUM, ln)
        assert pairs, ln
        row = sum(_num(a) * _num(b) for a, b in pairs)
        total += row
        # a weight printed with 4 decimals (1/9 -> 0.1111) is off by at most 5e-5
        tol += sum(abs(_num(a)) for a, _ in pairs) * 5e-5
        if ": " in ln:  # a channel's partial sum
            assert abs(row - float(ln.rsplit("= ", 1)[1])) <= tol + 1e-4
    n_products = sum(len(re.findall(NUM + A.TIMES + NUM, ln)) for ln in product_lines)
    assert n_products == step.values.size  # every multiplication is shown
    # the value after the last "=" of the sum is the engine's conv output, as printed
    sum_line = next(ln for ln in lines if ln.startswith("sum: ")) if step.values.shape[0] > 1 \
        else product_lines[-1]
    shown = sum_line.rsplit("= ", 1)[1]
    assert shown == A.fmt(step.conv)
    assert abs(total - step.conv) <= tol + 1e-4 + 1e-6 * abs(step.conv)
    rest = lines[lines.index(sum_line) + 1:]
    if step.biased is not None:
        m = re.fullmatch(r"(\S+) \+ (\S+) \(bias\) = (\S+)", rest.pop(0))
        assert m, text
        a, b, c = (_num(g) for g in m.groups())
        assert abs(a + b - c) <= 1e-3 and m.group(3) == A.fmt(step.biased)
    if step.activated is not None:
        m = re.match(r"(\w+)\((\S+)\) = (\S+)", rest.pop(0))
        assert m and m.group(1) == step.activation and m.group(3) == A.fmt(step.activated)
    assert not rest


CONFIGS = {
    "edge": (lambda: examples.get("edge_6x6").input_array, examples.get("edge_6x6").spec),
    "blur": (lambda: examples.get("blur_5x5").input_array, examples.get("blur_5x5").spec),
    "stride": (lambda: examples.get("pad1_stride2").input_array,
               examples.get("pad1_stride2").spec),
    "volume": (lambda: examples.get("volume_6x6x3").input_array,
               examples.get("volume_6x6x3").spec),
    "reflect_dilated": (
        lambda: np.arange(49, dtype=np.float32).reshape(1, 7, 7),
        ConvSpec.from_kernel(library.get("sobel_x").weights, padding=2, padding_mode="reflect",
                             dilation=2),
    ),
    "same_box_bias_relu": (
        lambda: np.random.default_rng(3).integers(-9, 10, (1, 5, 6)).astype(np.float32),
        ConvSpec.from_kernel(library.get("box").weights, padding="same", bias=(-2.5,),
                             activation="relu"),
    ),
    "flip_stride_asym": (
        lambda: np.random.default_rng(4).integers(0, 9, (1, 6, 7)).astype(np.float32),
        ConvSpec.from_kernel([[1, 2, 3], [4, 5, 6]], padding=((0, 1), (2, 0)), stride=(1, 2),
                             flip=True, activation="leaky_relu", negative_slope=0.1),
    ),
}


@pytest.fixture(scope="module", params=list(CONFIGS))
def case(request):
    make_x, spec = CONFIGS[request.param]
    x = make_x()
    run = stages.run(x, spec)
    anim = A.conv_animation(run, spec)
    return request.param, x, spec, run, anim, anim.figure(0).to_dict()


# --------------------------------------------------------------------------------------------
# frames = output cells, windows = the engine's, equations = the engine's values
# --------------------------------------------------------------------------------------------


def test_frame_count_is_the_number_of_output_cells(case):
    _, _, _, run, anim, fig = case
    assert len(fig["frames"]) == run.conv.array.size == anim.n_steps
    assert [f["name"] for f in fig["frames"]] == [str(k) for k in range(anim.n_steps)]


def test_each_frames_window_is_the_engines_window(case):
    _, _, spec, run, anim, fig = case
    padded = run.padded.array
    w = A.applied_weights(spec)
    win = ops.Windows(padded.shape[1:], w.shape[2:], spec.stride, spec.dilation)
    boxes = {c: _trace(fig, f"input {c}") for c in range(padded.shape[0])}
    dilated = spec.dilation != (1, 1)
    k = 0
    for o in range(w.shape[0]):
        for i in range(win.out_hw[0]):
            for j in range(win.out_hw[1]):
                shapes, _ = _state(fig, k)
                rects = A.path_rects(shapes[0]["path"])
                expected = []
                for c in range(padded.shape[0]):
                    x0, y0 = boxes[c]["x0"] - 0.5, boxes[c]["y0"] - 0.5
                    rows, cols = win.rows(i), win.cols(j)
                    if dilated:  # only the sampled cells are marked
                        expected += [(x0 + q + 0.08, y0 + r + 0.08, x0 + q + 0.92, y0 + r + 0.92)
                                     for r in rows for q in cols]
                    else:
                        expected.append((x0 + cols[0], y0 + rows[0], x0 + cols[-1] + 1,
                                         y0 + rows[-1] + 1))
                out = _trace(fig, f"output {o}")
                ox, oy = out["x0"] - 0.5, out["y0"] - 0.5
                expected.append((ox + j, oy + i, ox + j + 1, oy + i + 1))  # the output cell
                np.testing.assert_allclose(rects, expected, atol=1e-3)
                step = anim.steps[k]
                assert (step.filter, step.row, step.col) == (o, i, j)
                assert step.rows == tuple(win.rows(i)) and step.cols == tuple(win.cols(j))
                k += 1
    assert k == anim.n_steps


def test_each_frames_equation_evaluates_to_the_engines_output(case):
    _, _, _, run, anim, fig = case
    for k, step in enumerate(anim.steps):
        _, notes = _state(fig, k)
        _check_equation(notes[1]["text"], step)
        assert step.conv == run.conv.array[step.filter, step.row, step.col]
        assert step.output == run.output.array[step.filter, step.row, step.col]
        assert notes[0]["text"].startswith(f"Step {k + 1} of {anim.n_steps}")


def test_padding_cells_are_marked_exactly_where_padding_is(case):
    _, x, _, run, _, fig = case
    (t, _), (l, _) = run.padding
    hp, wp = run.padded.array.shape[1:]
    pad_mask = np.ones((hp, wp), bool)
    pad_mask[t:t + x.shape[1], l:l + x.shape[2]] = False
    for c in range(x.shape[0]):
        image = _trace(fig, f"input {c}")
        assert np.array_equal(np.isnan(_z(image)), pad_mask)
        if not pad_mask.any():
            assert not any(t_["name"] == f"padding {c}" for t_ in fig["data"])
            continue
        padding = _trace(fig, f"padding {c}")
        assert np.array_equal(~np.isnan(_z(padding)), pad_mask)
        if "text" in padding:  # the padding's own values (zeros, reflected, ...), in italics
            assert padding["textfont"]["style"] == "italic"
            for i in range(hp):
                for j in range(wp):
                    if pad_mask[i, j]:
                        assert float(padding["text"][i][j]) == pytest.approx(
                            run.padded.array[c, i, j], abs=0.01)
                    else:
                        assert padding["text"][i][j] == ""


def test_output_fills_in_cell_by_cell(case):
    """Masks hide exactly the cells not computed yet, in raster order, filter by filter."""
    _, _, _, run, anim, fig = case
    n_masks = 2 * run.conv.array.shape[0]
    for k in (0, anim.n_steps // 2, anim.n_steps - 1):
        shapes, _ = _state(fig, k)
        masks = shapes[len(anim.scene.dyn_shapes) - n_masks:len(anim.scene.dyn_shapes)]
        hidden = 0.0
        for m in masks:
            hidden += abs(m["x1"] - m["x0"]) * abs(m["y1"] - m["y0"])
        assert hidden == pytest.approx(anim.n_steps - 1 - k)


def test_click_targets_are_one_per_output_cell_in_step_order(case):
    _, _, _, _, anim, fig = case
    click = _trace(fig, "output cells")
    xs = _z({"z": click["x"]}) if isinstance(click["x"], dict) else np.asarray(click["x"])
    ys = _z({"z": click["y"]}) if isinstance(click["y"], dict) else np.asarray(click["y"])
    assert len(xs) == anim.n_steps
    for k, step in enumerate(anim.steps):
        out = _trace(fig, f"output {step.filter}")
        assert xs[k] == pytest.approx(out["x0"] + step.col)
        assert ys[k] == pytest.approx(out["y0"] + step.row)


def test_frames_move_only_shapes_and_text(case):
    *_, fig = case
    for f in fig["frames"]:
        # no trace data: listing a trace makes plotly.js drop the heatmaps (see figure._frames)
        assert set(f) == {"name", "layout"}
        assert set(f["layout"]) <= {"shapes", "annotations"}
        for a in f["layout"]["annotations"]:
            assert set(a) == {"text"}
    play = fig["layout"]["updatemenus"][1]["buttons"]
    # "Fast" never redraws (the frame-rate budget); the slower speeds redraw after each frame
    assert [b["args"][1]["frame"]["redraw"] for b in play] == [True, True, False]
    steps = fig["layout"]["updatemenus"][0]["buttons"]
    for b in steps:  # every button that stops on a frame redraws: output-cell clicks keep working
        frame = b["args"][1]["frame"]
        assert all(f["redraw"] for f in (frame if isinstance(frame, list) else [frame]))
    assert all(st["args"][1]["frame"]["redraw"] for st in fig["layout"]["sliders"][0]["steps"])


def test_figure_opened_at_a_step_shows_that_step(case):
    *_, anim, _ = case
    k = anim.n_steps - 2
    fig = anim.figure(k).to_dict()
    n_dyn = len(anim.scene.dyn_shapes)
    assert fig["layout"]["shapes"][:n_dyn] == anim.shapes_at(k)
    assert fig["layout"]["annotations"][1]["text"] == "<br>".join(anim.steps[k].equation)
    slider = fig["layout"]["sliders"][0]
    assert slider["active"] == k
    assert fig["frames"] is not anim.frames and fig["frames"] == anim.frames


def test_spec_is_the_figure_as_json_ready_data(case):
    *_, anim, _ = case
    import orjson

    for k in (0, anim.n_steps // 2, anim.n_steps - 1):
        spec = anim.spec(k)
        assert json.loads(pio.to_json(spec, validate=False)) == json.loads(
            pio.to_json(anim.figure(k), validate=False))
        orjson.dumps(spec)  # JSON types only: plotly's fast path, no cleaning
        # the traces and frames are the animation's, shared by every step's spec
        assert spec["data"] is anim.data_spec and spec["frames"] is anim.frames


def test_figure_is_valid_for_plotly():
    ex = examples.get("volume_6x6x3")
    run = stages.run(ex.input_array, ex.spec)
    d = A.conv_animation(run, ex.spec, classroom=True).figure(3).to_dict()
    go.Figure(d)  # full validation of data, layout and every frame: raises on a bad attribute


# --------------------------------------------------------------------------------------------
# step buttons: a model of plotly.js's animate(list, {fromcurrent: true})
# --------------------------------------------------------------------------------------------


def _animate(items: list, current: str | None, hold: tuple[int, ...] = (1,)) -> str | None:
    """plotly.js 3 ``animate``: with ``fromcurrent``, the items after the current frame's first
    position E when 0 < E < len - 1, else all; the queue stops at the first held position."""
    named = [i for i, it in enumerate(items) if isinstance(it, str)]
    e = next((i for i in named if items[i] == current), -1) if current is not None else -1
    if 0 < e < len(items) - 1:
        items = [it for i, it in enumerate(items) if not isinstance(it, str) or i > e]
    shown = current
    for pos, it in enumerate(items):
        shown = it if isinstance(it, str) else None  # an object frame clears the current name
        if pos in hold:
            return shown
    return shown


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16])
def test_step_buttons_move_exactly_one_frame_from_anywhere(n):
    for start in range(n):
        fwd, back = A.step_chain(n, start, True), A.step_chain(n, start, False)
        assert fwd[0] == {} and back[0] == {}
        # a figure just drawn at `start` has no current frame
        assert _animate(fwd, None) == str(min(start + 1, n - 1))
        assert _animate(back, None) == str(max(start - 1, 0))
        for cur in range(n):
            assert _animate(fwd, str(cur)) == str(min(cur + 1, n - 1))
            assert _animate(back, str(cur)) == str(max(cur - 1, 0))


def test_step_button_lists_stay_short():
    assert len(A.step_chain(1024, 0, True)) <= 1024 + 3
    assert len(A.step_chain(1024, 500, False)) <= 1024 + 4


# --------------------------------------------------------------------------------------------
# budgets, classroom sizes, pooling, GIF
# --------------------------------------------------------------------------------------------


def test_32x32_patch_animation_fits_the_json_budget():
    x = np.random.default_rng(0).integers(0, 256, (1, 32, 32)).astype(np.float32)
    spec = ConvSpec.from_kernel(library.get("gaussian_3x3").weights, padding=1)
    anim = A.conv_animation(stages.run(x, spec), spec)
    fig = anim.figure(0)
    assert len(fig.to_dict()["frames"]) == 1024
    assert len(pio.to_json(fig, validate=False).encode()) <= 500_000
    assert len(pio.to_json(anim.spec(0), validate=False).encode()) <= 500_000
    slider = fig.to_dict()["layout"]["sliders"][0]["steps"]
    assert len(slider) == 342  # every 3rd step past 400: the step buttons reach the others


@pytest.mark.parametrize("padding", [0, 1])
def test_classroom_cell_numbers_are_at_least_24px_up_to_8x8(padding):
    x = np.random.default_rng(1).integers(0, 256, (1, 8, 8)).astype(np.float32)
    spec = ConvSpec.from_kernel(library.get("gaussian_3x3").weights, padding=padding)
    fig = A.conv_animation(stages.run(x, spec), spec, classroom=True).figure(0).to_dict()
    for t in fig["data"]:
        if t["type"] == "heatmap":
            assert t["textfont"]["size"] >= 24, t["name"]
    assert fig["layout"]["annotations"][0]["font"]["size"] >= 36  # the step, from the back
    for ex in ("edge_6x6", "blur_5x5", "pad1_stride2", "volume_6x6x3"):
        e = examples.get(ex)
        d = A.conv_animation(stages.run(e.input_array, e.spec), e.spec,
                             classroom=True).figure(0).to_dict()
        assert min(t["textfont"]["size"] for t in d["data"] if t["type"] == "heatmap") >= 24, ex


def test_pool_animation_windows_and_equations():
    pre = np.random.default_rng(2).normal(size=(2, 5, 5)).astype(np.float32)
    for pool in (PoolSpec(2, mode="max"), PoolSpec(3, stride=2, padding=1, mode="avg"),
                 PoolSpec(3, stride=1, padding=1, mode="max")):
        pooled = ops.pool2d(pre, pool.kernel_size, pool.effective_stride, pool.padding,
                            mode=pool.mode)
        anim = A.pool_animation(pre, pool, pooled)
        fig = anim.figure(0).to_dict()
        assert len(fig["frames"]) == pooled.size
        padded = A.pool_padded(pre, pool)
        win = ops.Windows(padded.shape[1:], pool.kernel_size, pool.effective_stride, (1, 1))
        for k, step in enumerate(anim.steps):
            assert step.rows == tuple(win.rows(step.row)) and step.cols == tuple(win.cols(step.col))
            shapes, notes = _state(fig, k)
            m = _trace(fig, f"map {step.channel}")
            x0, y0 = m["x0"] - 0.5, m["y0"] - 0.5
            window = A.path_rects(shapes[0]["path"])[0]
            assert window == pytest.approx((x0 + step.cols[0], y0 + step.rows[0],
                                            x0 + step.cols[-1] + 1, y0 + step.rows[-1] + 1))
            eq = notes[1]["text"]
            vals = [_num(v) for v in re.findall(r"(−∞|-?[\d.]+)", eq.split("=")[0])]
            if pool.mode == "max":
                assert eq.startswith("max(")
                assert max(vals) == pytest.approx(step.result, abs=1e-4)
            else:
                *vals, div = vals
                assert div == pool.kernel_size[0] * pool.kernel_size[1]
                assert sum(vals) / div == pytest.approx(step.result, abs=1e-3)
            assert eq.rsplit("= ", 1)[1] == A.fmt(pooled[step.channel, step.row, step.col])
        if pool.padding != (0, 0) and pool.mode == "max":
            assert A.MINUS_INF in json.dumps(fig["data"], ensure_ascii=False)


def test_pool_example_of_the_notes():
    ex = examples.get("pool_4x4")
    pooled = ops.pool2d(ex.input_array, 2, 2, mode="max")
    anim = A.pool_animation(ex.input_array, ex.pool, pooled)
    assert [s.equation[0] for s in anim.steps] == [
        "max(1, 1, 5, 6) = 6", "max(2, 4, 7, 8) = 8", "max(3, 2, 1, 2) = 3", "max(1, 0, 3, 4) = 4"]


def test_gif_has_one_frame_per_step_up_to_the_limit():
    ex = examples.get("edge_6x6")
    anim = A.conv_animation(stages.run(ex.input_array, ex.spec), ex.spec, classroom=True)
    data = anim.gif()
    assert data[:6] == b"GIF89a"
    with Image.open(io.BytesIO(data)) as im:
        assert im.n_frames == 16
    with Image.open(io.BytesIO(anim.gif(max_frames=5))) as im:
        assert im.n_frames == 5


def test_too_many_channels_is_a_clear_error():
    x = np.zeros((5, 4, 4), np.float32)
    spec = ConvSpec(weight=np.zeros((1, 5, 3, 3)))
    with pytest.raises(ValueError, match="at most 4 input channels"):
        A.conv_animation(stages.run(x, spec), spec)


@pytest.mark.parametrize("value, text", [
    (177.75, "177.75"), (30.0, "30"), (-0.0, "0"), (1 / 9, "0.1111"), (np.float32(1 / 9), "0.1111"),
    (-1.0, "-1"), (216.4375, "216.4375"), (-math.inf, "−∞"), (1e-6, "0"),
])
def test_fmt(value, text):
    assert A.fmt(value) == text


def test_blur_first_equation_is_the_notes_one():
    ex = examples.get("blur_5x5")
    steps = A.conv_steps(stages.run(ex.input_array, ex.spec), ex.spec)
    eq = steps[0].equation
    assert eq[0].startswith("  206×0.0625 + 205×0.125 ")
    assert eq[-1].endswith("75×0.0625 = 177.75")


# --------------------------------------------------------------------------------------------
# Fitted to a screen (the room the browser measured)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("classroom, width, height", [
    (False, 900, 470),    # 1280 x 720 with the sidebar open
    (True, 1200, 500),    # 1280 x 720 projector, sidebar folded
    (False, 1500, 800),   # 1920 x 1080
    (True, 1800, 820),
    (False, 358, 506),    # a 390 x 844 phone
])
def test_a_fitted_figure_fits_its_room_and_uses_its_width(classroom, width, height):
    ex = examples.EXAMPLES["edge_6x6"]
    run = stages.run(ex.input_array, ex.spec)
    look = A.fit_look(A.look_for(classroom), width, height)
    layout = A.conv_animation(run, ex.spec, look=look).layout(0)
    assert layout["height"] <= height + 12  # buttons and slider on the screen
    used = layout["meta"]["width_px"]
    assert used <= width
    # the width or the height is used up (one of them binds)
    assert used >= 0.8 * width or layout["height"] >= 0.85 * height


def test_on_a_phone_the_play_buttons_take_a_row_of_their_own():
    ex = examples.EXAMPLES["edge_6x6"]
    run = stages.run(ex.input_array, ex.spec)
    narrow = A.conv_animation(run, ex.spec, look=A.fit_look(A.NORMAL, 358, 506)).layout(0)
    wide = A.conv_animation(run, ex.spec, look=A.fit_look(A.NORMAL, 900, 470)).layout(0)
    steps, plays = narrow["updatemenus"]
    assert plays["x"] == steps["x"] == 0 and plays["xanchor"] == "left"
    assert plays["pad"]["t"] > steps["pad"]["t"] + narrow["updatemenus"][0]["font"]["size"]
    assert narrow["sliders"][0]["pad"]["t"] > plays["pad"]["t"]
    assert wide["updatemenus"][1]["xanchor"] == "right"
    assert narrow["updatemenus"][0]["font"]["size"] >= 13


def test_on_a_wide_short_screen_the_equation_goes_beside_the_grids():
    ex = examples.EXAMPLES["edge_6x6"]
    run = stages.run(ex.input_array, ex.spec)
    below = A.conv_animation(run, ex.spec, look=A.fit_look(A.CLASSROOM, 1800, 1000))
    beside = A.conv_animation(run, ex.spec, look=A.fit_look(A.CLASSROOM, 1200, 500))
    assert beside.scene.cell_px > 1.5 * A.conv_animation(
        run, ex.spec, look=replace(A.fit_look(A.CLASSROOM, 1200, 500), eq_beside=False)
    ).scene.cell_px
    eq = beside.scene.dyn_texts[1]
    right = max(g.box.right for g in beside.scene.grids)
    assert eq["x"] > right and eq["y"] == 0.0 and eq["xanchor"] == "left"
    assert beside.scene.x_range[1] > eq["x"]  # inside the figure: plotly hides what is outside
    assert below.scene.dyn_texts[1]["y"] > max(g.box.bottom for g in below.scene.grids)
    # the same frames (texts and shapes) either way, and the GIF draws it
    assert [f["layout"]["annotations"] for f in beside.frames] == \
        [f["layout"]["annotations"] for f in below.frames]
    gif = Image.open(io.BytesIO(beside.gif(max_frames=2)))
    assert gif.n_frames == 2
