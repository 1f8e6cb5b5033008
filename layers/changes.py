"""What a write changed, record by record, for the audit log (old and new values).

Personal values are masked in the log as on screen: the log shows that a name or identity
number changed and its masked form, not a second copy of the full value. Locations are recorded
as changed or not, never as coordinates.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from geo.masking import MASKS, mask_address
from layers.catalogue import Layer

LOCATION = "（位置）"


def record_changes(layer: Layer, old: pd.DataFrame, new: pd.DataFrame) -> list[tuple[str, dict]]:
    """(record id, {"old": {...} or None, "new": {...}}) for each row of `new`; `old` holds
    the rows with the same keys as they were before the write (absent for new records)."""
    before = {str(k): row for k, row in zip(old[layer.key], _rows(layer, old), strict=True)}
    out = []
    for key, row in zip(new[layer.key], _rows(layer, new), strict=True):
        previous = before.get(str(key))
        if previous is None:
            out.append((str(key), {"old": None, "new": _shown(layer, row)}))
            continue
        changed = [c for c in {**previous, **row} if row.get(c) != previous.get(c)]
        old_values = {c: previous.get(c) for c in changed}
        new_values = {c: row.get(c) for c in changed}
        out.append((str(key), {"old": _shown(layer, old_values), "new": _shown(layer, new_values)}))
    return out


def _shown(layer: Layer, values: dict) -> dict:
    """Values as logged: personal ones masked (compared before masking, so a change between two
    values with the same mask is still seen) and the location only as a marker."""
    out = {}
    for col, value in values.items():
        if value is not None and col in layer.personal_columns:
            value = mask_address(value) if col == "address" else MASKS[col](value)
        elif value is not None and col == LOCATION:
            value = "（已记录）"
        out[col] = value
    return out


def _rows(layer: Layer, frame: pd.DataFrame) -> list[dict]:
    """Each row as {column: value} (the location as a hash of its WKB), nulls left out."""
    columns = [c for c in layer.column_names if c in frame.columns]
    has_geometry = layer.geometry is not None and "geometry" in frame.columns
    rows = []
    for i in range(len(frame)):
        row = {}
        for col in columns:
            value = frame[col].iloc[i]
            if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
                continue
            if hasattr(value, "item"):  # numpy scalar
                value = value.item()
            row[col] = value if isinstance(value, (bool, int, float)) else str(value)
        if has_geometry:
            geom = frame["geometry"].iloc[i]
            if geom is not None:
                row[LOCATION] = hashlib.sha256(geom.wkb).hexdigest()
        rows.append(row)
    return rows
