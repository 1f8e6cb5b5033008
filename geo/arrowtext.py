"""Column-at-a-time Chinese text for reasons, built with Arrow's string kernels.

Reasons are one string per row made of optional parts ("距池塘“王家塘”35米（50米内）；该水域四个一
不全：缺救生圈"). Building 100,000s of them with Python string operations costs more than the
distance search itself; Arrow concatenates whole columns in C. A part is an Arrow string array
with null where the part does not apply.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default text dtype


def text(values) -> pa.Array:
    """Strings (None/NaN -> null) as an Arrow string array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    if isinstance(values, pd.api.extensions.ExtensionArray):
        values = pd.Series(values)
    if isinstance(values, pd.Series | pd.Index):
        if isinstance(values.dtype, pd.StringDtype | pd.ArrowDtype):
            return pa.array(values.array).cast(pa.string())
        if values.dtype == object:  # None and NaN become null without a pass through pandas
            try:
                return pa.array(values.to_numpy(), type=pa.string(), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # pd.NA and the like
                pass
        values = values.to_numpy(dtype=object, na_value=None)
    return pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)


def where(mask: np.ndarray, part) -> pa.Array:
    """`part` where mask is true, null elsewhere (part: array or a constant string)."""
    mask = pa.array(np.asarray(mask, dtype=bool))
    if isinstance(part, str):
        part = pa.scalar(part, pa.string())
    return pc.if_else(mask, part, pa.scalar(None, pa.string()))


def concat(*pieces) -> pa.Array:
    """Row-wise concatenation; null if any piece is null (so a part vanishes as a whole)."""
    return pc.binary_join_element_wise(*pieces, "")


def integers(values: np.ndarray) -> pa.Array:
    """Rounded whole numbers as text ('35'); null where values are NaN."""
    values = np.asarray(values, dtype=float)
    nan = np.isnan(values)
    whole = pa.array(np.round(np.where(nan, 0, values)).astype(np.int64), mask=nan)
    return whole.cast(pa.string())


def join(*parts, sep: str = "；") -> pa.Array:
    """Join the non-null parts of each row with `sep` ('' when none); sep is one character.
    Parts that may hold '' for "nothing" go through `nonempty` first."""
    pieces = [pc.fill_null(pc.binary_join_element_wise(sep, part, ""), "") for part in parts]
    return pc.utf8_slice_codeunits(concat(*pieces), 1)


def nonempty(values: pa.Array) -> pa.Array:
    """'' as null, so `join` skips it."""
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def take(values: pa.Array, index: np.ndarray) -> pa.Array:
    """values[index], null where index < 0."""
    index = np.asarray(index, dtype=np.int64)
    return values.take(pa.array(np.maximum(index, 0), mask=index < 0))


def series(values: pa.Array, index=None) -> pd.Series:
    """A pandas text column over the Arrow array, without copying the strings."""
    return pd.Series(pd.array(values, dtype=STR), index=index)


def frame(columns: dict) -> pd.DataFrame:
    """A frame from NumPy and Arrow columns without copies: object arrays stay object (pandas
    would otherwise copy every string into Arrow), Arrow arrays become text columns."""
    out = {}
    for name, values in columns.items():
        if isinstance(values, pa.Array):
            out[name] = series(values)
        elif isinstance(values, pd.Series | pd.api.extensions.ExtensionArray):
            out[name] = pd.Series(values).reset_index(drop=True)
        else:
            values = np.asarray(values)
            out[name] = pd.Series(values, dtype=object if values.dtype == object else None)
    return pd.DataFrame(out)
