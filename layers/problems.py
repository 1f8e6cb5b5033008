"""What an import check found, and the parts every import plan shares (ledgers and layers)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

PROBLEM_COLUMNS = ["行号", "列", "问题", "处理办法", "级别"]


@dataclass
class Problem:
    row: int  # row number in the file (0: the file as a whole)
    column: str  # the file's column header ('' when not about one column)
    problem: str
    fix: str
    level: str = "错误"  # 错误 blocks the import; 警告 does not

    def as_dict(self) -> dict:
        return dict(zip(PROBLEM_COLUMNS, (self.row or "", self.column, self.problem, self.fix,
                                          self.level), strict=True))  # fmt: skip


class PlanChecks:
    """Shared by import plans: `problems` (list of Problem) and `actions` (with an 操作 column
    of 新增/更新/不变) are the plan's fields."""

    problems: list[Problem]
    actions: pd.DataFrame

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "错误"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        ops = self.actions["操作"].value_counts() if len(self.actions) else pd.Series(dtype=int)
        return {op: int(ops.get(op, 0)) for op in ("新增", "更新", "不变")}

    def problem_table(self) -> pd.DataFrame:
        return pd.DataFrame([p.as_dict() for p in self.problems], columns=PROBLEM_COLUMNS)


def same_value(a, b) -> bool:
    """Equal as stored values: nulls alike, dates as timestamps, numbers as floats."""
    if a is None or (not isinstance(a, str) and pd.isna(a)):
        return b is None or (not isinstance(b, str) and pd.isna(b))
    if b is None or (not isinstance(b, str) and pd.isna(b)):
        return False
    if isinstance(a, (pd.Timestamp, dt.date)) or isinstance(b, (pd.Timestamp, dt.date)):
        return pd.Timestamp(a) == pd.Timestamp(b)
    if isinstance(a, (int, float, np.integer, np.floating)) and isinstance(
        b, (int, float, np.integer, np.floating)
    ):
        return float(a) == float(b)
    return a == b
