"""Patrol workflow for the places in scope: priorities, team plans, inspections and compliance.

Pages and the CLI call these; the pure parts are geo.patrol (priority) and geo.routing (routes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from app.risk_service import compute_risk
from geo import vocab
from geo.crs import near_area
from geo.equipment import BAD_STATUSES
from geo.patrol import priorities
from geo.risk import RiskRules
from geo.routing import Route, RoutingError, plan_routes
from layers.rules_file import load_rules, load_weights

PLAN_COLUMNS = [
    "team", "stop", "water_id", "water_name", "water_type", "village_code", "lon", "lat",
    "priority", "leg_m", "missing_items",
    # beyond the contract
    "children_near", "reasons", "base_lon", "base_lat",
]  # fmt: skip
STALE_DAYS = 7  # summer season: every water body checked within a week


@dataclass
class PatrolPlan:
    date: dt.date
    plan: pd.DataFrame  # PLAN_COLUMNS, one row per stop
    routes: list[Route]
    bases: list[tuple[float, float]]  # lon, lat per team
    lengths_m: dict[int, float]  # team -> route length (including the way back to base)


def water_priorities(
    store,
    as_of: dt.date,
    village_codes: list[str] | None = None,
    rules: RiskRules | None = None,
    priority_weights: dict | None = None,
) -> pd.DataFrame:
    """Ranked water bodies of the places (geo.patrol.PRIORITY_COLUMNS), by the deployment's
    rules and weights unless others are given. Children near a water body are counted through
    the store's counting view: patrol members see numbers, no names."""
    rules = rules or load_rules()
    priority_weights = priority_weights or load_weights()
    counting = store.counting() if hasattr(store, "counting") else store
    risk = compute_risk(counting, as_of, rules, village_codes=village_codes)
    homes = risk.households.set_index("household_id")
    pairs = risk.proximity.pairs[["household_id", "water_id"]]
    pairs = pairs[pairs["household_id"].isin(homes.index)]
    kids = homes.loc[pairs["household_id"], "children"].to_numpy().astype(int)
    tiers = homes.loc[pairs["household_id"], "tier_code"].to_numpy()
    near = pd.DataFrame({"water_id": np.repeat(pairs["water_id"].to_numpy(), kids),
                         "tier_code": np.repeat(tiers, kids)})  # fmt: skip
    waters = store.read_layer("water_bodies", village_codes=village_codes)
    return priorities(waters, near, as_of, priority_weights)


def make_plan(
    store,
    date: dt.date,
    teams: int,
    stops_per_team: int = 8,
    bases: list[tuple[float, float]] | None = None,
    village_codes: list[str] | None = None,
    ranked: pd.DataFrame | None = None,
) -> PatrolPlan:
    """Assign the highest-priority water bodies to `teams` and route each team from its base."""
    if teams < 1:
        raise RoutingError(f"巡查组数量必须至少为 1（收到 {teams}）")
    if stops_per_team < 1:
        raise RoutingError("每组站点数必须至少为 1")
    ranked = ranked if ranked is not None else water_priorities(store, date, village_codes)
    if teams > len(ranked):
        raise RoutingError(f"巡查组（{teams} 个）多于可巡查的水域（{len(ranked)} 处），请减少组数")
    chosen = ranked.head(teams * stops_per_team).reset_index(drop=True)
    villages = store.read_layer("villages", village_codes=village_codes)
    bases = _bases(store, villages, chosen, teams, bases)
    crs = store.analysis_crs()
    to_m = Transformer.from_crs(4326, crs.epsg, always_xy=True)
    stops_xy = np.column_stack(to_m.transform(chosen["lon"].to_numpy(), chosen["lat"].to_numpy()))
    bases_xy = np.column_stack(to_m.transform([b[0] for b in bases], [b[1] for b in bases]))
    routes = plan_routes(stops_xy, bases_xy, stops_per_team)
    rows = []
    for route in routes:
        base = bases[route.team - 1]
        for k, (i, leg) in enumerate(zip(route.stops, route.legs_m, strict=False), start=1):
            stop = chosen.iloc[i]
            rows.append({
                "team": route.team, "stop": k, "water_id": stop["water_id"],
                "water_name": stop["water_name"], "water_type": stop["water_type"],
                "village_code": stop["village_code"], "lon": stop["lon"], "lat": stop["lat"],
                "priority": stop["priority"], "leg_m": round(leg, 1),
                "missing_items": stop["missing_items"], "children_near": stop["children_near"],
                "reasons": stop["reasons"], "base_lon": base[0], "base_lat": base[1],
            })  # fmt: skip
    plan = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    return PatrolPlan(date, plan, routes, bases, {r.team: r.length_m for r in routes})


def _bases(store, villages, chosen, teams, given) -> list[tuple[float, float]]:
    """Given bases (one for all, or one per team), checked to lie in the area; otherwise the
    committee locations of the villages with the most priority among the chosen stops, then
    the centroid of the area."""
    if given:
        if len(given) not in (1, teams):
            raise RoutingError(f"出发点应为 1 个或每组 1 个（共 {teams} 个），收到 {len(given)} 个")
        for lon, lat in given:
            if not near_area(villages.total_bounds, lon, lat):
                raise RoutingError(f"出发点（{lon}, {lat}）不在本辖区范围内，请核对经纬度（WGS84）")
        return list(given) * (teams if len(given) == 1 else 1)
    weight = chosen.groupby("village_code")["priority"].sum().sort_values(ascending=False)
    committees = villages.set_index("village_code")
    out = []
    for code in weight.index:
        if len(out) == teams:
            break
        row = committees.loc[code] if code in committees.index else None
        if row is not None and pd.notna(row["committee_lon"]):
            out.append((float(row["committee_lon"]), float(row["committee_lat"])))
    centre = villages.geometry.union_all().representative_point()
    while len(out) < teams:
        out.append((round(centre.x, 6), round(centre.y, 6)))
    return out


def save_plan(store, plan: PatrolPlan) -> int:
    """Record the plan's stops as planned patrols (one id per date, team and stop)."""
    rows = pd.DataFrame({
        "patrol_id": [f"P{plan.date:%Y%m%d}{t:02d}{s:03d}"
                      for t, s in zip(plan.plan["team"], plan.plan["stop"], strict=True)],
        "county_code": plan.plan["village_code"].str[:6],
        "township_code": plan.plan["village_code"].str[:9],
        "village_code": plan.plan["village_code"],
        "patrol_date": pd.Timestamp(plan.date),
        "team": plan.plan["team"].map(lambda t: f"第{t}组"),
        "stop": plan.plan["stop"], "water_id": plan.plan["water_id"], "status": "planned",
        "patroller": None,
    })  # fmt: skip
    if len(rows):
        store.write_layers({"patrols": rows}, upsert=True)
    return len(rows)


# -- inspections ---------------------------------------------------------------------------------

INSPECTION_ITEMS = [*vocab.FOUR_ITEMS, "fence"]


def inspection_id(water_id: str, at) -> str:
    """One inspection per water body and minute: a sheet entered twice is not doubled."""
    return f"I{water_id}{pd.Timestamp(at):%Y%m%d%H%M}"


def inspection_rows(store, records: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Inspection rows to add and the water bodies whose current status they change (only when
    an inspection is newer than the water body's last one: the history is never overwritten)."""
    waters = store.read_layer("water_bodies").set_index("water_id")
    rows = []
    for r in records:
        water = waters.loc[r["water_id"]]
        at = pd.Timestamp(r["inspected_at"])
        rows.append({
            "inspection_id": inspection_id(r["water_id"], at),
            "water_id": r["water_id"], "county_code": water["county_code"],
            "township_code": water["township_code"], "village_code": water["village_code"],
            "inspected_at": at, "patroller": r.get("patroller"),
            **{f"{i}_status": r[f"{i}_status"] for i in INSPECTION_ITEMS},
            "children_seen": r.get("children_seen"), "photo_count": r.get("photo_count") or 0,
            "note": r.get("note"),
        })  # fmt: skip
    inspections = pd.DataFrame(rows)
    latest = inspections.sort_values("inspected_at").groupby("water_id").tail(1)
    updated = []
    for row in latest.itertuples(index=False):
        water = waters.loc[row.water_id]
        last = water["last_inspection_date"]
        if pd.isna(last) or pd.Timestamp(row.inspected_at).normalize() >= pd.Timestamp(last):
            new = water.copy()
            for i in INSPECTION_ITEMS:
                new[f"{i}_status"] = getattr(row, f"{i}_status")
            new["last_inspection_date"] = pd.Timestamp(row.inspected_at).normalize()
            updated.append(new)
    if updated:
        changed = pd.DataFrame(updated).rename_axis("water_id").reset_index()
        changed = gpd.GeoDataFrame(changed, geometry="geometry", crs=4326)
    else:
        changed = None
    return inspections, changed


def record_inspections(store, records: list[dict]) -> int:
    """Add inspections and update the current status, in one all-or-nothing write."""
    inspections, changed = inspection_rows(store, records)
    frames = {"inspections": inspections}
    if changed is not None:
        frames["water_bodies"] = changed
    store.write_layers(frames, upsert=True)
    return len(inspections)


def compliance(store, date: dt.date, stale_days: int = STALE_DAYS,
               village_codes: list[str] | None = None) -> dict[str, pd.DataFrame]:  # fmt: skip
    """Planned vs checked stops per team on `date`; water bodies not checked within
    `stale_days`; items reported missing or damaged and not replaced since."""
    patrols = store.read_layer("patrols", village_codes=village_codes)
    patrols = patrols[pd.to_datetime(patrols["patrol_date"]) == pd.Timestamp(date)]
    inspections = store.read_layer("inspections", village_codes=village_codes)
    day = inspections[pd.to_datetime(inspections["inspected_at"]).dt.normalize()
                      == pd.Timestamp(date)]  # fmt: skip
    checked = set(day["water_id"])
    per_team = (
        patrols.assign(checked=patrols["water_id"].isin(checked))
        .groupby("team")
        .agg(planned=("water_id", "size"), checked=("checked", "sum"))
        .reset_index()
    )
    per_team["checked"] = per_team["checked"].astype(int)
    per_team["missed"] = per_team["planned"] - per_team["checked"]
    waters = store.read_layer("water_bodies", village_codes=village_codes)
    last = pd.to_datetime(waters["last_inspection_date"])
    age = (pd.Timestamp(date) - last).dt.days
    stale = waters[(last.isna() | (age > stale_days)).to_numpy()]
    stale = pd.DataFrame({
        "water_id": stale["water_id"], "water_name": stale["name"],
        "water_type": stale["water_type"].map(vocab.WATER_TYPES),
        "village_code": stale["village_code"],
        "days_since_inspection": age[stale.index].astype("Int64"),
    }).sort_values(["days_since_inspection", "water_id"], na_position="first")  # fmt: skip
    open_items = []
    for w in waters.itertuples(index=False):
        for i in INSPECTION_ITEMS:
            status = getattr(w, f"{i}_status")
            if status in BAD_STATUSES:
                open_items.append({"water_id": w.water_id, "water_name": w.name,
                                   "village_code": w.village_code,
                                   "item": vocab.EQUIPMENT_ITEMS[i],
                                   "status": vocab.EQUIPMENT_STATUSES[status],
                                   "since": w.last_inspection_date})  # fmt: skip
    return {"per_team": per_team, "stale": stale.reset_index(drop=True),
            "open_items": pd.DataFrame(open_items)}  # fmt: skip
