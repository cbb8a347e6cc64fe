"""The filter lab with its kernel and layer sections folded (as a page opens): their controls
are not built, the figures read the kernel and the layer from the session state, and what
the page shows is exactly what it shows with the sections open."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = "ui/pages/filter_lab.py"

LINKS = [
    {"img": "photo:astronaut", "res": "256", "colour": "channels", "k": "gaussian", "ks": "7",
     "sigma": "1.5", "pad": "valid", "pm": "reflect", "s": "2", "b": "5", "act": "relu",
     "pool": "avg", "pk": "3", "ps": "2", "mapping": "clip", "show": "conv"},
    {"kt": "[1,2;3,4]", "k": "box", "ks": "2"},
    {"colour": "rgb", "bank": "sobel_y", "kg": "[0,0,0;0,0,0;0,0,0]", "res": "256"},
    {"bank": "sobel_y,laplacian_4", "map": "mag", "res": "512", "act": "leaky_relu",
     "slope": "0.2"},
    {"k": "gaussian", "ks": "5", "bank": "sobel_y"},  # a bank kernel of another size
]


def _open(query: dict, *, open_: bool) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.session_state["lab.kernel_open"] = open_
    at.session_state["lab.layer_open"] = open_
    at.run()  # "/" switches to the filter lab with the link's query (app.py)
    return ok(at.switch_page(PAGE))


def _run(at: AppTest, *, open_: bool) -> AppTest:
    """Run with the sections open or folded. AppTest does not hold an expander's state as the
    browser does: it is set in the session state before every run, and a folded section set
    open there takes a second run to open (a browser sends the click as the widget's value)."""
    for _ in range(2):
        at.session_state["lab.kernel_open"] = open_
        at.session_state["lab.layer_open"] = open_
        ok(at.run())
    return at


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _views(at: AppTest) -> dict[str, bytes]:
    """What the figures send: the figure, the arithmetic, the stage strips."""
    return {e.proto.id.rsplit("-", 1)[-1]: e.proto.bytes for e in at.get("bidi_component")}


def _has(at: AppTest, key: str) -> bool:
    return any(getattr(e, "key", None) == key for e in at.main)


def _published(at: AppTest) -> dict:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


@pytest.mark.parametrize("link", LINKS, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_folded_sections_show_what_open_ones_show(link):
    folded, unfolded = _open(link, open_=False), _open(link, open_=True)
    assert not _has(folded, "lab.k.preset") and not _has(folded, "lab.stride")
    assert _has(unfolded, "lab.k.preset") and _has(unfolded, "lab.stride")
    assert _views(folded) == _views(unfolded)
    assert _published(folded) == _published(unfolded)
    # the same captions and messages, but for the kernel's description, inside its section
    assert {c.value for c in folded.caption} <= {c.value for c in unfolded.caption}
    assert [i.value for i in folded.info] == [i.value for i in unfolded.info]
    assert [w.value for w in folded.warning] == [w.value for w in unfolded.warning]


def test_the_folded_page_sends_fewer_elements():
    folded, unfolded = _open({}, open_=False), _open({}, open_=True)
    count = len(list(folded.main)) + len(list(folded.sidebar))
    count_open = len(list(unfolded.main)) + len(list(unfolded.sidebar))
    assert count <= count_open - 15


def test_kernel_and_layer_settings_survive_folding():
    at = _open({}, open_=True)
    at.selectbox(key="lab.k.preset").set_value("laplacian_8").run()
    at.run()
    at.number_input(key="lab.stride").set_value(3).run()
    at.run()
    at.text_area(key="lab.k.text").set_value("1 2 1\n0 0 0\n-1 -2 -1").run()
    at.run()
    before = _views(at)
    _run(at, open_=False)
    _run(at, open_=False)  # a second run: widgets not drawn for a whole run keep their values
    assert not _has(at, "lab.k.preset")
    assert _views(at)["lab.figure"] == before["lab.figure"]
    assert _published(at)["s"] == "3" and _published(at)["kt"] == "1,2,1;0,0,0;-1,-2,-1"
    _run(at, open_=True)
    assert at.selectbox(key="lab.k.preset").value == "laplacian_8"
    assert at.number_input(key="lab.stride").value == 3
    assert at.text_area(key="lab.k.text").value.split() == ["1", "2", "1", "0", "0", "0", "-1",
                                                            "-2", "-1"]


def test_a_link_changes_folded_settings():
    """A new link while the sections are folded (a student following the teacher's link)."""
    at = _open({"k": "sobel_y", "s": "2"}, open_=False)
    at.query_params.clear()
    at.query_params["k"] = "laplacian_4"
    at.query_params["b"] = "7"
    _run(at, open_=False)
    assert _published(at) == {"k": "laplacian_4", "b": "7"}
    _run(at, open_=True)
    assert at.selectbox(key="lab.k.preset").value == "laplacian_4"
    assert at.number_input(key="lab.stride").value == 1
    assert at.number_input(key="lab.bias").value == 7.0
