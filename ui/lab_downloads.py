"""The filter lab's downloads and code: any stage as PNG or raw values (.npy), the stage strip
for slides (PNG or animated GIF), the kernel as text, and the same layer as NumPy/SciPy and
PyTorch code (:mod:`viz.snippets`).

Files are made when their button is clicked: a button's callable outlives the run (it stays
in Streamlit's media manager), so it holds a :class:`Job`, a few strings and the spec, never
the result's arrays.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import streamlit as st

from conv.stages import ConvSpec
from kernels.text import format_kernel
from ui import cache
from ui.lab_result import LabResult, compute, fmt, shape_text, stage_title
from ui.lab_source import LabImage, Source, prepare
from viz import maps, snippets
from viz.style import LIGHT, Style


@dataclass(frozen=True, eq=False)
class Job:
    """How to get a layer's result again, without holding it (download buttons' callables
    outlive the run, in Streamlit's media manager): the result comes from the byte budget,
    computed again if it was dropped."""

    src: Source
    colour: str
    spec: ConvSpec
    names: tuple[str, ...]
    n: int
    pair: tuple[int, int] | None

    def result(self) -> LabResult:
        p = prepare(self.src, self.colour)
        return compute(p.img, p.longest, self.colour, p.x, self.spec, list(self.names), self.n,
                       self.pair)


def stage_png(job: Job, stage: str, j, mapping: str, limits: str = "p99.5"):
    """A callable giving the stage's picture as PNG at full resolution, the mapping applied."""
    def make() -> bytes:
        result = job.result()
        values = result.values(stage, j)
        how = "clip" if stage in ("input", "padded") else mapping
        if how != "clip" and result.resolved(stage, j, mapping) in ("signed", "abs"):
            clip = result.clip(stage, j, limits)
            with cache.heavy(values.nbytes * 2):
                return maps.png_bytes(maps.map_any(values, how, clip=clip).rgb)
        with cache.heavy(values.nbytes * 2):  # the picture, and its PNG
            return maps.png_bytes(maps.map_any(values, how).rgb)
    return make


def slide_cards(result: LabResult, j, mapping: str, limits: str = "p99.5") -> list:
    """The stage strip's cards for slides (:mod:`viz.slides`), pictures at display size."""
    from viz.slides import StageCard

    jj = 0 if j == "mag" else j
    cards = []
    for s_ in result.stages.strip():
        key = s_.key
        if key == "padded" and result.stages.padding == ((0, 0), (0, 0)):
            continue
        m = result.mapped(key, jj, mapping, maps.DISPLAY_SIDE, limits)
        values = result.values(key, jj)
        lo, hi = fmt(m.lo), fmt(m.hi)
        if m.clipped and m.mapping in ("signed", "abs"):
            lo, hi = (f"≤{lo}" if m.mapping == "signed" else lo), f"≥{hi}"
        how = {"photo": "the pixels as they are", "clip": "grey levels 0..255",
               "stretch": "min-max stretch", "signed": "signed: blue < 0 < red",
               "abs": "|x|: black = 0"}.get(m.mapping, m.mapping)
        if m.mapping in ("signed", "abs"):
            how += (f", limits at the {limits[1:]}th percentile of |x|" if m.clipped
                    else ", limits at max |x|")
        cards.append(StageCard(s_.title, m.rgb, shape_text(values),
                               f"{fmt(m.vmin)} … {fmt(m.vmax)}", m.colorscale, lo, hi, how,
                               m.clip_text.split(" beyond")[0].split(" with")[0]))
    return cards


def strip_file(job: Job, j, mapping: str, limits: str, style: Style, kind: str):
    """A callable giving the stage strip as one PNG (``kind="png"``) or as an animated GIF,
    one frame per stage (``"gif"``), for slides: made only when its button is clicked."""
    def make() -> bytes:
        from viz import slides

        result = job.result()
        cards = slide_cards(result, j, mapping, limits)
        title = f"{result.map_name(0 if j == 'mag' else j)}: the layer stage by stage"
        if kind == "png":
            return slides.strip_png(cards, style=style, title=title)
        return slides.strip_gif(cards, style=style, title=title)
    return make


def stage_npy(job: Job, stage: str):
    """A callable giving every channel of the stage's raw float32 values as .npy (C, H, W)."""
    def make() -> bytes:
        result = job.result()
        buf = io.BytesIO()
        np.save(buf, np.asarray(result.stage(stage).array if stage != "mag"
                                else result.magnitude()), allow_pickle=False)
        return buf.getvalue()
    return make


def kernels_text(result: LabResult) -> str:
    """Every filter of the layer as text that the kernel box parses back."""
    shape = result.spec.weight_shape
    w = np.asarray(result.spec.weight, np.float64).reshape(shape)
    parts = [(f"# weights {tuple(shape)} = (C_out, C_in / groups, kH, kW); "
             f"cross-correlation (no flip), as PyTorch")]
    for o in range(shape[0]):
        for c in range(shape[1]):
            label = result.names[o] if shape[1] == 1 else f"{result.names[o]}, slice {'RGB'[c]}"
            parts.append(f"# filter {o}: {label}\n{format_kernel(w[o, c])}")
    if result.spec.has_bias:
        parts.append(f"# bias: {', '.join(fmt(b) for b in result.spec.bias)}")
    return "\n\n".join(parts) + "\n"


def snippet_args(img: LabImage, result: LabResult) -> dict:
    """What the snippets need of the image: the file, its size, and the working size."""
    h, w = result.x.shape[1:]
    sh, sw = img.rgb.shape[:2]
    return {"in_hw": (h, w), "colour": "gray" if result.colour == "gray" else "rgb",
            "size": (w, h) if (h, w) != (sh, sw) else None, "source_size": (sw, sh),
            "filename": img.filename}


def numpy_code(img: LabImage, result: LabResult) -> str:
    return snippets.numpy_snippet(result.spec, **snippet_args(img, result))


def torch_code(img: LabImage, result: LabResult) -> str:
    return snippets.torch_snippet(result.spec, **snippet_args(img, result))


def show_downloads(img: LabImage, result: LabResult, job: Job, j, mapping: str,
                   limits: str = "p99.5", style: Style = LIGHT) -> None:
    """Any stage as PNG (the display mapping applied, full resolution) or as raw float32 values
    (.npy), and the kernel as text; files are made when a button is clicked."""
    ss = st.session_state
    keys = result.stage_keys() + (["mag"] if result.pair else [])
    if ss.get("lab.dl.stage") not in keys:
        ss["lab.dl.stage"] = keys[-1 if "mag" not in keys else -2]
    stem = img.filename.rsplit(".", 1)[0]
    jj = 0 if j == "mag" else j
    # built only when open, like the code below: a change of the layer then sends one element
    # instead of eight, each of which the browser would re-render on every change
    box = st.expander("Downloads: any stage as PNG or raw values (.npy), the kernel as text",
                      key="lab.dl_open", on_change="rerun", icon=":material/download:")
    if not box.open:
        return
    with box:
        row = st.container(horizontal=True, vertical_alignment="bottom")
        stage = row.selectbox("Stage", keys, key="lab.dl.stage", width=420,
                              format_func=lambda k: _download_label(result, k))
        row.download_button("PNG (mapping applied)", stage_png(job, stage, jj, mapping, limits),
                            file_name=f"{stem}-{stage}.png", mime="image/png",
                            key="lab.dl.png", on_click="ignore", icon=":material/download:")
        row.download_button(".npy (raw values)", stage_npy(job, stage),
                            file_name=f"{stem}-{stage}.npy", mime="application/octet-stream",
                            key="lab.dl.npy", on_click="ignore", icon=":material/download:")
        row.download_button("Kernel as text", kernels_text(result), file_name="kernel.txt",
                            mime="text/plain", key="lab.dl.kernel", on_click="ignore",
                            icon=":material/download:")
        st.caption("PNG: the stage's picture at full resolution, with the display mapping of "
                   "the figure (of the map shown). NPY: the raw float32 values of every "
                   "channel, shape (C, H, W), for `numpy.load`.")
        slides = st.container(horizontal=True, vertical_alignment="bottom")
        slides.download_button("Stage by stage, one image (PNG)",
                               strip_file(job, j, mapping, limits, style, "png"),
                               file_name=f"{stem}-stages.png", mime="image/png",
                               key="lab.dl.strip_png", on_click="ignore",
                               icon=":material/view_week:")
        slides.download_button("Stage by stage, animated GIF",
                               strip_file(job, j, mapping, limits, style, "gif"),
                               file_name=f"{stem}-stages.gif", mime="image/gif",
                               key="lab.dl.strip_gif", on_click="ignore",
                               icon=":material/movie:")
        st.caption("For slides: input → padded input → convolution → bias → activation → "
                   "pooling, each with its shape, range and colour bar (one image, or one "
                   "frame per stage), in the page's colours; made when you click.")


def _download_label(result: LabResult, key: str) -> str:
    if key == "mag":
        return "Gradient magnitude"
    return f"{stage_title(result.spec, key)} ({result.stage(key).shape_text})"


def show_code(img: LabImage, result: LabResult) -> None:
    """Equivalent NumPy/SciPy and PyTorch code and the kernel as text, in an expander whose
    content is only built when it is open (it is long, and most changes do not need it)."""
    box = st.expander("The same layer in code: NumPy/SciPy and PyTorch `F.conv2d`",
                      key="lab.code_open", on_change="rerun", icon=":material/code:")
    if not box.open:
        return
    with box:
        numpy_tab, torch_tab, kernel_tab = st.tabs(["NumPy / SciPy", "PyTorch", "Kernel as text"])
        for tab, make, lib in ((numpy_tab, numpy_code, "numpy"), (torch_tab, torch_code, "torch")):
            with tab:
                code = make(img, result)
                st.code(code, language="python")
                st.download_button(f"filter_lab_{lib}.py", code, file_name=f"filter_lab_{lib}.py",
                                   mime="text/x-python", key=f"lab.dl.{lib}", on_click="ignore",
                                   icon=":material/download:")
        with kernel_tab:
            st.code(kernels_text(result), language=None)

