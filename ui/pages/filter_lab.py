"""Filter lab: one convolutional layer on a real photo, stage by stage.

Sidebar: the image (gallery, upload, webcam; working resolution; colour handling). Main area:
at the left the kernel (preset, table and grid, text, actions, filter bank, RGB slices) and
the layer (padding, stride, dilation, bias, activation, pooling); beside them the input beside
the result with linked zoom (as tall as the window allows), the
output-size arithmetic, every stage with its shape, range and colour bar, each map, a
histogram, downloads, equivalent code, and a link that restores all of it.

A change in the sidebar reruns the page (it changes the layer's input). The kernel's controls
(with its editors, a fragment of their own), the layer's controls and the figures are
fragments, and a change reruns only what it affects, through a keyed ``st.rerun`` from its
callback: the sidebar is not sent again (about 60 ms less per layer change in Chromium), nor
the controls after a layer value's change, nor the preset's controls after a kernel action.
The figure is updated in place (``ui/plotly_view.py``), so a zoom survives changes.
Logic lives in the ``ui/lab_*.py`` modules, one job each: the settings and the link
(``lab_state``), the image (``lab_source``), the computed layer (``lab_result``), the figure
(``lab_figure``), the stage strips and histogram (``lab_strip``), their CSS (``lab_style``), the
arithmetic (``lab_arithmetic``), downloads and code (``lab_downloads``); the layer's weights
come from ``kernels/algebra.py``, pictures from ``viz/maps.py``.
"""

import html

import streamlit as st

from conv import image
from kernels import algebra
from kernels.text import format_kernel
from ui import (
    display,
    kernel_controls,
    lab_arithmetic,
    lab_downloads,
    lab_figure,
    lab_result,
    lab_source,
    lab_state,
    lab_strip,
    lab_style,
    layer_controls,
    uploads,
)
from ui.classroom import header, mode
from ui.classroom import style as page_style
from ui.html_view import html_view
from ui.plotly_view import plotly_view

ss = st.session_state
uploads.note_session()  # what this tab leaves (uploads, media) is freed once it has gone
URL = lab_state.url_state()
notices = URL.restore()
lab_state.after_restore(URL, notices)
classroom = mode(notices)
page_style(lab_style.PAGE_CSS, lab_style.CLASSROOM_CSS, on=classroom)
ss.setdefault("lab.src", "Gallery")
upload_error = None

# ---- Sidebar: the image ------------------------------------------------------------------
with st.sidebar:
    source = st.pills("Source", ["Gallery", "Upload", "Webcam"], key="lab.src", required=True)
    if source == "Gallery":
        lab_source.gallery()
    elif source == "Upload":
        file = st.file_uploader("A photo: PNG, JPEG, WebP, BMP, GIF or TIFF",
                                type=list(image.EXTENSIONS) + ["heic", "heif"],
                                key="lab.file")
        if file is not None:  # None again once its bytes are taken (the name stays shown)
            with st.spinner("Reading the photo..."):
                upload_error = lab_source.receive_upload(file, "upload")
    res = st.pills("Working resolution (longest side)", lab_source.RESOLUTIONS, key="lab.res",
                   required=True, format_func=lab_source.resolution_label)
    colour = st.pills("Colour", lab_source.COLOURS, key="lab.colour", required=True,
                      format_func=lab_source.COLOUR_LABELS.get)
    st.caption(lab_source.colour_sentences(colour))

# ---- Main area ---------------------------------------------------------------------------
header("Filter lab")
for notice in notices:
    st.warning(notice)
if source == "Webcam":
    shot = st.camera_input("Take a photo with the webcam", key="lab.camera")
    if shot is not None:
        upload_error = lab_source.receive_upload(shot, "camera", "webcam photo")

src, img, gone = lab_source.current_image()
if gone:
    st.warning(gone)
if upload_error:
    st.error(f"{upload_error} Still showing {img.title}.")
with st.spinner("Preparing the image..."):
    prepared = lab_source.prepare(src, colour)
st.caption(f"**{img.title}**. {prepared.what}"
           + (f" Notes on the file: {'; '.join(img.notes)}." if img.notes else "")
           + " Image: in the sidebar.")
if prepared.limit:
    st.warning(prepared.limit)
lab_source.publish_image(src, img)
del img, prepared  # pixels live in the byte budget, not in this run's names


# The fragments below rerun alone or in pairs, each naming what it changes: a kernel change
# reruns the kernel's controls and the figures (an edit that keeps the kernel's shape: only the
# kernel's editors and the figures), a layer value only the figures (the ~20 layer controls are
# not sent again), padding, activation and pooling the layer's controls and the figures. The
# browser's redraw of every element sent (about 2 ms each) is a large part of a change's time.
KERNEL, EDITOR, LAYER, FIGURES = "lab-kernel", "lab-kernel-edit", "lab-layer", "lab-figures"
# what the kernel's controls hand the figures: the picked kernel (name, weights), the filter
# bank's [(name, weights), ...] and the RGB slices (3, kH, kW) or None
PICKED, BANK, SLICES = "lab.picked", "lab.bank_applied", "lab.slices_applied"


def _redraw(*fragments: str):
    """A callback's follow-up: rerun these fragments, in this order, and nothing else."""
    return lambda: st.rerun(list(fragments))


def _after_edit() -> None:
    """An action, the grid or the text changed the kernel: rerun its editors and the figures,
    or all the kernel's controls when the filter bank or the RGB slices depend on the change
    (a new shape, or a full RGB filter, whose slices start from the kernel)."""
    _, old = ss[PICKED]
    new = kernel_controls.current_kernel("lab.k")
    if ss.get("lab.colour") == "rgb" or new is None or new.shape != old.shape:
        st.rerun([KERNEL, FIGURES])
    # the section's header names the kernel: "Custom (edited from ...)" from the first edit
    # on, the preset's name again when an edit gives it back
    label = f"**Kernel:** {kernel_controls.kernel_summary('lab.k')}"
    if label != ss.get("lab.kernel_box", ("",))[0]:
        st.rerun([KERNEL, FIGURES])
    st.rerun([EDITOR, FIGURES])


def _picked(picked: kernel_controls.PickedKernel) -> None:
    ss["lab.kt"] = format_kernel(picked.weights) if picked.edited else None
    ss[PICKED] = (picked.name, picked.weights)


@st.fragment(key=KERNEL)
def kernel_section(colour: str) -> None:
    """The kernel: preset, actions, table or grid, text, filter bank, RGB slices. Every change
    reruns this (or only its editors), then the figures, which apply what it leaves in the
    session state (:data:`PICKED`, :data:`BANK`, :data:`SLICES`).

    Folded (as a page opens), its controls are not built: the kernel is read from the session
    state (the widgets keep their values while hidden, ``persist="page"``), and a run of the
    page sends 20 elements fewer, each one server time and a redraw in the browser. Opening it
    reruns this fragment alone."""
    after = _redraw(KERNEL, FIGURES)
    # collapsed at first, so that the figure starts high on a 720-pixel screen. Streamlit
    # names a stateful expander by its label and its ``expanded``: a new kernel (in the label)
    # makes a new expander, which starts as the previous one was (open after a change made in
    # it); opening or closing it keeps the same one (a new one would be drawn again in the
    # browser under the user's next click)
    label = f"**Kernel:** {kernel_controls.kernel_summary('lab.k')}"
    if ss.get("lab.kernel_box", ("",))[0] != label:
        ss["lab.kernel_box"] = (label, bool(ss.get("lab.kernel_open", False)))
    box = st.expander(label, key="lab.kernel_open", icon=":material/grid_on:",
                      on_change="rerun", expanded=ss["lab.kernel_box"][1])
    if not box.open:
        picked = kernel_controls.picked_kernel("lab.k", page="filter_lab")
        _picked(picked)
        ss[BANK] = kernel_controls.bank_kernels("lab.k", picked.weights.shape)
        ss[SLICES] = (kernel_controls.slices_from_state("lab.k", picked.weights)
                      if colour == "rgb" else None)
        return
    # one column: the section sits beside the figure, in the page's narrower column
    with box:
        picked = kernel_controls.kernel_picker("lab.k", page="filter_lab", on_change=after,
                                        on_edit=_after_edit, editor_key=EDITOR,
                                        on_picked=_picked, persist="page")
        ss[BANK] = kernel_controls.bank_picker("lab.k", picked.weights.shape, on_change=after,
                                        persist="page")
        ss[SLICES] = (kernel_controls.rgb_slices("lab.k", picked.weights, on_change=after)
                      if colour == "rgb" else None)


@st.fragment(key=LAYER)
def layer_section() -> None:
    """The layer's controls. A value (stride, dilation, bias, padding mode, ...) reruns only
    the figures; padding, activation and pooling, which show or hide controls, this too.
    Folded (as a page opens), they are not built (14 elements fewer per run of the page): the
    figures read the layer from the session state, where the widgets keep their values."""
    # its label is constant: a value change reruns only the figures, which say the settings
    box = st.expander("**Layer:** padding, stride, dilation, bias, activation, pooling",
                      key="lab.layer_open", icon=":material/tune:", on_change="rerun")
    if box.open:
        with box:
            layer_controls.layer_controls("lab", on_value=_redraw(FIGURES),
                                    on_shape=_redraw(LAYER, FIGURES), persist="page")


@st.fragment(key=FIGURES)
def figures(src: lab_source.Source, colour: str) -> None:
    """Everything computed from the layer: its kernels and settings from the session state
    (this reruns alone, with the arguments of its last call: a :class:`lab_source.Source`,
    which holds no pixels). The display options' changes rerun only this too."""
    try:
        p = lab_source.prepare(src, colour)
    except lab_source.UploadGone:  # dropped since the page's run: the page says so
        st.rerun()
    img, longest, x = p.img, p.longest, p.x
    name, w = ss[PICKED]
    # the bank and the slices share the kernel's shape (the callbacks rerun their controls when
    # the shape changes); never a traceback if they did not
    kernels = [(name, w)] + [(n, b) for n, b in ss[BANK] if b.shape == w.shape]
    slices = ss[SLICES] if ss[SLICES] is not None and ss[SLICES].shape[1:] == w.shape else None
    layer = layer_controls.layer_from_state("lab")
    st.caption(f"**Layer applied:** {layer_controls.layer_summary('lab')}")
    weight, groups, names = algebra.layer_weights(kernels, colour, slices)
    pair = algebra.derivative_pair(kernels)
    try:
        spec = layer.spec(weight, groups=groups)
    except ValueError as exc:
        st.error(f"These settings are not a layer: {exc}")
        lab_state.show_link(URL)
        return
    arith = lab_arithmetic.arithmetic(x.shape, spec)

    shown, j, mapping = lab_figure.display_options(spec, kernels, pair)
    limits, style = ss.get("lab.lim", "p99.5"), display.style()
    if arith.error:
        st.error(f"This layer cannot be applied to a {x.shape[1]} x {x.shape[2]} (height x "
                 f"width) image: {arith.error}.")
        lab_state.show_link(URL)
        lab_arithmetic.show_arithmetic(arith, spec, x.shape)
        return
    try:
        with lab_result.busy(x, spec):
            result = lab_result.compute(img, longest, colour, x, spec, names, len(kernels), pair)
            token = lab_figure.figure_token(img, longest, colour, spec, shown, j, mapping, limits,
                                     style)
            # the figure is built only when plotly_view does not hold what it sends already
            plotly_view(lambda: lab_figure.main_figure(result, shown, j, mapping, token=token,
                                                limits=limits, style=style),
                        key="lab.figure", config=lab_figure.PLOTLY_CONFIG,
                        cache_key=lab_figure.figure_key(result, shown, j, mapping, token),
                        fit=True)
    except ValueError as exc:
        st.error(f"This layer cannot be applied: {exc}")
        lab_state.show_link(URL)
        return
    lab_state.show_link(URL)
    lab_arithmetic.show_arithmetic(arith, spec, x.shape)

    right = lab_figure.right_key(result, shown, j)
    # one element for the heading, the strips and the histogram: every element sent costs the
    # browser a redraw (about 2 ms each per change)
    parts = ['<h3 class="lab-h3">Stage by stage</h3>']
    if len(kernels) > 1 or colour == "channels":
        parts.append(f'<p class="lab-note">{html.escape(lab_strip.strip_note(result, j))}</p>')
    parts.append(lab_strip.stage_strip_html(result, j, mapping, right, limits))
    if result.spec.weight_shape[0] > 1 or pair:
        stage = "conv" if right == "mag" else right
        parts += [f'<h3 class="lab-h3">Each map: {lab_result.STAGE_LABELS[stage]}</h3>',
                  lab_strip.maps_strip_html(result, stage, mapping, limits)]
    html_view("".join(parts + [lab_strip.histogram(result, right, j, mapping, limits, style)]),
              key="lab.stages")
    job = lab_downloads.Job(src, colour, spec, tuple(names), len(kernels), pair)
    lab_downloads.show_downloads(img, result, job, j, mapping, limits, style)
    lab_downloads.show_code(img, result)


# the kernel's and the layer's controls beside the figure, so that an edit and its effect are
# seen together (on a phone, Streamlit stacks the columns: the controls above the figure)
controls_column, figure_column = st.columns([1, 1.75], gap="medium")
with controls_column:
    kernel_section(colour)
    layer_section()
with figure_column:
    figures(src, colour)
