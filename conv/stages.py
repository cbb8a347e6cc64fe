"""One convolutional layer, stage by stage: input -> padded -> conv -> + bias -> activation -> pool.

A :class:`ConvSpec` (with an optional :class:`PoolSpec`) is a frozen, hashable description of a
layer; :func:`run` applies it to a ``(C, H, W)`` image with :mod:`conv.ops` and keeps every
intermediate map, so a page can show each stage with its shape and value range.

>>> import numpy as np
>>> x = np.array([[[10, 10, 10, 0, 0, 0]] * 6], np.float32)
>>> spec = ConvSpec.from_kernel([[1, 0, -1]] * 3)
>>> run(x, spec).conv.array[0, 0].tolist()
[0.0, 30.0, 30.0, 0.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from conv import geometry, ops
from conv.geometry import Geometry
from conv.options import ACTIVATIONS

Nested = tuple  # nested tuples of floats, hashable


def _nested(a: np.ndarray):
    return tuple(_nested(v) for v in a) if a.ndim else float(a)


def _pair_or_none(value, name: str, minimum: int):
    return None if value is None else geometry.as_pair(value, name, minimum=minimum)


@dataclass(frozen=True)
class PoolSpec:
    """Max or average pooling after the activation (``torch.nn.functional`` semantics)."""

    kernel_size: tuple[int, int] = (2, 2)
    stride: tuple[int, int] | None = None  # None: the window size, as PyTorch
    padding: tuple[int, int] = (0, 0)
    mode: str = "max"

    def __post_init__(self):
        object.__setattr__(self, "kernel_size",
                           geometry.as_pair(self.kernel_size, "pool kernel_size"))
        object.__setattr__(self, "stride", _pair_or_none(self.stride, "pool stride", 1))
        object.__setattr__(self, "padding",
                           geometry.as_pair(self.padding, "pool padding", minimum=0))
        if self.mode not in ops.POOL_MODES:
            raise ValueError(
                f"pool mode must be one of {', '.join(map(repr, ops.POOL_MODES))}, got {self.mode!r}"
            )
        kh, kw = self.kernel_size
        if self.padding[0] > kh // 2 or self.padding[1] > kw // 2:
            raise ValueError(
                f"pool padding must be at most half the window: padding {self.padding} with "
                f"window {self.kernel_size} allows at most ({kh // 2}, {kw // 2})"
            )

    @property
    def effective_stride(self) -> tuple[int, int]:
        return self.stride or self.kernel_size

    def resolve(self, in_hw: tuple[int, int]) -> Geometry:
        """The pooling's geometry on a map of ``in_hw`` (``ValueError`` if the window does not
        fit)."""
        return geometry.pool_geometry(in_hw, self.kernel_size, self.stride, self.padding)

    @property
    def title(self) -> str:
        (kh, kw), (sh, sw) = self.kernel_size, self.effective_stride
        window = f"{kh}x{kw}" if kh != kw else f"{kh}x{kh}"
        step = f"{sh}" if sh == sw else f"({sh}, {sw})"
        return f"{'Max' if self.mode == 'max' else 'Average'} pool {window}, stride {step}"


@dataclass(frozen=True)
class ConvSpec:
    """A convolutional layer: weights, bias, geometry, activation and optional pooling.

    ``weight`` is stored as nested tuples (hashable, so a spec can key a cache) of shape
    ``(C_out, C_in // groups, kH, kW)``; :attr:`weight_array` gives it back as float32.
    """

    weight: Nested
    bias: tuple[float, ...] | None = None
    stride: tuple[int, int] = (1, 1)
    padding: object = 0  # int, (h, w), ((top, bottom), (left, right)) or "valid"/"same"/"full"
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    padding_mode: str = "zeros"
    flip: bool = False
    activation: str = "identity"
    negative_slope: float = 0.01
    pool: PoolSpec | None = None
    _shape: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        w = np.asarray(self.weight, dtype=np.float64)
        if w.ndim == 2:  # a single 2-D kernel: one filter on one channel
            w = w[None, None]
        if w.ndim != 4:
            raise ValueError(
                f"weight must be (C_out, C_in // groups, kH, kW) or one 2-D kernel, got shape {w.shape}"
            )
        if w.size == 0:
            raise ValueError(f"weight must not be empty, got shape {w.shape}")
        if not np.isfinite(w).all():
            raise ValueError("weight must be finite (no NaN or infinity)")
        object.__setattr__(self, "weight", _nested(w))
        object.__setattr__(self, "_shape", w.shape)
        if self.bias is not None:
            b = np.asarray(self.bias, dtype=np.float64).reshape(-1)
            if b.shape != (w.shape[0],):
                raise ValueError(f"bias must have {w.shape[0]} values (one per filter), got {b.size}")
            if not np.isfinite(b).all():
                raise ValueError("bias must be finite (no NaN or infinity)")
            object.__setattr__(self, "bias", tuple(float(v) for v in b))
        object.__setattr__(self, "stride", geometry.as_pair(self.stride, "stride"))
        object.__setattr__(self, "dilation", geometry.as_pair(self.dilation, "dilation"))
        object.__setattr__(self, "groups", geometry.as_int(self.groups, "groups", 1))
        if w.shape[0] % self.groups:
            raise ValueError(f"groups={self.groups} must divide the number of filters ({w.shape[0]})")
        padding = self.padding
        if isinstance(padding, list):
            padding = tuple(tuple(p) if isinstance(p, list) else p for p in padding)
            object.__setattr__(self, "padding", padding)
        geometry.check_padding(padding)  # its form; its size is checked against an input

        if self.padding_mode not in ops.PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {', '.join(map(repr, ops.PADDING_MODES))}, "
                f"got {self.padding_mode!r}"
            )
        if self.activation not in ops.ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(map(repr, ops.ACTIVATIONS))}, "
                f"got {self.activation!r}"
            )
        if not math.isfinite(self.negative_slope):
            raise ValueError(f"negative_slope must be finite, got {self.negative_slope}")
        if self.pool is not None and not isinstance(self.pool, PoolSpec):
            raise ValueError(f"pool must be a PoolSpec or None, got {type(self.pool).__name__}")

    @classmethod
    def from_kernel(cls, kernel, **kwargs) -> "ConvSpec":
        """A one-filter, one-channel layer from a 2-D kernel."""
        k = np.asarray(kernel, dtype=np.float64)
        if k.ndim != 2:
            raise ValueError(f"kernel must be 2-D, got shape {k.shape}")
        return cls(weight=k[None, None], **kwargs)

    @property
    def weight_array(self) -> np.ndarray:
        """The weights exactly as applied: float32 ``(C_out, C_in // groups, kH, kW)``."""
        return np.asarray(self.weight, dtype=np.float32).reshape(self._shape)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return self._shape  # type: ignore[return-value]

    @property
    def bias_array(self) -> np.ndarray | None:
        return None if self.bias is None else np.asarray(self.bias, np.float32)

    @property
    def has_bias(self) -> bool:
        return self.bias is not None and any(b != 0 for b in self.bias)

    def resolved_padding(self, in_hw: tuple[int, int]) -> geometry.Padding:
        return geometry.resolve_padding(self.padding, in_hw, self._shape[2:],
                                        stride=self.stride, dilation=self.dilation)

    def resolve(self, in_shape: tuple[int, int, int]) -> "Resolved":
        """This layer on an input of ``in_shape`` (C, H, W): every size, once. ``ValueError``
        explaining why when the layer cannot be applied (channels, kernel larger than the padded
        input, padding mode, pool window larger than the map)."""
        conv = ops.check_conv_args(in_shape, self._shape, stride=self.stride,
                                   padding=self.padding, dilation=self.dilation,
                                   groups=self.groups, padding_mode=self.padding_mode)
        pool = None
        if self.pool is not None:
            try:
                pool = self.pool.resolve(conv.out_shape)
            except ValueError as exc:
                raise ValueError(f"{exc} (the map it pools is the convolution's output)") from None
        return Resolved(self, tuple(in_shape), conv, pool)

    @property
    def activation_title(self) -> str:
        title = ACTIVATIONS[self.activation].title
        if self.activation == "leaky_relu":
            title += f" (slope {self.negative_slope:g})"
        return title


@dataclass(frozen=True)
class Resolved:
    """A layer resolved against its input (:meth:`ConvSpec.resolve`): the convolution's and the
    pooling's geometry, computed once and handed to the engine, the figures and the pages."""

    spec: ConvSpec
    in_shape: tuple[int, int, int]
    conv: Geometry
    pool: Geometry | None

    @property
    def padding(self) -> geometry.Padding:
        return self.conv.padding  # type: ignore[return-value]

    @property
    def conv_shape(self) -> tuple[int, int, int]:
        return (self.spec.weight_shape[0], *self.conv.out_shape)

    @property
    def out_shape(self) -> tuple[int, int, int]:
        geo = self.pool or self.conv
        return (self.spec.weight_shape[0], *geo.out_shape)

    def notes(self) -> tuple[str, ...]:
        """A sentence for each division that is not exact (convolution, then pooling)."""
        pooled = tuple(n.replace("for the ", "for the pooled ", 1) for n in self.pool.notes()) \
            if self.pool is not None else ()
        return self.conv.notes() + pooled


@dataclass(frozen=True)
class Stage:
    """One stage's map, ``(C, H, W)`` float32, with a title for display."""

    key: str
    title: str
    array: np.ndarray

    @property
    def shape_text(self) -> str:
        """The shape as the lecture notes write it: ``H x W x C``."""
        c, h, w = self.array.shape
        return f"{h} x {w} x {c}"

    @property
    def value_range(self) -> tuple[float, float]:
        return float(self.array.min()), float(self.array.max())


@dataclass(frozen=True)
class Stages:
    """Every stage of one layer; a skipped stage (no bias, no activation, no pool) is None."""

    input: Stage
    padded: Stage
    conv: Stage
    biased: Stage | None
    activated: Stage | None
    pooled: Stage | None
    layer: Resolved       # the layer resolved against the input: padding, sizes, formulas
    method: str           # the conv2d method chosen ("direct", "separable" or "fft")

    @property
    def padding(self) -> ops.Padding:
        """``((top, bottom), (left, right))`` as applied."""
        return self.layer.padding

    @property
    def output(self) -> Stage:
        """The layer's final map."""
        return self.pooled or self.activated or self.biased or self.conv

    def strip(self) -> list[Stage]:
        """The stages that apply, in order."""
        return [s for s in (self.input, self.padded, self.conv, self.biased, self.activated,
                            self.pooled) if s is not None]


def check(in_shape: tuple[int, int, int], spec: ConvSpec) -> tuple[int, int, int]:
    """The output shape of ``spec`` on an input of ``in_shape`` (C, H, W), or ``ValueError``
    explaining why the layer cannot be applied (without computing anything)."""
    return spec.resolve(in_shape).out_shape


def run(x, spec: ConvSpec, layer: Resolved | None = None) -> Stages:
    """Apply ``spec`` to ``x`` (C, H, W) and keep every stage (``layer``: ``spec`` already
    resolved against ``x``'s shape).

    Raises
    ------
    ValueError
        When the layer cannot be applied to this input (kernel larger than the padded input,
        channel mismatch, pool window larger than the map, ...), with the reason.
    """
    x = np.asarray(x)
    if layer is None:
        layer = spec.resolve(x.shape)
    x = x.astype(np.float32, copy=False)
    pads = layer.padding
    weight = spec.weight_array
    method = ops.choose_method(weight[:, :, ::-1, ::-1] if spec.flip else weight,
                               groups=spec.groups, layer=layer.conv)
    conv = ops.conv2d(x, weight, None, groups=spec.groups, padding_mode=spec.padding_mode,
                      flip=spec.flip, layer=layer.conv)
    padded = x if pads == ((0, 0), (0, 0)) else ops.pad(x, pads, spec.padding_mode)
    stages = {
        "input": Stage("input", "Input", x),
        "padded": Stage("padded", "Padded input", padded),
        "conv": Stage("conv", "Convolution", conv),
    }
    current = conv
    biased = None
    if spec.has_bias:
        current = conv + spec.bias_array[:, None, None]
        biased = Stage("biased", "+ bias", current)
    activated = None
    if spec.activation != "identity":
        params = {"negative_slope": spec.negative_slope} if spec.activation == "leaky_relu" else {}
        current = ops.activate(current, spec.activation, **params)
        activated = Stage("activated", spec.activation_title, current)
    pooled = None
    if spec.pool is not None:
        pooled = Stage("pooled", spec.pool.title,
                       ops.pool2d(current, mode=spec.pool.mode, layer=layer.pool))
    return Stages(input=stages["input"], padded=stages["padded"], conv=stages["conv"],
                  biased=biased, activated=activated, pooled=pooled, layer=layer, method=method)
