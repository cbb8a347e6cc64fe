"""The layer's widgets: padding and what it fills with, stride, dilation, bias, activation and
pooling, read back as a :class:`Layer` of plain values, and their URL parameters.

Session-state keys are ``f"{key}.<name>"`` so that ``ui/state.py`` can mirror them in the URL:
``.pad``, ``.ph``, ``.pw``, ``.pm``, ``.stride``, ``.dil``, ``.bias``, ``.act``, ``.slope``,
``.pool``, ``.pk``, ``.ps``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from conv.options import ACTIVATION_MODES, ACTIVATIONS, PADDING, PADDING_MODES, POOL_MODES, POOLING
from conv.stages import ConvSpec, PoolSpec
from ui.state import Param, choice, fmt_number, integer, number

PADDING_CHOICES = ("valid", "same", "full", "custom")
POOL_CHOICES = ("none", *POOL_MODES)
MAX_PAD = 512
MAX_STRIDE = 256
MAX_DILATION = 32
MAX_POOL = 32
MAX_BIAS = 10_000.0


@dataclass(frozen=True)
class Layer:
    """The layer's settings as plain values (see ``conv.stages.ConvSpec``)."""

    padding: object          # "valid" / "same" / "full" or (ph, pw)
    padding_mode: str
    stride: int
    dilation: int
    bias: float
    activation: str
    negative_slope: float
    pool: str                # "none" / "max" / "avg"
    pool_size: int
    pool_stride: int | None  # None: the window size

    def pool_spec(self) -> PoolSpec | None:
        if self.pool == "none":
            return None
        return PoolSpec(self.pool_size, self.pool_stride, 0, self.pool)

    def spec(self, weight, *, groups: int = 1, flip: bool = False,
             bias: tuple[float, ...] | None = None) -> ConvSpec:
        """These settings as a layer of ``weight`` (C_out, C_in / groups, kH, kW): the one
        converter from the controls to the engine (``ValueError`` with the reason when the
        settings make no layer). ``bias``: one per filter instead of the controls' single one."""
        w = np.asarray(weight, np.float64)
        if bias is None and self.bias:
            bias = (self.bias,) * w.shape[0]
        return ConvSpec(weight=w, bias=bias, stride=self.stride, padding=self.padding,
                        dilation=self.dilation, groups=groups, padding_mode=self.padding_mode,
                        flip=flip, activation=self.activation,
                        negative_slope=self.negative_slope, pool=self.pool_spec())


def layer_defaults(key: str) -> dict[str, object]:
    return {f"{key}.pad": "same", f"{key}.ph": 1, f"{key}.pw": 1, f"{key}.pm": "zeros",
            f"{key}.stride": 1, f"{key}.dil": 1, f"{key}.bias": 0.0, f"{key}.act": "identity",
            f"{key}.slope": 0.01, f"{key}.pool": "none", f"{key}.pk": 2, f"{key}.ps": 0}


def layer_params(key: str, *, max_pad: int = MAX_PAD) -> list[Param]:
    """The URL parameters of :func:`layer_controls`' settings (query names shared by pages)."""
    d = layer_defaults(key)
    return [
        Param("pad", f"{key}.pad", d[f"{key}.pad"], choice(PADDING_CHOICES), label="padding"),
        Param("ph", f"{key}.ph", d[f"{key}.ph"], integer(0, max_pad), label="padding rows"),
        Param("pw", f"{key}.pw", d[f"{key}.pw"], integer(0, max_pad), label="padding columns"),
        Param("pm", f"{key}.pm", d[f"{key}.pm"], choice(PADDING_MODES),
              label="padding mode"),
        Param("s", f"{key}.stride", d[f"{key}.stride"], integer(1, MAX_STRIDE), label="stride"),
        Param("d", f"{key}.dil", d[f"{key}.dil"], integer(1, MAX_DILATION), label="dilation"),
        Param("b", f"{key}.bias", d[f"{key}.bias"], number(-MAX_BIAS, MAX_BIAS),
              format=fmt_number, label="bias"),
        Param("act", f"{key}.act", d[f"{key}.act"], choice(ACTIVATION_MODES), label="activation"),
        Param("slope", f"{key}.slope", d[f"{key}.slope"], number(0.0, 1.0), format=fmt_number,
              label="leaky ReLU slope"),
        Param("pool", f"{key}.pool", d[f"{key}.pool"], choice(POOL_CHOICES), label="pooling"),
        Param("pk", f"{key}.pk", d[f"{key}.pk"], integer(1, MAX_POOL), label="pool window"),
        Param("ps", f"{key}.ps", d[f"{key}.ps"], integer(0, MAX_POOL), label="pool stride"),
    ]


def layer_from_state(key: str) -> Layer:
    """The layer :func:`layer_controls` returns, read from the session state alone (defaults
    where unset): for a fragment that reruns without the controls."""
    v = _layer_values(key)
    pad = v[f"{key}.pad"]
    padding = (int(v[f"{key}.ph"]), int(v[f"{key}.pw"])) if pad == "custom" else pad
    return Layer(padding=padding, padding_mode=v[f"{key}.pm"], stride=int(v[f"{key}.stride"]),
                 dilation=int(v[f"{key}.dil"]), bias=float(v[f"{key}.bias"]),
                 activation=v[f"{key}.act"], negative_slope=float(v[f"{key}.slope"]),
                 pool=v[f"{key}.pool"], pool_size=int(v[f"{key}.pk"]),
                 pool_stride=int(v[f"{key}.ps"]) or None)


def layer_controls(key: str, *, columns: bool = False, on_value=None, on_shape=None,
                   persist: str | None = None) -> Layer:
    """Padding (valid / same / full / custom per axis) and its mode, stride, dilation, bias,
    activation and pooling. Click-only widgets (segmented controls and +/- number inputs).

    ``columns``: in three columns (padding; stride, dilation, bias; activation, pooling) for
    the main area, instead of one below the other (a sidebar). ``on_value``: the ``on_change``
    callback of the controls whose change does not change the controls themselves (every one
    but padding, activation and pooling, which show or hide other controls); ``on_shape``: the
    ``on_change`` callback of those three. ``persist``: the widgets' ``persist_state`` ("page":
    they keep their values while the controls are not drawn; :func:`layer_from_state` reads
    them then)."""
    s = st.session_state
    for k, v in layer_defaults(key).items():
        s.setdefault(k, v)
    c1, c2, c3 = (st.columns(3, gap="medium") if columns else (st.container(),) * 3)
    with c1:
        _padding_controls(key, on_value, on_shape, persist)
    with c2:
        st.number_input("Stride s", 1, MAX_STRIDE, step=1, key=f"{key}.stride",
                        on_change=on_value, persist_state=persist)
        st.number_input("Dilation d", 1, MAX_DILATION, step=1, key=f"{key}.dil",
                        on_change=on_value, persist_state=persist)
        st.number_input("Bias b (added to every map)", -MAX_BIAS, MAX_BIAS, step=10.0,
                        key=f"{key}.bias", format="%g", on_change=on_value,
                        persist_state=persist)
    with c3:
        act = st.pills("Activation", ACTIVATION_MODES, key=f"{key}.act", required=True,
                       format_func=lambda a: ACTIVATIONS[a].control, wrap=True, on_change=on_shape,
                       persist_state=persist)
        if act == "leaky_relu":
            st.number_input("Leaky ReLU slope for x < 0", 0.0, 1.0, step=0.01,
                            key=f"{key}.slope", format="%g", on_change=on_value,
                            persist_state=persist)
        pool = st.pills("Pooling", POOL_CHOICES, key=f"{key}.pool", required=True,
                        format_func=lambda p: POOLING[p].control if p in POOLING else p,
                        wrap=True, on_change=on_shape, persist_state=persist)
        if pool != "none":
            st.number_input("Pool window", 1, MAX_POOL, step=1, key=f"{key}.pk",
                            on_change=on_value, persist_state=persist)
            st.number_input("Pool stride (0 = the window)", 0, MAX_POOL, step=1,
                            key=f"{key}.ps", on_change=on_value, persist_state=persist)
    # every control has a key: the session state now holds what they show
    return layer_from_state(key)


def _layer_values(key: str) -> dict[str, object]:
    """The layer's settings in the session state, defaults where unset."""
    return {k: st.session_state.get(k, default) for k, default in layer_defaults(key).items()}


def layer_summary(key: str) -> str:
    """The layer's settings in one line (from the session state, defaults where unset), e.g.
    "same padding (zeros) · stride 1 · dilation 1 · bias 0 · no activation · no pooling"."""
    v = _layer_values(key)
    pad = v[f"{key}.pad"]
    if pad == "custom":
        pad_text = f"padding {v[f'{key}.ph']} rows, {v[f'{key}.pw']} columns"
    else:
        pad_text = f"{pad} padding"
    if pad != "valid":
        pad_text += f" ({PADDING[v[f'{key}.pm']].control})"
    act = v[f"{key}.act"]
    act_text = "no activation" if act == "identity" else ACTIVATIONS[act].control
    pool = v[f"{key}.pool"]
    if pool == "none":
        pool_text = "no pooling"
    else:
        k, st_ = int(v[f"{key}.pk"]), int(v[f"{key}.ps"]) or int(v[f"{key}.pk"])
        pool_text = f"{'max' if pool == 'max' else 'average'} pool {k}x{k}, stride {st_}"
    return " · ".join([pad_text, f"stride {v[f'{key}.stride']}", f"dilation {v[f'{key}.dil']}",
                       f"bias {float(v[f'{key}.bias']):g}", act_text, pool_text])


def _padding_controls(key: str, on_value=None, on_shape=None, persist=None) -> None:
    """The padding (a word, or rows and columns when custom) and what it fills with."""
    pad = st.pills("Padding", PADDING_CHOICES, key=f"{key}.pad", required=True, wrap=True,
                   on_change=on_shape, persist_state=persist,
                   help="valid: none; same: output as large as the input (at stride 1); "
                        "full: every partial overlap; custom: you say")
    # number inputs one per line: in a narrow column Streamlit drops their +/- buttons, and a
    # teacher at a projector clicks rather than types
    if pad == "custom":
        st.number_input("p rows (top and bottom)", 0, MAX_PAD, step=1, key=f"{key}.ph",
                        on_change=on_value, persist_state=persist)
        st.number_input("p columns (left and right)", 0, MAX_PAD, step=1, key=f"{key}.pw",
                        on_change=on_value, persist_state=persist)
    st.pills("Padding fills with", PADDING_MODES, key=f"{key}.pm", required=True,
             format_func=lambda m: PADDING[m].control, wrap=True, on_change=on_value,
             persist_state=persist)
