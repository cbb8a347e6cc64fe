import streamlit as st

st.title("arithmetic")
st.info("This page is being built.")
