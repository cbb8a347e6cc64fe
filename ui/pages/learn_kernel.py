"""Learn a kernel: can gradient descent rediscover Sobel from an image and Sobel's output?

Choose an image and a hidden target kernel; a kernel of the chosen size starts from zeros (or
random numbers) and is trained by SGD, momentum, RMSProp or Adam on the squared error between its
output and the target's. The loss curve, the kernel evolving, and the final kernel next to the
target; "Use this kernel" sends it to the other pages.
"""

import logging

import numpy as np
import streamlit as st

from kernels import learned
from ui import display, keys
from ui import learn_view as view
from ui.classroom import header, mode
from ui.classroom import style as page_style
from ui.kernel_controls import kernel_picker

log = logging.getLogger(__name__)
ss = st.session_state

classroom = mode()
page_style(view.PAGE_CSS, view.CLASSROOM_CSS, on=classroom)
header("Learn a kernel")
if not classroom:
    st.markdown(
        "A CNN **learns** its filters with a loss function and gradient descent. Here one "
        "kernel learns to reproduce the output of a hidden target kernel; the loss is the mean "
        "squared error between the two outputs, its gradient the cross-correlation of the "
        "input with the residual."
    )


def body() -> None:
    # the settings at the left; at the right, Train with the outcome and the loss curve under
    # it (kept on the screen while the settings scroll); the rest of the results below both
    left, right = st.columns([1, 1.35], gap="large")
    with left:
        img, target, settings = setup()
    problem = run = None
    with right, st.container(key="learn-run"):
        if img is not None:
            try:
                problem = view.problem_for(img, target.weights, settings.size)
            except ValueError as exc:
                st.error(f"Cannot learn from this: {exc}")
        if problem is not None:
            run = training(img, target, settings, problem)
        if run is not None:
            curve(run)
    if problem is not None:
        with left:
            st.info(view.curvature_note(problem))
    if run is not None:
        results(run)


def setup():
    """The image, the hidden target and the training settings."""
    st.subheader("1. Image")
    img = view.image_source()
    if img is not None:
        for note in img.notes:
            st.caption(note)
        side = 200 if classroom else 260
        st.image(view.gray_picture(img, side), caption=f"{img.name}, {img.gray.shape[1]} x "
                 f"{img.gray.shape[0]} px, gray: what the kernel sees", width=side)
    st.subheader("2. Target: the hidden kernel")
    target = kernel_picker("learn.target", default="sobel_x",
                           label="Kernel whose output the learner must reproduce",
                           grid=False, actions=False)
    st.subheader("3. Training")
    settings = view.settings(default_size=max(target.weights.shape))
    return img, target, settings


def training(img, target, settings, problem) -> learned.Run | None:
    """Train, Stop, Continue, and a run's live progress; the run to show, if any."""
    buttons = st.container(horizontal=True)
    train = buttons.button("Train", icon=":material/play_arrow:", type="primary", key="learn_train")
    buttons.button("Stop", icon=":material/stop:", key="learn_stop")
    run: learned.Run | None = ss.get("learn.run")
    if run is not None and not run.finished and not train:
        run.stop()  # interrupted: by Stop, or by any other widget during training
    resume = (run is not None and run.status == "stopped"
              and buttons.button("Continue training", icon=":material/resume:",
                                            key="learn_continue"))
    if train:
        run = learned.start(problem, optimizer=settings.optimizer, lr=settings.lr,
                            steps=settings.steps, init=settings.init, seed=settings.seed)
        ss["learn.run"] = run
        ss["learn.run_info"] = {"image": img.name, "target": target.name,
                                "target_weights": target.weights}
        ss.pop("learn.sent", None)
    elif resume:
        run.status = "running"
    if run is not None and not run.finished:
        view.train_live(run, display.style())
    if run is None:
        st.caption("Press Train: the default run (Adam, 300 steps) takes a few seconds. The "
                   "settings are at the left.")
    return run


def curve(run: learned.Run) -> None:
    """The run's outcome and its loss curve, beside the settings."""
    info = ss.get("learn.run_info", {})
    style = display.style()
    st.markdown(f"**Result: {run.label}**. Trained on {info.get('image', '?')} to reproduce "
                f"{info.get('target', '?')}.")
    view.outcome(run)
    floor = loss_floor(run)
    # the figures and pictures come ready-made from caches keyed on what they show: a rerun
    # that does not change the run neither rebuilds nor re-encodes them
    st.plotly_chart(view.loss_figure(run.losses, floor, style), theme=None,
                    config={"displayModeBar": False})
    target = learned.compare_to_target(run.kernel, run.problem.target_kernel)
    with st.container(horizontal=True, gap="medium", key="learn-metrics"):
        st.metric("Steps", f"{run.step}", width="content")
        st.metric("Loss", f"{run.losses[-1]:.3g}", help="Mean squared error of the output",
                  width="content")
        if np.isfinite(run.losses[-1]) and run.losses[0] > 0:
            st.metric("Output error", f"{np.sqrt(run.losses[-1] / run.losses[0]):.2%}",
                      help="sqrt(loss / loss at the start): the output's error, relative",
                      width="content")
        st.metric("Kernel error" if target is not None else "Error vs best possible",
                  f"{run.kernel_error:.2%}", help="||learned - target|| / ||target||",
                  width="content")


def loss_floor(run: learned.Run) -> float | None:
    """The lowest loss a kernel of this size can reach, or None when it is rounding noise."""
    floor = run.problem.optimum_loss
    return floor if floor > 1e-6 * run.losses[0] else None


def results(run: learned.Run) -> None:
    info = ss.get("learn.run_info", {})
    style, floor = display.style(), loss_floor(run)
    target = learned.compare_to_target(run.kernel, run.problem.target_kernel)
    reference = run.reference

    c1, c2 = st.columns([2, 3])
    with c1:
        st.markdown("**The kernel evolving** (press Play, or drag the slider)")
        with st.container(key="learn-evolution"):
            st.plotly_chart(view.evolution_figure(run.snapshots, style), theme=None,
                            config={"displayModeBar": False})
        keys.presenter_keys([keys.Target("evolution", ".st-key-learn-evolution",
                                         buttons=keys.PLAY_PAUSE)], key="learn.keys",
                            hint="Keys: ← → step · Space play/pause · Home/End first/last")
    with c2:
        if target is not None:
            st.markdown("**Learned kernel next to the target**")
            title = "Target"
        else:
            st.markdown("**Learned kernel next to the best possible kernel of this size** (the "
                        "target has another size: no kernel of this size reproduces it exactly)")
            title = "Best possible (least squares)"
        st.plotly_chart(view.comparison_figure(run.kernel, reference, title, style),
                        theme=None, config={"displayModeBar": False})

    pics = view.pictures(run.problem, run.kernel, style)
    cols = st.columns(3)
    cols[0].image(pics.target, caption="Target output (blue < 0 < red)")
    if pics.output is not None:
        cols[1].image(pics.output, caption="Output of the learned kernel")
        cols[2].image(pics.difference, caption=view.difference_caption(pics))
    export(run, floor, style)

    name = f"learned ({info.get('target', 'target')}; {run.label})"
    st.button("Use this kernel in the filter lab and the sliding window", key="learn_use",
              icon=":material/send:",
              type="primary", on_click=view.use_kernel, args=(run, name),
              disabled=run.status == "diverged")
    if ss.get("learn.sent"):
        st.success(f"Sent: {ss['learn.sent']}. The kernel pickers of the filter lab and the "
                   "sliding window offer it (rounded to 4 decimals).")


def export(run: learned.Run, floor, style) -> None:
    """The run as an animated GIF for slides, encoded only when asked for."""
    key = (id(run), run.step, len(run.snapshots), style)
    if st.button("Make an animated GIF for slides (the kernel evolving, the loss curve)",
                 key="learn_gif", icon=":material/movie:"):
        ss["learn.gif_for"] = key
    if ss.get("learn.gif_for") == key:
        with st.spinner("Drawing the frames..."):
            gif = view.training_gif(run, floor, style)
        st.download_button(f"Download the GIF ({len(gif) / 1e6:.1f} MB)", gif,
                           file_name="learn-a-kernel.gif", mime="image/gif",
                           on_click="ignore", key="learn_gif_download")


try:
    body()
except Exception as exc:  # the page must survive anything: no traceback reaches it
    log.exception("learn-a-kernel page failed")
    st.error(f"Something went wrong on this page: {exc}")
