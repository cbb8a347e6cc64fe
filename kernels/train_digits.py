"""Train the digits CNN and write its weights: ``python -m kernels.train_digits``.

Seeded and deterministic: the same seed gives the same weights, byte for byte, on one machine
(numpy only, float64). It takes well under a minute on 2 cores. It prints the held-out accuracy,
measured with the engine's forward pass (:func:`kernels.cnn.forward`, the one the app shows),
and writes ``assets/digits_cnn.npz`` (plain arrays: ``np.load(..., allow_pickle=False)``).

Options: ``--seed``, ``--epochs``, ``--out`` (another path, e.g. for a trial run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from kernels import cnn


def run(*, seed: int = cnn.SEED, epochs: int = cnn.EPOCHS, out: Path | None = cnn.WEIGHTS_PATH,
        print_fn=print) -> cnn.Weights:
    """Load the digits, split them, train, measure the held-out accuracy, save; return the
    weights."""
    start = time.perf_counter()
    digits = cnn.load_digits()
    train_idx, test_idx = cnn.split(digits.labels, seed=seed)
    print_fn(f"digits: {len(digits)} images 8x8 (UCI optical recognition of handwritten digits); "
             f"{len(train_idx)} for training, {len(test_idx)} held out (stratified, seed {seed})")
    params, _history = cnn.train(digits.images[train_idx], digits.labels[train_idx], seed=seed,
                                epochs=epochs, log=print_fn)
    info = (f"seed={seed} epochs={epochs} batch={cnn.BATCH} lr={cnn.LEARNING_RATE} adam "
            f"train={len(train_idx)} test={len(test_idx)} data_sha256={cnn.DATA_SHA256}")
    weights = cnn.Weights(**params, test_idx=test_idx, info=info)
    predicted = cnn.predict(weights, digits.images[test_idx])
    accuracy = float(np.mean(predicted == digits.labels[test_idx]))
    weights = cnn.Weights(**params, accuracy=accuracy, test_idx=test_idx, info=info)
    correct = int(np.sum(predicted == digits.labels[test_idx]))
    print_fn(f"held-out accuracy: {accuracy:.2%} ({correct} of {len(test_idx)} digits), "
             f"{weights.n_params:,} parameters")
    if out is not None:
        cnn.save(out, params, accuracy=accuracy, test_idx=test_idx, info=info)
        print_fn(f"wrote {out}")
    print_fn(f"training time: {time.perf_counter() - start:.1f} s")
    return weights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kernels.train_digits", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=cnn.SEED)
    parser.add_argument("--epochs", type=int, default=cnn.EPOCHS)
    parser.add_argument("--out", type=Path, default=cnn.WEIGHTS_PATH)
    args = parser.parse_args(argv)
    run(seed=args.seed, epochs=args.epochs, out=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
