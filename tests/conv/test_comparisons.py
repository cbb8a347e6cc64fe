"""Cost comparisons: the notes' separable and bottleneck examples, and the ratio identity."""

from fractions import Fraction

import pytest

from conv.comparisons import bottleneck_cost, separable_cost
from conv.network_presets import BOTTLENECK_EXAMPLE, SEPARABLE_EXAMPLE


def test_depthwise_separable_the_notes_example():
    c = separable_cost(**SEPARABLE_EXAMPLE)
    assert c.a_total.value == 2160
    assert [w.value for _, w in c.b_parts] == [432, 240]
    assert c.b_total.formula == "432 + 240 = 672"
    assert c.ratio == Fraction(1, 5) + Fraction(1, 9)  # 1/c_out + 1/f^2 (the note: 1/f^3)
    assert c.ratio_formula == "672 / 2,160 = 0.311 = 14/45 = 1/5 + 1/3^2"


@pytest.mark.parametrize(("h", "f", "c_in", "c_out"), [(7, 3, 16, 32), (1, 5, 1, 1), (14, 7, 8, 3)])
def test_depthwise_separable_ratio_identity(h, f, c_in, c_out):
    c = separable_cost(h, h, f, c_in, c_out)
    assert c.ratio == Fraction(1, c_out) + Fraction(1, f * f)


def test_bottleneck_inception_example():
    c = bottleneck_cost(**BOTTLENECK_EXAMPLE)
    assert c.a_total.value == 120_422_400
    assert c.a_parts[0][1].formula == "28*28*32 * (5*5*192/1) = 120,422,400"
    assert [w.value for _, w in c.b_parts] == [2_408_448, 10_035_200]
    assert c.b_total.value == 12_443_648
    assert c.b_total.formula == "2,408,448 + 10,035,200 = 12,443,648"
