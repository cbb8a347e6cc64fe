"""conv.activations: values at the extremes, large maps in parallel, bad arguments explained."""

import numpy as np
import pytest

from conv.activations import activate

X = np.ones((3, 8, 8), np.float32)


def test_activations():
    x = np.array([[[-1000.0, -2.0, 0.0, 3.0, 1000.0]]], np.float32)
    assert activate(x, "identity").tolist() == x.tolist()
    assert activate(x, "relu")[0, 0].tolist() == [0, 0, 0, 3, 1000]
    assert activate(x, "leaky_relu")[0, 0].tolist() == pytest.approx([-10, -0.02, 0, 3, 1000])
    assert activate(x, "leaky_relu", negative_slope=0.2)[0, 0, 1] == pytest.approx(-0.4)
    assert activate(x, "sigmoid")[0, 0].tolist() == pytest.approx([0, 0.1192029, 0.5, 0.9525741, 1])
    assert activate(x, "tanh")[0, 0].tolist() == pytest.approx(np.tanh(x[0, 0]).tolist())
    assert activate(x, "abs")[0, 0].tolist() == [1000, 2, 0, 3, 1000]


def test_activation_on_a_large_map_in_parallel():
    x = np.random.default_rng(13).normal(size=(4, 700, 800)).astype(np.float32)
    np.testing.assert_array_equal(activate(x, "relu"), np.maximum(x, 0))


@pytest.mark.parametrize("call,words", [
    (lambda: activate(X, "gelu"), ["name", "'gelu'", "'relu'"]),
    (lambda: activate(X, "relu", negative_slope=0.1), ["relu", "no parameters"]),
    (lambda: activate(X, "leaky_relu", negative_slope=float("nan")), ["negative_slope", "finite"]),
])
def test_bad_activation_arguments_are_explained(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)
