"""Named kernels: the exact arrays the app applies, what they find, and where they come from.

Convention
----------
Every kernel here is applied as **cross-correlation**, as PyTorch's ``conv2d`` does (no flip)::

    out[y, x] = sum over i, j of  w[i, j] * image[y + i - cy, x + j - cx]

with the anchor ``(cy, cx) = ((kH - 1) // 2, (kW - 1) // 2)``: the centre for odd sizes, the
upper-left of the four central cells for even sizes (PyTorch's ``padding="same"`` puts the odd
padding pixel at the bottom/right, so this is the cell that lands on the output pixel).
Row indices grow downwards, so ``d/dy`` means "intensity increasing towards the bottom".

Derivative kernels follow one sign rule: **the response is positive where intensity increases
along the differentiated axis** (``sobel_x`` is positive across a dark-to-bright edge going left to
right). The lecture notes draw some kernels with the opposite sign (``1 0 -1``); those are kept
under their own keys (``vertical_edge``, ``horizontal_edge``, ``sobel_x_lecture``,
``scharr_x_lecture``) so that the worked examples reproduce exactly.

The ``weights`` of a :class:`Kernel` are exactly what is applied: Sobel and Scharr are the
integer kernels (not divided by 4 or 16), and a docstring's drawn array is the array in memory.
Separable kernels are built from named 1-D factors (``np.outer(column, row)``), as scikit-image
does, so the separability is visible and the engine can run two 1-D passes.

Other modules add kernels with :func:`register` (``kernels/learned.py`` registers the filters of a
trained CNN under the group ``"learned"``).
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

__all__ = [
    "GROUPS",
    "MAX_SIZE",
    "SIGMA_RANGE",
    "PARAMETRIC",
    "Kernel",
    "ParamSpec",
    "get",
    "keys",
    "presets",
    "by_group",
    "register",
    "identity",
    "box",
    "opencv_sigma",
    "log_sigma",
    "gaussian",
    "laplacian_of_gaussian",
    "motion_blur",
    "CENTRAL_DIFF",
    "LECTURE_DIFF",
    "SECOND_DIFF",
    "SOBEL_SMOOTH",
    "SCHARR_SMOOTH",
    "PREWITT_SMOOTH",
    "BINOMIAL_3",
    "BINOMIAL_5",
    "SOBEL_X",
    "SOBEL_Y",
    "SCHARR_X",
    "SCHARR_Y",
    "PREWITT_X",
    "PREWITT_Y",
    "LAPLACIAN_4",
    "LAPLACIAN_8",
]

GROUPS: tuple[str, ...] = ("edges", "smoothing", "sharpening", "other", "learned")

#: Largest kernel side the app offers (the parser's default limit too).
MAX_SIZE = 15

#: Allowed sigma for the Gaussian and the Laplacian of Gaussian. Below 0.1 the Gaussian is a
#: single pixel already; above 20 a 15x15 window holds a nearly flat piece of it (a box blur).
SIGMA_RANGE: tuple[float, float] = (0.1, 20.0)

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _frozen(a) -> np.ndarray:
    """Return a read-only float64 copy, so no caller can change a kernel after the fact."""
    out = np.array(a, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


def _outer(column: np.ndarray, row: np.ndarray) -> np.ndarray:
    return _frozen(np.outer(column, row))


# --- 1-D factors ----------------------------------------------------------------------------------
# Each separable kernel below is np.outer(column_factor, row_factor). All these factors are small
# integers or powers of two, so the outer products are exact in float64.

#: Central difference, positive where intensity increases along the axis: [-1, 0, 1].
CENTRAL_DIFF = _frozen([-1, 0, 1])
#: The lecture notes' difference, positive where intensity decreases: [1, 0, -1].
LECTURE_DIFF = _frozen([1, 0, -1])
#: Second difference across a line: [-1, 2, -1] (positive on a one-pixel bright line).
SECOND_DIFF = _frozen([-1, 2, -1])
#: Sobel's smoothing across the derivative: [1, 2, 1].
SOBEL_SMOOTH = _frozen([1, 2, 1])
#: Scharr's smoothing (the integer weights used by OpenCV and the lecture notes): [3, 10, 3].
SCHARR_SMOOTH = _frozen([3, 10, 3])
#: Prewitt's (unweighted) smoothing: [1, 1, 1].
PREWITT_SMOOTH = _frozen([1, 1, 1])
#: Binomial 3-tap blur, [1, 2, 1] / 4 = [0.25, 0.5, 0.25].
BINOMIAL_3 = _frozen(np.array([1, 2, 1]) / 4)
#: Binomial 5-tap blur, [1, 4, 6, 4, 1] / 16.
BINOMIAL_5 = _frozen(np.array([1, 4, 6, 4, 1]) / 16)

# --- 2-D constants --------------------------------------------------------------------------------

#: d/dx, finds vertical edges: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]].
SOBEL_X = _outer(SOBEL_SMOOTH, CENTRAL_DIFF)
#: d/dy, finds horizontal edges: [[-1, -2, -1], [0, 0, 0], [1, 2, 1]].
SOBEL_Y = _outer(CENTRAL_DIFF, SOBEL_SMOOTH)
#: d/dx: [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]].
SCHARR_X = _outer(SCHARR_SMOOTH, CENTRAL_DIFF)
#: d/dy: [[-3, -10, -3], [0, 0, 0], [3, 10, 3]].
SCHARR_Y = _outer(CENTRAL_DIFF, SCHARR_SMOOTH)
#: d/dx: [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]].
PREWITT_X = _outer(PREWITT_SMOOTH, CENTRAL_DIFF)
#: d/dy: [[-1, -1, -1], [0, 0, 0], [1, 1, 1]].
PREWITT_Y = _outer(CENTRAL_DIFF, PREWITT_SMOOTH)
#: 4-neighbour Laplacian: [[0, 1, 0], [1, -4, 1], [0, 1, 0]].
LAPLACIAN_4 = _frozen([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
#: 8-neighbour Laplacian: [[1, 1, 1], [1, -8, 1], [1, 1, 1]].
LAPLACIAN_8 = _frozen([[1, 1, 1], [1, -8, 1], [1, 1, 1]])


# --- the Kernel record ----------------------------------------------------------------------------


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
        ``get(k.key, size=k.size, sigma=k.sigma)`` rebuilds it.
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
        w = _frozen(w)
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
            col, row = (_frozen(f) for f in self.factors)
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


@dataclass(frozen=True)
class ParamSpec:
    """Which controls a parametric kernel takes, for the UI.

    Attributes
    ----------
    sizes : tuple of int
        Allowed values of ``size`` (the kernel is ``size x size``), ascending.
    default_size : int
        Used when ``size`` is None.
    sigma_rule : callable or None
        ``sigma_rule(size)`` gives the default sigma; None when the kernel takes no sigma.
    sigma_range : tuple of float
        Inclusive bounds for ``sigma`` (:data:`SIGMA_RANGE`).
    """

    sizes: tuple[int, ...]
    default_size: int
    sigma_rule: Callable[[int], float] | None = None
    sigma_range: tuple[float, float] = SIGMA_RANGE

    @property
    def takes_sigma(self) -> bool:
        return self.sigma_rule is not None

    def default_sigma(self, size: int) -> float | None:
        """The sigma used when none is given, or None if the kernel takes no sigma."""
        return None if self.sigma_rule is None else self.sigma_rule(size)


# --- validation -----------------------------------------------------------------------------------


def _check_size(size, *, allowed: tuple[int, ...], what: str) -> int:
    """Return ``size`` as an int if it is one of ``allowed``, else raise ValueError naming it."""
    if isinstance(size, bool):
        ok = False
    else:
        try:
            size = operator.index(size)
            ok = size in allowed
        except TypeError:
            ok = False
    if not ok:
        raise ValueError(
            f"The parameter `size` of {what} must be one of {_describe_sizes(allowed)}; "
            f"got {size!r}"
        )
    return size


def _describe_sizes(allowed: tuple[int, ...]) -> str:
    lo, hi = allowed[0], allowed[-1]
    if allowed == tuple(range(lo, hi + 1)):
        return f"the integers {lo} to {hi}"
    if allowed == tuple(range(lo, hi + 1, 2)):
        parity = "odd" if lo % 2 else "even"
        return f"the {parity} integers {lo} to {hi}"
    return ", ".join(map(str, allowed))


def _check_sigma(sigma, *, what: str) -> float:
    lo, hi = SIGMA_RANGE
    # Strings are refused rather than converted: URL parsing belongs to ui/state.py.
    is_real = isinstance(sigma, numbers.Real) and not isinstance(sigma, bool)
    value = float(sigma) if is_real else math.nan
    if not (lo <= value <= hi):  # NaN fails the comparison too
        raise ValueError(
            f"The parameter `sigma` of {what} must be a number from {lo:g} to {hi:g}; "
            f"got {sigma!r}"
        )
    return value


ALL_SIZES = tuple(range(1, MAX_SIZE + 1))
ODD_SIZES = tuple(range(1, MAX_SIZE + 1, 2))


def _anchor(size: int) -> int:
    """Index of the cell that lands on the output pixel (see the module docstring)."""
    return (size - 1) // 2


def _unit(size: int) -> np.ndarray:
    e = np.zeros(size)
    e[_anchor(size)] = 1.0
    return e


# --- parametric kernels ---------------------------------------------------------------------------


def opencv_sigma(size: int) -> float:
    """OpenCV's default sigma for a Gaussian of ``size`` taps: ``0.3 * ((size - 1) / 2 - 1) + 0.8``.

    (``cv2.getGaussianKernel`` with ``sigma <= 0``.) It gives 0.8 for 3 taps, 1.1 for 5, 1.4 for 7.
    """
    return 0.3 * ((size - 1) * 0.5 - 1) + 0.8


def log_sigma(size: int) -> float:
    """Default sigma for the Laplacian of Gaussian: ``(size - 1) / 6``, a window of +-3 sigma."""
    return (size - 1) / 6


def identity(size: int = 3) -> Kernel:
    """The kernel that leaves an image unchanged: a single 1 at the anchor cell.

    Parameters
    ----------
    size : int
        Side, 1 to 15, odd or even.

    Returns
    -------
    Kernel
        ``identity``, group ``"other"``.

    Notes
    -----
    The 1 sits at row and column ``(size - 1) // 2``. For odd sizes that is the centre::

        size 3:  0 0 0
                 0 1 0
                 0 0 0

    An even kernel has no centre. PyTorch's ``padding="same"`` pads ``size - 1`` pixels in total,
    the odd one at the bottom/right, so the cell that lands on the output pixel is the upper-left
    of the four central cells, and that is where the 1 goes (size 4: row 1, column 1, 0-based).
    With the 1 anywhere else an even "identity" would shift the image by a pixel.

    Examples
    --------
    >>> identity(4).weights
    array([[0., 0., 0., 0.],
           [0., 1., 0., 0.],
           [0., 0., 0., 0.],
           [0., 0., 0., 0.]])
    """
    size = _check_size(size, allowed=ALL_SIZES, what="identity")
    return _identity(size)


@functools.lru_cache(maxsize=None)
def _identity(size: int) -> Kernel:
    e = _unit(size)
    a = _anchor(size)
    where = (
        "the centre"
        if size % 2
        else f"row {a + 1}, column {a + 1}: the upper-left central cell, where PyTorch's "
        f"'same' padding anchors an even kernel"
    )
    return Kernel(
        key="identity",
        name=f"Identity {size}x{size}",
        group="other",
        weights=np.outer(e, e),
        factors=(e, e),
        description=f"A single 1 at {where}; every other weight 0: output = input.",
        detects="nothing: it copies each pixel (a baseline to compare other kernels with)",
        reference="Gonzalez & Woods, Digital Image Processing, 4th ed., sec. 3.4",
        size=size,
    )


def box(size: int = 3) -> Kernel:
    """Box blur (mean filter): every weight ``1 / size**2``.

    Parameters
    ----------
    size : int
        Side, 1 to 15, odd or even.

    Returns
    -------
    Kernel
        ``box``, group ``"smoothing"``; factors ``(ones(size), full(size, 1 / size**2))``.

    Notes
    -----
    ``size=3`` is the lecture notes' blur, each weight the float nearest to 1/9::

        1/9 1/9 1/9
        1/9 1/9 1/9
        1/9 1/9 1/9

    The factors are not the symmetric ``(ones/size, ones/size)`` because ``(1/5) * (1/5)`` is not
    the float nearest to ``1/25`` (likewise for 10 and 13), and the factors must multiply back to
    the weights exactly. An even box has no centre; under "same" padding its window covers one
    more pixel below/right of the output pixel than above/left.
    """
    size = _check_size(size, allowed=ALL_SIZES, what="box")
    return _box(size)


@functools.lru_cache(maxsize=None)
def _box(size: int) -> Kernel:
    col, row = np.ones(size), np.full(size, 1.0 / (size * size))
    return Kernel(
        key="box",
        name=f"Box blur {size}x{size}",
        group="smoothing",
        weights=np.outer(col, row),
        factors=(col, row),
        description=f"Mean of the {size}x{size} window: every weight 1/{size * size}.",
        detects="nothing sharp: smooths noise and detail evenly in every direction",
        reference="Gonzalez & Woods, Digital Image Processing, 4th ed., sec. 3.5 (box filter)",
        size=size,
    )


def gaussian(size: int = 5, sigma: float | None = None) -> Kernel:
    """Gaussian blur, separable and normalised so that each 1-D factor sums to 1.

    Parameters
    ----------
    size : int
        Side, an odd integer from 1 to 15 (a Gaussian needs a centre tap).
    sigma : float, optional
        Standard deviation in pixels, 0.1 to 20. Default :func:`opencv_sigma` ``(size)``
        (0.8 for 3 taps, 1.1 for 5, 1.4 for 7), as ``cv2.getGaussianKernel``.

    Returns
    -------
    Kernel
        ``gaussian``, group ``"smoothing"``, ``weights = np.outer(g, g)``.

    Notes
    -----
    With ``x = -(size-1)/2 .. (size-1)/2``, ``g = exp(-x**2 / (2 sigma**2)) / sum(...)``;
    the weights are exactly ``np.outer(g, g)``, so they sum to 1 up to rounding (about 1e-16).
    For ``size=5`` and the default sigma 1.1, ``g`` is about
    ``[0.0863, 0.2374, 0.3526, 0.2374, 0.0863]``.
    The lecture notes' 3x3 Gaussian ``1/16 * [1 2 1; 2 4 2; 1 2 1]`` is the binomial
    ``gaussian_3x3``: the sampled Gaussian closest to it has sigma about 0.85.
    """
    size = _check_size(size, allowed=ODD_SIZES, what="gaussian")
    sigma = opencv_sigma(size) if sigma is None else sigma
    # size 1 has default sigma 0.5 (in range); the 1-tap kernel is [1.0] whatever sigma is.
    sigma = _check_sigma(sigma, what="gaussian")
    return _gaussian(size, sigma)


@functools.lru_cache(maxsize=256)
def _gaussian(size: int, sigma: float) -> Kernel:
    x = np.arange(size) - (size - 1) / 2
    # (x / sigma)**2 rather than x**2 / sigma**2: no underflow of sigma**2, and exact symmetry
    # because (-x)**2 == x**2 bit for bit.
    g = np.exp(-0.5 * (x / sigma) ** 2)
    g /= g.sum()
    return Kernel(
        key="gaussian",
        name=f"Gaussian blur {size}x{size} (σ={sigma:.3g})",
        group="smoothing",
        weights=np.outer(g, g),
        factors=(g, g),
        description=(
            f"Weights exp(-(x²+y²)/(2σ²)) with σ={sigma:.3g}, normalised to sum 1: "
            f"near pixels count more than far ones."
        ),
        detects="nothing sharp: smooths noise and fine detail without the blockiness of a box",
        reference=(
            "Gonzalez & Woods, Digital Image Processing, 4th ed., sec. 3.5; "
            "default sigma from OpenCV getGaussianKernel"
        ),
        size=size,
        sigma=sigma,
    )


def laplacian_of_gaussian(size: int = 7, sigma: float | None = None) -> Kernel:
    """Laplacian of Gaussian (Marr-Hildreth), scaled like the 4-neighbour Laplacian.

    Parameters
    ----------
    size : int
        Side, an odd integer from 3 to 15.
    sigma : float, optional
        0.1 to 20; default :func:`log_sigma` ``(size)`` = ``(size - 1) / 6`` (1.0 for 7x7).

    Returns
    -------
    Kernel
        ``log``, group ``"edges"``, not separable (it is a sum of two separable kernels).

    Notes
    -----
    With ``q = (x**2 + y**2) / (2 sigma**2)`` on the integer grid centred on the middle cell,
    ``w = c * ((q - 1) exp(-q) - mean)``: the sampled LoG shape with its mean removed, so the
    weights sum to 0 (up to rounding) and a flat image gives 0. The constant ``c > 0`` makes
    ``sum(w * (x**2 + y**2)) == 4`` (up to rounding), which is what the 4-neighbour Laplacian
    ``[0 1 0; 1 -4 1; 0 1 0]`` gives: on the image ``x**2 + y**2`` both return 4, the true
    Laplacian. The centre weight is negative, as in ``laplacian_4``.
    """
    size = _check_size(size, allowed=ODD_SIZES[1:], what="log")
    sigma = log_sigma(size) if sigma is None else sigma
    sigma = _check_sigma(sigma, what="log")
    return _log(size, sigma)


@functools.lru_cache(maxsize=256)
def _log(size: int, sigma: float) -> Kernel:
    x = np.arange(size) - (size - 1) // 2
    xs = (x / sigma) ** 2
    q = 0.5 * (xs[:, None] + xs[None, :])
    w = (q - 1.0) * np.exp(-q)
    w = w - w.mean()
    r2 = (x**2)[:, None] + (x**2)[None, :]
    # sum(w * r2) > 0 for every allowed size and sigma (checked in the tests), so c > 0.
    w = w * (4.0 / np.sum(w * r2))
    return Kernel(
        key="log",
        name=f"Laplacian of Gaussian {size}x{size} (σ={sigma:.3g})",
        group="edges",
        weights=w,
        description=(
            f"Second derivative of a Gaussian with σ={sigma:.3g}: a negative centre, a positive "
            f"ring, weights summing to 0."
        ),
        detects=(
            "blobs and edges at the scale σ, in every direction: negative on the bright side of "
            "an edge and on bright blobs, positive on dark ones; edges lie at the zero crossings"
        ),
        reference="Marr & Hildreth 1980, Theory of edge detection, Proc. R. Soc. Lond. B 207",
        size=size,
        sigma=sigma,
    )


def motion_blur(size: int = 7) -> Kernel:
    """Horizontal motion blur: one row of ``1 / size``, the rest zeros.

    Parameters
    ----------
    size : int
        Side, 1 to 15, odd or even.

    Returns
    -------
    Kernel
        ``motion_blur``, group ``"smoothing"``; factors ``(unit column, full(size, 1/size))``.

    Notes
    -----
    The non-zero row is row ``(size - 1) // 2`` (the anchor row, see :func:`identity`), e.g.::

        size 3:  0    0    0
                 1/3  1/3  1/3
                 0    0    0

    It averages ``size`` pixels along a row, as a camera panning sideways during the exposure.
    """
    size = _check_size(size, allowed=ALL_SIZES, what="motion_blur")
    return _motion_blur(size)


@functools.lru_cache(maxsize=None)
def _motion_blur(size: int) -> Kernel:
    col, row = _unit(size), np.full(size, 1.0 / size)
    return Kernel(
        key="motion_blur",
        name=f"Motion blur {size}x{size} (horizontal)",
        group="smoothing",
        weights=np.outer(col, row),
        factors=(col, row),
        description=f"Mean of {size} pixels along the row: the smear of a sideways camera move.",
        detects="nothing sharp: smears vertical edges sideways, leaves horizontal edges sharp",
        reference="Gonzalez & Woods, Digital Image Processing, 4th ed., sec. 5.6 (motion blur)",
        size=size,
    )


PARAMETRIC: Mapping[str, ParamSpec] = MappingProxyType(
    {
        "identity": ParamSpec(sizes=ALL_SIZES, default_size=3),
        "box": ParamSpec(sizes=ALL_SIZES, default_size=3),
        "gaussian": ParamSpec(sizes=ODD_SIZES, default_size=5, sigma_rule=opencv_sigma),
        "log": ParamSpec(sizes=ODD_SIZES[1:], default_size=7, sigma_rule=log_sigma),
        "motion_blur": ParamSpec(sizes=ALL_SIZES, default_size=7),
    }
)
"""Parametric keys -> the controls they take (read-only). Every other key is a fixed kernel."""

_BUILDERS: dict[str, Callable[[int, float | None], Kernel]] = {
    "identity": lambda size, sigma: identity(size),
    "box": lambda size, sigma: box(size),
    "gaussian": gaussian,
    "log": laplacian_of_gaussian,
    "motion_blur": lambda size, sigma: motion_blur(size),
}

# --- registry -------------------------------------------------------------------------------------

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
            return _BUILDERS[key](spec.default_size if size is None else size, sigma)
    raise ValueError(f"Unknown kernel key {key!r}; allowed keys: {', '.join(keys())}")


def presets() -> list[Kernel]:
    """Every kernel at its default parameters, in display order.

    Display order is group by group in the order of :data:`GROUPS`, and within a group the order
    of registration (the order of the listing in this module; learned kernels last).
    """
    entries = [_FIXED[k] if k in _FIXED else get(k) for k in _ORDER]
    rank = {g: i for i, g in enumerate(GROUPS)}
    return sorted(entries, key=lambda k: rank[k.group])  # sorted() is stable


def by_group() -> dict[str, list[Kernel]]:
    """:func:`presets` split by group: ``{group: [Kernel, ...]}`` in :data:`GROUPS` order.

    Groups without kernels (``"learned"`` before ``kernels.learned`` is imported) are left out.
    """
    out: dict[str, list[Kernel]] = {}
    for k in presets():
        out.setdefault(k.group, []).append(k)
    return out


# --- the listing ----------------------------------------------------------------------------------

_NG = "Ng, Convolutional Neural Networks (deeplearning.ai), C4W1 'Edge detection'"
_KARN = "Karn 2016, An intuitive explanation of convolutional neural networks (ujjwalkarn.me)"
_POWELL = "Powell, Image Kernels explained visually (setosa.io/ev/image-kernels)"
_GW = "Gonzalez & Woods, Digital Image Processing, 4th ed."


def _add(key, name, group, weights, description, detects, reference, factors=None) -> None:
    register(
        Kernel(
            key=key,
            name=name,
            group=group,
            weights=weights,
            description=description,
            detects=detects,
            reference=reference,
            factors=factors,
        )
    )


def _add_parametric(key: str) -> None:
    _ORDER.append(key)


# edges ----------------------------------------------------------------------------------------

_add(
    "vertical_edge",
    "Vertical edges (lecture: 1 0 -1)",
    "edges",
    np.outer(PREWITT_SMOOTH, LECTURE_DIFF),  # [[1, 0, -1]] * 3 rows
    "The lecture notes' vertical-edge filter: left column minus right column.",
    "vertical edges, positive where the left is brighter than the right (bright-to-dark going "
    "right), negative for dark-to-bright; it is minus prewitt_x",
    _NG,
    (PREWITT_SMOOTH, LECTURE_DIFF),
)
_add(
    "horizontal_edge",
    "Horizontal edges (lecture: 1 1 1 / 0 0 0 / -1 -1 -1)",
    "edges",
    np.outer(LECTURE_DIFF, PREWITT_SMOOTH),
    "The lecture notes' horizontal-edge filter: top row minus bottom row.",
    "horizontal edges, positive where the top is brighter than the bottom, negative where the "
    "bottom is brighter; it is minus prewitt_y",
    _NG,
    (LECTURE_DIFF, PREWITT_SMOOTH),
)
_add(
    "horizontal_lines",
    "Horizontal lines (-1 -1 -1 / 2 2 2 / -1 -1 -1)",
    "edges",
    np.outer(SECOND_DIFF, PREWITT_SMOOTH),
    "Twice the middle row minus the rows above and below: a vertical second difference.",
    "thin horizontal lines: positive on a bright line one pixel high, negative on a dark one, "
    "weak on plain edges and zero on flat areas and vertical ramps",
    f"{_KARN}; lecture notes ('Horizontal Edges')",
    (SECOND_DIFF, PREWITT_SMOOTH),
)
_add(
    "sobel_x",
    "Sobel x (d/dx)",
    "edges",
    SOBEL_X,
    "Sobel d/dx [-1 0 1; -2 0 2; -1 0 1]: right column minus left column, middle row doubled.",
    "vertical edges (intensity changing left to right): positive where it increases to the "
    "right, negative where it decreases",
    f"Sobel & Feldman 1968, A 3x3 isotropic gradient operator for image processing; {_GW}, "
    "sec. 10.2",
    (SOBEL_SMOOTH, CENTRAL_DIFF),
)
_add(
    "sobel_y",
    "Sobel y (d/dy)",
    "edges",
    SOBEL_Y,
    "Sobel d/dy [-1 -2 -1; 0 0 0; 1 2 1]: bottom row minus top row, middle column doubled.",
    "horizontal edges (intensity changing top to bottom): positive where it increases "
    "downwards, negative where it decreases",
    f"Sobel & Feldman 1968; {_GW}, sec. 10.2",
    (CENTRAL_DIFF, SOBEL_SMOOTH),
)
_add(
    "sobel_x_lecture",
    "Sobel x, lecture sign (1 0 -1 / 2 0 -2 / 1 0 -1)",
    "edges",
    np.outer(SOBEL_SMOOTH, LECTURE_DIFF),
    "Sobel as drawn in the lecture notes [1 0 -1; 2 0 -2; 1 0 -1]: minus sobel_x.",
    "vertical edges, positive where intensity decreases to the right (bright left, dark right)",
    f"Sobel & Feldman 1968; {_NG}",
    (SOBEL_SMOOTH, LECTURE_DIFF),
)
_add(
    "scharr_x",
    "Scharr x (d/dx)",
    "edges",
    SCHARR_X,
    "Scharr d/dx [-3 0 3; -10 0 10; -3 0 3]: like Sobel, weights tuned for rotation invariance.",
    "vertical edges (intensity changing left to right), in any orientation with a more even "
    "strength than Sobel: positive where intensity increases to the right",
    "Jähne, Scharr & Körkel 1999, Principles of filter design (Handbook of Computer Vision "
    "and Applications); Kroon 2009, Numerical optimization of kernel based image derivatives",
    (SCHARR_SMOOTH, CENTRAL_DIFF),
)
_add(
    "scharr_y",
    "Scharr y (d/dy)",
    "edges",
    SCHARR_Y,
    "Scharr d/dy [-3 -10 -3; 0 0 0; 3 10 3]: bottom row minus top row, Scharr-weighted.",
    "horizontal edges (intensity changing top to bottom): positive where it increases downwards",
    "Jähne, Scharr & Körkel 1999; Kroon 2009",
    (CENTRAL_DIFF, SCHARR_SMOOTH),
)
_add(
    "scharr_x_lecture",
    "Scharr x, lecture sign (3 0 -3 / 10 0 -10 / 3 0 -3)",
    "edges",
    np.outer(SCHARR_SMOOTH, LECTURE_DIFF),
    "Scharr as drawn in the lecture notes [3 0 -3; 10 0 -10; 3 0 -3]: minus scharr_x.",
    "vertical edges, positive where intensity decreases to the right (bright left, dark right)",
    "Jähne, Scharr & Körkel 1999; Kroon 2009; lecture notes",
    (SCHARR_SMOOTH, LECTURE_DIFF),
)
_add(
    "prewitt_x",
    "Prewitt x (d/dx)",
    "edges",
    PREWITT_X,
    "Prewitt d/dx [-1 0 1; -1 0 1; -1 0 1]: right column minus left column, rows equal.",
    "vertical edges (intensity changing left to right): positive where it increases to the right",
    f"Prewitt 1970, Object enhancement and extraction; {_GW}, sec. 10.2",
    (PREWITT_SMOOTH, CENTRAL_DIFF),
)
_add(
    "prewitt_y",
    "Prewitt y (d/dy)",
    "edges",
    PREWITT_Y,
    "Prewitt d/dy [-1 -1 -1; 0 0 0; 1 1 1]: bottom row minus top row, columns equal.",
    "horizontal edges (intensity changing top to bottom): positive where it increases downwards",
    f"Prewitt 1970; {_GW}, sec. 10.2",
    (CENTRAL_DIFF, PREWITT_SMOOTH),
)
_add(
    "sobel_ne",
    "Sobel diagonal (d/d north-east)",
    "edges",
    [[0, 1, 2], [-1, 0, 1], [-2, -1, 0]],
    "Diagonal Sobel [0 1 2; -1 0 1; -2 -1 0]: top-right corner minus bottom-left corner.",
    "diagonal edges running top-left to bottom-right (\\): positive where intensity increases "
    "towards the top right",
    f"{_GW}, sec. 10.2 (diagonal Sobel masks)",
)
_add(
    "sobel_se",
    "Sobel diagonal (d/d south-east)",
    "edges",
    [[-2, -1, 0], [-1, 0, 1], [0, 1, 2]],
    "Diagonal Sobel [-2 -1 0; -1 0 1; 0 1 2]: bottom-right corner minus top-left corner.",
    "diagonal edges running bottom-left to top-right (/): positive where intensity increases "
    "towards the bottom right",
    f"{_GW}, sec. 10.2 (diagonal Sobel masks)",
)
_add(
    "roberts_se",
    "Roberts cross (d/d south-east, 2x2)",
    "edges",
    [[-1, 0], [0, 1]],
    "Roberts [-1 0; 0 1]: the pixel down-right minus the pixel itself (Roberts drew it negated).",
    "diagonal edges running bottom-left to top-right (/), from the smallest possible window: "
    "positive where intensity increases towards the bottom right",
    "Roberts 1963, Machine perception of three-dimensional solids (MIT PhD thesis)",
)
_add(
    "roberts_sw",
    "Roberts cross (d/d south-west, 2x2)",
    "edges",
    [[0, -1], [1, 0]],
    "Roberts [0 -1; 1 0]: the pixel below minus the pixel to the right (Roberts drew it negated).",
    "diagonal edges running top-left to bottom-right (\\): positive where intensity increases "
    "towards the bottom left",
    "Roberts 1963",
)
_add(
    "laplacian_4",
    "Laplacian (4-neighbour)",
    "edges",
    LAPLACIAN_4,
    "Laplacian [0 1 0; 1 -4 1; 0 1 0]: the 4 neighbours minus 4 times the pixel.",
    "edges and fine detail in every direction (second derivative): negative on the bright side "
    "of an edge, positive on the dark side, zero on flat areas and linear ramps",
    f"{_GW}, sec. 3.6 (the Laplacian)",
)
_add(
    "laplacian_8",
    "Laplacian (8-neighbour)",
    "edges",
    LAPLACIAN_8,
    "Laplacian [1 1 1; 1 -8 1; 1 1 1]: the 8 neighbours minus 8 times the pixel.",
    "edges and fine detail in every direction, diagonals included: negative on the bright side "
    "of an edge, positive on the dark side, zero on flat areas and linear ramps",
    f"{_GW}, sec. 3.6 (the Laplacian)",
)
_add(
    "outline",
    "Outline (-1 -1 -1 / -1 8 -1 / -1 -1 -1)",
    "edges",
    -LAPLACIAN_8,
    "8 times the pixel minus its 8 neighbours: minus the 8-neighbour Laplacian.",
    "outlines in every direction: positive on the bright side of an edge and on bright dots, "
    "zero on flat areas",
    f"{_POWELL}; {_KARN}; lecture notes ('Edges')",
)
_add_parametric("log")

# smoothing ------------------------------------------------------------------------------------

_add_parametric("box")
_add(
    "gaussian_3x3",
    "Gaussian blur 3x3 (1/16, binomial)",
    "smoothing",
    np.outer(BINOMIAL_3, BINOMIAL_3),  # 0.0625 0.125 0.0625 / 0.125 0.25 0.125 / ...
    "The lecture notes' blur 1/16 * [1 2 1; 2 4 2; 1 2 1]: exactly 0.0625, 0.125 and 0.25.",
    "nothing sharp: smooths noise, the centre pixel counting 4 times a corner",
    f"{_GW}, sec. 3.5; lecture notes (the worked example 206, 205, 247 ... -> 178)",
    (BINOMIAL_3, BINOMIAL_3),
)
_add_parametric("gaussian")
_add_parametric("motion_blur")

# sharpening -----------------------------------------------------------------------------------

_add(
    "sharpen",
    "Sharpen (0 -1 0 / -1 5 -1 / 0 -1 0)",
    "sharpening",
    [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "Sharpen [0 -1 0; -1 5 -1; 0 -1 0]: the identity minus the 4-neighbour Laplacian.",
    "edges and fine detail, exaggerated: the image plus its edges (weights sum to 1, so flat "
    "areas keep their value)",
    f"{_POWELL}; {_GW}, sec. 3.6",
)
_add(
    "unsharp_5x5",
    "Unsharp mask 5x5",
    "sharpening",
    2 * np.outer(_unit(5), _unit(5)) - np.outer(BINOMIAL_5, BINOMIAL_5),
    "2 x image - 5x5 binomial blur = -1/256 * [1 4 6 4 1; 4 16 24 16 4; 6 24 -476 24 6; ...].",
    "edges and texture, boosted by adding back what a blur removes (weights sum to 1, so flat "
    "areas keep their value)",
    f"{_GW}, sec. 3.6 (unsharp masking)",
)

# other ----------------------------------------------------------------------------------------

_add_parametric("identity")
_add(
    "emboss",
    "Emboss (-2 -1 0 / -1 1 1 / 0 1 2)",
    "other",
    [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "Emboss [-2 -1 0; -1 1 1; 0 1 2]: the pixel plus a diagonal derivative, a raised relief.",
    "diagonal brightness changes: brighter where intensity increases towards the bottom right, "
    "darker where it decreases (weights sum to 1, so flat areas keep their value)",
    _POWELL,
)
