import streamlit as st

st.title("filter_lab")
st.info("This page is being built.")
