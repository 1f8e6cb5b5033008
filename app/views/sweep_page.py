"""Flood-season hazard sweeps around child facilities: progress map, hazards around a facility,
its checklist, and the printable checklist and results."""

import datetime as dt

import folium
import streamlit as st
from streamlit_folium import st_folium

from app import messages as M
from app import sweep_service as svc
from app.mapping import _finish, _new_map, _swatch
from app.views.common import download, photo_uploader, pick_place, show_table, store_or_stop
from geo import vocab
from geo.sweep import (
    ITEM_STATUSES,
    PROGRESS_STATES,
    SweepError,
    facility_progress,
    overdue_items,
)
from layers.evidence import EvidenceError, media_type
from layers.sweep_sheets import results_xlsx

PROGRESS_COLORS = {"done": "#2e7d32", "rectify": "#c62828", "partial": "#f9a825",
                   "none": "#9e9e9e"}  # fmt: skip

st.title(M.PAGE_SWEEP)
store = store_or_stop()
today = dt.date.today()
known = {s.sweep_id: s for s in svc.sweeps(store)}
if not known:
    st.info(M.SWEEP_NONE)
    st.stop()
running = svc.pick_sweep(store, today)
ids = list(known)
sweep_id = st.selectbox(
    "排查",
    ids,
    index=ids.index(running.sweep_id) if running else 0,
    format_func=lambda k: f"{known[k].name}（{known[k].start}～{known[k].end}）",
    key="sweep_id",
)
sweep = known[sweep_id]
c1, c2 = st.columns(2)
place = pick_place(store, c1, c2, "sweep")
facilities = store.read_layer("facilities", village_codes=place.scope)
if facilities.empty:
    st.info("所选范围内没有儿童场所。")
    st.stop()
items = svc.ensure_checklists(store, sweep, list(facilities["facility_id"]))
per_facility = facility_progress(items, today)
overdue = overdue_items(items, today)
m1, m2, m3 = st.columns(3)
m1.metric("已全部排查的场所", f"{int((per_facility['pending'] == 0).sum())}/{len(facilities)}")
m2.metric("需整改项", int(per_facility["rectify"].sum()))
m3.metric("逾期未整改", len(overdue))

fmap = _new_map(place.villages, canvas=False)
group = folium.FeatureGroup(name="儿童场所（按排查进度）")
for fac in facilities.itertuples(index=False):
    state = per_facility["state"].get(fac.facility_id, "none")
    color, label = PROGRESS_COLORS[state], PROGRESS_STATES[state]
    folium.CircleMarker((fac.geometry.y, fac.geometry.x), radius=9, color="#ffffff", weight=2,
                        fill=True, fill_color=color, fill_opacity=0.95,
                        tooltip=f"{fac.name}：{label}").add_to(group)  # fmt: skip
group.add_to(fmap)
legend = "<b>排查进度</b>" + "".join(
    _swatch(PROGRESS_COLORS[k], label, "circle") for k, label in PROGRESS_STATES.items()
)
st_folium(_finish(fmap, place.villages, legend), key="sweep_map", returned_objects=[],
          use_container_width=True, height=420)  # fmt: skip

names = dict(zip(facilities["facility_id"], facilities["name"], strict=True))
fid = st.selectbox("场所", list(names), format_func=names.get, key="sweep_facility")
st.subheader(f"{names[fid]}周边隐患（半径 {sweep.radius_m:.0f} 米）")
hazards = svc.hazard_list(store, sweep.radius_m, today, sweep, place.scope, [fid])
show_table(hazards[["hazard_kind", "hazard_name", "hazard_type", "distance_m", "direction",
                      "status"]].rename(columns={
    "hazard_kind": "类别", "hazard_name": "名称", "hazard_type": "类型", "distance_m": "距离（米）",
    "direction": "方位", "status": "状态"}))  # fmt: skip

st.subheader("排查清单")
checklist = items[items["facility_id"] == fid]
show_table(checklist[["label", "status", "responsible", "due_date", "note"]].assign(
    status=checklist["status"].map(ITEM_STATUSES)).rename(columns={
    "label": "排查内容", "status": "状态", "responsible": "责任人", "due_date": "整改期限",
    "note": "备注"}))  # fmt: skip
if store.scope.role != "viewer":
    labels = dict(zip(checklist["item_id"], checklist["label"], strict=True))
    with st.form("sweep_item"):
        item_id = st.selectbox("排查项", list(labels), format_func=labels.get, key="sweep_item")
        f1, f2, f3 = st.columns(3)
        status = f1.selectbox("状态", list(ITEM_STATUSES), format_func=ITEM_STATUSES.get,
                              key="sweep_status")  # fmt: skip
        responsible = f2.text_input("责任人", key="sweep_responsible")
        due = f3.date_input("整改期限", value=None, key="sweep_due")
        note = st.text_input("备注", key="sweep_note")
        photos = photo_uploader("照片", key="sweep_photos")
        saved = st.form_submit_button("保存", key="sweep_save")
    if saved:
        try:
            files = [(p.name, p.getvalue()) for p in photos or []]
            for name, content in files:  # checked before anything is saved
                media_type(name, content)
            change = {"item_id": item_id, "status": status, "responsible": responsible or None,
                      "due_date": due, "note": note or None}  # fmt: skip
            svc.update_items(store, sweep, [change], store.scope.username)
            village = checklist.set_index("item_id").loc[item_id, "village_code"]
            store.add_evidence("sweep_items", item_id, village, files)
            st.session_state["sweep_saved"] = f"已保存：{labels[item_id]}"
            st.rerun()
        except (SweepError, EvidenceError) as exc:
            st.error(str(exc))
    if "sweep_saved" in st.session_state:
        st.success(st.session_state.pop("sweep_saved"))

with st.expander("查看照片"):
    counts = store.evidence_counts(list(checklist["item_id"]))
    with_photos = [i for i in checklist["item_id"] if counts.get(i)]
    if not with_photos:
        st.caption("本场所的排查项还没有照片。")
    for item_id in with_photos:
        st.caption(checklist.set_index("item_id").loc[item_id, "label"])
        for name, _kind, content in store.evidence_files(item_id):
            st.image(content, caption=name, width=280)

if store.scope.can("import"):
    with st.expander("登记现场发现的隐患（危墙、危房、排水不畅等）"):
        with st.form("point_hazard", clear_on_submit=True):
            h1, h2 = st.columns(2)
            types = vocab.POINT_HAZARD_TYPES
            kind = h1.selectbox("类型", list(types), format_func=types.get, key="ph_type")
            hname = h2.text_input("名称或位置描述", key="ph_name")
            at = facilities.set_index("facility_id").loc[fid].geometry
            lon = h1.number_input(
                "经度（WGS84）", value=round(at.x, 6), format="%.6f", key="ph_lon"
            )
            lat = h2.number_input(
                "纬度（WGS84）", value=round(at.y, 6), format="%.6f", key="ph_lat"
            )
            hnote = st.text_input("备注", key="ph_note")
            hphotos = photo_uploader("照片", key="ph_photos")
            recorded = st.form_submit_button("登记隐患", key="ph_save")
        if recorded:
            try:
                hazard_id = svc.record_point_hazard(
                    store, kind, hname, lon, lat, hnote, today,
                    [(p.name, p.getvalue()) for p in hphotos or []],
                )  # fmt: skip
                st.session_state["sweep_saved"] = (
                    f"已登记隐患 {hazard_id}；已加入周边场所的排查清单。"
                )
                st.rerun()
            except (SweepError, EvidenceError) as exc:
                st.error(str(exc))

d1, d2 = st.columns(2)
download(d1, "下载本场所隐患排查表（可打印网页）",
         lambda: svc.facility_sheet(store, sweep, fid), f"隐患排查表_{names[fid]}.html",
         mime="text/html", key="sweep_sheet")  # fmt: skip
download(d2, "下载全部场所排查结果（Excel）", lambda: results_xlsx(items, facilities, sweep),
         f"隐患排查结果_{place.scope[0]}.xlsx", key="sweep_results")  # fmt: skip
if len(overdue):
    st.subheader("逾期未整改")
    show_table(overdue.assign(facility_name=overdue["facility_id"].map(names))[
        ["facility_name", "label", "responsible", "due_date"]].rename(columns={
        "facility_name": "场所", "label": "排查内容", "responsible": "责任人",
        "due_date": "整改期限"}))  # fmt: skip
