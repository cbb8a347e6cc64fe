"""The kernel record: validation, read-only arrays, equality and hashing, pickling."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import library as L
from kernels.record import Kernel


def _kernel(key="learned_test_edge", value=0.5):
    return Kernel(
        key=key,
        name="Learned test edge",
        group="learned",
        weights=np.array([[value, -value]]),
        description="A kernel registered by a test.",
        detects="vertical edges",
        reference="this test",
    )


def test_kernel_copies_and_freezes_its_arrays():
    source = np.array([[1.0, -1.0]])
    k = _kernel()
    k2 = Kernel(**{**_kernel_fields(k), "weights": source})
    source[0, 0] = 99.0
    assert k2.weights[0, 0] == 1.0 and not k2.weights.flags.writeable
    with pytest.raises(AttributeError):
        k2.key = "other"  # frozen


def _kernel_fields(k: Kernel) -> dict:
    return {f: getattr(k, f) for f in ("key", "name", "group", "weights", "description",
                                       "detects", "reference", "factors")}  # fmt: skip


def test_kernel_equality_and_hash():
    a, b = _kernel(), _kernel()
    assert a == b and hash(a) == hash(b)
    assert a != _kernel(value=0.25)
    assert a != Kernel(**{**_kernel_fields(a), "name": "Other name"})
    assert a != "learned_test_edge"
    assert len({a, b, _kernel(value=0.25)}) == 2
    assert {a: 1}[b] == 1
    assert L.get("sobel_x") == Kernel(**_kernel_fields(L.get("sobel_x")))


@pytest.mark.parametrize(
    "change, match",
    [
        ({"weights": np.ones(3)}, "2-dimensional"),
        ({"weights": np.ones((16, 3))}, "1x1 to 15x15"),
        ({"weights": np.ones((0, 3))}, "1x1 to 15x15"),
        ({"weights": np.array([[1.0, np.nan]])}, "finite"),
        ({"weights": np.array([[1.0, np.inf]])}, "finite"),
        ({"weights": np.array([["a", "b"]])}, "real numbers"),
        ({"weights": np.array([[1j, 0]])}, "real numbers"),
        ({"group": "misc"}, "`group`"),
        ({"key": "Bad Key"}, "`key`"),
        ({"description": "two\nlines"}, "`description`"),
        ({"detects": ""}, "`detects`"),
        ({"factors": (np.array([1.0]), np.array([0.5, -0.25]))}, "exactly"),
        ({"factors": (np.array([1.0, 2.0]), np.array([0.5, -0.5]))}, "lengths"),
        ({"factors": (np.array([[1.0]]), np.array([0.5, -0.5]))}, "1-D"),
    ],
)
def test_kernel_validation(change, match):
    with pytest.raises(ValueError, match=match):
        Kernel(**{**_kernel_fields(_kernel()), **change})


def test_kernel_accepts_exact_factors_and_integer_weights():
    k = Kernel(**{**_kernel_fields(_kernel()), "weights": np.array([[1, -1]]),
                  "factors": (np.array([1]), np.array([1, -1]))})  # fmt: skip
    assert k.weights.dtype == np.float64 and k.factors[1].dtype == np.float64


@pytest.mark.parametrize("key", ["sobel_x", "gaussian", "log"])
def test_kernel_pickles_back_equal_and_read_only(key):
    import pickle

    k = L.get(key)
    again = pickle.loads(pickle.dumps(k))
    assert again == k
    assert not again.weights.flags.writeable
    assert again.factors is None or not again.factors[0].flags.writeable
