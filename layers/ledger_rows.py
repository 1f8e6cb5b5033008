"""One ledger row at a time: cells read into catalogue values, with every problem reported
(identity number, dates, sex, village, values, phones, coordinates). Used by child_import."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
from shapely.geometry import Point

from geo import idcard, vocab
from geo.crs import in_china, lonlat_to_wgs84, near_area
from layers import ledger
from layers.problems import Problem
from layers.tabular import RawTable
from layers.village_index import VillageIndex

CHILD_MAX_AGE = 18  # a child is under 18 (the ledgers cover minors)
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")


def column_of(mapping: dict[str, str], name: str) -> str:
    return mapping.get(name, ledger.BY_NAME[name].header)


def cell_of(table: RawTable, i: int, mapping: dict[str, str], name: str) -> object:
    column = mapping.get(name)
    if column is None:
        return None
    return table.rows[i][table.columns.index(column)]


def parse_row(table, i, mapping, as_of, index: VillageIndex, problems) -> dict | None:
    """One ledger row as catalogue values; problems appended; None when it cannot be used."""
    number = table.row_numbers[i]
    count = len(problems)

    def cell(name):
        return cell_of(table, i, mapping, name)

    def bad(name, problem, fix, level="错误"):
        problems.append(Problem(number, column_of(mapping, name), problem, fix, level))

    out: dict[str, object] = {}
    for name in ("name",):
        if not ledger.text(cell(name)):
            bad(name, "姓名为空", "请填写儿童姓名")
    out["name"] = ledger.text(cell("name")) or None
    number_text = id_number_of(cell("id_number"), bad)
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


def id_number_of(value: object, bad) -> str | None:
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


def check_duplicates(table, parsed, mapping, problems) -> None:
    seen: dict[str, int] = {}
    for i, row in enumerate(parsed):
        if row is None or not row.get("id_number"):
            continue
        number = table.row_numbers[i]
        first = seen.setdefault(row["id_number"], number)
        if first != number:
            problems.append(Problem(number, column_of(mapping, "id_number"),
                                    f"身份证号与第 {first} 行重复（同一名儿童登记了两次）",
                                    "请删除重复的一行，或核对号码"))  # fmt: skip
            parsed[i] = None


def points_of(table, parsed, mapping, source_crs, villages, problems) -> dict[int, Point]:
    """Row index -> WGS84 point for rows with coordinates; bad coordinates reported."""
    lon_col, lat_col = column_of(mapping, "lon"), column_of(mapping, "lat")
    raw = {}
    for i, row in enumerate(parsed):
        if row is None:
            continue
        lon_t = ledger.text(cell_of(table, i, mapping, "lon"))
        lat_t = ledger.text(cell_of(table, i, mapping, "lat"))
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
    bounds = villages.total_bounds
    out = {}
    for k, x, y in zip(keys, lon, lat, strict=True):
        if len(villages) and not near_area(bounds, x, y):
            problems.append(Problem(table.row_numbers[k], f"{lon_col}/{lat_col}",
                                    f"坐标（{raw[k][0]}, {raw[k][1]}）离本辖区太远（20 公里以外）",
                                    "请核对经纬度和所选坐标系"))  # fmt: skip
            parsed[k] = None
            continue
        out[k] = Point(float(x), float(y))
    return out
