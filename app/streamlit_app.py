"""Streamlit entry point: only wires the pages (run via `shouhu serve` or `python -m app`)."""

import streamlit as st

from app import messages as M
from app.views.common import STYLE, UI_WORDS, current_scope, log_out
from layers.access import ROLES

st.set_page_config(
    page_title="守护", layout="wide"
)  # no page_icon: a Material favicon is fetched from Google
scope = current_scope()
if scope is None:
    pages = [st.Page("views/login.py", title=M.PAGE_LOGIN, default=True, url_path="login")]
else:
    pages = [
        st.Page("views/home.py", title=M.PAGE_HOME, default=True, url_path="home"),
        st.Page("views/map_page.py", title=M.PAGE_MAP, url_path="map"),
        st.Page("views/risk_page.py", title=M.PAGE_RISK, url_path="risk"),
        *(
            [st.Page("views/children_page.py", title=M.PAGE_CHILDREN, url_path="children")]
            if scope.can("children")
            else []
        ),
        st.Page("views/education_page.py", title=M.PAGE_EDUCATION, url_path="education"),
        st.Page("views/patrol_page.py", title=M.PAGE_PATROL, url_path="patrol"),
        st.Page("views/sweep_page.py", title=M.PAGE_SWEEP, url_path="sweep"),
        st.Page("views/transfer_page.py", title=M.PAGE_TRANSFER, url_path="transfer"),
        st.Page("views/layers_page.py", title=M.PAGE_LAYERS, url_path="layers"),
    ]
    if scope.can("audit"):
        pages.append(st.Page("views/audit_page.py", title=M.PAGE_AUDIT, url_path="audit"))
    with st.sidebar:
        st.caption(f"{scope.username}（{ROLES[scope.role]}）")
        st.caption(f"管辖范围：{'、'.join(scope.codes)}")
        if st.button(M.LOGOUT_BUTTON, key="logout"):
            log_out()
            st.rerun()
        st.caption(M.INTERNAL)
    # On every page, and on paper when a page is printed.
    st.markdown(f'<p class="shouhu-internal">{M.INTERNAL}</p>', unsafe_allow_html=True)
st.html(STYLE)
st.html(UI_WORDS, unsafe_allow_javascript=True)
st.navigation(pages).run()
