"""The "Inside a CNN" page driven by Streamlit's AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kernels import cnn

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "ui/pages/inside_cnn.py"


@pytest.fixture(scope="module")
def page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(PAGE)
    return at.run()


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_network_table_in_the_seeds_format(page):
    _ok(page)
    assert page.title[0].value == "Inside a CNN"
    table = page.table[0].value
    assert list(table["Layer"]) == ["CONV1", "POOL1", "CONV2", "POOL2", "FC + softmax", "Total"]
    assert list(table["Number of parameters"]) == ["80", "", "1,168", "", "650", "1,898"]
    assert list(table["Size of filter + 1"])[:3] == ["10", "", "73"]
    assert list(table["Size of output image (n+2p-f)/s+1"])[:4] == ["8", "4", "4", "2"]
    assert list(table["Number of output neurons"]) == ["512", "128", "256", "64", "10", "970"]
    metrics = {m.label: m.value for m in page.metric}
    weights = cnn.load()
    assert metrics["Held-out accuracy"] == f"{weights.accuracy:.2%}"
    assert metrics["Parameters"] == "1,898"


def test_shows_every_layer_of_a_held_out_three(page):
    _ok(page)
    assert page.session_state["inside_digit"] == 3
    charts = page.get("plotly_chart")
    # digit, probabilities, filters, conv1, pool1, conv2, pool2
    assert len(charts) == 7
    assert "the writer wrote **3**" in page.markdown[-1].value
    headers = [h.value for h in page.subheader]
    assert "Layer 1: CONV1, 8 learned 3 x 3 filters" in headers


def test_picking_digits_and_examples(page):
    page.pills(key="inside_digit").set_value(7).run()
    _ok(page)
    assert "wrote **7**" in page.markdown[-1].value
    page.button(key="inside_next").click().run()
    _ok(page)
    assert page.session_state["inside.pos"] == 1


def test_show_a_mistake(page):
    page.button(key="inside_wrong").click().run()
    _ok(page)
    assert ": wrong." in page.markdown[-1].value


def test_edited_pixels_are_cleaned_and_run_through_the_network(page):
    editor_key = f"inside.pixels{page.session_state['inside.edit']}"
    page.session_state[editor_key] = {
        "edited_rows": {0: {"0": 99, "1": None}, 3: {"4": 16}},
        "added_rows": [], "deleted_rows": [],
    }
    page.run()
    assert not page.exception
    assert any("out-of-range" in w.value for w in page.warning)
    assert "(edited)" not in page.markdown[-1].value  # the verdict is not given for a drawing
