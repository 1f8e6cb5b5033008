"""Safety-education coverage: which villages have held the pre-15 August talk, and recording it."""

import datetime as dt
import os

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app import messages as M
from app.coverage_map import build_coverage_map
from app.coverage_service import campaigns, compute_coverage
from app.views.common import (
    TABLE_UPLOAD,
    download,
    photo_uploader,
    pick_place,
    read_or_explain,
    show_table,
    store_or_stop,
)
from geo import vocab
from geo.coverage import CampaignError, still_to_hold
from layers.coverage_report import report_bytes
from layers.evidence import EvidenceError, media_type
from layers.problems import Problem
from layers.session_import import KNOWN_HEADERS, check_session, plan_sessions, template_bytes
from layers.tabular import TableError, read_table
from layers.village_index import VillageIndex

st.title(M.PAGE_EDUCATION)
store = store_or_stop()
c1, c2, c3 = st.columns(3)
place = pick_place(store, c1, c2, "edu")
as_of = c3.date_input("统计日期", value=dt.date.today(), key="edu_as_of")
known = {c.campaign_id: c.name for c in campaigns(store)}
campaign_id = st.selectbox("专项行动", ["", *known], key="edu_campaign",
                           format_func=lambda k: known.get(k, "（当年最新）"))  # fmt: skip
try:
    result = compute_coverage(store, as_of, campaign_id or None, place.scope)
except CampaignError as exc:
    st.error(str(exc))
    st.stop()
campaign = result.campaign
coverage = result.coverage
totals = result.rollup[["villages", "done", "on_time"]].sum()  # the place lies in one township
done = int(totals["done"])
m1, m2, m3, m4 = st.columns(4)
m1.metric("已开展（村）", f"{done}/{int(totals['villages'])}")
m2.metric("完成率", f"{result.rollup['percent'].iloc[0]:.1f}%" if len(result.rollup) else "—")
m3.metric("按期完成（村）", int(totals["on_time"]))
days = (campaign.deadline - as_of).days
m4.metric("距截止日期", f"{days} 天" if days >= 0 else f"已过 {-days} 天")
st.caption(f"{campaign.name}：{campaign.deadline:%m月%d日}前每村至少 {campaign.min_sessions} 场"
           f"（计入形式：{'、'.join(vocab.SESSION_FORMS[f] for f in campaign.counted_forms)}），"
           f"{campaign.report_due:%m月%d日}前报送。")  # fmt: skip
if not campaign.registered:
    st.info(M.CAMPAIGN_DEFAULT.format(c=campaign))

st_folium(
    build_coverage_map(result.villages, coverage, os.environ.get("SHOUHU_TIANDITU_KEY") or None),
    key="edu_map", returned_objects=[], use_container_width=True, height=460,
)  # fmt: skip

st.subheader("尚未开展的村（按剩余天数、儿童人数排序）")
todo = still_to_hold(coverage)
show_table(
    todo[["village_name", "status", "planned_date", "children_in_scope", "days_to_deadline",
          "directors", "director_phones"]].rename(columns={
        "village_name": "村（社区）", "status": "状态", "planned_date": "计划日期",
        "children_in_scope": "留守及困境儿童", "days_to_deadline": "距截止（天）",
        "directors": "儿童主任", "director_phones": "联系电话"}),
)  # fmt: skip

st.subheader("各村完成情况")
show_table(
    coverage[["village_name", "status", "sessions_counted", "first_counted_date", "topics",
              "children_in_scope", "directors_count"]].rename(columns={
        "village_name": "村（社区）", "status": "状态", "sessions_counted": "计入场次",
        "first_counted_date": "首次宣讲", "topics": "主题", "children_in_scope": "留守及困境儿童",
        "directors_count": "儿童主任人数"}),
)  # fmt: skip
with st.expander("村 × 主题（计入的宣讲场次）"):
    matrix = result.matrix.copy()
    names = dict(zip(coverage["village_code"], coverage["village_name"], strict=True))
    matrix.index = matrix.index.map(names)
    show_table(matrix, hide_index=False)
if len(result.staffing):
    st.warning(M.EDU_STAFFING.format(n=len(result.staffing)))
    show_table(result.staffing[["village_name", "children_in_scope", "directors_count"]].rename(
        columns={"village_name": "村（社区）", "children_in_scope": "留守及困境儿童",
                 "directors_count": "儿童主任人数"}))  # fmt: skip

township_name = place.township_names.get(place.township, "")
download(
    st,
    f"下载{township_name}宣讲情况报送表（Excel）",
    lambda: report_bytes(result, place.township, township_name),
    f"宣讲情况_{place.township}_{as_of:%Y%m%d}.xlsx", key="edu_report",
)  # fmt: skip

if store.scope.can("import"):
    st.subheader("登记宣讲")
    index = VillageIndex(result.villages)
    with st.form("edu_session", clear_on_submit=True):
        f1, f2 = st.columns(2)
        village = f1.selectbox("宣讲的村（社区）", list(place.village_names) if not place.village
                               else [place.village], format_func=place.village_names.get,
                               key="edu_form_village")  # fmt: skip
        held = f2.radio("状态", ["已开展", "计划中"], horizontal=True, key="edu_held")
        day = f1.date_input("日期（已开展填宣讲日期，计划中填计划日期）", value=as_of,
                            key="edu_day")  # fmt: skip
        form = f2.selectbox("形式", list(vocab.SESSION_FORMS), format_func=vocab.SESSION_FORMS.get,
                            key="edu_form")  # fmt: skip
        topics = st.multiselect("主题", list(vocab.SESSION_TOPICS), default=["drowning"],
                                format_func=vocab.SESSION_TOPICS.get, placeholder="请选择",
                                key="edu_topics")  # fmt: skip
        g1, g2, g3 = st.columns(3)
        presenter = g1.text_input("宣讲人", key="edu_presenter")
        kids = g2.number_input("参加儿童人数", min_value=0, step=1, key="edu_kids")
        adults = g3.number_input("参加监护人人数", min_value=0, step=1, key="edu_adults")
        photos = photo_uploader("佐证照片", key="edu_photos")
        note = st.text_input("备注", key="edu_note")
        submitted = st.form_submit_button("保存宣讲记录", key="edu_save")
    if submitted:
        values = {
            "village_code": village,
            "session_date": day if held == "已开展" else None,
            "planned_date": day if held == "计划中" else None,
            "form": vocab.SESSION_FORMS[form],
            "topics": "、".join(vocab.SESSION_TOPICS[t] for t in topics),
            "presenter": presenter, "attendance_children": int(kids),
            "attendance_guardians": int(adults), "evidence_count": len(photos or []),
            "note": note or None,
        }  # fmt: skip
        row, problems = check_session(values, index, campaign, 0)
        try:  # photos are checked before anything is saved
            for photo in photos or []:
                media_type(photo.name, photo.getvalue())
        except EvidenceError as exc:
            problems.append(Problem(0, "佐证照片", str(exc), "请只上传 10 MB 以内的 JPG/PNG 照片"))
        if problems:
            st.error("\n\n".join(f"{p.column}：{p.problem}。{p.fix}" for p in problems))
        else:
            store.write_layers({"education_sessions": pd.DataFrame([row])}, upsert=True)
            try:
                store.add_evidence("education_sessions", row["session_id"], row["village_code"],
                                   [(p.name, p.getvalue()) for p in photos or []])  # fmt: skip
            except EvidenceError as exc:  # the rest of the page stays
                st.error(f"宣讲记录已保存，但照片未保存：{exc}")
            else:
                st.session_state["edu_saved"] = M.EDU_SAVED.format(
                    village=place.village_names.get(village, village))  # fmt: skip
                st.rerun()
    if "edu_saved" in st.session_state:
        st.success(st.session_state.pop("edu_saved"))

    with st.expander("查看佐证照片"):
        held = result.sessions[pd.to_datetime(result.sessions["session_date"]).notna()]
        labels = {
            sid: f"{place.village_names.get(v, v)} {pd.Timestamp(d):%m-%d} "
            f"{vocab.SESSION_FORMS.get(f, f)}"
            for sid, v, d, f in zip(held["session_id"], held["village_code"],
                                    held["session_date"], held["form"], strict=True)
        }  # fmt: skip
        counts = store.evidence_counts(list(labels))
        with_files = [sid for sid in labels if counts.get(sid)]
        if not with_files:
            st.caption("还没有上传佐证照片。")
        else:
            chosen = st.selectbox("宣讲", with_files, format_func=labels.get, key="edu_evidence")
            for name, _kind, content in store.evidence_files(chosen):
                st.image(content, caption=name, width=320)

    st.subheader("从模板导入宣讲记录")
    download(st, "下载宣讲记录模板（Excel）", template_bytes, "宣讲记录模板.xlsx",
             key="edu_template")  # fmt: skip
    upload = st.file_uploader("选择填好的模板（.xlsx 或 .csv）", type=TABLE_UPLOAD,
                              key="edu_file")  # fmt: skip
    if upload is not None and st.button("检查并导入（全部正确才写入）", key="edu_import"):
        table = read_or_explain(
            (TableError,), read_table, upload.getvalue(), upload.name, KNOWN_HEADERS
        )
        if table is not None:
            frame, problems = plan_sessions(store, table, campaign)
            if problems:
                st.error(M.TRANSFER_CHECK_FAILED.format(n=len(problems)))
                show_table([p.as_dict() for p in problems])
            else:
                store.write_layers({"education_sessions": frame}, upsert=True)
                st.session_state["edu_saved"] = f"已导入 {len(frame)} 条宣讲记录。"
                st.rerun()
