"""Whole networks: layer validation, impossible layers and the flags of the table."""

import pytest

from conv.network import Layer, Network, analyze, avgpool, conv, fc, flatten, maxpool, softmax


def test_kernel_too_big_is_flagged_and_the_table_continues():
    net = Network((8, 8, 3), (conv(11, 4), conv(3, 4), fc(10)))
    a = analyze(net)
    bad = a.rows[1]
    assert bad.error == "kernel larger than padded input: 11 > 8 (input 8 + padding 0)"
    assert bad.params.value == 0 and not bad.counted
    # the impossible layer is bypassed: the next conv sees the 8x8x3 input
    assert str(a.rows[2].input) == "8x8x3" and str(a.rows[2].output) == "6x6x4"
    assert a.params == (27 + 1) * 4 + (144 + 1) * 10
    assert a.impossible == (bad,)


def test_conv_after_flatten_is_impossible():
    a = analyze(Network((6, 6, 1), (flatten(), conv(3, 2), maxpool(2), fc(3))))
    assert "needs an H x W x C input" in a.rows[2].error
    assert "pooling needs an H x W x C input" in a.rows[3].error
    assert str(a.rows[4].output) == "3" and a.rows[4].params.value == (36 + 1) * 3
    assert a.rows[1].neurons == 36 and not a.rows[1].counted
    assert a.neurons == 3


def test_non_square_layer_names_height_and_width():
    a = analyze(Network((10, 6, 1), (conv((3, 7), 2),)))
    row = a.rows[1]
    assert row.error == "width: kernel larger than padded input: 7 > 6 (input 6 + padding 0)"
    a = analyze(Network((9, 8, 2), (conv((3, 1), 4, s=2),)))
    row = a.rows[1]
    assert str(row.output) == "4x4x4"
    assert row.size_formula == (
        "H: (9 + 2*0 - 3) / 2 + 1 = 4; W: floor((8 + 2*0 - 1) / 2) + 1 = floor(3.5) + 1 = 4"
    )
    assert row.flags == (
        (
            "width: not exact: 7/2 = 3.5, floor keeps 3; the last 1 column of the padded input is "
            "never covered"
        ),
    )
    assert row.params.value == (3 * 1 * 2 + 1) * 4
    assert row.rf == (3, 1)


def test_inexact_division_flag_in_the_table():
    a = analyze(Network((8, 8, 1), (conv(3, 1, s=2), maxpool(2))))
    assert a.rows[1].flags == (
        (
            "not exact: 5/2 = 2.5, floor keeps 2; the last 1 row and column of the padded input are "
            "never covered"
        ),
    )
    assert a.rows[2].flags == (
        (
            "not exact: 1/2 = 0.5, floor keeps 0; the last 1 row and column of the padded input are "
            "never covered"
        ),
    )
    assert a.rows[1].size_h.dropped == 1
    assert analyze(Network((7, 7, 1), (conv(3, 1, s=2),))).rows[1].flags == ()


def test_softmax_conventions():
    # after an FC with the same units: the function alone, 0 parameters, not counted twice
    a = analyze(Network((1, 1, 20), (fc(10), softmax(10))))
    assert a.rows[2].params.value == 0 and not a.rows[2].counted
    assert (a.params, a.neurons) == (210, 10)
    # units=None: the function alone
    assert analyze(Network((1, 1, 20), (softmax(),))).params == 0
    # different units: an FC + softmax (the notes' tables)
    a = analyze(Network((1, 1, 20), (fc(10), softmax(5))))
    assert a.rows[2].params.value == 55 and a.neurons == 15


def test_pool_padding_more_than_half_the_window_is_flagged():
    a = analyze(Network((8, 8, 1), (maxpool(2, p=2),)))
    assert any("PyTorch refuses" in f for f in a.rows[1].flags)


def test_layer_validation_names_the_parameter():
    with pytest.raises(ValueError, match="`kind`"):
        Layer("dense")
    with pytest.raises(ValueError, match="`units`"):
        conv(3, 0)
    with pytest.raises(ValueError, match="`s`"):
        maxpool(2, 0)
    with pytest.raises(ValueError, match="`input height`"):
        Network((0, 3, 3))
    with pytest.raises(ValueError, match="`d` must be 1 for average pooling"):
        Layer("avgpool", 2, 2, 0, 2, 2)
    assert avgpool(3).s == 3 and maxpool(3, 2).s == 2
