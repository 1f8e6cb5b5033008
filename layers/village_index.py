"""Finding a village from what a ledger or file says: a 12-digit code or a name as written."""

from __future__ import annotations

import re

import pandas as pd

_SUFFIX = re.compile(r"(村民委员会|居民委员会|社区居委会|村委会|居委会|委员会)$")


def name_key(name: object) -> str:
    """A village name compared loosely: no spaces, no committee suffix (石溪村委会 = 石溪村)."""
    text = re.sub(r"\s+", "", "" if name is None else str(name))
    return _SUFFIX.sub("", text)


class VillageIndex:
    """Villages by code and by name (names shared by villages of different townships are
    ambiguous and need a code)."""

    def __init__(self, villages: pd.DataFrame):
        self.frame = villages
        self.by_code = {
            str(c): row
            for c, row in zip(villages["village_code"], villages.itertuples(), strict=True)
        }
        by_name: dict[str, list] = {}
        for row in villages.itertuples():
            for key in {name_key(row.name), name_key(row.name).removesuffix("村")}:
                if key:
                    by_name.setdefault(key, []).append(row)
        self.by_name = by_name

    def find(self, code: str, name: str) -> tuple[object | None, tuple[str, str] | None]:
        """(village row, None) or (None, (what is wrong, how to fix it)) in Chinese."""
        code, name = (code or "").strip(), (name or "").strip()
        if code:
            row = self.by_code.get(code)
            if row is None:
                return None, (
                    f"村（社区）代码“{code}”不在本系统的村列表（或不在您的管辖范围）中",
                    "请核对 12 位代码；新村请先导入村（社区）图层",
                )
            return row, None
        if not name:
            return None, ("没有填写所属村（社区）", "请填写村（社区）名称或 12 位代码")
        matches = self.by_name.get(name_key(name)) or self.by_name.get(
            name_key(name).removesuffix("村")
        )
        if not matches:
            return None, (
                f"找不到名为“{name}”的村（社区）（或不在您的管辖范围）",
                "请核对村名（与村列表一致），或改填 12 位村（社区）代码",
            )
        unique = {m.village_code: m for m in matches}
        if len(unique) > 1:
            codes = "、".join(sorted(unique))
            return None, (
                f"有多个村叫“{name}”（{codes}）",
                "请增加“村（社区）代码”列，填写 12 位代码",
            )
        return next(iter(unique.values())), None
