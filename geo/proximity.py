"""Who is near which hazard: exact point-to-line/polygon distances over a segment grid.

Inputs are GeoDataFrames already projected to the analysis CRS (metres). Outputs are plain
frames that the PostGIS backend reproduces in SQL, so the risk rules never know which engine ran.

Conventions both engines follow:
- a water body is "within reach" when its distance is <= the radius of its type (inclusive);
- nearest searches look no further than SEARCH_LIMIT_M (the largest radius allowed); beyond it
  the nearest id is empty and the distance NaN;
- ties (two features at the same distance) go to the smaller id;
- a household inside a polygon is at distance 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from geo import arrowtext, segment_grid
from geo.crs import CRSError, require_metric
from geo.reach_kernels import overall_nearest
from geo.vocab import WATER_TYPES

SEARCH_LIMIT_M = 5000.0
DEFAULT_RADIUS_M = 500.0
# The water type codes as Arrow text, in WATER_TYPES order: a type's number is its position.
TYPE_CODES = arrowtext.text(list(WATER_TYPES))


class ProximityError(ValueError):
    """Inputs that cannot be analysed; the message (Chinese) lists every problem found."""


def default_radii() -> dict[str, float]:
    return {water_type: DEFAULT_RADIUS_M for water_type in WATER_TYPES}


def check_radii(radius_by_type: dict[str, float]) -> dict[str, float]:
    """Validate radii per water type: every type present, each in (0, 5000] metres."""
    problems = []
    unknown = sorted(set(radius_by_type) - set(WATER_TYPES))
    if unknown:
        problems.append(f"未知的水域类型：{'、'.join(unknown)}")
    out = {}
    for water_type, label in WATER_TYPES.items():
        value = radius_by_type.get(water_type, DEFAULT_RADIUS_M)
        try:
            value = float(value)
        except (TypeError, ValueError):
            problems.append(f"{label}的半径“{value}”不是数字")
            continue
        if not (0 < value <= SEARCH_LIMIT_M) or np.isnan(value):
            problems.append(
                f"{label}的半径为 {value:g} 米，应大于 0 且不超过 {SEARCH_LIMIT_M:g} 米"
            )
        out[water_type] = value
    if problems:
        raise ProximityError("；".join(problems))
    return out


class Proximity:
    """Per-household proximity facts.

    pairs: household_id, water_id, water_type, distance_m — every water body within reach,
    ordered by household id, distance, water id. May be given as a function that builds the
    frame: grading needs only the counts, and a county has about a million pairs.
    nearest: one row per household_id with nearest_water_id/_type/_m, nearest_<type>_id/_m for
    each water type, waters_within, nearest_slope_id and slope_m.
    positions: optionally, for "water_id" and "slope_id", (the ids of the layer searched, the
    position in it of each nearest row's nearest_water_id / nearest_slope_id, -1 none): grading
    then looks facts up by position instead of by id when its layer is the same; and for
    "water_type", the number in WATER_TYPES of each row's nearest_water_type (-1 none).
    """

    def __init__(
        self,
        pairs: pd.DataFrame | Callable[[], pd.DataFrame],
        nearest: pd.DataFrame,
        warnings: list[str] | None = None,
        positions: dict | None = None,
    ):
        self._pairs = pairs
        self.nearest = nearest
        self.warnings = list(warnings or [])
        self.positions = dict(positions or {})

    @property
    def pairs(self) -> pd.DataFrame:
        if callable(self._pairs):
            self._pairs = self._pairs()
        return self._pairs


def _geometry_problems(frame, key: str, what: str, valid=None, maybe_null=None) -> list[str]:
    """Null and (unless `valid` is given) invalid geometries of one layer, in Chinese; only
    those where `maybe_null` (when given) can be null."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    problems = []
    if maybe_null is None:
        null = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    else:
        null = np.zeros(len(geoms), bool)
        some = geoms[maybe_null]
        null[maybe_null] = shapely.is_missing(some) | shapely.is_empty(some)
    if null.any():
        ids = "、".join(map(str, frame.loc[null, key].head(5)))
        problems.append(f"{what}有 {int(null.sum())} 个要素没有几何图形（如 {ids}）")
    invalid = ~null & ~(shapely.is_valid(geoms) if valid is None else valid)
    if invalid.any():
        ids = "、".join(map(str, frame.loc[invalid, key].head(5)))
        problems.append(f"{what}有 {int(invalid.sum())} 个无效几何（自相交等，如 {ids}），请先修复")
    return problems


def check_layer(frame, key: str, what: str, valid=None, maybe_null=None) -> list[str]:
    """Problems that stop analysis of one layer (CRS, null or invalid geometries), in Chinese.
    `valid` may give the validity per feature when the caller knows it already, and
    `maybe_null` which features may be null (the others are not)."""
    try:
        require_metric(frame, what)
    except CRSError as exc:
        return [str(exc)]
    return _geometry_problems(frame, key, what, valid, maybe_null)


def id_rank(ids) -> np.ndarray:
    """Position of each id in text order: ties between equal distances go to the smaller id."""
    order = pc.array_sort_indices(arrowtext.text(ids)).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def _water_kinds(waters) -> np.ndarray:
    """Number of each water body's type in WATER_TYPES."""
    types = arrowtext.text(waters["water_type"])
    codes = pc.index_in(types, value_set=TYPE_CODES).fill_null(-1).to_numpy(zero_copy_only=False)
    codes = codes.astype(np.int64)
    if (codes < 0).any():
        bad = sorted({str(v) for v in types.filter(pa.array(codes < 0)).to_pylist()})
        raise ProximityError(f"水域类型“{'、'.join(bad)}”无法识别，应为：{'、'.join(WATER_TYPES)}")
    return codes


def _points(households) -> np.ndarray:
    """Coordinates (n, 2) of the household points; refuses other shapes and non-finite values."""
    geoms = households.geometry.values
    if len(geoms) and not (shapely.get_type_id(geoms) == 0).all():
        raise ProximityError("家庭户图层应为点要素（每户一个点）")
    return shapely.get_coordinates(geoms)


def _checked(households, waters, slopes) -> tuple[np.ndarray, list[str]]:
    """Household points, and the problems of the households and of all three layers' CRS (the
    water and slope shapes are checked later, from their segment grids: `shape_problems`)."""
    problems = []
    for frame, what in ((households, "家庭户图层"), (waters, "水域图层"), (slopes, "易滑坡体图层")):
        try:
            require_metric(frame, what)
        except CRSError as exc:
            problems.append(str(exc))
    if problems:
        raise ProximityError("；".join(problems))
    geoms = np.asarray(households.geometry.values, dtype=object)
    points = np.empty((len(geoms), 2))
    shapely.get_x(geoms, out=points[:, 0])  # NaN for anything but a non-empty point
    shapely.get_y(geoms, out=points[:, 1])
    # Every coordinate finite: one point each, nothing missing, empty or invalid (a point is
    # valid when its coordinates are finite; no need to ask GEOS 100,000 times). Two
    # ufuncs cost 2.9 ms at county against 5.0 for the coordinates and the types.
    if np.isfinite(points).all():
        return points, problems
    null = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if not null.any():
        points = _points(households)  # refuses lines and polygons
    else:
        points = np.full((len(geoms), 2), np.nan)
    valid = ~null & np.isfinite(points).all(axis=1)
    problems += _geometry_problems(households, "household_id", "家庭户图层", valid | null)
    return points, problems


def shape_problems(waters, slopes, grids=None) -> list[str]:
    """Null and invalid shapes of the water and slope layers, in Chinese. Given the segment
    grids built from them, shapes whose segments prove them valid (most ponds and rivers) are
    not handed to GEOS, whose check of every shape would cost more than the searches."""
    problems = []
    layers = ((waters, "water_id", "水域图层"), (slopes, "slope_id", "易滑坡体图层"))
    for k, (frame, key, what) in enumerate(layers):
        valid = unsure = None
        if grids is not None:
            geoms = np.asarray(frame.geometry.values, dtype=object)
            valid = segment_grid.sure_valid(grids[k])
            unsure = ~valid  # a shape its segments prove valid is not null either
            valid[unsure] = shapely.is_valid(geoms[unsure])
        problems += check_layer(frame, key, what, valid, unsure)
    return problems


def proximity(
    households, waters, slopes, radius_by_type: dict[str, float] | None = None
) -> Proximity:
    """All proximity facts for households against water bodies and slopes (metric CRS)."""
    radius_by_type = check_radii(radius_by_type or default_radii())
    points, problems = _checked(households, waters, slopes)
    try:
        if problems:
            raise ProximityError("；".join(problems))
        return _proximity(households, waters, slopes, radius_by_type, points)
    except Exception:
        problems += shape_problems(waters, slopes)  # bad shapes explain a failure best
        if problems:
            raise ProximityError("；".join(problems)) from None
        raise


def _proximity(households, waters, slopes, radius_by_type, points) -> Proximity:
    crs = {str(f.crs) for f in (households, waters, slopes) if len(f)}
    if len(crs) > 1:
        raise ProximityError("各图层的坐标系不一致，请投影到同一分析坐标系后再计算")
    warnings = empty_layer_warnings(len(waters) == 0, len(slopes) == 0)

    n = len(points)
    hh_ids = arrowtext.text(households["household_id"])
    water_ids = arrowtext.text(waters["water_id"])
    kinds = _water_kinds(waters)
    radius_of = np.array([radius_by_type[t] for t in WATER_TYPES], dtype=float)
    rank = id_rank(water_ids)
    grid = segment_grid.build(waters.geometry.values, cell_m=float(radius_of.max()) / 2)
    slope_grid = segment_grid.build(slopes.geometry.values)
    # Shapes are checked before searching, on this thread: on a second thread, its handing the
    # interpreter to and fro cost more than it overlapped (county 0-10 ms slower, town 2x).
    problems = shape_problems(waters, slopes, (grid, slope_grid))
    if problems:
        raise ProximityError("；".join(problems))
    query = segment_grid.points(points)
    within, near_o, near_d = segment_grid.reach(grid, query, kinds, radius_of, rank)

    def pairs() -> pd.DataFrame:
        (p, w, dist), _ = segment_grid.within(grid, points, kinds, radius_of, rank)
        if n > 1 and not pc.all(pc.greater_equal(hh_ids[1:], hh_ids[:-1])).as_py():
            order = np.argsort(id_rank(hh_ids)[p], kind="stable")  # listed by household id
            p, w, dist = p[order], w[order], dist[order]
        return arrowtext.frame(
            {
                "household_id": arrowtext.take(hh_ids, p),
                "water_id": arrowtext.take(water_ids, w),
                "water_type": arrowtext.take(TYPE_CODES, kinds[w]),
                "distance_m": dist,
            }
        )

    columns = {"household_id": hh_ids}
    for t, water_type in enumerate(WATER_TYPES):
        # Not within reach: look further, up to the search limit, among this type only.
        o, d = near_o[:, t], near_d[:, t]
        if (o < 0).any():
            segment_grid.nearest_of_kind_into(grid, query, kinds, t, rank, SEARCH_LIMIT_M, o, d)
        columns[f"nearest_{water_type}_id"] = arrowtext.take(water_ids, near_o[:, t])
        columns[f"nearest_{water_type}_m"] = near_d[:, t]
    slope_ids = arrowtext.text(slopes["slope_id"])
    so, sd = segment_grid.nearest(slope_grid, query, id_rank(slope_ids), SEARCH_LIMIT_M)
    columns["nearest_slope_id"] = arrowtext.take(slope_ids, so)
    columns["slope_m"] = sd
    best, overall, best_d = overall_nearest(near_o, near_d, rank)
    columns["nearest_water_id"] = arrowtext.take(water_ids, overall)
    columns["nearest_water_type"] = arrowtext.take(TYPE_CODES, best)
    columns["nearest_water_m"] = best_d
    columns["waters_within"] = within
    positions = {"water_id": (water_ids, overall), "slope_id": (slope_ids, so), "water_type": best}
    return Proximity(pairs, arrowtext.frame(columns), warnings, positions)


def empty_layer_warnings(no_waters: bool, no_slopes: bool) -> list[str]:
    """What an empty hazard layer means for the results (both engines say it the same way)."""
    warnings = []
    if no_waters:
        warnings.append("水域图层为空：所有家庭都没有最近水域。")
    if no_slopes:
        warnings.append("易滑坡体图层为空：所有家庭都没有坡体距离。")
    return warnings


def finish_nearest(nearest: pd.DataFrame, waters_within: np.ndarray) -> pd.DataFrame:
    """Add the overall nearest water body and the count within reach to the nearest_<type>_id/_m
    per household that the PostGIS engine returns, as the in-process engine does: the smallest
    distance, ties to the smaller id."""
    n = len(nearest)
    ids = np.stack(
        [nearest[f"nearest_{t}_id"].to_numpy(dtype=object) for t in WATER_TYPES], axis=1
    ).reshape(n, len(WATER_TYPES))
    dist = np.stack(
        [nearest[f"nearest_{t}_m"].to_numpy(dtype=float) for t in WATER_TYPES], axis=1
    ).reshape(n, len(WATER_TYPES))
    # Each id's rank among them all stands for the id: the tie rule compares ids.
    near_o = np.where(pd.isna(ids), -1, np.arange(ids.size).reshape(ids.shape))
    best, _, best_d = overall_nearest(near_o, dist, id_rank(ids.ravel()))
    some = best >= 0
    rows = np.arange(n)
    types = np.array(list(WATER_TYPES), dtype=object)
    out = nearest.copy()
    out["nearest_water_id"] = pd.Series(np.where(some, ids[rows, best], None), out.index, object)
    out["nearest_water_type"] = pd.Series(np.where(some, types[best], None), out.index, object)
    out["nearest_water_m"] = best_d
    out["waters_within"] = np.asarray(waters_within, dtype=np.int64)
    return out
