"""Water-safety equipment ("四个一") rules: is a water body's equipment complete?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.vocab import FOUR_ITEMS

BAD_STATUSES = ("missing", "damaged")  # an item staff must act on


def status_column(item: str) -> str:
    """Column holding the status of one equipment item, e.g. 'sign' -> 'sign_status'."""
    return f"{item}_status"


def completeness(statuses: dict[str, str | None]) -> str:
    """Classify one water body's four items as 'complete', 'incomplete' or 'unknown'.

    Any item missing or damaged makes the set incomplete, even when others are unchecked,
    because a known gap is what staff must act on. Otherwise any unchecked item makes it unknown.
    """
    values = [statuses.get(item) or "unknown" for item in FOUR_ITEMS]
    if any(value in BAD_STATUSES for value in values):
        return "incomplete"
    if any(value != "present" for value in values):
        return "unknown"
    return "complete"


def is_bad(values) -> np.ndarray:
    """Vectorised: whether each status (an object array of str or None) is missing or damaged."""
    values = np.asarray(values, dtype=object)
    hit = np.zeros(len(values), dtype=bool)
    for status in BAD_STATUSES:
        hit |= values == status
    return hit


def completeness_series(frame: pd.DataFrame) -> pd.Series:
    """Vectorised `completeness` over a water-body frame with `<item>_status` columns."""
    bad = np.zeros(len(frame), dtype=bool)
    all_present = np.ones(len(frame), dtype=bool)
    for item in FOUR_ITEMS:
        values = frame[status_column(item)].to_numpy(dtype=object)
        bad |= is_bad(values)
        all_present &= values == "present"
    result = np.full(len(frame), "unknown", dtype=object)
    result[all_present] = "complete"
    result[bad] = "incomplete"
    return pd.Series(result, index=frame.index, dtype=object)


def missing_items(statuses: dict[str, str | None]) -> list[str]:
    """Equipment items (four items and fence) reported missing or damaged."""
    return [item for item, value in statuses.items() if value in BAD_STATUSES]
