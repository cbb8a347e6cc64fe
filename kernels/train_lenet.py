"""Train LeNet-5 on the shipped MNIST digits and write its weights: ``python -m kernels.train_lenet``.

Seeded and deterministic: numpy only, float64, every matrix product through einsum's one-thread
loop (not BLAS, whose result depends on its thread count), so the same seed gives the same
weights, byte for byte, on one machine. About 2 minutes on 2 cores (more on a busy machine).

It splits the 5,000 digits by digit (seed 0: 4,000 to train on, 1,000 held out, 100 of each
digit), trains on distorted copies of the 4,000 (:func:`kernels.lenet.augment`), measures the
held-out accuracy with the engine's forward pass (:func:`kernels.lenet.forward`, the one the
app shows), and writes ``assets/lenet5.npz`` (plain arrays: ``np.load(..., allow_pickle=False)``)
with the record of its first steps, which the tests replay.

Options: ``--seed``, ``--epochs``, ``--out`` (another path, e.g. for a trial run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from kernels import lenet


def run(*, seed: int = lenet.SEED, epochs: int = lenet.EPOCHS,
        out: Path | None = lenet.WEIGHTS_PATH, print_fn=print) -> lenet.Weights:
    """Load the digits, split them, train, measure the held-out accuracy, save; return the
    weights."""
    start = time.perf_counter()
    digits = lenet.load_digits()
    train_idx, test_idx = lenet.split(digits.labels, seed=seed)
    print_fn(f"MNIST: {len(digits)} digits 28x28; {len(train_idx)} for training, "
             f"{len(test_idx)} held out (stratified by digit, seed {seed})")
    images, labels = digits.images[train_idx], digits.labels[train_idx]
    params, history = lenet.train(images, labels, seed=seed, epochs=epochs, log=print_fn)
    check_losses, check_probe = np.array(history.step_losses), history.check_probe
    info = (f"seed={seed} epochs={epochs} batch={lenet.BATCH} lr={lenet.LEARNING_RATE} "
            f"adam cosine augment={lenet.AUGMENT} train={len(train_idx)} test={len(test_idx)} "
            f"data_sha256={lenet.DATA_SHA256}")
    weights = lenet.Weights(**params, test_idx=test_idx, info=info)
    predicted = lenet.predict(weights, digits.images[test_idx])
    truth = digits.labels[test_idx]
    accuracy = float(np.mean(predicted == truth))
    correct = int(np.sum(predicted == truth))
    print_fn(f"held-out accuracy: {accuracy:.2%} ({correct} of {len(test_idx)} digits), "
             f"{weights.n_params:,} parameters")
    for d in range(lenet.N_CLASSES):
        mine = truth == d
        print_fn(f"  digit {d}: {np.mean(predicted[mine] == d):.0%} of {mine.sum()}")
    if out is not None:
        lenet.save(out, params, accuracy=accuracy, test_idx=test_idx, info=info,
                   check_losses=check_losses, check_probe=check_probe)
        print_fn(f"wrote {out}")
    print_fn(f"training time: {time.perf_counter() - start:.1f} s")
    return lenet.Weights(**params, accuracy=accuracy, test_idx=test_idx, info=info,
                         check_losses=check_losses, check_probe=check_probe)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kernels.train_lenet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=lenet.SEED)
    parser.add_argument("--epochs", type=int, default=lenet.EPOCHS)
    parser.add_argument("--out", type=Path, default=lenet.WEIGHTS_PATH)
    args = parser.parse_args(argv)
    run(seed=args.seed, epochs=args.epochs, out=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
