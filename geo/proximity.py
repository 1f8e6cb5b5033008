"""Who is near which hazard: exact point-to-line/polygon distances with shapely's STRtree.

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

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from geo.crs import CRSError, require_metric
from geo.vocab import WATER_TYPES

SEARCH_LIMIT_M = 5000.0
DEFAULT_RADIUS_M = 500.0


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


@dataclass
class Proximity:
    """Per-household proximity facts.

    pairs: household_id, water_id, water_type, distance_m — every water body within reach.
    nearest: one row per household_id with nearest_water_id/_type/_m, nearest_<type>_id/_m for
    each water type, waters_within, nearest_slope_id and slope_m.
    """

    pairs: pd.DataFrame
    nearest: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def check_layer(frame, key: str, what: str) -> list[str]:
    """Problems that stop analysis of one layer (CRS, null or invalid geometries), in Chinese."""
    try:
        require_metric(frame, what)
    except CRSError as exc:
        return [f"{what}的坐标系不能用于量算距离（{exc}）"]
    geoms = frame.geometry.values
    problems = []
    null = pd.isna(geoms) | shapely.is_empty(geoms)
    if null.any():
        ids = "、".join(map(str, frame.loc[null, key].head(5)))
        problems.append(f"{what}有 {int(null.sum())} 个要素没有几何图形（如 {ids}）")
    invalid = ~null & ~shapely.is_valid(geoms)
    if invalid.any():
        ids = "、".join(map(str, frame.loc[invalid, key].head(5)))
        problems.append(f"{what}有 {int(invalid.sum())} 个无效几何（自相交等，如 {ids}），请先修复")
    return problems


def _chunks(n: int) -> list[slice]:
    """Slices splitting n items into one chunk per core (shapely releases the GIL)."""
    workers = max(1, min(os.cpu_count() or 1, n // 5000 or 1))
    bounds = np.linspace(0, n, workers + 1).astype(int)
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _threaded(fn, n: int) -> list:
    parts = _chunks(n)
    if len(parts) == 1:
        return [fn(parts[0])]
    with ThreadPoolExecutor(len(parts)) as pool:
        return list(pool.map(fn, parts))


def nearest_of(
    points: np.ndarray, targets: np.ndarray, target_ids: np.ndarray, limit_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each point: id of and distance to the nearest target within limit_m (ties: min id).

    Searches without GEOS's max_distance (which tests every candidate in the widened envelope)
    and drops what lies beyond the limit afterwards.
    """
    n = len(points)
    ids = np.full(n, None, dtype=object)
    dist = np.full(n, np.nan)
    if n == 0 or len(targets) == 0:
        return ids, dist
    tree = shapely.STRtree(targets)

    def search(part: slice):
        (pi, ti), d = tree.query_nearest(points[part], return_distance=True, all_matches=True)
        return pi + part.start, ti, d

    found = _threaded(search, n)
    pi = np.concatenate([f[0] for f in found])
    ti = np.concatenate([f[1] for f in found])
    d = np.concatenate([f[2] for f in found])
    within = d <= limit_m
    pi, ti, d = pi[within], ti[within], d[within]
    if len(pi) == 0:
        return ids, dist
    order = np.lexsort((target_ids[ti].astype(str), d, pi))
    pi, ti, d = pi[order], ti[order], d[order]
    first = np.r_[True, pi[1:] != pi[:-1]]
    ids[pi[first]] = target_ids[ti[first]]
    dist[pi[first]] = d[first]
    return ids, dist


def water_pairs(households, waters, radius_by_type: dict[str, float]) -> pd.DataFrame:
    """Every (household, water body) pair within the water type's radius, with distance_m."""
    columns = ["household_id", "water_id", "water_type", "distance_m"]
    if len(households) == 0 or len(waters) == 0:
        return pd.DataFrame(
            {c: pd.Series([], dtype=object if c != "distance_m" else float) for c in columns}
        )
    points = households.geometry.values
    shapes = waters.geometry.values
    tree = shapely.STRtree(shapes)
    reach = max(radius_by_type.values())

    def search(part: slice):
        pi, wi = tree.query(points[part], predicate="dwithin", distance=reach)
        return pi + part.start, wi, shapely.distance(points[part][pi], shapes[wi])

    found = _threaded(search, len(points))
    pi = np.concatenate([f[0] for f in found])
    wi = np.concatenate([f[1] for f in found])
    d = np.concatenate([f[2] for f in found])
    types = waters["water_type"].to_numpy()[wi]
    radius = pd.Series(types).map(radius_by_type).to_numpy(dtype=float)
    keep = d <= radius
    out = pd.DataFrame(
        {
            "household_id": households["household_id"].to_numpy()[pi[keep]],
            "water_id": waters["water_id"].to_numpy()[wi[keep]],
            "water_type": types[keep],
            "distance_m": d[keep],
        }
    )
    return out.sort_values(["household_id", "distance_m", "water_id"], ignore_index=True)


def proximity(
    households, waters, slopes, radius_by_type: dict[str, float] | None = None
) -> Proximity:
    """All proximity facts for households against water bodies and slopes (metric CRS)."""
    radius_by_type = check_radii(radius_by_type or default_radii())
    problems = (
        check_layer(households, "household_id", "家庭户图层")
        + check_layer(waters, "water_id", "水域图层")
        + check_layer(slopes, "slope_id", "易滑坡体图层")
    )
    if problems:
        raise ProximityError("；".join(problems))
    crs = {str(f.crs) for f in (households, waters, slopes) if len(f)}
    if len(crs) > 1:
        raise ProximityError("各图层的坐标系不一致，请投影到同一分析坐标系后再计算")
    warnings = []
    if len(waters) == 0:
        warnings.append("水域图层为空：所有家庭都没有最近水域。")
    if len(slopes) == 0:
        warnings.append("易滑坡体图层为空：所有家庭都没有坡体距离。")

    pairs = water_pairs(households, waters, radius_by_type)
    points = households.geometry.values
    nearest = pd.DataFrame({"household_id": households["household_id"].to_numpy()})
    water_ids = waters["water_id"].to_numpy()
    water_types = waters["water_type"].to_numpy()
    # Pairs are sorted by (household, distance, id): the first pair of a type is that type's
    # nearest (ties to the smaller id). Only households with none of a type within reach
    # need a tree search for it.
    firsts = pairs.drop_duplicates(["household_id", "water_type"])
    position = pd.Series(np.arange(len(nearest)), index=nearest["household_id"].to_numpy())
    for water_type in WATER_TYPES:
        ids = np.full(len(nearest), None, dtype=object)
        dist = np.full(len(nearest), np.nan)
        known = firsts[firsts["water_type"] == water_type]
        at = position.loc[known["household_id"]].to_numpy()
        ids[at], dist[at] = known["water_id"].to_numpy(), known["distance_m"].to_numpy()
        rest = np.flatnonzero(pd.isna(ids))
        mask = water_types == water_type
        ids[rest], dist[rest] = nearest_of(
            points[rest], waters.geometry.values[mask], water_ids[mask], SEARCH_LIMIT_M
        )
        nearest[f"nearest_{water_type}_id"] = ids
        nearest[f"nearest_{water_type}_m"] = dist
    slope_ids, slope_m = nearest_of(
        points, slopes.geometry.values, slopes["slope_id"].to_numpy(), SEARCH_LIMIT_M
    )
    nearest["nearest_slope_id"] = slope_ids
    nearest["slope_m"] = slope_m
    return Proximity(pairs=pairs, nearest=finish_nearest(nearest, pairs), warnings=warnings)


def finish_nearest(nearest: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Add the overall nearest water body (ties: smaller id) and the count within reach.

    `nearest` holds nearest_<type>_id/_m per household; both engines finish with this.
    """
    n = len(nearest)
    best_id = np.full(n, None, dtype=object)
    best_type = np.full(n, None, dtype=object)
    best_m = np.full(n, np.nan)
    for water_type in WATER_TYPES:
        ids = nearest[f"nearest_{water_type}_id"].to_numpy(dtype=object)
        dist = nearest[f"nearest_{water_type}_m"].to_numpy(dtype=float)
        better = ~np.isnan(dist) & (
            np.isnan(best_m)
            | (dist < best_m)
            | ((dist == best_m) & (ids.astype(str) < best_id.astype(str)))
        )
        best_id[better], best_type[better], best_m[better] = ids[better], water_type, dist[better]
    out = nearest.copy()
    out["nearest_water_id"] = best_id
    out["nearest_water_type"] = best_type
    out["nearest_water_m"] = best_m
    counts = pairs.groupby("household_id").size()
    out["waters_within"] = out["household_id"].map(counts).fillna(0).astype(int)
    return out
