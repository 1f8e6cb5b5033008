"""Positional take with a missing value: how both the engine and the grading look facts up by
index (-1 meaning "none")."""

from __future__ import annotations

import numpy as np


def take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """values[index], with the dtype's missing value (None, NaN, 0/False) where index < 0."""
    index = np.asarray(index)
    if len(values) == 0:
        values = np.array([None if values.dtype == object else 0], dtype=values.dtype)
        index = np.full(len(index), -1)
    out = values[np.maximum(index, 0)]  # fancy indexing: a new array, safe to fill
    missing = index < 0
    if missing.any():
        out[missing] = None if out.dtype == object else (np.nan if out.dtype.kind == "f" else 0)
    return out
