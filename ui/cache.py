"""One byte budget for everything the app caches, shared by every session of the process.

``st.cache_resource`` bounds a cache by its number of entries, and one entry can be a small
figure or every stage of a layer on a 12 MP photo, so memory was not bounded at all. Here
every entry is charged its size in bytes when it is stored, and the least recently used
entries are dropped once the total passes the budget::

    from ui import cache

    @cache.cached
    def working(image_key: str, longest: int | None, _rgb: np.ndarray) -> np.ndarray:
        ...                                   # `_rgb` is not part of the key (leading "_")

    thumb = cache.get_or_build(("thumb", name), lambda: encode(name))

- Sizes: numpy arrays by the memory they keep alive (a view is charged its whole base),
  ``bytes``/``str`` by their length, containers and plain objects recursively (each object
  once), objects that declare an integer ``nbytes`` by that. Measured once, when stored: a
  value must not grow afterwards (build it whole, or store what grows as entries of its own);
  :meth:`ByteCache.recharge` re-measures one that did.
- Values are shared by every session: the numpy arrays found while measuring are made
  read-only. Never mutate a cached value.
- A value larger than ``max_share`` of the budget (a quarter by default) is returned but not
  stored: it would push out everything else and be pushed out in turn.
- Callers asking at the same time for the same missing key wait for one build: 30 students
  opening the default page compute it once.
- The budget: ``CONVVIZ_CACHE_MB`` (megabytes, default 1024), read when this module is first
  imported. Memory of a replica ~ the budget + what sessions hold + the interpreter.

Large work: ``get_or_build(key, build, reserve=nbytes)`` says about how many bytes ``build``
allocates. They are reserved in the budget (entries make way) from before the build until its
value is stored, so that cached plus transient memory stays within the budget; and a build of
``HEAVY_BYTES`` (32 MB) or more first waits for one of ``CONVVIZ_HEAVY_JOBS`` slots (default 1):
five students starting a 12 MP layer at once would otherwise each allocate hundreds of MB at
the same time (with the GIL, one Python thread runs at a time anyway). :func:`heavy` does the
same around large work whose result is not cached.

No Streamlit here: the core is testable on its own.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys
import threading
import time
import types
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["BUDGET_BYTES", "CACHE", "ByteCache", "Stats", "cached", "get", "get_or_build",
           "heavy", "sizeof", "stats"]

MB = 1 << 20
_held = threading.local()  # whether this thread holds one of the slots for large work
DEFAULT_BUDGET_MB = 1024
DEFAULT_MAX_SHARE = 0.25


def _env_int(name: str, default: int, lo: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(float(text))
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number") from None
    if value < lo:
        raise ValueError(f"{name}={text!r} must be at least {lo}")
    return value


# --------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------

# never walked into: they are shared by the whole program, not owned by a cached value
_OPAQUE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
           types.MethodType, type(None), bool, int, float, complex, threading.Lock().__class__)


def sizeof(value: Any, *, freeze: bool = False) -> int:
    """The bytes ``value`` keeps alive: arrays (their base once), bytes, strings, containers and
    objects' attributes, each object counted once. ``freeze``: make the arrays read-only."""
    seen: set[int] = set()
    total = 0
    stack = [value]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _OPAQUE):
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            if freeze and obj.flags.writeable:
                obj.setflags(write=False)
            base = obj
            while isinstance(base.base, np.ndarray):  # a view keeps its whole base alive
                base = base.base
            if base is not obj:
                if id(base) in seen:
                    continue
                seen.add(id(base))
            if base.base is not None:  # memory owned by another object (bytes, mmap...)
                stack.append(base.base)
            else:
                total += base.nbytes
            total += 112  # the array's header
            continue
        if isinstance(obj, (bytes, bytearray, str, memoryview)):
            total += obj.nbytes if isinstance(obj, memoryview) else sys.getsizeof(obj)
            continue
        declared = getattr(obj, "nbytes", None) if not isinstance(obj, (dict, list, tuple, set,
                                                                          frozenset)) else None
        if isinstance(declared, int) and not isinstance(declared, bool):
            total += declared
            continue
        total += sys.getsizeof(obj, 64)
        plotly = _plotly_parts(obj)
        if plotly is not None:  # its validators and parents are shared, not the figure's
            stack.append(plotly)
        elif isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        else:
            d = getattr(obj, "__dict__", None)
            if isinstance(d, dict):
                stack.append(d)
            for cls in type(obj).__mro__:
                for slot in getattr(cls, "__slots__", ()):
                    if isinstance(slot, str) and slot not in ("__dict__", "__weakref__"):
                        stack.append(getattr(obj, slot, None))
    return total


def _plotly_parts(obj) -> list | None:
    """What a Plotly figure or object owns (its JSON-like data), or None for anything else."""
    if not type(obj).__module__.startswith("plotly"):
        return None
    if hasattr(obj, "_frame_objs") and hasattr(obj, "_layout"):
        return [obj._data, obj._layout, [getattr(f, "_props", None) for f in obj._frame_objs]]
    props = getattr(obj, "_props", None)
    return [props] if isinstance(props, dict) else None


# --------------------------------------------------------------------------------------------
# The cache
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stats:
    budget: int      # bytes
    used: int        # bytes charged to the entries held
    entries: int
    hits: int
    misses: int      # builds (a caller that waited for another's build counts as a hit)
    evictions: int   # entries dropped to stay within the budget
    oversize: int    # values returned but not stored (larger than max_share of the budget)
    largest: int     # bytes of the largest entry held
    reserved: int = 0  # bytes reserved for work in progress

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _Build:
    """A build in progress: the others asking for its key wait on ``done``."""

    __slots__ = ("done", "ok", "owner", "value")

    def __init__(self):
        self.owner = threading.get_ident()
        self.done = threading.Event()
        self.ok = False
        self.value = None


class ByteCache:
    """A thread-safe LRU whose entries are charged their size in bytes.

    ``budget``: bytes; ``max_share``: the largest fraction of the budget one value may take
    (larger ones are returned, not stored); ``slots``: a semaphore that builds reserving
    ``heavy_bytes`` or more take first (see :func:`heavy`).
    """

    def __init__(self, budget: int, *, max_share: float = DEFAULT_MAX_SHARE,
                 slots: threading.Semaphore | None = None, heavy_bytes: int = 0):
        if budget < 0:
            raise ValueError(f"budget must be >= 0 bytes, got {budget}")
        if not 0 < max_share <= 1:
            raise ValueError(f"max_share must be in (0, 1], got {max_share}")
        self.budget = int(budget)
        self.max_share = max_share
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._touched: dict[Hashable, float] = {}  # key -> when last stored or asked for
        self._building: dict[Hashable, _Build] = {}
        self._lock = threading.Lock()
        self._used = 0
        self._reserved = 0  # bytes of work in progress (see reserve)
        self._hits = self._misses = self._evictions = self._oversize = 0
        self._slots, self._heavy_bytes = slots, heavy_bytes

    @property
    def limit(self) -> int:
        """The largest value stored, in bytes."""
        return int(self.budget * self.max_share)

    def get_or_build(self, key: Hashable, build: Callable[[], Any], *, reserve: int = 0) -> Any:
        """The value stored under ``key``, or ``build()``'s, stored (once, whatever the number
        of callers asking at the same time). An exception in ``build`` reaches its caller;
        the callers that waited for it try the build themselves.

        ``reserve``: about the bytes ``build`` allocates. They are reserved in the budget from
        before the build until its value is stored (entries make way), and a build of
        ``heavy_bytes`` or more takes one of the ``slots`` first."""
        while True:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
                    self._touched[key] = time.monotonic()
                    self._hits += 1
                    return entry[0]
                pending = self._building.get(key)
                if pending is None:
                    pending = self._building[key] = _Build()
                    self._misses += 1
                    mine = True
                else:
                    mine = False
                    if pending.owner == threading.get_ident():
                        raise RuntimeError(f"the build of {key!r} asked for its own key")
            if not mine:
                pending.done.wait()
                if pending.ok:
                    with self._lock:
                        self._hits += 1
                    return pending.value
                continue  # its build failed: try ours
            try:
                with self._slot(reserve):
                    with self._lock:
                        self._reserved += reserve
                        self._evict(keep=None)
                    try:
                        value = build()
                    except BaseException:
                        with self._lock:
                            self._reserved -= reserve
                        raise
                    self._store(key, value, reserved=reserve)
                pending.ok, pending.value = True, value
                return value
            finally:
                with self._lock:
                    self._building.pop(key, None)
                pending.done.set()

    @contextlib.contextmanager
    def _slot(self, nbytes: int):
        """One of the slots, for work of ``heavy_bytes`` or more (none for smaller work, or
        in a thread that holds one already)."""
        if self._slots is None or nbytes < self._heavy_bytes or getattr(_held, "slot", False):
            yield
            return
        with self._slots:
            _held.slot = True
            try:
                yield
            finally:
                _held.slot = False
                if _TRIM is not None:
                    _TRIM(0)

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            self._entries.move_to_end(key)
            self._touched[key] = time.monotonic()
            self._hits += 1
            return entry[0]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def put(self, key: Hashable, value: Any) -> Any:
        """Store ``value`` under ``key`` (replacing what was there); returns it."""
        self._store(key, value)
        return value

    def recharge(self, key: Hashable) -> int:
        """Measure again the entry under ``key`` (a value that grew): its new size, evicting
        others (or itself, when too large now) as needed. 0 if it is not held."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return 0
        size = sizeof(entry[0], freeze=True)
        with self._lock:
            if self._entries.get(key) is not entry:
                return 0
            if size > self.limit:
                del self._entries[key]
                self._used -= entry[1]
                self._oversize += 1
                return size
            self._entries[key] = (entry[0], size)
            self._used += size - entry[1]
            self._evict(keep=key)
        return size

    @contextlib.contextmanager
    def reserve(self, nbytes: int):
        """Room for ``nbytes`` of work in progress (arrays being built, outside the cache):
        entries are dropped until what is stored plus what is reserved fits the budget, and
        stay out while the work runs. Memory at any moment then stays within the budget."""
        nbytes = max(0, int(nbytes))
        with self._lock:
            self._reserved += nbytes
            self._evict(keep=None)
        try:
            yield
        finally:
            with self._lock:
                self._reserved -= nbytes

    def discard(self, key: Hashable) -> None:
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self._used -= entry[1]

    def expire(self, idle: float, now: float | None = None) -> int:
        """Drop the entries nobody stored or asked for in the last ``idle`` seconds (the least
        recently used come first); returns the bytes freed. Once a class has left, what it
        computed goes, instead of holding its share of the budget until new work evicts it."""
        now = time.monotonic() if now is None else now
        freed = 0
        with self._lock:
            while self._entries:
                key = next(iter(self._entries))
                if now - self._touched.get(key, now) < idle:
                    break
                freed += self._entries.pop(key)[1]
                self._touched.pop(key, None)
            self._used -= freed
            if len(self._touched) > 2 * len(self._entries) + 64:  # keys discarded elsewhere
                self._touched = {k: t for k, t in self._touched.items() if k in self._entries}
        return freed

    def forget(self, word: str) -> int:
        """Drop every entry whose key mentions ``word`` (a string in it, at any depth, that
        contains it: an upload's digest); returns the bytes freed."""
        def mentions(key) -> bool:
            if isinstance(key, str):
                return word in key
            return isinstance(key, tuple) and any(mentions(k) for k in key)

        with self._lock:
            gone = [k for k in self._entries if mentions(k)]
            freed = 0
            for k in gone:
                freed += self._entries.pop(k)[1]
                self._touched.pop(k, None)
            self._used -= freed
        return freed

    def clear(self) -> None:
        """Drop every entry and reset the counters."""
        with self._lock:
            self._entries.clear()
            self._touched.clear()
            self._used = 0
            self._hits = self._misses = self._evictions = self._oversize = 0

    def stats(self) -> Stats:
        with self._lock:
            largest = max((s for _, s in self._entries.values()), default=0)
            return Stats(self.budget, self._used, len(self._entries), self._hits, self._misses,
                         self._evictions, self._oversize, largest, self._reserved)

    def _store(self, key: Hashable, value: Any, reserved: int = 0) -> None:
        """Store ``value``; ``reserved``: the bytes reserved for its build, released in the
        same step (no moment where neither is counted)."""
        size = sizeof(value, freeze=True)  # outside the lock: it walks the value
        with self._lock:
            self._reserved -= reserved
            old = self._entries.pop(key, None)
            if old is not None:
                self._used -= old[1]
            if size > self.limit:
                self._oversize += 1
                return
            self._entries[key] = (value, size)
            self._touched[key] = time.monotonic()
            self._used += size
            self._evict(keep=key)

    def _evict(self, keep: Hashable) -> None:
        while self._used + self._reserved > self.budget and self._entries:
            key, (_, size) = next(iter(self._entries.items()))
            if key == keep and len(self._entries) == 1:
                break
            if key == keep:
                self._entries.move_to_end(key)
                continue
            del self._entries[key]
            self._touched.pop(key, None)
            self._used -= size
            self._evictions += 1


HEAVY_JOBS = _env_int("CONVVIZ_HEAVY_JOBS", 1, 1)
_HEAVY = threading.BoundedSemaphore(HEAVY_JOBS)
# work allocating less than this at once runs without waiting (a layer at 1024 px does)
HEAVY_BYTES = 32 * MB
BUDGET_BYTES = _env_int("CONVVIZ_CACHE_MB", DEFAULT_BUDGET_MB, 0) * MB
CACHE = ByteCache(BUDGET_BYTES, slots=_HEAVY, heavy_bytes=HEAVY_BYTES)


def _libc_trim():
    """glibc's ``malloc_trim``, or None elsewhere."""
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


# After large work, the pages its temporaries freed are given back to the system: glibc keeps
# freed memory of its heaps resident otherwise (one heap per thread, and every script run is a
# thread), and a replica's memory would not return to its budget.
_TRIM = _libc_trim()


def get_or_build(key: Hashable, build: Callable[[], Any], *, reserve: int = 0) -> Any:
    """:meth:`ByteCache.get_or_build` on the process's cache (``reserve``: about the bytes
    ``build`` allocates; large builds run one at a time, their room reserved until stored)."""
    return CACHE.get_or_build(key, build, reserve=reserve)


# Entries unused this long are dropped by the upload sweep's thread (ui/uploads.py).
IDLE_SECONDS = _env_int("CONVVIZ_CACHE_IDLE_S", 120, 0)


def expire(now: float | None = None) -> int:
    """:meth:`ByteCache.expire` on the process's cache after :data:`IDLE_SECONDS`, the freed
    pages given back (0 seconds: never)."""
    freed = CACHE.expire(IDLE_SECONDS, now) if IDLE_SECONDS else 0
    if freed and _TRIM is not None:
        _TRIM(0)
    return freed


def forget(word: str) -> int:
    """:meth:`ByteCache.forget` on the process's cache, the freed pages given back."""
    freed = CACHE.forget(word)
    if freed and _TRIM is not None:
        _TRIM(0)
    return freed


def get(key: Hashable, default: Any = None) -> Any:
    """The value stored under ``key`` in the process's cache, or ``default``."""
    return CACHE.get(key, default)


def stats() -> Stats:
    """The process's cache: bytes used, entries, hits, misses, evictions."""
    return CACHE.stats()


def cached(fn: Callable | None = None, *, name: str | None = None,
           cache: ByteCache | None = None):
    """Decorator: ``fn``'s results in the byte budget, keyed on its name and its arguments,
    except those whose parameter name starts with ``_`` (as ``st.cache_resource``): pass
    those for what the key already identifies (an array under its digest). The key's
    arguments must be hashable. ``wrapper.clear()`` is not offered: entries age out."""
    def wrap(f: Callable) -> Callable:
        sig = inspect.signature(f)
        prefix = name or f"{f.__module__}.{f.__qualname__}"
        keep = [p for p in sig.parameters if not p.startswith("_")]

        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            key = (prefix,) + tuple(bound.arguments[p] for p in keep)
            target = cache if cache is not None else CACHE
            return target.get_or_build(key, lambda: f(*args, **kwargs))
        return wrapper
    return wrap(fn) if fn is not None else wrap


@contextlib.contextmanager
def heavy(nbytes: int):
    """Around large work whose result is not cached (a download's full-size picture), about
    ``nbytes`` allocated at once: it takes a slot (at most ``CONVVIZ_HEAVY_JOBS`` such works
    at once in the process, ``HEAVY_BYTES`` or more) and reserves its room in the budget
    while it runs. Cached builds say the same with ``get_or_build(..., reserve=nbytes)``."""
    if nbytes < HEAVY_BYTES:
        yield
        return
    with CACHE._slot(nbytes), CACHE.reserve(nbytes):
        yield
