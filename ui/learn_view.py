"""Widgets and state of the "Learn a kernel" page (``ui/pages/learn_kernel.py``).

The page script reads as a description of the UI; choosing the image, the settings, the cached
problem and the training loop with its live progress live here. The learning itself is
:mod:`kernels.learned`; the figures are :mod:`viz.training`.

Session state keys (all prefixed ``learn.``)
-------------------------------------------
learn.source, learn.sample, learn.synthetic, learn.upload   the image source widgets
learn.resolution                                             training resolution (longest side)
learn.target.*                                               the target kernel picker
learn.size, learn.init, learn.seed, learn.optimizer, learn.lr, learn.steps   the settings
learn.run        the last :class:`kernels.learned.Run` (kept while it trains: Stop keeps it)
learn.run_info   what that run was trained on (image name, target name, settings)
learn.sent       the name of the kernel last sent with "Use this kernel"
learn.digest     the content digest of the filter lab's photo or of the upload, with what it is
                 of (hashing a photo on every rerun costs milliseconds)

Caches (``ui.cache``, one byte budget shared by every session): decoded photos, the gray
training image, the problem, the encoded pictures and the results' figures (frozen, see
``viz.frozen``), each keyed on the content it is made of (digests of the arrays), so that a
rerun rebuilds nothing and students training the same run share its figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

from conv import image as cimage
from conv import samples
from kernels import learned
from ui import cache, shared
from ui.media import digest, held_digest, jpeg
from viz import training as figs
from viz.frozen import FrozenFigure, freeze
from viz.style import LIGHT, Style

SOURCES = {"lab": "Filter lab's photo", "sample": "Sample photo", "synthetic": "Synthetic",
           "upload": "Upload"}
RESOLUTIONS = (32, 64, 128, 256, 512)
SIZES = tuple(range(1, learned.MAX_SIZE + 1))
LEARNING_RATES = (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
                  1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
STEPS = (10, 20, 50, 100, 200, 300, 500, 1000, 2000)
DEFAULT_SAMPLE = "chelsea"
SOURCE_NAME = "Learn a kernel"
#: Redraw the live figures at most this often (seconds): a redraw costs more than many steps.
REDRAW_EVERY = 0.25
#: ... and at most this many times a run: on a busy server the steps take longer, and redraws
#: by the clock alone would multiply just when the server has the least time to spare.
MAX_REDRAWS = 10
#: A run plays at no more than one step per this many seconds, so that it can be watched (and
#: stopped): the steps themselves take microseconds.
STEP_PACE = 0.003

PAGE_CSS = """
/* Lecture-hall sizes for this page: big numbers, readable captions and buttons. */
[data-testid="stMetricValue"] { font-size: 2rem; font-weight: 700; }
[data-testid="stMetricLabel"] p { font-size: 1.05rem; }
.st-key-learn_train button p, .st-key-learn_stop button p, .st-key-learn_continue button p,
.st-key-learn_use button p { font-size: 1.25rem; font-weight: 600; }
/* Train and the loss curve stay on the screen while the settings beside them scroll */
@media (min-width: 900px) {
  [data-testid="stColumn"]:has(.st-key-learn-run) { align-self: stretch; }
  [data-testid="stColumn"]:has(.st-key-learn-run) > [data-testid="stVerticalBlock"] {
    height: 100%; }
  .st-key-learn-run { position: sticky; top: 3.75rem; z-index: 1; }
}
"""
#: Classroom mode (``ui/classroom.py``) adds this on a projector.
CLASSROOM_CSS = """
[data-testid="stMetricValue"] { font-size: 1.8rem; }
"""


@dataclass(frozen=True)
class TrainingImage:
    gray: np.ndarray  # float32 (H, W) 0..255 at the training resolution
    name: str
    notes: tuple[str, ...] = ()
    key: str = ""  # what the gray image is made of (a digest or a name, and the resolution)


def gray_picture(img: TrainingImage, width: int) -> bytes:
    """The training image as shown (``width`` pixels wide at most), encoded once."""
    return cache.get_or_build(("learn.gray_jpeg", img.key, width),
                              lambda: jpeg(figs.gray_rgb(img.gray), width))


# --------------------------------------------------------------------------------------------
# The image
# --------------------------------------------------------------------------------------------


@cache.cached
def _decode(key: str, _data: Callable[[], bytes]) -> tuple[np.ndarray, tuple[str, ...]]:
    # key: the file's digest or a sample's name; the bytes are read only to decode them
    decoded = cimage.decode(_data())
    return decoded.rgb, decoded.notes


def _gray_at(key: str, longest: int, rgb: Callable[[], np.ndarray]) -> np.ndarray:
    """The gray training image of the photo ``key`` (made by ``rgb()``, only when not cached)."""
    def build():
        small = cimage.working_resolution(np.ascontiguousarray(rgb()), longest)
        return cimage.to_gray(small)[0]
    return cache.get_or_build(("learn.gray", key, longest), build)


NOISE = "noise"
NOISE_TITLE = ("Random noise: every pixel independent (a round loss valley: every optimiser "
               "converges fast)")


def noise_image(size: int = 256, seed: int = 0) -> np.ndarray:
    """Uniform random gray pixels 0..255, seeded: the best-conditioned image there is."""
    gray = np.random.default_rng(seed).integers(0, 256, (size, size), dtype=np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def _sample_rgb(name: str) -> np.ndarray:
    return _decode(f"sample:{name}", lambda: samples.load_sample(name))[0]


def image_source() -> TrainingImage | None:
    """The image source widgets; the chosen image as gray at the training resolution, or None
    (with a message in the page) when there is none yet or it cannot be read."""
    s = st.session_state
    lab = shared.lab_image()
    options = [k for k in SOURCES if k != "lab" or lab is not None]
    if s.get("learn.source") not in options:
        s["learn.source"] = "lab" if lab is not None else "sample"
    source = st.segmented_control("Image", options, format_func=SOURCES.get, key="learn.source",
                                  required=True)
    resolution = st.select_slider(
        "Training resolution (longest side, px)", RESOLUTIONS, value=256, key="learn.resolution",
        help="The photo is scaled down (area averaging) and turned to gray before training.")
    if source == "lab":
        name = f"{lab.name} (from the filter lab)"
        key = "lab:" + (lab.key or held_digest("learn.digest", lab, lambda: lab.rgb))
        rgb, notes = (lambda: lab.rgb), ()
    elif source == "sample":
        name = st.selectbox("Sample photo", list(samples.SAMPLES), key="learn.sample",
                            index=list(samples.SAMPLES).index(DEFAULT_SAMPLE),
                            format_func=lambda n: samples.SAMPLES[n].title)
        key, notes = f"sample:{name}", ()
        rgb = (lambda n=name: _sample_rgb(n))
        name = samples.SAMPLES[name].title
    elif source == "synthetic":
        name = st.selectbox("Synthetic image", (NOISE, *samples.SYNTHETIC_NAMES),
                            key="learn.synthetic",
                            format_func=lambda n: NOISE_TITLE if n == NOISE
                            else samples.SYNTHETIC[n])
        key, notes = f"synthetic:{name}", ()
        rgb = (noise_image if name == NOISE else lambda n=name: samples.synthetic(n, size=256))
        name = NOISE_TITLE if name == NOISE else name
    else:
        upload = st.file_uploader("Your photo", type=[e.lstrip(".") for e in cimage.EXTENSIONS],
                                  key="learn.upload")
        if upload is None:
            st.info("Upload a photo to train on it (it stays in this browser session).")
            return None
        key = "upload:" + held_digest("learn.digest", ("upload", upload.file_id),
                                       upload.getvalue)
        try:
            decoded, notes = _decode(key, upload.getvalue)
        except cimage.ImageError as exc:
            st.error(f"This file cannot be used: {exc}")
            return None
        name, rgb = upload.name, (lambda: decoded)
    gray = _gray_at(key, resolution, rgb)
    return TrainingImage(gray, name, tuple(notes), f"{key}@{resolution}")


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    size: int
    init: str
    seed: int
    optimizer: str
    lr: float
    steps: int


def _on_optimizer() -> None:
    """A new optimiser starts from its own default learning rate."""
    s = st.session_state
    s["learn.lr"] = learned.DEFAULT_LR[s["learn.optimizer"]]


def settings(default_size: int) -> Settings:
    """Kernel size, initialisation, optimiser, learning rate and steps (click-only controls)."""
    s = st.session_state
    s.setdefault("learn.optimizer", "adam")
    s.setdefault("learn.lr", learned.DEFAULT_LR[s["learn.optimizer"]])
    s.setdefault("learn.size", min(default_size, learned.MAX_SIZE))
    size = st.select_slider("Kernel size to learn", SIZES, key="learn.size",
                            format_func=lambda n: f"{n} x {n}")
    c1, c2 = st.columns([2, 1])
    init = c1.segmented_control("Start from", learned.INITS, key="learn.init", default="zeros",
                                required=True,
                                format_func={"zeros": "zeros", "random": "random numbers"}.get)
    seed = int(c2.number_input("Seed", 0, 2**31 - 1, 0, step=1, key="learn.seed",
                               disabled=init != "random",
                               help="The random start is numpy's default_rng(seed)"))
    optimizer = st.segmented_control("Optimiser", list(learned.OPTIMIZERS), key="learn.optimizer",
                                     format_func=learned.OPTIMIZERS.get, required=True,
                                     on_change=_on_optimizer)
    lr = st.select_slider("Learning rate", LEARNING_RATES, key="learn.lr",
                          format_func=lambda v: f"{v:g}")
    steps = st.select_slider("Steps", STEPS, value=300, key="learn.steps")
    return Settings(int(size), init, seed, optimizer, float(lr), int(steps))


def problem_for(img: TrainingImage, target: np.ndarray, size: int) -> learned.Problem:
    """The (immutable) problem for an image, a target kernel and a size, shared by every
    session, since making it costs a few convolutions."""
    return cache.get_or_build(("learn.problem", img.key, digest(target), size),
                              lambda: learned.make_problem(img.gray, target, size=size))


def curvature_note(problem: learned.Problem) -> str:
    """What the image does to gradient descent: the valley's shape, in numbers."""
    ev = problem.curvature
    cond = ev[0] / ev[-1] if ev[-1] > 0 else float("inf")
    n = ev.size
    text = (
        f"On this image, plain gradient descent (SGD) is stable for learning rates below "
        f"**{problem.max_stable_sgd_lr:.3g}** (2 / the largest curvature, {ev[0]:.3g}). "
    )
    if not np.isfinite(cond) or cond > 1e8:
        text += (f"Some of the {n} weights are not pinned down by this image at all (curvature "
                 "0): many kernels give the same output, and the learned one may differ from "
                 "the target without any error in the output.")
    elif cond > 100:
        text += (f"The loss is a long, narrow valley (condition number {cond:,.0f}): neighbouring "
                 f"pixels are alike, so some combinations of the {n} weights barely change the "
                 f"output and gradient descent creeps along them; Adam copes better.")
    else:
        text += (f"The valley is nearly round (condition number {cond:,.1f}): every optimiser "
                 "is quick.")
    return text


# --------------------------------------------------------------------------------------------
# The results, cached on the numbers they show
# --------------------------------------------------------------------------------------------


def loss_figure(losses, floor: float | None, style: Style = LIGHT) -> FrozenFigure:
    """:func:`viz.training.loss_figure` of ``losses`` with ``floor``, built once per style."""
    y = np.asarray(losses, dtype=np.float64)
    return cache.get_or_build(("learn.loss", digest(y), floor, style),
                              lambda: freeze(figs.loss_figure(y, floor=floor, style=style)))


def _snapshots(snapshots) -> tuple[list[tuple[int, np.ndarray]], str]:
    snaps = [(int(s), np.array(k, dtype=np.float64)) for s, k in snapshots]
    return snaps, digest(np.array([s for s, _ in snaps]), *(k for _, k in snaps))


def evolution_figure(snapshots, style: Style = LIGHT) -> FrozenFigure:
    """:func:`viz.training.kernel_evolution_figure` of ``snapshots``, built once per style."""
    snaps, key = _snapshots(snapshots)
    return cache.get_or_build(("learn.evolution", key, style),
                              lambda: freeze(figs.kernel_evolution_figure(snaps, style=style)))


def comparison_figure(learned_kernel: np.ndarray, reference: np.ndarray,
                      title: str, style: Style = LIGHT) -> FrozenFigure:
    """:func:`viz.training.kernel_comparison_figure`, built once per style."""
    return cache.get_or_build(
        ("learn.comparison", digest(learned_kernel, reference), title, style),
        lambda: freeze(figs.kernel_comparison_figure(learned_kernel, reference,
                                                     reference_title=title, style=style)))


def training_gif(run: learned.Run, floor: float | None, style: Style = LIGHT) -> bytes:
    """The run as an animated GIF for slides (:func:`viz.training.training_gif`): encoded
    only when asked for, once per run and style."""
    snaps, key = _snapshots(run.snapshots)
    y = np.asarray(run.losses, dtype=np.float64)
    return cache.get_or_build(("learn.gif", key, digest(y), floor, style),
                              lambda: figs.training_gif(snaps, y, floor=floor, style=style))


@dataclass(frozen=True)
class Pictures:
    """The target's output, the learned kernel's and their difference, encoded (``output``
    and ``difference`` are None when the kernel is not finite); ``largest``: the largest
    |difference| (0: the learned kernel reproduces the target exactly)."""

    target: bytes
    output: bytes | None
    difference: bytes | None
    largest: float | None = None
    scale: float = 1.0  # the colour scale's limit (±)


def pictures(problem: learned.Problem, kernel: np.ndarray, style: Style = LIGHT) -> Pictures:
    """The outputs compared, on the target's colour scale: computed and encoded once. The
    difference has a border: all zero it is white, and would look like a missing picture."""
    def build() -> Pictures:
        target = problem.target[0]
        vmax = float(np.abs(target).max()) or 1.0
        if not np.isfinite(kernel).all():
            return Pictures(jpeg(figs.signed_rgb(target, vmax=vmax)), None, None)
        out = problem.predict(kernel)[0]
        diff = out - target
        return Pictures(jpeg(figs.signed_rgb(target, vmax=vmax)),
                        jpeg(figs.signed_rgb(out, vmax=vmax)),
                        jpeg(figs.framed(figs.signed_rgb(diff, vmax=vmax), style=style)),
                        float(np.abs(diff).max()), vmax)
    key = ("learn.pictures", digest(problem.padded, problem.target), digest(kernel), style.line)
    return cache.get_or_build(key, build)


def difference_caption(pics: Pictures) -> str:
    """What the difference picture shows, in words (an all-zero one says so)."""
    if pics.largest == 0:
        return ("Difference: all zero: the learned kernel reproduces the target exactly "
                "(framed, same colour scale)")
    text = f"Difference (same colour scale, framed): largest |difference| {pics.largest:.3g}"
    if pics.largest is not None and pics.largest < pics.scale / 510:
        text += f", too small to see on a scale of ±{pics.scale:.3g}: almost exact"
    return text


# --------------------------------------------------------------------------------------------
# The training loop with live progress
# --------------------------------------------------------------------------------------------


def train_live(run: learned.Run, style: Style = LIGHT) -> None:
    """Advance ``run`` to its end, redrawing a progress bar, the loss curve and the kernel.

    The run lives in ``st.session_state`` and is changed in place: when Stop (or any widget)
    interrupts this script, everything learned so far is kept.
    """
    progress = st.progress(0.0, text="Starting...")
    c1, c2 = st.columns([3, 2])
    loss_slot, kernel_slot = c1.empty(), c2.empty()
    last, last_step = 0.0, run.step
    chunk = max(1, run.steps // 200)
    spacing = max(1, run.steps // MAX_REDRAWS)
    start, first = time.monotonic(), run.step
    while not run.finished:
        run.advance(chunk)
        now = time.monotonic()
        ahead = start + (run.step - first) * STEP_PACE - now
        if ahead > 0 and not run.finished:
            time.sleep(min(ahead, REDRAW_EVERY))
            now = time.monotonic()
        if (now - last >= REDRAW_EVERY and run.step - last_step >= spacing) or run.finished:
            last, last_step = now, run.step
            progress.progress(run.step / run.steps,
                              text=f"Step {run.step} of {run.steps}: loss {run.losses[-1]:.3g}")
            loss_slot.plotly_chart(figs.loss_figure(run.losses, font_size=16, style=style),
                                   theme=None, config={"displayModeBar": False})
            kernel_slot.plotly_chart(
                figs.kernel_evolution_figure([(run.step, run.kernel)], font_size=16,
                                             style=style),
                theme=None, config={"displayModeBar": False})
    progress.empty()
    loss_slot.empty()
    kernel_slot.empty()


def use_kernel(run: learned.Run, name: str) -> None:
    """"Use this kernel": offer the learned kernel to the filter lab and the sliding window."""
    sent = shared.send_kernel(np.round(run.kernel, 4), name, SOURCE_NAME)
    st.session_state["learn.sent"] = sent.name


def outcome(run: learned.Run) -> None:
    """The run's message, in the colour of its outcome."""
    if run.status == "diverged":
        st.error(run.message, icon=":material/error:")
    elif run.status == "stopped":
        st.warning(run.message, icon=":material/stop_circle:")
    elif any(w in run.message for w in ("too large", "less than half", "still")):
        st.warning(run.message)
    else:
        st.success(run.message)
