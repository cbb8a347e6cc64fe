"""The counts of a layer, with the working shown: parameters, multiply-adds, receptive field.

Every function returns the number together with the formula that produced it, written with the
actual values (``((3*3*3/1) + 1) * 10 = 280``), as a :class:`conv.geometry.Worked`. Everything
is integer arithmetic on Python ints (VGG-16's 138,357,544 parameters stay exact); there is no
numpy here and no I/O. Output sizes and padding live in :mod:`conv.geometry`.

References
----------
A. Araujo, W. Norris and J. Sim, "Computing Receptive Fields of Convolutional Neural Networks",
Distill (2019): ``r_out = r_in + (k - 1) * j_in``, ``j_out = j_in * s``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from conv.geometry import Worked, check_int, effective_size

__all__ = ["Field", "conv_macs", "conv_params", "fc_macs", "fc_params", "receptive_field"]


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
        k_eff = effective_size(k, d)
        r_new = r + (k_eff - 1) * j
        j_new = j * s
        formula = f"r = {r} + ({k_eff} - 1)*{j} = {r_new}, j = {j}*{s} = {j_new}"
        fields.append(Field(r_new, j_new, formula))
        r, j = r_new, j_new
    return fields
