"""A layer's frames in canonical form: exactly its catalogue columns, in canonical dtypes.

Both stores pass what they read, and every write what it stores, through `conform`, so the
same data reads back identically whichever backend holds it. Kept apart from the catalogue
(what the layers are) since this is what is done to frames of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from geo import arrowtext
from layers.catalogue import Layer

_DTYPES = {
    "text": "object",
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "date": "datetime64[ms]",
    "datetime": "datetime64[ms]",
}


def conform(
    layer: Layer, frame: pd.DataFrame, columns: list[str] | None = None, arrow_text: bool = False
) -> pd.DataFrame:
    """Return `frame` with exactly the layer's columns (plus geometry) in canonical dtypes.

    Both stores pass what they read through here, so the same data reads back identically
    whichever backend holds it. Dates become midnight timestamps; text stays Python str or None
    (with `arrow_text`: pandas' Arrow-backed text, missing as NaN); an empty text is missing.
    """
    out = {}
    wanted = layer.columns if columns is None else [layer.column(c) for c in columns]
    for col in wanted:
        series = (
            frame[col.name] if col.name in frame.columns else pd.Series(None, index=frame.index)
        )
        if col.kind == "text" and arrow_text:
            out[col.name] = _as_arrow_text(series)
            continue
        if col.kind == "text":
            series = pd.Series(_as_text(series), index=frame.index, dtype=object)
        elif col.kind in ("date", "datetime"):
            series = pd.to_datetime(series, format="mixed" if series.dtype == object else None)
            series = series.dt.tz_localize(None) if series.dt.tz is not None else series
            if col.kind == "date":
                series = series.dt.normalize()
        out[col.name] = series.astype(_DTYPES[col.kind])
    result = pd.DataFrame(out, index=frame.index)
    if layer.geometry is not None:
        import geopandas as gpd

        geometry = frame.geometry if hasattr(frame, "geometry") else frame["geometry"]
        values = geometry.values
        if layer.geometry == "MultiPolygon":
            values = _promote_polygons(values)
        return gpd.GeoDataFrame(result, geometry=values, crs=geometry.crs)
    return result


def _as_text(series: pd.Series) -> np.ndarray:
    """Object array of str or None; an empty string is None, as a blank cell is on import
    (PostGIS stores it as NULL, so both stores read it back alike). Columns read from a store
    are already strings, so the per-value str() conversion runs only where something else (a
    number from a file) is found."""
    values = series.to_numpy(dtype=object, na_value=None)
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        values = np.array([v if v is None else str(v) for v in values], dtype=object)
    empty = values == ""
    if empty.any():
        values = np.where(empty, None, values)
    return values


def _as_arrow_text(series: pd.Series) -> pd.Series:
    """`_as_text` as pandas' Arrow-backed text: the strings stay in Arrow, no Python objects."""
    try:
        values = arrowtext.text(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text (a number from a file)
        values = arrowtext.text(_as_text(series))
    return arrowtext.series(arrowtext.nonempty(values), series.index)


def _promote_polygons(geoms):
    """Polygon -> MultiPolygon (others unchanged), so MultiPolygon layers hold one type."""
    import shapely

    is_poly = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
    if is_poly.any():
        geoms = geoms.copy()
        geoms[is_poly] = [shapely.MultiPolygon([g]) for g in geoms[is_poly]]
    return geoms


def empty_frame(layer: Layer) -> pd.DataFrame:
    """A zero-row frame of the layer in canonical dtypes (a GeoDataFrame for spatial layers)."""
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in layer.column_names})
    if layer.geometry is not None:
        import geopandas as gpd

        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=4326))
    return conform(layer, frame)
