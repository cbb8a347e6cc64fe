import streamlit as st

st.title("inside_cnn")
st.info("This page is being built.")
