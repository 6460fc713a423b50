"""Placeholder: filled in by a later issue."""
import streamlit as st

from derby_oa.ui import widgets

widgets.presentation_mode()
st.title("explore")
st.info("This page is being built.")
