"""ui.state: URL query parameters <-> session state, with fallbacks and notices."""

import pytest
from streamlit.testing.v1 import AppTest

from ui import state
from ui.state import Param

# --------------------------------------------------------------------------------------------
# Parsers (plain functions)
# --------------------------------------------------------------------------------------------

def test_choice_is_case_insensitive_and_names_the_options():
    parse = state.choice(["zeros", "reflect"])
    assert parse(" Reflect ") == "reflect"
    with pytest.raises(ValueError, match="'mirror' is not one of zeros, reflect"):
        parse("mirror")


@pytest.mark.parametrize("text, value", [("3", 3), (" 7 ", 7), ("2.0", 2)])
def test_integer_accepts_whole_numbers(text, value):
    assert state.integer(1, 9)(text) == value


@pytest.mark.parametrize("text, reason", [
    ("0", "outside 1..9"), ("10", "outside 1..9"), ("2.5", "not a whole number"),
    ("abc", "not a whole number"), ("nan", "not a whole number"), ("", "not a whole number"),
])
def test_integer_refuses_the_rest(text, reason):
    with pytest.raises(ValueError, match=reason):
        state.integer(1, 9)(text)


def test_number_refuses_nan_infinity_and_out_of_range():
    parse = state.number(-5, 5)
    assert parse("-2.5") == -2.5
    for bad in ("nan", "inf", "-inf", "6", "x"):
        with pytest.raises(ValueError):
            parse(bad)


def test_flag_and_words():
    assert state.flag("1") is True and state.flag("off") is False
    with pytest.raises(ValueError):
        state.flag("maybe")
    parse = state.words(["a", "b", "c"], max_items=2)
    assert parse("b, a,b") == ["b", "a"]
    with pytest.raises(ValueError, match="unknown 'z'"):
        parse("a,z")
    with pytest.raises(ValueError, match="at most 2"):
        parse("a,b,c")


def test_fmt_number_round_trips():
    for v in (0.0, 1.0, -20.0, 0.1, 1 / 3, 1e-7, 12345678.5):
        assert float(state.fmt_number(v)) == v
    assert state.fmt_number(-20.0) == "-20"


def test_param_text_leaves_defaults_and_implied_values_out():
    p = Param("s", "t.s", 1, state.integer(1, 9))
    assert p.text(1) is None and p.text(2) == "2"
    assert Param("f", "t.f", False, state.flag).text(0) == "0"  # 0 is not the default False
    implied = Param("k", "t.k", None, str, skip=lambda v: v == "auto")
    assert implied.text("auto") is None and implied.text("x") == "x" and implied.text(None) is None


def test_duplicate_names_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        state.UrlState("t", [Param("a", "t.a", 1), Param("a", "t.b", 2)])


# --------------------------------------------------------------------------------------------
# The mirror, in a small app
# --------------------------------------------------------------------------------------------

def _app():
    import streamlit as st

    from ui.state import Param, UrlState, choice, flag, integer, number

    url = UrlState("t", [
        Param("s", "t.s", 1, integer(1, 9), label="stride"),
        Param("m", "t.m", "zeros", choice(["zeros", "reflect"]), label="padding mode"),
        Param("b", "t.b", 0.0, number(-5, 5), label="bias"),
        Param("f", "t.f", False, flag, format=lambda v: "1" if v else "0", label="flag"),
        Param("k", "t.k", None, str, label="kernel text"),
    ], ignore=("other",))
    for notice in url.restore():
        st.warning(notice)
    st.number_input("stride", 1, 9, key="t.s")
    st.selectbox("mode", ["zeros", "reflect"], key="t.m")
    st.number_input("bias", -5.0, 5.0, key="t.b")
    st.checkbox("flag", key="t.f")
    st.text(f"k={st.session_state.get('t.k')!r} applied={url.applied}")
    url.publish()
    st.text(url.link("http://host:8501/page?stale=1"))


def _open(**query) -> AppTest:
    at = AppTest.from_function(_app, default_timeout=30)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_defaults_without_a_query():
    at = _open()
    assert not at.exception and not at.warning
    assert at.number_input(key="t.s").value == 1
    assert at.selectbox(key="t.m").value == "zeros"
    assert at.text[1].value == "http://host:8501/page"


def test_a_link_restores_every_setting():
    at = _open(s="4", m="reflect", b="-2.5", f="1", k="1 2; 3 4")
    assert not at.exception and not at.warning
    assert at.number_input(key="t.s").value == 4
    assert at.selectbox(key="t.m").value == "reflect"
    assert at.number_input(key="t.b").value == -2.5
    assert at.checkbox(key="t.f").value is True
    assert at.text[0].value == "k='1 2; 3 4' applied=True"
    link = at.text[1].value
    assert link.startswith("http://host:8501/page?") and "s=4" in link and "m=reflect" in link
    assert "stale" not in link


def test_garbage_falls_back_to_defaults_with_a_notice_naming_the_parameter():
    at = _open(s="zero", m="mirror", b="nan", f="perhaps", bogus="1")
    assert not at.exception
    notices = " ".join(w.value for w in at.warning)
    for name, label in (("s", "stride"), ("m", "padding mode"), ("b", "bias"), ("f", "flag")):
        assert f"`{name}` ({label}) was ignored" in notices
    assert "`bogus`" in notices
    assert at.number_input(key="t.s").value == 1
    assert at.selectbox(key="t.m").value == "zeros"
    assert at.number_input(key="t.b").value == 0.0


def test_changes_are_published_and_defaults_left_out():
    at = _open()
    at.number_input(key="t.s").set_value(3).run()
    assert at.query_params["s"] == ["3"] or at.query_params["s"] == "3"
    assert "m" not in at.query_params
    at.number_input(key="t.s").set_value(1).run()
    assert "s" not in at.query_params
    # a later run with the same URL does not re-apply it over the user's choice
    at.selectbox(key="t.m").set_value("reflect").run()
    assert at.selectbox(key="t.m").value == "reflect"
    assert not at.warning


def test_ignored_parameters_belong_to_someone_else():
    at = _open(other="x", s="2")
    assert not at.warning
    assert at.number_input(key="t.s").value == 2


def test_the_shared_display_parameter_is_left_alone_and_kept_in_links():
    at = _open(display="hc", s="2")
    assert not at.warning  # not "a parameter this page does not know"
    assert at.query_params["display"] == ["hc"] or at.query_params["display"] == "hc"
    at.number_input(key="t.s").set_value(3).run()
    assert "display" in at.query_params  # publishing the page's settings keeps it
    assert at.text[1].value == "http://host:8501/page?s=3&display=hc"


# --------------------------------------------------------------------------------------------
# ui.display: the high-contrast setting in the link, on every page
# --------------------------------------------------------------------------------------------

def _display_app():
    import streamlit as st

    from ui import display

    display.controls()
    s = display.style()
    st.text(f"{s.name} {display.high_contrast()}")


def test_display_hc_in_the_link_turns_high_contrast_on():
    at = AppTest.from_function(_display_app, default_timeout=30)
    at.query_params["display"] = "hc"
    at.run()
    assert not at.exception
    assert at.text[0].value == "light-hc True"
    assert at.toggle(key="display.hc").value is True


def test_display_toggle_writes_the_link_and_survives_a_page_switch():
    at = AppTest.from_function(_display_app, default_timeout=30).run()
    assert at.text[0].value == "light False" and "display" not in at.query_params
    at.toggle(key="display.hc").set_value(True).run()
    assert at.text[0].value == "light-hc True" and "display" in at.query_params
    del at.query_params["display"]  # a page switch drops the query
    at.run()
    assert "display" in at.query_params and at.text[0].value == "light-hc True"
    at.toggle(key="display.hc").set_value(False).run()
    assert "display" not in at.query_params and at.text[0].value == "light False"
