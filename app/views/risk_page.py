"""Risk grading page: households by tier on the map, filters, table with reasons, downloads."""

import datetime as dt
import os

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app import messages as M
from app.mapping import build_risk_map
from app.risk_service import (
    LIST_SHOWN_ROWS,
    RISK_LAYERS,
    compute_risk,
    tier_counts,
    township_tier_counts,
    village_tier_summary,
)
from app.views.common import (
    download,
    held,
    pick_place,
    settings_key,
    show_table,
    store_or_stop,
)
from geo.proximity import ProximityError
from geo.risk import RulesError
from layers.export import table_bytes
from layers.rules_file import load_rules

COLUMNS_ZH = {
    "household_id": "户编号",
    "village_name": "村（社区）",
    "children": "儿童数",
    "tier": "风险等级",
    "score": "分数",
    "nearest_water_name": "最近水域",
    "nearest_water_type": "水域类型",
    "nearest_water_m": "距离（米）",
    "waters_within": "范围内水域数",
    "nearest_water_equipment_complete": "四个一齐全",
    "slope_m": "距坡体（米）",
    "reasons": "原因",
}
TIER_ORDER = ["一级", "二级", "三级", "无"]

st.title(M.PAGE_RISK)
store = store_or_stop()
c1, c2, c3 = st.columns(3)
place = pick_place(store, c1, c2, "risk", whole=True)
as_of = c3.date_input("计算日期", value=dt.date.today(), key="risk_as_of")
recompute = st.button(M.RISK_RECOMPUTE, key="risk_recompute")


def _held(kind: str, compute):
    """The page's last result while its inputs are unchanged (place, date, rules and the data
    of the four layers, by `data_revision`): changing a filter or downloading reruns the page
    without grading again. Kept in this browser session only (cleared at logout);
    "重新计算" forces a fresh one."""
    rules = load_rules()
    key = (kind, tuple(place.scope), as_of, settings_key(rules.data),
           store.data_revision(RISK_LAYERS))  # fmt: skip
    result, when = held("risk", key, lambda: compute(rules), fresh=recompute)
    st.caption(M.RISK_COMPUTED_AT.format(time=f"{when:%H:%M:%S}"))
    with st.expander("分数怎么算（本地在用的分级规则）"):
        st.markdown("\n".join(f"- {line}" for line in rules.explain()))
    return result


def _village_table(per_village: pd.DataFrame) -> None:
    """Counts by tier per township (all townships picked), then per village."""
    if place.whole:
        st.subheader("各乡镇风险户数")
        per_township = township_tier_counts(per_village, place.villages)
        names = place.township_names
        per_township.index = per_township.index.map(lambda c: f"{names.get(c, c)}（{c}）")
        show_table(per_township, hide_index=False)
    st.subheader("各村风险户数")
    per_village = per_village.copy()  # it may be the held result
    per_village.index = per_village.index.map(lambda c: f"{place.village_names.get(c, c)}（{c}）")
    show_table(per_village, hide_index=False)


if not store.scope.can("children"):  # aggregates only: tier counts per village
    st.info(M.RISK_COUNTS_ONLY)
    try:
        summary = _held(
            "counts", lambda rules: village_tier_summary(store, as_of, rules, place.scope)
        )
    except (ProximityError, RulesError) as exc:
        st.error(f"**无法计算风险**\n\n{exc}")
        st.stop()
    for col, tier in zip(st.columns(4), TIER_ORDER, strict=True):
        label = f"{tier}（户）" if tier != "无" else "无等级（户）"
        col.metric(label, int(summary[tier].sum()))
    _village_table(summary)
    st.stop()
tiers = st.multiselect(
    "风险等级", TIER_ORDER, default=TIER_ORDER[:3], placeholder="请选择", key="risk_tiers"
)


def _household_list(rules) -> tuple:
    """What the page shows, held without what the result could still build (child rows, the
    pairs and the search grid behind them)."""
    result = compute_risk(store, as_of, rules, place.scope)
    return result.households, result.warnings, result.crs


try:
    held_households, warnings, crs = _held("list", _household_list)
except (ProximityError, RulesError) as exc:
    st.error(f"**无法计算风险**\n\n{exc}")
    st.stop()
for warning in warnings:
    st.warning(warning)

households = held_households.copy()  # the held result stays as computed
households["village_name"] = households["village_code"].map(place.village_names)
counts = households["tier"].value_counts()
cols = st.columns(4)
for col, tier in zip(cols, TIER_ORDER, strict=True):
    col.metric(f"{tier}（户）" if tier != "无" else "无等级（户）", int(counts.get(tier, 0)))
st.caption(
    f"分析坐标系 {crs}"
    + ("" if place.whole else "；家庭点位不显示儿童姓名，弹窗只有户编号、等级和原因。")
)

shown = households[households["tier"].isin(tiers)]
if place.whole:  # a county's homes are too many to draw one by one
    st.info(M.RISK_NO_MAP_FOR_ALL)
else:
    st_folium(
        build_risk_map(place.villages, shown, os.environ.get("SHOUHU_TIANDITU_KEY") or None),
        key="risk_map",
        returned_objects=[],
        use_container_width=True,
        height=520,
    )

st.subheader("风险清单")
table = pd.DataFrame(shown[list(COLUMNS_ZH)]).sort_values(
    ["score", "household_id"], ascending=[False, True]
)
if len(table) > LIST_SHOWN_ROWS:
    st.caption(M.RISK_LIST_CUT.format(shown=LIST_SHOWN_ROWS, total=len(table)))
show_table(table.head(LIST_SHOWN_ROWS).rename(columns=COLUMNS_ZH))
d1, d2 = st.columns(2)


def _log_download(fmt: str) -> None:
    store.accounts().audit(
        store.scope.username, "export", layer="risk_household", rows=len(table),
        detail={"format": fmt, "place": place.scope, "as_of": str(as_of)},
    )  # fmt: skip


stem = f"风险清单_{place.scope[0]}_{as_of:%Y%m%d}"
for col, fmt, label in ((d1, "xlsx", "Excel"), (d2, "csv", "CSV")):
    download(
        col,
        f"下载清单（{label}）",
        lambda fmt=fmt: table_bytes(table.rename(columns=COLUMNS_ZH), fmt, "风险清单"),
        f"{stem}.{fmt}",
        key=f"dl_{fmt}",
        log=lambda fmt=fmt: _log_download(fmt),
    )

_village_table(tier_counts(households))
