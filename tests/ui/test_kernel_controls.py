"""ui.kernel_controls: the kernel picker (grid, text, actions), the filter bank and RGB slices;
the kernel applied is always the kernel shown."""

import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from kernels import library
from kernels.text import KernelTextError, parse_kernel
from ui import kernel_controls

# --------------------------------------------------------------------------------------------
# Plain helpers
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("w", [
    library.get("sobel_x").weights,
    library.get("gaussian_3x3").weights,
    library.get("gaussian", size=7).weights,
    library.get("unsharp_5x5").weights,
    np.array([[1 / 3, -0.0, 1e-5]]),
    np.full((15, 15), 1 / 225),
])
def test_compact_kernel_round_trips_exactly(w):
    text = kernel_controls.compact_kernel(w)
    assert "\n" not in text and " " not in text
    back = parse_kernel(text)
    assert back.shape == w.shape and np.array_equal(back, w)
    assert np.array_equal(parse_kernel(kernel_controls.parse_compact(text)), w)


def test_huge_weights_are_refused_with_their_position():
    with pytest.raises(KernelTextError, match="row 2, column 1: 1e\\+07 is too large"):
        kernel_controls.check_weights(np.array([[0.0, 1.0], [1e7, 0.0]]))


def test_bank_candidates_share_the_kernel_size():
    three = kernel_controls.bank_candidates((3, 3))
    assert {"sobel_y", "scharr_y", "laplacian_4", "box", "identity"} <= set(three)
    assert "roberts_se" not in three  # 2x2
    assert three["box"].shape == three["gaussian"].shape == (3, 3)  # built at the bank's size
    assert set(kernel_controls.bank_candidates((2, 2))) >= {"roberts_se", "roberts_sw", "box"}
    five = kernel_controls.bank_candidates((5, 5))
    assert five["gaussian"].shape == (5, 5) and "sobel_x" not in five


# --------------------------------------------------------------------------------------------
# The picker in a small app
# --------------------------------------------------------------------------------------------

def _picker_app():
    import numpy as np
    import streamlit as st

    from ui.kernel_controls import kernel_picker

    k = kernel_picker("t", default="sobel_x")
    st.text(f"name={k.name}|edited={k.edited}")
    st.text(repr(np.asarray(k.weights).tolist()))  # exact: repr of Python floats


def _open(grid: bool = False) -> AppTest:
    at = AppTest.from_function(_picker_app, default_timeout=30)
    return (_with_grid(at) if grid else at).run()


def _with_grid(at) -> AppTest:
    """Open the "Edit the numbers in a grid" expander for the next run (AppTest does not report
    an expander's state, so it is closed again after each run)."""
    at.session_state["t.grid_open"] = True
    return at


def _weights(at) -> np.ndarray:
    return np.array(eval(at.text[1].value))


def _grid_key(at) -> str:
    return at.data_editor[0].key


def test_the_grid_and_the_text_show_the_preset():
    at = _open()
    assert not at.exception
    assert at.text[0].value == "name=Sobel x (d/dx)|edited=False"
    assert np.array_equal(_weights(at), library.get("sobel_x").weights)
    assert np.array_equal(parse_kernel(at.text_area(key="t.text").value), _weights(at))


def test_the_kernel_is_a_table_of_its_exact_numbers_and_the_grid_opens_on_demand():
    at = _open()
    assert not at.exception and not at.data_editor  # the grid is built only when opened
    table = next(h.proto.body for h in at.get("html") if "kernel-table" in h.proto.body)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table)
    assert cells == ["-1", "0", "1", "-2", "0", "2", "-1", "0", "1"]
    at.text_area(key="t.text").set_value("1/16 * [1 2 1; 2 4 2; 1 2 1]").run()
    table = next(h.proto.body for h in at.get("html") if "kernel-table" in h.proto.body)
    assert "1/16 ×" in table
    assert re.findall(r"<td[^>]*>([^<]*)</td>", table) == ["1", "2", "1", "2", "4", "2",
                                                            "1", "2", "1"]
    _with_grid(at).run()
    assert not at.exception and len(at.data_editor) == 1
    assert not [h for h in at.get("html") if "kernel-table" in h.proto.body]
    assert at.data_editor[0].value.to_numpy().tolist() == (
        library.get("gaussian_3x3").weights.tolist())


def test_editing_a_grid_cell_changes_the_kernel_applied_and_its_text():
    at = _open(grid=True)
    at.session_state[_grid_key(at)] = {"edited_rows": {1: {"2": 7.5}}, "added_rows": [],
                                       "deleted_rows": []}
    _with_grid(at).run()
    assert not at.exception
    w = _weights(at)
    assert w[1, 1] == 7.5 and w[1, 0] == -2
    assert np.array_equal(parse_kernel(at.text_area(key="t.text").value), w)
    assert at.text[0].value.startswith("name=Custom (edited from Sobel x")
    _with_grid(at).run()  # the edit is not applied twice or lost
    assert np.array_equal(_weights(at), w)


def test_an_empty_grid_cell_is_an_error_naming_it_and_the_kernel_stays():
    at = _open(grid=True)
    at.session_state[_grid_key(at)] = {"edited_rows": {2: {"3": None}}, "added_rows": [],
                                       "deleted_rows": []}
    _with_grid(at).run()
    assert not at.exception
    assert any("row 3, column 3 is empty" in e.value for e in at.error)
    assert np.array_equal(_weights(at), library.get("sobel_x").weights)


def test_typed_text_with_an_error_points_at_row_and_column():
    at = _open()
    at.text_area(key="t.text").set_value("1 2 3\n4 abc 6").run()
    assert not at.exception
    assert any("row 2, column 2" in e.value for e in at.error)
    assert np.array_equal(_weights(at), library.get("sobel_x").weights)  # the last good one
    at.text_area(key="t.text").set_value("1/16 * [1 2 1; 2 4 2; 1 2 1]").run()
    assert np.array_equal(_weights(at), library.get("gaussian_3x3").weights)
    assert not at.error
    # the grid follows the text
    _with_grid(at).run()
    assert at.data_editor[0].value.to_numpy().tolist() == _weights(at).tolist()


def _press(at, action):
    at.button(key=f"t.do.{action}").click().run()
    assert not at.exception
    return _weights(at)


def test_actions_rewrite_the_kernel_shown():
    at = _open()
    sobel = library.get("sobel_x").weights
    assert np.array_equal(_press(at, "flip"), sobel[::-1, ::-1])
    assert np.array_equal(_press(at, "transpose"), sobel[::-1, ::-1].T)
    assert np.array_equal(_press(at, "reset"), sobel)
    w = _press(at, "normalise")  # Sobel sums to 0: unchanged, and said so
    assert np.array_equal(w, sobel)
    assert any("sum to 0" in c.value for c in at.caption)
    r1 = _press(at, "random")
    assert r1.shape == (3, 3) and np.all(np.abs(r1) <= 4) and np.all(r1 == np.rint(r1))
    assert "name=Random (seed 1)" in at.text[0].value
    expected = np.random.default_rng(1).integers(-4, 5, size=(3, 3))
    assert np.array_equal(r1, expected)
    r2 = _press(at, "random")
    assert not np.array_equal(r1, r2) and "seed 2" in at.text[0].value
    # every action's result is what the text box holds
    assert np.array_equal(parse_kernel(at.text_area(key="t.text").value), r2)


def test_normalise_divides_by_the_sum():
    at = _open()
    at.text_area(key="t.text").set_value("1 2 1").run()
    w = _press(at, "normalise")
    assert w.tolist() == [[0.25, 0.5, 0.25]]


def test_parametric_presets_offer_size_and_sigma():
    at = _open()
    at.selectbox(key="t.preset").set_value("gaussian").run()
    assert not at.exception
    assert _weights(at).shape == (5, 5)
    at.select_slider(key="t.size").set_value(9).run()
    w = _weights(at)
    assert w.shape == (9, 9)
    # the sigma slider holds the size's default sigma to 2 decimals: 0.3*((9-1)/2 - 1) + 0.8
    assert np.array_equal(w, library.get("gaussian", size=9, sigma=1.7).weights)
    at.selectbox(key="t.preset").set_value("box").run()
    at.select_slider(key="t.size").set_value(4).run()  # even sizes too
    assert np.array_equal(_weights(at), np.full((4, 4), 1 / 16))


# --------------------------------------------------------------------------------------------
# Bank and slices
# --------------------------------------------------------------------------------------------

def _bank_app():
    import numpy as np
    import streamlit as st

    from kernels import library
    from ui.kernel_controls import bank_picker, rgb_slices

    bank = bank_picker("t.k", (3, 3))
    st.text("bank=" + ",".join(n for n, _ in bank))
    s = rgb_slices("t.k", library.get("sobel_x").weights)
    st.text("slices=" + np.array2string(s.reshape(3, -1).sum(axis=1), separator=","))


def test_bank_and_slices():
    at = AppTest.from_function(_bank_app, default_timeout=30).run()
    at.multiselect(key="t.k.bank").set_value(["sobel_y", "laplacian_4"]).run()
    assert not at.exception
    assert at.text[0].value == "bank=Sobel y (d/dy),Laplacian (4-neighbour)"
    at.button(key="t.k.slices.luma").click().run()
    sums = [float(v) for v in at.text[1].value.split("=")[1].strip("[]").split(",")]
    assert sums == [0.0, 0.0, 0.0]  # Sobel sums to 0 in every slice
    at.button(key="t.k.slices.G").click().run()
    assert at.session_state["t.k.slice.R"].split() == ["0"] * 9
