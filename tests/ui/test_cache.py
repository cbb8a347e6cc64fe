"""ui/cache.py: the process-wide byte budget (no Streamlit involved)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import pytest

from ui import cache
from ui.cache import ByteCache, sizeof

KB = 1024


def blob(kb: int) -> np.ndarray:
    return np.zeros(kb * KB, np.uint8)


# --------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------

def test_sizeof_arrays_bytes_and_containers():
    a = np.zeros((100, 100), np.float32)
    assert 40_000 <= sizeof(a) < 40_000 + 200
    assert 5_000 <= sizeof(b"x" * 5_000) < 5_100
    assert 3_000 <= sizeof("y" * 3_000) < 3_100
    both = sizeof({"a": a, "b": [b"x" * 5_000, ("y" * 3_000,)]})
    assert 48_000 <= both < 49_000


def test_sizeof_counts_a_shared_object_once_and_a_view_as_its_base():
    a = np.zeros(10_000, np.float64)
    assert sizeof([a, a, a]) < 80_000 + 500
    view = a[:10]
    assert sizeof(view) >= 80_000           # the view keeps the whole base alive
    assert sizeof([a, view]) < 80_000 + 500  # ... counted once


def test_sizeof_objects_declared_and_plain():
    @dataclass
    class Holder:
        x: np.ndarray
        name: str

    class Declared:
        nbytes = 12_345

    assert 8_000 <= sizeof(Holder(np.zeros(1_000), "n")) < 9_000
    assert sizeof(Declared()) == 12_345
    assert sizeof(None) == 0 and sizeof(3) == 0


def test_sizeof_plotly_figure_counts_its_data_not_its_validators():
    fig = go.Figure(go.Heatmap(z=np.zeros((200, 200))))
    n = sizeof(fig)
    assert 320_000 <= n < 400_000


def test_sizeof_freeze_makes_arrays_read_only():
    a = np.zeros(10)
    sizeof({"k": a}, freeze=True)
    assert not a.flags.writeable


# --------------------------------------------------------------------------------------------
# The cache
# --------------------------------------------------------------------------------------------

def test_evicts_by_bytes_least_recently_used_first():
    c = ByteCache(100 * KB, max_share=0.5)
    for k in "abcd":
        c.put(k, blob(30))
    # 4 x 30 kB > 100 kB: the oldest went
    assert "a" not in c and all(k in c for k in "bcd")
    c.get("b")  # b is now the most recent
    c.put("e", blob(30))
    assert "c" not in c and all(k in c for k in "bde")
    s = c.stats()
    assert s.evictions == 2 and s.entries == 3 and s.used <= s.budget


def test_never_exceeds_the_budget():
    rng = np.random.default_rng(0)
    c = ByteCache(500 * KB)
    for i in range(300):
        c.put(i % 37, blob(int(rng.integers(1, 120))))
        s = c.stats()
        assert s.used <= s.budget
        assert s.used == sum(sizeof(c.get(k)) for k in range(37) if k in c)


def test_oversize_value_is_returned_not_stored():
    c = ByteCache(100 * KB)  # max_share 1/4: 25 kB
    calls = []
    big = c.get_or_build("big", lambda: calls.append(1) or blob(30))
    assert big.nbytes == 30 * KB and "big" not in c
    c.get_or_build("big", lambda: calls.append(1) or blob(30))
    assert len(calls) == 2
    assert c.stats().oversize == 2 and c.stats().used == 0


def test_get_or_build_hits_and_misses():
    c = ByteCache(100 * KB)
    assert c.get_or_build("k", lambda: blob(1)) is c.get_or_build("k", lambda: blob(2))
    s = c.stats()
    assert (s.hits, s.misses, s.entries) == (1, 1, 1)
    assert not c.get("k").flags.writeable  # shared values are read-only


def test_build_error_reaches_the_caller_and_nothing_is_stored():
    c = ByteCache(100 * KB)
    with pytest.raises(ValueError, match="no"):
        c.get_or_build("k", lambda: (_ for _ in ()).throw(ValueError("no")))
    assert "k" not in c
    assert c.get_or_build("k", lambda: 5) == 5


def test_concurrent_callers_build_once():
    c = ByteCache(1 << 20)
    started, release = threading.Event(), threading.Event()
    builds = []

    def build():
        builds.append(1)
        started.set()
        release.wait()
        return blob(10)

    results = [None] * 8

    def ask(i):
        results[i] = c.get_or_build("same", build)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    threads[0].start()
    started.wait()
    for t in threads[1:]:
        t.start()
    # every other caller is waiting on the build (or has not reached it yet): let it finish
    release.set()
    for t in threads:
        t.join()
    assert len(builds) == 1
    assert all(r is results[0] for r in results)
    assert c.stats().misses == 1 and c.stats().hits == 7


def test_waiters_build_themselves_when_the_build_fails():
    c = ByteCache(1 << 20)
    started, release = threading.Event(), threading.Event()
    outcome = {}

    def failing():
        started.set()
        release.wait()
        raise RuntimeError("first build failed")

    def first():
        try:
            c.get_or_build("k", failing)
        except RuntimeError as exc:
            outcome["first"] = str(exc)

    def second():
        outcome["second"] = c.get_or_build("k", lambda: "built by the second")

    t1 = threading.Thread(target=first)
    t1.start()
    started.wait()
    t2 = threading.Thread(target=second)
    t2.start()
    release.set()
    t1.join()
    t2.join()
    assert outcome == {"first": "first build failed", "second": "built by the second"}


def test_a_build_asking_for_its_own_key_raises():
    c = ByteCache(1 << 20)
    with pytest.raises(RuntimeError, match="its own key"):
        c.get_or_build("k", lambda: c.get_or_build("k", lambda: 1))


def test_recharge_a_value_that_grew():
    c = ByteCache(100 * KB, max_share=1.0)
    c.put("small", blob(10))
    grows = {"a": blob(1)}
    c.put("grows", grows)
    grows["b"] = blob(50)
    size = c.recharge("grows")
    assert size >= 51 * KB and c.stats().used >= 61 * KB
    grows["c"] = blob(60)
    c.recharge("grows")  # 111 kB > the budget: "small" goes, then it does not fit either...
    s = c.stats()
    assert s.used <= s.budget
    assert c.recharge("missing") == 0


def test_discard_and_clear():
    c = ByteCache(100 * KB)
    c.put("a", blob(10))
    c.discard("a")
    assert c.stats().used == 0 and "a" not in c
    c.put("b", blob(10))
    c.clear()
    assert c.stats() == cache.Stats(100 * KB, 0, 0, 0, 0, 0, 0, 0, 0)


def test_cached_decorator_keys_on_arguments_but_underscored_ones():
    c = ByteCache(1 << 20)
    calls = []

    @cache.cached(cache=c)
    def work(name: str, size: int = 2, *, _data=None):
        calls.append((name, size))
        return np.full(size, len(name))

    a = work("x", _data=object())
    b = work("x", 2, _data=object())  # same key: the default filled in, _data ignored
    work("x", 3)
    assert a is b and calls == [("x", 2), ("x", 3)]
    assert work.__name__ == "work"


def test_budget_from_environment(monkeypatch):
    monkeypatch.setenv("CONVVIZ_CACHE_MB", "64")
    assert cache._env_int("CONVVIZ_CACHE_MB", 1024, 0) == 64
    monkeypatch.setenv("CONVVIZ_CACHE_MB", "lots")
    with pytest.raises(ValueError, match="CONVVIZ_CACHE_MB"):
        cache._env_int("CONVVIZ_CACHE_MB", 1024, 0)
    monkeypatch.delenv("CONVVIZ_CACHE_MB")
    assert cache._env_int("CONVVIZ_CACHE_MB", 1024, 0) == 1024


def test_heavy_lets_small_work_through_and_limits_large_work():
    with cache.heavy(10), cache.heavy(10):  # small: never waits, even nested
        pass
    # nested in the same thread: no deadlock
    with cache.heavy(cache.HEAVY_BYTES), cache.heavy(cache.HEAVY_BYTES):
        pass
    inside = []
    entered = threading.Event()
    release = threading.Event()

    def large():
        with cache.heavy(cache.HEAVY_BYTES):
            inside.append(1)
            entered.set()
            release.wait()

    t = threading.Thread(target=large)
    t.start()
    entered.wait()
    if cache.HEAVY_JOBS == 1:
        assert not cache._HEAVY.acquire(blocking=False)  # the slot is taken
    release.set()
    t.join()
    assert cache._HEAVY.acquire(blocking=False)
    cache._HEAVY.release()


def test_reserve_makes_room_for_work_in_progress():
    c = ByteCache(100 * KB, max_share=0.5)
    for k in "abc":
        c.put(k, blob(30))
    with c.reserve(50 * KB):
        s = c.stats()
        assert s.used + s.reserved <= s.budget and s.reserved == 50 * KB
        assert "a" not in c and "b" not in c and "c" in c  # the oldest made way
        c.put("d", blob(30))  # stored while reserved: room is kept for the work
        assert c.stats().used <= 50 * KB
    assert c.stats().reserved == 0
    c.put("e", blob(30))
    assert "d" in c and "e" in c


def test_a_build_reserves_its_room_until_its_value_is_stored():
    c = ByteCache(100 * KB, max_share=0.5)
    c.put("old", blob(40))
    seen = {}

    def build():
        seen["during"] = c.stats()
        return blob(40)

    c.get_or_build("new", build, reserve=70 * KB)
    assert seen["during"].reserved == 70 * KB and seen["during"].used == 0  # "old" made way
    s = c.stats()
    assert s.reserved == 0 and "new" in c and s.used <= s.budget


def test_a_failed_build_gives_its_reservation_back():
    c = ByteCache(100 * KB)
    with pytest.raises(ValueError):
        c.get_or_build("k", lambda: (_ for _ in ()).throw(ValueError("no")), reserve=10 * KB)
    assert c.stats().reserved == 0


def test_large_builds_take_a_slot_one_at_a_time():
    slots = threading.BoundedSemaphore(1)
    c = ByteCache(1 << 30, slots=slots, heavy_bytes=1000)
    inside, entered, release = [], threading.Event(), threading.Event()

    def slow():
        inside.append(1)
        entered.set()
        release.wait()
        return 1

    t = threading.Thread(target=lambda: c.get_or_build("a", slow, reserve=5000))
    t.start()
    entered.wait()
    assert not slots.acquire(blocking=False)  # taken by the large build
    assert c.get_or_build("small", lambda: 2, reserve=10) == 2  # small ones do not wait
    # a large build nested in a large one of the same thread does not wait for itself
    release.set()
    t.join()
    assert c.get_or_build("b", lambda: c.get_or_build("c", lambda: 3, reserve=5000),
                          reserve=5000) == 3


def test_expire_drops_what_nobody_used_for_a_while():
    c = cache.ByteCache(10 * cache.MB)
    for key in ("a", "b", "c"):
        c.put(key, np.zeros(1000))
    now = time.monotonic()
    assert c.expire(60.0, now) == 0                       # all just stored
    c._touched["a"] = c._touched["b"] = now - 100.0       # a and b unused for 100 s...
    assert c.get("b") is not None                         # ...then b is asked for again
    freed = c.expire(60.0, time.monotonic())
    assert freed > 8000 and "a" not in c and "b" in c and "c" in c
    assert c.stats().used == sum(size for _, size in c._entries.values())
