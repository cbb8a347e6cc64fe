"""CNN arithmetic: a network's shapes, neurons, parameters, multiply-adds and receptive fields.

Pick a preset (LeNet-5, AlexNet, VGG-16, the lecture notes' exercises) or edit the layers; every
number is shown with its formula. ``?preset=<key>`` in the URL restores a preset, and
``&net=...`` the network as edited (``ui.arithmetic_view.network_text``).
"""

import logging

import streamlit as st

from conv import network_io
from conv.comparisons import bottleneck_cost, dense_vs_conv, separable_cost
from conv.network import Network
from conv.network_presets import (
    BOTTLENECK_EXAMPLE,
    PRESETS,
    SEPARABLE_EXAMPLE,
    SEPARABLE_SEED_NOTES,
    Preset,
)
from ui import arithmetic_view as view
from ui import display
from ui.classroom import header, mode
from ui.classroom import style as page_style

log = logging.getLogger(__name__)
ss = st.session_state

classroom = mode()
page_style(view.PAGE_CSS, view.CLASSROOM_CSS, on=classroom)
header("CNN arithmetic")

URL = view.url_state()
view.after_restore(URL, URL.restore())


def preset_header() -> Preset:
    """The link's notice, the presets (one click each), the preset's description and the
    notes' slips: part of the network's fragment, so that a click reruns only that."""
    if ss.get("arith_notice"):
        st.warning(ss["arith_notice"])
    st.pills(
        "Preset: one click loads it (the link in the address bar restores it)",
        label_visibility="collapsed",
        help="One click loads a preset; the link in the address bar restores it.",
        options=list(PRESETS),
        format_func=view.preset_pill,
        key="arith_pick",
        on_change=view.on_pick,
        required=True,
    )
    preset = PRESETS[ss["arith_preset"]]
    st.info(view.esc(preset.description))
    view.show_seed_notes(preset.seed_notes, folded=True)
    return preset


def network_body() -> None:
    preset = preset_header()
    # the totals and the table come first, under the presets (one screen on a projector); the
    # editor that makes them is below, so they are drawn into this box once it has run
    results = st.container(key="arith-results")
    st.subheader("Edit the network: input and layers")
    if "arith_h" not in ss:  # widget state is dropped on a page switch; the input is not
        ss["arith_h"], ss["arith_w"], ss["arith_c"] = ss["arith_input"]
    c1, c2, c3, _ = st.columns([1, 1, 1, 3])
    h = c1.number_input("Input height H", min_value=1, max_value=100_000, step=1, key="arith_h")
    w = c2.number_input("Input width W", min_value=1, max_value=100_000, step=1, key="arith_w")
    c = c3.number_input("Input channels C", min_value=1, max_value=100_000, step=1, key="arith_c")

    st.caption(
        "Edit any cell, add rows at the bottom, delete rows with the checkbox column. Blank "
        "cells: fw = f, p = 0, s = 1 (conv) or f (pooling), d = 1, bias on. A softmax without "
        "units is the function alone (0 parameters)."
    )
    key = view.editor_key()  # first: it may restore the rows edited before a page switch
    edited = st.data_editor(
        view.editor_frame(ss["arith_rows"]),
        num_rows="dynamic",
        column_config=view.editor_column_config(),
        hide_index=True,
        placeholder="",
        height=view.editor_height(len(ss["arith_rows"])),
        key=key,
    )
    rows = view.plain_rows(edited.to_dict("records"))
    ss["arith_edited"] = rows
    edited_from_preset = view.is_edited(preset, rows, (h, w, c))
    view.publish_network(URL, edited_from_preset, (h, w, c), rows)

    layers, errors = network_io.layers_from_rows(rows)
    for message in errors:
        st.error(f"{message}. This row is left out until it is fixed.")
    try:
        network = Network((h, w, c), tuple(layers))
    except ValueError as exc:
        with results:
            st.error(f"The input size is not valid: {exc}")
        return
    ss["arith_input"] = network.input
    analysis = view.analysis_of(network)

    with results:
        if edited_from_preset:
            st.caption(f"Edited from the preset {preset.title} (below); the link in the "
                       "address bar keeps the edits.")
        view.show_totals(analysis)
        for row in analysis.impossible:
            st.error(
                f"Layer {row.index} ({row.name}) cannot exist: {row.error}. It is left out: the "
                "next layer receives its input, and it counts nothing in the totals."
            )
        # the table right under the totals, its notices after it: on a 1280 x 720 projector
        # the presets, the totals and the table's first rows are on one screen
        st.markdown("#### Layer by layer")
        st.table(view.results_frame(analysis), hide_index=True)
        if analysis.flagged:
            lines = "\n".join(
                f"- **{view.esc(r.name)}**: {view.esc('; '.join(r.flags))}"
                for r in analysis.flagged
            )
            st.markdown("**Notices**\n" + lines)
        st.caption("Output size `floor((n + 2p - f) / s) + 1`, parameters "
                   "`((f*f*c_in) + 1) * c_out`, neurons `H*W*C`, multiply-adds and receptive "
                   "field, layer by layer, with the actual numbers.")
        name = ss["arith_preset"] + ("-edited" if edited_from_preset else "")
        downloads = st.container(horizontal=True)
        downloads.download_button(
            "Download CSV",
            network_io.to_csv(analysis),
            file_name=f"{name}.csv",
            mime="text/csv",
            on_click="ignore",
        )
        downloads.download_button(
            "Download Markdown",
            network_io.to_markdown(analysis),
            file_name=f"{name}.md",
            mime="text/markdown",
            on_click="ignore",
        )

    with st.expander("How the receptive field grows (r = r_in + (k - 1) * j_in, j = j_in * s)"):
        st.markdown(view.rf_steps(analysis))

    st.subheader("Through the network")
    st.plotly_chart(view.network_chart(network, display.style()),
                    config={"displayModeBar": False}, theme=None)


def comparison_body() -> None:
    st.header("What does it cost?")

    st.subheader("Fully connected vs convolution")
    st.markdown(
        "A fully connected layer joins every input value to every output value; a convolution "
        "shares one small filter per output channel across all positions."
    )
    ex = PRESETS["ex_fc_vs_conv"].dense_example
    cols = st.columns(5)
    dh = cols[0].number_input("H", 1, 10_000, ex[0], key="arith_fc_h")
    dw = cols[1].number_input("W", 1, 10_000, ex[1], key="arith_fc_w")
    dc_in = cols[2].number_input("input channels", 1, 100_000, ex[2], key="arith_fc_cin")
    dc_out = cols[3].number_input("output channels", 1, 100_000, ex[3], key="arith_fc_cout")
    df = cols[4].number_input("filter f", 1, 99, ex[4], key="arith_fc_f")
    dense, figure = view.comparison_chart(dense_vs_conv, dh, dw, dc_in, dc_out, f=df,
                                         style=display.style())
    # the notes' slip in this example is corrected with its preset ("Exercise: 3x32x32 ->
    # 100x32x32"), not here, where it would stay on the page whatever the preset
    view.show_comparison(dense)
    st.plotly_chart(figure, config={"displayModeBar": False}, theme=None)

    st.subheader("Standard vs depthwise-separable convolution (MobileNet)")
    st.markdown(
        "Depthwise: one `f x f` filter per input channel. Pointwise: `1 x 1` filters mix the "
        "channels. Cost ratio `1/c_out + 1/f^2`."
    )
    ex = SEPARABLE_EXAMPLE
    cols = st.columns(5)
    h_out = cols[0].number_input("output H", 1, 10_000, ex["h_out"], key="arith_sep_h")
    w_out = cols[1].number_input("output W", 1, 10_000, ex["w_out"], key="arith_sep_w")
    f = cols[2].number_input("filter f", 1, 99, ex["f"], key="arith_sep_f")
    c_in = cols[3].number_input("input channels", 1, 100_000, ex["c_in"], key="arith_sep_cin")
    c_out = cols[4].number_input("output channels", 1, 100_000, ex["c_out"], key="arith_sep_cout")
    sep, figure = view.comparison_chart(separable_cost, h_out, w_out, f, c_in, c_out,
                                       style=display.style())
    is_seed = dict(h_out=h_out, w_out=w_out, f=f, c_in=c_in, c_out=c_out) == ex
    view.show_comparison(sep)
    if is_seed:  # no preset is this example: its corrections fold away beside it
        view.show_seed_notes(SEPARABLE_SEED_NOTES, folded=True, what="example")
    st.plotly_chart(figure, config={"displayModeBar": False}, theme=None)

    st.subheader("1x1 convolution as a bottleneck (Inception)")
    st.markdown(
        "A `1 x 1` convolution mixes channels at every pixel: a fully connected layer across the "
        "channels. Squeezing to a few channels before a big filter cuts the cost."
    )
    ex = BOTTLENECK_EXAMPLE
    cols = st.columns(6)
    bh = cols[0].number_input("H", 1, 10_000, ex["h"], key="arith_bn_h")
    bw = cols[1].number_input("W", 1, 10_000, ex["w"], key="arith_bn_w")
    b_in = cols[2].number_input("input channels", 1, 100_000, ex["c_in"], key="arith_bn_cin")
    b_mid = cols[3].number_input("bottleneck", 1, 100_000, ex["c_mid"], key="arith_bn_cmid")
    b_out = cols[4].number_input("output channels", 1, 100_000, ex["c_out"], key="arith_bn_cout")
    bf = cols[5].number_input("filter f", 1, 99, ex["f"], key="arith_bn_f")
    bottleneck, figure = view.comparison_chart(bottleneck_cost, bh, bw, b_in, b_mid, b_out, bf,
                                                  style=display.style())
    view.show_comparison(bottleneck)
    st.plotly_chart(figure, config={"displayModeBar": False}, theme=None)


def guarded(body) -> None:
    """Run a section; an unexpected error becomes a message in the page, never a traceback."""
    try:
        body()
    except Exception as exc:  # the page must survive anything: no traceback reaches it
        log.exception("arithmetic page section failed")
        st.error(f"Something went wrong while computing this section: {exc}")


# Fragments: a preset or an edit of the layers reruns only the network section (the cost
# comparisons do not depend on it), and the cost inputs only theirs.
@st.fragment
def network_section() -> None:
    guarded(network_body)


@st.fragment
def comparison_section() -> None:
    guarded(comparison_body)


network_section()
comparison_section()
