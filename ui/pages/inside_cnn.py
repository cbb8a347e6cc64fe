"""Inside a CNN: a small network trained on handwritten digits, layer by layer.

Pick a held-out digit (or edit its pixels) and follow it through the network: the first layer's
learned filters, each layer's feature maps, the pooled maps and the class probabilities. Every
map is computed by the engine's ``conv2d`` / ``pool2d`` (:func:`kernels.cnn.forward`).
"""

import logging

import numpy as np
import pandas as pd
import streamlit as st

from kernels import cnn
from ui import learn_cnn as data
from viz import training as figs

log = logging.getLogger(__name__)
ss = st.session_state

st.html("""
<style>
[data-testid="stMetricValue"] { font-size: 2.4rem; font-weight: 700; }
[data-testid="stMetricLabel"] p { font-size: 1.1rem; }
[data-testid="stTable"] td, [data-testid="stTable"] th { font-size: 1.05rem; }
.st-key-inside_digit button p { font-size: 1.4rem; font-weight: 700; }
</style>
""")
st.title("Inside a CNN")
st.markdown(
    "A small convolutional network, trained here in numpy on real handwritten digits (8 x 8 "
    "pixels, values 0..16): **its filters were learned, not designed**. Pick a digit it has never "
    "seen and watch each layer transform it."
)
CONFIG = {"displayModeBar": False}


def _reset(pos: int = 0) -> None:
    """Show example ``pos`` of the current digit, with a fresh pixel editor."""
    ss["inside.pos"] = pos
    ss["inside.edit"] = ss.get("inside.edit", 0) + 1


def _next() -> None:
    _reset(ss.get("inside.pos", 0) + 1)


def _mistake() -> None:
    wrong = data.mistakes()
    index = int(wrong[ss.get("inside.mistake", 0) % len(wrong)])
    ss["inside.mistake"] = ss.get("inside.mistake", 0) + 1
    label = int(data.digits().labels[index])
    ss["inside_digit"] = label
    _reset(int(np.flatnonzero(data.examples_of(label) == index)[0]))


def body() -> None:
    weights, digits, analysis = data.weights(), data.digits(), data.analysis()

    st.subheader("The network")
    m = st.columns(4)
    m[0].metric("Held-out accuracy", f"{weights.accuracy:.2%}",
                help="Digits never used in training, through the engine's forward pass")
    m[1].metric("Held-out digits", f"{len(weights.test_idx):,}")
    m[2].metric("Parameters", f"{analysis.params:,}")
    m[3].metric("Neurons", f"{analysis.neurons:,}")
    st.table(data.seed_table(analysis), hide_index=True)
    st.caption(
        "In the lecture notes' format (their MNIST table). Number of parameters = number of output "
        "channels x (size of filter + 1), as there is a bias term. Conv layers pad by 1 so the "
        "8 x 8 digit keeps its size; 'FC + softmax' is a fully connected layer of 10 units "
        "followed by the softmax function. Trained with Adam on "
        f"{len(digits) - len(weights.test_idx):,} digits (`python -m kernels.train_digits`)."
    )

    st.subheader("Pick a digit it has never seen")
    ss.setdefault("inside_digit", 3)
    ss.setdefault("inside.pos", 0)
    ss.setdefault("inside.edit", 0)
    row = st.container(horizontal=True, vertical_alignment="bottom")
    row.pills("Digit", list(range(10)), key="inside_digit", on_change=_reset)
    row.button("Next example", icon=":material/skip_next:", on_click=_next, key="inside_next")
    wrong = data.mistakes()
    if len(wrong):
        row.button(f"Show a mistake ({len(wrong)} of {len(weights.test_idx)})", key="inside_wrong",
                   on_click=_mistake)
    digit = ss["inside_digit"]
    if digit is None:  # the pill was clicked off: keep the last digit
        digit = ss.get("inside.digit", 3)
    ss["inside.digit"] = digit
    examples = data.examples_of(digit)
    pos = ss["inside.pos"] % len(examples)
    index = int(examples[pos])
    label = int(digits.labels[index])
    image = digits.images[index].astype(np.float64)

    with st.expander("Draw: edit the pixels (0 = paper, 16 = ink)"):
        edited = st.data_editor(pd.DataFrame(image.astype(int)), hide_index=True,
                                key=f"inside.pixels{ss['inside.edit']}")
        image, fixed = data.clean_pixels(edited)
        if fixed:
            st.warning("Blank, non-numeric or out-of-range cells were set to 0..16.")
    drawn = not np.array_equal(image, digits.images[index])
    trace = cnn.forward(weights, image)

    c1, c2 = st.columns([2, 3])
    title = (f"Held-out example {pos + 1} of {len(examples)} of the digit {label}"
             + (" (edited)" if drawn else ""))
    c1.plotly_chart(figs.digit_figure(image, title=title), theme=None, config=CONFIG)
    c2.plotly_chart(figs.probabilities_figure(trace.probs, label=None if drawn else label),
                    theme=None, config=CONFIG)

    st.subheader("Layer 1: CONV1, 8 learned 3 x 3 filters")
    st.markdown("The filters (each is in the kernel picker of every page as *digits CNN, conv1 "
                "filter N*):")
    st.plotly_chart(figs.maps_figure(weights.w1[:, 0], signed=True,
                                     titles=[f"filter {i}" for i in range(1, 9)]),
                    theme=None, config=CONFIG)
    st.markdown("Their feature maps, `conv2d(digit / 16, filters, bias, padding=1)`: 8 x 8 x 8, "
                "signed (blue negative, red positive)")
    st.plotly_chart(figs.maps_figure(trace.conv1, signed=True), theme=None, config=CONFIG)
    st.markdown("After ReLU (negatives set to 0) and POOL1 (2 x 2 max): 4 x 4 x 8")
    st.plotly_chart(figs.maps_figure(trace.pool1, signed=False), theme=None, config=CONFIG)

    st.subheader("Layer 2: CONV2, 16 filters of 3 x 3 x 8")
    st.markdown("Feature maps, each summing 8 input channels: 4 x 4 x 16")
    st.plotly_chart(figs.maps_figure(trace.conv2, signed=True), theme=None, config=CONFIG)
    st.markdown("After ReLU and POOL2 (2 x 2 max): 2 x 2 x 16 = 64 values")
    st.plotly_chart(figs.maps_figure(trace.pool2, signed=False), theme=None, config=CONFIG)

    st.subheader("FC + softmax: 64 values -> 10 scores -> probabilities")
    scores = pd.DataFrame({"digit": list(range(10)),
                           "score (logit)": [f"{v:.2f}" for v in trace.logits],
                           "probability": [f"{v:.2%}" for v in trace.probs]})
    st.table(scores.set_index("digit").T)
    verdict = "right" if trace.prediction == label else "wrong"
    if not drawn:
        st.markdown(f"The network says **{trace.prediction}**; the writer wrote **{label}**: "
                    f"{verdict}.")


try:
    body()
except Exception as exc:  # the page must survive anything: no traceback reaches it
    log.exception("inside-a-CNN page failed")
    st.error(f"Something went wrong on this page: {exc}")
