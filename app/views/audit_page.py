"""Audit log for county administrators: who viewed, exported or changed what, and when."""

import streamlit as st

from app import messages as M
from app.audit_view import audit_table
from app.views.common import show_table, store_or_stop
from layers.accounts import ACTIONS

st.title(M.PAGE_AUDIT)
store = store_or_stop()
store.scope.require("audit", "查看审计日志")
c1, c2 = st.columns(2)
username = c1.text_input("账号", key="audit_user").strip() or None
labels = {"": "全部", **ACTIONS}
action = c2.selectbox("操作", list(labels), format_func=labels.get, key="audit_action") or None
rows = store.accounts().audit_rows(username=username, action=action, limit=2000)
st.caption(f"最近 {len(rows)} 条（北京时间）。审计日志只能追加，不能修改或删除。")
show_table(audit_table(rows))
