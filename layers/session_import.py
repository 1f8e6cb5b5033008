"""Education sessions: one entered in the app, or many from the Excel template; all or none.

Every row is checked against the campaign (date in its year, known form and topics) and the
user's villages; problems name the row. Sessions are matched by village, date (or planned date)
and form, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pandas as pd

from geo import vocab
from geo.coverage import Campaign
from layers import ledger
from layers.catalogue import get_layer
from layers.problems import Problem
from layers.tabular import RawTable, normalise_header
from layers.village_index import VillageIndex

# field -> (template header, synonyms)
FIELDS = {
    "village": ("村（社区）", ("所属村(社区)", "村(社区)", "村名", "村")),
    "village_code": ("村（社区）代码", ("村代码", "区划代码")),
    "session_date": ("宣讲日期", ("日期", "开展日期", "举办日期")),
    "planned_date": ("计划日期", ("计划开展日期",)),
    "form": ("形式", ("宣讲形式",)),
    "topics": ("主题", ("宣讲主题", "内容")),
    "presenter": ("宣讲人", ("主讲人",)),
    "attendance_children": ("参加儿童人数", ("儿童人数",)),
    "attendance_guardians": ("参加监护人人数", ("监护人人数", "家长人数")),
    "evidence_count": ("佐证材料数", ("照片数", "佐证材料")),
    "note": ("备注", ()),
}
SYNONYMS = {
    normalise_header(text): field
    for field, (header, others) in FIELDS.items()
    for text in (header, *others)
}
KNOWN_HEADERS = set(SYNONYMS)
FORM_WORDS = {
    **{v: k for k, v in vocab.SESSION_FORMS.items()},
    **{k: k for k in vocab.SESSION_FORMS},
    "讲座": "lecture", "集中宣讲": "lecture", "入户": "home_visit", "广播": "loudspeaker",
    "传单": "leaflet",
}  # fmt: skip
TOPIC_WORDS = {
    **{v: k for k, v in vocab.SESSION_TOPICS.items()},
    **{k: k for k in vocab.SESSION_TOPICS},
    "溺水": "drowning", "防火灾": "fire", "用电": "electricity", "交通": "traffic",
    "天气": "weather", "网络": "internet", "心理": "mental_health", "欺凌": "bullying",
    "性侵": "sexual_abuse",
}  # fmt: skip


def template_bytes() -> bytes:
    """The session template: one header row, no merged cells."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "宣讲记录"
    sheet.append([header for header, _ in FIELDS.values()])
    sheet.append(["（示例，导入前请删除）某某村", "", "2026-07-20", "", "集中讲座", "防溺水、防火",
                  "张老师", 35, 20, 3, ""])  # fmt: skip
    sheet.oddHeader.center.text = "内部资料 · 注意保密"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def session_id(village_code: str, day: dt.date | None, planned: dt.date | None, form: str) -> str:
    """Stable id: the same village, date and form is the same session."""
    text = f"{village_code}|{day}|{planned}|{form}"
    return "E" + hashlib.sha1(text.encode()).hexdigest()[:14].upper()


def check_session(
    values: dict,
    villages: VillageIndex,
    campaign: Campaign,
    row: int,
    columns: dict[str, str] | None = None,
) -> tuple[dict | None, list[Problem]]:
    """One session's values (from a form or a file row) as a catalogue row, or the problems."""
    columns = columns or {f: h for f, (h, _) in FIELDS.items()}
    problems: list[Problem] = []

    def bad(field, problem, fix):
        problems.append(Problem(row, columns.get(field, FIELDS[field][0]), problem, fix))

    village, reason = villages.find(ledger.text(values.get("village_code")),
                                    ledger.text(values.get("village")))  # fmt: skip
    if village is None:
        bad("village_code" if ledger.text(values.get("village_code")) else "village", *reason)
    dates = {}
    for field in ("session_date", "planned_date"):
        try:
            dates[field] = ledger.date_value(values.get(field))
        except ValueError as exc:
            bad(field, f"日期“{exc}”无法识别", "请写成 2026-07-20")
            dates[field] = None
        day = dates[field]
        if day is not None and day.year != campaign.year:
            bad(field, f"日期 {day} 不在行动年度 {campaign.year} 年内",
                f"请核对日期，或选择 {day.year} 年的专项行动")  # fmt: skip
    if (
        not dates["session_date"]
        and not dates["planned_date"]
        and not any(
            p.column in (columns.get("session_date"), columns.get("planned_date")) for p in problems
        )
    ):
        bad("session_date", "宣讲日期和计划日期都为空", "已开展的填宣讲日期，尚未开展的填计划日期")
    form_word = ledger.text(values.get("form"))
    form = FORM_WORDS.get(form_word)
    if form is None:
        bad("form", f"形式“{form_word}”无法识别" if form_word else "形式为空",
            f"可填：{'、'.join(vocab.SESSION_FORMS.values())}")  # fmt: skip
    try:
        topics = ledger.codes(values.get("topics"), TOPIC_WORDS)
        if not topics:
            bad("topics", "主题为空", f"可填：{'、'.join(vocab.SESSION_TOPICS.values())}")
    except ValueError as exc:
        bad("topics", f"主题“{exc}”无法识别", f"可填：{'、'.join(vocab.SESSION_TOPICS.values())}")
        topics = []
    counts = {}
    for field in ("attendance_children", "attendance_guardians", "evidence_count"):
        text = ledger.text(values.get(field))
        if text and not text.isdigit():
            bad(field, f"“{text}”不是人数/个数", "请填写整数")
        counts[field] = int(text) if text.isdigit() else None
    if problems:
        return None, problems
    return {
        "session_id": session_id(village.village_code, dates["session_date"],
                                 dates["planned_date"], form),
        "county_code": village.county_code, "township_code": village.township_code,
        "village_code": village.village_code,
        "session_date": dates["session_date"], "planned_date": dates["planned_date"],
        "form": form, "topics": vocab.join_codes(topics),
        "presenter": ledger.text(values.get("presenter")) or None,
        **counts, "note": ledger.text(values.get("note")) or None,
    }, []  # fmt: skip


def plan_sessions(store, table: RawTable, campaign: Campaign) -> tuple[pd.DataFrame, list[Problem]]:
    """The file's sessions as rows to write, or every problem (row by row)."""
    columns = {}
    for column in table.columns:
        field = SYNONYMS.get(normalise_header(column))
        if field is not None:
            columns.setdefault(field, column)
    problems = []
    if table.merged_header:
        problems.append(Problem(0, "", "表头有合并单元格，无法确定每一列的含义",
                                "请使用系统的宣讲记录模板（单行表头、无合并单元格）"))  # fmt: skip
    missing = [FIELDS[f][0] for f in ("form", "topics") if f not in columns]
    if "village" not in columns and "village_code" not in columns:
        missing.append("村（社区）")
    if "session_date" not in columns and "planned_date" not in columns:
        missing.append("宣讲日期")
    if missing:
        problems.append(Problem(0, "", f"缺少列：{'、'.join(missing)}",
                                "请使用系统提供的宣讲记录模板，不要删除或改名表头"))  # fmt: skip
    if problems:
        return _empty(), problems
    villages = _villages(store)
    rows = []
    for i, cells in enumerate(table.rows):
        values = {f: cells[table.columns.index(c)] for f, c in columns.items()}
        row, found = check_session(values, villages, campaign, table.row_numbers[i], columns)
        problems.extend(found)
        if row is not None:
            rows.append(row)
    frame = pd.DataFrame(rows, columns=get_layer("education_sessions").column_names)
    dup = frame["session_id"].duplicated()
    for i in frame.index[dup]:
        code = frame.at[i, "village_code"]
        problems.append(Problem(0, "", f"同一村同一天同一形式的宣讲重复登记（{code}）",
                                "请删除重复的一行"))  # fmt: skip
    return frame, problems


def _villages(store) -> VillageIndex:
    return VillageIndex(store.read_own("villages"))


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=get_layer("education_sessions").column_names)
