"""Risk grading (分级划定风险): points from rules held as data, a tier, and reasons in Chinese.

A child's score is the exposure of the home (distance band to the nearest water body within
reach, that water body's missing equipment and fencing, the nearest flood-prone slope) plus the
child's own vulnerability (age band, categories, guardian unable to care). A household scores
its exposure plus the highest vulnerability among its children, which equals its highest child's
score. Tiers are score thresholds. Every rule that fires adds one reason.
"""

from __future__ import annotations

import datetime as dt
from copy import deepcopy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.equipment import completeness_series
from geo.proximity import Proximity, check_radii
from geo.vocab import EQUIPMENT_ITEMS, FOUR_ITEMS, WATER_TYPES, split_codes

TIERS = {"high": "一级", "medium": "二级", "low": "三级", "none": "无"}

# The defaults; a deployment overrides any part with a TOML file (see README, "Risk rules").
DEFAULT_RULES: dict = {
    "radius_m": {"river": 500, "pond": 500, "reservoir": 500, "dam": 500},
    "water_bands": [
        {"max_m": 50, "points": 40},
        {"max_m": 200, "points": 30},
        {"max_m": 500, "points": 15},
    ],
    "equipment": {"missing_four_items_points": 15, "missing_fence_points": 5},
    "slope_bands": [
        {"max_m": 0, "points": 25},
        {"max_m": 50, "points": 15},
        {"max_m": 100, "points": 5},
    ],
    "age_bands": [
        {"below_age": 6, "points": 20, "label": "6岁以下"},
        {"below_age": 12, "points": 12, "label": "6–11岁"},
        {"below_age": 16, "points": 6, "label": "12–15岁"},
        {"below_age": 18, "points": 0, "label": "16–17岁"},
    ],
    "categories": {
        "left_behind_unsigned": {"points": 15, "label": "留守儿童未签委托照护协议"},
        "orphan": {"points": 15, "label": "散居孤儿"},
        "unsupported": {"points": 20, "label": "事实无人抚养儿童"},
        "disabled": {"points": 10, "label": "残疾儿童"},
        "wandering": {"points": 15, "label": "易走失"},
    },
    "guardian_incapable": {"points": 20, "label": "监护人无监护能力"},
    "tiers": {"high": 70, "medium": 50, "low": 30},
}


class RulesError(ValueError):
    """A rules file that cannot be used; the message (Chinese) says what to fix."""


@dataclass(frozen=True)
class RiskRules:
    """Validated rules. Build with `RiskRules.from_dict` (defaults merged in)."""

    data: dict

    @classmethod
    def from_dict(cls, overrides: dict | None = None) -> RiskRules:
        data = deepcopy(DEFAULT_RULES)
        for key, value in (overrides or {}).items():
            if key not in data:
                raise RulesError(f"风险规则中有未知的项“{key}”，可用：{'、'.join(DEFAULT_RULES)}")
            if isinstance(data[key], dict) and isinstance(value, dict):
                data[key].update(value)
            else:
                data[key] = value
        try:
            data["radius_m"] = check_radii(data["radius_m"])
        except ValueError as exc:
            raise RulesError(str(exc)) from exc
        for name in ("water_bands", "slope_bands"):
            limits = [band["max_m"] for band in data[name]]
            if limits != sorted(limits) or any(m < 0 for m in limits):
                raise RulesError(f"“{name}”的 max_m 应为从小到大的非负数")
        t = data["tiers"]
        if not t["high"] > t["medium"] > t["low"] > 0:
            raise RulesError("分级阈值应满足 一级 > 二级 > 三级 > 0")
        return cls(data)

    def tier(self, score: np.ndarray) -> np.ndarray:
        t = self.data["tiers"]
        return np.select(
            [score >= t["high"], score >= t["medium"], score >= t["low"]],
            ["high", "medium", "low"],
            "none",
        )


def _band(values: np.ndarray, bands: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Points and the band limit for each value (first band whose max_m >= value)."""
    points = np.zeros(len(values))
    limit = np.full(len(values), np.nan)
    for band in reversed(bands):
        hit = ~np.isnan(values) & (values <= band["max_m"])
        points[hit] = band["points"]
        limit[hit] = band["max_m"]
    return points, limit


def age_years(birth: pd.Series, as_of: dt.date) -> np.ndarray:
    """Whole years of age on `as_of`."""
    b = pd.to_datetime(birth)
    had_birthday = (b.dt.month < as_of.month) | (
        (b.dt.month == as_of.month) & (b.dt.day <= as_of.day)
    )
    return (as_of.year - b.dt.year - (~had_birthday).astype(int)).to_numpy()


def household_exposure(
    households: pd.DataFrame,
    prox: Proximity,
    waters: pd.DataFrame,
    slopes: pd.DataFrame,
    rules: RiskRules,
) -> pd.DataFrame:
    """Per household: nearest-water facts, exposure points and exposure reasons."""
    r = rules.data
    near = households[["household_id", "village_code"]].merge(
        prox.nearest, on="household_id", how="left", validate="1:1"
    )
    water_info = waters.set_index("water_id")
    complete = completeness_series(waters).set_axis(waters["water_id"])
    nid = near["nearest_water_id"]
    near["nearest_water_name"] = nid.map(water_info["name"])
    state = nid.map(complete)
    near["nearest_water_equipment_complete"] = state.map(
        {"complete": True, "incomplete": False}
    ).astype("boolean")

    # Within reach: the nearest water body is inside its type's radius.
    radius = near["nearest_water_type"].map(r["radius_m"]).astype(float).to_numpy()
    dist = near["nearest_water_m"].to_numpy(dtype=float)
    reach = ~np.isnan(dist) & (dist <= radius)
    water_pts, water_band = _band(np.where(reach, dist, np.nan), r["water_bands"])

    lacks: list[list[str]] = [[] for _ in range(len(near))]
    fence_bad = np.zeros(len(near), dtype=bool)
    if len(waters):
        status = water_info[[f"{i}_status" for i in (*FOUR_ITEMS, "fence")]]
        rows = status.reindex(nid.where(reach)).to_numpy()
        for k in np.flatnonzero(reach):
            lacks[k] = [
                EQUIPMENT_ITEMS[item]
                for item, value in zip(FOUR_ITEMS, rows[k][:4], strict=True)
                if value in ("missing", "damaged")
            ]
            fence_bad[k] = rows[k][4] in ("missing", "damaged")
    lacks_any = np.array([bool(x) for x in lacks])
    equip_pts = np.where(lacks_any, r["equipment"]["missing_four_items_points"], 0) + np.where(
        fence_bad, r["equipment"]["missing_fence_points"], 0
    )
    slope_pts, slope_band = _band(near["slope_m"].to_numpy(dtype=float), r["slope_bands"])
    slope_names = near["nearest_slope_id"].map(slopes.set_index("slope_id")["name"])

    reasons = []
    for k in range(len(near)):
        rs = []
        if water_pts[k]:
            label = WATER_TYPES.get(near.at[k, "nearest_water_type"], "水域")
            name = near.at[k, "nearest_water_name"]
            named = f"{label}“{name}”" if isinstance(name, str) and name else label
            rs.append(f"距{named}{dist[k]:.0f}米（{water_band[k]:g}米内）")
        if lacks_any[k]:
            rs.append(f"该水域四个一不全：缺{'、'.join(lacks[k])}")
        if fence_bad[k]:
            rs.append("该水域缺隔离防护设施")
        if slope_pts[k]:
            sname = slope_names.iat[k]
            sname = f"“{sname}”" if isinstance(sname, str) and sname else ""
            if near.at[k, "slope_m"] == 0:
                rs.append(f"住所位于易滑坡体{sname}内")
            else:
                rs.append(f"距易滑坡体{sname}{near.at[k, 'slope_m']:.0f}米")
        reasons.append(rs)
    near["exposure_points"] = water_pts + equip_pts + slope_pts
    near["exposure_reasons"] = reasons
    return near


def child_vulnerability(children: pd.DataFrame, as_of: dt.date, rules: RiskRules) -> pd.DataFrame:
    """Per child (under 18 on as_of): age, vulnerability points and reasons."""
    r = rules.data
    out = children[["child_id", "household_id", "village_code"]].copy()
    out["age"] = age_years(children["birth_date"], as_of)
    points = np.zeros(len(out))
    reasons: list[list[str]] = [[] for _ in range(len(out))]

    def fire(mask: np.ndarray, pts: float, label: str) -> None:
        nonlocal points
        points = points + np.where(mask, pts, 0)
        for k in np.flatnonzero(mask):
            reasons[k].append(label)

    age = out["age"].to_numpy()
    taken = np.zeros(len(out), dtype=bool)
    for band in r["age_bands"]:
        hit = ~taken & (age < band["below_age"])
        taken |= hit
        if band["points"]:
            fire(hit, band["points"], band["label"])
    cats = children["categories"].map(split_codes)
    why = children["difficulty_reasons"].map(split_codes)
    left = cats.map(lambda c: any(x.startswith("left_behind") for x in c)).to_numpy()
    signed = children["caregiver_agreement_signed"].fillna(False).astype(bool).to_numpy()
    c = r["categories"]
    fire(left & ~signed, c["left_behind_unsigned"]["points"], c["left_behind_unsigned"]["label"])
    fire(cats.map(lambda x: "orphan" in x).to_numpy(), c["orphan"]["points"], c["orphan"]["label"])
    fire(
        cats.map(lambda x: "unsupported" in x).to_numpy(),
        c["unsupported"]["points"],
        c["unsupported"]["label"],
    )
    disabled = (
        why.map(lambda x: "disabled" in x).to_numpy() | children["disability"].notna().to_numpy()
    )
    fire(disabled, c["disabled"]["points"], c["disabled"]["label"])
    fire(
        why.map(lambda x: "wandering" in x).to_numpy(),
        c["wandering"]["points"],
        c["wandering"]["label"],
    )
    incapable = children["guardian_capable"].fillna(True).astype(bool).to_numpy() == False  # noqa: E712
    fire(incapable, r["guardian_incapable"]["points"], r["guardian_incapable"]["label"])
    out["vulnerability_points"] = points
    out["vulnerability_reasons"] = reasons
    return out[(age >= 0) & (age < 18)].reset_index(drop=True)


_JOIN = "；"


def grade(
    households: pd.DataFrame,
    children: pd.DataFrame,
    waters: pd.DataFrame,
    slopes: pd.DataFrame,
    prox: Proximity,
    as_of: dt.date,
    rules: RiskRules | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(household rows, child rows), each with score, tier, tier_code and reasons."""
    rules = rules or RiskRules.from_dict()
    hh = household_exposure(households, prox, waters, slopes, rules)
    ch = child_vulnerability(children, as_of, rules)
    ch = ch.merge(hh.drop(columns=["village_code"]), on="household_id", how="left", validate="m:1")
    ch["exposure_points"] = ch["exposure_points"].fillna(0)
    ch["score"] = ch["exposure_points"] + ch["vulnerability_points"]
    ch["tier_code"] = rules.tier(ch["score"].to_numpy())
    ch["tier"] = ch["tier_code"].map(TIERS)
    ch["reasons"] = [
        _JOIN.join((e if isinstance(e, list) else []) + v)
        for e, v in zip(ch["exposure_reasons"], ch["vulnerability_reasons"], strict=True)
    ]

    per_hh = ch.groupby("household_id").agg(
        children=("child_id", "size"), vulnerability_points=("vulnerability_points", "max")
    )
    hh = hh.merge(per_hh, left_on="household_id", right_index=True, how="left")
    hh["children"] = hh["children"].fillna(0).astype(int)
    hh["score"] = hh["exposure_points"] + hh["vulnerability_points"].fillna(0)
    hh["tier_code"] = rules.tier(hh["score"].to_numpy())
    hh["tier"] = hh["tier_code"].map(TIERS)
    counted = (
        ch.explode("vulnerability_reasons")
        .dropna(subset=["vulnerability_reasons"])
        .groupby(["household_id", "vulnerability_reasons"], sort=False)
        .size()
    )
    child_reasons: dict[str, list[str]] = {}
    for (hid, label), n in counted.items():
        child_reasons.setdefault(hid, []).append(f"{label}{n}名")
    hh["reasons"] = [
        _JOIN.join(e + child_reasons.get(h, []))
        for h, e in zip(hh["household_id"], hh["exposure_reasons"], strict=True)
    ]
    return hh, ch
