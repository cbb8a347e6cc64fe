"""The digits CNN: its data, the engine forward against the training forward, the gradients,
deterministic training, and the shipped weights' held-out accuracy."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from conv.network import analyze
from kernels import cnn, train_digits


@pytest.fixture(scope="module")
def digits() -> cnn.Digits:
    return cnn.load_digits()


@pytest.fixture(scope="module")
def weights() -> cnn.Weights:
    return cnn.load()


def test_data_file_is_the_shipped_one(digits):
    assert hashlib.sha256(cnn.DATA_PATH.read_bytes()).hexdigest() == cnn.DATA_SHA256
    assert digits.images.shape == (1797, 8, 8) and digits.labels.shape == (1797,)
    assert digits.images.min() == 0 and digits.images.max() == 16
    assert np.array_equal(np.unique(digits.labels), np.arange(10))
    # the first digit of the set is a 0 (the start of the CSV: 0,0,5,13,9,1,0,0,...)
    assert digits.labels[0] == 0
    assert digits.images[0, 0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]


def test_a_changed_data_file_is_refused(tmp_path):
    bad = tmp_path / "digits.csv.gz"
    data = bytearray(cnn.DATA_PATH.read_bytes())
    data[1000] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        cnn.load_digits(bad)


def test_split_is_stratified_disjoint_and_seeded(digits):
    train, test = cnn.split(digits.labels, seed=0)
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 1797
    assert len(test) == 359
    for c in range(10):
        share = np.mean(digits.labels[test] == c) / np.mean(digits.labels == c)
        assert share == pytest.approx(1.0, abs=0.03)
    np.testing.assert_array_equal(test, cnn.split(digits.labels, seed=0)[1])
    assert not np.array_equal(test, cnn.split(digits.labels, seed=1)[1])


def test_network_table_in_the_seeds_format():
    a = analyze(cnn.network())
    assert [str(r.output) for r in a.rows] == ["8x8x1", "8x8x8", "4x4x8", "4x4x16", "2x2x16", "10"]
    assert [r.params.value for r in a.rows[1:]] == [80, 0, 1168, 0, 650]
    assert a.params == 1898 == cnn.Weights(**cnn.init_params(np.random.default_rng(0))).n_params


def test_engine_forward_agrees_with_the_training_forward(digits, weights):
    images = digits.images[weights.test_idx[:40]]
    probs, cache = cnn.forward_batch(weights.params(), images)
    flat = cache[-1]
    for i, image in enumerate(images):
        trace = cnn.forward(weights, image)
        np.testing.assert_allclose(trace.flat, flat[i], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(trace.probs, probs[i], atol=1e-5)
        assert trace.conv1.shape == (8, 8, 8) and trace.pool1.shape == (8, 4, 4)
        assert trace.conv2.shape == (16, 4, 4) and trace.pool2.shape == (16, 2, 2)
        assert trace.probs.sum() == pytest.approx(1.0, abs=1e-6)


def test_training_pool_keeps_the_maximum_like_the_engine():
    from conv import ops

    x = np.random.default_rng(0).integers(0, 3, (2, 3, 4, 4)).astype(np.float64)  # many ties
    out, _ = cnn._pool(x)
    for n in range(2):
        np.testing.assert_array_equal(out[n], ops.pool2d(x[n], 2))


def test_backward_matches_central_differences(digits):
    rng = np.random.default_rng(5)
    params = cnn.init_params(rng)
    for k in params:  # non-zero biases so that every path is exercised
        params[k] = params[k] + rng.normal(0, 0.1, params[k].shape)
    images, labels = digits.images[:6], digits.labels[:6]
    probs, cache = cnn.forward_batch(params, images)
    grads = cnn.backward_batch(params, probs, labels, cache)
    eps = 1e-6
    for name, p in params.items():
        for idx in [tuple(rng.integers(0, s) for s in p.shape) for _ in range(4)]:
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[name][idx] += eps
            down[name][idx] -= eps
            loss_up = cnn.cross_entropy(cnn.forward_batch(up, images)[0], labels)
            loss_down = cnn.cross_entropy(cnn.forward_batch(down, images)[0], labels)
            numerical = (loss_up - loss_down) / (2 * eps)
            assert grads[name][idx] == pytest.approx(numerical, rel=1e-4, abs=1e-8), (name, idx)


def test_training_is_deterministic(digits):
    images, labels = digits.images[:300], digits.labels[:300]
    a, history_a = cnn.train(images, labels, seed=3, epochs=2)
    b, history_b = cnn.train(images, labels, seed=3, epochs=2)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert history_a.loss == history_b.loss
    assert history_a.loss[-1] < history_a.loss[0]
    c, _ = cnn.train(images, labels, seed=4, epochs=2)
    assert not np.array_equal(a["w1"], c["w1"])


def test_training_command_writes_a_plain_weights_file(tmp_path):
    lines: list[str] = []
    out = tmp_path / "w.npz"
    w = train_digits.run(epochs=1, out=out, print_fn=lines.append)
    text = "\n".join(lines)
    assert "held-out accuracy" in text and "training time" in text
    loaded = cnn.load(out)
    with np.load(out, allow_pickle=False) as f:
        assert sorted(f.files) == sorted([*cnn.SHAPES, "accuracy", "test_idx", "info"])
    np.testing.assert_array_equal(loaded.w1, w.w1)
    assert loaded.accuracy == w.accuracy > 0.5  # one epoch already learns a lot
    assert "seed=0 epochs=1" in loaded.info


def test_shipped_weights_reproduce_the_stated_accuracy(digits, weights):
    _, test_idx = cnn.split(digits.labels, seed=cnn.SEED)
    np.testing.assert_array_equal(weights.test_idx, test_idx)
    predicted = cnn.predict(weights, digits.images[test_idx])
    accuracy = float(np.mean(predicted == digits.labels[test_idx]))
    assert accuracy == weights.accuracy
    assert accuracy >= 0.95
    # the batched (training) forward makes the same decisions on every held-out digit
    probs, _ = cnn.forward_batch(weights.params(), digits.images[test_idx])
    np.testing.assert_array_equal(probs.argmax(axis=1), predicted)
    assert f"seed={cnn.SEED} epochs={cnn.EPOCHS}" in weights.info


def test_weights_are_validated():
    good = cnn.init_params(np.random.default_rng(0))
    with pytest.raises(ValueError, match="w2"):
        cnn.Weights(**{**good, "w2": np.zeros((16, 8, 5, 5))})
    with pytest.raises(ValueError, match="finite"):
        cnn.Weights(**{**good, "b3": np.full(10, np.nan)})
    with pytest.raises(ValueError, match="8x8"):
        cnn.forward(cnn.Weights(**good), np.zeros((28, 28)))


@pytest.mark.slow
def test_the_training_command_reproduces_the_shipped_weights(tmp_path, weights):
    """``python -m kernels.train_digits`` with its defaults gives the shipped file's arrays."""
    assert train_digits.main(["--out", str(tmp_path / "again.npz")]) == 0
    again = cnn.load(tmp_path / "again.npz")
    for name in cnn.SHAPES:
        np.testing.assert_array_equal(getattr(again, name), getattr(weights, name))
    assert again.accuracy == weights.accuracy and again.info == weights.info
