"""Risk grading (分级划定风险): points from rules held as data, a tier, and reasons in Chinese.

A child's score is the exposure of the home (distance band to the nearest water body within
reach, that water body's missing equipment and fencing, the nearest flood-prone slope) plus the
child's own vulnerability (age band, categories, guardian unable to care). A household scores
its exposure plus the highest vulnerability among its children, which equals its highest child's
score. Tiers are score thresholds. Every rule that fires adds one reason.

Here: the rules, and the facts and points of households and children; geo/grading.py puts
them together into the graded lists.
"""

from __future__ import annotations

import datetime as dt
from copy import deepcopy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo import arrowtext as at
from geo import rowtext as rt
from geo.columns import take
from geo.equipment import four_items, is_bad
from geo.grading_kernels import exposure, flag_points
from geo.proximity import TYPE_CODES, Proximity, check_radii
from geo.vocab import EQUIPMENT_ITEMS, FOUR_ITEMS, WATER_TYPES, points_phrase

TIERS = {"high": "一级", "medium": "二级", "low": "三级", "none": "无"}
_TIER_CODES = np.array(list(TIERS), dtype=object)
_TIER_LABELS = np.array(list(TIERS.values()), dtype=object)

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
        """The defaults with `overrides` merged in, table by table (a `[categories.orphan]`
        that sets only `points` keeps the label); a list of bands replaces the default list.
        Every problem is listed at once, in Chinese, with where it is."""
        problems: list[str] = []
        data = _merged(DEFAULT_RULES, overrides or {}, "", problems)
        if not problems:
            problems = _rule_problems(data)
        if problems:
            raise RulesError("；".join(problems))
        return cls(data)

    def explain(self) -> list[str]:
        """The rules in Chinese, one line per part, with their points: what the risk page shows
        staff, so that a score can be checked by hand against its reasons."""
        r = self.data

        def within(band: dict, zero: str) -> str:
            return zero if band["max_m"] == 0 else f"{band['max_m']:g} 米内"

        radii = "、".join(f"{label} {r['radius_m'][t]:g} 米" for t, label in WATER_TYPES.items())
        equip, guardian, t = r["equipment"], r["guardian_incapable"], r["tiers"]
        lacks = [("四个一不全", equip["missing_four_items_points"]),
                 ("缺隔离防护设施", equip["missing_fence_points"])]  # fmt: skip
        children = [(c["label"], c["points"]) for c in r["categories"].values()]
        return [
            f"最近水域（在其类型的半径内才计：{radii}）："
            + points_phrase((within(b, "0 米"), b["points"]) for b in r["water_bands"]),
            "该水域：" + points_phrase(lacks),
            "易滑坡体："
            + points_phrase((within(b, "位于坡体内"), b["points"]) for b in r["slope_bands"]),
            "儿童年龄：" + points_phrase((b["label"], b["points"]) for b in r["age_bands"]),
            "儿童情况：" + points_phrase([*children, (guardian["label"], guardian["points"])]),
            f"分级：{t['high']:g} 分及以上为一级，{t['medium']:g} 分及以上为二级，"
            f"{t['low']:g} 分及以上为三级，其余无等级",
            "每名儿童的分数为住所各项加本人各项；每户的分数为住所各项加户内儿童本人各项最高者",
        ]

    def tier(self, score: np.ndarray) -> np.ndarray:
        """Tier code per score: high, medium, low or none."""
        return self.tiers(score)[0]

    def tiers(self, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(tier codes, Chinese tier labels) per score, as object arrays."""
        t = self.data["tiers"]
        which = np.select(
            [score >= t["high"], score >= t["medium"], score >= t["low"]], [0, 1, 2], 3
        )
        return _TIER_CODES[which], _TIER_LABELS[which]


def _merged(default, value, where: str, problems: list[str]):
    """`value` over `default`, checked against its shape: the same keys (tables), entries
    with the keys of the default's first entry (lists of bands), numbers where the default
    has a number and text where it has text."""
    name = f"“{where}”" if where else "风险规则"
    if isinstance(default, dict):
        if not isinstance(value, dict):
            problems.append(f"{name}应为一个表（[{where}]），现为 {value!r}")
            return deepcopy(default)
        out = deepcopy(default)
        for key, item in value.items():
            if key not in default:
                problems.append(f"{name}中有未知的项“{key}”，可用：{'、'.join(default)}")
            else:
                out[key] = _merged(default[key], item, f"{where}.{key}".strip("."), problems)
        return out
    if isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            problems.append(f"{name}应写成若干条 [[{where}]]，每条一个表")
            return deepcopy(default)
        keys = list(default[0])
        out = []
        for n, entry in enumerate(value, 1):
            missing = [k for k in keys if k not in entry]
            unknown = [k for k in entry if k not in keys]
            if missing:
                problems.append(f"{name}第 {n} 条缺少 {'、'.join(missing)}")
            if unknown:
                problems.append(
                    f"{name}第 {n} 条有未知的项 {'、'.join(unknown)}，可用：{'、'.join(keys)}"
                )
            out.append({k: _merged(default[0][k], entry[k], f"{where} 第 {n} 条的 {k}", problems)
                        for k in keys if k in entry})  # fmt: skip
        return out
    if isinstance(default, str):
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name}应为文字（加引号），现为 {value!r}")
            return default
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        problems.append(f"{name}应为数字，现为 {value!r}")
        return default
    return value


def _rule_problems(data: dict) -> list[str]:
    """What a well-formed set of rules may still get wrong: radii, order, signs."""
    problems = []
    try:
        data["radius_m"] = check_radii(data["radius_m"])
    except ValueError as exc:
        problems.append(str(exc))
    for name in ("water_bands", "slope_bands"):
        limits = [band["max_m"] for band in data[name]]
        if limits != sorted(limits) or any(m < 0 for m in limits):
            problems.append(f"“{name}”的 max_m 应为从小到大的非负数")
    ages = [band["below_age"] for band in data["age_bands"]]
    if ages != sorted(set(ages)) or any(not 0 < a <= 18 for a in ages):
        problems.append("“age_bands”的 below_age 应从小到大、各不相同，在 1 到 18 之间")
    points = [
        *(b["points"] for name in ("water_bands", "slope_bands", "age_bands") for b in data[name]),
        *data["equipment"].values(),
        *(c["points"] for c in data["categories"].values()),
        data["guardian_incapable"]["points"],
    ]
    if any(p < 0 for p in points):
        problems.append("分值（points）不能为负数")
    t = data["tiers"]
    if not t["high"] > t["medium"] > t["low"] > 0:
        problems.append("分级阈值应满足 一级 > 二级 > 三级 > 0")
    return problems


def _band_table(bands: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The bands' limits (ascending: checked when the rules are read) and their points, with 0
    last for a value in no band (as `grading_kernels.exposure` takes them)."""
    limits = np.array([band["max_m"] for band in bands], dtype=float)
    return limits, np.array([band["points"] for band in bands] + [0], dtype=float)


def age_years(birth, as_of: dt.date) -> np.ndarray:
    """Whole years of age on `as_of` (-1 for an unknown birth date, so the child is left out):
    (as_of - birth) as yyyymmdd numbers, // 10000. A county's children were born on a few
    thousand distinct days, so each day of their span is worked out once and looked up."""
    b = np.asarray(birth)
    if b.dtype.kind != "M":
        b = pd.to_datetime(pd.Series(birth)).to_numpy()
    day = b.astype("datetime64[D]").view(np.int64)  # days since 1970-01-01
    unknown = np.isnat(b)
    if unknown.all():
        return np.full(len(day), -1, np.int64)
    today = as_of.year * 10000 + as_of.month * 100 + as_of.day
    lo, hi = int(day[~unknown].min()), int(day[~unknown].max())
    if hi - lo > 4 * len(day):  # a wide span (a mistyped year): every row on its own
        return np.where(unknown, -1, (today - _yyyymmdd(np.where(unknown, 0, day))) // 10000)
    ages = (today - _yyyymmdd(np.arange(lo, hi + 1, dtype=np.int64))) // 10000
    return np.where(unknown, -1, ages.take(np.where(unknown, 0, day - lo)))


def _yyyymmdd(days: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 as yyyymmdd numbers (proleptic Gregorian; H. Hinnant's
    civil_from_days)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return (yoe + era * 400 + (m <= 2)) * 10000 + m * 100 + d


def _positions(keys, wanted) -> np.ndarray | None:
    """Index of each wanted key among keys (unique), -1 where absent (an Arrow hash lookup);
    None when `wanted` is `keys` in the same order (nothing to look up)."""
    if keys is wanted:
        return None
    k, w = at.text(keys), at.text(wanted)
    if len(k) == len(w) and k.equals(w):
        return None
    found = pc.index_in(w, value_set=k).fill_null(-1)
    return found.to_numpy(zero_copy_only=False).astype(np.int64)


def _nearest_positions(
    prox: Proximity, key: str, column: str, layer_ids: pa.Array, at_near
) -> np.ndarray:
    """Position in a layer (its ids `layer_ids`) of each household's nearest feature (id
    `column` of prox.nearest, `key` of the layer), -1 none: the engine's own positions when
    the layer lists the same ids in the same order (no lookup of a million ids), else looked
    up by id."""
    known = prox.positions.get(key)
    if known is not None:
        ids, found = known
        if len(ids) == len(layer_ids) and ids.equals(layer_ids):
            if at_near is None:
                return np.asarray(found, dtype=np.int64)
            return np.where(at_near >= 0, found[np.maximum(at_near, 0)], -1)
    wanted = _take_any(prox.nearest[column], at_near)
    return _index(_positions(layer_ids, wanted), len(at_near if at_near is not None else wanted))


def _index(found: np.ndarray | None, n: int) -> np.ndarray:
    return np.arange(n) if found is None else found


def _take_any(values, index: np.ndarray | None):
    """values[index] (a column of any kind); missing (null, NaN, NA, None, 0 for integers)
    where index < 0."""
    if index is None:
        return values
    if isinstance(values, pa.Array):
        return at.take(values, index)
    if isinstance(values, pd.Series):
        values = (
            values.array
            if isinstance(values.dtype, pd.api.extensions.ExtensionDtype)
            else (values.to_numpy())
        )
    if isinstance(values, pd.api.extensions.ExtensionArray):
        return values.take(index, allow_fill=True)
    return take(np.asarray(values), index)


def _quoted(names) -> pa.Array:
    """'“name”' per name; null (nothing written) where the name is unknown or empty."""
    return at.concat("“", at.nonempty(at.text(names)), "”")


def _lack_texts() -> pa.Array:
    """For each set of missing four items (bit k: FOUR_ITEMS[k]), their names joined by '、'."""
    return at.text(
        [
            "、".join(EQUIPMENT_ITEMS[item] for k, item in enumerate(FOUR_ITEMS) if code >> k & 1)
            for code in range(1 << len(FOUR_ITEMS))
        ]
    )


@dataclass
class LayerFacts:
    """What grading needs from the layers themselves, before any proximity is known."""

    hh_ids: pa.Array
    village_code: pd.Series
    water_ids: pa.Array
    water_names: pa.Array
    water_quoted: pa.Array
    known: np.ndarray  # equipment status known (complete or incomplete), per water body
    complete: np.ndarray
    lack_code: np.ndarray  # bit k: FOUR_ITEMS[k] missing or damaged
    fence_bad: np.ndarray
    slope_ids: pa.Array
    slope_quoted: pa.Array


def layer_facts(households: pd.DataFrame, waters: pd.DataFrame, slopes: pd.DataFrame) -> LayerFacts:
    """Ids, names and equipment of the households, water bodies and slopes, as arrays."""
    lack_code, known, complete = four_items(waters)
    names = at.text(waters["name"])
    return LayerFacts(
        hh_ids=at.text(households["household_id"]),
        village_code=households["village_code"],
        water_ids=at.text(waters["water_id"]),
        water_names=names,
        water_quoted=_quoted(names),
        known=known,
        complete=complete,
        lack_code=lack_code,
        fence_bad=is_bad(waters["fence_status"]),
        slope_ids=at.text(slopes["slope_id"]),
        slope_quoted=_quoted(slopes["name"]),
    )


def household_exposure(
    facts: LayerFacts, prox: Proximity, rules: RiskRules
) -> tuple[dict, list[rt.Group]]:
    """Per household (in the layer's order): nearest-water facts and exposure points, as
    columns; and the reasons as text groups (written later, together with the children's)."""
    r = rules.data
    hh_ids = facts.hh_ids
    at_near = _positions(prox.nearest["household_id"], hh_ids)
    near = {"household_id": hh_ids, "village_code": facts.village_code}
    for name in prox.nearest.columns.drop("household_id"):
        near[name] = _take_any(prox.nearest[name], at_near)

    # Facts of each water body, taken for each household's nearest one.
    w = _nearest_positions(prox, "water_id", "nearest_water_id", facts.water_ids, at_near)
    known = take(facts.known, w)
    near["nearest_water_name"] = at.take(facts.water_names, w)
    near["nearest_water_equipment_complete"] = pd.arrays.BooleanArray(
        take(facts.complete, w), ~known
    )

    # Within reach: the nearest water body is inside its type's radius.
    kinds = prox.positions.get("water_type")  # the engine's own type numbers, -1 none
    if kinds is not None and at_near is None:
        type_no = np.where(kinds < 0, len(WATER_TYPES), kinds)
    else:
        type_no = (
            pc.index_in(at.text(near["nearest_water_type"]), value_set=TYPE_CODES)
            .fill_null(len(WATER_TYPES))
            .to_numpy(zero_copy_only=False)
            .astype(np.int64)
        )
    # Bands, and the equipment of the nearest water body within its type's radius: one pass.
    dist = np.ascontiguousarray(near["nearest_water_m"], dtype=float)
    slope_m = np.ascontiguousarray(near["slope_m"], dtype=float)
    equip = r["equipment"]
    water_band, water_pts, lack, fence_bad, slope_pts, near["exposure_points"] = exposure(
        np.ascontiguousarray(type_no, dtype=np.int64), np.ascontiguousarray(w, dtype=np.int64),
        dist, slope_m, np.array([r["radius_m"][t] for t in WATER_TYPES] + [np.nan]),
        *_band_table(r["water_bands"]), facts.lack_code, facts.fence_bad,
        float(equip["missing_four_items_points"]), float(equip["missing_fence_points"]),
        *_band_table(r["slope_bands"]),
    )  # fmt: skip
    lacks = lack > 0
    s = _nearest_positions(prox, "slope_id", "nearest_slope_id", facts.slope_ids, at_near)
    sname = rt.Pick(facts.slope_quoted, s)
    on = slope_pts > 0
    inside = on & (slope_m == 0)
    bands = at.text([f"{band['max_m']:g}" for band in r["water_bands"]])
    groups = [
        rt.group(
            water_pts > 0,
            "距", rt.Pick(at.text([*WATER_TYPES.values(), "水域"]), type_no),
            rt.Pick(facts.water_quoted, w), rt.Number(dist),
            "米（", rt.Pick(bands, water_band), "米内）",
        ),
        rt.group(lacks, "该水域四个一不全：缺", rt.Pick(_lack_texts(), lack)),
        rt.group(fence_bad, "该水域缺隔离防护设施"),
        rt.group(inside, "住所位于易滑坡体", sname, "内"),
        rt.group(on & ~inside, "距易滑坡体", sname, rt.Number(slope_m), "米"),
    ]  # fmt: skip
    return near, groups


def _has_codes(frame: pd.DataFrame, name: str, codes: tuple[str, ...]) -> list[np.ndarray]:
    """Per code: does each row's code list (column `name`) contain it. Matched once per distinct
    list (a county's 130,000 children have a dozen), as one bit per code, so each row is
    looked up once for all the codes."""
    lists = pc.dictionary_encode(at.text(frame[name]))
    index = lists.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    bits = np.zeros(len(lists.dictionary) + 1, np.uint8)  # the last: no list (index -1)
    for k, code in enumerate(codes):
        found = pc.match_substring(lists.dictionary, code).fill_null(False)
        bits[:-1] |= found.to_numpy(zero_copy_only=False).astype(np.uint8) << k
    row = bits.take(index)
    return [(row & (1 << k)) != 0 for k in range(len(codes))]


def _child_flags(children: pd.DataFrame, age: np.ndarray, rules: RiskRules) -> list[tuple]:
    """(label, points, mask) for every child rule, in the order reasons are listed."""
    r = rules.data
    flags = []
    taken = np.zeros(len(children), dtype=bool)
    for band in r["age_bands"]:
        hit = ~taken & (age >= 0) & (age < band["below_age"])
        taken |= hit
        if band["points"]:
            flags.append((band["label"], band["points"], hit))
    left_behind, orphan, unsupported = _has_codes(
        children, "categories", ("left_behind", "orphan", "unsupported")
    )
    disabled, wandering = _has_codes(children, "difficulty_reasons", ("disabled", "wandering"))
    signed = children["caregiver_agreement_signed"].fillna(False).to_numpy(dtype=bool)
    capable = children["guardian_capable"].fillna(True).to_numpy(dtype=bool)
    c = r["categories"]
    for key, mask in (
        ("left_behind_unsigned", left_behind & ~signed),
        ("orphan", orphan),
        ("unsupported", unsupported),
        ("disabled", disabled | children["disability"].notna().to_numpy()),
        ("wandering", wandering),
    ):
        flags.append((c[key]["label"], c[key]["points"], mask))
    g = r["guardian_incapable"]
    flags.append((g["label"], g["points"], ~capable))
    return flags


def child_vulnerability(
    children: pd.DataFrame, as_of: dt.date, rules: RiskRules
) -> tuple[dict, list[str], np.ndarray]:
    """Per child (under 18 on as_of), as columns: age and vulnerability points; and the label
    of every child rule with its mask over those rows (rules × children), for the reasons and
    for households to count."""
    age = age_years(children["birth_date"], as_of)
    flags = _child_flags(children, age, rules)
    masks = np.stack([mask for _, _, mask in flags])
    points = flag_points(masks, np.array([pts for _, pts, _ in flags], dtype=float))
    child = (age >= 0) & (age < 18)
    every = bool(child.all())  # as it mostly is: nothing to take
    keep = slice(None) if every else np.flatnonzero(child)
    ids = at.text(children["household_id"])
    out = {name: children[name].iloc[keep] for name in ("child_id", "village_code")}
    out["household_id"] = ids if every else at.take(ids, keep)
    out["age"] = age[keep]
    out["vulnerability_points"] = points[keep]
    return out, [label for label, _, _ in flags], masks[:, keep]
