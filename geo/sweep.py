"""Flood-season sweeps: the hazards around each child facility, and the checklist they make.

Distances are exact (points to lines and polygons, 0 inside a polygon) in the metric analysis
CRS; the direction is the 8-point compass bearing from the facility to the nearest point of the
hazard (所在处 when the facility is on or inside it). A hazard exactly on the radius counts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely

from geo import vocab
from geo.crs import require_metric

HAZARD_KINDS = {"slope": "坡体", "water": "水域", "other": "其他隐患"}
DIRECTIONS = ["北", "东北", "东", "东南", "南", "西南", "西", "西北"]
AT_FACILITY = "所在处"
DEFAULT_RADIUS_M = 500.0
MAX_RADIUS_M = 5000.0
# Checklist items every facility gets, besides one per nearby hazard.
FIXED_ITEMS = {
    "building": "校舍及建筑物安全",
    "walls": "围墙、挡土墙",
    "slopes": "周边山体、边坡",
    "water": "周边水域及防护",
    "drainage": "排水沟渠是否畅通",
}
ITEM_STATUSES = vocab.SWEEP_STATUSES
HAZARD_COLUMNS = ["facility_id", "hazard_id", "hazard_kind", "hazard_type", "hazard_name",
                  "distance_m", "direction"]  # fmt: skip


class SweepError(ValueError):
    """Bad sweep input; the message (Chinese) says what and how to fix it."""


def check_radius(radius_m: float) -> float:
    try:
        radius = float(radius_m)
    except (TypeError, ValueError):
        raise SweepError(f"排查半径“{radius_m}”不是数字") from None
    if not math.isfinite(radius) or radius <= 0 or radius > MAX_RADIUS_M:
        raise SweepError(f"排查半径 {radius_m} 米不合理：应大于 0 且不超过 {MAX_RADIUS_M:.0f} 米")
    return radius


def radii(by_type: dict[str, float] | None = None, default: float = DEFAULT_RADIUS_M) -> dict:
    """Radius per facility type: the default for every type, with per-type settings."""
    out = {t: check_radius(default) for t in vocab.FACILITY_TYPES}
    for ftype, radius in (by_type or {}).items():
        out[facility_type(ftype)] = check_radius(radius)
    return out


def facility_type(name: str) -> str:
    """The facility type code for a code, its Chinese name or another word staff write for it
    (幼儿园 → kindergarten, 学校 → school), as file imports read them."""
    name = str(name).strip()
    words = vocab.words_for("facility_type", vocab.FACILITY_TYPES)
    code = words.get(name) or words.get(name.lower())
    if code is not None:
        return code
    known = "、".join(f"{c}（{label}）" for c, label in vocab.FACILITY_TYPES.items())
    raise SweepError(f"未知的场所类型“{name}”，可用：{known}")


def direction(dx: float, dy: float) -> str:
    """8-point compass direction of (dx, dy) metres east and north."""
    bearing = math.degrees(math.atan2(dx, dy)) % 360.0
    return DIRECTIONS[int((bearing + 22.5) // 45) % 8]


def hazards_around(
    facilities: pd.DataFrame,
    slopes: pd.DataFrame,
    waters: pd.DataFrame,
    points: pd.DataFrame,
    radius_by_type: dict[str, float],
) -> pd.DataFrame:
    """Every slope, water body and recorded point hazard within each facility's radius, nearest
    first (HAZARD_COLUMNS). All frames in the same metric CRS."""
    for frame, what in ((facilities, "场所图层"), (slopes, "易滑坡体图层"), (waters, "水域图层"),
                        (points, "点状隐患图层")):  # fmt: skip
        if len(frame):
            require_metric(frame, what)
    missing = facilities.geometry.isna() | facilities.geometry.is_empty
    if missing.any():
        first = facilities.loc[missing, "facility_id"].iloc[0]
        raise SweepError(f"场所 {first} 没有位置（共 {int(missing.sum())} 个），请先补充坐标")
    fac_r = facilities["facility_type"].map(radius_by_type).fillna(DEFAULT_RADIUS_M).to_numpy()
    layers = (
        ("slope", slopes, "slope_id", "hazard_grade"),
        ("water", waters, "water_id", "water_type"),
        ("other", points, "hazard_id", "hazard_type"),
    )
    parts = []
    fac_geoms = facilities.geometry.to_numpy()
    for kind, frame, key, type_col in layers:
        if not len(frame):
            continue
        geoms = frame.geometry.to_numpy()
        tree = shapely.STRtree(geoms)
        fi, hi = tree.query(fac_geoms, predicate="dwithin", distance=float(fac_r.max()))
        dist = shapely.distance(fac_geoms[fi], geoms[hi])
        keep = dist <= fac_r[fi] + 1e-9
        fi, hi, dist = fi[keep], hi[keep], dist[keep]
        lines = shapely.shortest_line(fac_geoms[fi], geoms[hi])
        ends = (
            shapely.get_coordinates(lines).reshape(-1, 2, 2) if len(lines) else np.zeros((0, 2, 2))
        )
        dirs = [AT_FACILITY if d == 0 else direction(e[1, 0] - e[0, 0], e[1, 1] - e[0, 1])
                for d, e in zip(dist, ends, strict=True)]  # fmt: skip
        names = frame["name"].to_numpy() if "name" in frame else np.full(len(frame), None)
        parts.append(pd.DataFrame({
            "facility_id": facilities["facility_id"].to_numpy()[fi],
            "hazard_id": frame[key].to_numpy()[hi],
            "hazard_kind": kind,
            "hazard_type": [type_label(kind, c) for c in frame[type_col].to_numpy()[hi]],
            "hazard_name": names[hi],
            "distance_m": dist,
            "direction": dirs,
        }))  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=HAZARD_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["facility_id", "distance_m", "hazard_id"], ignore_index=True)


def type_label(kind: str, code) -> str:
    """The Chinese type of a hazard: slope grade, water type or recorded hazard type."""
    if kind == "slope":
        return f"隐患等级{vocab.SLOPE_GRADES.get(code, code)}"
    if kind == "water":
        return vocab.WATER_TYPES.get(code, code)
    return vocab.POINT_HAZARD_TYPES.get(code, code)


def direction_of_bearing(bearing_deg: float | None, distance_m: float) -> str:
    """The compass direction from a bearing in degrees (PostGIS ST_Azimuth)."""
    if distance_m == 0 or bearing_deg is None or pd.isna(bearing_deg):
        return AT_FACILITY
    rad = math.radians(bearing_deg)
    return direction(math.sin(rad), math.cos(rad))


def checklist_items(sweep_id: str, facility_id: str, hazards: pd.DataFrame) -> pd.DataFrame:
    """The checklist of one facility: one item per nearby hazard, then the fixed items."""
    mine = hazards[hazards["facility_id"] == facility_id]
    rows = [
        {"item_id": f"{sweep_id}:{facility_id}:{h.hazard_id}", "item_kind": "hazard",
         "hazard_id": h.hazard_id,
         "label": f"{HAZARD_KINDS[h.hazard_kind]}：{h.hazard_name or h.hazard_id}"
                  f"（{h.hazard_type}，{h.direction} {h.distance_m:.0f} 米）"}
        for h in mine.itertuples(index=False)
    ]  # fmt: skip
    rows += [
        {"item_id": f"{sweep_id}:{facility_id}:{code}", "item_kind": "fixed", "hazard_id": None,
         "label": label}
        for code, label in FIXED_ITEMS.items()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["item_id", "item_kind", "hazard_id", "label"])


PROGRESS_STATES = {
    "done": "已全部排查",
    "rectify": "有需整改项",
    "partial": "部分排查",
    "none": "未开始",
}


def overdue_items(items: pd.DataFrame, as_of) -> pd.DataFrame:
    """Items marked for rectification whose due date is before `as_of`."""
    late = pd.to_datetime(items["due_date"]) < pd.Timestamp(as_of)
    return items[((items["status"] == "rectify") & late).to_numpy()]


def facility_progress(items: pd.DataFrame, as_of) -> pd.DataFrame:
    """Per facility: items pending, to rectify, overdue, and a state (PROGRESS_STATES):
    any rectification open, else all checked, else some checked, else none."""
    overdue = set(overdue_items(items, as_of).index)
    frame = items.assign(
        pending=items["status"] == "pending",
        rectify=items["status"] == "rectify",
        overdue=items.index.isin(overdue),
    )
    per = frame.groupby("facility_id").agg(
        items=("status", "size"), pending=("pending", "sum"), rectify=("rectify", "sum"),
        overdue=("overdue", "sum"),
    ).astype(int)  # fmt: skip
    per["state"] = "none"
    per.loc[per["pending"] < per["items"], "state"] = "partial"
    per.loc[per["pending"] == 0, "state"] = "done"
    per.loc[per["rectify"] > 0, "state"] = "rectify"
    return per


def progress(facilities: pd.DataFrame, items: pd.DataFrame, as_of) -> pd.DataFrame:
    """Per township: facilities, fully checked (no item pending), with open rectifications,
    overdue rectifications (due before `as_of`), percent checked."""
    per_facility = facility_progress(items, as_of)
    rows = []
    for code, group in facilities.groupby("township_code", sort=True):
        mine = per_facility.reindex(group["facility_id"])
        checked = int(((mine["pending"] == 0) & mine["pending"].notna()).sum())
        rows.append({
            "township_code": code, "facilities": len(group), "fully_checked": checked,
            "percent": round(100.0 * checked / len(group), 1) if len(group) else 0.0,
            "open_rectifications": int(mine["rectify"].fillna(0).sum()),
            "overdue": int(mine["overdue"].fillna(0).sum()),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=["township_code", "facilities", "fully_checked", "percent",
                                       "open_rectifications", "overdue"])  # fmt: skip
