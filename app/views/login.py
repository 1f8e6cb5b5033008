"""Login page (the only page before a user logs in)."""

import time

import streamlit as st

from app import messages as M
from app.views.common import base_store_or_stop
from layers.accounts import AccountError

st.title(M.LOGIN_TITLE)
notice = st.session_state.pop("login_notice", None)
if notice:
    st.info(notice)
accounts = base_store_or_stop().accounts()
if accounts.count_users() == 0:
    st.warning(M.LOGIN_NO_ACCOUNTS)
with st.form("login"):
    username = st.text_input(M.LOGIN_USER, key="login_user")
    password = st.text_input(M.LOGIN_PASSWORD, type="password", key="login_password")
    submitted = st.form_submit_button(M.LOGIN_BUTTON)
if submitted:
    try:
        scope = accounts.authenticate(username.strip(), password)
    except AccountError as exc:
        st.error(str(exc))
    else:
        st.session_state.clear()
        st.session_state["scope"] = scope
        st.session_state["last_active"] = time.monotonic()
        st.rerun()
