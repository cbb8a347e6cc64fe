"""One layer's arithmetic: output size, parameters, multiply-adds, receptive field, padding."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conv.geometry import Worked, effective_size, output_size, same_padding
from conv.shapes import conv_macs, conv_params, fc_macs, fc_params, receptive_field

# --- output size: the notes' examples, with the exact formula text -------------------------


@pytest.mark.parametrize(
    ("n", "k", "kwargs", "value", "formula"),
    [
        # seed 004: n = 5, p = 1, f = 3, s = 2 -> 3x3
        (5, 3, dict(padding=1, stride=2), 3, "(5 + 2*1 - 3) / 2 + 1 = 3"),
        # seed 004: n = 5, p = 1, f = 3, s = 1 -> 5x5
        (5, 3, dict(padding=1), 5, "(5 + 2*1 - 3) / 1 + 1 = 5"),
        # seed 004 exercise: 50x50x10 with 3x3 filters -> 48x48
        (50, 3, {}, 48, "(50 + 2*0 - 3) / 1 + 1 = 48"),
        # LeNet-5 CONV1: 32 -> 28 (the note prints (8, 20, 6))
        (32, 5, {}, 28, "(32 + 2*0 - 5) / 1 + 1 = 28"),
        # AlexNet conv1: 227 -> 55 (exact; 224 would not be)
        (227, 11, dict(stride=4), 55, "(227 + 2*0 - 11) / 4 + 1 = 55"),
        # asymmetric padding
        (6, 3, dict(padding=(0, 1), stride=2), 3, "(6 + 0 + 1 - 3) / 2 + 1 = 3"),
        # dilation shows the effective size
        (
            7,
            3,
            dict(dilation=2),
            3,
            "(7 + 2*0 - 5) / 1 + 1 = 3  [dilated kernel 2*(3 - 1) + 1 = 5]",
        ),
        # inexact: the floor is written out
        (8, 3, dict(stride=2), 3, "floor((8 + 2*0 - 3) / 2) + 1 = floor(2.5) + 1 = 3"),
        (224, 11, dict(stride=4), 54, "floor((224 + 2*0 - 11) / 4) + 1 = floor(53.25) + 1 = 54"),
    ],
)
def test_output_size_formula_text(n, k, kwargs, value, formula):
    w = output_size(n, k, **kwargs)
    assert w.value == value
    assert w.formula == formula
    assert w.ok


def test_exact_division_drops_nothing():
    # n=7, f=3, s=2, p=0: (7 - 3) / 2 = 2 exactly -> windows at 0, 2, 4 cover all 7 rows
    w = output_size(7, 3, stride=2)
    assert (w.value, w.exact, w.dropped, w.note) == (3, True, 0, "")


def test_inexact_division_drops_the_last_row():
    # n=8, f=3, s=2: (8 - 3) / 2 = 2.5 -> floor 2, windows at 0, 2, 4 end at row 6; row 7 is lost
    w = output_size(8, 3, stride=2)
    assert (w.value, w.exact, w.dropped) == (3, False, 1)
    assert w.note == (
        "not exact: 5/2 = 2.5, floor keeps 2; the last 1 row of the padded input is never covered"
    )


def test_inexact_note_wording_for_columns_plural_and_padding_only():
    w = output_size(10, 3, stride=4, axis="column")  # 7/4 -> 1, 3 columns lost
    assert w.dropped == 3
    assert "the last 3 columns of the padded input are never covered" in w.note
    w = output_size(9, 3, padding=(0, 1), stride=3)  # the lost row is the padding row
    assert w.dropped == 1
    assert w.note.endswith("(padding only, no image data is lost)")
    assert "7/3 ≈ 2.33" in w.note


def test_kernel_larger_than_padded_input_is_reported_not_raised():
    w = output_size(3, 5)
    assert not w.ok
    assert w.value <= 0
    assert w.error == "kernel larger than padded input: 5 > 3 (input 3 + padding 0)"
    assert w.formula == "floor((3 + 2*0 - 5) / 1) + 1 = -1"
    w = output_size(5, 3, dilation=3)  # effective size 7
    assert not w.ok and w.error.startswith("dilated kernel larger than padded input: 7 > 5")
    # padding can rescue it: exactly fits
    assert output_size(3, 5, padding=1).value == 1


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(n=0, k=3), "n"),
        (dict(n=5, k=0), "k"),
        (dict(n=5, k=3, stride=0), "stride"),
        (dict(n=5, k=3, dilation=0), "dilation"),
        (dict(n=5, k=3, padding=-1), "padding"),
        (dict(n=5, k=3, padding=(1, -1)), "padding"),
        (dict(n=5, k=3, padding=(1, 2, 3)), "padding"),
        (dict(n=5.0, k=3), "n"),
        (dict(n=5, k=True), "k"),
        (dict(n=5, k=3, axis="diagonal"), "axis"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        output_size(**kwargs)


def _positions_that_fit(padded: int, k_eff: int, stride: int) -> int:
    count, start = 0, 0
    while start + k_eff <= padded:
        count += 1
        start += stride
    return count


@given(
    n=st.integers(1, 60),
    k=st.integers(1, 9),
    before=st.integers(0, 6),
    after=st.integers(0, 6),
    s=st.integers(1, 7),
    d=st.integers(1, 4),
)
def test_output_size_counts_the_windows_that_fit(n, k, before, after, s, d):
    w = output_size(n, k, padding=(before, after), stride=s, dilation=d)
    padded = n + before + after
    k_eff = d * (k - 1) + 1
    count = _positions_that_fit(padded, k_eff, s)
    if count == 0:
        assert not w.ok and w.value <= 0
    else:
        assert w.ok and w.value == count
        last_end = (count - 1) * s + k_eff
        assert w.dropped == padded - last_end
        assert w.exact == (w.dropped == 0)


@given(
    n=st.integers(1, 80),
    k=st.integers(1, 8),
    p=st.integers(0, 5),
    s=st.integers(1, 5),
    d=st.integers(1, 5),
)
def test_dilation_is_a_bigger_kernel(n, k, p, s, d):
    dilated = output_size(n, k, padding=p, stride=s, dilation=d)
    plain = output_size(n, d * (k - 1) + 1, padding=p, stride=s)
    assert (dilated.value, dilated.exact, dilated.dropped, dilated.ok) == (
        plain.value,
        plain.exact,
        plain.dropped,
        plain.ok,
    )


@given(n=st.integers(1, 80), k=st.integers(1, 9), s=st.integers(1, 5), d=st.integers(1, 3))
def test_same_padding_gives_the_promised_size(n, k, s, d):
    before, after = same_padding(n, k, stride=s, dilation=d)
    assert 0 <= after - before <= 1  # the odd pixel goes after (bottom/right)
    w = output_size(n, k, padding=(before, after), stride=s, dilation=d)
    assert w.value == -(-n // s)  # n at stride 1; ceil(n / s) (TensorFlow SAME) otherwise


def test_same_padding_examples():
    assert same_padding(5, 3) == (1, 1)  # p = (f - 1) / 2
    assert same_padding(5, 4) == (1, 2)  # even kernel: odd pixel after, as PyTorch
    assert same_padding(7, 3, dilation=2) == (2, 2)
    assert same_padding(7, 3, stride=2) == (1, 1)  # TF SAME: ceil(7/2) = 4
    assert same_padding(8, 3, stride=2) == (0, 1)  # TF SAME: ceil(8/2) = 4, extra after


def test_effective_size():
    assert effective_size(3, 1) == 3
    assert effective_size(3, 2) == 5


# --- parameters and multiply-adds -------------------------------------------------------------


def test_conv_params_the_notes_exercises():
    assert conv_params(3, 3, 3, 10) == Worked(280, "((3*3*3/1) + 1) * 10 = 280")
    assert conv_params(4, 4, 3, 100).value == 4900
    assert conv_params(4, 4, 3, 100).formula == "((4*4*3/1) + 1) * 100 = 4,900"
    # (3,32,32) -> (100,32,32) with a 3x3 conv: 2,800 (the note's "1000" is wrong)
    assert conv_params(3, 3, 3, 100).value == 2800
    assert conv_params(3, 3, 3, 10, bias=False) == Worked(270, "(3*3*3/1) * 10 = 270")


def test_conv_params_grouped_and_depthwise():
    assert conv_params(3, 3, 3, 3, groups=3, bias=False).value == 27
    assert conv_params(5, 5, 96, 256, groups=2).value == (5 * 5 * 48 + 1) * 256
    with pytest.raises(ValueError, match="`groups` must divide both c_in \\(3\\) and c_out"):
        conv_params(3, 3, 3, 4, groups=2)
    with pytest.raises(ValueError, match="`c_out`"):
        conv_params(3, 3, 3, 0)


def test_conv_macs():
    # the notes' MobileNet example: 6x6x3 -> 4x4x5 with 3x3 filters: 2,160 multiplications
    assert conv_macs(4, 4, 3, 3, 3, 5) == Worked(2160, "4*4*5 * (3*3*3/1) = 2,160")
    assert conv_macs(4, 4, 3, 3, 3, 3, groups=3).value == 432  # depthwise
    assert conv_macs(4, 4, 1, 1, 3, 5).value == 240  # pointwise
    assert conv_macs(28, 28, 5, 5, 192, 32).value == 120_422_400


def test_fc_params_and_macs():
    assert fc_params(400, 120) == Worked(48120, "(400 + 1) * 120 = 48,120")  # not 48210
    assert fc_params(84, 10).formula == "(84 + 1) * 10 = 850"
    assert fc_params(3072, 102400, bias=False).value == 314_572_800
    assert fc_macs(400, 120) == Worked(48000, "400 * 120 = 48,000")
    with pytest.raises(ValueError, match="`n_in`"):
        fc_params(-1, 3)


def test_ints_stay_exact_at_scale():
    v = fc_params(10**12, 10**9).value
    assert isinstance(v, int) and v == (10**12 + 1) * 10**9


# --- receptive field --------------------------------------------------------------------------


def test_receptive_field_stacked_3x3_equals_5x5_then_7x7():
    fields = receptive_field([(3, 1), (3, 1), (3, 1)])
    assert [(f.r, f.j) for f in fields] == [(3, 1), (5, 1), (7, 1)]
    assert fields[1].formula == "r = 3 + (3 - 1)*1 = 5, j = 1*1 = 1"


def test_receptive_field_lenet5():
    fields = receptive_field([(5, 1), (2, 2), (5, 1), (2, 2)])
    assert [(f.r, f.j) for f in fields] == [(5, 1), (6, 2), (14, 2), (16, 4)]


def test_receptive_field_alexnet_and_dilation():
    alex = [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]
    assert [f.r for f in receptive_field(alex)] == [11, 19, 51, 67, 99, 131, 163, 195]
    assert receptive_field(alex)[-1].j == 32
    # a dilated 3x3 (d=2) sees 5 pixels
    assert receptive_field([(3, 1, 2)])[0].r == 5
    with pytest.raises(ValueError, match="`layers`"):
        receptive_field([(3,)])
    with pytest.raises(ValueError, match="`s`"):
        receptive_field([(3, 0)])
