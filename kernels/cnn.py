"""A small CNN for 8x8 handwritten digits: its data, its forward pass through the engine, and its
training in numpy.

The network (the lecture notes' MNIST table, scaled down to 8x8 digits)::

    input 8x8x1  ->  CONV1 3x3x8, p=1  -> ReLU -> POOL1 max 2x2  ->  4x4x8
                 ->  CONV2 3x3x16, p=1 -> ReLU -> POOL2 max 2x2  ->  2x2x16 = 64 values
                 ->  FC 10 + softmax: the probability of each digit 0..9

Two forward passes compute the same thing:

- :func:`forward` runs one digit through the engine (:func:`conv.ops.conv2d`,
  :func:`conv.ops.pool2d`, :func:`conv.ops.activate`) and keeps every layer's maps: what the
  "Inside a CNN" page shows.
- :func:`forward_batch` runs many digits at once with an im2col matrix product in float64, and
  :func:`backward_batch` gives the gradients: what :func:`train` uses (the engine has no batch
  axis).
  A test checks that both passes agree.

Data: the 1,797 digits of the UCI "Optical Recognition of Handwritten Digits" test set, as shipped
in scikit-learn's wheel (``assets/digits/``, credited in ``assets/CREDITS.md``). Pixels are 0..16
(the number of ink pixels in a 4x4 block of the 32x32 scan); the network sees them divided by 16.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from conv import ops
from conv.network import Network, conv, maxpool, softmax

ROOT = Path(__file__).resolve().parent.parent
DATA_PATH = ROOT / "assets" / "digits" / "digits.csv.gz"
WEIGHTS_PATH = ROOT / "assets" / "digits_cnn.npz"
#: SHA-256 of ``digits.csv.gz`` as copied from scikit-learn 1.9.1 (``sklearn/datasets/data/``).
DATA_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
PIXEL_MAX = 16.0
N_CLASSES = 10
IMAGE_SIZE = 8
C1, C2 = 8, 16  # filters of CONV1 and CONV2
#: Arrays of a weights file, with their shapes.
SHAPES = {
    "w1": (C1, 1, 3, 3), "b1": (C1,),
    "w2": (C2, C1, 3, 3), "b2": (C2,),
    "w3": (N_CLASSES, C2 * 2 * 2), "b3": (N_CLASSES,),
}  # fmt: skip

#: Training settings of the shipped weights (``python -m kernels.train_digits`` uses these).
SEED = 0
EPOCHS = 60
BATCH = 32
LEARNING_RATE = 0.005
TEST_FRACTION = 0.2


def network() -> Network:
    """The architecture as a :class:`conv.network.Network`, for its shape and parameter table."""
    return Network(
        (IMAGE_SIZE, IMAGE_SIZE, 1),
        (
            conv(3, C1, p=1, name="CONV1"),
            maxpool(2, name="POOL1"),
            conv(3, C2, p=1, name="CONV2"),
            maxpool(2, name="POOL2"),
            softmax(N_CLASSES, name="FC + softmax"),
        ),
    )


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Digits:
    """Images ``(N, 8, 8)`` float32 in 0..16 and labels ``(N,)`` int64 in 0..9."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def load_digits(path: Path | str | None = None, *, sha256: str | None = DATA_SHA256) -> Digits:
    """Read the digits CSV (64 pixel columns row by row, then the label), checking its SHA-256.

    ``path`` defaults to the shipped file; ``sha256=None`` skips the check (for other files).

    Raises
    ------
    ValueError
        If the file is not the one shipped (its hash differs) or has the wrong shape.
    """
    path = DATA_PATH if path is None else Path(path)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if sha256 is not None and digest != sha256:
        raise ValueError(f"{path} has SHA-256 {digest}, expected {sha256} (the shipped file)")
    table = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",")
    if table.ndim != 2 or table.shape[1] != IMAGE_SIZE * IMAGE_SIZE + 1:
        raise ValueError(f"{path} must have 65 columns (64 pixels and a label), got {table.shape}")
    images = table[:, :-1].reshape(-1, IMAGE_SIZE, IMAGE_SIZE).astype(np.float32)
    labels = table[:, -1].astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return Digits(images, labels)


def split(labels: np.ndarray, *, seed: int = SEED,
          test_fraction: float = TEST_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """A seeded, stratified split: ``(train_indices, test_indices)``, each sorted.

    Each class gives ``round(test_fraction * count)`` of its images to the held-out set, so every
    digit is held out in the same proportion.
    """
    rng = np.random.default_rng(seed)
    test = []
    for c in range(N_CLASSES):
        members = np.flatnonzero(labels == c)
        test.append(rng.permutation(members)[: round(test_fraction * len(members))])
    test_idx = np.sort(np.concatenate(test))
    train_idx = np.setdiff1d(np.arange(len(labels)), test_idx)
    return train_idx, test_idx


# --------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Weights:
    """The trained network: arrays as in :data:`SHAPES` (float32, read-only), and its record.

    ``accuracy`` is the held-out accuracy of the engine's forward pass, ``test_idx`` the held-out
    digits (indices into :func:`load_digits`), so the page can show digits the network never saw.
    """

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    w3: np.ndarray
    b3: np.ndarray
    accuracy: float = float("nan")
    test_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    info: str = ""

    def __post_init__(self):
        for name, shape in SHAPES.items():
            a = np.array(getattr(self, name), dtype=np.float32)
            if a.shape != shape:
                raise ValueError(f"weights `{name}` must have shape {shape}, got {a.shape}")
            if not np.isfinite(a).all():
                raise ValueError(f"weights `{name}` must be finite")
            a.setflags(write=False)
            object.__setattr__(self, name, a)
        idx = np.array(self.test_idx, dtype=np.int64)
        idx.setflags(write=False)
        object.__setattr__(self, "test_idx", idx)

    def params(self) -> dict[str, np.ndarray]:
        """The arrays as a dict of float64 copies (the training format)."""
        return {k: getattr(self, k).astype(np.float64) for k in SHAPES}

    @property
    def n_params(self) -> int:
        return sum(int(np.prod(s)) for s in SHAPES.values())


def save(path: Path | str, params: dict[str, np.ndarray], *, accuracy: float,
         test_idx: np.ndarray, info: str) -> None:
    """Write a weights file (plain arrays only: it loads with ``allow_pickle=False``)."""
    arrays = {k: np.asarray(params[k], dtype=np.float32) for k in SHAPES}
    np.savez_compressed(
        path, **arrays, accuracy=np.float64(accuracy), test_idx=np.asarray(test_idx, np.int64),
        info=np.str_(info),
    )


def load(path: Path | str = WEIGHTS_PATH) -> Weights:
    """Read a weights file written by :func:`save` (``allow_pickle=False``: plain arrays only)."""
    with np.load(path, allow_pickle=False) as f:
        return Weights(
            **{k: f[k] for k in SHAPES}, accuracy=float(f["accuracy"]), test_idx=f["test_idx"],
            info=str(f["info"]),
        )


# --------------------------------------------------------------------------------------------
# Forward pass through the engine (one digit)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Trace:
    """Every layer's output for one digit, float32, channels first."""

    input: np.ndarray   # (1, 8, 8), pixels / 16
    conv1: np.ndarray   # (8, 8, 8) before ReLU
    relu1: np.ndarray
    pool1: np.ndarray   # (8, 4, 4)
    conv2: np.ndarray   # (16, 4, 4)
    relu2: np.ndarray
    pool2: np.ndarray   # (16, 2, 2)
    flat: np.ndarray    # (64,), C, H, W order
    logits: np.ndarray  # (10,)
    probs: np.ndarray   # (10,)

    @property
    def prediction(self) -> int:
        return int(np.argmax(self.probs))


def softmax_probs(logits: np.ndarray) -> np.ndarray:
    """Softmax along the last axis, shifted by the maximum so no exponential overflows."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def forward(weights: Weights, image: np.ndarray) -> Trace:
    """Run one 8x8 digit (pixels 0..16) through the network with the engine's operations."""
    img = np.asarray(image, dtype=np.float32)
    if img.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"image must be 8x8, got shape {img.shape}")
    x = (img / np.float32(PIXEL_MAX))[None]
    c1 = ops.conv2d(x, weights.w1, weights.b1, padding=1)
    r1 = ops.activate(c1, "relu")
    p1 = ops.pool2d(r1, 2, mode="max")
    c2 = ops.conv2d(p1, weights.w2, weights.b2, padding=1)
    r2 = ops.activate(c2, "relu")
    p2 = ops.pool2d(r2, 2, mode="max")
    flat = p2.reshape(-1)
    logits = weights.w3 @ flat + weights.b3
    probs = softmax_probs(logits.astype(np.float64)).astype(np.float32)
    return Trace(x, c1, r1, p1, c2, r2, p2, flat, logits, probs)


def predict(weights: Weights, images: np.ndarray) -> np.ndarray:
    """Predicted digit for each 8x8 image, through the engine (:func:`forward`)."""
    return np.array([forward(weights, im).prediction for im in images], dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Batched forward and backward (training), float64
# --------------------------------------------------------------------------------------------


def _im2col(x: np.ndarray) -> np.ndarray:
    """``(N, C, H, W)`` -> ``(N, H, W, C*9)``: the 3x3 windows of a 1-padded input, columns in the
    order ``(c, ky, kx)`` of ``weight.reshape(C_out, -1)``."""
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2, w + 2), x.dtype)
    xp[:, :, 1:-1, 1:-1] = x
    cols = np.empty((n, h, w, c, 3, 3), x.dtype)
    for ky in range(3):
        for kx in range(3):
            cols[..., ky, kx] = xp[:, :, ky:ky + h, kx:kx + w].transpose(0, 2, 3, 1)
    return cols.reshape(n, h, w, c * 9)


def _col2im(dcols: np.ndarray, c: int) -> np.ndarray:
    """The adjoint of :func:`_im2col`: sum each window's gradient back onto the input."""
    n, h, w, _ = dcols.shape
    d = dcols.reshape(n, h, w, c, 3, 3)
    dxp = np.zeros((n, c, h + 2, w + 2), dcols.dtype)
    for ky in range(3):
        for kx in range(3):
            dxp[:, :, ky:ky + h, kx:kx + w] += d[..., ky, kx].transpose(0, 3, 1, 2)
    return dxp[:, :, 1:-1, 1:-1]


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Matrix product without BLAS (numpy's own einsum loop, one thread).

    Multithreaded BLAS on these small matrices was 20-500x slower on a busy 2-core machine (its
    threads wait for each other), and one thread adds in the same order on every run.
    """
    return np.einsum("ij,jk->ik", a, b)


def _conv(x, w, b):
    cols = _im2col(x)
    n, h, wd, k = cols.shape
    out = (_mm(cols.reshape(-1, k), w.reshape(w.shape[0], -1).T) + b).reshape(n, h, wd, -1)
    return out.transpose(0, 3, 1, 2), cols


def _pool(x):
    """2x2 max pooling, and the mask of the winner of each window (the first of ties, as the
    engine's running maximum keeps the first)."""
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        n, c, h // 2, w // 2, 4)
    arg = win.argmax(axis=-1)
    out = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
    return out, arg


def _unpool(dout, arg, shape):
    n, c, h, w = shape
    dwin = np.zeros((n, c, h // 2, w // 2, 4), dout.dtype)
    np.put_along_axis(dwin, arg[..., None], dout[..., None], axis=-1)
    return dwin.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(shape)


def forward_batch(params: dict[str, np.ndarray], images: np.ndarray):
    """Probabilities ``(N, 10)`` for images ``(N, 8, 8)`` (pixels 0..16), and the cache for
    :func:`backward_batch`."""
    x = np.asarray(images, dtype=np.float64)[:, None] / PIXEL_MAX
    c1, cols1 = _conv(x, params["w1"], params["b1"])
    r1 = np.maximum(c1, 0)
    p1, arg1 = _pool(r1)
    c2, cols2 = _conv(p1, params["w2"], params["b2"])
    r2 = np.maximum(c2, 0)
    p2, arg2 = _pool(r2)
    flat = p2.reshape(len(x), -1)
    logits = _mm(flat, params["w3"].T) + params["b3"]
    probs = softmax_probs(logits)
    cache = (cols1, c1, arg1, r1.shape, p1.shape, cols2, c2, arg2, r2.shape, p2.shape, flat)
    return probs, cache


def cross_entropy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean of ``-log p(true class)``."""
    return float(-np.mean(np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-300))))


def backward_batch(params, probs, labels, cache) -> dict[str, np.ndarray]:
    """Gradients of :func:`cross_entropy` with respect to every array in ``params``."""
    cols1, c1, arg1, r1_shape, _p1_shape, cols2, c2, arg2, r2_shape, p2_shape, flat = cache
    n = len(labels)
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1
    dlogits /= n
    grads = {"w3": _mm(dlogits.T, flat), "b3": dlogits.sum(axis=0)}
    dp2 = _mm(dlogits, params["w3"]).reshape(p2_shape)
    dc2 = _unpool(dp2, arg2, r2_shape) * (c2 > 0)
    dc2_rows = dc2.transpose(0, 2, 3, 1).reshape(-1, C2)
    grads["w2"] = _mm(dc2_rows.T, cols2.reshape(-1, cols2.shape[-1])).reshape(params["w2"].shape)
    grads["b2"] = dc2_rows.sum(axis=0)
    dcols2 = _mm(dc2_rows, params["w2"].reshape(C2, -1)).reshape(cols2.shape)
    dp1 = _col2im(dcols2, C1)
    dc1 = _unpool(dp1, arg1, r1_shape) * (c1 > 0)
    dc1_rows = dc1.transpose(0, 2, 3, 1).reshape(-1, C1)
    grads["w1"] = _mm(dc1_rows.T, cols1.reshape(-1, cols1.shape[-1])).reshape(params["w1"].shape)
    grads["b1"] = dc1_rows.sum(axis=0)
    return grads


def init_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He-normal weights (std ``sqrt(2 / fan_in)``, for ReLU), zero biases."""
    params = {}
    for name in ("w1", "w2", "w3"):
        shape = SHAPES[name]
        fan_in = int(np.prod(shape[1:]))
        params[name] = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        params["b" + name[1]] = np.zeros(SHAPES["b" + name[1]])
    return params


@dataclass
class History:
    """Loss and accuracy per epoch."""

    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)


def train(images: np.ndarray, labels: np.ndarray, *, seed: int = SEED, epochs: int = EPOCHS,
          batch: int = BATCH, lr: float = LEARNING_RATE,
          log: Callable[[str], None] | None = None) -> tuple[dict[str, np.ndarray], History]:
    """Train with Adam on mini-batches (cross-entropy), float64, fully determined by ``seed``.

    The lecture notes' Adam: ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``, bias
    corrected, ``w -= lr * m_hat / (sqrt(v_hat) + eps)``, with ``b1 = 0.9``, ``b2 = 0.999``.
    """
    rng = np.random.default_rng(seed)
    params = init_params(rng)
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(a) for k, a in params.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    history, t = History(), 0
    for epoch in range(epochs):
        order = rng.permutation(len(labels))
        total = 0.0
        correct = 0
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            probs, cache = forward_batch(params, images[idx])
            total += cross_entropy(probs, labels[idx]) * len(idx)
            correct += int((probs.argmax(axis=1) == labels[idx]).sum())
            grads = backward_batch(params, probs, labels[idx], cache)
            t += 1
            for k in params:
                m[k] = b1 * m[k] + (1 - b1) * grads[k]
                v[k] = b2 * v[k] + (1 - b2) * grads[k] ** 2
                m_hat = m[k] / (1 - b1**t)
                v_hat = v[k] / (1 - b2**t)
                params[k] = params[k] - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.loss.append(total / len(labels))
        history.train_accuracy.append(correct / len(labels))
        if log is not None:
            log(f"epoch {epoch + 1:3d}/{epochs}: loss {history.loss[-1]:.4f}, "
                f"training accuracy {history.train_accuracy[-1]:.2%}")
    return params, history
