"""The store interface both backends implement, and checks they share."""

from __future__ import annotations

import math
import os
import re
from abc import ABC, abstractmethod

import geopandas as gpd
import pandas as pd
import shapely

from geo import sweep
from geo.crs import (
    STORAGE_EPSG,
    AnalysisCRS,
    CRSError,
    analysis_crs,
    require_storage_crs,
    to_metric,
)
from geo.proximity import (
    SEARCH_LIMIT_M,
    Proximity,
    check_radii,
    default_radii,
    empty_layer_warnings,
)
from geo.proximity import proximity as proximity_in_process
from layers.access import SCOPED_LAYERS, Scope
from layers.accounts import Accounts
from layers.catalogue import Layer, get_layer
from layers.errors import StoreError
from layers.evidence import Evidence
from layers.frames import conform

Bbox = tuple[float, float, float, float]
ANALYSIS_EPSG = "analysis_epsg"
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
# Administrative division codes: county (6 digits), township (9), village (12), each the
# prefix of the next; and the column each level is held in.
ADMIN_CODE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")
CODE_COLUMNS = {6: "county_code", 9: "township_code", 12: "village_code"}


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
    def _write(
        self,
        frames: dict[str, pd.DataFrame],
        replace: bool,
        upsert: bool,
        scope: Scope | None = None,
    ) -> None:
        """Backend write of already validated frames, in one transaction."""

    @abstractmethod
    def _read(
        self,
        layer: Layer,
        bbox: Bbox | None,
        code_filter: tuple[str, list[str]] | None,
        columns: list[str] | None = None,
        scope: Scope | None = None,
        arrow_text: bool = False,
    ) -> pd.DataFrame:
        """Backend read of one layer with optional filters and attribute subset; with a scope,
        only rows whose village code starts with one of its codes (see `scope_codes`). With
        `arrow_text`, text may come as Arrow-backed columns (conform makes it so anyway)."""

    @abstractmethod
    def get_setting(self, key: str) -> str | None:
        """A deployment setting stored with the data (None when unset)."""

    @abstractmethod
    def _set_setting(self, key: str, value: str) -> None:
        """Store a setting; the PostGIS store also re-projects its metric geometry."""

    @abstractmethod
    def data_revision(self, names: list[str], scope: Scope | None = None) -> str:
        """A token that changes whenever rows of the named layers change, written by this
        program or by another editor (QGIS): a page keeps a computed result while it is the
        same. Cheap next to what it saves (a county's risk list)."""

    @abstractmethod
    def count(self, name: str, scope: Scope | None = None) -> int:
        """Number of rows in a layer (inside `scope` when given: callers check permissions)."""

    _checked = False

    def _ready(self) -> None:
        """Run check() once per store object; data methods call this instead of re-checking
        (the app still calls check() itself on every page run). upgrade() resets it."""
        if not self._checked:
            self.check()
            self._checked = True

    @abstractmethod
    def accounts(self) -> Accounts:
        """Users and the audit log kept with this store's data."""

    @abstractmethod
    def evidence(self) -> Evidence:
        """Evidence files (photos) kept with this store's data."""

    def close(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Release connections; the default has none."""

    def write_layers(
        self,
        frames: dict[str, pd.DataFrame],
        replace: bool = False,
        upsert: bool = False,
        scope: Scope | None = None,
    ) -> None:
        """Write several layers at once: all rows of all layers, or nothing.

        `replace` empties each named layer first (the demo generator uses it); `upsert` replaces
        the stored rows that have the same keys (whole rows: the caller merges what it keeps);
        otherwise rows are appended and a key already stored is refused. `scope` is set for
        PostGIS row-level security (callers have checked the rows lie inside it).
        """
        prepared = {name: prepare_for_write(get_layer(name), df) for name, df in frames.items()}
        if self.get_setting(ANALYSIS_EPSG) is None:
            self.set_analysis_crs(_crs_for(prepared))
        self._write(prepared, replace, upsert, scope)

    # -- analysis ---------------------------------------------------------------------------

    def analysis_crs(self) -> AnalysisCRS:
        """The metric CRS this deployment measures in (fixed at the first write)."""
        epsg = self.get_setting(ANALYSIS_EPSG)
        if epsg is None:
            # A store written before the setting existed: derive it from the data, as at write.
            for name in ("villages", "households"):
                frame = self.read_layer(name, columns=[])
                if len(frame):
                    return analysis_crs(tuple(frame.total_bounds))
            raise StoreError(
                "尚未确定分析坐标系（数据库里还没有数据）。请先导入数据，"
                "或运行 “shouhu db crs --set EPSG代码” 指定一个投影坐标系。"
            )
        return analysis_crs((0, 0, 0, 0), epsg=int(epsg))

    def set_analysis_crs(self, crs: AnalysisCRS) -> None:
        """Change the metric CRS (a deployment decision; PostGIS re-projects its geom_m)."""
        analysis_crs((0, 0, 0, 0), epsg=crs.epsg)  # refuses geographic CRSs
        self._set_setting(ANALYSIS_EPSG, str(crs.epsg))

    def proximity(
        self,
        radius_by_type: dict[str, float] | None = None,
        village_codes: list[str] | None = None,
        scope: Scope | None = None,
        layers: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None,
    ) -> Proximity:
        """Proximity of the households in scope to every water body and slope (in-process).

        Water bodies and slopes are read within the search limit around the households, so a
        pond just across the village boundary still counts. `layers`: the households (those
        `village_codes` and `scope` select), water bodies and slopes the caller has already
        read from this store, with geometry, so that they are not read twice (a county's
        layers take longer to read than to measure).
        """
        radius_by_type = check_radii(radius_by_type or default_radii())
        crs = self.analysis_crs()
        hh, waters, slopes = layers or self._proximity_layers(village_codes, scope)
        found = proximity_in_process(
            to_metric(hh, crs), to_metric(waters, crs), to_metric(slopes, crs), radius_by_type
        )
        if not len(waters) or not len(slopes):  # none read around the homes: is the layer empty?
            found.warnings = empty_layer_warnings(
                not len(waters) and not self.count("water_bodies"),
                not len(slopes) and not self.count("slopes"),
            )
        return found

    def _proximity_layers(self, village_codes, scope) -> tuple:
        """The households in scope, and the water bodies and slopes within the search limit
        around them."""
        hh = self.read_layer(
            "households",
            village_codes=village_codes,
            columns=["village_code"],
            scope=scope,
            arrow_text=True,
        )
        bbox = search_box(hh)
        waters = self.read_layer("water_bodies", bbox=bbox, columns=["water_type"], arrow_text=True)
        slopes = self.read_layer("slopes", bbox=bbox, columns=["name"], arrow_text=True)
        return hh, waters, slopes

    def hazards_around(
        self,
        radius_by_type: dict[str, float],
        village_codes: list[str] | None = None,
        facility_ids: list[str] | None = None,
    ) -> pd.DataFrame:
        """Hazards within each facility's radius (geo.sweep.HAZARD_COLUMNS), in-process; a
        hazard across the village boundary still counts."""
        crs = self.analysis_crs()
        fac = self.read_layer("facilities", village_codes=village_codes)
        if facility_ids is not None:
            fac = fac[fac["facility_id"].isin(facility_ids)]
        if not len(fac):
            return pd.DataFrame(columns=sweep.HAZARD_COLUMNS)
        bbox = expand_bbox(tuple(fac.total_bounds), max(radius_by_type.values()) + 100)
        layers = [
            to_metric(self.read_layer(name, bbox=bbox, columns=cols), crs)
            for name, cols in (("slopes", ["name", "hazard_grade"]),
                               ("water_bodies", ["name", "water_type"]),
                               ("point_hazards", ["name", "hazard_type"]))
        ]  # fmt: skip
        return sweep.hazards_around(to_metric(fac, crs), *layers, radius_by_type)

    def write_layer(self, name: str, frame: pd.DataFrame, replace: bool = False) -> None:
        """Write one layer (all rows or none)."""
        self.write_layers({name: frame}, replace=replace)

    def read_layer(
        self,
        name: str,
        bbox: Bbox | None = None,
        village_codes: list[str] | None = None,
        columns: list[str] | None = None,
        scope: Scope | None = None,
        arrow_text: bool = False,
    ) -> pd.DataFrame:
        """Read a layer, optionally only rows intersecting `bbox` (lon/lat) or within the given
        admin codes (village, township or county codes: a row matches if its code at that level
        is listed). `columns` limits the attributes read (the key is always included).
        With a user's `scope`: person layers need the permission (AccessDenied otherwise) and
        scoped layers return only rows inside the scope.
        Returns catalogue dtypes; a GeoDataFrame in EPSG:4326 for spatial layers. Text is
        Python str or None; with `arrow_text`, pandas' Arrow-backed text (missing: NaN), for
        computations over whole layers (the risk engine) that would otherwise convert it."""
        layer = get_layer(name)
        if scope is not None:
            scope.check_layer(name)
            if name not in SCOPED_LAYERS:
                scope = None
        if bbox is not None and layer.geometry is None:
            raise ValueError(f"layer {name} has no geometry to filter by bbox")
        code_filter = _code_filter(layer, village_codes) if village_codes is not None else None
        if columns is not None:
            columns = list(dict.fromkeys([layer.key, *columns]))
            unknown = sorted(set(columns) - set(layer.column_names))
            if unknown:
                raise KeyError(f"layer {name} has no columns {unknown}")
        frame = self._read(layer, bbox, code_filter, columns, scope, arrow_text)
        frame = frame.sort_values(layer.key, kind="stable").reset_index(drop=True)
        return conform(layer, frame, columns, arrow_text)

    def read_own(
        self, name: str, village_codes: list[str] | None = None, columns: list[str] | None = None
    ) -> pd.DataFrame:
        """Rows in the caller's own places; without a user that is every row (ScopedStore
        narrows reference layers too: villages to pick from, facilities to sweep)."""
        return self.read_layer(name, village_codes=village_codes, columns=columns)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _code_filter(layer: Layer, codes: list[str]) -> tuple[str, list[str]]:
    """Which admin column to filter and on which values, for codes of any level."""
    for code in codes:
        if not ADMIN_CODE.match(str(code)):
            raise ValueError(f"not an administrative division code: {code!r}")
    if not codes:
        return layer.admin_codes[-1], []
    lengths = {len(str(c)) for c in codes}
    if len(lengths) != 1:
        raise ValueError("admin codes in one filter must be of one level")
    length = lengths.pop()
    level = CODE_COLUMNS[length]
    finest = layer.admin_codes[-1]
    columns = list(CODE_COLUMNS.values())
    if columns.index(finest) < columns.index(level):
        # A coarser layer (townships) filtered by finer codes: match their parents.
        parent_len = next(n for n, column in CODE_COLUMNS.items() if column == finest)
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


def _crs_for(frames: dict[str, pd.DataFrame]) -> AnalysisCRS:
    """The analysis CRS for a first write: SHOUHU_ANALYSIS_EPSG, else from the data's extent."""
    configured = os.environ.get("SHOUHU_ANALYSIS_EPSG")
    if configured:
        try:
            return analysis_crs((0, 0, 0, 0), epsg=int(configured))
        except (ValueError, CRSError) as exc:
            raise StoreError(
                f"SHOUHU_ANALYSIS_EPSG={configured} 不是可用的投影坐标系代码（需以米为单位），"
                "例如 32648（UTM 48N）或 4545（CGCS2000 3度带 108E）。",
                str(exc),
            ) from exc
    spatial = [f for f in frames.values() if isinstance(f, gpd.GeoDataFrame) and len(f)]
    if not spatial:
        raise StoreError("首次写入的数据没有任何几何图形，无法确定分析坐标系。")
    bounds = pd.DataFrame([f.total_bounds for f in spatial])
    return analysis_crs((bounds[0].min(), bounds[1].min(), bounds[2].max(), bounds[3].max()))


def search_box(households: gpd.GeoDataFrame) -> Bbox:
    """The lon/lat box holding everything within the search limit of the households (the
    hazards that can change their answers; an empty box for none): a township's list then
    reads and projects the water bodies around it, not the county's."""
    if not len(households):
        return (0.0, 0.0, 0.0, 0.0)
    return expand_bbox(tuple(households.total_bounds), SEARCH_LIMIT_M)


def expand_bbox(bbox: Bbox, metres: float) -> Bbox:
    """A lon/lat box grown by at least `metres` on every side."""
    minx, miny, maxx, maxy = bbox
    dlat = metres / 110_000.0
    dlon = metres / (110_000.0 * max(math.cos(math.radians(max(abs(miny), abs(maxy)))), 0.01))
    return (minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)
