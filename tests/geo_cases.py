"""Hand-built layouts in metres (UTM 48N) with answers known by construction."""

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, box

METRIC = 32648
X0, Y0 = 500_000.0, 3_300_000.0  # a round UTM position near 105°E 29.8°N


def at(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def households(*points, ids=None):
    ids = ids or [f"H{i}" for i in range(len(points))]
    return gpd.GeoDataFrame(
        {"household_id": ids, "village_code": "990101100200"}, geometry=list(points), crs=METRIC
    )


def waters(*rows):
    """rows: (water_id, water_type, geometry[, statuses dict])."""
    records = []
    for row in rows:
        wid, wtype, geom = row[:3]
        statuses = row[3] if len(row) > 3 else {}
        rec = {"water_id": wid, "water_type": wtype, "name": f"{wid}塘", "geometry": geom}
        for item in ("sign", "buoy", "rope", "pole", "fence"):
            rec[f"{item}_status"] = statuses.get(item, "present")
        records.append(rec)
    if not records:
        frame = pd.DataFrame(columns=["water_id", "water_type", "name", "geometry"])
        for item in ("sign", "buoy", "rope", "pole", "fence"):
            frame[f"{item}_status"] = []
        return gpd.GeoDataFrame(frame, geometry="geometry", crs=METRIC)
    return gpd.GeoDataFrame(records, geometry="geometry", crs=METRIC)


def slopes(*rows):
    records = [{"slope_id": sid, "name": f"{sid}坡", "geometry": geom} for sid, geom in rows]
    if not records:
        return gpd.GeoDataFrame({"slope_id": [], "name": []}, geometry=[], crs=METRIC)
    return gpd.GeoDataFrame(records, geometry="geometry", crs=METRIC)


def square(x, y, size):
    return box(X0 + x, Y0 + y, X0 + x + size, Y0 + y + size)


def line(*xy):
    return LineString([(X0 + x, Y0 + y) for x, y in xy])
