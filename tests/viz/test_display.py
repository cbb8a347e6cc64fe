"""Honest contrast and readable figures, asserted on the figure objects: colour limits at a
percentile of |x| with the clipped share stated, display reductions that keep thin edges,
figures that follow the page's style (light, dark, high contrast), numbers hidden below a
legible size with a note, kernels printed as fractions, exports for slides."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from conv import stages
from conv.comparisons import dense_vs_conv
from conv.network import analyze
from conv.network_presets import PRESETS
from conv.stages import ConvSpec, PoolSpec
from kernels import library
from kernels.text import display_kernel
from viz import animation as A
from viz import maps, slides, training
from viz.animation.steps import fit_number
from viz.network import comparison_figure, network_figure
from viz.style import DARK, DARK_HC, LIGHT, LIGHT_HC, restyle, style_for


def _luma(colour: str) -> float:
    c = colour.lstrip("#")
    r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255


def _edge_map(seed: int = 0) -> np.ndarray:
    """A Sobel-like map: most values small (texture), a few strong edges."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 20, (200, 300)).astype(np.float32)
    a[:, 150] = 775.0
    a[100, :40] = -700.0
    return a


# --------------------------------------------------------------------------------------------
# Colour limits at a percentile of |x|
# --------------------------------------------------------------------------------------------

def test_percentile_limit_is_the_999_5th_percentile_of_abs_x_and_the_share_is_exact():
    a = _edge_map()
    clip = maps.robust_clip(a)
    expected = np.percentile(np.abs(a), 99.5, method="inverted_cdf")
    assert clip.limit == pytest.approx(float(expected))
    assert clip.share == np.count_nonzero(np.abs(a) > clip.limit) / a.size
    assert 0 < clip.share <= 0.005
    assert clip.percentile == 99.5


def test_percentile_limit_from_a_sample_of_a_large_map_is_close_and_its_share_exact():
    a = np.random.default_rng(1).normal(0, 30, (1500, 1000)).astype(np.float32)  # 1.5 MP
    clip = maps.robust_clip(a)
    exact = float(np.percentile(np.abs(a), 99.5))
    assert clip.limit == pytest.approx(exact, rel=0.02)
    assert clip.share == np.count_nonzero(np.abs(a) > clip.limit) / a.size


@pytest.mark.parametrize("a", [
    np.arange(36, dtype=np.float32).reshape(6, 6) - 10,      # small: every value is seen
    np.pad(np.ones((3, 3), np.float32), 100),                 # mostly zeros: a single dot
])
def test_small_or_sparse_maps_keep_max_abs_limits(a):
    clip = maps.robust_clip(a)
    assert clip.limit == float(np.abs(a).max()) and clip.share == 0
    m = maps.map_values(a, "signed")
    assert (m.lo, m.hi) == (-clip.limit, clip.limit) and not m.clipped and "clipped" not in m.label


def test_max_limits_clip_nothing():
    a = _edge_map()
    m = maps.map_values(a, "signed", limits="max")
    assert m.hi == 775.0 and m.clipped == 0 and "max |x|" in m.label


def test_signed_label_names_the_clipped_share_the_limit_and_the_real_range():
    a = _edge_map()
    m = maps.map_values(a, "auto")
    clip = maps.robust_clip(a)
    assert m.mapping == "signed" and m.hi == pytest.approx(clip.limit) and m.lo == -m.hi
    limit = maps._fmt(m.hi)
    assert f"clipped: {maps._pct(clip.share)} % of pixels beyond ±{limit}" in m.label
    assert "99.5th percentile of |x|" in m.label
    assert f"real range {maps._fmt(a.min())} to {maps._fmt(a.max())}" in m.label
    # the clipped pixels have the end colours, the rest keep their place on the scale
    assert m.rgb[0, 150].tolist() == maps._DIVERGING_LUT[255].tolist()


def test_abs_mapping_clips_too():
    m = maps.map_values(_edge_map(), "abs")
    assert m.clipped > 0 and "clipped:" in m.clip_text and "|x| >" in m.clip_text


def test_colour_bar_states_the_clipped_share_and_the_true_min_and_max():
    a = _edge_map()
    m = maps.map_values(a, "auto")
    panel = maps.Panel("Convolution", a[None], m)
    fig = maps.compare_figure(panel, panel).to_dict()
    bar = next(t for t in fig["data"] if t.get("showscale"))["colorbar"]
    title = bar["title"]["text"]
    assert f"min {maps._fmt(a.min())}" in title and f"max {maps._fmt(a.max())}" in title
    assert f"clipped: {maps._pct(m.clipped)} %" in title and f"±{maps._fmt(m.hi)}" in title
    # the ends of the bar are limits, not values: marked as such
    assert bar["ticktext"][0].startswith("≤") and bar["ticktext"][-1].startswith("≥")
    assert bar["tickvals"][0] == m.lo and bar["tickvals"][-1] == m.hi


def test_histogram_marks_what_the_limits_clip():
    a = _edge_map()
    m = maps.map_values(a, "auto")
    svg = maps.histogram_svg(a, m)
    assert m.clip_text in svg.replace("&gt;", ">")


# --------------------------------------------------------------------------------------------
# Reducing for display keeps thin edges
# --------------------------------------------------------------------------------------------

def test_maxabs_reduce_keeps_a_one_pixel_line_that_the_mean_loses():
    a = np.zeros((1, 2048, 3072), np.float32)
    a[0, :, 1001] = 100.0   # a one-pixel vertical edge
    a[0, 700, :] = -80.0    # and a negative horizontal one
    mean = maps.reduce(a, 1024)
    kept = maps.reduce(a, 1024, "maxabs")
    assert kept.shape == (1, 683, 1024)  # blocks of 3 x 3
    assert kept.max() == 100.0 and kept.min() == -80.0  # full strength, sign kept
    assert mean.max() <= 100.0 / 2 and mean.min() >= -80.0 / 2  # averaged away
    # every screen column over the line shows it
    assert np.all(kept[0, :, 1001 // 3][np.arange(683) != 700 // 3] == 100.0)


def test_reduce_method_and_note():
    assert maps.reduce_method("signed") == maps.reduce_method("abs") == "maxabs"
    assert maps.reduce_method("clip") == maps.reduce_method("stretch") == "mean"
    note = maps.reduce_note(3000, 4000, 1024, "maxabs")
    assert note.startswith("shown at 1000 x 750 of 4000 x 3000") and "4 x 4 block" in note
    assert maps.reduce_note(300, 400, 1024, "maxabs") == ""


# --------------------------------------------------------------------------------------------
# Figures follow the page's style
# --------------------------------------------------------------------------------------------

def test_styles():
    assert style_for(None) is LIGHT and style_for("dark") is DARK
    assert style_for("dark", True) is DARK_HC and style_for("light", True) is LIGHT_HC
    for s in (DARK, DARK_HC):
        assert _luma(s.paper) < 0.15 and _luma(s.text) > 0.85
    for s in (LIGHT, LIGHT_HC):
        assert _luma(s.paper) > 0.95 and _luma(s.text) < 0.2
    assert LIGHT_HC.font(16) == 20 and LIGHT_HC.width(2) == 4


@pytest.mark.parametrize("style", [DARK, DARK_HC])
def test_dark_figures_have_dark_backgrounds_and_light_text(style):
    a = _edge_map()
    panel = maps.Panel("Convolution", a[None], maps.map_values(a, "auto"))
    figs = {
        "compare": maps.compare_figure(panel, panel, style=style).to_dict()["layout"],
        "loss": training.loss_figure([5.0, 2.0, 1.0], style=style).to_dict()["layout"],
        "evolution": training.kernel_evolution_figure(
            [(0, np.zeros((3, 3))), (5, np.eye(3))], style=style).to_dict()["layout"],
        "comparison": training.kernel_comparison_figure(np.eye(3), np.eye(3),
                                                         style=style).to_dict()["layout"],
        "network": network_figure(analyze(PRESETS["lenet5"].network),
                                  style=style).to_dict()["layout"],
        "cost": comparison_figure(dense_vs_conv(32, 32, 3, 16, f=3),
                                  style=style).to_dict()["layout"],
    }
    x = np.arange(25, dtype=np.float32).reshape(1, 5, 5)
    spec = ConvSpec.from_kernel(library.get("sobel_x").weights, padding=1)
    figs["sliding window"] = A.conv_animation(stages.run(x, spec), spec,
                                              style=style).spec(0)["layout"]
    for name, layout in figs.items():
        assert _luma(layout["paper_bgcolor"]) < 0.2, name
        assert _luma(layout["font"]["color"]) > 0.8, name
    # the data's colour scales are the same in every style
    light = maps.compare_figure(panel, panel).to_dict()
    dark = maps.compare_figure(panel, panel, style=style).to_dict()
    assert light["layout"]["images"][1]["source"] == dark["layout"]["images"][1]["source"]


def test_light_is_left_untouched_by_restyle():
    fig = comparison_figure(dense_vs_conv(32, 32, 3, 16, f=3))
    before = fig.to_json()
    assert restyle(fig, LIGHT).to_json() == before


def test_high_contrast_animation_has_thicker_lines_and_larger_type():
    x = np.arange(25, dtype=np.float32).reshape(1, 5, 5)
    spec = ConvSpec.from_kernel(library.get("sobel_x").weights, padding=1)
    run = stages.run(x, spec)
    normal = A.conv_animation(run, spec).spec(0)["layout"]
    hc = A.conv_animation(run, spec, style=LIGHT_HC).spec(0)["layout"]
    assert hc["shapes"][0]["line"]["width"] > normal["shapes"][0]["line"]["width"]
    assert hc["annotations"][0]["font"]["size"] > normal["annotations"][0]["font"]["size"]


def test_animation_gif_follows_the_style():
    x = np.arange(25, dtype=np.float32).reshape(1, 5, 5)
    spec = ConvSpec.from_kernel(library.get("sobel_x").weights, padding=1)
    gif = A.conv_animation(stages.run(x, spec), spec, style=DARK).gif(max_frames=2)
    im = Image.open(io.BytesIO(gif)).convert("RGB")
    assert np.asarray(im)[2, 2].tolist() == list(DARK.rgb_paper)


# --------------------------------------------------------------------------------------------
# Large grids: numbers hidden below a legible size, a note, a zoom; the kernel not a glyph
# --------------------------------------------------------------------------------------------

def _grid_anim(n: int, *, style=LIGHT, classroom=False):
    x = np.random.default_rng(0).integers(0, 256, (1, n, n)).astype(np.float32)
    spec = ConvSpec.from_kernel(library.get("gaussian_3x3").weights, padding=1)
    return A.conv_animation(stages.run(x, spec), spec, style=style, classroom=classroom)


def _grid(anim, name):
    return next(g for g in anim.scene.grids if g.name == name)


def _note(anim):
    return next((t for t in anim.scene.static_texts if t.get("name") == "hidden-note"), None)


def test_32x32_hides_the_unreadable_numbers_says_so_and_hovers_the_values():
    anim = _grid_anim(32)
    assert set(anim.scene.hidden) == {"input", "output"}
    for name in ("input 0", "output 0"):
        g = _grid(anim, name)
        assert g.text is None and g.font_px == 0
    note = _note(anim)
    assert note is not None and "hidden" in note["text"] and "click an output cell" in note[
        "text"].replace("<br>", " ")
    spec = anim.spec(0)
    inp = next(t for t in spec["data"] if t["name"] == "input 0")
    assert "hoverinfo" not in inp and inp["hovertemplate"].startswith("%{z")
    # the equation moved down under the note
    assert spec["layout"]["annotations"][1]["y"] > note["y"]


def test_small_grids_keep_their_numbers_and_no_note():
    anim = _grid_anim(6)
    assert anim.scene.hidden == ()
    assert _note(anim) is None
    assert _grid(anim, "input 0").font_px >= A.NORMAL.legible_px


@pytest.mark.parametrize("n", [6, 12, 32])
def test_numbers_shown_are_never_below_the_legible_size(n):
    for style, legible in ((LIGHT, A.NORMAL.legible_px), (LIGHT_HC, A.HC_LEGIBLE_PX)):
        anim = _grid_anim(n, style=style)
        for g in anim.scene.grids:
            assert g.text is None or g.font_px >= legible, (n, style.name, g.name)


def test_12x12_patch_numbers_hidden_in_high_contrast_with_the_note():
    anim = _grid_anim(12, style=LIGHT_HC)
    assert "input" in anim.scene.hidden and _note(anim) is not None


def test_32x32_kernel_is_drawn_large_enough_for_its_numbers():
    anim = _grid_anim(32)
    k = _grid(anim, "kernel 0 0")
    assert k.text is not None and k.font_px >= A.NORMAL.legible_px
    assert k.box.unit * anim.scene.cell_px >= A.NORMAL.kernel_cell_px - 1


def _text_box(t: dict, cell: float) -> tuple[float, float, float, float]:
    """A text's box in scene units (Arial: ~0.55 em a character, 1.2 em a line)."""
    size = t["font"]["size"]
    lines = t["text"].split("<br>")
    w = max(len(s) for s in lines) * 0.55 * size / cell
    h = len(lines) * 1.2 * size / cell
    x = {"center": t["x"] - w / 2, "right": t["x"] - w}.get(t.get("xanchor"), t["x"])
    y = {"middle": t["y"] - h / 2, "bottom": t["y"] - h}.get(t.get("yanchor"), t["y"])
    return x, y, x + w, y + h


@pytest.mark.parametrize("n", [6, 12, 32])
def test_kernel_labels_never_crowd_the_operators(n):
    anim = _grid_anim(n)
    texts = anim.scene.static_texts
    ops = [t for t in texts if t["text"] in ("\u2217", "=")]
    labels = [t for t in texts if t["text"].startswith(("Kernel", "all x"))]
    assert len(ops) == 2 and len(labels) == 2
    for op in ops:
        ox0, oy0, ox1, oy1 = _text_box(op, anim.scene.cell_px)
        for lab in labels:
            lx0, ly0, lx1, ly1 = _text_box(lab, anim.scene.cell_px)
            overlap = min(ox1, lx1) > max(ox0, lx0) and min(oy1, ly1) > max(oy0, ly0)
            assert not overlap, (n, op["text"], lab["text"])


def test_the_32x32_figure_stays_under_its_json_budget():
    import plotly.io as pio

    anim = _grid_anim(32, style=DARK_HC)
    assert len(pio.to_json(anim.spec(0), validate=False).encode()) <= 500_000


def test_zoom_shows_the_windows_neighbourhood_with_every_number():
    anim = _grid_anim(32)
    k = 40  # output row 2, col 9
    step = anim.steps[k]
    html = A.window_zoom_html(anim, k)
    # every value of the window (padded coordinates) is written, and the output's value
    for r in step.rows:
        for c in step.cols:
            assert f">{fit_number(float(step.values[0, r - step.rows[0], c - step.cols[0]]), 6)}<" in html
    assert A.fmt(step.output) in html and "1/16" in html
    assert html.count("<td") == (3 + 2) * (3 + 2) + 9  # the 5 x 5 neighbourhood, the kernel
    assert f"output row {step.row + 1}, col {step.col + 1}" in html


def test_pool_animation_hides_and_zooms_too():
    pre = np.random.default_rng(2).integers(0, 99, (1, 32, 32)).astype(np.float32)
    pool = PoolSpec(kernel_size=2, mode="max")
    from conv import ops
    pooled = ops.pool2d(pre, (2, 2), (2, 2), (0, 0), mode="max")
    anim = A.pool_animation(pre, pool, pooled, style=LIGHT_HC)
    assert anim.scene.hidden and _note(anim) is not None
    assert "max =" in A.window_zoom_html(anim, 3)


# --------------------------------------------------------------------------------------------
# Kernels printed as fractions or rounded decimals, never 17-digit floats
# --------------------------------------------------------------------------------------------

def test_kernels_print_as_fractions_where_they_are():
    scale, cells, exact = display_kernel(library.get("gaussian_3x3").weights)
    assert (scale, exact) == ("1/16", True) and cells[1] == ["2", "4", "2"]
    scale, cells, exact = display_kernel(library.get("box").weights)
    assert scale == "1/9" and exact


def test_other_kernels_print_rounded():
    w = library.get("gaussian", size=5, sigma=1.0).weights
    scale, cells, exact = display_kernel(w)
    assert scale == "" and not exact
    assert all(re.fullmatch(r"-?\d+(\.\d{1,4})?", c) for row in cells for c in row)


def test_kernel_table_has_no_long_floats_and_says_when_it_rounds():
    from ui.kernel_controls import ROUNDED_NOTE, kernel_table_html

    html = kernel_table_html(library.get("gaussian", size=5, sigma=1.0).weights)
    assert not re.search(r"\d{8,}", html) and ROUNDED_NOTE in html
    html = kernel_table_html(library.get("gaussian_3x3").weights)
    assert "1/16 ×" in html and ROUNDED_NOTE not in html


def test_kernel_grid_format():
    from ui.kernel_controls import grid_format

    assert grid_format(library.get("sobel_x").weights)[0] == "plain"
    fmt, chars, rounded = grid_format(library.get("gaussian", size=5, sigma=1.0).weights)
    assert fmt == "%.4g" and rounded and chars <= 8


# --------------------------------------------------------------------------------------------
# Learn a kernel: the difference framed; exports for slides
# --------------------------------------------------------------------------------------------

def test_an_all_zero_difference_is_framed_not_a_hole():
    diff = training.signed_rgb(np.zeros((20, 30)), vmax=5.0)
    assert (diff == 255).all()  # white on a white page
    framed = training.framed(diff, style=LIGHT)
    assert framed.shape == (24, 34, 3)
    assert framed[0, 0].tolist() != [255, 255, 255] and (framed[2:-2, 2:-2] == 255).all()


def test_difference_caption_says_all_zero():
    from ui.learn_view import Pictures, difference_caption

    text = difference_caption(Pictures(b"", b"", b"", 0.0, 100.0))
    assert "all zero: the learned kernel reproduces the target exactly" in text
    assert "largest |difference| 3" in difference_caption(Pictures(b"", b"", b"", 3.0, 100.0))


def test_training_gif_one_frame_per_snapshot():
    snaps = [(s, np.eye(3) * s / 10) for s in range(0, 11)]
    gif = training.training_gif(snaps, [10.0 / (t + 1) for t in range(11)], floor=0.5)
    im = Image.open(io.BytesIO(gif))
    assert im.n_frames == 11 and im.size == (980, 460)


def test_stage_strip_exports():
    rgb = np.zeros((40, 60, 3), np.uint8)
    cards = [slides.StageCard(t, rgb, "40 x 60 x 1", "0 … 255", maps.GREYS, "0", "255", "grey")
             for t in ("Input", "Convolution", "ReLU")]
    png = Image.open(io.BytesIO(slides.strip_png(cards, title="t")))
    assert png.width > 3 * 300
    gif = Image.open(io.BytesIO(slides.strip_gif(cards, style=DARK)))
    assert gif.n_frames == 3


@pytest.mark.parametrize("n", [4, 8, 12, 16, 20, 24, 32])
@pytest.mark.parametrize("style", [LIGHT, LIGHT_HC])
@pytest.mark.parametrize("classroom", [False, True])
def test_no_number_is_hidden_without_the_note(n, style, classroom):
    anim = _grid_anim(n, style=style, classroom=classroom)
    hidden = [g.name for g in anim.scene.grids if g.text is None]
    assert bool(hidden) == (_note(anim) is not None), hidden
