"""Convolution family: transposed convolution, 1-D and causal convolution, grouped and
depthwise convolution, im2col and backpropagation, each stepped through with every number.

Every animation is the sliding window's machinery (``viz.animation``): it plays in the browser
(Play, Pause, Step, the slider, and the presenter keys of ``ui/keys.py``), a click on an output
cell jumps there, a GIF for slides. Figures follow the page's theme (light or dark) and the
high-contrast option (``ui/display.py``); classroom mode (``?classroom=1``, ``ui/classroom.py``)
is for a projector. The address bar holds a link to the exact mode, settings and step
(``?mode=transposed&n=3&k=3&s=2&p=1&op=1``), the position reached in the browser included
(reported by the keys' component once an animation rests).

The figures are laid out for the room the browser measured (the keys' component measures the
mode's first figure: its width, the window's height below its top; kept as the main column's
room, each figure takes its own column's width). Above them one line; the explanation is
folded ("How it works": on a projector after the figures), so that at 1280 x 720 a figure's
title and its Step and Play buttons are on the screen together.
"""

import logging

import numpy as np
import streamlit as st

from conv import samples
from ui import display, keys
from ui import family_view as fv
from ui import window_view as wv
from ui.classroom import header
from ui.classroom import mode as classroom_mode
from ui.classroom import style as page_style
from viz import animation

log = logging.getLogger(__name__)
ss = st.session_state

CSS = """
.st-key-fam-notes p { font-size: 1.1rem; }
.st-key-fam-summary p { margin-bottom: 0; }
"""
# A projector: the mode buttons and the notes in larger type (the one line above the figures
# a little smaller: at 1280 x 720 the figures need the room).
CLASSROOM_CSS = """
.st-key-fam-modes button p { font-size: 1.2rem; font-weight: 600; }
.st-key-fam-notes p { font-size: 1.2rem; }
.st-key-fam-summary p { font-size: 1.1rem; }
"""
CONFIG = {"displayModeBar": False, "scrollZoom": False, "doubleClick": False}

# the animations the keys drive (each in the container ".st-key-fam-figure-<name>"), and the
# session-state key where each keeps its position (the link's step or step2)
STEP_KEYS = {"stamps": "fam.step", "zeros": "fam.step2", "signal": "fam.step",
             "grouped": "fam.step", "pointwise": "fam.step2", "im2col": "fam.step",
             "forward": "fam.step", "dx": "fam.step", "dw": "fam.step"}

URL = fv.url_state()
notices = URL.restore()
mode = ss.get("fam.mode", "transposed")
fv.settle(mode, notices)
classroom = classroom_mode(notices)
page_style(CSS, CLASSROOM_CSS, on=classroom)
style = display.style()  # the figures' colours and sizes: the page's theme, high contrast

header("Convolution family")
for notice in notices:
    st.warning(notice)
# the modes, and the views of the mode that has some, in one row (wrapping on a phone): at
# 1280 x 720 the figures need the height
with st.container(key="fam-top", horizontal=True, vertical_alignment="center", gap="medium"):
    with st.container(key="fam-modes", width="content"):
        mode = st.pills("Mode", fv.MODES, key="fam.mode", required=True, on_change=fv.on_mode,
                        format_func=fv.MODE_LABELS.get, label_visibility="collapsed")
    if mode == "transposed":
        st.segmented_control("View", fv.VIEWS, key="fam.view", required=True,
                             format_func=fv.VIEW_LABELS.get, label_visibility="collapsed")
    elif mode == "backprop":
        st.segmented_control("Show", fv.BVIEWS, key="fam.bview", required=True,
                             format_func=(fv.BVIEW_SHORT if classroom else fv.BVIEW_LABELS).get,
                             label_visibility="collapsed")


def _on_click(chart_key: str, step_key: str) -> None:
    step = fv.clicked_step(chart_key)
    if step is not None:
        ss[step_key] = step


def _on_frame() -> None:
    """The browser settled on a frame (a key, Step, Play then Pause, the slider): keep it, for
    the link, without drawing the figure again (it shows that frame already)."""
    got = keys.reported("fam.keys")
    if got is None or got[0] not in STEP_KEYS or not got[1].isdigit():
        return
    keys.browser_step(STEP_KEYS[got[0]], int(got[1]))


def _on_screen() -> None:
    """The browser measured the room of the mode's first figure: lay the figures out for it
    (kept as the main column's room, whichever figure was measured)."""
    screen = wv.screen_of(keys.reported_screen("fam.keys"))
    if screen is not None:
        ss["fam.room"] = fv.room_of(screen, bool(ss.get("fam.fit_half")))


def screen(half: bool = False) -> tuple[int, int] | None:
    """The room for a figure as the browser measured it (a column's, ``half``), or None before
    it has."""
    return fv.screen_for(ss.get("fam.room"), half)


def presenter_keys(*names: str, half: bool = False) -> None:
    """The keys for the mode's animations ``names`` (each drawn by :func:`chart` or
    :func:`window_chart`), their one-line hint, and the measure of the room of the first one
    (``half``: one of two side by side)."""
    ss["fam.fit_half"] = half
    keys.presenter_keys([keys.animation_target(n, f".st-key-fam-figure-{n}") for n in names],
                        key="fam.keys", on_step=_on_frame, fit=f".st-key-fam-figure-{names[0]}",
                        screen=screen(half), on_screen=_on_screen)


def summary(line: str, details: str | None = None) -> None:
    """The mode's one line above its figures, and its explanation ``details`` folded: in the
    line's expander, or on a projector (where the figures and their buttons need the room of a
    1280 x 720 screen) in one after the figures (:func:`how_it_works`)."""
    if details and not classroom:
        with st.expander(f"{line} · *How it works*", key="fam-how"):
            st.markdown(details)
        return
    with st.container(key="fam-summary"):
        st.markdown(line)


def how_it_works(details: str) -> None:
    """On a projector, the mode's explanation folded after its figures."""
    if classroom:
        with st.expander("How it works", key="fam-how"):
            st.markdown(details)


def draw(fig, name: str, step_key: str | None) -> None:
    """A figure in its keyed container (the keys find it there); ``step_key``: a click on an
    output cell moves the animation's position there."""
    key = f"fam.chart.{name}"
    with st.container(key=f"fam-figure-{name}"):
        if step_key is None:
            st.plotly_chart(fig, key=key, config=CONFIG, theme=None, width="stretch")
        else:
            st.plotly_chart(fig, key=key, on_select=lambda: _on_click(key, step_key),
                            selection_mode="points", config=CONFIG, theme=None,
                            width="stretch")


def chart(kind: str, cfg, *, half: bool, step_key: str, name: str) -> animation.Animation:
    """One animation at the step in ``step_key``; a click on an output cell moves it. A
    position the browser reported is on the screen already: the figure stays as sent."""
    room = screen(half)
    anim = fv.anim(kind, cfg, classroom, half, style, room)
    start = min(max(int(ss.get(step_key, 0)), 0), anim.n_steps - 1)
    ss[step_key] = start
    drawn = keys.figure_start(step_key, start, (kind, cfg, classroom, half, style, room))
    draw(fv.figure(kind, cfg, classroom, half, drawn, style, room), name, step_key)
    return anim


def gif_button(kind: str, cfg, label: str) -> None:
    """An animated GIF of one animation, for slides (made when asked, in the figure's
    colours)."""
    anim = fv.anim(kind, cfg, classroom, False, style)
    limit = animation.MAX_GIF_FRAMES
    n = anim.n_steps
    what = f"all {n} steps" if n <= limit else f"the first {limit} of {n} steps"
    key = hash((kind, cfg, classroom, style))
    if st.button(f"GIF of {label} for slides ({what})", key=f"fam.gif.{kind}"):
        ss["fam.gif_for"] = key
    if ss.get("fam.gif_for") == key:
        with st.spinner("Drawing the frames..."):
            data = fv.gif(kind, cfg, classroom, style)
        st.download_button(f"Download the GIF ({len(data) / 1e6:.1f} MB)", data,
                           file_name=f"convolution-family-{kind}.gif", mime="image/gif",
                           on_click="ignore", key=f"fam.gif_download.{kind}")


def new_config(cfg) -> None:
    """A new configuration starts at step 1 (classroom mode and the theme keep the
    position)."""
    h = hash((mode, cfg))
    if ss.get("fam.cfg") not in (None, h):
        ss["fam.step"] = ss["fam.step2"] = 0
    ss["fam.cfg"] = h


def numbers_inputs(what: str, *, gradient: bool = False) -> None:
    """Typed numbers (the kernel parser's grammar: rows on lines or separated by ';')."""
    with st.expander("Type your own numbers", expanded=bool(ss.get("fam.x") or ss.get("fam.w")
                                                              or ss.get("fam.gt"))):
        st.text_input(f"{what} (rows separated by ;)", key="fam.x", placeholder="1 2 0; 3 1 2; 0 1 1")
        st.text_input("Kernel", key="fam.w", placeholder="1 0 -1; 2 1 0; 0 1 2")
        if gradient:
            st.text_input("Upstream gradient dL/dy (the output's shape)", key="fam.gt",
                          placeholder="1 -1; 2 0")
        st.caption("Empty: random integers from the seed. Typed numbers replace them, and "
                   "their size replaces n or k. Fractions (1/4) and decimals work.")


def size_inputs(*names: str) -> dict[str, int]:
    limits = fv.LIMITS[mode]
    labels = {"n": "Input size n (n x n)", "k": "Kernel size k", "s": "Stride s",
              "p": "Padding p", "op": "Output padding", "d": "Dilation d"}
    out = {}
    cols = st.columns(2)
    for i, name in enumerate(names):
        lo, hi = limits[name]
        out[name] = int(cols[i % 2].number_input(labels[name], lo, hi, step=1,
                                                 key=f"fam.{name}"))
    return out


def seed_input() -> int:
    c1, c2 = st.columns(2)
    seed = int(c1.number_input("Seed", 0, 10**9, step=1, key="fam.seed"))
    c2.button("New numbers", on_click=fv.new_seed, width="stretch")
    return seed


def side_by_side(pairs) -> None:
    """Figures in columns (or one under the other when only one is asked for)."""
    cols = st.columns(len(pairs)) if len(pairs) > 1 else [st.container()]
    for col, draw in zip(cols, pairs):
        with col:
            draw()


# --------------------------------------------------------------------------------------------
# The modes: controls in the sidebar (they return the configuration), then what is shown
# --------------------------------------------------------------------------------------------

def transposed_controls():
    st.markdown("**Transposed convolution**")
    v = size_inputs("n", "k", "s", "p", "op", "d")
    seed = seed_input()
    numbers_inputs("Input")
    return fv.transposed_config(v["n"], v["k"], v["s"], v["p"], v["op"], v["d"], seed,
                                ss.get("fam.x"), ss.get("fam.w"))


def transposed(cfg) -> None:
    layer = cfg.geometry()
    worked = layer.worked()
    same = worked[0].formula == worked[1].formula
    sizes = (f"`{worked[0].formula}`" if same else
             f"rows `{worked[0].formula}`, columns `{worked[1].formula}`")
    ho, wo = layer.out_shape
    view = ss.get("fam.view") or "both"  # chosen beside the modes
    # the figures show the worked numbers: the line says the rule
    details = (f"**Output size** = {sizes}. **Stamps**: each input cell adds x × kernel to the "
               "output, s apart; where stamps overlap they add up; then p is cut from every "
               "side. **Zero insertion**: the same numbers as a plain convolution of the input "
               "with s - 1 zeros between its cells, padded by d*(k - 1) - p, with the kernel "
               "rotated 180°.")
    summary("**Output size** `(n - 1)*s - 2p + d*(k - 1) + output_padding + 1` = "
            + (f"**{ho}**" if ho == wo else f"**{ho} x {wo}**"), details)
    half = view == "both"
    draws = []
    if view in ("both", "stamps"):
        draws.append(lambda: chart("stamps", cfg, half=half, step_key="fam.step",
                                   name="stamps"))
    if view in ("both", "zeros"):
        draws.append(lambda: chart("zeros", cfg, half=half, step_key="fam.step2",
                                   name="zeros"))
    side_by_side(draws)
    presenter_keys(*(name for name, shown in (("stamps", view in ("both", "stamps")),
                                              ("zeros", view in ("both", "zeros"))) if shown),
                   half=half)
    out = fv.computed(cfg, "output")
    st.caption("**Step ▶** and **◀ Back** move one step; **Play** runs it in your browser; "
               "click an input cell (stamps) or an output cell (zero insertion) to jump there. "
               "Blue: the input; green: the kernel; orange: the output; grey italic 0: zeros "
               f"that are not data. Both end with the engine's `conv_transpose2d` output "
               f"({out.shape[0]} x {out.shape[1]}): "
               + " ".join(f"[{' '.join(animation.fmt(v) for v in row)}]" for row in out) + ".")
    how_it_works(details)
    c1, c2 = st.columns(2)
    with c1:
        if view in ("both", "stamps"):
            gif_button("stamps", cfg, "the stamps")
    with c2:
        if view in ("both", "zeros"):
            gif_button("zeros", cfg, "zero insertion")
    checkerboard()


def checkerboard() -> None:
    """Kernel 3 against kernel 4 on a photo, computed only while the expander is open (a
    collapsed one costs nothing on a rerun)."""
    box = st.expander("Checkerboard artefacts: a photo upsampled with stride 2, kernel 3 "
                      "against kernel 4", key="fam-checker", on_change="rerun")
    if not box.open:
        return
    with box:
        names = list(samples.SAMPLES)
        photo = st.selectbox("Photo", names, key="fam.photo",
                             format_func=lambda n: samples.SAMPLES[n].title)
        demo = fv.checkerboard(photo)
        c3, c4 = demo["counts3"], demo["counts4"]
        c0, c1, c2 = st.columns(3)
        n = demo["n"]
        h3, w3 = demo["shape3"]
        h4, w4 = demo["shape4"]
        c0.image(demo["input"], caption=f"A {n} x {n} patch of the photo (gray)")
        c1.image(demo[3], caption=f"Kernel 3 x 3, stride 2 → {h3} x {w3}: a checkerboard")
        c2.image(demo[4], caption=f"Kernel 4 x 4, stride 2 → {h4} x {w4}: even")
        st.markdown(
            "Both kernels are boxes (every weight equal), scaled so that the stamps add up to 1 "
            "on average. With kernel 3 and stride 2 the stamps **overlap unevenly**: along "
            f"each axis the outputs receive {' and '.join(map(str, c3))} stamps in turn (3/2 is "
            "not a whole number), so even a flat area comes out as a grid of cells with 1, 2 "
            "and 4 overlaps: the checkerboard. With kernel 4 every output receives "
            f"{' and '.join(map(str, c4))} stamps per axis (4/2 = 2): even. (Odena, Dumoulin "
            "and Olah, \"Deconvolution and Checkerboard Artifacts\", Distill 2016.)")


def one_d_controls():
    st.markdown("**1-D convolution**")
    kind = st.pills("Signal", fv.SIGNALS, key="fam.sig", required=True,
                    format_func=fv.SIGNAL_LABELS.get)
    n = 0
    if kind == "typed":
        st.text_input("Signal values", key="fam.x", placeholder="0 0 1 3 2 0 0 -1")
    else:
        n = int(st.number_input("Length", *fv.LIMITS["1d"]["n"], step=1, key="fam.n"))
    kern = st.pills("Kernel", list(fv.KERNELS_1D), key="fam.kern", required=True,
                    format_func=fv.KERNEL_1D_LABELS.get)
    if kern == "typed":
        st.text_input("Kernel weights", key="fam.w", placeholder="0.25 0.5 0.25")
    pad = st.pills("Padding", fv.PAD_1D, key="fam.pad", required=True)
    v = size_inputs("s", "d", *(("p",) if pad == "custom" else ()))
    seed = seed_input() if kind in ("sine", "random") else int(ss.get("fam.seed", 1))
    return fv.signal_config(kind, n, kern, pad, v.get("p", 0), v["s"], v["d"], seed,
                            ss.get("fam.x"), ss.get("fam.w"))


PAD_WORDS = {
    "valid": "no padding: the window stays inside the signal",
    "same": "as many outputs as inputs (at stride 1): d*(k - 1) zeros split before and after, "
            "the odd one after",
    "full": "d*(k - 1) zeros on both sides: every partial overlap",
    "causal": "d*(k - 1) zeros before only (the past): y[t] depends on x[t] and earlier "
              "samples, never on the future",
    "": "the same number of zeros on both sides",
}


def one_d(cfg) -> None:
    (a,) = cfg.geometry().axes
    pad = cfg.word or "custom"
    length = f"Output length `{a.worked('sample').formula}`."
    details = f"**Padding '{pad}'**: {PAD_WORDS[cfg.word]}: {a.before} before, {a.after} after. "
    # on a projector one line (the figure says the padding too), the meaning after the figure
    summary(f"**Padding '{pad}'**: {a.before} before, {a.after} after. {length}" if classroom
            else details + length)
    chart("signal", cfg, half=False, step_key="fam.step", name="signal")
    presenter_keys("signal")
    st.caption("The kernel slides along the time axis t; every product is written under the "
               "figure. Click an output sample to jump there.")
    how_it_works(details + length)
    gif_button("signal", cfg, "the 1-D convolution")


def groups_controls():
    st.markdown("**Grouped convolution**")
    c_in = int(st.pills("Input channels C_in", fv.CHANNELS, key="fam.cin", required=True))
    c_out = int(st.number_input("Filters C_out", 1, 16, step=1, key="fam.cout"))
    options = fv.divisors(c_in, c_out)
    if ss.get("fam.g") not in options:
        ss["fam.g"] = max(g for g in options if g <= max(int(ss.get("fam.g") or 1), 1))
    if len(options) > 1:
        g = int(st.select_slider("Groups (1: standard; C_in: depthwise)", options, key="fam.g"))
    else:
        g = 1
        st.caption(f"C_in = {c_in} and C_out = {c_out} have no common divisor but 1: "
                   "groups = 1.")
    if ss.get("fam.k") not in (1, 3, 5):
        ss["fam.k"] = 3
    k = int(st.pills("Kernel size k", (1, 3, 5), key="fam.k", required=True))
    hw = int(st.number_input("Map size for the costs (H = W, 'same' padding)", 1, 1024,
                             step=1, key="fam.hw"))
    seed = seed_input()
    cfg = None
    if c_in <= animation.MAX_CHANNELS and c_out <= animation.MAX_CHANNELS:
        st.markdown("**The small volume stepped through**")
        v = size_inputs("n", "s", "p")
        cfg = fv.grouped_config(c_in, c_out, g, v["n"], k, v["s"], v["p"], seed)
    return {"c_in": c_in, "c_out": c_out, "g": g, "k": k, "hw": hw, "seed": seed, "cfg": cfg}


def groups(v) -> None:
    c_in, c_out, g, k, hw = v["c_in"], v["c_out"], v["g"], v["k"], v["hw"]
    cpg, opg = c_in // g, c_out // g
    kind = ("a standard convolution: every filter sees every channel" if g == 1 else
            "depthwise: every filter sees one channel" if g == c_in else
            f"the channels are split into {g} groups of {cpg}, and each group has its own "
            f"{opg} filter{'s' if opg > 1 else ''}")
    with st.container(key="fam-notes"):
        st.markdown(f"**groups = {g}**: {kind}. Each filter is {k} x {k} x {cpg} "
                    f"(C_in / groups = {c_in}/{g} = {cpg}); filters as rows, input channels as "
                    "columns, the cells a filter sees coloured by group:")
    draw(fv.groups_chart(c_in, c_out, g, k, classroom, style, screen()), "groups", None)
    st.caption(f"One colour per group: filter W{opg + 1 if g > 1 else 1} is the first of "
               f"group {2 if g > 1 else 1}. An empty cell: that filter never reads that channel "
               f"(it has no weights for it). {c_out} filters x {cpg} channels each = "
               f"{c_out * cpg} slices of {k} x {k} (a standard layer: {c_out * c_in}).")
    st.markdown("**Parameters and multiply-adds** (one multiply-add per weight per output "
                f"value; biases counted in the parameters), on a {hw} x {hw} map:")
    rows = fv.costs(c_in, c_out, k, hw, g)
    st.markdown("| layer | parameters | multiply-adds |\n|---|---|---|\n" + "\n".join(
        f"| {r.name} | `{r.params}` | `{r.macs}` |" for r in rows))
    std, sep = rows[0], rows[-1]
    st.markdown(
        f"Depthwise-separable / standard: parameters {sep.p_value:,} / {std.p_value:,} = "
        f"**{sep.p_value / std.p_value:.3f}**; multiply-adds {sep.m_value:,} / {std.m_value:,} "
        f"= **{sep.m_value / std.m_value:.3f}** = 1/C_out + 1/k² = 1/{c_out} + 1/{k * k}: "
        f"MobileNet's saving, {std.m_value / sep.m_value:.1f}x fewer multiply-adds.")
    st.subheader("Step through it")
    cfg = v["cfg"]
    if cfg is None:
        st.info(f"The step-by-step animation lays out at most {animation.MAX_CHANNELS} input "
                f"channels and {animation.MAX_CHANNELS} filters: choose C_in and C_out of 4 or "
                "fewer to see every multiplication.")
        return
    new_config(cfg)
    data, shape = wv.key_of(fv.array(cfg.x))
    window_chart(data, shape, cfg.spec(), "fam.step", "grouped",
                 keys_for=("grouped", *(("pointwise",) if g == c_in else ())))
    st.caption("Each filter's window covers only the channels of its group (its title lists "
               "them): the sliding window's own animation (Step, Play, click an output cell).")
    if g == c_in:
        maps = fv.pointwise_input(cfg)
        st.markdown(f"**Then the pointwise 1 x 1 layer** mixes the {maps.shape[0]} depthwise "
                    f"maps into {c_out}: together, a depthwise-separable convolution.")
        pdata, pshape = wv.key_of(maps)
        window_chart(pdata, pshape, fv.pointwise_spec(maps.shape[0], c_out, v["seed"]),
                     "fam.step2", "pointwise")


def window_chart(data: bytes, shape, spec, step_key: str, name: str,
                 keys_for: tuple[str, ...] = ()) -> None:
    """A layer through the sliding window's own cached animation (its position kept as
    :func:`chart` keeps it); ``keys_for``: the presenter keys for these animations, their hint
    under this figure."""
    room = screen()
    anim = wv.conv_anim(data, shape, spec, classroom, style, room)
    start = min(max(int(ss.get(step_key, 0)), 0), anim.n_steps - 1)
    ss[step_key] = start
    drawn = keys.figure_start(step_key, start, (name, data, shape, spec, classroom, style, room))
    draw(wv.conv_figure(data, shape, spec, classroom, drawn, style, room), name, step_key)
    if keys_for:
        presenter_keys(*keys_for)
    n = anim.n_steps
    limit = animation.MAX_GIF_FRAMES
    what = f"all {n} steps" if n <= limit else f"the first {limit} of {n} steps"
    gif_key = hash((name, data, shape, spec, classroom, style))
    if st.button(f"GIF of this layer for slides ({what})", key=f"fam.gif.{name}"):
        ss["fam.gif_for"] = gif_key
    if ss.get("fam.gif_for") == gif_key:
        with st.spinner("Drawing the frames..."):
            gif = wv.gif_bytes(data, shape, spec, None, classroom, style)
        st.download_button(f"Download the GIF ({len(gif) / 1e6:.1f} MB)", gif,
                           file_name=f"convolution-family-{name}.gif", mime="image/gif",
                           on_click="ignore", key=f"fam.gif_download.{name}")


def im2col_controls():
    st.markdown("**im2col**")
    c = int(st.pills("Channels C", (1, 2), key="fam.c", required=True))
    v = size_inputs("n", "k", "s", "p", "d")
    seed = seed_input()
    numbers_inputs("Input")
    return fv.im2col_config(v["n"], v["k"], v["s"], v["p"], v["d"], c, seed, ss.get("fam.x"),
                            ss.get("fam.w"))


def im2col(cfg) -> None:
    layer = cfg.geometry()
    ho, wo = layer.out_shape
    c, kh, kw = np.shape(cfg.w)
    kk, cols = c * kh * kw, ho * wo
    details = (f"Each of the L = H_out*W_out = {ho}*{wo} = {cols} windows becomes a column of "
               f"C*kH*kW = {c}*{kh}*{kw} = {kk} numbers: the **patch matrix** ({kk} x {cols}). "
               f"The kernel as a row (1 x {kk}) times it is the output row (1 x {cols}), "
               f"reshaped to {ho} x {wo}: one matrix product computes the whole convolution.")
    if not classroom:  # on a projector the figure's own line says it: the room is the figure's
        summary(f"The kernel row (1 x {kk}) times the **patch matrix** ({kk} x {cols}) is the "
                f"output row (1 x {cols}), reshaped to {ho} x {wo}", details)
    chart("im2col", cfg, half=False, step_key="fam.step", name="im2col")
    presenter_keys("im2col")
    y = fv.array(cfg.w).reshape(1, -1) @ fv.computed(cfg, "matrix")
    direct = fv.computed(cfg, "output")
    diff = float(np.abs(y.reshape(direct.shape) - direct).max())
    st.caption(f"The engine's `im2col` ({kk} x {cols}) times the kernel row equals its "
               f"`conv2d` output (largest difference {diff:g}). Click a cell of the output row "
               "to jump to its column.")
    how_it_works(details)
    gif_button("im2col", cfg, "im2col")


def backprop_controls():
    st.markdown("**Backpropagation through a convolution**")
    v = size_inputs("n", "k", "s", "p", "d")
    seed = seed_input()
    numbers_inputs("Input x", gradient=True)
    return fv.backprop_config(v["n"], v["k"], v["s"], v["p"], v["d"], seed, ss.get("fam.x"),
                              ss.get("fam.w"), ss.get("fam.gt"))


def backprop(cfg) -> None:
    gx, gw, gb = fv.computed(cfg, "grads")
    bview = ss.get("fam.bview") or "dx"  # chosen beside the modes
    details = ("Forward: y = x ⋆ w (cross-correlation). Given the upstream gradient dL/dy: "
               "**dL/dx** is the *full* convolution of dL/dy with the kernel rotated 180° (at "
               "stride s, with s - 1 zeros between the cells of dL/dy: a transposed "
               "convolution); **dL/dw** is the correlation of the input x with dL/dy; "
               f"**dL/db** = the sum of dL/dy = {animation.fmt(float(gb[0]))}.")
    summary("**dL/dx** = dL/dy ⋆ the kernel rotated 180° (full); **dL/dw** = x ⋆ dL/dy; "
            f"**dL/db** = Σ dL/dy = {animation.fmt(float(gb[0]))}", details)
    if bview == "forward":
        data, shape = wv.key_of(fv.array(cfg.x)[None])
        window_chart(data, shape, cfg.spec(), "fam.step", "forward", keys_for=("forward",))
    else:
        chart(bview, cfg, half=False, step_key="fam.step", name=bview)
        presenter_keys(bview)
    st.caption("The numbers are the engine's `conv.ops.conv2d_grad` (what PyTorch's autograd "
               "gives), and each frame's sum agrees with them: dL/dx = "
               + " ".join(f"[{' '.join(animation.fmt(v) for v in row)}]" for row in gx[0])
               + "; dL/dw = "
               + " ".join(f"[{' '.join(animation.fmt(v) for v in row)}]" for row in gw[0, 0])
               + ".")
    how_it_works(details)
    if bview != "forward":
        gif_button(bview, cfg, {"dx": "dL/dx", "dw": "dL/dw"}[bview])


MODES = {"transposed": (transposed_controls, transposed), "1d": (one_d_controls, one_d),
         "groups": (groups_controls, groups), "im2col": (im2col_controls, im2col),
         "backprop": (backprop_controls, backprop)}


@st.fragment
def show(cfg) -> None:
    """What the mode shows; a click on a cell reruns only this."""
    if cfg is not None:
        try:
            if not isinstance(cfg, dict):
                new_config(cfg)
            MODES[mode][1](cfg)
        except ValueError as exc:
            st.error(f"These settings cannot be shown: {exc}")
        except Exception as exc:  # the page must survive anything: no traceback reaches it
            log.exception("convolution family page failed")
            st.error(f"Something went wrong while drawing this mode: {exc}")
    URL.show(f"this mode ({fv.MODE_LABELS[mode]}), its settings, step and classroom mode",
             key="fam-link")


config, error = None, None
with st.sidebar:
    try:
        config = MODES[mode][0]()
    except ValueError as exc:
        error = f"These settings cannot be shown: {exc}"
    except Exception as exc:  # a widget refusing a value, say: a message, not a traceback
        log.exception("convolution family controls failed")
        error = f"Something went wrong with these settings: {exc}"
if error:
    st.error(error)
show(config)
