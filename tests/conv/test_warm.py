"""The warm start: while a server compiles the engine's loop, the numpy path gives the same
numbers; the warm-up compiles in a child process and then switches the engine over."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conv import ops, warm


@pytest.fixture()
def gated(monkeypatch):
    """The engine as a server sees it while the warm-up runs: the compiled loop is off."""
    monkeypatch.setattr(warm, "_state", "warming")
    assert not warm.compiled_ready()


POWERS = np.array([[1, 2, 4], [8, 16, 32], [64, 128, 256]], np.float32)  # a flip cannot pass


@settings(max_examples=40, deadline=None)
@given(h=st.integers(3, 17), w=st.integers(3, 17), c=st.sampled_from([1, 2, 3]),
       stride=st.integers(1, 3), dilation=st.integers(1, 2), pad=st.integers(0, 2),
       mode=st.sampled_from(ops.PADDING_MODES), method=st.sampled_from(["direct", "separable"]),
       seed=st.integers(0, 2**16))
def test_numpy_path_equals_compiled(h, w, c, stride, dilation, pad, mode, method, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (c, h, w)).astype(np.float32)
    if method == "direct":
        weight = POWERS[None, None].repeat(2, 0).repeat(c, 1) * rng.integers(-2, 3, (2, c, 1, 1))
    else:  # rank 1 per slice: Sobel-like
        weight = np.outer([1, 2, 1], [1, 0, -1]).astype(np.float32)[None, None].repeat(c, 1)
    assume(dilation * 2 + 1 <= min(h, w) + 2 * pad)  # else an error on both paths
    assume(mode != "reflect" or pad < min(h, w))
    kwargs = dict(stride=stride, dilation=dilation, padding=pad, padding_mode=mode)
    compiled = ops.conv2d_using(method, x, weight, **kwargs)
    warm._state = "warming"
    try:
        fallback = ops.conv2d_using(method, x, weight, **kwargs)
    finally:
        warm._state = None
    np.testing.assert_array_equal(fallback, compiled)  # integers: exact in float32


def test_numpy_path_groups_and_bands(gated):
    rng = np.random.default_rng(1)
    x = rng.random((4, 300, 700), dtype=np.float32)  # several bands of rows
    weight = rng.random((4, 2, 3, 5), dtype=np.float32)
    got = ops.conv2d_using("direct", x, weight, groups=2, padding="same", stride=(2, 1))
    warm._state = None
    want = ops.conv2d_using("direct", x, weight, groups=2, padding="same", stride=(2, 1))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_gate_only_while_warming(monkeypatch):
    for state, ready in ((None, True), ("warming", False), ("ready", True), ("failed", True)):
        monkeypatch.setattr(warm, "_state", state)
        assert warm.compiled_ready() is ready


def test_background_warm_up_switches_to_compiled(monkeypatch):
    """The child process fills the cache, then the engine leaves the numpy path."""
    monkeypatch.setenv("CONVVIZ_WARM", "1")  # tests/conftest.py turns it off elsewhere
    monkeypatch.setattr(warm, "_state", None)
    monkeypatch.setattr(warm, "_status", {})
    warm.start_background()
    assert warm.status()["state"] in ("warming", "ready")
    warm.start_background()  # once per process
    threads = [t for t in __import__("threading").enumerate() if t.name == "conv-warm"]
    assert len(threads) == 1
    threads[0].join(timeout=600)
    assert warm.status()["state"] == "ready", warm.status()
    assert "error" not in warm.status()
    assert warm.compiled_ready()
