"""ui.layer_controls: the layer's widgets return the settings they show."""

from streamlit.testing.v1 import AppTest


def _layer_app():
    import streamlit as st

    from ui.layer_controls import layer_controls

    layer = layer_controls("t")
    st.text(repr(layer))


def test_layer_controls_return_what_is_set():
    at = AppTest.from_function(_layer_app, default_timeout=30).run()
    assert not at.exception
    assert "padding='same'" in at.text[0].value and "pool='none'" in at.text[0].value
    at.pills(key="t.pad").set_value("custom").run()
    at.number_input(key="t.ph").set_value(2).run()
    at.number_input(key="t.stride").set_value(3).run()
    at.pills(key="t.pool").set_value("avg").run()
    at.number_input(key="t.ps").set_value(0).run()
    text = at.text[0].value
    assert "padding=(2, 1)" in text and "stride=3" in text
    assert "pool='avg'" in text and "pool_stride=None" in text
