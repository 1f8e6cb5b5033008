"""The risk map: village boundaries, water by equipment status, slopes, facilities, households."""

import os

import streamlit as st
from streamlit_folium import st_folium

from app import messages as M
from app.mapping import build_map
from app.services import map_data
from app.views.common import pick_place, store_or_stop

st.title(M.PAGE_MAP)
store = store_or_stop()
left, right = st.columns(2)
place = pick_place(store, left, right, "map")
data = map_data(store, village_codes=place.scope)

incomplete = int((data.water["completeness"] == "incomplete").sum())
c1, c2, c3, c4 = st.columns(4)
c1.metric("水域", len(data.water))
c2.metric("四个一不全", incomplete)
if store.scope.can("locations"):
    c3.metric("儿童家庭", len(data.households))
    c4.metric("儿童", int(data.households["children"].sum()))
else:
    c3.metric("儿童家庭（汇总）", int(data.village_counts["households"].sum()))
    c4.metric("儿童（汇总）", int(data.village_counts["children"].sum()))

fmap = build_map(data, tianditu_key=os.environ.get("SHOUHU_TIANDITU_KEY") or None)
st_folium(fmap, key="risk_map", returned_objects=[], use_container_width=True, height=620)
st.caption(M.MAP_NO_NAMES if store.scope.can("locations") else M.MAP_COUNTS_ONLY)
