"""Compiling the engine's loops ahead of their first use, without making anyone wait.

numba compiles ``conv/_jit.py`` on first use and keeps the machine code in its on-disk cache;
on a fresh clone that first use takes seconds of one core, holding the interpreter lock. A
server therefore calls :func:`start_background` once: a child process (``python -m conv.warm``)
compiles every signature the engine uses and fills the cache, on the other core, while this
process keeps computing with the numpy equivalent of the loop (:mod:`conv.ops` asks
:func:`compiled_ready`). When the child is done, a thread loads the compiled code from the
cache, and the engine switches to it.

A script, a test or a benchmark that never calls :func:`start_background` compiles on first use,
as before: the gate is only up while a server's warm-up runs.

``python -m conv.warm`` can also be run by hand (or by ``deploy/serve.py``) to fill the cache
before starting servers; two at once wait for each other (a file lock), so replicas started
together compile once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]

_lock = threading.Lock()
_local = threading.local()
_state: str | None = None  # None: no gate; "warming": numpy until "ready"
_status: dict = {}


def compiled_ready() -> bool:
    """True when the engine may call the compiled loops now (no warm-up running, or it is done,
    or this thread is the one loading them)."""
    return _state != "warming" or getattr(_local, "loading", False)


def status() -> dict:
    """What the warm-up is doing: ``state`` (None, "warming", "ready", "failed"), seconds
    taken, and the child's error if it failed."""
    return {"state": _state, **_status}


def start_background() -> None:
    """Start the warm-up once per process (later calls do nothing). ``CONVVIZ_WARM=0`` turns
    it off: the loops then compile on first use, as in a script."""
    global _state
    if os.environ.get("CONVVIZ_WARM", "1") == "0":
        return
    with _lock:
        if _state is not None:
            return
        _state = "warming"
    threading.Thread(target=_warm, name="conv-warm", daemon=True).start()


def _warm() -> None:
    global _state
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "conv.warm"], cwd=ROOT, timeout=900,
                              capture_output=True, text=True)
        if done.returncode != 0:
            _status["error"] = done.stderr.strip().splitlines()[-1:] or ["no message"]
            log.warning("the engine's warm-up failed: %s", done.stderr.strip())
        _status["compile_s"] = round(time.monotonic() - start, 2)
        _local.loading = True
        run_cases()  # from the cache the child filled (or compiled here if it failed)
        _status["load_s"] = round(time.monotonic() - start - _status["compile_s"], 2)
        _state = "ready"
        # a line in the server's log (bench/bench_warm_start.py reads it)
        print(f"conv.warm: the engine's compiled loops are ready after "
              f"{time.monotonic() - start:.1f} s (child {_status['compile_s']} s, "
              f"load {_status['load_s']} s)", file=sys.stderr, flush=True)
    except Exception as exc:  # never leave the engine gated: compile on first use instead
        log.exception("the engine's warm-up failed")
        _status["error"] = [repr(exc)]
        _state = "failed"


def run_cases() -> None:
    """Call every compiled loop with each argument type the engine gives it, on tiny inputs."""
    from conv import ops

    rng = np.random.default_rng(0)
    x = rng.random((3, 12, 12), dtype=np.float32)
    dense = rng.random((2, 3, 3, 3), dtype=np.float32)  # not separable: the direct loop
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)[None, None]
    for kwargs in ({}, {"stride": 2}, {"padding": 1, "padding_mode": "reflect"}):
        ops.conv2d_using("direct", x, dense, **kwargs)
        ops.conv2d_using("separable", x[:1], sobel, **kwargs)
    ops.conv2d_using("direct", x, dense[:, :1].repeat(3, 0), groups=3)
    ops.conv2d(np.zeros((1, 1100, 1100), np.float32), sobel)  # the parallel finiteness check
    for stride in (1, 2):  # the weight's gradient (conv/family.py)
        grad_out = ops.conv2d(x, dense, padding=1, stride=stride)
        ops.conv2d_grad(x, dense, grad_out, padding=1, stride=stride)


@contextlib.contextmanager
def _file_lock(path: Path):
    """An exclusive lock on ``path`` (POSIX); without fcntl, no lock."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(path, "a+")
    except OSError:  # a read-only checkout: numba falls back to its own cache folder
        yield
        return
    with f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def main() -> int:
    start = time.monotonic()
    cache = Path(os.environ.get("NUMBA_CACHE_DIR") or ROOT / "conv" / "__pycache__")
    with _file_lock(cache / "warm.lock"):
        run_cases()
    print(f"conv.warm: the engine's compiled loops are ready ({time.monotonic() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
