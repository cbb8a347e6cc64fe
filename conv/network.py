"""Whole networks: shapes, neurons, parameters, multiply-adds and receptive fields, layer by layer.

A :class:`Network` is an input ``(H, W, C)`` and a chain of :class:`Layer` s (conv, max/avg pool,
flatten, fully connected, softmax). :func:`analyze` walks the chain with the one-layer arithmetic
of :mod:`conv.shapes` and returns an :class:`Analysis`: one :class:`Row` per layer, with the worked
formulas, and the totals. Nothing here raises for a layer that cannot exist: the row says why
(``Row.error``), the layer is bypassed (its input goes on to the next layer) and counts nothing.

Conventions (they reproduce the tables in the lecture notes)
------------------------------------------------------------
- Neurons are the activations a layer produces, ``H*W*C`` of its output. The input is not counted
  in the total (the MNIST table: 8,910 neurons for a 28x28x1 input). ``flatten`` and a softmax
  that only normalizes an FC layer's outputs produce the same values again: their rows show them,
  the total does not count them twice.
- Parameters: conv ``((fh*fw*c_in) + 1) * filters``, FC ``(inputs + 1) * units`` (no ``+ 1``
  without bias), pooling and flatten 0.
- ``softmax`` with ``units`` is, as in the notes' LeNet-5 and MNIST tables, a fully connected
  layer followed by the softmax function: ``(inputs + 1) * units`` parameters (LeNet-5: 850).
  When it directly follows an FC layer with the same number of units, or has no ``units``, it is
  the softmax function alone: 0 parameters.
- Multiply-adds: conv ``h_out*w_out*filters * (fh*fw*c_in)``, FC ``inputs * units``; pooling
  compares or sums and counts 0.
- An FC (or softmax) layer after a spatial output flattens it implicitly (flagged); a conv or pool
  layer after a flat output is impossible.
- Receptive field ``r`` and jump ``j`` per axis, in input pixels; FC and later layers see the whole
  input (``None``).

Public API
----------
KINDS, SPATIAL, Layer, conv(), maxpool(), avgpool(), flatten(), fc(), softmax(), Network, Shape,
Row, Analysis, analyze(network) -> Analysis.

The same network as table rows and text (the page's editor, CSV, Markdown) is
:mod:`conv.network_io`; the lecture notes' networks are :mod:`conv.network_presets`.
"""

from __future__ import annotations

from dataclasses import dataclass

from conv.geometry import Worked, check_int, effective_size, output_size
from conv.shapes import conv_macs, conv_params, fc_macs, fc_params, receptive_field

KINDS = ("conv", "maxpool", "avgpool", "flatten", "fc", "softmax")
SPATIAL = ("conv", "maxpool", "avgpool")
POOLS = ("maxpool", "avgpool")
_DEFAULT_NAMES = {
    "conv": "CONV",
    "maxpool": "POOL",
    "avgpool": "POOL",
    "flatten": "FLAT",
    "fc": "FC",
    "softmax": "Softmax",
}


# --------------------------------------------------------------------------------------------
# Layers and networks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """One layer of a chain. Build it with :func:`conv`, :func:`maxpool`, :func:`fc`, ...

    Attributes
    ----------
    kind : {"conv", "maxpool", "avgpool", "flatten", "fc", "softmax"}
    f : int
        Kernel (window) height; 0 for flatten/fc/softmax.
    fw : int
        Kernel width (``f`` for a square kernel).
    p : int
        Zero padding on every side.
    s : int
        Stride.
    d : int
        Dilation (conv and max pooling).
    units : int or None
        Filters of a conv, units of an FC or softmax layer; ``None`` for pooling and flatten, and
        for a softmax that is only the activation.
    bias : bool
        Conv and FC: one bias per filter/unit.
    name : str
        Shown in the table; ``""`` gives ``CONV1``, ``POOL1``, ``FC1`` ... by kind.
    """

    kind: str
    f: int = 0
    fw: int = 0
    p: int = 0
    s: int = 1
    d: int = 1
    units: int | None = None
    bias: bool = True
    name: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"The parameter `kind` must be one of {KINDS}, got {self.kind!r}.")
        if self.kind in SPATIAL:
            check_int("f", self.f, minimum=1)
            check_int("fw", self.fw, minimum=1)
            check_int("p", self.p, minimum=0)
            check_int("s", self.s, minimum=1)
            check_int("d", self.d, minimum=1)
            if self.kind == "avgpool" and self.d != 1:
                raise ValueError(
                    f"The parameter `d` must be 1 for average pooling (no dilation), got {self.d}."
                )
        if self.kind in ("conv", "fc"):
            check_int("units", self.units, minimum=1)
        if self.kind == "softmax" and self.units is not None:
            check_int("units", self.units, minimum=1)
        if not isinstance(self.bias, bool):
            raise ValueError(f"The parameter `bias` must be True or False, got {self.bias!r}.")
        if not isinstance(self.name, str):
            raise ValueError(f"The parameter `name` must be a string, got {self.name!r}.")

    @property
    def kernel_text(self) -> str:
        """``"5"`` or ``"5x3"``; ``""`` for layers without a window."""
        if self.kind not in SPATIAL:
            return ""
        return str(self.f) if self.f == self.fw else f"{self.f}x{self.fw}"


def _kernel(f) -> tuple[int, int]:
    if isinstance(f, tuple | list):
        if len(f) != 2:
            raise ValueError(f"The parameter `f` must be an int or an (fh, fw) pair, got {f!r}.")
        return check_int("f", f[0], minimum=1), check_int("f", f[1], minimum=1)
    f = check_int("f", f, minimum=1)
    return f, f


def conv(f, filters, *, p=0, s=1, d=1, bias=True, name="") -> Layer:
    """A convolution: ``filters`` kernels of ``f x f`` (or ``(fh, fw)``) over all input channels."""
    fh, fw = _kernel(f)
    return Layer("conv", fh, fw, p, s, d, filters, bias, name)


def maxpool(f, s=None, *, p=0, d=1, name="") -> Layer:
    """Max pooling over ``f x f`` windows; the stride defaults to the window size (PyTorch)."""
    fh, fw = _kernel(f)
    return Layer("maxpool", fh, fw, p, fh if s is None else s, d, None, True, name)


def avgpool(f, s=None, *, p=0, name="") -> Layer:
    """Average pooling over ``f x f`` windows; the stride defaults to the window size."""
    fh, fw = _kernel(f)
    return Layer("avgpool", fh, fw, p, fh if s is None else s, 1, None, True, name)


def flatten(*, name="") -> Layer:
    """Reshape ``H x W x C`` into ``H*W*C`` values."""
    return Layer("flatten", name=name)


def fc(units, *, bias=True, name="") -> Layer:
    """A fully connected layer of ``units`` neurons (flattens a spatial input implicitly)."""
    return Layer("fc", units=units, bias=bias, name=name)


def softmax(units=None, *, bias=True, name="") -> Layer:
    """A softmax output: FC + softmax with ``units``, or the function alone with ``units=None``."""
    return Layer("softmax", units=units, bias=bias, name=name)


@dataclass(frozen=True)
class Network:
    """An input of ``(H, W, C)`` and a chain of layers."""

    input: tuple[int, int, int]
    layers: tuple[Layer, ...] = ()

    def __post_init__(self):
        if not isinstance(self.input, tuple | list) or len(self.input) != 3:
            raise ValueError(
                f"The parameter `input` must be an (H, W, C) triple, got {self.input!r}."
            )
        h, w, c = self.input
        object.__setattr__(
            self,
            "input",
            (
                check_int("input height", h, minimum=1),
                check_int("input width", w, minimum=1),
                check_int("input channels", c, minimum=1),
            ),
        )
        layers = tuple(self.layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(
                    f"The parameter `layers` must hold Layer objects; item {i} is {layer!r}."
                )
        object.__setattr__(self, "layers", layers)


@dataclass(frozen=True)
class Shape:
    """An activation volume ``H x W x C``, or ``C`` values when ``flat``."""

    h: int
    w: int
    c: int
    flat: bool = False

    @property
    def size(self) -> int:
        return self.h * self.w * self.c

    def __str__(self) -> str:
        return str(self.c) if self.flat else f"{self.h}x{self.w}x{self.c}"


# --------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------

_NONE = Worked(0, "")


@dataclass(frozen=True)
class Row:
    """One line of the table: what a layer does to its input.

    Attributes
    ----------
    index : int
        0 for the input, then 1, 2, ... for the layers.
    name : str
    layer : Layer or None
        ``None`` for the input row.
    input, output : Shape or None
        ``output`` equals ``input`` for a bypassed (impossible) layer.
    size_h, size_w : Worked or None
        Output height and width with their formulas (conv and pooling).
    size_formula : str
        The formula(s) with numbers: one if height and width agree, else ``"H: ...; W: ..."``.
    neurons : int
        Activations produced, ``H*W*C`` of the output.
    counted : bool
        Whether ``neurons`` is added to the total (not for the input, flatten, a bare softmax).
    params, macs : Worked
    rf : (int, int) or None
        Receptive field (height, width) in input pixels; ``None`` when the layer sees everything.
    jump : int or None
    rf_formula : str
    flags : tuple of str
        Notices: inexact divisions (which rows/columns the floor drops), implicit flatten, ...
    error : str
        ``""``, or why this layer cannot exist.
    """

    index: int
    name: str
    layer: Layer | None
    input: Shape | None
    output: Shape
    size_h: Worked | None
    size_w: Worked | None
    size_formula: str
    neurons: int
    counted: bool
    params: Worked
    macs: Worked
    rf: tuple[int, int] | None
    jump: int | None
    rf_formula: str
    flags: tuple[str, ...] = ()
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def rf_text(self) -> str:
        if self.rf is None:
            return "whole input"
        rh, rw = self.rf
        return str(rh) if rh == rw else f"{rh}x{rw}"


@dataclass(frozen=True)
class Analysis:
    """The table of a network: ``rows[0]`` is the input, then one row per layer.

    Attributes
    ----------
    network : Network
    rows : tuple of Row
    params, neurons, macs : int
        Totals over the layers that can exist (neurons as in :class:`Row` ``.counted``).
    """

    network: Network
    rows: tuple[Row, ...]
    params: int
    neurons: int
    macs: int

    @property
    def impossible(self) -> tuple[Row, ...]:
        """Rows of layers that cannot exist."""
        return tuple(r for r in self.rows if r.error)

    @property
    def flagged(self) -> tuple[Row, ...]:
        """Rows with notices (inexact divisions, implicit flattening, ...)."""
        return tuple(r for r in self.rows if r.flags)

    @property
    def output(self) -> Shape:
        return self.rows[-1].output


def analyze(network: Network) -> Analysis:
    """Walk the chain and compute every row and the totals. Never raises for impossible layers.

    Examples
    --------
    LeNet-5 as in the lecture notes:

    >>> lenet5 = Network((32, 32, 3), (conv(5, 6), avgpool(2), conv(5, 16), avgpool(2),
    ...                                fc(120), fc(84), softmax(10)))
    >>> [r.params.value for r in analyze(lenet5).rows[1:]]
    [456, 0, 2416, 0, 48120, 10164, 850]
    """
    h, w, c = network.input
    cur = Shape(h, w, c)
    rows = [
        Row(
            index=0,
            name="Input",
            layer=None,
            input=None,
            output=cur,
            size_h=None,
            size_w=None,
            size_formula="",
            neurons=cur.size,
            counted=False,
            params=_NONE,
            macs=_NONE,
            rf=(1, 1),
            jump=1,
            rf_formula="r = 1, j = 1",
        )
    ]
    chain_h: list[tuple[int, int, int]] = []
    chain_w: list[tuple[int, int, int]] = []
    rf: tuple[int, int] | None = (1, 1)
    jump: int | None = 1
    prev_ok: Layer | None = None
    counters: dict[str, int] = {}
    params = neurons = macs = 0

    for index, layer in enumerate(network.layers, start=1):
        prefix = _DEFAULT_NAMES[layer.kind]
        counters[prefix] = counters.get(prefix, 0) + 1
        name = layer.name or (prefix if layer.kind == "softmax" else f"{prefix}{counters[prefix]}")
        row = _layer_row(index, name, layer, cur, prev_ok, chain_h, chain_w, rf, jump)
        rows.append(row)
        if row.error:
            continue
        cur = row.output
        rf, jump = row.rf, row.jump
        prev_ok = layer
        params += row.params.value
        macs += row.macs.value
        if row.counted:
            neurons += row.neurons
    return Analysis(network, tuple(rows), params, neurons, macs)


def _impossible(index, name, layer, cur, reason, size_h=None, size_w=None, formula="") -> Row:
    return Row(
        index=index,
        name=name,
        layer=layer,
        input=cur,
        output=cur,
        size_h=size_h,
        size_w=size_w,
        size_formula=formula,
        neurons=0,
        counted=False,
        params=_NONE,
        macs=_NONE,
        rf=None,
        jump=None,
        rf_formula="",
        flags=(),
        error=reason,
    )


def _layer_row(index, name, layer, cur, prev_ok, chain_h, chain_w, rf, jump) -> Row:
    if layer.kind in SPATIAL:
        return _spatial_row(index, name, layer, cur, chain_h, chain_w)
    if layer.kind == "flatten":
        flags = ("already flat: nothing to do",) if cur.flat else ()
        out = Shape(1, 1, cur.size, flat=True)
        formula = "" if cur.flat else f"{cur.h}*{cur.w}*{cur.c} = {cur.size:,}"
        return Row(
            index=index,
            name=name,
            layer=layer,
            input=cur,
            output=out,
            size_h=None,
            size_w=None,
            size_formula=formula,
            neurons=out.size,
            counted=False,
            params=Worked(0, "no parameters"),
            macs=Worked(0, "no multiply-adds"),
            rf=rf,
            jump=jump,
            rf_formula="unchanged (a reshape)" if rf else "",
            flags=flags + ("the same values reshaped: not counted again in the total",),
        )

    # fc and softmax: flat outputs
    flags: list[str] = []
    n_in = cur.size
    if not cur.flat:
        flags.append(f"flattens {cur.h}x{cur.w}x{cur.c} = {n_in:,} inputs implicitly")
    follows_fc = prev_ok is not None and prev_ok.kind == "fc" and prev_ok.units == layer.units
    if layer.kind == "softmax" and (layer.units is None or (follows_fc and cur.flat)):
        out = Shape(1, 1, n_in, flat=True)
        what = (
            f"the outputs of the previous FC layer ({n_in:,})" if follows_fc else f"{n_in:,} values"
        )
        flags.append(
            f"softmax function only, over {what}: no parameters; the same values are not counted "
            "again in the neuron total"
        )
        return Row(
            index=index,
            name=name,
            layer=layer,
            input=cur,
            output=out,
            size_h=None,
            size_w=None,
            size_formula=f"{n_in:,}",
            neurons=n_in,
            counted=False,
            params=Worked(0, "no parameters"),
            macs=Worked(0, "no multiply-adds"),
            rf=None,
            jump=None,
            rf_formula="whole input",
            flags=tuple(flags),
        )
    units = layer.units
    if layer.kind == "softmax":
        flags.append("a fully connected layer followed by the softmax function")
    out = Shape(1, 1, units, flat=True)
    return Row(
        index=index,
        name=name,
        layer=layer,
        input=cur,
        output=out,
        size_h=None,
        size_w=None,
        size_formula=f"{units:,} units",
        neurons=units,
        counted=True,
        params=fc_params(n_in, units, bias=layer.bias),
        macs=fc_macs(n_in, units),
        rf=None,
        jump=None,
        rf_formula="whole input (every unit sees every input)",
        flags=tuple(flags),
    )


def _spatial_row(index, name, layer, cur, chain_h, chain_w) -> Row:
    what = "a convolution" if layer.kind == "conv" else "pooling"
    if cur.flat:
        return _impossible(
            index,
            name,
            layer,
            cur,
            f"{what} needs an H x W x C input, but its input is flat ({cur.c:,} values after "
            "flatten or a fully connected layer)",
        )
    square = cur.h == cur.w and layer.f == layer.fw
    sh = output_size(
        cur.h,
        layer.f,
        padding=layer.p,
        stride=layer.s,
        dilation=layer.d,
        axis="row and column" if square else "row",
    )
    sw = output_size(
        cur.w,
        layer.fw,
        padding=layer.p,
        stride=layer.s,
        dilation=layer.d,
        axis="row and column" if square else "column",
    )
    formula = sh.formula if square else f"H: {sh.formula}; W: {sw.formula}"
    if not (sh.ok and sw.ok):
        reasons = (
            [sh.error]
            if square
            else [f"{axis}: {s.error}" for axis, s in (("height", sh), ("width", sw)) if s.error]
        )
        return _impossible(index, name, layer, cur, "; ".join(reasons), sh, sw, formula)

    flags = []
    if square:
        if not sh.exact:
            flags.append(sh.note)
    else:
        flags.extend(f"height: {s.note}" for s in (sh,) if not s.exact)
        flags.extend(f"width: {s.note}" for s in (sw,) if not s.exact)
    if layer.kind == "conv":
        c_out = layer.units
        params = conv_params(layer.f, layer.fw, cur.c, c_out, bias=layer.bias)
        macs = conv_macs(sh.value, sw.value, layer.f, layer.fw, cur.c, c_out)
    else:
        c_out = cur.c
        params = Worked(0, "no parameters")
        macs = Worked(0, "no multiply-adds (compares or sums)")
        # PyTorch refuses pool padding larger than half the window (a window of padding only).
        half = effective_size(min(layer.f, layer.fw), layer.d) // 2
        if layer.p > half:
            flags.append(
                f"padding {layer.p} is more than half the window ({half}): PyTorch refuses this"
            )
    chain_h.append((layer.f, layer.s, layer.d))
    chain_w.append((layer.fw, layer.s, layer.d))
    fh = receptive_field(chain_h)[-1]
    fw = receptive_field(chain_w)[-1]
    rf_formula = fh.formula if fh == fw else f"H: {fh.formula}; W: {fw.formula}"
    out = Shape(sh.value, sw.value, c_out)
    return Row(
        index=index,
        name=name,
        layer=layer,
        input=cur,
        output=out,
        size_h=sh,
        size_w=sw,
        size_formula=formula,
        neurons=out.size,
        counted=True,
        params=params,
        macs=macs,
        rf=(fh.r, fw.r),
        jump=fh.j,
        rf_formula=rf_formula,
        flags=tuple(flags),
    )
