"""Work by bands of rows on a small thread pool, shared by every operation of the engine.

A band is a run of output rows whose working set (input rows, output rows, scratch) stays in
the L2 cache; bands run in parallel because numpy and the compiled loops release the GIL.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

__all__ = ["BAND_BYTES", "INLINE_WORK", "JIT_LOCK", "THREADS", "rows_per_band", "run_bands"]

# A band's working set (its input rows, output rows and scratch) should stay in the L2 cache.
BAND_BYTES = 1 << 20
# Below this many multiply-adds a call runs on the calling thread: handing it to the pool
# would cost more than the work.
INLINE_WORK = 1 << 20
THREADS = max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                     else os.cpu_count() or 1))
# numba's default thread pool must not be entered twice at once
JIT_LOCK = threading.Lock()

_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="conv")
    return _pool


def rows_per_band(row_bytes: int) -> int:
    """How many rows of ``row_bytes`` bytes of working set fit one cache-sized band."""
    return max(1, BAND_BYTES // max(row_bytes, 1))


def run_bands(n_rows: int, per_band: int, work: int, fn: Callable[[int, int], None]) -> None:
    """Call ``fn(r0, r1)`` over bands of ``per_band`` rows covering ``[0, n_rows)``, on the
    thread pool when there is enough ``work`` (multiply-adds) to pay for it."""
    bands = [(r0, min(r0 + per_band, n_rows)) for r0 in range(0, n_rows, per_band)]
    if work < INLINE_WORK or THREADS == 1 or len(bands) == 1:
        for r0, r1 in bands:
            fn(r0, r1)
        return
    for future in [_executor().submit(fn, r0, r1) for r0, r1 in bands]:
        future.result()
