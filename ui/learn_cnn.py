"""Data, state and tables of the "Inside a CNN" page (``ui/pages/inside_cnn.py``).

Session state keys (all prefixed ``inside.``)
--------------------------------------------
inside.digit   the digit class picked with the pills (0..9)
inside.pos     which held-out example of that class (0, 1, ...)
inside.edit    the pixel editor's version (bumped to reset it when the digit changes)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from conv.network import Analysis, analyze
from kernels import cnn


@st.cache_resource(show_spinner=False)
def weights() -> cnn.Weights:
    """The shipped weights (read-only, shared by every session)."""
    return cnn.load()


@st.cache_resource(show_spinner=False)
def digits() -> cnn.Digits:
    return cnn.load_digits()


@st.cache_resource(show_spinner=False)
def analysis() -> Analysis:
    return analyze(cnn.network())


@st.cache_resource(show_spinner=False)
def held_out_predictions() -> np.ndarray:
    """The prediction for every held-out digit, by the batched forward pass (milliseconds; the
    engine's, one digit at a time, takes seconds on a busy server; a test checks they agree)."""
    w, d = weights(), digits()
    probs, _ = cnn.forward_batch(w.params(), d.images[w.test_idx])
    return probs.argmax(axis=1)


def examples_of(digit: int) -> np.ndarray:
    """Indices (into the data) of the held-out examples of ``digit``."""
    w, d = weights(), digits()
    return w.test_idx[d.labels[w.test_idx] == digit]


def mistakes() -> np.ndarray:
    """Indices of the held-out digits the network gets wrong."""
    w, d = weights(), digits()
    return w.test_idx[held_out_predictions() != d.labels[w.test_idx]]


SEED_COLUMNS = [
    "Layer", "Size of input image n", "Number of input channels", "f", "p", "s",
    "Size of output image (n+2p-f)/s+1", "Number of output channels or filters",
    "Number of output neurons", "Size of filter + 1", "Number of parameters",
]


def seed_table(a: Analysis) -> pd.DataFrame:
    """The network in the lecture notes' table format (their "MNIST: Summary of CNN Layers"):
    conv and pooling rows with n, channels, f, p, s and the output size; FC rows with the size of
    their input; then the totals of neurons and parameters."""
    rows = []
    for r in a.rows[1:]:
        layer, cin = r.layer, r.input
        spatial = layer.kind in ("conv", "maxpool", "avgpool")
        if spatial:
            filter_plus_1 = layer.f * layer.fw * cin.c + 1 if layer.kind == "conv" else ""
            rows.append([r.name, str(cin.h), str(cin.c), str(layer.f), str(layer.p), str(layer.s),
                         str(r.output.h), str(r.output.c), f"{r.neurons:,}", str(filter_plus_1),
                         f"{r.params.value:,}" if r.params.value else ""])
        else:
            n_in = cin.size
            rows.append([r.name, f"{n_in:,} (flattened {cin})" if not cin.flat else f"{n_in:,}",
                         "", "", "", "", "", "", f"{r.neurons:,}", f"{n_in + 1:,}",
                         f"{r.params.value:,}"])
    rows.append(["Total", "", "", "", "", "", "", "", f"{a.neurons:,}", "", f"{a.params:,}"])
    return pd.DataFrame(rows, columns=SEED_COLUMNS)


def clean_pixels(table) -> tuple[np.ndarray, bool]:
    """Edited pixels as an 8x8 float array in 0..16; True if anything had to be fixed (blank,
    not a number, out of range)."""
    a = pd.DataFrame(table).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    fixed = bool(np.isnan(a).any() or (a < 0).any() or (a > 16).any())
    return np.clip(np.nan_to_num(a, nan=0.0), 0, 16), fixed
