"""The child ledger (台账) as offices fill it: fields, header synonyms, values, templates.

The fields are those of the attachments of seed 000 (附件1 留守儿童信息台账, 附件2 困境儿童信息台账)
plus what DOMAIN.md lists. Each field has the header of our template and the other headers
offices use for it; values are read in Chinese (男/女, 是/否, category names) into catalogue codes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass

from geo import vocab
from layers.tabular import normalise_header


@dataclass(frozen=True)
class Field:
    name: str  # our field name (a catalogue column, or an input used to derive one)
    header: str  # the header in our templates
    synonyms: tuple[str, ...] = ()
    required: bool = False


FIELDS: tuple[Field, ...] = (
    Field("seq", "序号", ("编号", "序")),
    Field("name", "姓名", ("儿童姓名",), required=True),
    Field("sex", "性别", ()),
    Field("id_number", "身份证号", ("身份证号码", "公民身份号码", "身份证"),
          required=True),
    Field("birth_date", "出生日期", ("出生年月", "出生年月日")),
    Field("registration", "户籍性质", ("户口性质", "户籍类型")),
    Field("address", "现住址", ("家庭住址", "现居住地址", "住址", "现居住地")),
    Field("village", "所属村(社区)", ("所属村", "村(社区)", "村社区", "村名", "所在村", "社区")),
    Field("village_code", "村(社区)代码", ("村代码", "区划代码", "村级区划代码", "统计用区划代码")),
    Field("school", "就学情况", ("就读学校", "就学", "在读学校")),
    Field("categories", "儿童类别", ("类别", "儿童类型")),
    Field("reasons", "留守/困境原因", ("留守的原因", "留守原因", "困境原因", "困境类型")),
    Field("disability", "残疾情况", ("残疾类别", "残疾等级")),
    Field("guardian_name", "监护人", ("监护人姓名",)),
    Field("guardian_phone", "监护人电话", ("监护人联系电话", "监护人联系方式", "联系电话")),
    Field("guardian_capable", "监护人有无监护能力", ("监护能力", "有无监护能力")),
    Field("caregiver_name", "委托照护人", ("委托照护人姓名", "受委托人", "照护人")),
    Field("caregiver_phone", "委托照护人电话", ("委托照护人联系电话", "照护人电话")),
    Field("caregiver_agreement_signed", "是否签订委托照护协议",
          ("签订委托照护协议", "委托照护协议", "是否签订协议", "委托协议")),
    Field("father_situation", "父亲情况/状况", ("父亲情况", "父亲状况", "父亲情况/情况")),
    Field("father_work_place", "父亲情况/务工地点", ("父亲务工地", "父亲务工地点",
                                                "父亲情况/外出务工地", "父亲情况/地点")),
    Field("father_away_since", "父亲情况/外出时间", ("父亲外出时间", "父亲情况/外出起始时间")),
    Field("mother_situation", "母亲情况/状况", ("母亲情况", "母亲状况", "母亲情况/情况")),
    Field("mother_work_place", "母亲情况/务工地点", ("母亲务工地", "母亲务工地点",
                                                "母亲情况/外出务工地", "母亲情况/地点")),
    Field("mother_away_since", "母亲情况/外出时间", ("母亲外出时间", "母亲情况/外出起始时间")),
    Field("lon", "经度", ("东经", "X坐标", "lon", "lng", "longitude")),
    Field("lat", "纬度", ("北纬", "Y坐标", "lat", "latitude")),
)  # fmt: skip
BY_NAME = {f.name: f for f in FIELDS}
# Normalised header -> field name, for every template header and synonym.
SYNONYMS: dict[str, str] = {}
for _field in FIELDS:
    for _text in (_field.header, *_field.synonyms):
        SYNONYMS.setdefault(normalise_header(_text), _field.name)
KNOWN_HEADERS = set(SYNONYMS)


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """field name -> file column, from the headers (full "group/sub" name first, then sub)."""
    mapping: dict[str, str] = {}
    for column in columns:
        for candidate in (column, column.rsplit("/", 1)[-1]):
            field = SYNONYMS.get(normalise_header(candidate))
            if field is not None:
                mapping.setdefault(field, column)
                break
    return mapping


# -- values -----------------------------------------------------------------------------------

_YES = {"是", "有", "已签", "已签订", "签订", "y", "yes", "true", "1", "√"}
_NO = {"否", "无", "未签", "未签订", "没有", "n", "no", "false", "0", "×"}
SEX_WORDS = {"男": "M", "男性": "M", "女": "F", "女性": "F", "m": "M", "f": "F"}
REGISTRATION_WORDS = {
    "农业": "rural", "农业户籍": "rural", "农业户口": "rural", "农村": "rural",
    "非农业": "urban", "非农业户籍": "urban", "非农业户口": "urban", "城镇": "urban",
    "居民": "urban", "城镇户籍": "urban",
}  # fmt: skip
CATEGORY_WORDS = {
    **{label: code for code, label in vocab.CHILD_CATEGORIES.items()},
    "孤儿": "orphan", "事实无人抚养": "unsupported", "留守儿童": "left_behind_rural",
    "农村留守": "left_behind_rural", "城镇留守": "left_behind_urban", "困境儿童": "difficulty",
}  # fmt: skip
REASON_WORDS = {
    **{label: code for code, label in vocab.DIFFICULTY_REASONS.items()},
    "低保": "low_income", "特困": "low_income", "残疾儿童": "disabled", "重病": "disabled",
    "家暴": "domestic_violence", "走失": "wandering",
}  # fmt: skip
PARENT_WORDS = {
    **{label: code for code, label in vocab.PARENT_SITUATIONS.items()},
    "外出务工": "away_out_of_county", "外出": "away_out_of_county", "县外": "away_out_of_county",
    "县内": "away_in_county", "本地务工": "away_in_county", "务工": "away_out_of_county",
    "在家务农": "home", "去世": "deceased", "死亡": "deceased", "服刑": "incapable",
    "重病": "incapable", "重残": "incapable", "失联": "incapable", "未知": "unknown",
}  # fmt: skip
_SPLIT = re.compile(r"[、,，;；/\s]+")


def text(value: object) -> str:
    """A cell as trimmed text ('' for empty); whole-number floats lose their '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def yes_no(value: object) -> bool | None:
    """是/否 in the forms offices write; None when empty; ValueError otherwise."""
    word = text(value).lower()
    if not word:
        return None
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ValueError(word)


def codes(value: object, words: dict[str, str]) -> list[str]:
    """Several labels in one cell (、 , ; separated) as codes; ValueError names an unknown one."""
    out = []
    for part in _SPLIT.split(text(value)):
        if not part:
            continue
        if part not in words:
            raise ValueError(part)
        if words[part] not in out:
            out.append(words[part])
    return out


_DATE_FORMS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y年%m月%d号")
_MONTH_FORMS = ("%Y-%m", "%Y/%m", "%Y.%m", "%Y年%m月")


def date_value(value: object, month_ok: bool = False) -> dt.date | None:
    """A date from an Excel date cell or the written forms; None when empty; ValueError else.
    With `month_ok`, a month alone (2023年3月) is its first day."""
    if value is None or text(value) == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    word = text(value).replace(" ", "")
    for form in _DATE_FORMS + (_MONTH_FORMS if month_ok else ()):
        try:
            return dt.datetime.strptime(word, form).date()
        except ValueError:
            continue
    raise ValueError(word)


def months_between(since: dt.date, until: dt.date) -> int:
    return max(0, (until.year - since.year) * 12 + until.month - since.month)


# -- templates --------------------------------------------------------------------------------

LEDGERS = {
    "left_behind": "附件1 村（社区）暑期安全专项行动留守儿童信息台账",
    "difficulty": "附件2 村（社区）暑期安全专项行动困境儿童信息台账",
}
# The template columns: (group title or None, field names) in the order of the attachments.
TEMPLATE_GROUPS: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (None, ("seq",)),
    ("儿童基本情况", ("name", "sex", "id_number", "birth_date", "registration", "village",
                      "village_code", "address", "school", "categories")),
    ("监护与照护", ("guardian_name", "guardian_phone", "guardian_capable", "caregiver_name",
                    "caregiver_phone", "caregiver_agreement_signed")),
    ("父亲情况", ("father_situation", "father_work_place", "father_away_since")),
    ("母亲情况", ("mother_situation", "mother_work_place", "mother_away_since")),
    (None, ("reasons", "disability")),
    ("位置（请注明坐标系）", ("lon", "lat")),
)  # fmt: skip


def sub_header(field: str) -> str:
    """The header under a group title (the part after "/")."""
    return BY_NAME[field].header.rsplit("/", 1)[-1]


def template_bytes(kind: str, rows: list[dict] | None = None) -> bytes:
    """An .xlsx ledger in the attachment layout: a title, grouped two-row header, identity
    number column formatted as text; `rows` (field -> value) fill it (for exports)."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    if kind not in LEDGERS:
        raise ValueError(f"unknown ledger {kind!r}")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "台账"
    order = [f for _group, fields in TEMPLATE_GROUPS for f in fields]
    sheet.cell(1, 1, LEDGERS[kind].split(" ", 1)[1]).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(order))
    column = 1
    for group, fields in TEMPLATE_GROUPS:
        if group is None:
            for field in fields:
                sheet.cell(2, column, BY_NAME[field].header)
                sheet.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
                column += 1
            continue
        sheet.cell(2, column, group)
        sheet.merge_cells(
            start_row=2, start_column=column, end_row=2, end_column=column + len(fields) - 1
        )
        for field in fields:
            sheet.cell(3, column, sub_header(field))
            column += 1
    for row in sheet.iter_rows(min_row=2, max_row=3):
        for cell in row:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    id_column = order.index("id_number") + 1
    letter = openpyxl.utils.get_column_letter(id_column)
    sheet.column_dimensions[letter].width = 22
    for r, values in enumerate(rows or [], start=4):
        for c, field in enumerate(order, start=1):
            value = values.get(field)
            if value is not None and value != "":
                sheet.cell(r, c, value)
    for r in range(4, 4 + max(len(rows or []), 200)):
        sheet.cell(r, id_column).number_format = "@"  # text: Excel must not make it a number
    sheet.freeze_panes = "B4"
    page = sheet.page_setup
    page.orientation = "landscape"
    sheet.oddHeader.center.text = "内部资料 · 注意保密"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
