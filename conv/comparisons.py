"""Two ways to do one job and what each costs, with the formulas in numbers.

The lecture notes' arguments for convolutions and for cheap convolutions: a fully connected layer
against a convolution (:func:`dense_vs_conv`), a standard convolution against a
depthwise-separable one (:func:`separable_cost`), a direct convolution against a 1x1 bottleneck
first (:func:`bottleneck_cost`). Each returns a :class:`Comparison`; the notes' own numbers for
them are in :mod:`conv.network_presets`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from conv.geometry import Worked, check_int, output_size
from conv.shapes import conv_macs, conv_params


@dataclass(frozen=True)
class Comparison:
    """Two ways to do the same job and what each costs.

    ``a`` is the expensive way, ``b`` the cheap one; each is a list of labelled parts and a total.
    ``ratio = b / a`` exactly, with ``ratio_formula`` in numbers.
    """

    title: str
    unit: str
    a_label: str
    a_parts: tuple[tuple[str, Worked], ...]
    a_total: Worked
    b_label: str
    b_parts: tuple[tuple[str, Worked], ...]
    b_total: Worked
    ratio: Fraction
    ratio_formula: str
    notes: tuple[str, ...] = ()


def _sum(parts: tuple[tuple[str, Worked], ...]) -> Worked:
    value = sum(w.value for _, w in parts)
    if len(parts) == 1:
        return Worked(value, f"{value:,}")
    return Worked(value, " + ".join(f"{w.value:,}" for _, w in parts) + f" = {value:,}")


def _ratio(b: int, a: int) -> tuple[Fraction, str]:
    """``b / a`` exactly, and in words a class reads: ``0.311``, or ``1/112,384`` when tiny."""
    r = Fraction(b, a)
    if r >= Fraction(1, 1000):
        shown = f"= {float(r):.3g}"
    elif r.numerator == 1:
        shown = f"= 1/{r.denominator:,}"
    else:
        shown = f"≈ 1/{round(1 / r):,}"
    return r, f"{b:,} / {a:,} {shown}"


def dense_vs_conv(h, w, c_in, c_out, *, f=3, p=None) -> Comparison:
    """Parameters to map ``h x w x c_in`` to ``h x w x c_out``: fully connected vs an f x f conv.

    ``p`` defaults to ``(f - 1) // 2`` (same size for odd ``f``). The FC weights and biases are
    listed separately (the notes compare the weights alone: 314,572,800 for 3x32x32 -> 100x32x32).
    """
    h = check_int("h", h, minimum=1)
    w = check_int("w", w, minimum=1)
    c_in = check_int("c_in", c_in, minimum=1)
    c_out = check_int("c_out", c_out, minimum=1)
    f = check_int("f", f, minimum=1)
    p = (f - 1) // 2 if p is None else check_int("p", p)
    n_in, n_out = h * w * c_in, h * w * c_out
    oh, ow = output_size(h, f, padding=p), output_size(w, f, padding=p)
    weights = Worked(n_in * n_out, f"{n_in} * {n_out} = {n_in * n_out:,}")
    biases = Worked(n_out, f"{h}*{w}*{c_out} = {n_out:,}")
    conv_p = conv_params(f, f, c_in, c_out)
    a_parts = (("weights", weights), ("biases", biases))
    b_parts = ((f"{f}x{f} conv, padding {p}: weights + biases", conv_p),)
    notes = []
    if (oh.value, ow.value) != (h, w):
        notes.append(
            f"with f={f} and p={p} the convolution gives {oh.value}x{ow.value}, not {h}x{w}"
        )
    ratio, ratio_formula = _ratio(conv_p.value, n_in * n_out + n_out)
    return Comparison(
        title=f"{h}x{w}x{c_in} -> {h}x{w}x{c_out}: fully connected vs convolution",
        unit="parameters",
        a_label="fully connected",
        a_parts=a_parts,
        a_total=_sum(a_parts),
        b_label=f"{f}x{f} convolution",
        b_parts=b_parts,
        b_total=_sum(b_parts),
        ratio=ratio,
        ratio_formula=ratio_formula,
        notes=tuple(notes),
    )


def separable_cost(h_out, w_out, f, c_in, c_out) -> Comparison:
    """Multiplications of a standard ``f x f`` conv vs depthwise ``f x f`` + pointwise ``1 x 1``.

    The ratio is ``1/c_out + 1/f^2`` exactly (MobileNet, Howard et al. 2017, eq. 5).

    Examples
    --------
    >>> c = separable_cost(4, 4, 3, 3, 5)
    >>> c.a_total.value, c.b_total.value
    (2160, 672)
    """
    standard = conv_macs(h_out, w_out, f, f, c_in, c_out)
    depthwise = conv_macs(h_out, w_out, f, f, c_in, c_in, groups=c_in)
    pointwise = conv_macs(h_out, w_out, 1, 1, c_in, c_out)
    a_parts = ((f"standard {f}x{f}x{c_in} x {c_out}", standard),)
    b_parts = (
        (f"depthwise {f}x{f} x {c_in}", depthwise),
        (f"pointwise 1x1x{c_in} x {c_out}", pointwise),
    )
    b_total = _sum(b_parts)
    ratio, ratio_formula = _ratio(b_total.value, standard.value)
    ratio_formula += f" = {ratio} = 1/{c_out} + 1/{f}^2"
    return Comparison(
        title=f"{h_out}x{w_out}x{c_out} output: standard vs depthwise-separable convolution",
        unit="multiplications",
        a_label="standard",
        a_parts=a_parts,
        a_total=_sum(a_parts),
        b_label="depthwise-separable",
        b_parts=b_parts,
        b_total=b_total,
        ratio=ratio,
        ratio_formula=ratio_formula,
    )


def bottleneck_cost(h, w, c_in, c_mid, c_out, f) -> Comparison:
    """Multiplications of an ``f x f`` conv ``c_in -> c_out`` vs a 1x1 squeeze to ``c_mid`` first.

    Both keep the ``h x w`` size ("same" padding). Inception's example: 28x28x192 -> 28x28x32 with
    5x5 costs 120,422,400; through 16 channels 2,408,448 + 10,035,200 = 12,443,648.
    """
    direct = conv_macs(h, w, f, f, c_in, c_out)
    reduce = conv_macs(h, w, 1, 1, c_in, c_mid)
    expand = conv_macs(h, w, f, f, c_mid, c_out)
    a_parts = ((f"{f}x{f} conv {c_in} -> {c_out}", direct),)
    b_parts = (
        (f"1x1 conv {c_in} -> {c_mid}", reduce),
        (f"{f}x{f} conv {c_mid} -> {c_out}", expand),
    )
    b_total = _sum(b_parts)
    ratio, ratio_formula = _ratio(b_total.value, direct.value)
    return Comparison(
        title=f"{h}x{w}x{c_in} -> {h}x{w}x{c_out}: direct {f}x{f} vs 1x1 bottleneck to {c_mid}",
        unit="multiplications",
        a_label="direct",
        a_parts=a_parts,
        a_total=_sum(a_parts),
        b_label="bottleneck",
        b_parts=b_parts,
        b_total=b_total,
        ratio=ratio,
        ratio_formula=ratio_formula,
    )
