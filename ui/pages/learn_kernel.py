import streamlit as st

st.title("learn_kernel")
st.info("This page is being built.")
