"""Water-safety equipment ("四个一") rules: is a water body's equipment complete?"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo import arrowtext as at
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


def _states(values) -> tuple[np.ndarray, np.ndarray]:
    """(missing or damaged, present) per status (str or None; a column of text, Arrow or
    objects), tested in Arrow, not row by row in Python."""
    text = at.text(values)
    bad = pc.is_in(text, value_set=pa.array(BAD_STATUSES, at.TEXT)).fill_null(False)
    present = pc.equal(text, "present").fill_null(False)
    return bad.to_numpy(zero_copy_only=False), present.to_numpy(zero_copy_only=False)


def is_bad(values) -> np.ndarray:
    """Vectorised: whether each status (a column of str or None) is missing or damaged."""
    return _states(values)[0]


def four_items(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per water body of a frame with `<item>_status` columns, from one look at each column:
    which of the four items are missing or damaged (bit k: FOUR_ITEMS[k]), and whether its
    set is known (complete or incomplete, as `completeness` says) and complete."""
    lack = np.zeros(len(frame), dtype=np.int64)
    all_present = np.ones(len(frame), dtype=bool)
    for k, item in enumerate(FOUR_ITEMS):
        bad, present = _states(frame[status_column(item)])
        lack |= bad.astype(np.int64) << k
        all_present &= present
    return lack, all_present | (lack > 0), all_present  # an item present is not bad


def completeness_series(frame: pd.DataFrame) -> pd.Series:
    """Vectorised `completeness` over a water-body frame with `<item>_status` columns."""
    _, known, complete = four_items(frame)
    result = np.where(complete, "complete", np.where(known, "incomplete", "unknown"))
    return pd.Series(result.astype(object), index=frame.index, dtype=object)


def missing_items(statuses: dict[str, str | None]) -> list[str]:
    """Equipment items (four items and fence) reported missing or damaged."""
    return [item for item, value in statuses.items() if value in BAD_STATUSES]
