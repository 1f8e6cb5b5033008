"""Drowning-prevention patrols: priority, team plans with route maps and sheets, inspections,
compliance. Works offline (maps without tiles, sheets as files)."""

import datetime as dt
import os

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app import messages as M
from app.patrol_map import build_priority_map, build_route_map
from app.patrol_service import (
    INSPECTION_ITEMS,
    compliance,
    inspection_id,
    make_plan,
    record_inspections,
    save_plan,
    water_priorities,
)
from app.risk_service import RISK_LAYERS
from app.views.common import (
    WORKBOOK_UPLOAD,
    download,
    held,
    photo_uploader,
    pick_place,
    read_or_explain,
    settings_key,
    show_table,
    store_or_stop,
)
from geo import vocab
from geo.patrol import WeightsError, explain_weights
from geo.risk import RulesError
from geo.routing import RoutingError
from layers.evidence import EvidenceError, media_type
from layers.export import table_bytes
from layers.patrol_record import read_records
from layers.patrol_sheets import sheet_html, sheets_xlsx
from layers.rules_file import load_rules, load_weights

st.title(M.PAGE_PATROL)
store = store_or_stop()
c1, c2, c3 = st.columns(3)
place = pick_place(store, c1, c2, "patrol")
day = c3.date_input("巡查日期", value=dt.date.today(), key="patrol_date")
tianditu = os.environ.get("SHOUHU_TIANDITU_KEY") or None
try:  # the deployment's settings files: nothing on this page works without them
    weights, rules = load_weights(), load_rules()
    # Graded once while the place, date, settings and data hold: the plan's and the check's
    # number boxes rerun the page.
    key = (tuple(place.scope), day, settings_key(rules.data, weights),
           store.data_revision(RISK_LAYERS))  # fmt: skip
    ranked, _ = held(
        "patrol", key, lambda: water_priorities(store, day, place.scope, rules, weights)
    )
except (WeightsError, RulesError) as exc:
    st.error(f"**{M.PATROL_SETTINGS_PROBLEM}**\n\n{exc}")
    st.stop()
tab_rank, tab_plan, tab_record, tab_check = st.tabs(["优先级", "巡查计划", "巡查登记", "完成情况"])
# Every patrol table's columns in Chinese, and the village by name (staff know villages by name,
# not by their 12-digit code); the plan shows its own columns in this order.
COLUMNS_ZH = {"team": "组", "stop": "站序", "water_id": "水域编号", "water_name": "水域",
              "water_type": "类型", "village_code": "村（社区）", "priority": "优先级",
              "leg_m": "上一站到此（米）", "missing_items": "缺失设备", "children_near": "附近儿童",
              "days_since_inspection": "未巡查天数", "reasons": "原因", "item": "设备",
              "status": "状态", "since": "报告日期"}  # fmt: skip
PLAN_SHOWN = ["team", "stop", "water_name", "water_type", "priority", "leg_m", "missing_items",
              "children_near"]  # fmt: skip


def _named(frame: pd.DataFrame) -> pd.DataFrame:
    villages = frame["village_code"].map(place.village_names).fillna(frame["village_code"])
    return frame.assign(village_code=villages).rename(columns=COLUMNS_ZH)


with tab_rank:
    st.caption(
        "优先级由附近儿童（按风险等级加权）、四个一和隔离设施缺失、水域类型和未巡查天数累加。"
    )
    with st.expander("优先级如何计算"):
        st.markdown("\n".join(f"- {line}" for line in explain_weights(weights)))
    st_folium(build_priority_map(place.villages, ranked, tianditu_key=tianditu), key="prio_map",
              returned_objects=[], use_container_width=True, height=420)  # fmt: skip
    show_table(_named(ranked.drop(columns=["lon", "lat"])))

with tab_plan:
    p1, p2, p3 = st.columns(3)
    teams = p1.number_input("巡查组数", min_value=1, max_value=20, value=3, key="plan_teams")
    per_team = p2.number_input("每组站点数", min_value=1, max_value=30, value=6, key="plan_stops")
    base_text = p3.text_input("出发点（经度,纬度；可留空）", key="plan_base")
    if st.button("生成计划", type="primary", key="plan_make"):
        try:
            bases = None
            if base_text.strip():
                lon, lat = (float(v) for v in base_text.replace("，", ",").split(","))
                bases = [(lon, lat)]
            st.session_state["patrol_plan"] = make_plan(
                store, day, int(teams), int(per_team), bases, place.scope, ranked=ranked
            )
        except ValueError as exc:  # RoutingError and a malformed base
            st.error(str(exc) if isinstance(exc, RoutingError) else "出发点应写成 经度,纬度")
    plan = st.session_state.get("patrol_plan")
    if plan is not None:
        cols = st.columns(len(plan.lengths_m))
        for col, (team, length) in zip(cols, plan.lengths_m.items(), strict=True):
            col.metric(f"第{team}组路线", f"{length / 1000:.1f} 公里")
        st_folium(build_route_map(place.villages, plan, tianditu), key="route_map",
                  returned_objects=[], use_container_width=True, height=480)  # fmt: skip
        show_table(plan.plan[PLAN_SHOWN].rename(columns=COLUMNS_ZH))
        d1, d2, d3 = st.columns(3)
        download(d1, "下载计划（Excel）", lambda: table_bytes(plan.plan, "xlsx", "巡查计划"),
                 f"巡查计划_{plan.date:%Y%m%d}.xlsx", key="plan_xlsx")  # fmt: skip
        download(d2, "下载巡查单（Excel，每组一页）", lambda: sheets_xlsx(plan, "防溺水巡查"),
                 f"巡查单_{plan.date:%Y%m%d}.xlsx", key="plan_sheets")  # fmt: skip
        if d3.button("保存为当日计划", key="plan_save"):
            st.success(f"已保存 {save_plan(store, plan)} 个计划站点。")
        epsg = store.analysis_crs().epsg
        for team in plan.lengths_m:
            download(st, f"第{team}组可打印巡查单（网页，离线可打印）",
                     lambda t=team: sheet_html(plan, t, place.villages, epsg, "防溺水巡查"),
                     f"巡查单_{plan.date:%Y%m%d}_第{team}组.html",
                     mime="text/html", key=f"plan_html_{team}")  # fmt: skip

with tab_record:
    if store.scope.role == "viewer":
        st.info("只读账号不能登记巡查。")
    else:
        names = dict(zip(ranked["water_id"], ranked["water_name"] + "（" + ranked["water_type"]
                         + "）", strict=True))  # fmt: skip
        with st.form("inspection", clear_on_submit=True):
            water = st.selectbox("水域", list(names), format_func=names.get, key="insp_water")
            t1, t2 = st.columns(2)
            when = t1.time_input("时间", value=dt.time(9, 0), key="insp_time")
            patroller = t2.text_input("巡查人", key="insp_who")
            # What a patrol sees on site: an item is there, missing or damaged (not 未核查).
            choices = {k: v for k, v in vocab.EQUIPMENT_STATUSES.items() if k != "unknown"}
            cols = st.columns(len(INSPECTION_ITEMS))
            statuses = {
                f"{i}_status": col.selectbox(vocab.EQUIPMENT_ITEMS[i], list(choices),
                                             format_func=choices.get, key=f"insp_{i}")
                for col, i in zip(cols, INSPECTION_ITEMS, strict=True)
            }  # fmt: skip
            seen = st.number_input("发现儿童人数", min_value=0, step=1, key="insp_seen")
            photos = photo_uploader("现场照片", key="insp_photos")
            note = st.text_input("备注", key="insp_note")
            saved = st.form_submit_button("保存巡查记录", key="insp_save")
        if saved:
            files = [(p.name, p.getvalue()) for p in photos or []]
            try:  # photos are checked before anything is saved
                for name, content in files:
                    media_type(name, content)
            except EvidenceError as exc:  # shown here; the 完成情况 tab still renders
                st.error(str(exc))
                saved = False
        if saved:
            record = {"water_id": water, "inspected_at": dt.datetime.combine(day, when),
                      "patroller": patroller or None, **statuses, "children_seen": int(seen),
                      "photo_count": len(files), "note": note or None}  # fmt: skip
            record_inspections(store, [record])
            if files:
                village = ranked.set_index("water_id").loc[water, "village_code"]
                record_id = inspection_id(water, record["inspected_at"])
                store.add_evidence("inspections", record_id, village, files)
            st.success(f"已保存 {names[water]} 的巡查记录；当前设备状态已更新。")
        upload = st.file_uploader(
            "或上传填好的巡查单（Excel）", type=WORKBOOK_UPLOAD, key="insp_file"
        )
        if upload is not None and st.button("检查并登记（全部正确才写入）", key="insp_import"):
            ids = set(store.read_layer("water_bodies", columns=[])["water_id"])
            read = read_or_explain((ValueError,), read_records, upload.getvalue(), ids)
            if read is not None:
                records, problems = read
                if problems:
                    st.error(M.TRANSFER_CHECK_FAILED.format(n=len(problems)))
                    show_table(pd.DataFrame([p.as_dict() for p in problems]))
                else:
                    added = record_inspections(store, records) if records else 0
                    st.success(f"已登记 {added} 条巡查记录。")

with tab_check:
    days = st.number_input(
        "应至少每几天巡查一次", min_value=1, max_value=60, value=7, key="chk_days"
    )
    result = compliance(store, day, int(days), place.scope)
    st.subheader(f"{day:%m月%d日}各组计划与实际")
    show_table(result["per_team"].rename(columns={"team": "组", "planned": "计划站点",
                 "checked": "已查", "missed": "未查"}))  # fmt: skip
    st.subheader(f"超过 {days} 天未巡查的水域（{len(result['stale'])} 处）")
    show_table(_named(result["stale"]))
    st.subheader(f"报告缺失或损坏、尚未补齐的设备（{len(result['open_items'])} 项）")
    show_table(_named(result["open_items"]))
