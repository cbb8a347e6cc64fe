"""The kernel record: one named array the app applies, with what it finds and where it is from.

Convention
----------
Every kernel is applied as **cross-correlation**, as PyTorch's ``conv2d`` does (no flip)::

    out[y, x] = sum over i, j of  w[i, j] * image[y + i - cy, x + j - cx]

with the anchor ``(cy, cx) = ((kH - 1) // 2, (kW - 1) // 2)``: the centre for odd sizes, the
upper-left of the four central cells for even sizes (PyTorch's ``padding="same"`` puts the odd
padding pixel at the bottom/right, so this is the cell that lands on the output pixel).
Row indices grow downwards, so ``d/dy`` means "intensity increasing towards the bottom".

The ``weights`` of a :class:`Kernel` are exactly what is applied, and a docstring's drawn array is
the array in memory. A separable kernel declares its 1-D ``factors`` (``np.outer(column, row)``
equals the weights bit for bit), so the engine can run two 1-D passes and still apply what the
app shows.

The named kernels are in :mod:`kernels.catalogue` and :mod:`kernels.parametric`; the app finds
them through :mod:`kernels.library`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

__all__ = ["GROUPS", "MAX_SIZE", "Kernel", "frozen_array"]

GROUPS: tuple[str, ...] = ("edges", "smoothing", "sharpening", "other", "learned")

#: Largest kernel side the app offers (the parser's default limit too).
MAX_SIZE = 15

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def frozen_array(a) -> np.ndarray:
    """Return a read-only float64 copy, so no caller can change a kernel after the fact."""
    out = np.array(a, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Kernel:
    """One named kernel and everything the app says about it.

    Parameters
    ----------
    key : str
        Stable id used in URLs (``"sobel_x"``, ``"gaussian"``): lower case, digits, underscores.
    name : str
        Display name, e.g. ``"Sobel x (d/dx)"``; parametric kernels include their size.
    group : str
        One of :data:`GROUPS`.
    weights : numpy.ndarray
        float64, 2-D ``(kH, kW)`` with ``1 <= kH, kW <= 15``, finite, read-only. Exactly what is
        applied (by cross-correlation, see the module docstring).
    description : str
        One line.
    detects : str
        What a strong response means, with its sign.
    reference : str
        Where the kernel comes from.
    factors : tuple of numpy.ndarray or None
        ``(column, row)``, 1-D, with ``np.outer(column, row)`` equal to ``weights`` exactly; None
        when the kernel is not separable (or not declared so).
    size : int or None
        For parametric kernels, the ``size`` it was built with (None for fixed kernels), so that
        ``kernels.library.get(k.key, size=k.size, sigma=k.sigma)`` rebuilds it.
    sigma : float or None
        For the Gaussian family, the sigma actually used (the default resolved); else None.

    Notes
    -----
    Arrays do not compare or hash like values, so equality and hashing are defined here: two
    kernels are equal when every field is equal and the arrays have the same shape and the same
    bytes; the hash uses the key, the shape and the bytes of ``weights``.
    """

    key: str
    name: str
    group: str
    weights: np.ndarray
    description: str
    detects: str
    reference: str
    factors: tuple[np.ndarray, np.ndarray] | None = None
    size: int | None = field(default=None)
    sigma: float | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not _KEY_RE.match(self.key):
            raise ValueError(
                f"The parameter `key` must be lower case letters, digits and underscores, "
                f"starting with a letter; got {self.key!r}"
            )
        if self.group not in GROUPS:
            raise ValueError(
                f"The parameter `group` must be one of {', '.join(GROUPS)}; got {self.group!r}"
            )
        for name in ("name", "description", "detects", "reference"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip() or "\n" in value:
                raise ValueError(
                    f"The parameter `{name}` of kernel {self.key!r} must be one non-empty line; "
                    f"got {value!r}"
                )
        w = np.asarray(self.weights)
        if w.ndim != 2:
            raise ValueError(
                f"The parameter `weights` of kernel {self.key!r} must be a 2-dimensional array; "
                f"got shape {w.shape}"
            )
        if not (1 <= w.shape[0] <= MAX_SIZE and 1 <= w.shape[1] <= MAX_SIZE):
            raise ValueError(
                f"The parameter `weights` of kernel {self.key!r} must be from 1x1 to "
                f"{MAX_SIZE}x{MAX_SIZE}; got {w.shape[0]}x{w.shape[1]}"
            )
        if not np.issubdtype(w.dtype, np.number) or np.iscomplexobj(w):
            raise ValueError(
                f"The parameter `weights` of kernel {self.key!r} must be real numbers; "
                f"got dtype {w.dtype}"
            )
        w = frozen_array(w)
        if not np.all(np.isfinite(w)):
            raise ValueError(
                f"The parameter `weights` of kernel {self.key!r} must be finite (no NaN or inf)"
            )
        object.__setattr__(self, "weights", w)
        if self.factors is not None:
            if len(self.factors) != 2:
                raise ValueError(
                    f"The parameter `factors` of kernel {self.key!r} must be (column, row)"
                )
            col, row = (frozen_array(f) for f in self.factors)
            if col.ndim != 1 or row.ndim != 1 or np.outer(col, row).shape != w.shape:
                raise ValueError(
                    f"The parameter `factors` of kernel {self.key!r} must be two 1-D arrays of "
                    f"lengths {w.shape[0]} and {w.shape[1]}; got shapes {col.shape}, {row.shape}"
                )
            # Exact equality, not allclose: the engine may apply the factors instead of the
            # weights, and the app promises that what it shows is what it applies.
            if not np.array_equal(np.outer(col, row), w):
                raise ValueError(
                    f"The parameter `factors` of kernel {self.key!r}: np.outer(column, row) "
                    f"must equal `weights` exactly"
                )
            object.__setattr__(self, "factors", (col, row))

    @property
    def shape(self) -> tuple[int, int]:
        """``(kH, kW)``."""
        return self.weights.shape  # type: ignore[return-value]

    def _array_key(self) -> tuple:
        f = self.factors
        return (
            self.weights.shape,
            self.weights.tobytes(),
            None if f is None else (f[0].tobytes(), f[1].tobytes()),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Kernel):
            return NotImplemented
        fields = ("key", "name", "group", "description", "detects", "reference", "size", "sigma")
        return all(getattr(self, f) == getattr(other, f) for f in fields) and (
            self._array_key() == other._array_key()
        )

    def __hash__(self) -> int:
        return hash((self.key, self.weights.shape, self.weights.tobytes()))

    def __repr__(self) -> str:
        return f"Kernel(key={self.key!r}, name={self.name!r}, shape={self.shape})"

    def __reduce__(self):
        # Rebuild through __init__ so that unpickled arrays (st.cache_data pickles return values)
        # are validated and read-only again; pickle alone restores them writeable.
        return (
            Kernel,
            (self.key, self.name, self.group, self.weights, self.description, self.detects,
             self.reference, self.factors, self.size, self.sigma),
        )  # fmt: skip
