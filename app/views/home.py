"""Overview page: where the data is and what it holds."""

import streamlit as st

from app import messages as M
from app.services import layer_counts
from app.views.common import is_demo, show_table, store_or_stop

st.title(M.APP_TITLE)
store = store_or_stop()
if is_demo(store):
    st.info(M.DEMO_BANNER)
st.caption(f"数据位置：{store.describe()}")
counts = layer_counts(store)
by_table = dict(zip(counts["表名"], counts["记录数"], strict=True))
cols = st.columns(5)
cols[0].metric("村（社区）", by_table["villages"])
cols[1].metric("家庭户", by_table["households"])
cols[2].metric("儿童", by_table["children"])
cols[3].metric("水域（河塘库坝）", by_table["water_bodies"])
cols[4].metric("儿童场所", by_table["facilities"])
st.subheader("各图层记录数")
show_table(counts)
