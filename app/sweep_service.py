"""Flood-season sweeps for the places in scope: hazard lists, checklists, updates, progress."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from geo import sweep as sw
from geo.vocab import FACILITY_TYPES

SWEEP_COLUMNS = [
    "facility_id", "facility_name", "facility_type", "village_code", "hazard_id", "hazard_kind",
    "hazard_type", "distance_m", "direction", "status",
    # beyond the contract
    "hazard_name", "township_code",
]  # fmt: skip


@dataclass(frozen=True)
class Sweep:
    sweep_id: str
    name: str
    start: dt.date
    end: dt.date
    scope_codes: tuple[str, ...]
    radius_m: float

    @classmethod
    def from_row(cls, row) -> Sweep:
        return cls(str(row["sweep_id"]), str(row["name"]), pd.Timestamp(row["start_date"]).date(),
                   pd.Timestamp(row["end_date"]).date(),
                   tuple(c for c in str(row["scope_codes"]).split(",") if c),
                   float(row["radius_m"]))  # fmt: skip


def sweeps(store) -> list[Sweep]:
    return [Sweep.from_row(r) for _, r in store.read_layer("sweeps").iterrows()]


def pick_sweep(store, as_of: dt.date, sweep_id: str | None = None) -> Sweep | None:
    """The named sweep, else the one running on `as_of` (latest start), else None."""
    known = sweeps(store)
    if sweep_id:
        for s in known:
            if s.sweep_id == sweep_id:
                return s
        ids = "、".join(s.sweep_id for s in known) or "（无）"
        raise sw.SweepError(f"没有编号为“{sweep_id}”的排查；已有：{ids}")
    running = [s for s in known if s.start <= as_of <= s.end]
    return sorted(running, key=lambda s: s.start)[-1] if running else None


def create_sweep(store, sweep_id, name, start, end, scope_codes, radius_m=sw.DEFAULT_RADIUS_M):
    if not sweep_id or not name:
        raise sw.SweepError("排查编号和名称不能为空")
    if end < start:
        raise sw.SweepError(f"结束日期 {end} 早于开始日期 {start}")
    if not scope_codes:
        raise sw.SweepError("请指定排查范围（乡镇代码）")
    radius = sw.check_radius(radius_m)
    row = {"sweep_id": sweep_id, "county_code": scope_codes[0][:6], "name": name,
           "start_date": start, "end_date": end, "scope_codes": ",".join(scope_codes),
           "radius_m": radius}  # fmt: skip
    store.write_layers({"sweeps": pd.DataFrame([row])}, upsert=True)
    return Sweep(sweep_id, name, start, end, tuple(scope_codes), radius)


def hazard_list(
    store,
    radius_m: float,
    as_of: dt.date,
    sweep: Sweep | None = None,
    village_codes: list[str] | None = None,
    facility_ids=None,
    radius_by_type: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Every hazard within the radius of each facility (SWEEP_COLUMNS), with the status of its
    checklist item in the sweep (待排查 when not yet checked or there is no sweep);
    `radius_by_type` overrides the radius for some facility types."""
    radii = sw.radii(radius_by_type, default=radius_m)
    hazards = store.hazards_around(radii, village_codes, facility_ids)
    facilities = store.read_layer("facilities", village_codes=village_codes)
    info = facilities.set_index("facility_id")
    out = hazards.copy()
    out["facility_name"] = out["facility_id"].map(info["name"])
    out["facility_type"] = out["facility_id"].map(info["facility_type"]).map(FACILITY_TYPES)
    out["village_code"] = out["facility_id"].map(info["village_code"])
    out["township_code"] = out["facility_id"].map(info["township_code"])
    out["hazard_kind"] = out["hazard_kind"].map(sw.HAZARD_KINDS)
    out["distance_m"] = out["distance_m"].astype(float).round(2)
    status = {}
    if sweep is not None:
        items = store.read_layer("sweep_items", village_codes=village_codes)
        items = items[(items["sweep_id"] == sweep.sweep_id) & items["hazard_id"].notna()]
        status = {(f, h): s for f, h, s in zip(items["facility_id"], items["hazard_id"],
                                               items["status"], strict=True)}  # fmt: skip
    pairs = zip(out["facility_id"], out["hazard_id"], strict=True)
    out["status"] = [sw.ITEM_STATUSES[status.get(pair, "pending")] for pair in pairs]
    return out[SWEEP_COLUMNS]


def ensure_checklists(store, sweep: Sweep, facility_ids: list[str] | None = None) -> pd.DataFrame:
    """The checklist items of the sweep's facilities (created on first use; stored statuses are
    never reset). Returns the stored items of those facilities."""
    codes = list(sweep.scope_codes) or None
    facilities = store.read_own("facilities", village_codes=codes)
    if facility_ids is not None:
        facilities = facilities[facilities["facility_id"].isin(facility_ids)]
    ids = list(facilities["facility_id"])
    hazards = store.hazards_around(sw.radii(default=sweep.radius_m), codes, ids)
    stored = store.read_layer("sweep_items", village_codes=codes)
    stored = stored[(stored["sweep_id"] == sweep.sweep_id) & stored["facility_id"].isin(ids)]
    have = set(stored["item_id"])
    new = []
    for fac in facilities.itertuples(index=False):
        items = sw.checklist_items(sweep.sweep_id, fac.facility_id, hazards)
        for item in items.itertuples(index=False):
            if item.item_id in have:
                continue
            new.append({**item._asdict(), "sweep_id": sweep.sweep_id,
                        "facility_id": fac.facility_id, "county_code": fac.county_code,
                        "township_code": fac.township_code, "village_code": fac.village_code,
                        "status": "pending"})  # fmt: skip
    if new:
        store.write_layers({"sweep_items": pd.DataFrame(new)}, upsert=True)
        stored = store.read_layer("sweep_items", village_codes=codes)
        stored = stored[(stored["sweep_id"] == sweep.sweep_id) & stored["facility_id"].isin(ids)]
    return stored.sort_values(["facility_id", "item_kind", "item_id"], ignore_index=True)


def update_items(store, sweep: Sweep, updates: list[dict], by: str) -> int:
    """Change checklist items (status, responsible, due date, note): all or none. Refuses an
    unknown item or status, a due date before the sweep started, and a rectification without
    a responsible person and due date."""
    items = store.read_layer("sweep_items").set_index("item_id")
    rows, problems = [], []
    for u in updates:
        item_id = u.get("item_id")
        if item_id not in items.index or items.loc[item_id, "sweep_id"] != sweep.sweep_id:
            problems.append(f"排查项“{item_id}”不存在（或不属于本次排查）")
            continue
        row = items.loc[item_id].to_dict() | {"item_id": item_id}
        status = u.get("status", row["status"])
        if status not in sw.ITEM_STATUSES:
            labels = {v: k for k, v in sw.ITEM_STATUSES.items()}
            status = labels.get(status, status)
        if status not in sw.ITEM_STATUSES:
            problems.append(f"“{row['label']}”的状态“{u.get('status')}”无法识别，可选："
                            f"{'、'.join(sw.ITEM_STATUSES.values())}")  # fmt: skip
            continue
        due = u.get("due_date", row["due_date"])
        due = None if due is None or pd.isna(due) else pd.Timestamp(due).date()
        if due is not None and due < sweep.start:
            problems.append(f"“{row['label']}”的整改期限 {due} 早于排查开始日期 {sweep.start}")
            continue
        responsible = u.get("responsible", row["responsible"]) or None
        if status == "rectify" and (not responsible or due is None):
            problems.append(f"“{row['label']}”需整改：请填写责任人和整改期限")
            continue
        row.update(status=status, due_date=due, responsible=responsible,
                   note=u.get("note", row["note"]) or None,
                   updated_at=dt.datetime.now().replace(microsecond=0), updated_by=by)  # fmt: skip
        rows.append(row)
    if problems:
        raise sw.SweepError("；".join(problems) + "。未保存任何修改。")
    if rows:
        store.write_layers({"sweep_items": pd.DataFrame(rows)}, upsert=True)
    return len(rows)


def sweep_progress(store, sweep: Sweep, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per township progress, overdue rectifications) for the sweep's facilities."""
    codes = list(sweep.scope_codes) or None
    facilities = store.read_own("facilities", village_codes=codes)
    items = store.read_layer("sweep_items", village_codes=codes)
    items = items[items["sweep_id"] == sweep.sweep_id]
    overdue = sw.overdue_items(items, as_of)
    names = facilities.set_index("facility_id")["name"]
    overdue = overdue.assign(facility_name=overdue["facility_id"].map(names))
    return sw.progress(facilities, items, as_of), overdue


def facility_sheet(store, sweep: Sweep, facility_id: str) -> str:
    """The printable checklist page of one facility (its hazards drawn within the radius)."""
    from geo.crs import to_metric
    from layers.store.base import expand_bbox
    from layers.sweep_sheets import facility_html

    crs = store.analysis_crs()
    facilities = store.read_layer("facilities")
    facility = facilities[facilities["facility_id"] == facility_id]
    items = ensure_checklists(store, sweep, [facility_id])
    hazards = store.hazards_around(sw.radii(default=sweep.radius_m), None, [facility_id])
    around = expand_bbox(tuple(facility.total_bounds), sweep.radius_m * 1.2)
    shapes = []
    for kind, layer, key in (("slope", "slopes", "slope_id"), ("water", "water_bodies", "water_id"),
                             ("other", "point_hazards", "hazard_id")):  # fmt: skip
        ids = set(hazards.loc[hazards["hazard_kind"] == kind, "hazard_id"])
        if not ids:
            continue
        frame = store.read_layer(layer, bbox=around, columns=["name"])
        frame = to_metric(frame[frame[key].isin(ids)], crs)
        names = frame["name"].fillna(frame[key])
        shapes += [(kind, str(n), g) for n, g in zip(names, frame.geometry, strict=True)]
    row = next(to_metric(facility, crs).itertuples(index=False))  # geometry in metres
    return facility_html(row, sweep, sweep.radius_m, shapes, items)


def record_point_hazard(store, kind: str, name: str, lon: float, lat: float, note: str,
                        found: dt.date, photos: list[tuple[str, bytes]]) -> str:  # fmt: skip
    """A hazard found on site, placed in the village that contains it (photos checked first);
    checklists pick it up the next time they are opened."""
    import geopandas as gpd
    import shapely

    from geo.vocab import POINT_HAZARD_TYPES
    from layers.evidence import media_type

    if kind not in POINT_HAZARD_TYPES:
        raise sw.SweepError(f"未知的隐患类型“{kind}”")
    for file_name, content in photos:
        media_type(file_name, content)
    point = shapely.Point(float(lon), float(lat))
    villages = store.read_layer("villages")
    inside = villages[villages.geometry.covers(point)]
    if inside.empty:
        raise sw.SweepError(f"位置（{lon}, {lat}）不在任何村界内，请核对经纬度（WGS84）")
    village = inside.iloc[0]
    hazard_id = f"P{village['village_code']}{dt.datetime.now():%y%m%d%H%M%S}"
    row = {"hazard_id": hazard_id, "county_code": village["county_code"],
           "township_code": village["township_code"], "village_code": village["village_code"],
           "name": name or POINT_HAZARD_TYPES[kind], "hazard_type": kind, "found_date": found,
           "photo_count": len(photos), "note": note or None, "source_crs": "wgs84"}  # fmt: skip
    store.write_layers({"point_hazards": gpd.GeoDataFrame([row], geometry=[point], crs=4326)})
    if photos and hasattr(store, "add_evidence"):
        store.add_evidence("point_hazards", hazard_id, village["village_code"], photos)
    return hazard_id
