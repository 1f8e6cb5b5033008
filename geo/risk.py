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
from geo.vocab import EQUIPMENT_ITEMS, FOUR_ITEMS, WATER_TYPES

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


_JOIN = "；"


def _obj(values) -> np.ndarray:
    """Strings as a NumPy object array: concatenating there avoids Arrow round trips."""
    return np.asarray(values, dtype=object)


def _cat(*parts, sep: str = _JOIN) -> np.ndarray:
    """Join per-row strings with `sep`, skipping empty ones (vectorised on object arrays)."""
    out = _obj(parts[0])
    for part in parts[1:]:
        part = _obj(part)
        both = (out != "") & (part != "")
        out = out + _obj(np.where(both, sep, "")) + part
    return out


def _fmt_int(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rounded whole numbers as text where mask, '' elsewhere (like f'{v:.0f}')."""
    out = np.full(len(values), "", dtype=object)
    out[mask] = np.round(values[mask]).astype(np.int64).astype(str)
    return out


def _quoted(names: pd.Series) -> np.ndarray:
    """'“name”' where a name is known, '' otherwise."""
    text = _obj(names.astype(object).where(names.notna(), ""))
    return _obj(np.where(text != "", "“" + text + "”", ""))


def household_exposure(
    households: pd.DataFrame,
    prox: Proximity,
    waters: pd.DataFrame,
    slopes: pd.DataFrame,
    rules: RiskRules,
) -> pd.DataFrame:
    """Per household: nearest-water facts, exposure points and exposure reasons (one string)."""
    r = rules.data
    near = households[["household_id", "village_code"]].merge(
        prox.nearest, on="household_id", how="left", validate="1:1"
    )
    water_info = waters.set_index("water_id")
    complete = completeness_series(waters).set_axis(waters["water_id"])
    nid = near["nearest_water_id"]
    near["nearest_water_name"] = nid.map(water_info["name"])
    near["nearest_water_equipment_complete"] = (
        nid.map(complete).map({"complete": True, "incomplete": False}).astype("boolean")
    )

    # Within reach: the nearest water body is inside its type's radius.
    radius = near["nearest_water_type"].map(r["radius_m"]).astype(float).to_numpy()
    dist = near["nearest_water_m"].to_numpy(dtype=float)
    reach = ~np.isnan(dist) & (dist <= radius)
    water_pts, water_band = _band(np.where(reach, dist, np.nan), r["water_bands"])
    fired = water_pts > 0
    label = _obj(near["nearest_water_type"].map(WATER_TYPES).fillna("水域"))
    band_text = np.full(len(near), "", dtype=object)
    band_text[fired] = [f"{b:g}" for b in water_band[fired]]
    named = label + _quoted(near["nearest_water_name"])
    distance_text = _fmt_int(dist, fired)
    water_reason = np.where(fired, "距" + named + distance_text + "米（" + band_text + "米内）", "")

    statuses = water_info.reindex(nid.where(reach))
    lack = _obj(np.full(len(near), ""))
    for item in FOUR_ITEMS:
        bad = statuses[f"{item}_status"].isin(["missing", "damaged"]).to_numpy() & reach
        lack = _cat(lack, np.where(bad, EQUIPMENT_ITEMS[item], ""), sep="、")
    lacks_any = lack != ""
    fence_bad = statuses["fence_status"].isin(["missing", "damaged"]).to_numpy() & reach
    equip = r["equipment"]
    equip_pts = np.where(lacks_any, equip["missing_four_items_points"], 0) + np.where(
        fence_bad, equip["missing_fence_points"], 0
    )
    lack_reason = np.where(lacks_any, "该水域四个一不全：缺" + lack, "")
    fence_reason = np.where(fence_bad, "该水域缺隔离防护设施", "")

    slope_m = near["slope_m"].to_numpy(dtype=float)
    slope_pts, _ = _band(slope_m, r["slope_bands"])
    sname = _quoted(near["nearest_slope_id"].map(slopes.set_index("slope_id")["name"]))
    on = slope_pts > 0
    inside = on & (slope_m == 0)
    slope_text = "距易滑坡体" + sname + _fmt_int(slope_m, on) + "米"
    slope_reason = np.where(inside, "住所位于易滑坡体" + sname + "内", np.where(on, slope_text, ""))
    near["exposure_points"] = water_pts + equip_pts + slope_pts
    near["exposure_reasons"] = _cat(water_reason, lack_reason, fence_reason, slope_reason)
    return near


def _child_flags(children: pd.DataFrame, age: np.ndarray, rules: RiskRules) -> list[tuple]:
    """(label, points, mask) for every child rule, in the order reasons are listed."""
    r = rules.data
    flags = []
    taken = np.zeros(len(children), dtype=bool)
    for band in r["age_bands"]:
        hit = ~taken & (age < band["below_age"])
        taken |= hit
        if band["points"]:
            flags.append((band["label"], band["points"], hit))
    cats = children["categories"].fillna("").astype(str)
    why = children["difficulty_reasons"].fillna("").astype(str)
    signed = children["caregiver_agreement_signed"].fillna(False).astype(bool).to_numpy()
    capable = children["guardian_capable"].fillna(True).astype(bool).to_numpy()
    has = lambda text, code: text.str.contains(code, regex=False).to_numpy()  # noqa: E731
    c = r["categories"]
    for key, mask in (
        ("left_behind_unsigned", has(cats, "left_behind") & ~signed),
        ("orphan", has(cats, "orphan")),
        ("unsupported", has(cats, "unsupported")),
        ("disabled", has(why, "disabled") | children["disability"].notna().to_numpy()),
        ("wandering", has(why, "wandering")),
    ):
        flags.append((c[key]["label"], c[key]["points"], mask))
    g = r["guardian_incapable"]
    flags.append((g["label"], g["points"], ~capable))
    return flags


FLAG = "flag:"  # prefix of the per-rule boolean columns on child rows


def child_vulnerability(children: pd.DataFrame, as_of: dt.date, rules: RiskRules) -> pd.DataFrame:
    """Per child (under 18 on as_of): age, vulnerability points, reasons, and one boolean
    column per child rule (FLAG + label) so households can count them."""
    out = children[["child_id", "household_id", "village_code"]].copy()
    age = age_years(children["birth_date"], as_of)
    out["age"] = age
    flags = _child_flags(children, age, rules)
    out["vulnerability_points"] = sum(np.where(mask, pts, 0) for _, pts, mask in flags) + 0.0
    out["vulnerability_reasons"] = _cat(*(np.where(mask, label, "") for label, _, mask in flags))
    for label, _, mask in flags:
        out[FLAG + label] = mask
    return out[(age >= 0) & (age < 18)].reset_index(drop=True)


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
    ch["reasons"] = _cat(ch["exposure_reasons"].fillna(""), ch["vulnerability_reasons"])

    per_hh = ch.groupby("household_id").agg(
        children=("child_id", "size"), vulnerability_points=("vulnerability_points", "max")
    )
    hh = hh.merge(per_hh, left_on="household_id", right_index=True, how="left")
    hh["children"] = hh["children"].fillna(0).astype(int)
    hh["score"] = hh["exposure_points"] + hh["vulnerability_points"].fillna(0)
    hh["tier_code"] = rules.tier(hh["score"].to_numpy())
    hh["tier"] = hh["tier_code"].map(TIERS)
    # Child factors per household, counted: "6岁以下2名；监护人无监护能力1名".
    flag_cols = [c for c in ch.columns if c.startswith(FLAG)]
    counts = ch.groupby("household_id")[flag_cols].sum()
    parts = [hh["exposure_reasons"]]
    for col in flag_cols:
        n = hh["household_id"].map(counts[col]).fillna(0).astype(int)
        label = col[len(FLAG) :]
        parts.append(np.where(n > 0, label + _obj(n.astype(str)) + "名", ""))
    hh["reasons"] = _cat(*parts)
    return hh, ch
