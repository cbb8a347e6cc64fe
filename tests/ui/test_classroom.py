"""Classroom mode on every page (``ui/classroom.py``): from the link, the switch beside the
title, kept in the address bar and across a page switch; and the link's step, network and
flag restored by AppTest (no browser)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGES = {
    "filter-lab": "ui/pages/filter_lab.py",
    "sliding-window": "ui/pages/sliding_window.py",
    "family": "ui/pages/family.py",
    "learn-kernel": "ui/pages/learn_kernel.py",
    "inside-cnn": "ui/pages/inside_cnn.py",
    "arithmetic": "ui/pages/arithmetic.py",
}
CLASSROOM_PAGES = list(PAGES)


def _value(v):
    return v[-1] if isinstance(v, list) else v


def _open(page: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()  # pages with a url_path are found only after a first run
    at.switch_page(PAGES[page])
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("page", CLASSROOM_PAGES)
def test_the_link_turns_classroom_mode_on_and_keeps_saying_so(page):
    at = _open(page, classroom="1")
    _ok(at)
    assert at.session_state["classroom"] is True
    assert at.toggle(key="classroom.toggle").value is True
    assert _value(at.query_params["classroom"]) == "1"
    # the switch turns it off, and the link follows
    at.toggle(key="classroom.toggle").set_value(False).run()
    _ok(at)
    assert at.session_state["classroom"] is False
    assert "classroom" not in at.query_params


@pytest.mark.parametrize("page", CLASSROOM_PAGES)
def test_off_by_default_and_a_bad_flag_is_off(page):
    at = _open(page)
    _ok(at)
    assert not at.session_state["classroom"] if "classroom" in at.session_state else True
    assert "classroom" not in at.query_params
    assert at.toggle(key="classroom.toggle").value is False
    bad = _open(page, classroom="maybe")
    _ok(bad)
    assert bad.toggle(key="classroom.toggle").value is False
    assert "classroom" not in bad.query_params


def test_the_mode_survives_a_page_switch_and_the_new_page_s_link_says_so():
    at = _open("sliding-window", classroom="1")
    _ok(at)
    for page in ("learn-kernel", "arithmetic", "inside-cnn", "filter-lab"):
        for k in list(at.query_params):  # Streamlit clears the query string on a page switch
            del at.query_params[k]
        at.switch_page(PAGES[page])
        at.run()
        _ok(at)
        assert at.session_state["classroom"] is True, page
        assert _value(at.query_params.get("classroom")) == "1", page
        assert at.toggle(key="classroom.toggle").value is True, page


def test_classroom_mode_on_the_sliding_window_enlarges_the_figure():
    small = _open("sliding-window", ex="blur_5x5")
    big = _open("sliding-window", ex="blur_5x5", classroom="1")
    import json

    fs = [json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["annotations"][0]["font"]
          ["size"] for at in (small, big)]
    assert fs[1] > fs[0]


def test_learn_a_kernel_in_classroom_mode_drops_its_introduction():
    normal, classroom = _open("learn-kernel"), _open("learn-kernel", classroom="1")
    intro = "learns** its filters"
    assert any(intro in m.value for m in normal.markdown)
    assert not any(intro in m.value for m in classroom.markdown)
