"""The filter lab's layer applied to its image: one :class:`LabResult` per (image, resolution,
colour mode, layer), with every stage, and what the page says about the stages.

Caching: the result lives in the process's byte budget (``ui/cache.py``), keyed on names and
digests, never on an array: (image key, resolution, colour mode, the spec's digest, the maps'
names). Its reduced display copies, value ranges, pictures, figure and HTML are entries of
their own, built when first asked for, so a change of display mapping or of the map shown costs
no recomputation, and what concerns only the input is shared by every layer on it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math

import numpy as np
import streamlit as st

from conv.stages import ConvSpec, Resolved, Stages, run
from ui import cache
from ui.lab_source import LabImage
from viz import maps

STAGE_LABELS = {"output": "Layer output", "conv": "Convolution", "biased": "+ bias",
                "activated": "Activation", "pooled": "Pooling", "input": "Input",
                "padded": "Padded input", "mag": "Gradient magnitude"}


def present_stages(spec: ConvSpec) -> list[str]:
    """The stages ``spec`` has from the convolution on (a skipped one is left out)."""
    keys = ["conv"]
    if spec.has_bias:
        keys.append("biased")
    if spec.activation != "identity":
        keys.append("activated")
    if spec.pool is not None:
        keys.append("pooled")
    return keys


def stage_title(spec: ConvSpec, key: str) -> str:
    """The title of a stage of ``spec``: the activation or pooling it applies, by name."""
    if key == "activated":
        return spec.activation_title
    if key == "pooled":
        return spec.pool.title
    return STAGE_LABELS[key]


def spec_digest(spec: ConvSpec) -> str:
    """The layer's identity in cache keys and figure tokens (the spec's repr names every
    weight and setting)."""
    return hashlib.sha256(repr(spec).encode()).hexdigest()[:24]


def shape_text(a: np.ndarray) -> str:
    """A (C, H, W) array's shape as the lecture notes write it: ``H x W x C``."""
    c, h, w = a.shape
    return f"{h} x {w} x {c}"


def fmt(v: float) -> str:
    """A value as the figures write it (the colour bars' ticks, ranges, the bias)."""
    return maps._fmt(v)


class LabResult:
    """One layer applied to one image. Its display copies, value ranges and pictures are
    entries of the byte budget of their own (:meth:`memo`), built when first asked for: the
    result never grows once stored, and a picture can outlive the stages it came from."""

    def __init__(self, x: np.ndarray, spec: ConvSpec, stages: Stages, colour: str,
                 names: list[str], n_kernels: int, pair: tuple[int, int] | None,
                 input_key: str = "", key: tuple = ()):
        self.x, self.spec, self.stages, self.colour = x, spec, stages, colour
        self.names, self.n, self.pair = names, n_kernels, pair
        self.input_key = input_key  # identifies x: image, resolution, colour mode
        self.key = key or (input_key, spec_digest(spec))  # identifies the whole result
        self._stage_ids = self._ids()  # made here: a stored result never grows

    def memo(self, key, build, *, reserve: int = 0):
        """``build()``'s value, in the byte budget under this result's key and ``key``.
        Pictures, ranges and copies of one stage's map (keys ``(what, stage, j, ...)``) are
        keyed on what that stage depends on instead (:meth:`stage_id`), so that layers sharing
        a stage share them: a new bias reuses the convolution's pictures, a new pooling every
        earlier stage's, any layer the input's. ``build`` must not keep ``self``."""
        if (isinstance(key, tuple) and len(key) >= 2
                and key[0] in ("values", "range", "reduced", "mapped", "counts", "clip",
                               "inside")):
            what, stage, *rest = key
            if what == "mapped" and stage in ("input", "padded"):
                # the input is shown as a photo, whatever the mapping and limits
                rest = [rest[0], rest[2]]
            return cache.get_or_build(("lab.stage", self.input_key, self.stage_id(stage), what,
                                       *rest), build, reserve=reserve)
        return cache.get_or_build(("lab.memo", self.key, key), build, reserve=reserve)

    def stage_id(self, stage: str) -> tuple:
        """What a stage's values depend on beside the input (``"output"`` is the last stage)."""
        if stage == "output":
            stage = self.stages.output.key
        if stage == "mag":
            return ("mag", self._stage_ids["conv"], self.pair, self.n, self.colour)
        return self._stage_ids[stage]

    def _ids(self) -> dict[str, tuple]:
        s = self.spec
        w = np.asarray(s.weight_array)
        conv = ("conv", hashlib.sha256(w.tobytes()).hexdigest()[:24], w.shape, s.stride,
                self.stages.padding, s.dilation, s.groups, s.padding_mode, s.flip)
        ids = {"input": ("input",),
               "padded": ("padded", self.stages.padding, s.padding_mode),
               "conv": conv}
        last = conv
        if s.has_bias:
            last = ids["biased"] = (last, "bias", tuple(s.bias))
        if s.activation != "identity":
            slope = s.negative_slope if s.activation == "leaky_relu" else None
            last = ids["activated"] = (last, s.activation, slope)
        if s.pool is not None:
            ids["pooled"] = (last, repr(s.pool))
        return ids

    def channels(self, stage: str, j: int) -> list[int]:
        """The channels that make "map j" of a stage (three with per-channel colour)."""
        if stage in ("input", "padded"):
            return list(range(self.x.shape[0]))
        if self.colour == "channels":
            return [j, self.n + j, 2 * self.n + j]
        return [j]

    def stage(self, stage: str):
        return getattr(self.stages, stage) if stage != "output" else self.stages.output

    def values(self, stage: str, j: int) -> np.ndarray:
        """The exact values of map ``j`` of ``stage`` (C, H, W), C = 1 or 3."""
        if stage == "mag":
            return self.magnitude()
        a = self.stage(stage).array
        ch = self.channels(stage, j)
        if ch == list(range(a.shape[0])):
            return a
        return self.memo(("values", stage, j), lambda: np.ascontiguousarray(a[ch]))

    def magnitude(self) -> np.ndarray:
        """sqrt(gx^2 + gy^2) of the derivative pair's convolution maps (per colour channel)."""
        def build():
            i, k = self.pair
            c = self.stages.conv.array
            if self.colour == "channels":
                idx = [(g * self.n + i, g * self.n + k) for g in range(3)]
            else:
                idx = [(i, k)]
            return np.stack([np.hypot(c[a], c[b]) for a, b in idx]).astype(np.float32)
        n = 1 if self.colour != "channels" else 3
        return cache.get_or_build(("lab.stage", self.input_key, self.stage_id("mag"), "values"),
                                  build, reserve=self.stages.conv.array[0].nbytes * 2 * n)

    def value_range(self, stage: str, j: int) -> tuple[float, float]:
        return self.memo(("range", stage, j), lambda: maps.value_range(self.values(stage, j)))

    def reduced(self, stage: str, j: int, side: int = maps.DISPLAY_SIDE,
                method: str = "mean") -> np.ndarray:
        """The map reduced for display (:func:`viz.maps.reduce`); a thumbnail's largest-|x|
        copy from the figure's (the largest of the largest is the largest)."""
        a = self.stage(stage).array if stage != "mag" else self.stages.conv.array
        big = max(a.shape[-2:]) > maps.DISPLAY_SIDE

        def build():
            if method == "maxabs" and side < maps.DISPLAY_SIDE and big:
                return maps.reduce(self.reduced(stage, j, maps.DISPLAY_SIDE, method), side,
                                   method)
            return maps.reduce(self.values(stage, j), side, method)
        # the reserve: Pillow's copy of a plane for the mean, two planes of the output for the
        # largest |x|
        return self.memo(("reduced", stage, j, side, method), build,
                         reserve=a[0].nbytes if method == "mean" else a[0].nbytes // 4)

    def inside(self, stage: str, j: int) -> float:
        """The share of the map's values in 0..255 (what "auto" decides by), from a regular
        sample (:data:`viz.maps.ROBUST_SAMPLE` values at most)."""
        return self.memo(("inside", stage, j), lambda: maps.inside_share(
            self.values(stage, j), self.value_range(stage, j)))

    def resolved(self, stage: str, j: int, mapping: str) -> str:
        """The mapping ``mapping`` stands for on this map ("auto" resolved on the whole map)."""
        if stage in ("input", "padded"):
            return "clip"
        vmin, vmax = self.value_range(stage, j)
        inside = self.inside(stage, j) if mapping == "auto" else None
        return maps.resolve_mapping(mapping, vmin, vmax, inside)

    def clip(self, stage: str, j: int, limits: str) -> maps.Clip:
        """The whole map's colour limit for the signed and |x| pictures, and what it clips."""
        return self.memo(("clip", stage, j, limits), lambda: maps.robust_clip(
            self.values(stage, j), limits=limits, value_range_=self.value_range(stage, j)))

    def mapped(self, stage: str, j: int, mapping: str,
               side: int = maps.DISPLAY_SIDE, limits: str = "p99.5") -> maps.Mapped:
        """The display picture of a map (reduced to ``side``: signed and |x| maps by the
        largest |x| per block, so that thin edges stay), coloured by ``mapping`` with the full
        map's real range and colour limits (``limits``); its label says how it was reduced."""
        def build():
            how = "clip" if stage in ("input", "padded") else mapping
            resolved = self.resolved(stage, j, mapping)
            method = maps.reduce_method(resolved) if how != "clip" else "mean"
            v = self.reduced(stage, j, side, method)
            clip = self.clip(stage, j, limits) if resolved in ("signed", "abs") else None
            inside = self.inside(stage, j) if how == "auto" else None
            m = maps.map_any(v, how, value_range_=self.value_range(stage, j), clip=clip,
                             inside=inside)
            h, w = self.values(stage, j).shape[-2:]
            note = maps.reduce_note(h, w, side, method)
            if note and side == maps.DISPLAY_SIDE and stage not in ("input", "padded"):
                m = dataclasses.replace(m, label=f"{m.label}; {note}", _uris={})
            # its one picture encoded now: a stored value must not grow (Mapped keeps the
            # pictures it encodes), and the figure (DISPLAY_SIDE) and the cards (THUMB_SIDE)
            # each ask for the one of their side
            if side == maps.THUMB_SIDE:
                maps.thumbnail_uri(m, side)
            else:
                m.uri(side)
            return m
        return self.memo(("mapped", stage, j, mapping, side, limits), build)

    def placement(self, stage: str) -> maps.Placement:
        """Where the stage's pixels sit in input coordinates."""
        pads = self.stages.padding
        if stage == "input":
            return maps.Placement()
        if stage == "padded":
            (t, _), (l, _) = pads
            return maps.Placement(-l, -t)
        s = self.spec
        conv = maps.window_placement(pads, s.weight_shape[2:], s.stride, s.dilation)
        if stage == "pooled" or (stage == "output" and self.stages.pooled is not None):
            p = s.pool
            (kh, kw), (sh, sw), (ph, pw) = p.kernel_size, p.effective_stride, p.padding
            return conv.then(offset=(-ph + (kh - 1) / 2, -pw + (kw - 1) / 2), step=(sh, sw))
        return conv

    def stage_keys(self) -> list[str]:
        return [st_.key for st_ in self.stages.strip()]

    def map_name(self, j: int | str) -> str:
        if j == "mag":
            a, b = self.pair
            return f"√({self.names[a]}² + {self.names[b]}²)"
        return self.names[j] if self.colour != "channels" else self.names[j].rsplit(" · ", 1)[0]


def _layer(image_key: str, longest: int | None, colour: str, x: np.ndarray, layer: Resolved,
           names: tuple, n: int, pair) -> LabResult:
    spec = layer.spec
    input_key = f"{image_key}|{longest}|{colour}"
    key = (input_key, spec_digest(spec), names, pair)  # the names are in its pictures' titles

    def build() -> LabResult:
        return LabResult(x, spec, run(x, spec, layer), colour, list(names), n, pair,
                         input_key, key)
    # the reserve is the stages' arrays: the input, the padded input, each stage after the conv
    size = x.nbytes * 2 + 4 * math.prod(layer.out_shape) * (1 + len(present_stages(spec)))
    return cache.get_or_build(("lab.layer",) + key, build, reserve=size)


def compute(img: LabImage, longest: int | None, colour: str, x: np.ndarray, spec: ConvSpec,
            names: list[str], n: int, pair) -> LabResult:
    """The layer on the image (``ValueError`` with the reason when it cannot be applied)."""
    return _layer(img.key, longest, colour, x, spec.resolve(x.shape), tuple(names), n, pair)


def busy(x: np.ndarray, spec: ConvSpec):
    """A progress indicator around the work of one run: ``st.spinner`` shows itself only when
    the work takes longer than half a second (Streamlit's ``DELAY_SECS``)."""
    _, h, w = x.shape
    return st.spinner(f"Computing {spec.weight_shape[0]} map(s) on {w} x {h} pixels...",
                      show_time=True)

