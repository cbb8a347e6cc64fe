"""Filter lab: one convolutional layer on a real photo, stage by stage.

Sidebar: the image (gallery, upload, webcam; working resolution; colour handling). Main area:
the kernel (preset, table and grid, text, actions, filter bank, RGB slices) and the layer
(padding, stride, dilation, bias, activation, pooling), the input beside the result with
linked zoom, the
output-size arithmetic, every stage with its shape, range and colour bar, each map, a
histogram, downloads, equivalent code, and a link that restores all of it.

A change in the sidebar reruns the page (it changes the layer's input). The kernel's controls,
the layer's controls and the figures are three fragments, and a change reruns only what it
affects: the sidebar is not sent again (about 60 ms less per layer change in Chromium), nor the
layer's controls after a bias change (-26 and -37 ms side by side, in both orders).
The figure is updated in place (``ui/plotly_view.py``), so a zoom survives changes.
Logic lives in ``ui/lab.py``; figures in ``viz/maps.py``.
"""

import streamlit as st

from conv import image
from ui import controls, lab
from ui.html_view import html_view
from ui.plotly_view import plotly_view

ss = st.session_state
st.html(lab.PAGE_CSS)
URL = lab.url_state()
notices = URL.restore()
lab.after_restore(URL, notices)
ss.setdefault("lab.src", "Gallery")
upload_error = None

# ---- Sidebar: the image ------------------------------------------------------------------
with st.sidebar:
    source = st.pills("Source", ["Gallery", "Upload", "Webcam"], key="lab.src", required=True)
    if source == "Gallery":
        lab.gallery()
    elif source == "Upload":
        file = st.file_uploader("A photo: PNG, JPEG, WebP, BMP, GIF or TIFF",
                                type=list(image.EXTENSIONS) + ["heic", "heif"],
                                key="lab.file")
        if file is not None:
            with st.spinner("Reading the photo..."):
                upload_error = lab.receive_upload(file.getvalue(), file.name, "upload",
                                                  file.file_id)
    res = st.pills("Working resolution (longest side)", lab.RESOLUTIONS, key="lab.res",
                   required=True, format_func=lab.resolution_label)
    colour = st.pills("Colour", lab.COLOURS, key="lab.colour", required=True,
                      format_func=lab.COLOUR_LABELS.get)
    st.caption(lab.colour_sentences(colour))

# ---- Main area ---------------------------------------------------------------------------
st.title("Filter lab")
for notice in notices:
    st.warning(notice)
if source == "Webcam":
    shot = st.camera_input("Take a photo with the webcam", key="lab.camera")
    if shot is not None:
        upload_error = lab.receive_upload(shot.getvalue(), "webcam photo", "camera",
                                          shot.file_id)

img = lab.current_image()
if upload_error:
    st.error(f"{upload_error} Still showing {img.title}.")
with st.spinner("Preparing the image..."):
    rgb, what, limit = lab.working_image(img, res)
    longest, _ = lab.longest_side(img, res)
    x = lab.engine_input(img, longest, colour, rgb)
st.caption(f"**{img.title}**. {what}"
           + (f" Notes on the file: {'; '.join(img.notes)}." if img.notes else "")
           + " Image: in the sidebar.")
if limit:
    st.warning(limit)
lab.publish_image(rgb, img)


# The three fragments below rerun alone or in pairs, each naming what it changes: a kernel change
# reruns the kernel's controls and the figures, a layer value only the figures (the ~20 layer
# controls are not sent again), padding, activation and pooling the layer's controls and the
# figures. The browser's redraw of every element sent is the larger part of a change's time.
KERNEL, LAYER, FIGURES = "lab-kernel", "lab-layer", "lab-figures"
APPLIED = "lab.applied"  # (kernels, RGB slices): what the kernel's controls hand the figures


def _redraw(*fragments: str):
    """A callback's follow-up: rerun these fragments, in this order, and nothing else."""
    return lambda: st.rerun(list(fragments))


@st.fragment(key=KERNEL)
def kernel_section(colour: str) -> None:
    """The kernel: preset, table or grid, text, actions, filter bank, RGB slices. Every change
    reruns this, then the figures, which apply what this leaves in ``ss[APPLIED]``."""
    after = _redraw(KERNEL, FIGURES)
    # collapsed, so that the figure starts high on a 720-pixel screen
    with st.expander(f"**Kernel:** {controls.kernel_summary('lab.k')}", key="lab.kernel_open",
                     icon=":material/grid_on:"):
        left, right = st.columns([1.2, 1], gap="large")
        with left:
            picked = controls.kernel_picker("lab.k", page="filter_lab", on_change=after)
        with right:
            bank = controls.bank_picker("lab.k", picked.weights.shape, on_change=after)
            slices = (controls.rgb_slices("lab.k", picked.weights, on_change=after)
                      if colour == "rgb" else None)
    ss["lab.kt"] = controls.format_kernel(picked.weights) if picked.edited else None
    ss[APPLIED] = ([(picked.name, picked.weights)] + bank, slices)


@st.fragment(key=LAYER)
def layer_section() -> None:
    """The layer's controls. A value (stride, dilation, bias, padding mode, ...) reruns only
    the figures; padding, activation and pooling, which show or hide controls, this too."""
    # its label is constant: a value change reruns only the figures, which say the settings
    with st.expander("**Layer:** padding, stride, dilation, bias, activation, pooling",
                     key="lab.layer_open", icon=":material/tune:"):
        controls.layer_controls("lab", columns=True, on_value=_redraw(FIGURES),
                                on_shape=_redraw(LAYER, FIGURES))


@st.fragment(key=FIGURES)
def figures(img: lab.LabImage, longest, colour: str, x) -> None:
    """Everything computed from the layer: its kernels from ``ss[APPLIED]``, its settings from
    the session state (this reruns alone, with the arguments of its last call). The display
    options' changes rerun only this too."""
    kernels, slices = ss[APPLIED]
    layer = controls.layer_from_state("lab")
    st.caption(f"**Layer applied:** {controls.layer_summary('lab')}")
    weight, groups, names = lab.layer_weights(kernels, colour, slices)
    pair = lab.derivative_pair(kernels)
    try:
        spec = lab.layer_spec(weight, groups, layer)
    except ValueError as exc:
        st.error(f"These settings are not a layer: {exc}")
        lab.show_link(URL)
        return
    arith = lab.arithmetic(x.shape, spec)

    shown, j, mapping = lab.display_options(spec, kernels, pair)
    if arith.error:
        st.error(f"This layer cannot be applied to a {x.shape[1]} x {x.shape[2]} (height x "
                 f"width) image: {arith.error}.")
        lab.show_link(URL)
        lab.show_arithmetic(arith, spec, x.shape)
        return
    try:
        with lab.busy(x, spec):
            result = lab.compute(img, longest, colour, x, spec, names, len(kernels), pair)
            figure = lab.main_figure(result, shown, j, mapping,
                                     token=lab.figure_token(img, longest, colour, spec, shown,
                                                            j, mapping))
    except ValueError as exc:
        st.error(f"This layer cannot be applied: {exc}")
        lab.show_link(URL)
        return
    plotly_view(figure, key="lab.figure", config=lab.PLOTLY_CONFIG)
    lab.show_link(URL)
    lab.show_arithmetic(arith, spec, x.shape)

    st.subheader("Stage by stage")
    right = lab.right_key(result, shown, j)
    if len(kernels) > 1 or colour == "channels":
        st.caption(lab.strip_note(result, j))
    # one element for the strips and the histogram: each element costs the browser a redraw
    parts = [lab.stage_strip_html(result, j, mapping, right)]
    if result.spec.weight_shape[0] > 1 or pair:
        stage = "conv" if right == "mag" else right
        parts += [f'<h3 class="lab-h3">Each map: {lab.STAGE_LABELS[stage]}</h3>',
                  lab.maps_strip_html(result, stage, mapping)]
    html_view("".join(parts + [lab.histogram(result, right, j, mapping)]), key="lab.stages")
    lab.show_downloads(img, result, j, mapping)
    lab.show_code(img, result)


kernel_section(colour)
layer_section()
figures(img, longest, colour, x)
