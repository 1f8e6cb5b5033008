"""Which water bodies to patrol first: a priority per water body, with its reasons in Chinese.

The priority adds up, with weights that are data (PRIORITY_WEIGHTS, overridable per deployment):
children living within the water body's radius, weighted by their household's risk tier; each of
the "四个一" items missing, damaged or never checked; missing or damaged fencing; the type of water;
and the days since the last inspection (capped; never inspected counts as the cap).
"""

from __future__ import annotations

import copy
import datetime as dt
import math

import pandas as pd

from geo import vocab
from geo.equipment import BAD_STATUSES

PRIORITY_WEIGHTS: dict = {
    "child_by_tier": {"high": 2.0, "medium": 1.0, "low": 0.5, "none": 0.2},
    "item": {"missing": 8.0, "damaged": 5.0, "unknown": 3.0, "present": 0.0},
    "fence": {"missing": 6.0, "damaged": 4.0, "unknown": 2.0, "present": 0.0},
    "water_type": {"reservoir": 8.0, "river": 6.0, "pond": 5.0, "dam": 4.0},
    "per_day_uninspected": 0.5,
    "max_days_points": 30.0,
}
PRIORITY_COLUMNS = [
    "water_id", "water_name", "water_type", "village_code", "priority", "children_near",
    "missing_items", "days_since_inspection", "reasons", "lon", "lat",
]  # fmt: skip
_TIER_LABELS = {"high": "一级", "medium": "二级", "low": "三级", "none": "无等级"}
_STATUS_WORDS = {"missing": "缺", "damaged": "损坏", "unknown": "未核查"}


class WeightsError(ValueError):
    """Priority weights that cannot be used (Chinese message)."""


def weights(overrides: dict | None = None) -> dict:
    """The default weights with a deployment's overrides merged in. Every problem (an unknown
    key, a table where a number belongs or the reverse, a value that is not a non-negative
    number) is listed at once, in Chinese, with where it is."""
    merged = copy.deepcopy(PRIORITY_WEIGHTS)
    problems: list[str] = []
    for key, value in (overrides or {}).items():
        if key not in merged:
            problems.append(f"未知的权重“{key}”，可用：{'、'.join(PRIORITY_WEIGHTS)}")
        elif isinstance(merged[key], dict):
            if not isinstance(value, dict):
                problems.append(f"权重“{key}”应为一个表（[{key}]，各项一行），现为 {value!r}")
                continue
            for item, points in value.items():
                if item not in merged[key]:
                    problems.append(
                        f"权重“{key}”中有未知项“{item}”，可用：{'、'.join(merged[key])}"
                    )
                else:
                    merged[key][item] = _points(f"{key}.{item}", points, problems)
        else:
            merged[key] = _points(key, value, problems)
    if problems:
        raise WeightsError("；".join(problems))
    return merged


def _points(where: str, value, problems: list[str]) -> float:
    """`value` as points; a problem noted (and 0 kept) when it is not a number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"权重“{where}”应为数字，现为 {value!r}")
        return 0.0
    if value < 0:
        problems.append(f"权重“{where}”不能为负数（现为 {value:g}）")
    return float(value)


def explain_weights(w: dict | None = None) -> list[str]:
    """How a priority adds up, one line of Chinese per part, with the weights' values: what the
    page shows staff next to the ranking."""
    w = w or PRIORITY_WEIGHTS
    statuses = {"missing": "缺", "damaged": "损坏", "unknown": "未核查"}
    tiers = {t: label if t == "none" else f"{label}风险" for t, label in _TIER_LABELS.items()}

    def points(values: dict, labels: dict) -> str:
        return vocab.points_phrase((labels[k], values[k]) for k in labels)

    return [
        "附近儿童（住在该水域排查半径内的）每名：" + points(w["child_by_tier"], tiers),
        f"四个一（{'、'.join(vocab.EQUIPMENT_ITEMS[i] for i in vocab.FOUR_ITEMS)}）每项："
        + points(w["item"], statuses),
        "隔离防护设施：" + points(w["fence"], statuses),
        "水域类型：" + points(w["water_type"], vocab.WATER_TYPES),
        f"未巡查天数：每天 {w['per_day_uninspected']:g} 分，最多 {w['max_days_points']:g} 分"
        "（从未巡查按最多计）",
    ]


def priorities(
    waters: pd.DataFrame,
    near: pd.DataFrame,
    as_of: dt.date,
    w: dict | None = None,
) -> pd.DataFrame:
    """Ranked water bodies (PRIORITY_COLUMNS), highest first, ties by water id.

    `waters`: water_id, name, water_type, village_code, {sign,buoy,rope,pole,fence}_status,
    last_inspection_date, and geometry or lon/lat. `near`: one row per child living within the
    water body's radius: water_id, tier_code (high/medium/low/none)."""
    w = w or PRIORITY_WEIGHTS
    counts = near.groupby(["water_id", "tier_code"]).size().unstack(fill_value=0)
    rows = []
    as_of_ts = pd.Timestamp(as_of)
    for water in waters.itertuples(index=False):
        score, reasons = 0.0, []
        by_tier = counts.loc[water.water_id] if water.water_id in counts.index else {}
        kids = {t: int(by_tier.get(t, 0)) for t in _TIER_LABELS}
        child_points = sum(w["child_by_tier"][t] * n for t, n in kids.items())
        if child_points:
            score += child_points
            parts = [f"{_TIER_LABELS[t]}{n}名" for t, n in kids.items() if n]
            reasons.append(f"附近儿童{sum(kids.values())}名（{'、'.join(parts)}）")
        missing = []
        for item in vocab.FOUR_ITEMS:
            status = getattr(water, f"{item}_status") or "unknown"
            score += w["item"].get(status, 0.0)
            if status in BAD_STATUSES:
                missing.append(
                    f"{vocab.EQUIPMENT_ITEMS[item]}{'' if status == 'missing' else '（损坏）'}"
                )
        unchecked = [vocab.EQUIPMENT_ITEMS[i] for i in vocab.FOUR_ITEMS
                     if (getattr(water, f"{i}_status") or "unknown") == "unknown"]  # fmt: skip
        if missing:
            reasons.append(f"缺{'、'.join(missing)}")
        if unchecked:
            reasons.append(f"{'、'.join(unchecked)}未核查")
        fence = water.fence_status or "unknown"
        score += w["fence"].get(fence, 0.0)
        if fence in BAD_STATUSES:
            reasons.append("无隔离防护设施" if fence == "missing" else "隔离防护设施损坏")
        score += w["water_type"].get(water.water_type, 0.0)
        last = water.last_inspection_date
        if last is None or pd.isna(last):
            days = None
            score += w["max_days_points"]
            reasons.append("从未巡查")
        else:
            days = max(0, (as_of_ts - pd.Timestamp(last)).days)
            score += min(w["max_days_points"], w["per_day_uninspected"] * days)
            if days >= 7:
                reasons.append(f"{days}天未巡查")
        rows.append({
            "water_id": water.water_id, "water_name": water.name or "（未命名）",
            "water_type": vocab.WATER_TYPES.get(water.water_type, water.water_type),
            "village_code": water.village_code, "priority": round(score, 1),
            "children_near": sum(kids.values()), "missing_items": "、".join(missing),
            "days_since_inspection": days, "reasons": "；".join(reasons),
            "lon": _coord(water, "x"), "lat": _coord(water, "y"),
        })  # fmt: skip
    frame = pd.DataFrame(rows, columns=PRIORITY_COLUMNS)
    return frame.sort_values(["priority", "water_id"], ascending=[False, True], ignore_index=True)


def _coord(water, axis: str) -> float:
    if hasattr(water, "lon") and axis == "x":
        return float(water.lon)
    if hasattr(water, "lat") and axis == "y":
        return float(water.lat)
    point = water.geometry.representative_point()
    return round(float(point.x if axis == "x" else point.y), 6)
