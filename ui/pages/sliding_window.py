"""Sliding window: the kernel moves over the input one output cell at a time, every
multiplication shown with its numbers, the output filling in.

One click loads a worked example of the lecture notes with its exact numbers; or a random grid,
or a patch of a photo (the filter lab's, or a sample), with any kernel and layer settings. The
animation plays in the browser (Play, Pause, Step, the slider, and the presenter keys of
``ui/keys.py``); clicking an output cell jumps there. Classroom mode (``?classroom=1``,
``ui/classroom.py``) is for a projector: large type, sidebar collapsed, everything a click. The
address bar always holds a link restoring the exact configuration, the position reached in
the browser included (reported by the keys' component once the animation rests).
"""

import logging

import numpy as np
import streamlit as st

from conv.examples import EXAMPLES
from conv.stages import PoolSpec
from kernels.text import format_kernel
from ui import display, keys, shared
from ui import window_view as wv
from ui.classroom import header
from ui.classroom import mode as classroom_mode
from ui.classroom import style as page_style
from ui.html_view import html_view
from ui.kernel_controls import kernel_picker
from ui.layer_controls import layer_controls
from viz import animation

log = logging.getLogger(__name__)
ss = st.session_state

CSS = """
.st-key-sw-figure, .st-key-sw-pool-figure { margin-top: -0.5rem; }
.st-key-sw-sizes p { font-size: 1.15rem; }
"""
# A projector: the examples and the numbers under the figure in larger type.
CLASSROOM_CSS = """
.st-key-sw-examples button p { font-size: 1.1rem; font-weight: 600; }
.st-key-sw-sizes p, .st-key-sw-selected p { font-size: 1.3rem; }
"""

URL = wv.url_state()
notices = URL.restore()
wv.after_restore(URL, notices)
classroom = classroom_mode(notices)
page_style(CSS, CLASSROOM_CSS, on=classroom)


def _on_source() -> None:
    wv.load_example(ss["sw.source"])


def _on_click(chart_key: str, step_key: str) -> None:
    step = wv.clicked_step(chart_key)
    if step is not None:
        ss[step_key] = step


# the animations the keys drive (their containers), and where each keeps its position
TARGETS = {"conv": (".st-key-sw-figure", "sw.step"), "pool": (".st-key-sw-pool-figure", "sw.pstep")}


def _on_frame() -> None:
    """The browser settled on a frame (a key, Step, Play then Pause, the slider): keep it, for
    the link, without drawing the figure again (it shows that frame already)."""
    got = keys.reported("sw.keys")
    if got is None or got[0] not in TARGETS or not got[1].isdigit():
        return
    keys.browser_step(TARGETS[got[0]][1], int(got[1]))


def _on_screen() -> None:
    """The browser measured the room the figure has: lay it out for that."""
    screen = wv.screen_of(keys.reported_screen("sw.keys"))
    if screen is not None:
        ss["sw.screen"] = screen


def _new_seed() -> None:
    ss["sw.seed"] = int(ss.get("sw.seed", 1)) + 1


# ---- Header: the examples, one click each, and classroom mode ---------------------------
header("Sliding window")
for notice in notices:
    st.warning(notice)
with st.container(key="sw-examples"):
    source = st.pills(
        "The lecture notes' worked examples (one click), or your own input",
        wv.SOURCES, key="sw.source", required=True, on_change=_on_source,
        format_func=(wv.SHORT_LABELS if classroom else wv.SOURCE_LABELS).get,
        # on a projector the short labels say it: the grids get the line
        label_visibility="collapsed" if classroom else "visible")
example = EXAMPLES.get(source)


def input_controls():
    """The sidebar's input section: returns ``(x, caption)`` or raises ValueError."""
    if example is not None:
        st.caption(f"Input: {example.source}.")
        return example.input_array, None
    if source == "random":
        st.markdown("**Random grid**")
        c1, c2 = st.columns(2)
        rows = c1.number_input("Rows", 2, wv.MAX_CELLS, step=1, key="sw.rows")
        cols = c2.number_input("Columns", 2, wv.MAX_CELLS, step=1, key="sw.cols")
        st.pills("Values", list(wv.VALUE_RANGES), key="sw.vals", required=True)
        c1, c2 = st.columns(2)
        seed = c1.number_input("Seed", 0, 10**9, step=1, key="sw.seed")
        c2.button("New numbers", on_click=_new_seed, width="stretch")
        return wv.random_grid(int(rows), int(cols), int(seed), ss["sw.vals"]), None
    st.markdown("**Patch of a photo**")
    have_lab = shared.lab_image() is not None
    options = list(wv.PHOTOS if have_lab else wv.PHOTOS[1:])
    if ss.get("sw.photo") not in options:
        ss["sw.photo"] = options[0] if have_lab else "camera"
    choice = st.selectbox("Photo", options, key="sw.photo",
                          format_func=lambda p: "The filter lab's photo" if p == wv.LAB_PHOTO
                          else f"Sample: {p}")
    pic = wv.photo(choice)
    name = pic.name
    gray = wv.photo_gray(pic)
    h, w = gray.shape
    ss["sw.region"] = int(min(max(ss.get("sw.region", 96), 2), min(h, w)))
    ss["sw.cells"] = int(min(ss.get("sw.cells", 12), ss["sw.region"], wv.MAX_CELLS))
    cells = st.slider("Cells (the patch is this many cells across)", 2,
                      int(min(wv.MAX_CELLS, ss["sw.region"])), key="sw.cells")
    region = st.slider("Region (pixels of the photo, averaged down to the cells)", int(cells),
                       int(min(h, w)), key="sw.region")
    c1, c2 = st.columns(2)
    cx = c1.slider("Centre x (% of width)", 0, 100, key="sw.px")
    cy = c2.slider("Centre y (% of height)", 0, 100, key="sw.py")
    patch = wv.photo_patch(gray, cx, cy, region, cells)
    st.image(wv.thumbnail_jpeg(pic, patch.box),
             caption=f"{name}: the outlined square becomes the grid")
    size = patch.box[2] - patch.box[0]
    note = (f"A {size} x {size}-pixel square of {name}, gray (0.299 R + 0.587 G + 0.114 B)"
            + (f", each cell the average of {patch.factor:g} x {patch.factor:g} pixels"
               if patch.factor > 1 else "") + ", rounded to whole pixel values.")
    return patch.x, note


def kernel_controls():
    """The sidebar's kernel section: the 2-D kernel applied, or None for the volume's own
    filters and the pooling-only example."""
    if example is not None and example.spec is None:
        st.caption("This example has no kernel: it pools its input directly.")
        return None
    if example is not None and example.spec.weight_shape[:2] != (1, 1):
        w = example.spec.weight_array
        st.markdown(f"**The example's {w.shape[0]} filters** ({w.shape[1]} x {w.shape[2]} x "
                    f"{w.shape[3]} each, with biases {', '.join(f'{b:g}' for b in example.spec.bias)}) "
                    "are shown in the figure.")
        return None
    picked = kernel_picker(wv.K, default="vertical_edge", page=wv.PAGE, grid=False)
    ss["sw.kt"] = format_kernel(picked.weights) if picked.edited else None
    st.checkbox("True convolution: rotate the kernel by 180° first", key="sw.flip",
                help="Deep-learning 'convolution' is cross-correlation (no flip), as in "
                     "PyTorch; the mathematical convolution flips the kernel.")
    return picked.weights


# ---- Sidebar: input, kernel, layer ------------------------------------------------------
error = None
with st.sidebar:
    try:
        x, input_note = input_controls()
    except ValueError as exc:
        error, x, input_note = f"The input cannot be made: {exc}", None, None
    st.divider()
    weights = kernel_controls()
    st.divider()
    st.markdown("**Layer**")
    layer = layer_controls("sw")

if error:
    st.error(error)
    st.stop()


def describe() -> None:
    """What the example is (and where the notes slip), or where the input comes from."""
    if example is not None:
        text = example.description
        if example.reconstructed:
            text += f" *{example.reconstructed}*"
        st.info(text)
        for slip in example.slips:
            st.caption(f"Where the notes slip: {slip}")
    elif input_note:
        st.caption(input_note)




def build():
    """The input and the spec (``spec`` None: pooling only), or ValueError with the reason."""
    if example is not None and example.spec is None:
        pool = None
        if layer.pool != "none":
            pool = PoolSpec(kernel_size=layer.pool_size, stride=layer.pool_stride,
                               mode=layer.pool)
        if pool is None:
            raise ValueError("this example is about pooling: choose max or average pooling "
                             "under Layer")
        _, h, w = x.shape
        if pool.kernel_size[0] > h or pool.kernel_size[1] > w:
            raise ValueError(f"the pooling window ({pool.kernel_size[0]} x "
                             f"{pool.kernel_size[1]}) is larger than the {h} x {w} input")
        return None, pool
    if example is not None and weights is None:
        spec = wv.volume_spec(example, layer)
    else:
        spec = wv.layer_spec(weights, layer, bool(ss.get("sw.flip")))
    spec.resolve(x.shape)  # ValueError with the reason when the layer cannot be applied
    return spec, spec.pool


def size_notes(spec) -> list[str]:
    """What the output-size formula (in the figure) does not say: an inexact division, and
    TensorFlow's SAME at stride > 1."""
    out = []
    for worked, axis in zip(spec.resolve(x.shape).conv.worked(), ("row", "column")):
        if worked.note:
            out.append(f"Note ({axis}s): {worked.note}.")
    if spec.padding == "same" and spec.stride != (1, 1):
        out.append("Padding 'same' at stride > 1 follows TensorFlow's SAME: output "
                   "ceil(n / s), the odd padding pixel at the bottom/right.")
    return out


@st.fragment
def show(x: np.ndarray, spec, pool) -> None:
    """The animations; a click on an output cell reruns only this."""
    data, shape = wv.key_of(x)
    style = display.style()
    cfg = hash((data, shape, spec, pool))  # classroom mode keeps the position
    if ss.get("sw.cfg") not in (None, cfg):  # a new configuration starts at step 1
        ss["sw.step"] = ss["sw.pstep"] = 0
    ss["sw.cfg"] = cfg
    screen = ss.get("sw.screen")  # the room for the figure, as the browser measured it
    figure_id = (cfg, classroom, screen, style)
    config = {"displayModeBar": False, "scrollZoom": False, "doubleClick": False}
    if spec is not None:
        with st.container(key="sw-sizes"):
            for line in size_notes(spec):
                st.markdown(line)
        anim = wv.conv_anim(data, shape, spec, classroom, style, screen)
        start = min(max(int(ss.get("sw.step", 0)), 0), anim.n_steps - 1)
        ss["sw.step"] = start
        # a position the browser reported is on the screen already: the figure stays as sent
        fig = wv.conv_figure(data, shape, spec, classroom,
                             keys.figure_start("sw.step", start, figure_id), style, screen)
        with st.container(key="sw-figure"):
            st.plotly_chart(fig, key="sw.chart", on_select=lambda: _on_click("sw.chart", "sw.step"),
                            selection_mode="points", config=config, theme=None, width="stretch")
        legend = ["orange: the window and the cell it computes"]
        if spec.dilation != (1, 1):
            legend.append("dotted orange: the span of the dilated window")
        if spec.stride != (1, 1):
            legend.append("dashed blue: the previous window (the stride's jump)")
        if any(p for pair in wv.run_layer(data, shape, spec).padding for p in pair):
            legend.append("pale cells with italic values: padding")
        presenter_keys(screen)
        st.caption("**Play** runs it in your browser (slowly, normally or fast); **Step ▶** and "
                   "**◀ Back** move one cell; drag the slider; **click any output cell** to jump "
                   "to it (after a **Fast** run, press Step or Back first). "
                   + "; ".join(legend).capitalize() + ".")
        show_zoom(anim, start, "sw-zoom")
        step = anim.steps[start]
        run = wv.run_layer(data, shape, spec)
        with st.container(key="sw-selected"):
            st.markdown(f"**Step {start + 1}** (click any output cell to jump there): "
                        + animation.receptive_field_text(step, run.padding, x.shape[1:], spec,
                                                         spec.weight_shape[2:]))
        rounded = [v for v in np.unique(animation.applied_weights(spec))
                   if float(animation.fmt(v)) != float(v)]
        if rounded:
            st.caption("Weights in the equations are rounded to 4 decimals; the exact float32 "
                       "values used: " + ", ".join(f"{animation.fmt(v)} = {float(v):.9g}"
                                                   for v in rounded[:6]) + ".")
    if pool is not None:
        st.subheader("Pooling" + (" of the layer's output" if spec is not None else ""))
        panim = wv.pool_anim(data, shape, spec, pool, classroom, style, screen)
        pstart = min(max(int(ss.get("sw.pstep", 0)), 0), panim.n_steps - 1)
        ss["sw.pstep"] = pstart
        pfig = wv.pool_figure(data, shape, spec, pool, classroom,
                              keys.figure_start("sw.pstep", pstart, figure_id), style, screen)
        with st.container(key="sw-pool-figure"):
            st.plotly_chart(pfig, key="sw.pchart",
                            on_select=lambda: _on_click("sw.pchart", "sw.pstep"),
                            selection_mode="points", config=config, theme=None, width="stretch")
        st.caption("Each window keeps its " + ("largest value" if pool.mode == "max" else
                   "average (padding counts as 0)") + "; windows come from the same engine "
                   "code that pools.")
        show_zoom(panim, pstart, "sw-pool-zoom")
        if spec is None:  # the pooling-only example: its keys are here
            presenter_keys(screen, fit=".st-key-sw-pool-figure")
    describe()  # after the figure: on a 1280 x 720 screen the figure comes first
    export(data, shape, spec, pool, style)
    URL.show("the same example or input, kernel, layer, step and classroom mode",
             key="sw-link")


def show_zoom(anim, step: int, key: str) -> None:
    """The clicked window with its numbers, when the figure's cells are too small for them."""
    zoom = wv.zoom_html(anim, step)
    if zoom is not None:
        st.markdown("**The clicked window, zoomed** (the figure's cells are too small for their "
                    "numbers: click an output cell to zoom on its window)")
        html_view(zoom, key=key)


def presenter_keys(screen, fit: str = ".st-key-sw-figure") -> None:
    """The keys for both animations, their hint, and the measure of the room of the figure
    ``fit`` (a selector): the first one."""
    keys.presenter_keys([keys.animation_target(name, sel) for name, (sel, _) in
                         TARGETS.items()], key="sw.keys", on_step=_on_frame, fit=fit,
                        screen=screen, on_screen=_on_screen)


def export(data: bytes, shape, spec, pool, style) -> None:
    """An animated GIF of the animation, for slides (in the figure's colours)."""
    n = (wv.conv_anim(data, shape, spec, classroom, style).n_steps if spec is not None
         else wv.pool_anim(data, shape, spec, pool, classroom, style).n_steps)
    limit = animation.MAX_GIF_FRAMES
    what = f"all {n} steps" if n <= limit else f"the first {limit} of {n} steps"
    key = hash((data, shape, spec, pool, classroom, style))
    if st.button(f"Make an animated GIF for slides ({what})", key="sw.gif"):
        ss["sw.gif_for"] = key
    if ss.get("sw.gif_for") == key:
        with st.spinner("Drawing the frames..."):
            gif = wv.gif_bytes(data, shape, spec, pool, classroom, style)
        name = ss.get("sw.source", "animation")
        st.download_button(f"Download the GIF ({len(gif) / 1e6:.1f} MB)", gif,
                           file_name=f"sliding-window-{name}.gif", mime="image/gif",
                           on_click="ignore", key="sw.gif_download")


try:
    spec, pool = build()
except ValueError as exc:
    st.error(f"This layer cannot be applied: {exc}")
    URL.publish()
    st.stop()

try:
    show(x, spec, pool)
except ValueError as exc:
    st.error(f"The animation cannot be drawn: {exc}")
except Exception as exc:  # the page must survive anything: no traceback reaches it
    log.exception("sliding window page failed")
    st.error(f"Something went wrong while drawing the animation: {exc}")
