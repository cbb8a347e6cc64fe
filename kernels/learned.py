"""Kernels learned by gradient descent, and the first-layer filters of a trained CNN.

Learning one kernel
-------------------
The lecture notes' idea: *parametrize the filter and optimize its coefficients*. Given an image
``x`` and the output ``y`` of a hidden target kernel, find the kernel ``w`` whose output matches::

    L(w) = mean over pixels of (x * w - y)^2          (* is cross-correlation, as conv2d)
    dL/dw[i, j] = (2 / N) * sum over pixels of r[p, q] * x_padded[p + i, q + j],   r = x * w - y

The gradient is itself a cross-correlation: of the padded input with the residual ``r``.
:meth:`Problem.loss_and_grad` computes both through the engine (:func:`conv.ops.conv2d`), the
gradient as ``conv2d(x_padded[None], r[None, None])``, whose "kernel" is the whole residual map.
The loss is quadratic in ``w``, so a run steps with the same numbers from the normal equations
(:meth:`Problem.quadratic_loss_and_grad`: ``grad = H w - b``), which the page computes anyway
for the curvature.

How the problem is normalised (so one default learning rate works for every image and size)
------------------------------------------------------------------------------------------
The gray image is standardised (mean 0, standard deviation 1) and then divided by
``sqrt(kH * kW)``. Outputs use zero "same" padding. Then the loss's curvature (the Hessian
``(2/N) P^T P`` of the patch matrix ``P``) has trace 2, so its largest eigenvalue is at most 2 and
plain gradient descent is stable for every learning rate below 1, whatever the photo, its pixel
range or the kernel size. Centring also removes the image's mean brightness, which would
otherwise dominate the curvature and slow every other direction. The target output is computed
from the same normalised image, so the target kernel reproduces it exactly: it is the minimum.

Optimisers, in the notation of the lecture before convolution (deeplearning.ai's)::

    SGD       w -= lr * g
    momentum  v = b1 v + (1 - b1) g;                      w -= lr * v
    RMSProp   s = b2 s + (1 - b2) g^2;                    w -= lr * g / (sqrt(s) + eps)
    Adam      m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
              w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

with ``b1 = 0.9``, ``b2 = 0.999`` (Adam), ``b2 = 0.9`` (RMSProp, Hinton's value: with 0.999 and no
bias correction its first steps are 30x the learning rate), ``eps = 1e-8``. "SGD" here is the full
gradient over one image: deterministic gradient descent.

A run stops by itself, with an explanation and never an exception, when the loss becomes NaN or
infinite or grows :data:`DIVERGENCE_FACTOR`-fold above where it started.

LeNet-5's filters
-----------------
:func:`register_cnn_filters` (run at import) adds the six 5x5 filters of the first layer of
LeNet-5 trained on MNIST (``assets/lenet5.npz``, trained by ``python -m kernels.train_lenet``) to
the kernel library as ``"LeNet-5, conv1 filter N"`` (group ``"learned"``). It only reads a small
file: importing this module is cheap.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from conv import geometry, ops
from kernels import lenet, library, record

log = logging.getLogger(__name__)

OPTIMIZERS: dict[str, str] = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSProp",
                              "adam": "Adam"}
#: Default learning rates. SGD and momentum: curvature is at most 2, so below 1 is stable.
#: RMSProp and Adam move each weight by about ``lr`` per step, whatever the gradient's scale.
DEFAULT_LR: dict[str, float] = {"sgd": 0.5, "momentum": 0.5, "rmsprop": 0.01, "adam": 0.05}
INITS = ("zeros", "random")
#: Loss growth (over the loss at step 0) taken as divergence.
DIVERGENCE_FACTOR = 1000.0
#: Largest learnable kernel side (the patch matrix has kH*kW columns).
MAX_SIZE = 9
BETA1, BETA2_ADAM, BETA2_RMSPROP, EPS = 0.9, 0.999, 0.9, 1e-8
RANDOM_INIT_STD = 0.5


# --------------------------------------------------------------------------------------------
# The problem: image, target output, loss and gradient
# --------------------------------------------------------------------------------------------


def _pair(size, name: str) -> tuple[int, int]:
    kh, kw = geometry.as_pair(size, name)
    if kh > MAX_SIZE or kw > MAX_SIZE:
        raise ValueError(f"{name} must be at most {MAX_SIZE} x {MAX_SIZE}, got {kh} x {kw}")
    return kh, kw


def _same_padded(x: np.ndarray, kernel_hw: tuple[int, int]) -> np.ndarray:
    pads = geometry.resolve_padding("same", x.shape, kernel_hw)
    return ops.pad(x[None], pads)


@dataclass(frozen=True, eq=False)
class Problem:
    """One image, one target output, and the size of the kernel to learn.

    Attributes
    ----------
    image : (H, W) float32, the normalised image (see the module docstring)
    padded : (1, H + kH - 1, W + kW - 1) float32, ``image`` with zero "same" padding for ``size``
    target : (1, H, W) float32, the target kernel's output on ``image`` (zero "same" padding)
    target_kernel : (tH, tW) float64, the hidden kernel that made ``target``
    size : (kH, kW), the kernel to learn
    scale : the factor applied to ``gray - mean``: ``1 / (std * sqrt(kH * kW))``
    """

    image: np.ndarray
    padded: np.ndarray
    target: np.ndarray
    target_kernel: np.ndarray
    size: tuple[int, int]
    scale: float

    @property
    def n(self) -> int:
        return int(self.target.size)

    def predict(self, kernel) -> np.ndarray:
        """``image * kernel`` (zero "same" padding), through the engine: ``(1, H, W)`` float32."""
        w = np.asarray(kernel, dtype=np.float32)
        return ops.conv2d(self.padded, w[None, None])

    def loss(self, kernel) -> float:
        """Mean squared error between the kernel's output and the target."""
        return self.loss_and_grad(kernel)[0]

    def loss_and_grad(self, kernel) -> tuple[float, np.ndarray]:
        """The loss and its gradient with respect to the kernel (float64, shape ``size``).

        The gradient is ``(2 / N) * correlate(padded image, residual)``, computed by the engine.
        """
        w = np.asarray(kernel, dtype=np.float64)
        if w.shape != self.size:
            raise ValueError(f"kernel must have shape {self.size}, got {w.shape}")
        with np.errstate(over="ignore", invalid="ignore"):
            r = self.predict(w) - self.target
            loss = float(np.mean(np.square(r, dtype=np.float64)))
        if not math.isfinite(loss):
            return loss, np.full(self.size, np.nan)
        grad = ops.conv2d(self.padded, r[None])[0].astype(np.float64) * (2.0 / self.n)
        return loss, grad

    def quadratic_loss_and_grad(self, kernel) -> tuple[float, np.ndarray]:
        """:meth:`loss_and_grad` from the normal equations, in float64: the loss is quadratic,
        ``L(w) = w.H.w / 2 - b.w + mean(y^2)``, so ``grad = H w - b``. The same numbers (to
        rounding, a test says so) from a small matrix product instead of two image
        correlations: what a training run steps with, so a class pressing Train does not fill
        the server."""
        w = np.asarray(kernel, dtype=np.float64)
        if w.shape != self.size:
            raise ValueError(f"kernel must have shape {self.size}, got {w.shape}")
        hess, b = self._normal_equations
        v = w.ravel()
        with np.errstate(over="ignore", invalid="ignore"):
            hv = hess @ v
            loss = float(0.5 * v @ hv - b @ v + self._target_power)
        if not math.isfinite(loss):
            return loss, np.full(self.size, np.nan)
        # the quadratic form cancels to rounding near the minimum: never below zero
        return max(loss, 0.0), (hv - b).reshape(self.size)

    @cached_property
    def _target_power(self) -> float:
        return float(np.mean(np.square(self.target, dtype=np.float64)))

    @cached_property
    def _normal_equations(self) -> tuple[np.ndarray, np.ndarray]:
        """``H = (2/N) P^T P`` and ``b = (2/N) P^T y`` in float64 (``P``: one row per patch)."""
        kh, kw = self.size
        h, w = self.target.shape[1:]
        x = self.padded[0].astype(np.float64)
        hess, b = np.zeros((kh * kw, kh * kw)), np.zeros(kh * kw)
        band = max(1, (1 << 16) // w)  # rows of patches per chunk: a few MB at most
        for r0 in range(0, h, band):
            r1 = min(h, r0 + band)
            cols = np.empty(((r1 - r0) * w, kh * kw))
            for i in range(kh):
                for j in range(kw):
                    cols[:, i * kw + j] = x[r0 + i:r1 + i, j:j + w].ravel()
            hess += cols.T @ cols
            b += cols.T @ self.target[0, r0:r1].astype(np.float64).ravel()
        return hess * (2.0 / self.n), b * (2.0 / self.n)

    @cached_property
    def curvature(self) -> np.ndarray:
        """Eigenvalues of the loss's Hessian, largest first (their sum is 2)."""
        return np.linalg.eigvalsh(self._normal_equations[0])[::-1]

    @property
    def max_stable_sgd_lr(self) -> float:
        """Plain gradient descent converges for learning rates below ``2 / largest eigenvalue``."""
        return 2.0 / float(self.curvature[0])

    @property
    def rank(self) -> int:
        """How many independent directions of the kernel this image pins down (of kH*kW)."""
        ev = self.curvature
        return int(np.sum(ev > ev[0] * 1e-9))

    @cached_property
    def optimum(self) -> np.ndarray:
        """The best kernel of this size, by least squares (the minimum of the loss).

        When the image does not pin every weight down (``rank < kH*kW``), the smallest-norm one.
        """
        hess, b = self._normal_equations
        w, *_ = np.linalg.lstsq(hess, b, rcond=1e-9)
        return w.reshape(self.size)

    @cached_property
    def optimum_loss(self) -> float:
        """The loss of :attr:`optimum`: what no kernel of this size can go below."""
        return max(self.loss(self.optimum), 0.0)


def make_problem(gray, target_kernel, *, size=3) -> Problem:
    """Set up learning a ``size`` kernel that reproduces ``target_kernel``'s output on ``gray``.

    Parameters
    ----------
    gray : array_like, shape (H, W)
        A grayscale image, any range (0..255 photos, 0..1, ...): it is normalised.
    target_kernel : array_like, 2-D
        The hidden kernel whose output is the target (any size up to 15 x 15).
    size : int or (int, int)
        The kernel to learn, from 1 x 1 to 9 x 9.

    Raises
    ------
    ValueError
        A flat image (nothing to learn from), an image smaller than the kernel, a target kernel
        that is not a finite 2-D array, or a size out of range; the message says which.
    """
    x = np.asarray(gray, dtype=np.float64)
    if x.ndim != 2 or min(x.shape) < 1:
        raise ValueError(f"The image must be a 2-D gray image, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("The image must hold finite numbers (no NaN or inf)")
    kh, kw = _pair(size, "size")
    if x.shape[0] < kh or x.shape[1] < kw:
        raise ValueError(
            f"The image ({x.shape[0]} x {x.shape[1]}) is smaller than the kernel ({kh} x {kw})"
        )
    t = np.asarray(target_kernel, dtype=np.float64)
    if t.ndim != 2 or min(t.shape) < 1 or max(t.shape) > record.MAX_SIZE:
        raise ValueError(f"The target kernel must be a 2-D array up to 15 x 15, got {t.shape}")
    if not np.isfinite(t).all():
        raise ValueError("The target kernel must hold finite numbers (no NaN or inf)")
    std = float(x.std())
    if std <= 1e-6 * max(1.0, float(np.abs(x).max())):
        raise ValueError(
            f"The image is flat (every pixel is {x.flat[0]:.4g}): every kernel gives a constant "
            "output on it, so there is nothing to learn from. Choose an image with some detail."
        )
    scale = 1.0 / (std * math.sqrt(kh * kw))
    image = ((x - x.mean()) * scale).astype(np.float32)
    image.setflags(write=False)
    padded = _same_padded(image, (kh, kw))
    padded.setflags(write=False)
    target = ops.conv2d(_same_padded(image, t.shape), t.astype(np.float32)[None, None])[0][None]
    target.setflags(write=False)
    t = t.copy()
    t.setflags(write=False)
    return Problem(image, padded, target, t, (kh, kw), scale)


def compare_to_target(kernel: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """The target placed on the learned kernel's grid (centred, zeros around it), or None.

    Kernels of the same size compare directly. A smaller odd target sits in the centre of a larger
    odd kernel (a 3x3 Sobel inside a 5x5 has the same output). Otherwise there is no exact match.
    """
    kh, kw = kernel.shape
    th, tw = target.shape
    if (th, tw) == (kh, kw):
        return target
    if th <= kh and tw <= kw and (kh - th) % 2 == 0 and (kw - tw) % 2 == 0 and th % 2 and tw % 2:
        out = np.zeros((kh, kw))
        out[(kh - th) // 2:(kh + th) // 2, (kw - tw) // 2:(kw + tw) // 2] = target
        return out
    return None


def relative_error(kernel: np.ndarray, reference: np.ndarray) -> float:
    """``||kernel - reference|| / ||reference||`` (Frobenius); the plain norm if reference is 0."""
    den = float(np.linalg.norm(reference))
    num = float(np.linalg.norm(np.asarray(kernel) - reference))
    return num / den if den > 0 else num


# --------------------------------------------------------------------------------------------
# Optimisers
# --------------------------------------------------------------------------------------------


class Optimizer:
    """One optimiser's update rule and its state (see the module docstring for the formulas)."""

    def __init__(self, name: str, lr: float):
        if name not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (
                math.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a positive number, got {lr!r}")
        self.name, self.lr, self.t = name, float(lr), 0
        self.m: np.ndarray | float = 0.0  # momentum's v, Adam's m
        self.s: np.ndarray | float = 0.0  # RMSProp's s, Adam's v

    def update(self, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The weights after one step from ``w`` along gradient ``g``."""
        self.t += 1
        lr = self.lr
        with np.errstate(over="ignore", invalid="ignore"):
            if self.name == "sgd":
                return w - lr * g
            if self.name == "momentum":
                self.m = BETA1 * self.m + (1 - BETA1) * g
                return w - lr * self.m
            if self.name == "rmsprop":
                self.s = BETA2_RMSPROP * self.s + (1 - BETA2_RMSPROP) * g * g
                return w - lr * g / (np.sqrt(self.s) + EPS)
            self.m = BETA1 * self.m + (1 - BETA1) * g
            self.s = BETA2_ADAM * self.s + (1 - BETA2_ADAM) * g * g
            m_hat = self.m / (1 - BETA1**self.t)
            v_hat = self.s / (1 - BETA2_ADAM**self.t)
            return w - lr * m_hat / (np.sqrt(v_hat) + EPS)


def initial_kernel(size, init: str = "zeros", seed: int = 0) -> np.ndarray:
    """Zeros, or normal random numbers (std 0.5) from ``numpy.random.default_rng(seed)``."""
    kh, kw = _pair(size, "size")
    if init == "zeros":
        return np.zeros((kh, kw))
    if init == "random":
        return np.random.default_rng(seed).normal(0.0, RANDOM_INIT_STD, (kh, kw))
    raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")


def snapshot_steps(steps: int, frames: int = 40) -> list[int]:
    """Steps at which the kernel is kept for the animation: dense early (it changes fastest
    there), then even, always 0 and ``steps``; at most about ``frames`` of them."""
    half = max(frames // 2, 1)
    early = np.unique(np.round(np.geomspace(1, max(steps, 1), half)).astype(int))
    even = np.unique(np.round(np.linspace(0, steps, half + 1)).astype(int))
    return sorted(set(early.tolist()) | set(even.tolist()) | {0, steps})


# --------------------------------------------------------------------------------------------
# A training run that can be advanced in chunks (the page shows progress between chunks)
# --------------------------------------------------------------------------------------------


def stable_lr_limit(problem: Problem, optimizer: str) -> float | None:
    """The largest stable learning rate of ``optimizer`` on ``problem`` (None: no such limit).

    SGD: ``2 / λ`` (λ the largest curvature). Momentum as here (``v = b1 v + (1 - b1) g``,
    ``w -= lr v``) is heavy-ball momentum with rate ``lr (1 - b1)``, stable while
    ``lr (1 - b1) λ < 2 (1 + b1)``: ``(1 + b1) / (1 - b1)`` times SGD's limit (19 at b1 = 0.9).
    """
    if optimizer == "sgd":
        return problem.max_stable_sgd_lr
    if optimizer == "momentum":
        return problem.max_stable_sgd_lr * (1 + BETA1) / (1 - BETA1)
    return None


def suggest_lr(lr: float, limit: float) -> float:
    """A rate to try after ``lr`` diverged: ``lr / 10`` when that is safely below ``limit``,
    else the largest of 1, 2, 5 x 10^k below 90% of it (never a rate that diverges again)."""
    if lr / 10 < 0.9 * limit:
        return lr / 10
    target = 0.9 * limit
    exp = math.floor(math.log10(target))
    return max(m * 10.0 ** e for e in (exp - 1, exp) for m in (1, 2, 5) if m * 10.0 ** e <= target)


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


@dataclass(eq=False)
class Run:
    """A training run: settings, the kernel so far, the loss at every step, and snapshots.

    ``losses[t]`` is the loss after ``t`` steps (``losses[0]``: the initial kernel). ``status`` is
    ``"running"`` until :meth:`advance` reaches ``steps`` (``"done"``) or the loss diverges
    (``"diverged"``); :meth:`stop` makes it ``"stopped"``. ``message`` explains the outcome.
    """

    problem: Problem
    optimizer: str
    lr: float
    steps: int
    init: str
    seed: int
    kernel: np.ndarray
    losses: list[float] = field(default_factory=list)
    snapshots: list[tuple[int, np.ndarray]] = field(default_factory=list)
    status: str = "running"
    message: str = ""
    _opt: Optimizer | None = None
    _grad: np.ndarray | None = None
    _keep: frozenset = frozenset()

    @property
    def step(self) -> int:
        """Steps taken so far."""
        return max(len(self.losses) - 1, 0)

    @property
    def finished(self) -> bool:
        return self.status != "running"

    @property
    def reference(self) -> np.ndarray:
        """What the kernel should become: the target (on the kernel's grid) when a kernel of this
        size can reproduce it, else the best kernel of this size (:attr:`Problem.optimum`)."""
        target = compare_to_target(self.kernel, self.problem.target_kernel)
        return self.problem.optimum if target is None else target

    @property
    def kernel_error(self) -> float:
        """``||kernel - reference|| / ||reference||``."""
        return relative_error(self.kernel, self.reference)

    @property
    def label(self) -> str:
        name = OPTIMIZERS[self.optimizer]
        return f"{name}, lr {self.lr:g}, {_steps(self.step)}, {self.init} start"

    def advance(self, n: int) -> Run:
        """Take up to ``n`` more steps (fewer if the run ends); return self."""
        if self.finished:
            return self
        for _ in range(max(int(n), 0)):
            if self.step >= self.steps:
                break
            new = self._opt.update(self.kernel, self._grad)
            if not np.isfinite(new).all() or np.abs(new).max() > 1e30:
                self._diverge(new, nan_at=self.step + 1)
                return self
            self.kernel = new
            loss, self._grad = self.problem.quadratic_loss_and_grad(new)
            self.losses.append(loss)
            if self.step in self._keep:
                self.snapshots.append((self.step, new.copy()))
            if not math.isfinite(loss):
                self._diverge(new, nan_at=self.step)
                return self
            if loss > DIVERGENCE_FACTOR * max(self.losses[0], 1e-30):
                self._diverge(new)
                return self
        if self.step >= self.steps:
            self.status = "done"
            self.message = self._done_message()
        return self

    def stop(self) -> Run:
        """End a run early (the Stop button); the kernel learned so far is kept."""
        if not self.finished:
            self.status = "stopped"
            self._keep_last()
            self.message = (
                f"Stopped at step {self.step} of {self.steps}: the kernel learned so far is kept "
                f"(loss {self.losses[-1]:.3g}, from {self.losses[0]:.3g})."
            )
        return self

    def _keep_last(self) -> None:
        if not self.snapshots or self.snapshots[-1][0] != self.step:
            self.snapshots.append((self.step, self.kernel.copy()))

    def _lower(self) -> str:
        """What to do after a divergence: a smaller rate, one that this image allows."""
        limit = stable_lr_limit(self.problem, self.optimizer)
        if limit is None:  # RMSProp, Adam: each weight moves by about lr, whatever the curvature
            return f"Lower the learning rate (try {self.lr / 10:g})."
        what = "plain gradient descent" if self.optimizer == "sgd" else "momentum"
        return (f"Lower the learning rate (try {suggest_lr(self.lr, limit):g}): on this image "
                f"{what} is stable only below {limit:.3g}.")

    def _diverge(self, new: np.ndarray, nan_at: int | None = None) -> None:
        self.status = "diverged"
        self._keep_last()
        if nan_at is not None:
            self.message = (
                f"The loss became infinite (NaN) at step {nan_at}: each step overshot the minimum "
                f"by more than the last, until the numbers overflowed. {self._lower()}"
            )
            return
        factor = self.losses[-1] / max(self.losses[0], 1e-30)
        self.message = (
            f"The loss grew {factor:,.0f}-fold in {_steps(self.step)} (from {self.losses[0]:.3g} "
            f"to {self.losses[-1]:.3g}): the steps overshoot the minimum and grow. Training "
            f"stopped. {self._lower()}"
        )

    def _done_message(self) -> str:
        first, last = self.losses[0], self.losses[-1]
        text = f"Finished {_steps(self.steps)}: loss {last:.3g} (from {first:.3g})."
        if last > first:
            return text + (
                " The loss ended higher than it started: the learning rate is too large for "
                f"{OPTIMIZERS[self.optimizer]}. {self._lower()}"
            )
        floor = self.problem.optimum_loss
        if first > floor and (last - floor) > 0.5 * (first - floor):
            return text + (" It has covered less than half of the way to the minimum: take "
                           "more steps or a larger learning rate.")
        error = self.kernel_error
        if error > 0.05:
            ev = self.problem.curvature
            cond = ev[0] / ev[-1] if ev[-1] > 0 else float("inf")
            return text + (
                f" The output is close, but the kernel is still {error:.0%} away from the "
                f"target: this image barely constrains some combinations of the weights (the "
                f"loss valley is {cond:,.0f} times steeper across than along), so gradient "
                "descent creeps along them. More steps, Adam, or an image with more fine "
                "texture (random noise: every direction equally steep) get closer."
            )
        return text


def start(problem: Problem, *, optimizer: str = "adam", lr: float | None = None,
          steps: int = 300, init: str = "zeros", seed: int = 0, frames: int = 40) -> Run:
    """A new :class:`Run` at step 0 (the initial loss computed); call :meth:`Run.advance`."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    steps = int(steps)
    kernel = initial_kernel(problem.size, init, seed)
    run = Run(problem, optimizer, float(lr), steps, init, seed, kernel,
              _opt=Optimizer(optimizer, lr), _keep=frozenset(snapshot_steps(steps, frames)))
    loss, run._grad = problem.quadratic_loss_and_grad(kernel)
    run.losses.append(loss)
    run.snapshots.append((0, kernel.copy()))
    return run


def learn(problem: Problem, **kwargs) -> Run:
    """:func:`start` then run every step: the whole training in one call."""
    run = start(problem, **kwargs)
    return run.advance(run.steps)


# --------------------------------------------------------------------------------------------
# The trained CNN's first-layer filters in the kernel library
# --------------------------------------------------------------------------------------------

CNN_KEY = "lenet5_conv1_{}"
CNN_NAME = "LeNet-5, conv1 filter {}"


def nearest_named(weights: np.ndarray) -> tuple[record.Kernel, float] | None:
    """The hand-designed library kernel of the same shape most like ``weights`` (largest
    ``|cosine similarity|``, the sign kept), or None if there is none."""
    w = np.asarray(weights, dtype=np.float64).ravel()
    best = None
    for k in library.presets():
        if k.group == "learned" or k.shape != weights.shape:
            continue
        v = k.weights.ravel()
        den = float(np.linalg.norm(w) * np.linalg.norm(v))
        if den == 0:
            continue
        cos = float(w @ v) / den
        if best is None or abs(cos) > abs(best[1]):
            best = (k, cos)
    return best


def cnn_filter_kernels(weights: lenet.Weights) -> list[record.Kernel]:
    """The first-layer filters of LeNet-5 as library kernels, numbered from 1."""
    out = []
    for i, w in enumerate(weights.w1[:, 0].astype(np.float64), start=1):
        near = nearest_named(w)
        like = ("" if near is None else
                f"; closest hand-designed kernel: {'minus ' if near[1] < 0 else ''}"
                f"{near[0].name} (cosine similarity {abs(near[1]):.2f})")
        out.append(record.Kernel(
            key=CNN_KEY.format(i),
            name=CNN_NAME.format(i),
            group="learned",
            weights=w,
            description=(f"Filter {i} of the first layer of LeNet-5 trained on MNIST "
                         f"handwritten digits (28x28 images, pixels divided by 255), learned, "
                         f"not designed."),
            detects=f"whatever helped tell the digits apart{like}",
            reference=("trained by `python -m kernels.train_lenet` on 4,000 MNIST digits "
                       "(LeCun, Cortes and Burges); see the page Inside a CNN"),
        ))
    return out


def register_cnn_filters(path: Path | str = lenet.WEIGHTS_PATH) -> list[record.Kernel]:
    """Add LeNet-5's first-layer filters to the library (a no-op when they are there already).

    A missing or unreadable weights file is logged and registers nothing: the app works without
    the learned kernels.
    """
    try:
        return [library.register(k) for k in cnn_filter_kernels(lenet.load(path))]
    except (OSError, ValueError, KeyError) as exc:  # e.g. retrained while the app runs
        log.warning("LeNet-5 filters not registered from %s: %s", path, exc)
        return []


CNN_FILTERS = register_cnn_filters()
