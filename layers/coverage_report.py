"""The 20 August return: an Excel workbook per township, one row per village, and a summary.

Laid out to forward upward as it is: a title, the campaign's dates, the internal-use header on
printed pages, column widths and frozen headers.
"""

from __future__ import annotations

import io

import pandas as pd

VILLAGE_HEADERS = [
    "序号", "村（社区）", "村（社区）代码", "完成情况", "宣讲场次（计入）", "宣讲日期",
    "宣讲主题", "参加儿童（人次）", "参加监护人（人次）", "佐证材料（份）",
    "留守及困境儿童（人）", "儿童主任",
]  # fmt: skip


def report_bytes(result, township_code: str, township_name: str) -> bytes:
    """The workbook for one township of a CoverageResult."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    from geo.coverage import counted_sessions

    coverage = result.coverage[result.coverage["township_code"] == township_code]
    counted = counted_sessions(result.sessions, result.campaign, result.as_of)
    campaign = result.campaign
    book = openpyxl.Workbook()
    summary = book.active
    summary.title = "汇总"
    rollup = result.rollup.set_index("township_code")
    done, on_time, percent = (
        (int(rollup.at[township_code, "done"]), int(rollup.at[township_code, "on_time"]),
         float(rollup.at[township_code, "percent"]))
        if township_code in rollup.index else (0, 0, 0.0)
    )  # fmt: skip
    lines = [
        (f"{township_name}{campaign.name}安全教育宣讲情况汇总",),
        ("统计日期", result.as_of.isoformat()),
        ("宣讲截止日期", campaign.deadline.isoformat()),
        ("报送日期", campaign.report_due.isoformat()),
        ("村（社区）总数", len(coverage)),
        ("已开展（含逾期）", done),
        ("按期完成", on_time),
        ("完成率（%）", percent),
        ("宣讲场次（计入）", int(coverage["sessions_counted"].sum())),
        ("参加儿童（人次）", int(pd.to_numeric(counted["attendance_children"]).fillna(0).sum())),
        ("佐证材料（份）", int(pd.to_numeric(counted["evidence_count"]).fillna(0).sum())),
    ]
    for line in lines:
        summary.append(list(line))
    summary["A1"].font = Font(bold=True, size=14)
    summary.column_dimensions["A"].width = 22
    summary.column_dimensions["B"].width = 16

    sheet = book.create_sheet("各村情况")
    sheet.append(VILLAGE_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for seq, row in enumerate(coverage.itertuples(index=False), start=1):
        mine = counted[counted["village_code"] == row.village_code]
        dates = sorted(pd.to_datetime(mine["session_date"]).dt.strftime("%m-%d"))
        sheet.append([
            seq, row.village_name, row.village_code, row.status, row.sessions_counted,
            "、".join(dates), row.topics,
            int(pd.to_numeric(mine["attendance_children"]).fillna(0).sum()),
            int(pd.to_numeric(mine["attendance_guardians"]).fillna(0).sum()),
            int(pd.to_numeric(mine["evidence_count"]).fillna(0).sum()),
            row.children_in_scope, row.directors,
        ])  # fmt: skip
    for letter, width in zip("ABCDEFGHIJKL", (6, 14, 15, 10, 10, 16, 24, 10, 10, 10, 12, 14),
                             strict=True):  # fmt: skip
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    for ws in (summary, sheet):
        ws.oddHeader.center.text = "内部资料 · 注意保密"
        ws.page_setup.orientation = "landscape"
        ws.print_title_rows = "1:1" if ws is sheet else None
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
