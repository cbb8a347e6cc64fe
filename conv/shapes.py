"""The arithmetic of one convolutional layer, with the working shown.

Every function returns the number together with the formula that produced it, written with the
actual values, so a page can print ``(5 + 2*1 - 3) / 2 + 1 = 3`` next to the result. Everything
is integer arithmetic on Python ints (VGG-16's 138,357,544 parameters stay exact); there is no
numpy here and no I/O.

Semantics follow PyTorch (``torch.nn.Conv2d``, ``torch.nn.MaxPool2d``): per axis,

    out = floor((n + p_before + p_after - d*(k - 1) - 1) / s) + 1

which is the textbook ``floor((n + 2p - f) / s) + 1`` when the padding is symmetric and there is
no dilation (``d = 1``). A non-square layer is handled by calling these functions once per axis.

Public API
----------
Worked
    value + formula + exactness flags; what every function here returns.
output_size(n, k, *, padding=0, stride=1, dilation=1, axis="row") -> Worked
conv_params(kh, kw, c_in, c_out, *, groups=1, bias=True) -> Worked
conv_macs(h_out, w_out, kh, kw, c_in, c_out, *, groups=1) -> Worked
fc_params(n_in, n_out, *, bias=True) -> Worked
fc_macs(n_in, n_out) -> Worked
receptive_field(layers) -> list[Field]
same_padding(n, k, *, stride=1, dilation=1) -> tuple[int, int]
effective_kernel(k, dilation=1) -> int

References
----------
V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
arXiv:1603.07285 (2016).
A. Araujo, W. Norris and J. Sim, "Computing Receptive Fields of Convolutional Neural Networks",
Distill (2019): ``r_out = r_in + (k - 1) * j_in``, ``j_out = j_in * s``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral

__all__ = [
    "Worked",
    "Field",
    "output_size",
    "conv_params",
    "conv_macs",
    "fc_params",
    "fc_macs",
    "receptive_field",
    "same_padding",
    "effective_kernel",
    "check_int",
]


@dataclass(frozen=True)
class Worked:
    """A computed number with its working.

    Attributes
    ----------
    value : int
        The result. For :func:`output_size` it may be ``<= 0`` when the (dilated) kernel does not
        fit in the padded input; then ``error`` says so.
    formula : str
        The formula with the actual numbers, e.g. ``"(5 + 2*1 - 3) / 2 + 1 = 3"``.
    exact : bool
        ``True`` when the division in the formula is exact (always ``True`` for counts).
    dropped : int
        Rows (or columns) at the bottom (right) of the padded input that no window covers because
        the floor discards the remainder of the division. ``0`` when ``exact``.
    note : str
        ``""`` or a sentence in plain words about an inexact division.
    error : str
        ``""`` or why the value is not a possible size (the layer cannot exist).
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


@dataclass(frozen=True)
class Field:
    """Receptive field after one layer, along one axis.

    Attributes
    ----------
    r : int
        Receptive field: how many input pixels one output pixel of this layer sees.
    j : int
        Jump: the distance, in input pixels, between two neighbouring outputs of this layer.
    formula : str
        ``"r = 1 + (5 - 1)*1 = 5, j = 1*1 = 1"``.
    """

    r: int
    j: int
    formula: str


def check_int(name: str, value, *, minimum: int = 0) -> int:
    """Return ``value`` as a Python int, or raise ``ValueError`` naming the parameter.

    Booleans are refused (``True`` is not a kernel size); numpy integers are accepted.
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"The parameter `{name}` must be an integer >= {minimum}, got {value!r}.")
    value = int(value)
    if value < minimum:
        raise ValueError(f"The parameter `{name}` must be an integer >= {minimum}, got {value}.")
    return value


def _padding_pair(padding) -> tuple[int, int]:
    if isinstance(padding, tuple | list):
        if len(padding) != 2:
            raise ValueError(
                "The parameter `padding` must be an int or a (before, after) pair, "
                f"got {padding!r}."
            )
        return check_int("padding", padding[0]), check_int("padding", padding[1])
    p = check_int("padding", padding)
    return p, p


def effective_kernel(k: int, dilation: int = 1) -> int:
    """Size of a kernel of ``k`` taps spread ``dilation`` apart: ``d*(k - 1) + 1``."""
    k = check_int("k", k, minimum=1)
    dilation = check_int("dilation", dilation, minimum=1)
    return dilation * (k - 1) + 1


_PLURALS = {"row": "rows", "column": "columns", "row and column": "rows and columns"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {_PLURALS[word]}"


def _fraction(num: int, den: int) -> tuple[str, str]:
    """``7/2`` as ``("=", "3.5")``; other decimals to two places (``7/3`` -> ``("≈", "2.33")``)."""
    text = f"{num / den:.2f}".rstrip("0").rstrip(".")
    sign = "=" if (num * 100) % den == 0 else "≈"
    return sign, text


def output_size(n, k, *, padding=0, stride=1, dilation=1, axis: str = "row") -> Worked:
    """Output size of a convolution or pooling window along one axis.

    ``floor((n + p_before + p_after - d*(k - 1) - 1) / s) + 1``, as PyTorch computes it.

    Parameters
    ----------
    n : int
        Input size along the axis (>= 1).
    k : int
        Kernel (window) size along the axis (>= 1).
    padding : int or (int, int)
        Zeros added on each side, or ``(before, after)`` for asymmetric padding (>= 0).
    stride : int
        Step between windows (>= 1).
    dilation : int
        Spacing between kernel taps (>= 1); the kernel covers ``d*(k - 1) + 1`` pixels.
    axis : {"row", "column", "row and column"}
        Only used in the wording of ``note`` (a square layer says "row and column").

    Returns
    -------
    Worked
        ``value`` is the output size. An impossible layer (the dilated kernel is larger than the
        padded input) is not an exception here: ``value`` is then what the formula gives
        (``<= 0``) and ``error`` explains why, so a table of layers can flag it and carry on.
        ``exact`` is ``False`` when the division leaves a remainder; ``dropped`` is that remainder,
        the number of rows (columns) at the end of the padded input that no window covers.

    Raises
    ------
    ValueError
        For ``n < 1``, ``k < 1``, ``stride < 1``, ``dilation < 1``, negative padding or a
        non-integer argument; the message names the parameter.

    Examples
    --------
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

    k_eff = effective_kernel(k, dilation)
    padded = n + before + after
    span = padded - k_eff  # room left for the window to move
    value = span // stride + 1  # Python's // floors, also for negative spans

    pad_text = f"2*{before}" if before == after else f"{before} + {after}"
    kernel_text = str(k_eff)
    where = f"  [dilated kernel {dilation}*({k} - 1) + 1 = {k_eff}]" if dilation > 1 else ""
    inner = f"({n} + {pad_text} - {kernel_text})"

    if span < 0:
        formula = f"floor({inner} / {stride}) + 1 = {value}{where}"
        kernel_words = "kernel" if dilation == 1 else "dilated kernel"
        error = (
            f"{kernel_words} larger than padded input: {k_eff} > {padded} "
            f"(input {n} + padding {before + after})"
        )
        return Worked(value, formula, exact=True, dropped=0, note=error, error=error)

    remainder = span % stride
    if remainder == 0:
        formula = f"{inner} / {stride} + 1 = {value}{where}"
        return Worked(value, formula)

    sign, quotient = _fraction(span, stride)
    formula = f"floor({inner} / {stride}) + 1 = floor({quotient}) + 1 = {value}{where}"
    lost = _plural(remainder, axis)
    verb = "are" if remainder > 1 or " and " in axis else "is"
    only_padding = remainder <= after
    tail = " (padding only, no image data is lost)" if only_padding else ""
    note = (
        f"not exact: {span}/{stride} {sign} {quotient}, floor keeps {span // stride}; "
        f"the last {lost} of the padded input {verb} "
        f"never covered{tail}"
    )
    return Worked(value, formula, exact=False, dropped=remainder, note=note)


def conv_params(kh, kw, c_in, c_out, *, groups=1, bias=True) -> Worked:
    """Trainable parameters of a convolution: ``((kh*kw*c_in/groups) + bias) * c_out``.

    Parameters
    ----------
    kh, kw : int
        Kernel height and width (>= 1).
    c_in, c_out : int
        Input channels and filters (>= 1); both must be divisible by ``groups``.
    groups : int
        Grouped convolution (``groups = c_in = c_out`` is depthwise).
    bias : bool
        One bias per filter.

    Examples
    --------
    >>> conv_params(3, 3, 3, 10).formula
    '((3*3*3/1) + 1) * 10 = 280'
    """
    kh = check_int("kh", kh, minimum=1)
    kw = check_int("kw", kw, minimum=1)
    c_in = check_int("c_in", c_in, minimum=1)
    c_out = check_int("c_out", c_out, minimum=1)
    groups = _check_groups(groups, c_in, c_out)
    per_filter = kh * kw * (c_in // groups)
    value = (per_filter + (1 if bias else 0)) * c_out
    weights = f"{kh}*{kw}*{c_in}/{groups}"
    formula = f"(({weights}) + 1) * {c_out}" if bias else f"({weights}) * {c_out}"
    return Worked(value, f"{formula} = {value:,}")


def _check_groups(groups, c_in: int, c_out: int) -> int:
    groups = check_int("groups", groups, minimum=1)
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"The parameter `groups` must divide both c_in ({c_in}) and c_out ({c_out}), "
            f"got {groups}."
        )
    return groups


def conv_macs(h_out, w_out, kh, kw, c_in, c_out, *, groups=1) -> Worked:
    """Multiply-adds of a convolution: ``h_out*w_out*c_out * (kh*kw*c_in/groups)``.

    One multiply-add per kernel weight per output value; the bias additions are not counted.

    Examples
    --------
    >>> conv_macs(4, 4, 3, 3, 3, 5).value
    2160
    """
    h_out = check_int("h_out", h_out, minimum=1)
    w_out = check_int("w_out", w_out, minimum=1)
    kh = check_int("kh", kh, minimum=1)
    kw = check_int("kw", kw, minimum=1)
    c_in = check_int("c_in", c_in, minimum=1)
    c_out = check_int("c_out", c_out, minimum=1)
    groups = _check_groups(groups, c_in, c_out)
    value = h_out * w_out * c_out * kh * kw * (c_in // groups)
    formula = f"{h_out}*{w_out}*{c_out} * ({kh}*{kw}*{c_in}/{groups}) = {value:,}"
    return Worked(value, formula)


def fc_params(n_in, n_out, *, bias=True) -> Worked:
    """Parameters of a fully connected layer: ``(inputs + 1) * units``.

    Examples
    --------
    >>> fc_params(400, 120).formula
    '(400 + 1) * 120 = 48,120'
    """
    n_in = check_int("n_in", n_in, minimum=1)
    n_out = check_int("n_out", n_out, minimum=1)
    value = (n_in + (1 if bias else 0)) * n_out
    formula = f"({n_in} + 1) * {n_out}" if bias else f"{n_in} * {n_out}"
    return Worked(value, f"{formula} = {value:,}")


def fc_macs(n_in, n_out) -> Worked:
    """Multiply-adds of a fully connected layer: ``inputs * units``."""
    n_in = check_int("n_in", n_in, minimum=1)
    n_out = check_int("n_out", n_out, minimum=1)
    value = n_in * n_out
    return Worked(value, f"{n_in} * {n_out} = {value:,}")


def receptive_field(layers: Iterable[Sequence[int]]) -> list[Field]:
    """Receptive field and jump after each layer of a chain, along one axis.

    Parameters
    ----------
    layers : iterable of (k, s) or (k, s, d)
        Kernel size, stride and optionally dilation of each layer, input first. Pooling layers
        count like convolutions; padding does not change the receptive field.

    Returns
    -------
    list of Field
        One per layer: ``r_out = r_in + (k_eff - 1) * j_in`` and ``j_out = j_in * s``, starting
        from ``r = j = 1`` at the input.

    Examples
    --------
    >>> [f.r for f in receptive_field([(3, 1), (3, 1)])]
    [3, 5]
    """
    r, j = 1, 1
    fields = []
    for i, layer in enumerate(layers):
        if len(layer) not in (2, 3):
            raise ValueError(
                f"The parameter `layers` must hold (k, s) or (k, s, d) tuples; "
                f"item {i} is {layer!r}."
            )
        k = check_int("k", layer[0], minimum=1)
        s = check_int("s", layer[1], minimum=1)
        d = check_int("d", layer[2], minimum=1) if len(layer) == 3 else 1
        k_eff = effective_kernel(k, d)
        r_new = r + (k_eff - 1) * j
        j_new = j * s
        formula = f"r = {r} + ({k_eff} - 1)*{j} = {r_new}, j = {j}*{s} = {j_new}"
        fields.append(Field(r_new, j_new, formula))
        r, j = r_new, j_new
    return fields


def same_padding(n, k, *, stride=1, dilation=1) -> tuple[int, int]:
    """Padding ``(before, after)`` that makes a "same" convolution along one axis.

    At stride 1 the output has the input's size: ``d*(k - 1)`` zeros in total, the odd one after
    (bottom/right), as PyTorch's ``padding="same"``. At stride > 1 PyTorch refuses "same"; this
    follows TensorFlow's SAME instead: the output is ``ceil(n / s)`` and the padding is the least
    that achieves it, the odd pixel again after.

    Examples
    --------
    >>> same_padding(5, 4)
    (1, 2)
    >>> same_padding(7, 3, stride=2)
    (1, 1)
    """
    n = check_int("n", n, minimum=1)
    k = check_int("k", k, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    dilation = check_int("dilation", dilation, minimum=1)
    k_eff = effective_kernel(k, dilation)
    if stride == 1:
        total = k_eff - 1
    else:
        out = -(-n // stride)  # ceil(n / s)
        total = max((out - 1) * stride + k_eff - n, 0)
    before = total // 2
    return before, total - before
