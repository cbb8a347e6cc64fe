"""The registry of named kernels: the one place the app asks for a kernel by its key.

:func:`get` returns a kernel by key: a fixed one as registered, a parametric one
(:data:`PARAMETRIC`) built at the size and sigma asked for. :func:`keys`, :func:`presets` and
:func:`by_group` list them in display order. At import the registry holds the catalogue
(:mod:`kernels.catalogue`); other modules add fixed kernels with :func:`register`
(``kernels/learned.py`` registers the filters of a trained CNN under the group ``"learned"``).

The record itself is :class:`kernels.record.Kernel`; the parametric families and their builders
are in :mod:`kernels.parametric`.
"""

from __future__ import annotations

from kernels import catalogue, parametric
from kernels.parametric import PARAMETRIC
from kernels.record import GROUPS, Kernel

__all__ = ["PARAMETRIC", "get", "keys", "presets", "by_group", "register"]

_FIXED: dict[str, Kernel] = {}
_ORDER: list[str] = []  # registration order = display order within a group


def register(kernel: Kernel) -> Kernel:
    """Add a fixed kernel to the library (``kernels/learned.py`` uses this at import time).

    Parameters
    ----------
    kernel : Kernel
        Its ``key`` must be new. Registering a kernel equal to the one already under its key does
        nothing, so a module that registers at import can be re-imported (Streamlit reloads
        edited modules).

    Returns
    -------
    Kernel
        The kernel, so ``X = register(Kernel(...))`` reads naturally.

    Raises
    ------
    ValueError
        If ``kernel`` is not a :class:`Kernel`, or its key is taken by a different kernel or by a
        parametric family.
    """
    if not isinstance(kernel, Kernel):
        raise ValueError(f"The parameter `kernel` must be a Kernel; got {type(kernel).__name__}")
    if kernel.key in PARAMETRIC:
        raise ValueError(f"The key {kernel.key!r} belongs to a parametric kernel family")
    existing = _FIXED.get(kernel.key)
    if existing is not None:
        if existing == kernel:
            return existing
        raise ValueError(f"A different kernel is already registered under key {kernel.key!r}")
    _FIXED[kernel.key] = kernel
    _ORDER.append(kernel.key)
    return kernel


def _unregister(key: str) -> None:
    """Remove a registered fixed kernel (for tests only)."""
    del _FIXED[key]
    _ORDER.remove(key)


def keys() -> list[str]:
    """Every valid key, in display order (see :func:`presets`)."""
    return [k.key for k in presets()]


def get(key: str, *, size: int | None = None, sigma: float | None = None) -> Kernel:
    """The kernel registered under ``key``.

    Parameters
    ----------
    key : str
        One of :func:`keys`.
    size : int, optional
        For the parametric keys in :data:`PARAMETRIC` (``identity``, ``box``, ``gaussian``,
        ``log``, ``motion_blur``): the side, validated against ``PARAMETRIC[key].sizes``; None
        means ``PARAMETRIC[key].default_size``. Fixed kernels ignore it.
    sigma : float, optional
        For ``gaussian`` and ``log``; None means the default for the size. Ignored by every
        kernel that takes no sigma.

    Returns
    -------
    Kernel

    Raises
    ------
    ValueError
        Unknown key (the message lists the allowed keys), or a size or sigma out of range.

    Examples
    --------
    >>> get("sobel_x").weights
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]])
    >>> get("box", size=2).weights
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    if isinstance(key, str):
        if key in _FIXED:
            return _FIXED[key]
        spec = PARAMETRIC.get(key)
        if spec is not None:
            return parametric.build(key, spec.default_size if size is None else size, sigma)
    raise ValueError(f"Unknown kernel key {key!r}; allowed keys: {', '.join(keys())}")


def presets() -> list[Kernel]:
    """Every kernel at its default parameters, in display order.

    Display order is group by group in the order of :data:`~kernels.record.GROUPS`, and within a
    group the order of registration (the order of :data:`kernels.catalogue.CATALOGUE`; learned
    kernels last).
    """
    entries = [_FIXED[k] if k in _FIXED else get(k) for k in _ORDER]
    rank = {g: i for i, g in enumerate(GROUPS)}
    return sorted(entries, key=lambda k: rank[k.group])  # sorted() is stable


def by_group() -> dict[str, list[Kernel]]:
    """:func:`presets` split by group: ``{group: [Kernel, ...]}`` in ``GROUPS`` order.

    Groups without kernels (``"learned"`` before ``kernels.learned`` is imported) are left out.
    """
    out: dict[str, list[Kernel]] = {}
    for k in presets():
        out.setdefault(k.group, []).append(k)
    return out


for _entry in catalogue.CATALOGUE:
    if isinstance(_entry, Kernel):
        register(_entry)
    else:  # a parametric family: it has no record to keep, only its place in the order
        _ORDER.append(_entry)
del _entry
