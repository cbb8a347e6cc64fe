"""Layer geometry in one place: padding, output sizes and window positions, with the working.

Everything that says where a window sits or how large an output is lives here, for every
operation of the engine; the engine, the stages, the figures and the pages call it. Per axis,
as ``torch.nn.functional`` computes it:

    span  = d*(k - 1) + 1                                   a dilated kernel's extent
    conv  out = floor((n + p_before + p_after - span) / s) + 1
    pool  the same with d = 1 (floor mode)
    transposed  out = (n - 1)*s - p_before - p_after + span + output_padding

The textbook ``floor((n + 2p - f) / s) + 1`` is the first with symmetric padding and d = 1.

Padding is an int, a pair, explicit ``(before, after)`` pairs, or a word: ``"valid"`` (none),
``"same"`` (stride 1: ``span - 1`` in total, the odd pixel after, as PyTorch; stride > 1:
TensorFlow's SAME, output ``ceil(n / s)``), ``"full"`` (``span - 1`` on every side) and, in 1-D,
``"causal"`` (``span - 1`` before only: output t sees inputs <= t).

A layer resolved against its input's size is a frozen :class:`Geometry` (one :class:`Axis` per
dimension): the pads per side, the output size, the positions of every window and the worked
formulas; compute it once and hand it on.

A transposed convolution scatters input ``i`` through tap ``k`` to output
``o = i*s - p_before + k*d``. Its outputs ``o = r, r + s, r + 2s, ...`` (one stride *phase*
``r``) are therefore a plain stride-1 correlation of the input with the taps ``k`` for which
``(r + p_before - k*d)`` is a multiple of ``s``, read in reverse (:meth:`Axis.phases`); put in
one kernel frame, the phases become the output channels of one correlation
(:meth:`Axis.subpixel`): the "sub-pixel" form that :mod:`conv.family` computes it with.

References
----------
V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
arXiv:1603.07285 (2016).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]  # ((top, bottom), (left, right))

PADDING_WORDS = ("valid", "same", "full")
PADDING_WORDS_1D = (*PADDING_WORDS, "causal")
KINDS = ("conv", "pool", "transposed")

__all__ = [
    "Axis", "Geometry", "Pair", "Padding", "PADDING_WORDS", "PADDING_WORDS_1D", "Phase",
    "SubPixel", "Windows", "Worked", "adjoint_geometry", "as_int", "as_pair", "axis_padding",
    "check_int", "conv_geometry", "effective_size", "input_window", "out_size", "output_size",
    "pool_geometry", "resolve_padding", "resolve_padding_1d", "same_padding",
    "transposed_geometry", "transposed_out_size", "transposed_output_size",
]


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------

def as_int(value, name: str, minimum: int) -> int:
    """``value`` as a Python int >= ``minimum`` (integral floats accepted, booleans refused),
    or ``ValueError`` naming the parameter."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        value = int(value)
    if not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {int(value)}")
    return int(value)


def check_int(name: str, value, *, minimum: int = 0) -> int:
    """Like :func:`as_int` for the arithmetic pages: only true integers, and the message in the
    wording of a parameter table ("The parameter `k` must be ...")."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"The parameter `{name}` must be an integer >= {minimum}, got {value!r}.")
    value = int(value)
    if value < minimum:
        raise ValueError(f"The parameter `{name}` must be an integer >= {minimum}, got {value}.")
    return value


def as_pair(value, name: str, *, minimum: int = 1) -> Pair:
    """An int or an (h, w) pair as a validated ``(h, w)`` tuple of ints."""
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return (as_int(value[0], f"{name}[0] (height)", minimum),
                as_int(value[1], f"{name}[1] (width)", minimum))
    try:
        v = as_int(value, name, minimum)
    except ValueError:
        raise ValueError(
            f"{name} must be an integer >= {minimum} or an (h, w) pair of them, got {value!r}"
        ) from None
    return (v, v)


# --------------------------------------------------------------------------------------------
# Sizes along one axis
# --------------------------------------------------------------------------------------------

def effective_size(k: int, d: int = 1) -> int:
    """The span of a kernel of ``k`` taps spaced ``d`` apart: ``d*(k-1) + 1``."""
    return d * (k - 1) + 1


def out_size(n: int, k: int, before: int, after: int, s: int, d: int = 1) -> int:
    """A convolution's (or pooling's) output length: ``floor((n + before + after - span) / s) + 1``
    (``<= 0`` when the window does not fit)."""
    return (n + before + after - effective_size(k, d)) // s + 1


def transposed_out_size(n: int, k: int, s: int, before: int, after: int, d: int = 1,
                        output_padding: int = 0) -> int:
    """A transposed convolution's output length:
    ``(n - 1)*s - before - after + d*(k - 1) + output_padding + 1``."""
    return (n - 1) * s - before - after + effective_size(k, d) + output_padding


def same_padding(n: int, k: int, stride: int = 1, dilation: int = 1) -> Pair:
    """Padding ``(before, after)`` for ``"same"`` along one axis: at stride 1 ``d*(k-1)`` in
    total, the odd pixel after (as PyTorch); at stride > 1, where PyTorch refuses "same",
    TensorFlow's SAME (output ``ceil(n / s)``, the least padding that gives it, the odd pixel
    after)."""
    span = effective_size(k, dilation)
    total = span - 1 if stride == 1 else max((-(-n // stride) - 1) * stride + span - n, 0)
    return (total // 2, total - total // 2)


def axis_padding(word: str, n: int, k: int, s: int = 1, d: int = 1) -> Pair:
    """``(before, after)`` for a padding word along one axis (see the module's docstring)."""
    span = effective_size(k, d)
    if word == "valid":
        return (0, 0)
    if word == "same":
        return same_padding(n, k, s, d)
    if word == "full":
        return (span - 1, span - 1)
    if word == "causal":
        return (span - 1, 0)
    raise ValueError(f"padding must be a number or one of {', '.join(map(repr, PADDING_WORDS_1D))}, "
                     f"got {word!r}")


def resolve_padding(padding, in_hw: Pair, kernel_hw: Pair, *, stride=1, dilation=1) -> Padding:
    """A 2-D ``padding`` argument as explicit ``((top, bottom), (left, right))``.

    ``padding`` is an int, an (h, w) pair, ``((top, bottom), (left, right))``, or one of
    ``"valid"``, ``"same"`` and ``"full"``. Only the words depend on ``in_hw`` and the kernel.
    """
    if isinstance(padding, str):
        if padding not in PADDING_WORDS:
            raise ValueError(
                f"padding must be an int, an (h, w) pair or one of "
                f"{', '.join(map(repr, PADDING_WORDS))}, got {padding!r}")
        sh, sw = as_pair(stride, "stride")
        dh, dw = as_pair(dilation, "dilation")
        return (axis_padding(padding, in_hw[0], kernel_hw[0], sh, dh),
                axis_padding(padding, in_hw[1], kernel_hw[1], sw, dw))
    if (isinstance(padding, (tuple, list)) and len(padding) == 2
            and all(isinstance(p, (tuple, list)) for p in padding)):
        return (as_pair(padding[0], "padding (top, bottom)", minimum=0),
                as_pair(padding[1], "padding (left, right)", minimum=0))
    ph, pw = as_pair(padding, "padding", minimum=0)
    return ((ph, ph), (pw, pw))


def check_padding(padding, ndim: int = 2) -> None:
    """Validate a padding argument's form without an input size (``ValueError`` if bad)."""
    if ndim == 1:
        resolve_padding_1d(padding, 10**6, 1)
    else:
        resolve_padding(padding, (10**6, 10**6), (1, 1))


def resolve_padding_1d(padding, n: int, k: int, *, stride: int = 1, dilation: int = 1) -> Pair:
    """A 1-D ``padding`` argument (an int, ``(before, after)``, or one of ``"valid"``,
    ``"same"``, ``"full"``, ``"causal"``) as explicit ``(before, after)``."""
    if isinstance(padding, str):
        return axis_padding(padding, n, k, as_int(stride, "stride", 1),
                            as_int(dilation, "dilation", 1))
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(f"padding must be an int or a (before, after) pair, got {padding!r}")
        return (as_int(padding[0], "padding (before)", 0), as_int(padding[1], "padding (after)", 0))
    try:
        p = as_int(padding, "padding", 0)
    except ValueError:
        raise ValueError(
            f"padding must be an int >= 0, a (before, after) pair or one of "
            f"{', '.join(map(repr, PADDING_WORDS_1D))}, got {padding!r}") from None
    return (p, p)


# --------------------------------------------------------------------------------------------
# The working, for people
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Worked:
    """A computed number with its working.

    ``value`` is the result (for an output size it may be ``<= 0`` when the kernel does not fit
    the padded input; then ``error`` says so); ``formula`` the formula with the actual numbers
    (``"(5 + 2*1 - 3) / 2 + 1 = 3"``); ``exact`` whether its division is exact; ``dropped`` the
    rows (columns) at the end of the padded input that no window covers; ``note`` a sentence
    about an inexact division; ``error`` why the value is not a possible size.
    """

    value: int
    formula: str
    exact: bool = True
    dropped: int = 0
    note: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        """``True`` when the value describes something that can exist."""
        return not self.error


_PLURALS = {"row": "rows", "column": "columns", "row and column": "rows and columns",
            "step": "steps", "sample": "samples"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {_PLURALS[word]}"


def _fraction(num: int, den: int) -> tuple[str, str]:
    """``7/2`` as ``("=", "3.5")``; other decimals to two places (``7/3`` -> ``("≈", "2.33")``)."""
    text = f"{num / den:.2f}".rstrip("0").rstrip(".")
    sign = "=" if (num * 100) % den == 0 else "≈"
    return sign, text


def _padding_pair(padding) -> Pair:
    if isinstance(padding, tuple | list):
        if len(padding) != 2:
            raise ValueError(
                "The parameter `padding` must be an int or a (before, after) pair, "
                f"got {padding!r}.")
        return check_int("padding", padding[0]), check_int("padding", padding[1])
    p = check_int("padding", padding)
    return p, p


def output_size(n, k, *, padding=0, stride=1, dilation=1, axis: str = "row") -> Worked:
    """Output size of a convolution or pooling window along one axis, with the working:
    ``floor((n + p_before + p_after - d*(k - 1) - 1) / s) + 1``.

    ``padding`` is an int or ``(before, after)``; ``axis`` ("row", "column", "row and column",
    "step", "sample") is only used in the wording of ``note``. A layer that cannot exist is not
    an exception: ``value`` is what the formula gives (``<= 0``) and ``error`` explains, so a
    table of layers can flag it and carry on. Invalid arguments raise ``ValueError`` naming the
    parameter.

    >>> output_size(5, 3, padding=1, stride=2).formula
    '(5 + 2*1 - 3) / 2 + 1 = 3'
    >>> output_size(8, 3, stride=2).dropped
    1
    """
    n = check_int("n", n, minimum=1)
    k = check_int("k", k, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    dilation = check_int("dilation", dilation, minimum=1)
    before, after = _padding_pair(padding)
    if axis not in _PLURALS:
        raise ValueError(f"The parameter `axis` must be one of {sorted(_PLURALS)}, got {axis!r}.")

    k_eff = effective_size(k, dilation)
    padded = n + before + after
    span = padded - k_eff  # room left for the window to move
    value = span // stride + 1  # Python's // floors, also for negative spans

    pad_text = f"2*{before}" if before == after else f"{before} + {after}"
    where = f"  [dilated kernel {dilation}*({k} - 1) + 1 = {k_eff}]" if dilation > 1 else ""
    inner = f"({n} + {pad_text} - {k_eff})"

    if span < 0:
        formula = f"floor({inner} / {stride}) + 1 = {value}{where}"
        kernel_words = "kernel" if dilation == 1 else "dilated kernel"
        error = (f"{kernel_words} larger than padded input: {k_eff} > {padded} "
                 f"(input {n} + padding {before + after})")
        return Worked(value, formula, exact=True, dropped=0, note=error, error=error)

    remainder = span % stride
    if remainder == 0:
        return Worked(value, f"{inner} / {stride} + 1 = {value}{where}")

    sign, quotient = _fraction(span, stride)
    formula = f"floor({inner} / {stride}) + 1 = floor({quotient}) + 1 = {value}{where}"
    lost = _plural(remainder, axis)
    verb = "are" if remainder > 1 or " and " in axis else "is"
    tail = " (padding only, no image data is lost)" if remainder <= after else ""
    note = (f"not exact: {span}/{stride} {sign} {quotient}, floor keeps {span // stride}; "
            f"the last {lost} of the padded input {verb} never covered{tail}")
    return Worked(value, formula, exact=False, dropped=remainder, note=note)


def transposed_output_size(n, k, *, padding=0, stride=1, dilation=1, output_padding=0) -> Worked:
    """Output size of a transposed convolution along one axis, with the working:
    ``(n - 1)*s - 2p + d*(k - 1) + output_padding + 1`` (``padding`` an int or
    ``(before, after)``, then ``- p_before - p_after``).

    >>> transposed_output_size(3, 3, stride=2, padding=1, output_padding=1).formula
    '(3 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 6'
    """
    n = check_int("n", n, minimum=1)
    k = check_int("k", k, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    dilation = check_int("dilation", dilation, minimum=1)
    output_padding = check_int("output_padding", output_padding)
    before, after = _padding_pair(padding)
    value = transposed_out_size(n, k, stride, before, after, dilation, output_padding)
    pad_text = f"2*{before}" if before == after else f"{before} - {after}"
    formula = (f"({n} - 1)*{stride} - {pad_text} + {dilation}*({k} - 1) + {output_padding} + 1 "
               f"= {value}")
    if value < 1:
        error = (f"the padding ({before} + {after}) removes the whole output: "
                 f"{formula.rsplit(' = ', 1)[0]} = {value}")
        return Worked(value, formula, note=error, error=error)
    return Worked(value, formula)


# --------------------------------------------------------------------------------------------
# A layer resolved against its input
# --------------------------------------------------------------------------------------------

def input_window(first: int, count: int, span: int, n: int) -> tuple[int, int, Pair]:
    """What ``count`` stride-1 windows of ``span`` taps, the first reading input ``first``, read
    of an input of length ``n``: the slice ``[lo, hi)`` and the zeros ``(before, after)`` around
    it (``hi == lo``: nothing of the input)."""
    lo = min(max(first, 0), n)
    end = first + count - 1 + span  # one past the last index read
    hi = max(min(end, n), lo)
    return lo, hi, (lo - first, end - hi)


@dataclass(frozen=True)
class Phase:
    """The outputs ``start, start + stride, ...`` (``count`` of them) of a transposed axis.

    Output ``m`` of the phase (output ``start + m*stride`` of the axis) is
    ``sum_j x[first + m + j*dilation] * w[taps[j]]``: ``taps`` are kernel indices in reading
    order (descending: the kernel is flipped), their inputs ``dilation = d / gcd(s, d)`` apart.
    No tap (``taps == ()``): the phase holds zeros (only the bias).
    """

    start: int
    count: int
    taps: tuple[int, ...]
    first: int
    dilation: int
    stride: int

    def out_slice(self, m0: int, m1: int) -> tuple[slice, int]:
        """The axis's outputs that the phase's outputs ``[m0, m1)`` are (those that exist),
        and how many."""
        m1 = min(m1, self.count)
        if m1 <= m0:
            return slice(0, 0), 0
        return slice(self.start + m0 * self.stride, self.start + (m1 - 1) * self.stride + 1,
                     self.stride), m1 - m0


@dataclass(frozen=True)
class SubPixel:
    """A transposed axis as one stride-1 correlation whose kernel frame holds every phase.

    Phase ``p``'s taps sit at :meth:`offsets` in a frame of ``size`` taps (dilation 1, zeros
    elsewhere); frame output ``m`` reads inputs ``first + m .. first + m + size - 1``. All
    phases are computed ``count`` times (the longest phase's count; a shorter phase's extra
    output is dropped). ``size == 0``: no tap reaches an output, which holds only the bias.
    """

    phases: tuple[Phase, ...]
    first: int
    size: int
    count: int
    n: int

    def offsets(self, phase: Phase) -> list[int]:
        """Where the phase's taps sit in the frame."""
        return [phase.first - self.first + j * phase.dilation for j in range(len(phase.taps))]

    def window(self, m0: int, m1: int) -> tuple[int, int, Pair]:
        """The input slice and zeros that frame outputs ``[m0, m1)`` read
        (:func:`input_window`)."""
        return input_window(self.first + m0, m1 - m0, self.size, self.n)


@dataclass(frozen=True)
class Axis:
    """One axis of a layer, resolved: the input length, the kernel, stride, dilation, the pads
    on each side, and what they give.

    ``kind`` is "conv" or "pool" (windows over the padded input; ``out`` by the floor formula)
    or "transposed" (``before``/``after`` are then cropped from the full result, and
    ``output_padding`` is added after).
    """

    n: int
    k: int
    stride: int = 1
    dilation: int = 1
    before: int = 0
    after: int = 0
    kind: str = "conv"
    output_padding: int = 0

    @property
    def span(self) -> int:
        return effective_size(self.k, self.dilation)

    @property
    def padded(self) -> int:
        """The padded input's length (for a transposed axis: the length of the zero-inserted,
        padded input that the equivalent direct convolution reads)."""
        if self.kind == "transposed":
            return (self.n - 1) * self.stride + 1 + 2 * (self.span - 1) - self.before - self.after \
                + self.output_padding
        return self.n + self.before + self.after

    @property
    def out(self) -> int:
        if self.kind == "transposed":
            return transposed_out_size(self.n, self.k, self.stride, self.before, self.after,
                                       self.dilation, self.output_padding)
        return out_size(self.n, self.k, self.before, self.after, self.stride, self.dilation)

    @property
    def fits(self) -> bool:
        return self.out >= 1

    def worked(self, axis: str = "row") -> Worked:
        """The output size with its formula and notes."""
        if self.kind == "transposed":
            return transposed_output_size(self.n, self.k, padding=(self.before, self.after),
                                          stride=self.stride, dilation=self.dilation,
                                          output_padding=self.output_padding)
        return output_size(self.n, self.k, padding=(self.before, self.after), stride=self.stride,
                           dilation=self.dilation, axis=axis)

    def starts(self) -> np.ndarray:
        """The padded-input index where each output's window starts (conv and pool)."""
        return np.arange(max(self.out, 0)) * self.stride

    def taps(self, i: int) -> np.ndarray:
        """The padded-input indices that output ``i``'s window reads, one per kernel tap."""
        return i * self.stride + np.arange(self.k) * self.dilation

    def phases(self) -> tuple[Phase, ...]:
        """A transposed axis as ``min(s, out)`` stride-1 correlations, one per output phase
        (see :class:`Phase` and the module's docstring)."""
        if self.kind != "transposed":
            raise ValueError(f"phases() is for a transposed axis, this one is {self.kind!r}")
        s, d, out = self.stride, self.dilation, self.out
        result = []
        for r in range(min(s, max(out, 0))):
            taps = tuple(k for k in range(self.k - 1, -1, -1) if (r + self.before - k * d) % s == 0)
            first = (r + self.before - taps[0] * d) // s if taps else 0
            result.append(Phase(r, len(range(r, out, s)), taps, first, d // math.gcd(s, d), s))
        return tuple(result)

    def subpixel(self) -> SubPixel:
        """The phases in one kernel frame (see :class:`SubPixel`)."""
        phases = self.phases()
        live = [p for p in phases if p.taps]
        count = max((p.count for p in phases), default=0)
        if not live:
            return SubPixel(phases, 0, 0, count, self.n)
        first = min(p.first for p in live)
        last = max(p.first + (len(p.taps) - 1) * p.dilation for p in live)
        return SubPixel(phases, first, last - first + 1, count, self.n)


@dataclass(frozen=True)
class Geometry:
    """A layer resolved against its input: one :class:`Axis` per dimension (rows, then
    columns; a 1-D layer has one)."""

    axes: tuple[Axis, ...]

    @property
    def padding(self) -> tuple[Pair, ...]:
        """``((top, bottom), (left, right))``; ``((before, after),)`` in 1-D."""
        return tuple((a.before, a.after) for a in self.axes)

    @property
    def out_shape(self) -> tuple[int, ...]:
        return tuple(a.out for a in self.axes)

    @property
    def fits(self) -> bool:
        return all(a.fits for a in self.axes)

    @property
    def windows(self) -> "Windows":
        """Window positions over the padded input (conv and pool, 2-D)."""
        rows, cols = self.axes
        return Windows((rows.padded, cols.padded), (rows.k, cols.k), (rows.stride, cols.stride),
                       (rows.dilation, cols.dilation))

    def as_2d(self) -> "Geometry":
        """A 1-D layer as a 2-D one over a single row (H = 1, kH = 1): how the engine runs 1-D
        operations through the 2-D loops."""
        if len(self.axes) != 1:
            raise ValueError(f"as_2d() is for a 1-D layer, this one has {len(self.axes)} axes")
        (a,) = self.axes
        return Geometry((Axis(1, 1, kind=a.kind), a))

    def worked(self) -> tuple[Worked, ...]:
        names = ("row", "column") if len(self.axes) == 2 else ("step",)
        return tuple(a.worked(name) for a, name in zip(self.axes, names))

    def notes(self) -> tuple[str, ...]:
        """A sentence for each axis whose division is not exact."""
        names = ("rows", "columns") if len(self.axes) == 2 else ("steps",)
        return tuple(f"Division not exact for the {name}: {w.note.removeprefix('not exact: ')}."
                     for w, name in zip(self.worked(), names) if not w.exact and not w.error)


def _kernel_fits(axes: Sequence[Axis], names: Sequence[str]) -> None:
    for a, axis in zip(axes, names):
        if a.span > a.padded:
            span = f"{a.span}" if a.dilation == 1 else f"{a.dilation}*({a.k}-1)+1 = {a.span}"
            raise ValueError(
                f"the kernel ({span} {axis}) is larger than the padded input "
                f"({a.n} + {a.before} + {a.after} = {a.padded}): output {axis} would be "
                f"floor(({a.padded} - {a.span}) / {a.stride}) + 1 = {a.out}; "
                f"use a smaller kernel or dilation, or more padding")


def conv_geometry(in_size: Sequence[int], kernel: Sequence[int], *, stride=1, padding=0,
                  dilation=1, check: bool = True) -> Geometry:
    """A 2-D (``in_size`` = (H, W)) or 1-D (``(L,)``) convolution resolved against its input;
    ``ValueError`` naming the parameter when the arguments are not a layer or (``check``) the
    dilated kernel is larger than the padded input (without ``check``, the geometry's
    :meth:`Geometry.worked` explains it)."""
    if len(in_size) == 1:
        s, d = as_int(stride, "stride", 1), as_int(dilation, "dilation", 1)
        before, after = resolve_padding_1d(padding, in_size[0], kernel[0], stride=s, dilation=d)
        axes = (Axis(in_size[0], kernel[0], s, d, before, after),)
        names: tuple[str, ...] = ("length",)
    else:
        stride, dilation = as_pair(stride, "stride"), as_pair(dilation, "dilation")
        pads = resolve_padding(padding, tuple(in_size), tuple(kernel), stride=stride,
                               dilation=dilation)
        axes = tuple(Axis(n, k, s, d, b, a) for n, k, s, d, (b, a)
                     in zip(in_size, kernel, stride, dilation, pads))
        names = ("height", "width")
    if check:
        _kernel_fits(axes, names)
    return Geometry(axes)


def pool_geometry(in_hw: Pair, kernel_size, stride=None, padding=0, *,
                  check: bool = True) -> Geometry:
    """2-D max or average pooling resolved (``stride`` None: the window, as PyTorch; padding at
    most half the window; ``check``: ``ValueError`` when the window is larger than the map)."""
    kh, kw = as_pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else as_pair(stride, "stride")
    ph, pw = as_pair(padding, "padding", minimum=0)
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(
            f"padding must be at most half the pooling window: padding ({ph}, {pw}) with window "
            f"({kh}, {kw}) allows at most ({kh // 2}, {kw // 2})")
    h, w = in_hw
    if check and (kh > h + 2 * ph or kw > w + 2 * pw):
        raise ValueError(
            f"the pooling window ({kh} x {kw}) is larger than the map ({h} x {w}"
            + (f" padded to {h + 2 * ph} x {w + 2 * pw}" if ph or pw else "")
            + "): use a smaller window or pool an earlier, larger map")
    return Geometry((Axis(h, kh, sh, 1, ph, ph, "pool"), Axis(w, kw, sw, 1, pw, pw, "pool")))


def transposed_geometry(in_size: Sequence[int], kernel: Sequence[int], *, stride=1, padding=0,
                        output_padding=0, dilation=1) -> Geometry:
    """A transposed convolution (2-D or 1-D) resolved: PyTorch's rules, ``output_padding``
    smaller than the stride or the dilation, padding only as numbers, an output of at least
    one."""
    nd = len(in_size)
    if nd == 1:
        strides = (as_int(stride, "stride", 1),)
        dils = (as_int(dilation, "dilation", 1),)
        ops_ = (as_int(output_padding, "output_padding", 0),)
        if isinstance(padding, str):
            raise ValueError(f"padding must be an int >= 0 for a transposed convolution, got "
                             f"{padding!r}")
        pads = ((as_int(padding, "padding", 0),) * 2,)
        names: tuple[str, ...] = ("length",)
    else:
        strides, dils = as_pair(stride, "stride"), as_pair(dilation, "dilation")
        ops_ = as_pair(output_padding, "output_padding", minimum=0)
        if isinstance(padding, str):
            raise ValueError(f"padding must be an int or an (h, w) pair for a transposed "
                             f"convolution, got {padding!r}")
        ph, pw = as_pair(padding, "padding", minimum=0)
        pads = ((ph, ph), (pw, pw))
        names = ("height", "width")
    for op, s, d, name in zip(ops_, strides, dils, names):
        if op >= max(s, d):
            raise ValueError(
                f"output_padding must be smaller than either the stride or the dilation "
                f"(PyTorch's rule): output_padding {op} along the {name} with stride {s} and "
                f"dilation {d}")
    axes = tuple(Axis(n, k, s, d, b, a, "transposed", op) for n, k, s, d, (b, a), op
                 in zip(in_size, kernel, strides, dils, pads, ops_))
    for a, name in zip(axes, names):
        if a.out < 1:
            raise ValueError(
                f"padding {a.before} is too large for this transposed convolution: output "
                f"{name} would be ({a.n} - 1)*{a.stride} - 2*{a.before} + {a.dilation}*"
                f"({a.k} - 1) + {a.output_padding} + 1 = {a.out}")
    return Geometry(axes)


def adjoint_geometry(layer: Geometry) -> Geometry:
    """The transposed convolution that maps a convolution's output size back to its input size
    (the geometry of the gradient with respect to the input): the same kernel, stride, dilation
    and pads per side, and the ``output_padding`` that gives back the rows (columns) the floor
    division dropped, always smaller than the stride."""
    axes = []
    for a in layer.axes:
        if a.kind != "conv":
            raise ValueError(f"adjoint_geometry() needs a convolution's geometry, got {a.kind!r}")
        extra = a.n - transposed_out_size(a.out, a.k, a.stride, a.before, a.after, a.dilation)
        axes.append(Axis(a.out, a.k, a.stride, a.dilation, a.before, a.after, "transposed", extra))
    return Geometry(tuple(axes))


# --------------------------------------------------------------------------------------------
# Window positions: one source for the computation and for the animation
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Windows:
    """Where the kernel sits in the padded input for each output cell.

    Output cell ``(i, j)`` reads padded-input rows ``i*sh + ky*dh`` for ``ky < kh`` and columns
    ``j*sw + kx*dw`` for ``kx < kw``. The engine's slices (:meth:`tap_slice`, :meth:`band_rows`)
    and the sliding-window animation (:meth:`rows`, :meth:`cols`) both come from here.
    """

    padded_hw: Pair
    kernel_hw: Pair
    stride: Pair = (1, 1)
    dilation: Pair = (1, 1)

    @property
    def out_hw(self) -> Pair:
        return tuple(  # type: ignore[return-value]
            out_size(n, k, 0, 0, s, d)
            for n, k, s, d in zip(self.padded_hw, self.kernel_hw, self.stride, self.dilation))

    def rows(self, i: int) -> np.ndarray:
        """Padded-input rows read by output row ``i`` (one per kernel row)."""
        return i * self.stride[0] + np.arange(self.kernel_hw[0]) * self.dilation[0]

    def cols(self, j: int) -> np.ndarray:
        """Padded-input columns read by output column ``j`` (one per kernel column)."""
        return j * self.stride[1] + np.arange(self.kernel_hw[1]) * self.dilation[1]

    def band_rows(self, r0: int, r1: int) -> Pair:
        """Padded-input rows ``[start, stop)`` needed for output rows ``[r0, r1)``."""
        return r0 * self.stride[0], (r1 - 1) * self.stride[0] + self.rows(0)[-1] + 1

    def tap_slice(self, ky: int, kx: int, n_rows: int) -> tuple[slice, slice]:
        """Slices of a band buffer (starting at :meth:`band_rows`) read by tap ``(ky, kx)``."""
        (sh, sw), (dh, dw), w_out = self.stride, self.dilation, self.out_hw[1]
        return (slice(ky * dh, ky * dh + (n_rows - 1) * sh + 1, sh),
                slice(kx * dw, kx * dw + (w_out - 1) * sw + 1, sw))
