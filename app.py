"""Convolution visualizer: the entry point (``streamlit run app.py``)."""

import streamlit as st

st.set_page_config(page_title="Convolution visualizer", page_icon="🔍", layout="wide")

PAGES = [
    st.Page("ui/pages/filter_lab.py", title="Filter lab", icon="🖼️", url_path="filter-lab", default=True),
    st.Page("ui/pages/sliding_window.py", title="Sliding window", icon="🔢", url_path="sliding-window"),
    st.Page("ui/pages/learn_kernel.py", title="Learn a kernel", icon="📉", url_path="learn-kernel"),
    st.Page("ui/pages/inside_cnn.py", title="Inside a CNN", icon="🧠", url_path="inside-cnn"),
    st.Page("ui/pages/arithmetic.py", title="CNN arithmetic", icon="🧮", url_path="arithmetic"),
]

st.navigation(PAGES).run()
