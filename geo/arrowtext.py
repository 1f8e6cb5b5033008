"""Text columns as Arrow arrays, and frames made from them without copies.

Ids, names and reasons for 100,000s of rows are cheaper to look up, take and hand to pandas as
Arrow arrays than as Python strings. Arrays are `large_string`, pandas' own layout for its text
columns, so nothing is converted on the way in or out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default text dtype
TEXT = pa.large_string()


def text(values) -> pa.Array:
    """Strings (None/NaN -> null) as an Arrow large_string array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == TEXT else values.cast(TEXT)
    if isinstance(values, pd.api.extensions.ExtensionArray):
        values = pd.Series(values)
    if isinstance(values, pd.Series | pd.Index):
        if isinstance(values.dtype, pd.StringDtype | pd.ArrowDtype):
            return text(pa.array(values.array))
        if values.dtype == object:  # None and NaN become null without a pass through pandas
            try:
                return pa.array(values.to_numpy(), type=TEXT, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # pd.NA and the like
                pass
        values = values.to_numpy(dtype=object, na_value=None)
    return pa.array(np.asarray(values, dtype=object), type=TEXT, from_pandas=True)


def concat(*pieces) -> pa.Array:
    """Row-wise concatenation; null if any piece is null (so a part vanishes as a whole)."""
    pieces = [pa.scalar(p, TEXT) if isinstance(p, str) else p for p in pieces]
    return pc.binary_join_element_wise(*pieces, pa.scalar("", TEXT))


def nonempty(values: pa.Array) -> pa.Array:
    """'' as null."""
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, TEXT), values)


def take(values: pa.Array, index: np.ndarray) -> pa.Array:
    """values[index], null where index < 0."""
    index = np.asarray(index, dtype=np.int64)
    return values.take(pa.array(np.maximum(index, 0), mask=index < 0))


def series(values: pa.Array, index=None) -> pd.Series:
    """A pandas text column over the Arrow array, without copying the strings."""
    return pd.Series(pd.array(values, dtype=STR), index=index)


def _column(values):
    """A column as pandas holds it: Arrow text, extension arrays as they are, NumPy otherwise
    (object arrays stay object: pandas would otherwise copy every string into Arrow)."""
    if isinstance(values, pa.Array):
        return pd.array(values, dtype=STR)
    if isinstance(values, pd.Series):
        return values.array
    if isinstance(values, pd.api.extensions.ExtensionArray):
        return values
    return np.asarray(values)


def frame(columns: dict) -> pd.DataFrame:
    """A frame from NumPy, pandas and Arrow columns of one length, without copying them."""
    names = list(columns)
    arrays = [_column(values) for values in columns.values()]
    n = len(arrays[0]) if arrays else 0
    try:  # one block per column: consolidating copies every number column once more
        from pandas.core.internals.construction import arrays_to_mgr

        mgr = arrays_to_mgr(
            arrays, pd.Index(names), pd.RangeIndex(n), verify_integrity=False, consolidate=False
        )
        return pd.DataFrame._from_mgr(mgr, axes=mgr.axes)
    except (ImportError, TypeError, AttributeError):  # another pandas: the public way
        return pd.DataFrame(
            {
                name: pd.Series(a, dtype=object if _is_object(a) else None)
                for name, a in zip(names, arrays, strict=True)
            }
        )


def _is_object(values) -> bool:
    return isinstance(values, np.ndarray) and values.dtype.kind == "O"
