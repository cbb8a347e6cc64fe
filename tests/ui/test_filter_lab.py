"""The filter lab driven by Streamlit's AppTest: uploads (good, bad, odd), every control once,
links that restore settings, garbage links, and code that reproduces the page's numbers."""

from __future__ import annotations

import base64
import io
import json
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conv import image, samples
from conv.stages import run
from kernels import algebra
from ui import lab_figure, lab_result, lab_source

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = "ui/pages/filter_lab.py"
ASTRONAUT = (ROOT / "assets" / "photos" / "astronaut.png").read_bytes()  # 512 x 512, colour
ROCKET = (ROOT / "assets" / "photos" / "rocket.jpg").read_bytes()        # 640 x 427 JPEG


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def _open(query: dict | None = None, *, code: bool = False, controls: bool = True) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if code:  # open the (lazily built) code section
        at.session_state["lab.code_open"] = True
    if controls:  # the kernel's and the layer's sections, built when open, as a user opens them
        at.session_state["lab.kernel_open"] = True
        at.session_state["lab.layer_open"] = True
    return _first_run(at)


def _first_run(at: AppTest) -> AppTest:
    """The first run: the app's root ("/") switches to the filter lab with the link's query
    and the session state set before (app.py); later runs go to the page directly (AppTest
    finds a page registered under another url_path than its file's name only after a run)."""
    at.run()
    return at.switch_page(PAGE)


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def shape(at: AppTest) -> str:
    return metric(at, "Output H x W x C")


def arithmetic_html(at: AppTest) -> str:
    """The output-size arithmetic as the browser receives it
    (``lab_arithmetic.arithmetic_html``)."""
    views = [e for e in at.get("bidi_component") if e.proto.id.endswith("-lab.arith")]
    assert len(views) == 1, f"{len(views)} arithmetic views on the page"
    return views[0].proto.bytes.decode()


def arithmetic_text(at: AppTest) -> str:
    """Its text, as a reader sees it."""
    import html as html_
    return html_.unescape(re.sub(r"<[^>]+>", " ", arithmetic_html(at)))


def metric(at: AppTest, label: str) -> str:
    """One of the three large figures above the arithmetic."""
    import html as html_
    found = re.search(rf'data-label="{re.escape(html_.escape(label))}">.*?'
                      r'class="lab-metric-value">(.*?)</div>', arithmetic_html(at))
    assert found, label
    return html_.unescape(found.group(1))


def errors(at: AppTest) -> str:
    return " | ".join(e.value for e in at.error)


def warnings(at: AppTest) -> str:
    return " | ".join(w.value for w in at.warning)


def captions(at: AppTest) -> str:
    return " | ".join(c.value for c in at.caption)


def upload(at: AppTest, name: str, data: bytes, mime: str = "image/png") -> AppTest:
    if at.pills(key="lab.src").value != "Upload":
        at.pills(key="lab.src").set_value("Upload").run()
    at.file_uploader(key="lab.file").set_value((name, data, mime))
    return at.run()


def whole(at: AppTest) -> AppTest:
    """After a change that reruns only some of the page's fragments (a layer value: the
    figures; a kernel change: the kernel's controls and the figures), AppTest holds only what
    those fragments drew: run the page again to have every control back."""
    if not all(_has(at, key) for key in ("lab.src", "lab.k.preset", "lab.stride")):
        at.run()
    return ok(at)


def _has(at: AppTest, key: str) -> bool:
    """Whether the page AppTest holds has a widget with this key."""
    return any(getattr(e, "key", None) == key for e in at.main) or any(
        getattr(e, "key", None) == key for e in at.sidebar)


def stages_html(at: AppTest) -> str:
    """The stage strips and histogram as the browser receives them (``ui/html_view.py``)."""
    views = [e for e in at.get("bidi_component") if e.proto.id.endswith("-lab.stages")]
    assert len(views) == 1, f"{len(views)} stage views on the page"
    return views[0].proto.bytes.decode()


def figure(at: AppTest) -> dict:
    """The lab's main figure as the browser receives it (``ui/plotly_view.py``'s payload)."""
    views = [e for e in at.get("bidi_component") if e.proto.id.endswith("-lab.figure")]
    assert len(views) == 1, f"{len(views)} lab figures on the page"
    return json.loads(views[0].proto.bytes)


def _array(spec) -> np.ndarray:
    if isinstance(spec, dict) and "bdata" in spec:
        shape_ = tuple(int(n) for n in str(spec.get("shape", "")).split(",") if n.strip())
        a = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]))
        return a.reshape(shape_) if shape_ else a
    return np.asarray(spec)


def hover_values(fig: dict, panel: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, values) named by a panel's hover layer (0: left, 1: right): by position
    (x, y are the input column and row) or through customdata (output row, column first)."""
    heat = [t for t in fig["data"] if t["type"] == "heatmap"][panel]
    z = _array(heat["z"])
    cd = _array(heat["customdata"]) if heat.get("customdata") is not None else None
    if "%{y}" in heat["hovertemplate"]:
        h, w = z.shape
        rows = np.rint(heat.get("y0", 0) + np.arange(h) * heat.get("dy", 1)).astype(int)
        cols = np.rint(heat.get("x0", 0) + np.arange(w) * heat.get("dx", 1)).astype(int)
        rows, cols = np.meshgrid(rows, cols, indexing="ij")
        return rows, cols, (cd if cd is not None else z[..., None])
    values = cd[..., 2:] if cd.shape[-1] > 2 else z[..., None]
    return cd[..., 0].astype(int), cd[..., 1].astype(int), values


def encode(im: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny well-formed PNG whose header claims width x height pixels (a bomb)."""
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(
            ">I", zlib.crc32(kind + payload))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


# --------------------------------------------------------------------------------------------
# The page as it opens
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def start() -> AppTest:
    return ok(_open())


def test_opens_on_the_sample_with_every_stage(start):
    at = start
    assert shape(at) == "300 x 451 x 1"
    assert metric(at, "Parameters") == "10"
    assert metric(at, "Multiply-adds") == f"{300 * 451 * 9:,}"
    assert "Chelsea the cat" in captions(at)
    strip = stages_html(at)
    for stage_ in ("Input", "Padded input", "Convolution", "302 x 453 x 1"):
        assert stage_ in strip
    fig = figure(at)
    assert [t["type"] for t in fig["data"]] == ["heatmap", "heatmap"]  # the hover layers
    assert [(i["xref"], i["yref"]) for i in fig["layout"]["images"]] == [("x", "y"), ("x2", "y2")]
    assert fig["layout"]["xaxis2"]["matches"] == "x"
    # the other pages get the image
    assert at.session_state["shared.lab_image"].rgb.shape == (300, 451, 3)


def test_the_link_is_built_when_its_popover_opens():
    at = ok(_open({"s": "2"}))
    assert not at.code  # closed: only its button is sent
    at.session_state["lab-link-open"] = True
    link = next(c.value for c in ok(at.run()).code)
    assert "s=2" in link and link.startswith(("http", "?", "/"))


def test_the_output_size_formula_has_the_numbers(start):
    text = arithmetic_text(start)
    assert "(300 + 2*1 - 3) / 1 + 1 = 300" in text
    assert "(451 + 2*1 - 3) / 1 + 1 = 451" in text
    assert "((3*3*1/1) + 1) * 1 = 10" in text


def test_the_figure_hover_names_exact_values(start):
    x = image.to_array(image.decode(samples.load_sample("chelsea")).rgb, mode="gray")
    fig = figure(start)
    rows, cols, values = hover_values(fig, 0)  # left: padded input, rows counted in the input
    inside = (rows >= 0) & (rows < 300) & (cols >= 0) & (cols < 451)
    np.testing.assert_array_equal(values[..., 0][inside], x[0][rows[inside], cols[inside]])


# --------------------------------------------------------------------------------------------
# A real photo and every control
# --------------------------------------------------------------------------------------------

def test_upload_a_photo_and_change_every_control():
    at = ok(_open())
    ok(upload(at, "astronaut.png", ASTRONAUT))
    assert shape(at) == "512 x 512 x 1"
    assert "astronaut.png" in captions(at)

    def step(widget, value, expected=None):
        widget.set_value(value).run()
        ok(at)
        assert not at.error, errors(at)
        if expected:
            assert shape(at) == expected, (widget.key, value)
        whole(at)

    step(at.pills(key="lab.res"), "256", "256 x 256 x 1")
    assert "downscaled from 512 x 512" in captions(at)
    step(at.pills(key="lab.colour"), "channels", "256 x 256 x 3")
    step(at.pills(key="lab.colour"), "rgb", "256 x 256 x 1")
    assert at.button(key="lab.k.slices.luma")
    at.button(key="lab.k.slices.luma").click().run()
    whole(at)
    step(at.pills(key="lab.colour"), "gray", "256 x 256 x 1")
    step(at.pills(key="lab.res"), "512", "512 x 512 x 1")
    step(at.pills(key="lab.res"), "full", "512 x 512 x 1")
    step(at.pills(key="lab.res"), "1024", "512 x 512 x 1")

    # the kernel: presets, parameters, grid, text, actions, bank
    step(at.selectbox(key="lab.k.preset"), "gaussian", "512 x 512 x 1")
    step(at.select_slider(key="lab.k.size"), 7)
    assert metric(at, "Parameters") == "50"
    step(at.slider(key="lab.k.sigma"), 2.0)
    step(at.selectbox(key="lab.k.preset"), "sobel_x")
    at.session_state["lab.k.grid_open"] = True  # the grid is built when its expander opens
    ok(at.run())
    at.session_state[at.data_editor[0].key] = {"edited_rows": {0: {"1": -3.0}},
                                               "added_rows": [], "deleted_rows": []}
    at.session_state["lab.k.grid_open"] = True
    ok(at.run())
    assert "-3" in at.text_area(key="lab.k.text").value
    for action in ("flip", "transpose", "normalise", "random", "reset"):
        whole(at).button(key=f"lab.k.do.{action}").click().run()
        ok(at)
    step(at.text_area(key="lab.k.text"), "1 0 -1\n2 0 -2\n1 0 -1")
    step(at.multiselect(key="lab.k.bank"), ["sobel_y", "laplacian_4"], "512 x 512 x 3")
    # the typed kernel is minus Sobel x: with Sobel y it is a derivative pair
    assert at.pills(key="lab.map").options == ["Custom (edited from Sobel x (d/dx))",
                                                "Sobel y (d/dy)", "Laplacian (4-neighbour)",
                                                "√(gx² + gy²)"]
    step(at.multiselect(key="lab.k.bank"), ["sobel_y"], "512 x 512 x 2")
    at.button(key="lab.k.do.reset").click().run()
    ok(at)
    assert "√(gx² + gy²)" in at.pills(key="lab.map").options
    step(at.pills(key="lab.map"), "mag")
    assert "Gradient magnitude" in json.dumps(figure(at)["layout"]["annotations"])
    step(at.pills(key="lab.map"), "1")
    step(at.multiselect(key="lab.k.bank"), [], "512 x 512 x 1")

    # the layer
    step(at.pills(key="lab.pad"), "valid", "510 x 510 x 1")
    step(at.pills(key="lab.pad"), "full", "514 x 514 x 1")
    step(at.pills(key="lab.pad"), "custom", "512 x 512 x 1")
    step(at.number_input(key="lab.ph"), 3, "516 x 512 x 1")
    step(at.number_input(key="lab.pw"), 0, "516 x 510 x 1")
    for mode in ("reflect", "replicate", "circular", "zeros"):
        step(at.pills(key="lab.pm"), mode, "516 x 510 x 1")
    step(at.pills(key="lab.pad"), "same", "512 x 512 x 1")
    step(at.number_input(key="lab.stride"), 3, "171 x 171 x 1")  # TensorFlow SAME: ceil(512/3)
    assert "TensorFlow-style SAME" in arithmetic_text(at)
    step(at.number_input(key="lab.stride"), 1)
    step(at.pills(key="lab.pad"), "valid")
    step(at.number_input(key="lab.dil"), 2, "508 x 508 x 1")
    step(at.number_input(key="lab.bias"), 10.0, "508 x 508 x 1")
    assert "+ bias" in at.pills(key="lab.show").options[1:] or True
    for act in ("relu", "sigmoid", "tanh", "abs", "leaky_relu"):
        step(at.pills(key="lab.act"), act, "508 x 508 x 1")
    step(at.number_input(key="lab.slope"), 0.2)
    step(at.pills(key="lab.pool"), "max", "254 x 254 x 1")
    step(at.number_input(key="lab.pk"), 3, "169 x 169 x 1")
    step(at.number_input(key="lab.ps"), 2, "253 x 253 x 1")
    step(at.pills(key="lab.pool"), "avg", "253 x 253 x 1")
    assert metric(at, "Multiply-adds") == f"{508 * 508 * 9:,}"

    # what the figure shows
    options = at.pills(key="lab.show").options
    assert len(options) == 4  # output (pool), convolution, + bias, leaky ReLU
    for value in ("conv", "biased", "activated", "output"):
        step(at.pills(key="lab.show"), value)
    for mapping in ("signed", "abs", "clip", "stretch", "auto"):
        step(at.pills(key="lab.mapping"), mapping)
        labels = json.dumps(figure(at)["layout"]["annotations"])
        assert {"signed": "centred on 0", "abs": "|x|", "clip": "clip",
                "stretch": "min-max", "auto": "Auto"}[mapping] in labels
    # every stage can be downloaded, as PNG and as raw values (built once the section is open)
    assert not at.get("download_button")
    at.session_state["lab.dl_open"] = True
    ok(at.run())
    assert at.selectbox(key="lab.dl.stage").options == [
        "Input (512 x 512 x 1)", "Padded input (512 x 512 x 1)", "Convolution (508 x 508 x 1)",
        "+ bias (508 x 508 x 1)", "Leaky ReLU (slope 0.2) (508 x 508 x 1)",
        "Average pool 3x3, stride 2 (253 x 253 x 1)"]
    for stage_ in ("input", "conv", "pooled"):
        at.session_state["lab.dl_open"] = True  # AppTest does not keep an expander open
        step(at.selectbox(key="lab.dl.stage"), stage_)
        assert at.selectbox(key="lab.dl.stage").value == stage_
    keys = {b.key for b in at.get("download_button")}
    assert {"lab.dl.png", "lab.dl.npy", "lab.dl.kernel"} <= keys
    at.session_state["lab.code_open"] = True
    ok(at.run())
    keys = {b.key for b in at.get("download_button")}
    assert {"lab.dl.numpy", "lab.dl.torch"} <= keys


def test_gallery_and_teaching_images():
    at = ok(_open())
    # the sidebar gallery is built only when opened
    assert not [b for b in at.button if b.key.startswith("lab.pick.")]
    at.session_state["lab.gallery_open"] = True
    ok(at.run())
    assert len([b for b in at.button if b.key.startswith("lab.pick.")]) == 16
    at.button(key="lab.pick.synthetic:checkerboard").click().run()
    ok(at)
    assert shape(at) == "1024 x 1024 x 1" and "Checkerboard" in captions(at)
    at.pills(key="lab.res").set_value("256").run()
    assert shape(ok(at)) == "256 x 256 x 1"
    at.session_state["lab.gallery_open"] = True  # AppTest does not report an expander's state
    at.run()
    at.button(key="lab.pick.photo:rocket").click().run()
    assert shape(ok(at)) == "171 x 256 x 1"


def test_the_lecture_example_is_reproduced_exactly():
    """The notes' 6 x 6 image (10 | 0) with the vertical-edge kernel, no padding: 0 30 30 0."""
    at = ok(_open({"img": "synthetic:lecture_6x6", "k": "vertical_edge", "pad": "valid"}))
    assert shape(at) == "4 x 4 x 1" and "Lecture 6 x 6" in captions(at)
    rows, cols, values = hover_values(figure(at), 1)  # every pixel of a small map
    grid = np.zeros((4, 4))
    grid[rows, cols] = values[..., 0]
    assert grid.tolist() == [[0, 30, 30, 0]] * 4
    text = [t for t in figure(at)["data"] if t["type"] == "scatter"][1]["text"]
    assert text[:4] == ["0", "30", "30", "0"]  # written in the cells


def test_webcam_photo():
    at = ok(_open())
    at.pills(key="lab.src").set_value("Webcam").run()
    at.camera_input(key="lab.camera").set_value(("photo.jpg", ROCKET, "image/jpeg")).run()
    ok(at)
    assert "webcam photo" in captions(at) and shape(at) == "427 x 640 x 1"


# --------------------------------------------------------------------------------------------
# Bad and odd files
# --------------------------------------------------------------------------------------------

_PNG = encode(Image.fromarray(np.random.default_rng(0).integers(0, 256, (60, 80, 3),
                                                                 dtype=np.uint8)), "PNG")
_JPEG = encode(Image.fromarray(np.random.default_rng(1).integers(0, 256, (60, 80, 3),
                                                                  dtype=np.uint8)), "JPEG")


@pytest.mark.parametrize("name, data, message", [
    ("notes.png", b"Dear students,\nthe exam is on Monday.\n" * 20, "not an image"),
    ("empty.png", b"", "empty"),
    ("cut.png", _PNG[: len(_PNG) // 2], "truncated"),
    ("cut.jpg", _JPEG[: len(_JPEG) // 2], "truncated"),
    ("bomb.png", png_claiming(30_000, 30_000), "900,000,000 pixels"),
    ("IMG_0001.heic", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64, "HEIC"),
])
def test_a_bad_file_shows_an_error_and_the_photo_stays(name, data, message):
    at = ok(_open())
    ok(upload(at, "astronaut.png", ASTRONAUT))
    ok(upload(at, name, data))
    assert message.lower() in errors(at).lower(), errors(at)
    assert "Still showing astronaut.png" in errors(at)
    assert shape(at) == "512 x 512 x 1"
    at.number_input(key="lab.stride").set_value(2).run()  # the page keeps working
    assert shape(ok(at)) == "256 x 256 x 1"


def test_a_bad_first_upload_keeps_the_sample():
    at = ok(_open())
    ok(upload(at, "junk.jpg", b"\xff\xd8\xff\xe0 not really a jpeg"))
    assert errors(at) and "Still showing Chelsea the cat" in errors(at)
    assert shape(at) == "300 x 451 x 1"


def _frames(n):
    return [Image.new("RGB", (40, 30), (20 * i, 100, 200 - 10 * i)) for i in range(n)]


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, as phones do: shown rotated 90° clockwise
    return encode(Image.new("RGB", (40, 24), (200, 30, 30)), "JPEG", exif=exif)


def _cmyk() -> bytes:
    return encode(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG")


@pytest.mark.parametrize("name, data, expected, note", [
    ("anim.gif", encode(_frames(5)[0], "GIF", save_all=True, append_images=_frames(5)[1:]),
     "30 x 40 x 1", "first of 5 frames"),
    ("deep.png", encode(Image.fromarray(np.full((30, 40), 40000, np.uint16)), "PNG"),
     "30 x 40 x 1", "16-bit"),
    ("palette.png", encode(Image.new("P", (40, 30), 3), "PNG"), "30 x 40 x 1", "palette"),
    ("print.jpg", _cmyk(), "30 x 40 x 1", "CMYK"),
    ("logo.png", encode(Image.new("RGBA", (40, 30), (0, 0, 0, 128)), "PNG"), "30 x 40 x 1",
     "transparency"),
    ("phone.jpg", _exif_rotated(), "40 x 24 x 1", "EXIF orientation 6"),
    ("dot.png", encode(Image.new("RGB", (1, 1), (9, 9, 9)), "PNG"), "1 x 1 x 1", ""),
    ("strip.png", encode(Image.new("RGB", (4000, 1), (9, 9, 9)), "PNG"), "1 x 1024 x 1", ""),
])
def test_odd_files_are_converted_and_said_so(name, data, expected, note):
    at = ok(_open())
    ok(upload(at, name, data, "image/png"))
    assert not at.error, errors(at)
    assert shape(at) == expected
    assert note in captions(at)


# --------------------------------------------------------------------------------------------
# Layers that cannot be applied explain themselves
# --------------------------------------------------------------------------------------------

def test_impossible_layers_give_reasons_not_tracebacks():
    at = ok(_open())
    ok(upload(at, "dot.png", encode(Image.new("RGB", (1, 1), (9, 9, 9)), "PNG")))
    at.pills(key="lab.pad").set_value("valid").run()  # 3x3 kernel on one pixel
    assert "kernel larger than padded input" in errors(ok(at))
    at.pills(key="lab.pad").set_value("same").run()
    at.pills(key="lab.pool").set_value("max").run()  # 2x2 pool on a 1x1 map
    assert "pooling" in errors(ok(at)) and "1 x 1" in errors(at)
    at.pills(key="lab.pool").set_value("none").run()
    at.pills(key="lab.pm").set_value("reflect").run()  # reflect needs padding < size
    assert "reflect" in errors(ok(at))
    whole(at).pills(key="lab.pm").set_value("zeros").run()
    whole(at).number_input(key="lab.stride").set_value(256).run()  # stride > the image
    assert shape(ok(at)) == "1 x 1 x 1" and not at.error
    whole(at)
    at.text_area(key="lab.k.text").set_value("1 2\nnan 4").run()
    assert "row 2, column 1" in errors(ok(at))
    at.text_area(key="lab.k.text").set_value("\n".join(["1 " * 15] * 15)).run()  # 15 x 15
    whole(at).pills(key="lab.pad").set_value("valid").run()
    assert "kernel larger than padded input: 15 > 1" in errors(ok(at))


def test_stride_larger_than_the_map_and_pool_larger_than_the_map():
    at = ok(_open())
    at.number_input(key="lab.stride").set_value(200).run()
    assert shape(ok(at)) == "2 x 3 x 1"
    whole(at).pills(key="lab.pool").set_value("max").run()
    at.number_input(key="lab.pk").set_value(4).run()
    assert "pooling" in errors(ok(at))
    assert metric(at, "Output H x W x C") == "—"


# --------------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------------

LINK = {"img": "photo:astronaut", "res": "256", "colour": "channels", "k": "gaussian",
        "ks": "7", "sigma": "1.5", "pad": "valid", "pm": "reflect", "s": "2", "d": "1",
        "b": "5", "act": "relu", "pool": "avg", "pk": "3", "ps": "2", "mapping": "clip",
        "show": "conv"}


def test_a_link_restores_every_setting():
    at = ok(_open(LINK))
    assert not at.warning, warnings(at)
    assert at.pills(key="lab.res").value == "256"
    assert at.pills(key="lab.colour").value == "channels"
    assert at.selectbox(key="lab.k.preset").value == "gaussian"
    assert at.select_slider(key="lab.k.size").value == 7
    assert at.slider(key="lab.k.sigma").value == 1.5
    assert at.pills(key="lab.pad").value == "valid"
    assert at.pills(key="lab.pm").value == "reflect"
    assert at.number_input(key="lab.stride").value == 2
    assert at.number_input(key="lab.bias").value == 5.0
    assert at.pills(key="lab.act").value == "relu"
    assert at.pills(key="lab.pool").value == "avg"
    assert at.pills(key="lab.mapping").value == "clip"
    assert at.pills(key="lab.show").value == "conv"
    # 256 x 256 astronaut, 7x7 valid stride 2 -> 125, avg pool 3 stride 2 -> 62
    assert shape(at) == "62 x 62 x 3"
    flags = arithmetic_text(at)
    assert "Division not exact for the rows" in flags
    assert "249/2 = 124.5, floor keeps 124; the last 1 row" in flags  # dropped rows flagged
    # the URL written back is the link itself (round trip)
    published = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert published == {k: v for k, v in LINK.items() if k != "d"}


def test_an_edited_kernel_travels_in_the_link():
    at = ok(_open({"kt": "[1,2;3,4]", "k": "box", "ks": "2"}))
    assert not at.warning, warnings(at)
    assert at.text_area(key="lab.k.text").value.split() == ["1", "2", "3", "4"]
    table = next(h.proto.body for h in at.get("html") if "kernel-table" in h.proto.body)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", table) == ["1", "2", "3", "4"]
    # and the page writes it back the same way
    at.number_input(key="lab.stride").set_value(2).run()
    published = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert published["kt"] == "1,2;3,4" and published["s"] == "2"


def test_bank_and_slices_travel_in_the_link():
    at = ok(_open({"colour": "rgb", "bank": "sobel_y", "kg": "[0,0,0;0,0,0;0,0,0]"}))
    assert not at.warning, warnings(at)
    assert shape(at) == "300 x 451 x 2"
    assert at.session_state["lab.k.slice.G"].split() == ["0"] * 9


def test_a_bank_kernel_of_another_size_is_dropped_and_not_counted():
    at = ok(_open({"k": "gaussian", "ks": "5", "bank": "sobel_y"}))  # Sobel y is 3 x 3
    assert "sobel_y" in " ".join(i.value for i in at.info)
    assert shape(at) == "300 x 451 x 1"
    label = next(e.label for e in at.expander if e.label.startswith("**Kernel:**"))
    assert "filter bank" not in label, label


def test_garbage_in_the_link_falls_back_with_notices():
    at = ok(_open({"k": "nope", "s": "0", "pad": "diagonal", "b": "abc", "img": "photo:dog",
                   "kt": "[1,x]", "mapping": "rainbow", "res": "2048", "zzz": "1"}))
    text = warnings(at)
    for name in ("`k`", "`s`", "`pad`", "`b`", "`img`", "`kt`", "`mapping`", "`res`", "`zzz`"):
        assert name in text, name
    assert shape(at) == "300 x 451 x 1"  # every default
    assert at.selectbox(key="lab.k.preset").value == "sobel_x"


def test_a_link_made_with_an_upload_says_so():
    at = ok(_open({"img": "upload", "s": "2"}))
    assert "uploads are not part of links" in warnings(at)
    assert shape(at) == "150 x 226 x 1"


def test_a_size_the_preset_does_not_offer():
    at = ok(_open({"k": "gaussian", "ks": "4"}))
    assert "not offered" in warnings(at)
    assert at.select_slider(key="lab.k.size").value == 5


# --------------------------------------------------------------------------------------------
# Code that reproduces the page
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    {},
    {"colour": "channels", "s": "2", "pm": "reflect", "act": "relu", "pool": "max"},
    {"colour": "rgb", "k": "laplacian_8", "pad": "full", "d": "2", "b": "-20", "act": "tanh"},
    {"k": "box", "ks": "4", "pad": "same", "s": "3", "pm": "circular", "pool": "avg", "pk": "3"},
    {"bank": "sobel_y", "act": "abs", "show": "output"},
])
def test_the_numpy_snippet_reproduces_the_page(query):
    at = ok(_open(query, code=True))
    code = next(c.value for c in at.code if "signal.correlate2d" in c.value)
    layer_code = code[code.index("import numpy as np\nfrom numpy.lib"):]
    colour = query.get("colour", "gray")
    rgb = image.decode(samples.load_sample("chelsea")).rgb
    x = image.to_array(rgb, mode="gray" if colour == "gray" else "rgb")
    ns = {"x": x}
    exec(compile(layer_code, "snippet", "exec"), ns)  # noqa: S102 - our own generated code
    y = ns["y"]
    # the page's own numbers: the hover layer of the right panel (exact values it names)
    fig = figure(at)
    rows, cols, values = hover_values(fig, 1)
    assert y.shape[1:] == tuple(int(n) for n in shape(at).split(" x ")[:2])
    chosen = y[:values.shape[-1]] if colour != "channels" else y[[0, 1, 2]]
    expected = np.moveaxis(chosen[:, rows, cols], 0, -1)
    np.testing.assert_allclose(values, expected, rtol=1e-4, atol=1e-3 * max(1, np.abs(y).max()))


def test_the_code_is_built_only_when_asked_for():
    at = ok(_open())
    assert not any("F.conv2d" in c.value for c in at.code)
    at.session_state["lab.code_open"] = True
    assert any("F.conv2d" in c.value for c in ok(at.run()).code)


def test_the_snippets_name_the_settings():
    at = ok(_open({"pad": "same", "s": "2", "pm": "replicate"}, code=True))
    torch_code = next(c.value for c in at.code if "F.conv2d" in c.value)
    # rows: ceil(300/2) = 150 needs 1 extra row (bottom); columns: ceil(451/2) = 226 needs 2
    assert 'F.pad(x, (1, 1, 0, 1), mode="replicate")' in torch_code
    assert "TensorFlow's SAME" in torch_code
    compile(torch_code, "torch_snippet", "exec")
    kernel_text = next(c.value for c in at.code if c.value.startswith("# weights"))
    assert "-1  0  1" in kernel_text


# --------------------------------------------------------------------------------------------
# Full resolution
# --------------------------------------------------------------------------------------------

def test_full_resolution_has_a_pixel_limit_that_is_explained():
    h, w = 3600, 5000  # 18 MP
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([(xx * 255 // w), (yy * 255 // h), np.full_like(xx, 90)], -1).astype(np.uint8)
    data = encode(Image.fromarray(rgb), "JPEG", quality=80)
    at = ok(_open())
    ok(upload(at, "camera.jpg", data, "image/jpeg"))
    assert shape(at) == "737 x 1024 x 1"
    at.pills(key="lab.res").set_value("full").run()
    ok(at)
    assert "limited to 16 megapixels" in warnings(at)
    out = [int(n) for n in shape(at).split(" x ")]
    assert out[0] * out[1] <= lab_source.FULL_LIMIT_PIXELS and out[1] > 4000
    assert re.search(r"computes on \d+ x \d+", warnings(at))


def test_full_resolution_computes_every_pixel_of_a_12_mp_photo():
    rgb = np.random.default_rng(4).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    rgb[:, :] = rgb[:1, :1]  # a flat photo: small JPEG, still 12 MP
    data = encode(Image.fromarray(rgb), "JPEG", quality=80)
    at = ok(_open({"res": "full"}))
    ok(upload(at, "big.jpg", data, "image/jpeg"))
    assert shape(at) == "3000 x 4000 x 1" and not at.warning
    assert "the full resolution" in captions(at)


def test_stages_match_the_engine():
    """The page computes exactly conv.stages.run of its spec (no second implementation)."""
    at = ok(_open({"s": "2", "act": "relu"}))
    x = image.to_array(image.decode(samples.load_sample("chelsea")).rgb, mode="gray")
    from kernels import library
    from ui import layer_controls
    w, g, _ = algebra.layer_weights([("Sobel x", library.get("sobel_x").weights)], "gray")
    spec = layer_controls.Layer("same", "zeros", 2, 1, 0.0, "relu", 0.01, "none", 2,
                                None).spec(w, groups=g)
    out = run(x, spec).output.array
    rows, cols, values = hover_values(figure(at), 1)
    np.testing.assert_array_equal(values[..., 0], out[0][rows, cols])


def test_the_layer_summary_says_the_settings_in_one_line():
    at = ok(_open({"pad": "custom", "ph": "2", "pw": "3", "pm": "reflect", "s": "2",
                   "act": "leaky_relu", "pool": "max", "pk": "3"}))
    def summary():  # above the figure (a value change reruns only the figures)
        return next(c.value for c in ok(at).caption if c.value.startswith("**Layer applied:**"))

    assert summary() == ("**Layer applied:** padding 2 rows, 3 columns (reflect) · "
                         "stride 2 · dilation 1 · bias 0 · leaky ReLU · max pool 3x3, stride 3")
    at.number_input(key="lab.bias").set_value(-12.5).run()
    assert "bias -12.5" in summary()
    assert not _has(at, "lab.stride")  # the figures alone reran: the controls were not sent
    whole(at).pills(key="lab.pad").set_value("valid").run()
    at.pills(key="lab.pool").set_value("none").run()
    assert summary() == ("**Layer applied:** valid padding · stride 2 · dilation 1 · "
                         "bias -12.5 · leaky ReLU · no pooling")


def _applied_digest(at: AppTest) -> str:
    """The layer the figure shows (its token names the spec's digest)."""
    return figure(at)["layout"]["meta"]["token"].split("|")[2]


def _shown_digest(at: AppTest) -> str:
    """The digest of the layer made of the kernel the text box shows, the filter bank's kernels
    and the default layer (grayscale): what the figure must apply."""
    from kernels.text import parse_kernel
    from ui import kernel_controls, layer_controls
    w = parse_kernel(at.text_area(key="lab.k.text").value)
    bank = kernel_controls.bank_candidates(w.shape)
    chosen = at.session_state["lab.k.bank"] if "lab.k.bank" in at.session_state else []
    kernels = [("", w)] + [("", bank[k]) for k in chosen]
    weight, groups, _ = algebra.layer_weights(kernels, "gray")
    return lab_result.spec_digest(layer_controls.Layer(
        "same", "zeros", 1, 1, 0.0, "identity", 0.01, "none", 2, None).spec(weight, groups=groups))


def test_every_kernel_change_redraws_the_figures_with_the_kernel_shown():
    """A kernel change reruns the kernel's controls (an edit that keeps the kernel's shape:
    only its editors) and the figures, never the layer's controls; after each, the figure
    applies exactly the kernel the text box shows."""
    at = ok(_open())
    before = _applied_digest(at)
    assert before == _shown_digest(at)
    five = "\n".join(["1 2 3 2 1"] * 5)
    # (change, what reruns besides the figures): an edit that takes the kernel from its preset
    # or back reruns the kernel's controls once, so that their header says "Custom (edited
    # from ...)" as the figure does, or the preset's name again
    changes = [
        (lambda: at.selectbox(key="lab.k.preset").set_value("gaussian"), "kernel"),
        (lambda: at.select_slider(key="lab.k.size").set_value(7), "kernel"),
        (lambda: at.slider(key="lab.k.sigma").set_value(2.0), "kernel"),
        *[(lambda a=a: at.button(key=f"lab.k.do.{a}").click(), reruns)
          for a, reruns in (("flip", "editor"), ("random", "kernel"), ("transpose", "editor"),
                            ("random", "editor"), ("normalise", "editor"),
                            ("reset", "kernel"))],
        (lambda: at.selectbox(key="lab.k.preset").set_value("sobel_x"), "kernel"),
        (lambda: at.text_area(key="lab.k.text").set_value("1 2 3\n4 5 6\n7 8 10"), "kernel"),
        (lambda: at.multiselect(key="lab.k.bank").set_value(["sobel_y"]), "kernel"),
        (lambda: at.text_area(key="lab.k.text").set_value("0 1 0\n1 -4 1\n0 1 0"), "editor"),
        # a new shape: the filter bank (3 x 3 kernels) must be redrawn, and drops Sobel y
        (lambda: at.text_area(key="lab.k.text").set_value(five), "kernel"),
        (lambda: at.button(key="lab.k.do.transpose").click(), "editor"),
    ]
    redrawn = 0
    for i, (change, reruns) in enumerate(changes):
        whole(at)  # every control back in the page AppTest holds
        change().run()
        ok(at)
        assert not _has(at, "lab.stride"), i  # the layer's controls were not sent again
        assert _has(at, "lab.k.text"), i
        assert _has(at, "lab.k.preset") == (reruns == "kernel"), i
        assert _applied_digest(at) == _shown_digest(at), i
        if reruns == "kernel":  # the header names the kernel as the figure does
            header = at.expander[0].label
            assert ("Custom (edited from" in header) == (i in (4, 10, 11, 12, 13)), (i, header)
        redrawn += _applied_digest(at) != before
        before = _applied_digest(at)
    assert at.session_state["lab.k.bank"] == []
    # all but the flip of the (symmetric) Gaussian changed the kernel, and the figure with it
    assert redrawn == len(changes) - 1


def test_padding_activation_and_pooling_rerun_the_layer_and_the_figures():
    at = ok(_open())
    at.pills(key="lab.pool").set_value("max").run()
    assert shape(ok(at)) == "150 x 225 x 1"
    assert _has(at, "lab.pk")  # the pool's window appeared
    assert not _has(at, "lab.k.preset")  # the kernel's controls were not sent again
    at.pills(key="lab.pad").set_value("valid").run()
    assert shape(ok(at)) == "149 x 224 x 1"
    at.pills(key="lab.act").set_value("leaky_relu").run()
    assert _has(ok(at), "lab.slope")


def test_the_figure_payload_carries_config_data_and_layout():
    import plotly.graph_objects as go

    from ui.plotly_view import payload

    fig = go.Figure(go.Heatmap(z=np.arange(6, dtype=np.float32).reshape(2, 3)))
    fig.update_layout(meta={"token": "t"})
    got = json.loads(payload(fig, lab_figure.PLOTLY_CONFIG))
    assert got["config"] == lab_figure.PLOTLY_CONFIG
    assert got["layout"]["meta"] == {"token": "t"}
    assert _array(got["data"][0]["z"]).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_without_static_serving_the_figure_is_a_plotly_chart():
    """Started from another directory, Streamlit does not read the app's config, so it serves
    no static files (no plotly.js for the in-place view): the figure is then a plotly_chart
    with the same content."""
    from streamlit import config

    before = config.get_option("server.enableStaticServing")
    try:
        config.set_option("server.enableStaticServing", True)
        with_view = ok(_open({"s": "2"}))
        config.set_option("server.enableStaticServing", False)
        at = ok(_open({"s": "2"}))
    finally:
        config.set_option("server.enableStaticServing", before)
    assert not [e for e in at.get("bidi_component") if e.proto.id.endswith("-lab.figure")]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 1
    assert charts[0]["layout"]["meta"] == figure(with_view)["layout"]["meta"]
    assert shape(at) == shape(with_view)


def test_the_plain_figure_data_sends_what_the_validated_figure_sends():
    """The lab sends compare_figure_data without go.Figure's validation: the browser must get
    the same figure (every array as the same typed array) as from the validated go.Figure."""
    from tests.viz.test_maps import _panels
    from ui.plotly_view import payload
    from viz import maps

    _, _, left, right = _panels()
    data = maps.compare_figure_data(left, right)
    sent = json.loads(payload(data))
    assert sent == json.loads(payload(maps.compare_figure(left, right)))
    assert sent["data"][1]["z"]["dtype"] == "f4"  # arrays travel as typed arrays
    assert isinstance(data["data"][1]["z"], np.ndarray)  # the (cached) input is left as it was
