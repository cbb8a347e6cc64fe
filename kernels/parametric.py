"""Parametric kernels: families built on demand at a chosen size (and sigma for the Gaussians).

:data:`PARAMETRIC` names each family and the controls it takes (:class:`ParamSpec`); :func:`build`
validates a size and sigma against it and returns the kernel, cached, so the same choice is one
object however often a page asks for it. The public builders (:func:`identity`, :func:`box`,
:func:`gaussian`, :func:`laplacian_of_gaussian`, :func:`motion_blur`) document each family's
recipe and call :func:`build`. Even sizes are anchored as the record's convention says
(:mod:`kernels.record`): the upper-left of the four central cells.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from kernels.record import MAX_SIZE, Kernel

__all__ = [
    "SIGMA_RANGE",
    "ALL_SIZES",
    "ODD_SIZES",
    "PARAMETRIC",
    "ParamSpec",
    "anchor",
    "unit",
    "opencv_sigma",
    "log_sigma",
    "build",
    "identity",
    "box",
    "gaussian",
    "laplacian_of_gaussian",
    "motion_blur",
]

#: Allowed sigma for the Gaussian and the Laplacian of Gaussian. Below 0.1 the Gaussian is a
#: single pixel already; above 20 a 15x15 window holds a nearly flat piece of it (a box blur).
SIGMA_RANGE: tuple[float, float] = (0.1, 20.0)

ALL_SIZES = tuple(range(1, MAX_SIZE + 1))
ODD_SIZES = tuple(range(1, MAX_SIZE + 1, 2))


def anchor(size: int) -> int:
    """Index of the cell that lands on the output pixel (see :mod:`kernels.record`)."""
    return (size - 1) // 2


def unit(size: int) -> np.ndarray:
    """``size`` zeros with a 1 at the :func:`anchor` cell."""
    e = np.zeros(size)
    e[anchor(size)] = 1.0
    return e


def opencv_sigma(size: int) -> float:
    """OpenCV's default sigma for a Gaussian of ``size`` taps: ``0.3 * ((size - 1) / 2 - 1) + 0.8``.

    (``cv2.getGaussianKernel`` with ``sigma <= 0``.) It gives 0.8 for 3 taps, 1.1 for 5, 1.4 for 7.
    """
    return 0.3 * ((size - 1) * 0.5 - 1) + 0.8


def log_sigma(size: int) -> float:
    """Default sigma for the Laplacian of Gaussian: ``(size - 1) / 6``, a window of +-3 sigma."""
    return (size - 1) / 6


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


def build(key: str, size: int, sigma: float | None = None) -> Kernel:
    """Kernel ``key`` of :data:`PARAMETRIC` at ``size``, with ``sigma`` if the family takes one.

    ``size`` must be one of ``PARAMETRIC[key].sizes``. ``sigma`` None means the family's default
    for the size; families without a sigma ignore it. Equal arguments give the same object.

    Raises
    ------
    KeyError
        ``key`` is not a parametric family.
    ValueError
        ``size`` or ``sigma`` out of range (the message names the parameter and the family).
    """
    spec = PARAMETRIC[key]
    size = _check_size(size, allowed=spec.sizes, what=key)
    if spec.sigma_rule is not None:
        sigma = _check_sigma(spec.sigma_rule(size) if sigma is None else sigma, what=key)
    else:
        sigma = None
    return _cached(key, size, sigma)


# Bounded because sigma is any float a slider or a link chooses; the size-only families fit many
# times over.
@functools.lru_cache(maxsize=512)
def _cached(key: str, size: int, sigma: float | None) -> Kernel:
    make = _MAKERS[key]
    return make(size) if sigma is None else make(size, sigma)


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


# --- the families ---------------------------------------------------------------------------------


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
    return build("identity", size)


def _identity(size: int) -> Kernel:
    e = unit(size)
    a = anchor(size)
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
    return build("box", size)


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
    # size 1 has default sigma 0.5 (in range); the 1-tap kernel is [1.0] whatever sigma is.
    return build("gaussian", size, sigma)


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
    return build("log", size, sigma)


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
    return build("motion_blur", size)


def _motion_blur(size: int) -> Kernel:
    col, row = unit(size), np.full(size, 1.0 / size)
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


_MAKERS: dict[str, Callable[..., Kernel]] = {
    "identity": _identity,
    "box": _box,
    "gaussian": _gaussian,
    "log": _log,
    "motion_blur": _motion_blur,
}
