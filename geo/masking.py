"""Masking of personal fields, applied by default wherever children's data is shown or exported.

Names keep the family name and, for three or more characters, the last one (张*三, 张*);
identity numbers keep the 6-digit region and the last 4 (500115********1234); phones keep the
first 3 and last 4 (138****5678); addresses are cut to the village.
"""

from __future__ import annotations

import pandas as pd

HIDDEN = "（已隐藏）"


def mask_name(name: str | None) -> str | None:
    if name is None or pd.isna(name) or name == "":
        return name
    name = str(name)
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(value: str | None) -> str | None:
    if value is None or pd.isna(value) or value == "":
        return value
    value = str(value)
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    if value is None or pd.isna(value) or value == "":
        return value
    value = str(value)
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_address(value: str | None, village: str | None = None) -> str | None:
    """The address down to the village: the village name when known, else hidden."""
    if value is None or pd.isna(value) or value == "":
        return value
    return f"{village}{HIDDEN}" if village else HIDDEN


# Column name -> masking function, for the personal columns of the catalogue.
MASKS = {
    "name": mask_name,
    "guardian_name": mask_name,
    "caregiver_name": mask_name,
    "id_number": mask_id_number,
    "guardian_phone": mask_phone,
    "caregiver_phone": mask_phone,
    "address": mask_address,
    "disability": lambda v: v if v is None or pd.isna(v) or v == "" else "有",
}


def mask_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A copy with the given personal columns masked (unknown columns are hidden entirely)."""
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            fn = MASKS.get(col, lambda v: v if v is None or pd.isna(v) else HIDDEN)
            out[col] = pd.Series([fn(v) for v in out[col]], index=out.index, dtype=object)
    return out
