"""conv.stages: a layer's spec and every stage it produces."""

import numpy as np
import pytest

from conv import ops
from conv.stages import ConvSpec, PoolSpec, check, run


def photo(c=3, h=20, w=24, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (c, h, w)).astype(np.float32)


def test_every_stage_in_order_with_its_shape():
    x = photo()
    spec = ConvSpec(weight=np.random.default_rng(1).normal(size=(4, 3, 3, 3)), bias=[1, -1, 0, 2],
                    padding="same", activation="relu", pool=PoolSpec((2, 2)))
    stages = run(x, spec)
    assert [s.key for s in stages.strip()] == ["input", "padded", "conv", "biased", "activated", "pooled"]
    assert [s.shape_text for s in stages.strip()] == [
        "20 x 24 x 3", "22 x 26 x 3", "20 x 24 x 4", "20 x 24 x 4", "20 x 24 x 4", "10 x 12 x 4"]
    assert stages.output is stages.pooled
    assert stages.padding == ((1, 1), (1, 1))


def test_stages_equal_the_ops_applied_in_turn():
    x = photo()
    w = np.random.default_rng(2).normal(size=(2, 3, 3, 3))
    spec = ConvSpec(weight=w, bias=[3, -200], stride=2, padding=1, padding_mode="reflect",
                    activation="leaky_relu", negative_slope=0.1, pool=PoolSpec((3, 3), (2, 2), (1, 1), "avg"))
    s = run(x, spec)
    conv = ops.conv2d(x, w, stride=2, padding=1, padding_mode="reflect")
    np.testing.assert_allclose(s.conv.array, conv, rtol=1e-6)
    np.testing.assert_allclose(s.biased.array, conv + np.array([3, -200], np.float32)[:, None, None], rtol=1e-6)
    act = ops.activate(s.biased.array, "leaky_relu", negative_slope=0.1)
    np.testing.assert_array_equal(s.activated.array, act)
    np.testing.assert_array_equal(s.pooled.array, ops.pool2d(act, 3, 2, 1, mode="avg"))
    np.testing.assert_array_equal(s.padded.array, ops.pad(x, ((1, 1), (1, 1)), "reflect"))


def test_skipped_stages_are_none():
    s = run(photo(1), ConvSpec.from_kernel(np.ones((3, 3)) / 9))
    assert s.biased is None and s.activated is None and s.pooled is None
    assert s.output is s.conv
    assert s.padded.array is s.input.array  # no padding: no copy


def test_seed_vertical_edge_through_stages():
    x = np.array([[[10, 10, 10, 0, 0, 0]] * 6], np.float32)
    s = run(x, ConvSpec.from_kernel([[1, 0, -1]] * 3, activation="relu", pool=PoolSpec(2)))
    assert s.conv.array[0].tolist() == [[0, 30, 30, 0]] * 4
    assert s.pooled.array[0].tolist() == [[30, 30], [30, 30]]


def test_flip_applies_the_rotated_kernel():
    x = photo(1)
    k = 2.0 ** np.array([[0, 1, 2], [4, 3, 5], [8, 7, 6]])
    flipped = run(x, ConvSpec.from_kernel(k, flip=True)).conv.array
    np.testing.assert_allclose(flipped, ops.conv2d(x, k[::-1, ::-1][None, None]), rtol=1e-6)


def test_specs_are_hashable_and_equal_by_value():
    a = ConvSpec(weight=[[1, 0, -1]] * 3, padding="same", pool=PoolSpec(2))
    b = ConvSpec(weight=np.array([[1.0, 0, -1]] * 3), padding="same", pool=PoolSpec((2, 2)))
    assert a == b and hash(a) == hash(b)
    assert a != ConvSpec(weight=[[1, 0, -1]] * 3, padding="same")
    assert {a: 1}[b] == 1
    assert a.weight_array.dtype == np.float32 and a.weight_shape == (1, 1, 3, 3)


@pytest.mark.parametrize("kwargs,words", [
    (dict(weight=[[np.nan]]), ["weight", "finite"]),
    (dict(weight=np.ones((2, 3, 3))), ["weight", "shape"]),
    (dict(weight=np.ones((3, 3)), bias=[1, 2]), ["bias", "1 values"]),
    (dict(weight=np.ones((3, 3)), stride=0), ["stride", "0"]),
    (dict(weight=np.ones((3, 3)), padding="half"), ["padding", "'half'"]),
    (dict(weight=np.ones((3, 3)), padding_mode="mirror"), ["padding_mode", "'mirror'"]),
    (dict(weight=np.ones((3, 3)), activation="gelu"), ["activation", "'gelu'"]),
    (dict(weight=np.ones((2, 1, 3, 3)), groups=3), ["groups=3", "2"]),
])
def test_bad_specs_are_explained(kwargs, words):
    with pytest.raises(ValueError) as info:
        ConvSpec(**kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("kwargs,words", [
    (dict(kernel_size=0), ["pool kernel_size", "0"]),
    (dict(kernel_size=2, padding=2), ["pool padding", "half"]),
    (dict(mode="median"), ["pool mode", "'median'"]),
])
def test_bad_pool_specs_are_explained(kwargs, words):
    with pytest.raises(ValueError) as info:
        PoolSpec(**kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("shape,spec,words", [
    ((3, 2, 2), ConvSpec(weight=np.ones((1, 3, 3, 3))), ["larger than the padded input"]),
    ((1, 8, 8), ConvSpec(weight=np.ones((1, 3, 3, 3))), ["3 input channels", "1 channels"]),
    ((3, 5, 5), ConvSpec(weight=np.ones((1, 3, 3, 3)), pool=PoolSpec(4)), ["pooling window", "3 x 3"]),
    ((3, 3, 3), ConvSpec(weight=np.ones((1, 3, 3, 3)), padding=3, padding_mode="reflect"), ["reflect"]),
])
def test_layers_that_cannot_apply_are_explained_before_computing(shape, spec, words):
    with pytest.raises(ValueError) as info:
        check(shape, spec)
    for word in words:
        assert word in str(info.value)
    with pytest.raises(ValueError):
        run(np.ones(shape, np.float32), spec)


def test_check_gives_the_output_shape():
    spec = ConvSpec(weight=np.ones((8, 3, 5, 5)), stride=2, padding=2, pool=PoolSpec(2))
    assert check((3, 101, 64), spec) == (8, 25, 16)
    assert run(photo(3, 101, 64), spec).output.array.shape == (8, 25, 16)
