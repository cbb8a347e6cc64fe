"""Convolution visualizer: the entry point (``streamlit run app.py``)."""

from pathlib import Path

import streamlit as st

from conv import warm
from ui import display

# the icon is a file of ours: a ":material/...:" page icon makes the browser fetch its picture
# from fonts.gstatic.com, and nothing may be fetched from the internet at run time
ICON = str(Path(__file__).with_name("assets") / "icon.png")
st.set_page_config(page_title="Convolution visualizer", page_icon=ICON, layout="wide")
# once per server process: the engine's loops compile in a child process while pages use numpy
warm.start_background()

FILTER_LAB = st.Page("ui/pages/filter_lab.py", title="Filter lab", icon=":material/photo_filter:",
                     url_path="filter-lab")
PAGES = [
    FILTER_LAB,
    st.Page("ui/pages/sliding_window.py", title="Sliding window", icon=":material/grid_on:", url_path="sliding-window"),
    st.Page("ui/pages/family.py", title="Convolution family", icon=":material/account_tree:", url_path="family"),
    st.Page("ui/pages/learn_kernel.py", title="Learn a kernel", icon=":material/trending_down:", url_path="learn-kernel"),
    st.Page("ui/pages/inside_cnn.py", title="Inside a CNN", icon=":material/hub:", url_path="inside-cnn"),
    st.Page("ui/pages/arithmetic.py", title="CNN arithmetic", icon=":material/calculate:", url_path="arithmetic"),
]


def _home() -> None:
    """The app's root: the filter lab at its own address, with the link's parameters."""
    st.switch_page(FILTER_LAB, query_params=st.query_params.to_dict())


# Streamlit serves its default page at "/" and gives it the path "" whatever its url_path, so a
# link to "/filter-lab" would find no page ("Page not found"). The default page is therefore
# this hidden one, which only sends the browser on to the filter lab: every page keeps its own
# address, and links made on any page name it.
nav = st.navigation([st.Page(_home, title="Convolution visualizer", url_path="home",
                             visibility="hidden", default=True), *PAGES])
display.controls()  # the high-contrast toggle and the theme watcher, on every page
nav.run()
