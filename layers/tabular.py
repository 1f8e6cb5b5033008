"""Reading ledger tables (台账) from Excel (.xlsx) and CSV as offices keep them.

CSV comes as UTF-8, UTF-8 with BOM, GBK or GB18030: the encoding is detected by strict decoding
(never guessed into garbled text). The header row is found among the first rows by how many of
its cells are known headers, so a title row above it is skipped; a grouped header (a row of
group titles such as 父亲情况 over sub-headers such as 外出务工地) gives column names like
"父亲情况/外出务工地". Cells keep their Excel type so that an identity number stored as a number
can be refused instead of silently losing digits.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

HEADER_SCAN_ROWS = 12
SUFFIXES = (".xlsx", ".csv")  # what `read_table` reads
OLD_SHEETS = (".xls", ".et", ".wps")  # older spreadsheets, refused with how to save them


class TableError(ValueError):
    """The file cannot be read as a table; the message (Chinese) says why and what to do."""


@dataclass
class RawTable:
    """Cells of a ledger table below its header."""

    columns: list[str]  # one name per column; grouped headers as "group/sub"
    rows: list[list[object]]  # cell values: str (CSV) or openpyxl values (xlsx)
    row_numbers: list[int]  # the sheet/file row number of each data row (1-based), for messages
    encoding: str  # what was detected ("UTF-8", "UTF-8（带 BOM）", "GBK", "GB18030", "Excel")
    merged_header: bool = False  # a cell of the header row is merged across columns


def normalise_header(text: object) -> str:
    """A header cell compared loosely: no spaces or line breaks, ASCII brackets and slashes."""
    text = "" if text is None else str(text)
    text = re.sub(r"\s+", "", text)
    return text.replace("（", "(").replace("）", ")").replace("／", "/").replace("：", ":")


def decode_csv(data: bytes) -> tuple[str, str]:
    """(text, encoding name); TableError when no supported encoding decodes it cleanly."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8（带 BOM）"
    for codec, label in (("utf-8", "UTF-8"), ("gbk", "GBK"), ("gb18030", "GB18030")):
        try:
            return data.decode(codec), label
        except UnicodeDecodeError:
            continue
    raise TableError(
        "无法识别 CSV 文件的文字编码（支持 UTF-8、GBK、GB18030）。"
        "请在 Excel 中打开后“另存为”CSV UTF-8 或 .xlsx 文件再导入。"
    )


def read_table(data: bytes, filename: str, known: set[str]) -> RawTable:
    """The table in an .xlsx or .csv file; `known` holds normalised header names to look for."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        text, encoding = decode_csv(data)
        grid = [list(row) for row in csv.reader(io.StringIO(text))]
        merged: list[tuple[int, int, int, int]] = []
    elif suffix == ".xlsx":
        grid, merged = _xlsx_grid(data)
        encoding = "Excel"
    elif suffix in OLD_SHEETS:
        raise TableError(
            f"不支持旧版表格文件（{suffix}）。请在 Excel 或 WPS 中“另存为” .xlsx 后再导入。"
        )
    else:
        raise TableError(f"不支持的文件类型“{suffix or filename}”，请使用 .xlsx 或 .csv 文件。")
    return table_from_grid(grid, merged, encoding, known)


def _xlsx_grid(data: bytes) -> tuple[list[list[object]], list[tuple[int, int, int, int]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise TableError(
            "无法打开这个 Excel 文件（文件已损坏或不是 .xlsx）。请用 Excel 打开确认后另存为 .xlsx。"
        ) from exc
    sheet = book.worksheets[0]
    grid = [list(row) for row in sheet.iter_rows(values_only=True)]
    merged = [
        (r.min_row - 1, r.max_row - 1, r.min_col - 1, r.max_col - 1)
        for r in sheet.merged_cells.ranges
    ]
    return grid, merged


def table_from_grid(
    grid: list[list[object]],
    merged: list[tuple[int, int, int, int]],
    encoding: str,
    known: set[str],
) -> RawTable:
    width = max((len(r) for r in grid), default=0)
    grid = [list(r) + [None] * (width - len(r)) for r in grid]
    if not grid or width == 0:
        raise TableError("文件是空的：没有找到表头和数据。")
    _fill_merged(grid, merged)
    scores = [sum(normalise_header(c) in known for c in row) for row in grid[:HEADER_SCAN_ROWS]]
    header_at = max(range(len(scores)), key=lambda i: (scores[i], -i))
    if scores[header_at] < 2:
        raise TableError(
            "没有找到表头行：前几行里认不出“姓名”“身份证号”等列名。"
            "请使用系统提供的模板，或检查表头是否在前 12 行内。"
        )
    columns = _column_names(grid, header_at, known)
    body, numbers = [], []
    for index in range(header_at + 1, len(grid)):
        row = grid[index]
        if all(c is None or str(c).strip() == "" for c in row):
            continue
        body.append(row)
        numbers.append(index + 1)
    across = any(top <= header_at <= bottom and right > left for top, bottom, left, right in merged)
    return RawTable(columns, body, numbers, encoding, across)


def _fill_merged(grid: list[list[object]], merged: list[tuple[int, int, int, int]]) -> None:
    """Copy a merged range's value into every cell it covers (as Excel shows it)."""
    for top, bottom, left, right in merged:
        value = grid[top][left] if top < len(grid) else None
        for r in range(top, min(bottom, len(grid) - 1) + 1):
            for c in range(left, right + 1):
                grid[r][c] = value


def _column_names(grid: list[list[object]], header_at: int, known: set[str]) -> list[str]:
    """Header names, as "group/sub" where the row above holds group titles (see module doc)."""

    def shown(cell: object) -> str:  # as the user wrote it, without spaces or line breaks
        return re.sub(r"\s+", "", "" if cell is None else str(cell))

    header = [shown(c) for c in grid[header_at]]
    above = [shown(c) for c in grid[header_at - 1]] if header_at > 0 else []
    if len({c for c in above if c}) <= 1:
        above = []  # nothing above, or a title row over the whole table
    group = ""
    names = []
    for i, name in enumerate(header):
        if above:
            group = above[i] or group  # a group title spans the blank cells to its right
        combined = f"{group}/{name}"
        if not name:
            name = group  # a title merged down over both rows (序号, 备注 ...)
        elif (
            group
            and group != name
            and (normalise_header(name) not in known or normalise_header(combined) in known)
        ):
            name = combined
        names.append(name or f"第{i + 1}列")
    return names
