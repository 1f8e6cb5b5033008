"""Streamlit pages: each calls services and renders, nothing more."""
