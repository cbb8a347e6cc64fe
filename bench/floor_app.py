"""The floor of ``bench/bench_classroom.py``: a trivial one-page Streamlit app (a title, a slider,
a line of text), measured with the same simulated class as the real app, so that what the
machine itself costs (Streamlit's own rerun, the websocket, the noise of a shared machine) is
visible next to the app's figures.

Like the app's pages, it takes its setting from the URL (``?v=42``): the benchmark's students
change it by rerunning with a new query string.
"""

import streamlit as st

st.title("Floor: a trivial app")
v = st.query_params.get("v")
if v is not None and v != st.session_state.get("applied"):  # a new link: apply it once
    st.session_state["applied"] = v
    st.session_state["v"] = min(max(int(v), 0), 100) if v.isdigit() else 50
st.session_state.setdefault("v", 50)
value = st.slider("A number", 0, 100, key="v")
st.write(f"{value} squared is {value * value}.")
