"""viz.maps: display mappings, reduced images, placements and the figures, asserted as objects
(embedded images decoded back to arrays, hover cells compared with the values they name)."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from viz import maps
from viz.maps import Panel, Placement


def _decode(uri: str) -> np.ndarray:
    head, data = uri.split(",", 1)
    assert head.startswith("data:image/") and head.endswith(";base64")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))


# --------------------------------------------------------------------------------------------
# Mappings
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("vmin, vmax, inside, expected", [
    (-5.0, 3.0, None, "signed"),
    (0.0, 200.0, None, "clip"),
    (0.0, 255.0, None, "clip"),
    (0.0, 800.0, None, "abs"),
    (0.0, 0.9, None, "abs"),          # after a sigmoid: 0..1 would be black as grey levels
    (-1.0, 1.0, None, "signed"),      # after tanh
    (0.0, 0.0, None, "abs"),
    (-40.0, 300.0, 0.99, "clip"),     # a sharpened photo: a few values overshoot
    (-700.0, 775.0, 0.52, "signed"),  # an edge map: half of it negative
    (0.0, 1000.0, 0.97, "clip"),      # edges after ReLU: mostly dark, strong edges saturate
])
def test_auto_resolves_by_the_values(vmin, vmax, inside, expected):
    assert maps.resolve_mapping("auto", vmin, vmax, inside) == expected


def test_auto_shows_a_sharpened_photo_as_a_photo():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 255, (50, 50)).astype(np.float32)
    a[0, :10] = -30.0  # a few overshoots, as sharpening gives
    m = maps.map_values(a, "auto")
    assert m.mapping == "clip" and "clipped" in m.label and m.label.startswith("Auto")


def test_unknown_mapping_is_refused():
    with pytest.raises(ValueError, match="mapping must be one of"):
        maps.resolve_mapping("rainbow", 0, 1)


def test_signed_is_centred_on_zero_with_symmetric_limits():
    a = np.array([[-2.0, 0.0, 1.0, 2.0]], np.float32)
    m = maps.map_values(a, "signed")
    assert (m.lo, m.hi) == (-2.0, 2.0)
    assert (m.vmin, m.vmax) == (-2.0, 2.0)
    lut = maps._DIVERGING_LUT
    assert m.rgb[0, 0].tolist() == lut[0].tolist()        # -max: the darkest blue
    assert m.rgb[0, 1].tolist() == lut[128].tolist()      # 0: the middle (near white)
    assert m.rgb[0, 3].tolist() == lut[255].tolist()      # +max: the darkest red
    assert m.rgb[0, 1].tolist() == [247, 247, 247] or min(m.rgb[0, 1]) > 240
    assert "centred on 0" in m.label and "±2" in m.label


def test_signed_limits_follow_the_larger_magnitude():
    m = maps.map_values(np.array([[-10.0, 3.0]]), "signed")
    assert (m.lo, m.hi) == (-10.0, 10.0)
    # +3 is 3/10 of the way from white to red: lighter than the end of the scale
    assert m.rgb[0, 1].sum() > maps._DIVERGING_LUT[255].sum()


def test_abs_clip_and_stretch():
    a = np.array([[-300.0, -10.0, 0.0, 100.0, 300.0]], np.float32)
    m = maps.map_values(a, "abs")
    assert (m.lo, m.hi) == (0.0, 300.0)
    assert m.rgb[0, 0].tolist() == m.rgb[0, 4].tolist() == [255, 255, 255]
    assert m.rgb[0, 2].tolist() == [0, 0, 0]
    m = maps.map_values(a, "clip")
    assert (m.lo, m.hi) == (0.0, 255.0)
    assert m.rgb[0, :, 0].tolist() == [0, 0, 0, 100, 255]
    assert "60.0 % of pixels clipped" in m.label  # -300, -10 and 300
    m = maps.map_values(a, "stretch")
    assert (m.lo, m.hi) == (-300.0, 300.0)
    assert m.rgb[0, 0].tolist() == [0, 0, 0] and m.rgb[0, 4].tolist() == [255, 255, 255]
    assert m.rgb[0, 2, 0] in (127, 128)


def test_a_constant_map_does_not_divide_by_zero():
    for mapping in maps.MAPPINGS:
        m = maps.map_values(np.zeros((3, 3), np.float32), mapping)
        assert m.rgb.shape == (3, 3, 3)
        assert np.isfinite([m.lo, m.hi]).all() and m.hi > m.lo


def test_reduced_copy_keeps_the_real_range():
    m = maps.map_values(np.zeros((2, 2)), "signed", value_range_=(-50.0, 25.0))
    assert (m.vmin, m.vmax, m.lo, m.hi) == (-50.0, 25.0, -50.0, 50.0)


def test_map_colour_signed_puts_zero_at_mid_grey():
    a = np.zeros((3, 2, 2), np.float32)
    a[0, 0, 0], a[2, 1, 1] = 40.0, -40.0
    m = maps.map_colour(a, "signed")
    assert m.rgb.shape == (2, 2, 3)
    assert m.rgb[0, 1].tolist() == [128, 128, 128]
    assert m.rgb[0, 0].tolist() == [255, 128, 128]
    assert m.rgb[1, 1].tolist() == [128, 128, 0]


def test_map_colour_clip_keeps_channel_values():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    m = maps.map_colour(np.moveaxis(rgb, -1, 0).astype(np.float32), "clip")
    assert np.array_equal(m.rgb, rgb)


def test_photo_is_shown_as_it_is():
    rgb = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    m = maps.photo(rgb)
    assert m.rgb is rgb and m.mapping == "photo"


# --------------------------------------------------------------------------------------------
# Reducing, encoding
# --------------------------------------------------------------------------------------------

def test_reduce_averages_whole_blocks():
    a = np.arange(16 * 16, dtype=np.float32).reshape(1, 16, 16)
    r = maps.reduce(a, 8)
    assert r.shape == (1, 8, 8)
    expected = a[0].reshape(8, 2, 8, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(r[0], expected, rtol=1e-6)
    assert maps.reduce(a, 16) is a  # small enough: unchanged, not copied


def test_reduce_keeps_aspect_and_never_enlarges():
    assert maps.display_shape(3000, 4000, 1024) == (768, 1024)
    assert maps.display_shape(1, 4000, 1024) == (1, 1024)
    assert maps.display_shape(10, 20, 1024) == (10, 20)
    rgb = np.zeros((3000, 40, 3), np.uint8)
    assert maps.reduce(rgb, 300).shape == (300, 4, 3)


def test_small_images_travel_as_exact_png():
    rgb = np.random.default_rng(0).integers(0, 256, (17, 23, 3), dtype=np.uint8)
    uri = maps.data_uri(rgb)
    assert uri.startswith("data:image/png;base64,")
    assert np.array_equal(_decode(uri), rgb)
    big = np.zeros((600, 600, 3), np.uint8)
    assert maps.data_uri(big).startswith("data:image/jpeg;base64,")


def test_css_gradient_lists_every_stop():
    css = maps.css_gradient(maps.DIVERGING)
    assert css.startswith("linear-gradient(to right,")
    assert css.count("#") == len(maps.DIVERGING)


# --------------------------------------------------------------------------------------------
# Placement: output pixels sit at the centre of their window, in input coordinates
# --------------------------------------------------------------------------------------------

def test_same_padding_output_pixels_sit_on_their_input_pixels():
    p = maps.window_placement(((1, 1), (1, 1)), (3, 3), (1, 1), (1, 1))
    assert (p.x0, p.y0, p.dx, p.dy) == (0.0, 0.0, 1.0, 1.0)


def test_valid_stride_and_dilation():
    # valid 3x3, stride 2: output (i, j) reads input rows 2i..2i+2, centred on 2i + 1
    p = maps.window_placement(((0, 0), (0, 0)), (3, 3), (2, 2), (1, 1))
    assert (p.x0, p.y0, p.dx, p.dy) == (1.0, 1.0, 2.0, 2.0)
    # dilation 2 spreads a 3-tap kernel over 5 pixels: centre 2
    p = maps.window_placement(((0, 0), (0, 0)), (3, 3), (1, 1), (2, 2))
    assert (p.x0, p.y0) == (2.0, 2.0)
    # an even kernel is centred between two pixels
    p = maps.window_placement(((0, 0), (0, 0)), (2, 2), (1, 1), (1, 1))
    assert (p.x0, p.y0) == (0.5, 0.5)


def test_pooling_placement_composes():
    conv = maps.window_placement(((1, 1), (1, 1)), (3, 3), (2, 2), (1, 1))  # 0, step 2
    pooled = conv.then(offset=(0.5, 0.5), step=(2, 2))  # 2x2 windows, stride 2
    assert (pooled.x0, pooled.dx) == (1.0, 4.0)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------

def _panels(h=40, w=60, step=2):
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 255, (1, h, w)).astype(np.float32)
    y = rng.normal(0, 50, (1, h // step, w // step)).astype(np.float32)
    left = Panel("<b>Input</b>", x, maps.map_values(x[0], "clip"), index_name="input")
    right = Panel("<b>Conv</b>", y, maps.map_values(y[0], "signed"),
                  placement=Placement(0.5, 0.5, step, step), index_name="output")
    return x, y, left, right


def test_compare_figure_links_zoom_and_draws_exact_images():
    _, _, left, right = _panels()
    fig = maps.compare_figure(left, right)
    assert fig.layout.xaxis2.matches == "x" and fig.layout.yaxis2.matches == "y"
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis2.scaleanchor is None
    images = fig.layout.images  # layout images: no image traces for Plotly to redraw
    assert len(images) == 2 and not [t for t in fig.data if t.type == "image"]
    assert np.array_equal(_decode(images[0].source), left.mapped.rgb)
    assert np.array_equal(_decode(images[1].source), right.mapped.rgb)
    assert (images[0].xref, images[0].yref, images[1].xref, images[1].yref) == ("x", "y", "x2", "y2")
    # the left image covers its pixels' squares: (-0.5, -0.5) to (w - 0.5, h - 0.5)
    h, w = left.values.shape[-2:]
    assert (images[0].x, images[0].y, images[0].sizex, images[0].sizey) == (-0.5, -0.5, w, h)
    assert images[0].sizing == "stretch" and images[0].layer == "below"
    # the right image covers the same input area as the left one (stride 2 placement: output
    # pixel (0, 0) sits at input (0.5, 0.5), each one 2 input pixels wide)
    rh, rw = right.values.shape[-2:]
    assert (images[1].x, images[1].y) == (-0.5, -0.5)
    assert (images[1].sizex, images[1].sizey) == (2 * rw, 2 * rh)
    # each panel states its mapping on the figure
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert "clip" in texts and "centred on 0" in texts


def _named(trace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, values) that a hover layer names: by position (x and y are the input
    column and row) or through customdata (output row and column first)."""
    z = np.asarray(trace.z)
    cd = None if trace.customdata is None else np.asarray(trace.customdata)
    if "%{y}" in trace.hovertemplate:
        h, w = z.shape
        rows = np.rint(trace.y0 + np.arange(h) * trace.dy).astype(int)[:, None].repeat(w, 1)
        cols = np.rint(trace.x0 + np.arange(w) * trace.dx).astype(int)[None, :].repeat(h, 0)
        values = cd if cd is not None else z[..., None]
    else:
        rows, cols = cd[..., 0].astype(int), cd[..., 1].astype(int)
        values = cd[..., 2:] if cd.shape[-1] > 2 else z[..., None]
    return rows, cols, values


def test_hover_cells_name_exact_values():
    x, y, left, right = _panels(h=400, w=600)
    fig = maps.compare_figure(left, right)
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 2
    assert heat[0].customdata is None  # the input's cells are placed on their own pixels
    for trace, values in ((heat[0], x), (heat[1], y)):
        rows, cols, named = _named(trace)
        np.testing.assert_array_equal(named[..., 0], values[0][rows, cols])
    # an output cell sits where its output pixel is drawn
    rows, cols = np.asarray(heat[1].customdata)[0, 0, :2]
    assert heat[1].x0 == right.placement.x0 + cols * right.placement.dx
    assert heat[1].y0 == right.placement.y0 + rows * right.placement.dy
    assert "row %{customdata[0]}" in heat[1].hovertemplate and "%{z" in heat[1].hovertemplate
    assert heat[1].showscale and heat[1].zmin == right.mapped.lo and heat[1].zmax == right.mapped.hi


def test_small_maps_name_every_pixel():
    v = np.random.default_rng(0).normal(size=(1, 100, 120)).astype(np.float32)
    rows, cols, step = maps.hover_grid(v)
    assert step == 1 and len(rows) == 100 and len(cols) == 120
    rows, cols, step = maps.hover_grid(np.zeros((1, 768, 1024)))
    assert step == 11 and rows[0] == 5 and cols[-1] < 1024


def test_large_images_are_reduced_but_cover_the_same_area():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (1, 1500, 3000)).astype(np.float32)
    left = Panel("in", x, maps.map_values(maps.reduce(x, 1024)[0], "clip",
                                           value_range_=maps.value_range(x)))
    fig = maps.compare_figure(left, left)
    im = fig.layout.images[0]
    width = _decode(im.source).shape[1]
    assert width == 1024
    assert im.x == pytest.approx(-0.5)
    assert im.x + im.sizex == pytest.approx(3000 - 0.5)


def test_colour_panels_hover_three_values():
    rgb = np.random.default_rng(2).integers(0, 256, (3, 20, 30)).astype(np.float32)
    p = Panel("in", rgb, maps.map_colour(rgb, "clip"))
    fig = maps.compare_figure(p, p)
    heat = fig.data[1]
    rows, cols, named = _named(heat)
    assert named.shape[-1] == 3 and np.asarray(heat.customdata).dtype == np.int16
    assert named[3, 4].tolist() == rgb[:, rows[3, 4], cols[3, 4]].tolist()
    assert "R = " in heat.hovertemplate


def test_padded_input_outline_marks_the_image():
    x, _, left, right = _panels()
    left = Panel("pad", x, left.mapped, placement=Placement(-2, -2), index_origin=(-2, -2),
                 outline=(-0.5, -0.5, 55.5, 35.5))
    fig = maps.compare_figure(left, right)
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 1 and (rects[0].x0, rects[0].y1) == (-0.5, 35.5)


def test_small_maps_write_their_values_in_the_cells():
    v = np.array([[[0, 30, 30, 0]] * 4], np.float32)  # the lecture notes' 4 x 4 edge output
    p = Panel("tiny", v, maps.map_values(v[0], "stretch"))
    fig = maps.compare_figure(p, p)
    text = [t for t in fig.data if t.type == "scatter" and t.mode == "text"]
    assert len(text) == 2
    assert list(text[0].text[:4]) == ["0", "30", "30", "0"]
    # black on the white (30) cells, white on the black (0) cells
    assert list(text[0].textfont.color[:2]) == ["#fff", "#111"]


def test_histogram_counts_every_value():
    v = np.random.default_rng(5).normal(size=(1, 50, 70)).astype(np.float32)
    m = maps.map_values(v[0], "signed")
    fig = maps.histogram_figure(v, m, bins=40)
    bar = fig.data[0]
    assert int(np.sum(bar.y)) == v.size
    expected, _ = np.histogram(v, bins=40, range=(m.vmin, m.vmax))
    assert np.abs(np.asarray(bar.y) - expected).sum() <= 2  # float32 rounding at bin edges
    assert len(bar.x) == 40
    # bars coloured as the mapping colours their centre: blue left of 0, red right of it
    colours = list(bar.marker.color)
    assert int(colours[0][5:7], 16) > int(colours[0][1:3], 16)  # blue end
    assert int(colours[-1][1:3], 16) > int(colours[-1][5:7], 16)  # red end


def test_histogram_svg_draws_every_bin_with_its_count():
    v = np.random.default_rng(5).normal(size=(1, 50, 70)).astype(np.float32)
    m = maps.map_values(v[0], "signed")
    svg = maps.histogram_svg(v, m, bins=40, title="Values & more")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    counts = [int(c.replace(",", "")) for c in re.findall(r": ([\d,]+) pixels</title>", svg)]
    assert sum(counts) == v.size
    assert "Values &amp; more" in svg and 'stroke-dasharray' in svg  # a line at 0


def test_nice_ticks():
    assert maps._nice_ticks(0, 1000, 5) == [0, 200, 400, 600, 800, 1000]
    assert maps._nice_ticks(-703.3, 775, 6) == [-500, -250, 0, 250, 500, 750]
