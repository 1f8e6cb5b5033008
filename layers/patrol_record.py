"""Reading filled-in patrol sheets back (`shouhu patrol record FILE`): every sheet of the
workbook, each stop with findings becomes an inspection; all rows are checked first and one
problem anywhere means nothing is recorded."""

from __future__ import annotations

import io

import pandas as pd

from geo import vocab
from layers import ledger
from layers.patrol_sheets import FINDING_HEADERS, INFO_HEADERS
from layers.problems import Problem
from layers.tabular import normalise_header, table_from_grid

STATUS_WORDS = {"完好": "present", "有": "present", "√": "present", "缺失": "missing",
                "缺": "missing", "无": "missing", "损坏": "damaged", "坏": "damaged"}  # fmt: skip
ITEM_COLUMNS = {vocab.EQUIPMENT_ITEMS[i]: i for i in vocab.FOUR_ITEMS} | {"隔离设施": "fence"}
REQUIRED = ["水域编号", *FINDING_HEADERS[:2], *ITEM_COLUMNS]


def read_records(data: bytes, known_water_ids: set[str]) -> tuple[list[dict], list[Problem]]:
    """Inspection records from a filled workbook, or the problems (sheet, row and field)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:
        raise ValueError("无法打开这个 Excel 文件，请确认是系统导出的巡查单（.xlsx）") from exc
    records, problems = [], []
    known = {normalise_header(h) for h in [*INFO_HEADERS, *FINDING_HEADERS]}
    for sheet in book.worksheets:
        grid = [list(r) for r in sheet.iter_rows(values_only=True)]
        try:
            table = table_from_grid(grid, [], "Excel", known)
        except ValueError:
            problems.append(Problem(0, sheet.title, "这一页不是巡查单（找不到表头）",
                                    "请使用系统导出的巡查单，不要改动表头"))  # fmt: skip
            continue
        columns = {normalise_header(c): i for i, c in enumerate(table.columns)}
        missing = [h for h in REQUIRED if normalise_header(h) not in columns]
        if missing:
            problems.append(Problem(0, sheet.title, f"缺少或改动了列：{'、'.join(missing)}",
                                    "请使用系统导出的巡查单，只填写空白栏"))  # fmt: skip
            continue
        for cells, number in zip(table.rows, table.row_numbers, strict=True):
            record = _row(cells, columns, number, sheet.title, known_water_ids, problems)
            if record is not None:
                records.append(record)
    return records, problems


def _row(cells, columns, number, sheet, known_ids, problems) -> dict | None:
    def cell(header):
        return cells[columns[normalise_header(header)]]

    def bad(field, problem, fix):
        problems.append(Problem(number, f"{sheet}·{field}", problem, fix))

    findings = [cell(h) for h in ("巡查时间", *ITEM_COLUMNS)]
    if all(ledger.text(v) == "" for v in findings):
        return None  # a stop not visited: nothing to record
    water_id = ledger.text(cell("水域编号"))
    count = len(problems)
    if water_id not in known_ids:
        bad("水域编号", f"水域编号“{water_id}”不存在（或不在您的管辖范围）", "请不要改动水域编号")
    at = cell("巡查时间")
    try:
        when = pd.Timestamp(at) if at is not None and ledger.text(at) else None
    except (ValueError, TypeError):
        when = None
    if when is None or pd.isna(when):
        bad("巡查时间", f"巡查时间“{ledger.text(at)}”无法识别", "请写成 2026-07-20 09:30")
    statuses = {}
    for header, item in ITEM_COLUMNS.items():
        word = ledger.text(cell(header))
        statuses[f"{item}_status"] = STATUS_WORDS.get(word)
        if statuses[f"{item}_status"] is None:
            bad(
                header,
                f"“{word}”不是设备状态" if word else "设备状态为空",
                "请填写：完好、缺失或损坏",
            )
    seen = ledger.text(cell("发现儿童人数")) if "发现儿童人数" in columns else ""
    if seen and not seen.isdigit():
        bad("发现儿童人数", f"“{seen}”不是人数", "请填写整数，没有则填 0")
    if len(problems) > count:
        return None
    return {"water_id": water_id, "inspected_at": when,
            "patroller": ledger.text(cell("巡查人")) or None, **statuses,
            "children_seen": int(seen) if seen else None,
            "note": ledger.text(cell("备注")) or None if "备注" in columns else None}  # fmt: skip
