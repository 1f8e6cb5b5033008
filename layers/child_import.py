"""Importing children and households from a ledger: check every row, plan, then write all or none.

`plan_import` reads nothing but the store and the table, and reports every problem at once (row,
column, what is wrong, how to fix it). Children are matched by identity number and households by
village and address, so importing the same file twice changes nothing and a corrected file
updates the matching records; a cell left empty keeps what the store has. `apply_import` writes
the plan's children and households in one all-or-nothing write.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geo import vocab
from geo.crs import SOURCE_SYSTEMS
from geo.masking import mask_name
from layers import ledger
from layers.catalogue import get_layer
from layers.ledger_rows import cell_of, check_duplicates, column_of, parse_row, points_of
from layers.problems import PlanChecks, Problem, same_value
from layers.tabular import RawTable
from layers.village_index import VillageIndex

UNLOCATED = "unlocated"  # source_crs of a new household placed at its village for lack of a point


@dataclass
class ImportPlan(PlanChecks):
    children: pd.DataFrame  # rows to write (new and changed), catalogue columns
    households: gpd.GeoDataFrame  # rows to write (new and changed)
    actions: pd.DataFrame  # per file row: 行号, 儿童编号, 姓名 (masked), 操作, 变化
    problems: list[Problem] = field(default_factory=list)
    source_crs: str | None = None

    @property
    def writes_nothing(self) -> bool:
        """No child and no household to write (every row unchanged)."""
        return not len(self.children) and not len(self.households)


def plan_import(
    store,
    table: RawTable,
    mapping: dict[str, str] | None = None,
    source_crs: str | None = None,
    as_of: dt.date | None = None,
    ledger_kind: str | None = None,
) -> ImportPlan:
    """Check the ledger against the store (in the user's scope when `store` is scoped) and work
    out what importing it would change. Nothing is written."""
    as_of = as_of or dt.date.today()
    mapping = mapping if mapping is not None else ledger.guess_mapping(table.columns)
    problems: list[Problem] = []
    unknown_fields = sorted(set(mapping) - set(ledger.BY_NAME))
    if unknown_fields:
        raise ValueError(f"unknown fields in mapping: {unknown_fields}")
    for f in ledger.FIELDS:
        if f.required and f.name not in mapping:
            problems.append(Problem(0, "", f"缺少“{f.header}”列", f"请在表头加上“{f.header}”列，"
                                    "或在导入页面把对应的列指定为它"))  # fmt: skip
    if "village" not in mapping and "village_code" not in mapping:
        problems.append(Problem(0, "", "缺少“所属村（社区）”或“村（社区）代码”列",
                                "请加上其中一列，写明每名儿童所在的村（社区）"))  # fmt: skip
    has_points = (
        "lon" in mapping
        and "lat" in mapping
        and any(
            ledger.text(cell_of(table, i, mapping, name))
            for i in range(len(table.rows))
            for name in ("lon", "lat")
        )
    )
    if has_points and source_crs not in SOURCE_SYSTEMS:
        problems.append(Problem(0, "经度/纬度", "文件有经纬度，但没有说明是哪种坐标系",
                                "请选择坐标系：WGS84、CGCS2000、GCJ-02（高德/腾讯/微信）"
                                "或 BD-09（百度）"))  # fmt: skip
    if problems and any(p.row == 0 for p in problems):
        return _empty_plan(problems, source_crs)

    villages = store.read_own("villages")
    index = VillageIndex(villages)
    existing = store.read_layer("children")
    homes = store.read_layer("households")
    by_id = {str(v): i for i, v in enumerate(existing["id_number"]) if v is not None}

    parsed = [parse_row(table, i, mapping, as_of, index, problems) for i in range(len(table.rows))]
    check_duplicates(table, parsed, mapping, problems)
    points = points_of(table, parsed, mapping, source_crs, villages, problems) if has_points else {}

    child_rows, home_rows, actions = [], {}, []
    homes_by_key = {
        (str(v), _address_key(a)): hid
        for hid, v, a in zip(homes["household_id"], homes["village_code"], homes["address"],
                             strict=True)
        if a
    }  # fmt: skip
    homes_by_id = {hid: i for i, hid in enumerate(homes["household_id"])}
    created: dict[tuple[str, str], str] = {}
    for i, row in enumerate(parsed):
        if row is None:
            continue
        number = table.row_numbers[i]
        old_i = by_id.get(row["id_number"])
        old = existing.iloc[old_i].to_dict() if old_i is not None else None
        if old is not None and old["village_code"] != row["village_code"]:
            problems.append(Problem(number, column_of(mapping, "village"),
                                    f"该儿童已登记在 {old['village_code']}，本表写的是 "
                                    f"{row['village_code']}", "导入后将改为本表的村；"
                                    "如不是迁居，请核对所属村", "警告"))  # fmt: skip
        hid = _household_for(row, old, homes, homes_by_key, homes_by_id, created)
        record = _child_record(row, old, hid, ledger_kind, source_crs if i in points else None)
        change = _diff(old, record)
        op = "新增" if old is None else ("更新" if change else "不变")
        actions.append({"行号": number, "儿童编号": record["child_id"],
                        "姓名": mask_name(row.get("name")), "操作": op,
                        "变化": "、".join(change)})  # fmt: skip
        if op != "不变":
            child_rows.append(record)
        _household_row(row, hid, homes, homes_by_id, home_rows, points.get(i), source_crs,
                       villages, number, problems)  # fmt: skip

    children = pd.DataFrame(child_rows, columns=get_layer("children").column_names)
    household_frame = _household_frame(home_rows)
    return ImportPlan(children, household_frame, pd.DataFrame(actions, columns=_ACTION_COLUMNS),
                      problems, source_crs)  # fmt: skip


def apply_import(store, plan: ImportPlan) -> dict[str, int]:
    """Write the plan (children and households together: all or nothing); refuses a plan with
    errors. Returns the counts of new, updated and unchanged children."""
    if not plan.ok:
        raise ValueError("the plan has errors; nothing was written")
    frames = {}
    if len(plan.households):
        frames["households"] = plan.households
    if len(plan.children):
        frames["children"] = plan.children
    if frames:
        store.write_layers(frames, upsert=True)
    return plan.counts()


# -- rows -------------------------------------------------------------------------------------

_ACTION_COLUMNS = ["行号", "儿童编号", "姓名", "操作", "变化"]


def _empty_plan(problems: list[Problem], source_crs: str | None) -> ImportPlan:
    return ImportPlan(
        pd.DataFrame(columns=get_layer("children").column_names),
        gpd.GeoDataFrame(columns=[*get_layer("households").column_names, "geometry"],
                         geometry="geometry", crs=4326),
        pd.DataFrame(columns=_ACTION_COLUMNS),
        problems,
        source_crs,
    )  # fmt: skip


def _address_key(address: object) -> str:
    return re.sub(r"\s+", "", str(address or ""))


def _household_for(row, old, homes, homes_by_key, homes_by_id, created) -> str:
    """The household of a child: its current one unless the file says it moved; else the
    stored one at the same village and address, one made for an earlier row, or a new one."""
    key = (row["village_code"], _address_key(row.get("address")))
    if old is not None and old["household_id"] in homes_by_id:
        current = homes.iloc[homes_by_id[old["household_id"]]]
        same_village = current["village_code"] == row["village_code"]
        current_key = _address_key(current["address"])
        if same_village and (not key[1] or not current_key or current_key == key[1]):
            return old["household_id"]  # nothing says the child moved
    if key[1]:
        if key in homes_by_key:
            return homes_by_key[key]
        if key in created:
            return created[key]
    new_id = "H" + secrets.token_hex(8).upper()
    if key[1]:
        created[key] = new_id
    return new_id


def _child_record(row, old, hid, ledger_kind, source_crs) -> dict:
    record = dict(old) if old is not None else {c: None for c in get_layer("children").column_names}
    record.pop("geometry", None)
    if old is None:
        record["child_id"] = "C" + secrets.token_hex(8).upper()
    record["household_id"] = hid
    for name in ("county_code", "township_code", "village_code", "name", "id_number", "sex",
                 "registration", "guardian_name", "guardian_phone", "guardian_capable",
                 "caregiver_name", "caregiver_phone", "caregiver_agreement_signed",
                 "father_situation", "father_work_place", "father_months_away",
                 "mother_situation", "mother_work_place", "mother_months_away", "school",
                 "disability"):  # fmt: skip
        if row.get(name) is not None:
            record[name] = row[name]
    if row.get("birth_date") is not None:
        record["birth_date"] = pd.Timestamp(row["birth_date"])
    categories = row.get("categories") or []
    if not categories and old is None and ledger_kind:
        urban = row.get("registration") == "urban"
        categories = (
            ["difficulty"]
            if ledger_kind == "difficulty"
            else ["left_behind_urban" if urban else "left_behind_rural"]
        )
    if categories:
        record["categories"] = vocab.join_codes(categories)
    if row.get("reasons"):
        record["difficulty_reasons"] = vocab.join_codes(row["reasons"])
    if source_crs:  # the system this row's coordinates were given in
        record["source_crs"] = source_crs
    return record


def _diff(old, record) -> list[str]:
    """Labels of the columns a record changes (all of them for a new record)."""
    if old is None:
        return []
    layer = get_layer("children")
    return [
        c.label
        for c in layer.columns
        if c.name != "source_crs" and not same_value(old.get(c.name), record.get(c.name))
    ]  # where coordinates came from is provenance, not a change of the record


def _household_row(row, hid, homes, homes_by_id, home_rows, point, source_crs, villages,
                   number, problems) -> None:  # fmt: skip
    """Add or update the household a child row points at (address, point, codes)."""
    if hid in home_rows:
        entry = home_rows[hid]
    elif hid in homes_by_id:
        entry = homes.iloc[homes_by_id[hid]].to_dict()
        entry["_changed"] = False
    else:
        entry = {c: None for c in get_layer("households").column_names}
        entry.update(household_id=hid, geometry=None, _changed=True)
    for name in ("county_code", "township_code", "village_code"):
        if entry.get(name) != row[name]:
            entry[name], entry["_changed"] = row[name], True
    if row.get("address") and entry.get("address") != row["address"]:
        entry["address"], entry["_changed"] = row["address"], True
    village = villages[villages["village_code"] == row["village_code"]]
    if point is not None:
        old_point = entry.get("geometry")
        if old_point is None or not old_point.equals_exact(point, 1e-9):
            entry["geometry"], entry["source_crs"], entry["_changed"] = point, source_crs, True
        if len(village) and not village.geometry.iloc[0].covers(point):
            problems.append(Problem(number, "经度/纬度",
                                    f"家庭位置不在“{row['village_name']}”的村界内",
                                    "请核对经纬度、坐标系或所属村（不影响导入）",
                                    "警告"))  # fmt: skip
    elif entry.get("geometry") is None:
        committee = village.iloc[0] if len(village) else None
        if committee is not None and pd.notna(committee["committee_lon"]):
            entry["geometry"] = Point(committee["committee_lon"], committee["committee_lat"])
        elif committee is not None:
            entry["geometry"] = committee.geometry.representative_point()
        entry["source_crs"] = UNLOCATED
        problems.append(Problem(number, "经度/纬度", "没有家庭位置，暂按村委会位置记录",
                                "请补充经纬度：不补充时该户的水域距离按村委会位置计算，不准确",
                                "警告"))  # fmt: skip
    home_rows[hid] = entry


def _household_frame(home_rows) -> gpd.GeoDataFrame:
    columns = get_layer("households").column_names
    changed = [
        {c: e.get(c) for c in (*columns, "geometry")}
        for e in home_rows.values()
        if e.get("_changed")
    ]
    frame = pd.DataFrame(changed, columns=[*columns, "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)
