import streamlit as st

st.title("sliding_window")
st.info("This page is being built.")
