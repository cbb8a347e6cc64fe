"""Inside a CNN: LeNet-5 trained on MNIST. Draw a digit (mouse, finger or pen) or pick a
held-out test digit, see what the network sees and its ten probabilities, every layer's maps,
and click any cell to trace it back: its receptive field on every earlier map and the
multiply-adds that made it.

Everything is computed by the engine's ``conv2d`` / ``pool2d`` (:func:`kernels.lenet.forward`);
the page's state is in the link (:func:`ui.learn_cnn.url_state`).
"""

import logging

import numpy as np
import streamlit as st

from kernels import drawing, lenet
from ui import canvas as cv
from ui import display, netview
from ui import learn_cnn as data
from ui.classroom import header, mode, style
from ui.html_view import html_view
from ui.plotly_view import plotly_view
from ui.state import UrlState
from viz import lenet as figs

log = logging.getLogger(__name__)
ss = st.session_state

CSS = f"""
[data-testid="stMainBlockContainer"] {{ padding-top: 3.2rem; }}
h1 {{ padding: 0 0 0.4rem 0 !important; font-size: 2rem !important; }}
.st-key-inside-top p {{ font-size: 1.05rem; }}
.st-key-inside-picker button p {{ font-size: 1.25rem; font-weight: 700; }}
.st-key-inside-trace p, .st-key-inside-trace li {{ font-size: 1.1rem; }}
.st-key-inside-canvas {{ --conv-canvas-side: min(440px, calc(100vh - 380px),
                                                  calc(100vw - 2.5rem)); }}
.conv-pred {{ --conv-pred-height: min(7rem, calc(100vh - 560px)); }}
.conv-testdigit {{ display: flex; gap: 0.8rem; align-items: center; font-size: 1.1rem; }}
.conv-testdigit img {{ image-rendering: pixelated; border: 1px solid #888; width: 5.6rem; }}
{figs.PREDICTION_CSS}
{figs.STRIP_CSS}
{UrlState.link_css("inside-link")}
"""
# On a projector: the canvas a little smaller, so that the shared larger type still fits 720 px.
CLASSROOM_CSS = """
.st-key-inside-canvas { --conv-canvas-side: min(400px, calc(100vh - 400px),
                                               calc(100vw - 2.5rem)); }
"""

URL = data.url_state()
notices = URL.restore()
data.after_restore(URL)
classroom = mode(notices)


# ---- callbacks ------------------------------------------------------------------------------

def _to_test() -> None:
    ss["inside.source"] = "test"


def _pick_digit() -> None:
    if ss.get("inside.digit") is None:  # a pill clicked off: keep the digit
        ss["inside.digit"] = ss.get("inside.last_digit", data.DEFAULT_DIGIT)
    ss["inside.ex"] = 0
    _to_test()


def _next() -> None:
    ss["inside.ex"] = int(ss.get("inside.ex", 0)) + 1
    _to_test()


def _mistake() -> None:
    wrong = data.mistakes()
    k = int(ss.get("inside.mistake", 0))
    index = int(wrong[k % len(wrong)])
    ss["inside.mistake"] = k + 1
    label = int(data.digits().labels[index])
    ss["inside.digit"] = label
    ss["inside.ex"] = int(np.flatnonzero(data.examples_of(label) == index)[0])
    _to_test()


def _on_draw() -> None:
    value = cv.value(data.CANVAS_KEY)
    if value is None:
        return
    try:
        pre = data.read_canvas(value)
    except ValueError as exc:
        ss["inside.draw_error"] = str(exc)
        return
    except Exception as exc:  # no traceback reaches the page
        log.exception("a drawing could not be read")
        ss["inside.draw_error"] = f"unexpected error ({type(exc).__name__})"
        return
    ss.pop("inside.draw_error", None)
    ss["inside.strokes"] = value  # drawn again if the canvas is built anew
    ss["inside.drawn"] = pre.image
    ss["inside.pre"] = pre
    ss["inside.source"] = "drawn"


def _use_drawing() -> None:
    ss["inside.source"] = "drawn"


def _on_cell() -> None:
    cell = netview.clicked(data.VIEW_KEY)
    if not isinstance(cell, dict):
        return
    try:
        sel = (str(cell["stage"]), int(cell["c"]), int(cell["i"]), int(cell["j"]))
        lenet.receptive_regions(*sel)  # inside its stage
    except (KeyError, TypeError, ValueError):
        return
    ss["inside.sel"] = sel
    ss["inside.cell_text"] = data.format_cell(sel)


def _on_cell_text() -> None:
    text = (ss.get("inside.cell_text") or "").strip()
    if not text:
        ss["inside.sel"] = None
        ss.pop("inside.cell_error", None)
        return
    try:
        ss["inside.sel"] = data.parse_cell(text)
        ss.pop("inside.cell_error", None)
    except ValueError as exc:
        ss["inside.cell_error"] = str(exc)


def _clear_cell() -> None:
    ss["inside.sel"] = None
    ss["inside.cell_text"] = ""


# ---- the page -------------------------------------------------------------------------------

def current() -> tuple[data.Shown, str, int | None]:
    """The digit shown, a sentence saying which it is, and its test index (None: drawn)."""
    if ss.get("inside.source") == "drawn" and ss.get("inside.drawn") is not None:
        shown = data.drawn_digit(ss["inside.drawn"])
        return shown, "your drawing", None
    digit = ss.get("inside.digit")
    if digit is None:
        digit = ss.get("inside.last_digit", data.DEFAULT_DIGIT)
    ss["inside.last_digit"] = digit
    examples = data.examples_of(int(digit))
    pos = int(ss.get("inside.ex", 0)) % len(examples)
    ss["inside.ex"] = pos
    index = int(examples[pos])
    what = f"held-out example {pos + 1} of {len(examples)} of the digit {digit}"
    return data.test_digit(index), what, index


def top(shown: data.Shown, what: str, index: int | None) -> None:
    """The canvas beside the prediction, the preprocessing (or the test digit) and the test
    digits' controls: together on one screen."""
    drawn = index is None
    left, right = st.columns([1, 1.45], gap="medium")
    with left, st.container(key="inside-canvas"):
        cv.canvas(key=data.CANVAS_KEY, on_change=_on_draw, active=drawn,
                  clear=int(ss.get("inside.clear", 0)), restore=ss.get("inside.strokes"),
                  hint="Showing a test digit: draw here to try yours")
        if ss.get("inside.draw_error"):
            st.warning(f"The drawing could not be read: {ss['inside.draw_error']}")
    with right:
        blank = drawn and not shown.image.any()
        if blank:
            pred = ('<div class="conv-pred"><div class="conv-pred-line" role="status">'
                    'Draw a digit</div><div class="conv-pred-note">The canvas is empty: the '
                    'network sees a blank page.</div></div>')
        else:
            pred = figs.prediction_html(shown.trace.probs, label=shown.label,
                                        note=f"LeNet-5 reads {what}.")
        pre = ss.get("inside.pre") if drawn else None
        if pre is not None and not blank:
            below = figs.strip_html(drawn=pre.drawn, box=pre.box, canvas=drawing.CANVAS,
                                    fitted=pre.fitted, com=pre.com, image=pre.image,
                                    pen_px=pre.pen_px, width_px=pre.width_px)
        elif drawn:
            below = _digit_card(shown.image, "The drawing from the link, as the network's "
                                             "28 x 28 input (draw to replace it).") if not blank else ""
        else:
            below = _digit_card(shown.image, f"The test digit: the writer wrote "
                                             f"{shown.label}. Never used in training.")
        html_view(pred + below, key="inside-pred")
        with st.container(key="inside-picker", horizontal=True, vertical_alignment="bottom"):
            st.pills("Test digits", list(range(10)), key="inside.digit", on_change=_pick_digit)
            st.button("Next example", icon=":material/skip_next:", on_click=_next,
                      key="inside_next")
            wrong = data.mistakes()
            st.button(f"Show a mistake ({len(wrong)} of {len(data.weights().test_idx):,})",
                      key="inside_wrong", on_click=_mistake, disabled=not len(wrong))
            if not drawn and ss.get("inside.drawn") is not None:
                st.button("Back to my drawing", key="inside_mine", on_click=_use_drawing)


def _digit_card(image: np.ndarray, caption: str) -> str:
    from viz.maps import data_uri

    rgb = np.repeat((255 - np.asarray(image, np.uint8))[..., None], 3, axis=2)
    return (f'<div class="conv-testdigit"><img src="{data_uri(rgb, fmt="png")}" alt="the '
            f'digit"><span>{data.escape(caption)}</span></div>')


def trace_panel(shown: data.Shown, index: int | None) -> None:
    """The selected cell: its receptive field in words and its multiply-adds."""
    sel = ss.get("inside.sel")
    want = "" if sel is None else data.format_cell(sel)
    if not ss.get("inside.cell_error") and ss.get("inside.cell_text") != want:
        ss["inside.cell_text"] = want  # a click or a link chose the cell
    with st.container(key="inside-trace"):
        row = st.container(horizontal=True, vertical_alignment="bottom")
        row.text_input("Cell (layer:map:row:column, as in the link)", key="inside.cell_text",
                       on_change=_on_cell_text, placeholder="conv2:5:3:7",
                       help="Or click a cell of any map above. Layers: "
                            + ", ".join(lenet.STAGE_KEYS) + "; FC layers: fc3:17.")
        if sel is not None:
            row.button("Clear the selection", key="inside_clear_cell", on_click=_clear_cell)
        if ss.get("inside.cell_error"):
            st.warning(ss["inside.cell_error"])
        if sel is None:
            st.info("Click any cell of any map above to see where it comes from: its "
                    "receptive field is outlined on every earlier map, and its multiply-adds "
                    "are written out here.")
            return
        style = display.style()
        ex = (data.explain_test(index, sel, style) if index is not None
              else data.explain(shown, sel, style))
        st.subheader(ex.heading)
        st.markdown("**Where it comes from** (outlined in vermillion on the maps above):\n\n"
                    + "\n".join(f"- {line}" for line in data.receptive_lines(sel)))
        st.markdown("**How it is computed**: " + " ".join(ex.lines))
        if ex.figure is not None:
            plotly_view(ex.figure, key="inside-trace-figure",
                        config={"displayModeBar": False, "staticPlot": True})
        if ex.summary:
            st.code(ex.summary, language=None)
        if ex.equation:
            with st.expander("Every multiplication"):
                st.code(ex.equation, language=None, wrap_lines=True)


@st.fragment
def explorer() -> None:
    """Everything a stroke or a click changes: one fragment, rerun alone (so it catches its own
    errors: a fragment's rerun does not pass through :func:`body`)."""
    try:
        _explorer()
    except Exception as exc:  # the page must survive anything
        log.exception("inside-a-CNN explorer failed")
        st.error(f"Something went wrong on this page: {exc}")


def _explorer() -> None:
    for notice in notices:
        st.warning(notice)
    notices.clear()
    shown, what, index = current()
    with st.container(key="inside-top"):
        top(shown, what, index)
    st.subheader("Every layer: click any cell to trace it back")
    sel = ss.get("inside.sel")
    payload = figs.maps_payload(
        shown.layers_json,
        None if sel is None else {"stage": sel[0], "c": sel[1], "i": sel[2], "j": sel[3]},
        data.regions_json(sel))
    netview.netview(payload, key=data.VIEW_KEY, on_cell=_on_cell)
    st.caption("Colours: blue negative, white 0, red positive; each layer's scale runs to its "
               "largest magnitude, its real minimum and maximum marked on the bar. The input "
               "is ink on paper.")
    trace_panel(shown, index)
    data.before_publish()
    URL.show("the same digit (or drawing) and traced cell", "inside-link", css=False,
             lazy=True)


def network_section() -> None:
    w = data.weights()
    with st.expander("The network: LeNet-5 as in the lecture notes, with this network's "
                     "numbers", expanded=False):
        st.table(data.notes_table(), hide_index=True)
        st.markdown(
            f"Trained here in numpy (`python -m kernels.train_lenet`, seeded) on "
            f"{5000 - len(w.test_idx):,} MNIST digits; **{w.accuracy:.2%}** of the "
            f"{len(w.test_idx):,} held-out digits (100 of each, never used in training) are "
            f"read right, by the same forward pass as this page. ReLU and max pooling, where "
            f"LeCun's LeNet-5 (1998) squashed with tanh and averaged.")
        st.markdown("Where this table differs from the notes':\n\n"
                    + "\n".join(f"- {c}" for c in data.NOTES_CORRECTIONS))


def body() -> None:
    style(CSS, CLASSROOM_CSS, on=classroom)
    header("Inside a CNN: LeNet-5 reads your digit")
    explorer()
    network_section()


try:
    body()
except Exception as exc:  # the page must survive anything: no traceback reaches it
    log.exception("inside-a-CNN page failed")
    st.error(f"Something went wrong on this page: {exc}")
