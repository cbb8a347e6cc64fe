"""The registry: keys, lookup, display order, and kernels registered by other modules."""

from __future__ import annotations

import numpy as np
import pytest

import kernels.learned  # noqa: F401  (registers LeNet-5's filters, as the app does)
from kernels import library as L
from kernels.record import GROUPS, Kernel

ALL_KEYS = [k.key for k in L.presets()]


def test_keys_are_unique_and_get_returns_the_preset():
    assert len(ALL_KEYS) == len(set(ALL_KEYS))
    assert L.keys() == ALL_KEYS
    for k in L.presets():
        assert L.get(k.key) == k
        # a kernel carries what is needed to rebuild it (what a shareable URL stores)
        assert L.get(k.key, size=k.size, sigma=k.sigma) == k


def test_required_keys_are_present():
    required = {"identity", "vertical_edge", "horizontal_edge", "horizontal_lines", "sobel_x",
                "sobel_y", "scharr_x", "scharr_y", "prewitt_x", "prewitt_y", "laplacian_4",
                "laplacian_8", "outline", "box", "gaussian", "gaussian_3x3", "sharpen",
                "emboss"}  # fmt: skip
    assert required <= set(ALL_KEYS)


def test_fixed_kernels_ignore_size_and_sigma():
    assert L.get("sobel_x", size=7, sigma=2.0) == L.get("sobel_x")
    assert L.get("box", size=5, sigma=3.0) == L.get("box", size=5)


@pytest.mark.parametrize("key", ["sobel", "", "SOBEL_X", None, 3])
def test_unknown_key_names_it_and_lists_allowed(key):
    with pytest.raises(ValueError) as info:
        L.get(key)
    message = str(info.value)
    assert repr(key) in message
    assert "sobel_x" in message and "gaussian" in message and "identity" in message


# --- order and registry ---------------------------------------------------------------------------


def test_presets_are_ordered_by_group_and_by_group_matches():
    ranks = [GROUPS.index(k.group) for k in L.presets()]
    assert ranks == sorted(ranks)
    groups = L.by_group()
    assert list(groups) == [g for g in GROUPS if g in groups]
    assert [k for ks in groups.values() for k in ks] == L.presets()
    assert {"edges", "smoothing", "sharpening", "other"} <= set(groups)


def _learned_kernel(key="learned_test_edge", value=0.5):
    return Kernel(
        key=key,
        name="Learned test edge",
        group="learned",
        weights=np.array([[value, -value]]),
        description="A kernel registered by a test.",
        detects="vertical edges",
        reference="this test",
    )


@pytest.fixture
def registered():
    kernel = L.register(_learned_kernel())
    try:
        yield kernel
    finally:
        L._unregister(kernel.key)


def test_register_adds_a_learned_kernel(registered):
    assert L.get(registered.key) is registered
    # other learned kernels (LeNet-5's) may be registered already: this one comes last
    assert L.by_group()["learned"][-1] is registered
    assert L.presets()[-1] is registered
    assert registered.key in L.keys()


def test_register_is_idempotent_and_refuses_clashes(registered):
    assert L.register(_learned_kernel()) is registered  # re-import of the registering module
    with pytest.raises(ValueError, match="learned_test_edge"):
        L.register(_learned_kernel(value=0.25))
    with pytest.raises(ValueError, match="sobel_x"):
        L.register(
            Kernel(
                key="sobel_x",
                name="x",
                group="edges",
                weights=np.ones((3, 3)),
                description="d",
                detects="d",
                reference="r",
            )
        )
    with pytest.raises(ValueError, match="parametric"):
        L.register(_learned_kernel(key="gaussian"))
    with pytest.raises(ValueError, match="`kernel`"):
        L.register("sobel_x")


def test_by_group_leaves_out_empty_groups():
    assert all(kernels for kernels in L.by_group().values())


def test_docstring_examples_run():
    # The docstrings draw the exact arrays; running their examples keeps them honest.
    import doctest

    from kernels import text

    for module in (L, text):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 0
