"""The store interface both backends implement, and checks they share."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod

import geopandas as gpd
import pandas as pd
import shapely

from geo.crs import STORAGE_EPSG, CRSError, require_storage_crs
from layers.catalogue import Layer, conform, get_layer
from layers.errors import StoreError

Bbox = tuple[float, float, float, float]
_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}
_CODE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")


class Store(ABC):
    """Read and write catalogue layers. Every write is all-or-nothing."""

    kind: str

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, safe to show (no password)."""

    @abstractmethod
    def check(self) -> None:
        """Raise StoreError if the store cannot be used (unreachable, not ours, schema behind)."""

    @abstractmethod
    def upgrade(self) -> None:
        """Create or upgrade the schema to the current version."""

    @abstractmethod
    def _write(self, frames: dict[str, pd.DataFrame], replace: bool) -> None:
        """Backend write of already validated frames, in one transaction."""

    @abstractmethod
    def _read(
        self, layer: Layer, bbox: Bbox | None, code_filter: tuple[str, list[str]] | None
    ) -> pd.DataFrame:
        """Backend read of one layer with optional filters."""

    @abstractmethod
    def count(self, name: str) -> int:
        """Number of rows in a layer."""

    def close(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Release connections; the default has none."""

    def write_layers(self, frames: dict[str, pd.DataFrame], replace: bool = False) -> None:
        """Write several layers at once: all rows of all layers, or nothing.

        `replace` empties each named layer first (the demo generator uses it); otherwise rows
        are appended.
        """
        prepared = {name: prepare_for_write(get_layer(name), df) for name, df in frames.items()}
        self._write(prepared, replace)

    def write_layer(self, name: str, frame: pd.DataFrame, replace: bool = False) -> None:
        """Write one layer (all rows or none)."""
        self.write_layers({name: frame}, replace=replace)

    def read_layer(
        self,
        name: str,
        bbox: Bbox | None = None,
        village_codes: list[str] | None = None,
    ) -> pd.DataFrame:
        """Read a layer, optionally only rows intersecting `bbox` (lon/lat) or within the given
        admin codes (village, township or county codes: a row matches if its code at that level
        is listed). Returns catalogue dtypes; a GeoDataFrame in EPSG:4326 for spatial layers."""
        layer = get_layer(name)
        if bbox is not None and layer.geometry is None:
            raise ValueError(f"layer {name} has no geometry to filter by bbox")
        code_filter = _code_filter(layer, village_codes) if village_codes is not None else None
        frame = self._read(layer, bbox, code_filter)
        frame = frame.sort_values(layer.key, kind="stable").reset_index(drop=True)
        return conform(layer, frame)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _code_filter(layer: Layer, codes: list[str]) -> tuple[str, list[str]]:
    """Which admin column to filter and on which values, for codes of any level."""
    for code in codes:
        if not _CODE.match(str(code)):
            raise ValueError(f"not an administrative division code: {code!r}")
    if not codes:
        return layer.admin_codes[-1], []
    lengths = {len(str(c)) for c in codes}
    if len(lengths) != 1:
        raise ValueError("admin codes in one filter must be of one level")
    length = lengths.pop()
    level = {6: "county_code", 9: "township_code", 12: "village_code"}[length]
    finest = layer.admin_codes[-1]
    if layer.admin_codes.index(finest) < ("county_code", "township_code", "village_code").index(
        level
    ):
        # A coarser layer (townships) filtered by finer codes: match their parents.
        parent_len = {"county_code": 6, "township_code": 9}[finest]
        return finest, sorted({str(c)[:parent_len] for c in codes})
    return level, sorted({str(c) for c in codes})


def prepare_for_write(layer: Layer, frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a frame against the catalogue and return it in canonical form.

    Refuses missing required values, unknown codes, duplicate keys, a wrong CRS or geometry
    type. Polygons are promoted to MultiPolygon for MultiPolygon layers.
    """
    problems = []
    missing_cols = [c.name for c in layer.columns if c.required and c.name not in frame.columns]
    if missing_cols:
        raise StoreError(f"图层“{layer.label}”缺少必填列：{'、'.join(missing_cols)}")
    out = conform(layer, frame)
    for col in layer.columns:
        series = out[col.name]
        if col.required and series.isna().any():
            problems.append(f"“{col.label}”有 {int(series.isna().sum())} 行为空")
        if col.choices:
            values = series.dropna()
            codes = (
                values.map(lambda v: [c for c in str(v).split(";") if c]).explode().dropna()
                if col.multi
                else values
            )
            unknown = sorted(set(codes) - set(col.choices))
            if unknown:
                problems.append(f"“{col.label}”含未知取值：{'、'.join(map(str, unknown[:5]))}")
    if out[layer.key].duplicated().any():
        problems.append(f"“{layer.column(layer.key).label}”有重复值")
    if layer.geometry is not None:
        try:
            require_storage_crs(out.crs)
        except CRSError as exc:
            raise StoreError(
                f"图层“{layer.label}”的坐标系不是 EPSG:{STORAGE_EPSG}（WGS84 经纬度），"
                "请先转换坐标再写入。",
                str(exc),
            ) from exc
        geoms = out.geometry.values
        if pd.isna(geoms).any() or shapely.is_empty(geoms).any():
            problems.append("有要素缺少几何图形")
        expected = {"Point": {"Point"}, "MultiPolygon": {"MultiPolygon"}}.get(
            layer.geometry,
            {"LineString", "MultiLineString", "Polygon", "MultiPolygon"},
        )
        names = {_TYPE_NAMES[t] for t in set(shapely.get_type_id(geoms).tolist())}
        wrong = names - expected
        if wrong:
            problems.append(
                f"几何类型不符：应为 {layer.geometry}，实际含 {'、'.join(sorted(wrong))}"
            )
        out = gpd.GeoDataFrame(out.drop(columns="geometry"), geometry=geoms, crs=out.crs)
    if problems:
        raise StoreError(f"图层“{layer.label}”数据有误，未写入任何数据：" + "；".join(problems))
    return out
