"""Framework-free services the app pages and the CLI call: open stores, gather map data."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geo.equipment import completeness_series
from layers.catalogue import LAYERS, get_layer
from layers.frames import empty_frame
from layers.store import Store, open_store


def open_checked_store(spec: str | None = None) -> Store:
    """Open the store and check it is usable; raises StoreError with a Chinese message."""
    store = open_store(spec)
    try:
        store.check()
    except Exception:
        store.close()
        raise
    return store


def layer_counts(store: Store) -> pd.DataFrame:
    """One row per catalogue layer: label, table, row count, geometry, personal data or not."""
    rows = [
        {
            "图层": layer.label,
            "表名": name,
            "记录数": store.count(name),
            "几何类型": layer.geometry_label,
            "含个人信息": "是" if layer.sensitive else "否",
        }
        for name, layer in LAYERS.items()
    ]
    return pd.DataFrame(rows)


@dataclass
class MapData:
    """What the map page draws. Households carry counts only, never names or addresses."""

    townships: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    slopes: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    households: pd.DataFrame  # household_id, village_code, lon, lat, children
    # Roles without exact locations get counts per village instead of household points.
    village_counts: pd.DataFrame  # village_code, name, lon, lat, households, children


def map_data(store: Store, village_codes: list[str] | None = None) -> MapData:
    """Read the layers for the map, limited to the given villages (all when None)."""
    water = store.read_layer("water_bodies", village_codes=village_codes)
    water["completeness"] = completeness_series(water)
    villages = store.read_layer("villages", village_codes=village_codes)
    scope = getattr(store, "scope", None)
    if scope is None or scope.can("locations"):
        households = store.read_layer("households", village_codes=village_codes)
        children = store.read_layer("children", village_codes=village_codes)
        counts = _village_points(villages.iloc[:0], None)
    else:  # no homes on the map for this role: counts per village instead
        households = empty_frame(get_layer("households"))
        children = empty_frame(get_layer("children"))
        counts = _village_points(villages, village_counts(store, village_codes))
    per_household = children.groupby("household_id").size()
    points = pd.DataFrame(
        {
            "household_id": households["household_id"],
            "village_code": households["village_code"],
            "lon": households.geometry.x,
            "lat": households.geometry.y,
            "children": households["household_id"].map(per_household).fillna(0).astype(int),
        }
    )
    return MapData(
        townships=store.read_layer("townships", village_codes=village_codes),
        villages=villages,
        water=water,
        slopes=store.read_layer("slopes", village_codes=village_codes),
        facilities=store.read_layer("facilities", village_codes=village_codes),
        households=points,
        village_counts=counts,
    )


def village_counts(store, village_codes: list[str] | None = None) -> pd.DataFrame:
    """Households and children per village in the user's scope: aggregates that every role may
    see (read through `ScopedStore.counting`; only the counts leave this function)."""
    columns = ["village_code", "households", "children"]
    counting = store.counting() if hasattr(store, "counting") else store
    per = {}
    for name, column in (("households", "households"), ("children", "children")):
        codes = counting.read_layer(name, village_codes=village_codes, columns=["village_code"])
        per[column] = codes["village_code"].value_counts()
    table = pd.DataFrame(per).fillna(0).astype(int).rename_axis("village_code").reset_index()
    return table[columns].sort_values("village_code", ignore_index=True)


def _village_points(villages: gpd.GeoDataFrame, counts: pd.DataFrame | None) -> pd.DataFrame:
    """Counts placed at a point inside each village (its committee, else a representative
    point of its polygon), for the aggregate map layer; no rows when `counts` is None."""
    if counts is None:
        counts = pd.DataFrame(
            {"village_code": pd.Series([], dtype=str), "households": [0][:0], "children": [0][:0]}
        )
    merged = villages.merge(counts, on="village_code", how="inner")
    inside = merged.geometry.representative_point()
    lon = merged["committee_lon"].astype(float).fillna(pd.Series(inside.x, index=merged.index))
    lat = merged["committee_lat"].astype(float).fillna(pd.Series(inside.y, index=merged.index))
    return pd.DataFrame(
        {
            "village_code": merged["village_code"],
            "name": merged["name"],
            "lon": lon.round(6),
            "lat": lat.round(6),
            "households": merged["households"].astype(int),
            "children": merged["children"].astype(int),
        }
    )
