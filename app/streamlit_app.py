"""Streamlit entry point: only wires the pages (run via `shouhu serve` or `python -m app`)."""

import streamlit as st

from app import messages as M

st.set_page_config(
    page_title="守护", layout="wide"
)  # no page_icon: a Material favicon is fetched from Google
pages = [
    st.Page("views/home.py", title=M.PAGE_HOME, default=True, url_path="home"),
    st.Page("views/map_page.py", title=M.PAGE_MAP, url_path="map"),
    st.Page("views/risk_page.py", title=M.PAGE_RISK, url_path="risk"),
    st.Page("views/layers_page.py", title=M.PAGE_LAYERS, url_path="layers"),
]
st.navigation(pages).run()
