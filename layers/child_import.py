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
import numpy as np
import pandas as pd
from shapely.geometry import Point

from geo import idcard, vocab
from geo.crs import SOURCE_SYSTEMS, in_china, lonlat_to_wgs84
from geo.masking import mask_name
from layers import ledger
from layers.catalogue import get_layer
from layers.places import VillageIndex
from layers.problems import PlanChecks, Problem, same_value
from layers.tabular import RawTable

CHILD_MAX_AGE = 18  # a child is under 18 (the ledgers cover minors)
AREA_MARGIN_DEG = 0.2  # about 20 km around the deployment's villages
UNLOCATED = "unlocated"  # source_crs of a new household placed at its village for lack of a point
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")


@dataclass
class ImportPlan(PlanChecks):
    children: pd.DataFrame  # rows to write (new and changed), catalogue columns
    households: gpd.GeoDataFrame  # rows to write (new and changed)
    actions: pd.DataFrame  # per file row: 行号, 儿童编号, 姓名 (masked), 操作, 变化
    problems: list[Problem] = field(default_factory=list)
    source_crs: str | None = None


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
            ledger.text(_cell(table, i, mapping, name))
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

    villages = _villages_in_scope(store)
    index = VillageIndex(villages)
    existing = store.read_layer("children")
    homes = store.read_layer("households")
    by_id = {str(v): i for i, v in enumerate(existing["id_number"]) if v is not None}

    parsed = [_parse_row(table, i, mapping, as_of, index, problems) for i in range(len(table.rows))]
    _check_duplicates(table, parsed, mapping, problems)
    points = _points(table, parsed, mapping, source_crs, villages, problems) if has_points else {}

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
            problems.append(Problem(number, _col(mapping, "village"),
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
    household_frame = _household_frame(home_rows, homes, homes_by_id)
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


def _col(mapping: dict[str, str], name: str) -> str:
    return mapping.get(name, ledger.BY_NAME[name].header)


def _cell(table: RawTable, i: int, mapping: dict[str, str], name: str) -> object:
    column = mapping.get(name)
    if column is None:
        return None
    return table.rows[i][table.columns.index(column)]


def _villages_in_scope(store) -> pd.DataFrame:
    villages = store.read_layer("villages")
    scope = getattr(store, "scope", None)
    if scope is not None:
        villages = villages[[scope.covers(c) for c in villages["village_code"]]]
    return villages


def _parse_row(table, i, mapping, as_of, index: VillageIndex, problems) -> dict | None:
    """One ledger row as catalogue values; problems appended; None when it cannot be used."""
    number = table.row_numbers[i]
    count = len(problems)

    def cell(name):
        return _cell(table, i, mapping, name)

    def bad(name, problem, fix, level="错误"):
        problems.append(Problem(number, _col(mapping, name), problem, fix, level))

    out: dict[str, object] = {}
    for name in ("name",):
        if not ledger.text(cell(name)):
            bad(name, "姓名为空", "请填写儿童姓名")
    out["name"] = ledger.text(cell("name")) or None
    number_text = _id_number(cell("id_number"), bad)
    out["id_number"] = number_text
    birth_from_id = None
    if number_text:
        try:
            birth_from_id = dt.datetime.strptime(number_text[6:14], "%Y%m%d").date()
        except ValueError:
            bad("id_number", f"身份证号中的出生日期 {number_text[6:14]} 不是有效日期",
                "请核对身份证号")  # fmt: skip
    try:
        birth = ledger.date_value(cell("birth_date"))
    except ValueError as exc:
        bad("birth_date", f"出生日期“{exc}”无法识别", "请写成 2015-03-08 或 2015年3月8日")
        birth = None
    if birth and birth_from_id and birth != birth_from_id:
        bad("birth_date", f"出生日期 {birth} 与身份证号中的 {birth_from_id} 不一致",
            "请核对出生日期或身份证号")  # fmt: skip
    birth = birth or birth_from_id
    out["birth_date"] = birth
    if birth is not None:
        if birth > as_of:
            bad("birth_date", f"出生日期 {birth} 晚于今天", "请核对出生日期")
        elif _age(birth, as_of) >= CHILD_MAX_AGE:
            age = _age(birth, as_of)
            bad("birth_date", f"已满 {CHILD_MAX_AGE} 周岁（{age} 岁），不属于儿童台账",
                "请从台账中移除，或核对出生日期和身份证号")  # fmt: skip
    sex_word = ledger.text(cell("sex")).lower()
    sex = ledger.SEX_WORDS.get(sex_word) if sex_word else None
    if sex_word and sex is None:
        bad("sex", f"性别“{sex_word}”无法识别", "请填写“男”或“女”")
    if number_text and idcard.is_valid(number_text):
        id_sex = idcard.sex_of(number_text)
        if sex and sex != id_sex:
            said, coded = vocab.SEXES[sex], vocab.SEXES[id_sex]
            bad("sex", f"性别“{said}”与身份证号（第 17 位表示{coded}）不一致",
                "请核对性别或身份证号")  # fmt: skip
        sex = sex or id_sex
    out["sex"] = sex
    village, reason = index.find(ledger.text(cell("village_code")), ledger.text(cell("village")))
    if village is None:
        bad("village_code" if ledger.text(cell("village_code")) else "village", *reason)
    else:
        out.update(county_code=village.county_code, township_code=village.township_code,
                   village_code=village.village_code, village_name=village.name)  # fmt: skip
    reg_word = ledger.text(cell("registration"))
    out["registration"] = ledger.REGISTRATION_WORDS.get(reg_word) if reg_word else None
    if reg_word and out["registration"] is None:
        bad("registration", f"户籍性质“{reg_word}”无法识别", "请填写“农业户籍”或“非农业户籍”")
    for name, words, what in (
        ("categories", ledger.CATEGORY_WORDS, vocab.CHILD_CATEGORIES),
        ("reasons", ledger.REASON_WORDS, vocab.DIFFICULTY_REASONS),
    ):
        try:
            out[name] = ledger.codes(cell(name), words)
        except ValueError as exc:
            bad(
                name,
                f"“{exc}”不是可识别的取值",
                f"可填：{'、'.join(what.values())}（多个用顿号分隔）",
            )
            out[name] = []
    for name in ("father_situation", "mother_situation"):
        word = ledger.text(cell(name))
        out[name] = ledger.PARENT_WORDS.get(word) if word else None
        if word and out[name] is None:
            bad(name, f"“{word}”无法识别", f"可填：{'、'.join(vocab.PARENT_SITUATIONS.values())}")
    for name in ("father_away_since", "mother_away_since"):
        value = cell(name)
        months = None
        if ledger.text(value):
            if re.fullmatch(r"\d{1,3}", ledger.text(value)):
                months = int(ledger.text(value))  # already a number of months
            else:
                try:
                    months = ledger.months_between(ledger.date_value(value, month_ok=True), as_of)
                except ValueError:
                    bad(
                        name,
                        f"外出时间“{ledger.text(value)}”无法识别",
                        "请写成 2023年3月 或 2023-03",
                    )
        out[name.replace("away_since", "months_away")] = months
    for name in ("guardian_capable", "caregiver_agreement_signed"):
        try:
            out[name] = ledger.yes_no(cell(name))
        except ValueError as exc:
            bad(name, f"“{exc}”应为“是”或“否”", "请填写“是”或“否”")
            out[name] = None
    for name in (
        "address",
        "school",
        "disability",
        "guardian_name",
        "guardian_phone",
        "caregiver_name",
        "caregiver_phone",
        "father_work_place",
        "mother_work_place",
    ):
        out[name] = ledger.text(cell(name)) or None  # fmt: skip
    for name in ("guardian_phone", "caregiver_phone"):
        phone = out[name]
        if phone and not re.fullmatch(r"[\d\-+ ]{7,20}", phone):
            bad(name, f"电话“{phone}”格式不对", "请只填数字（手机 11 位，座机可带区号和“-”）")
    if len(problems) > count and any(p.level == "错误" for p in problems[count:]):
        return None
    return out


def _id_number(value: object, bad) -> str | None:
    """The identity number as text, or None with the problem reported."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        bad("id_number", f"身份证号被 Excel 存成了数字（{value:.6g}），后几位已经丢失",
            "请把该列设为“文本”格式后重新填写身份证号（或在号码前加英文单引号'）")  # fmt: skip
        return None
    text = ledger.text(value).upper().replace(" ", "")
    if not text:
        bad("id_number", "身份证号为空", "请填写 18 位公民身份号码")
        return None
    if _SCIENTIFIC.match(text):
        bad("id_number", f"身份证号“{text}”是科学计数法，后几位已经丢失",
            "请在原始登记材料中查到完整号码，把该列设为“文本”格式后重新填写")  # fmt: skip
        return None
    if re.fullmatch(r"\d{15}", text):
        bad("id_number", "这是 15 位旧身份证号", "请换成 18 位公民身份号码")
        return None
    if not re.fullmatch(r"\d{17}[\dX]", text):
        bad("id_number", f"身份证号“{text[:6]}…”不是 18 位（现为 {len(text)} 位）",
            "请核对号码：18 位，最后一位可以是数字或 X")  # fmt: skip
        return None
    if not idcard.is_valid(text):
        bad("id_number", f"身份证号校验位不对（末位应为 {idcard.check_digit(text[:17])}）",
            "号码中可能有一位抄错，请对照户口簿核对")  # fmt: skip
        return None
    return text


def _age(birth: dt.date, as_of: dt.date) -> int:
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


def _check_duplicates(table, parsed, mapping, problems) -> None:
    seen: dict[str, int] = {}
    for i, row in enumerate(parsed):
        if row is None or not row.get("id_number"):
            continue
        number = table.row_numbers[i]
        first = seen.setdefault(row["id_number"], number)
        if first != number:
            problems.append(Problem(number, _col(mapping, "id_number"),
                                    f"身份证号与第 {first} 行重复（同一名儿童登记了两次）",
                                    "请删除重复的一行，或核对号码"))  # fmt: skip
            parsed[i] = None


def _points(table, parsed, mapping, source_crs, villages, problems) -> dict[int, Point]:
    """Row index -> WGS84 point for rows with coordinates; bad coordinates reported."""
    lon_col, lat_col = _col(mapping, "lon"), _col(mapping, "lat")
    raw = {}
    for i, row in enumerate(parsed):
        if row is None:
            continue
        lon_t = ledger.text(_cell(table, i, mapping, "lon"))
        lat_t = ledger.text(_cell(table, i, mapping, "lat"))
        if not lon_t and not lat_t:
            continue
        number = table.row_numbers[i]
        if not lon_t or not lat_t:
            given, lacking = ("纬度", "经度") if lat_t else ("经度", "纬度")
            problems.append(Problem(number, f"{lon_col}/{lat_col}",
                                    f"只填了{given}，缺少{lacking}",
                                    "请把经度和纬度都填上，或都留空"))  # fmt: skip
            parsed[i] = None
            continue
        try:
            lon, lat = float(lon_t), float(lat_t)
        except ValueError:
            problems.append(Problem(number, f"{lon_col}/{lat_col}",
                                    f"经纬度“{lon_t}, {lat_t}”不是数字",
                                    "请用十进制度数，如 107.0812, 29.8634"))  # fmt: skip
            parsed[i] = None
            continue
        if 3 < lon < 54 and 73 < lat < 136:
            problems.append(Problem(number, f"{lon_col}/{lat_col}",
                                    f"经度和纬度可能填反了（经度 {lon}，纬度 {lat}）",
                                    "中国的经度约 73–135，纬度约 4–54：请交换两列"))  # fmt: skip
            parsed[i] = None
            continue
        if not bool(in_china(lon, lat)):
            problems.append(Problem(number, f"{lon_col}/{lat_col}",
                                    f"坐标（{lon}, {lat}）不在中国境内",
                                    "请核对经纬度，或确认不是投影坐标（米）"))  # fmt: skip
            parsed[i] = None
            continue
        raw[i] = (lon, lat)
    if not raw:
        return {}
    keys = list(raw)
    lon, lat = lonlat_to_wgs84([raw[k][0] for k in keys], [raw[k][1] for k in keys], source_crs)
    minx, miny, maxx, maxy = villages.total_bounds if len(villages) else (0, 0, 0, 0)
    out = {}
    for k, x, y in zip(keys, lon, lat, strict=True):
        if len(villages) and not (
            minx - AREA_MARGIN_DEG <= x <= maxx + AREA_MARGIN_DEG
            and miny - AREA_MARGIN_DEG <= y <= maxy + AREA_MARGIN_DEG
        ):
            problems.append(Problem(table.row_numbers[k], f"{lon_col}/{lat_col}",
                                    f"坐标（{raw[k][0]}, {raw[k][1]}）离本辖区太远（20 公里以外）",
                                    "请核对经纬度和所选坐标系"))  # fmt: skip
            parsed[k] = None
            continue
        out[k] = Point(float(x), float(y))
    return out


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


def _household_frame(home_rows, homes, homes_by_id) -> gpd.GeoDataFrame:
    columns = get_layer("households").column_names
    changed = [
        {c: e.get(c) for c in (*columns, "geometry")}
        for e in home_rows.values()
        if e.get("_changed")
    ]
    frame = pd.DataFrame(changed, columns=[*columns, "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)
