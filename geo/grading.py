"""Grading: the rules of geo/risk.py applied to proximity, as household rows and child rows.

Its preparation (the layers' ids and equipment, each child's vulnerability and home) needs no
proximity, so `assess` runs it on a second thread while proximity runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from geo import arrowtext as at
from geo import grading_kernels
from geo import rowtext as rt
from geo.proximity import Proximity
from geo.risk import (
    LayerFacts,
    RiskRules,
    _index,
    _positions,
    _take_any,
    child_vulnerability,
    household_exposure,
    layer_facts,
)

# From this many households up, the preparation overlaps proximity on a second thread (fresh
# processes, median of 7: county 100,500 0.361 s against 0.372 s on one thread; a township of
# 1,500 0.024 s against 0.016 s).
OVERLAP_FROM_HOUSEHOLDS = 20_000

# Household facts repeated on each child's row.
CHILD_FACTS = [
    "nearest_water_id", "nearest_water_type", "nearest_water_m", "waters_within",
    "nearest_water_equipment_complete", "slope_m",
]  # fmt: skip


class Graded:
    """Graded households, and the child rows on request: the household list is what staff act
    on and needs every child's vulnerability but not a row per child."""

    def __init__(self, households: pd.DataFrame, child_rows: Callable[[], pd.DataFrame]):
        self.households = households
        self._child_rows = child_rows
        self._children = None

    def children(self) -> pd.DataFrame:
        """Child rows (under 18), each with its home's facts, score, tier and reasons."""
        if self._children is None:
            self._children = self._child_rows()
            self._child_rows = None
        return self._children


@dataclass
class Prepared:
    """Everything grading needs that does not depend on proximity: the layers' facts, each
    child's vulnerability and home, and what the children add to each household."""

    facts: LayerFacts
    rules: RiskRules
    ch: dict
    labels: list[str]  # of the child rules
    masks: np.ndarray  # rules × children: who meets each
    home: np.ndarray
    children: np.ndarray  # per household
    most: np.ndarray  # highest child vulnerability per household (NaN: no child)
    counted: list


def prepare(
    households: pd.DataFrame,
    children: pd.DataFrame,
    waters: pd.DataFrame,
    slopes: pd.DataFrame,
    as_of: dt.date,
    rules: RiskRules | None = None,
) -> Prepared:
    """The part of grading that needs no proximity (it can run while proximity does)."""
    rules = rules or RiskRules.from_dict()
    facts = layer_facts(households, waters, slopes)
    ch, labels, masks = child_vulnerability(children, as_of, rules)
    n, m = len(facts.hh_ids), len(ch["age"])
    home = _index(_positions(facts.hh_ids, ch["household_id"]), m)
    points = ch["vulnerability_points"]
    total, counts, most = grading_kernels.household_tally(home, masks, points, n)
    counted = [_children_text(labels, counts)]
    return Prepared(facts, rules, ch, labels, masks, home, total, most, counted)


def _children_text(labels: list[str], counts: np.ndarray) -> rt.Group:
    """The children's factors of each household (counts: one row per household, one column
    per label) as one text group ('6岁以下2名；留守儿童未签委托照护协议1名'), written once per
    distinct combination of counts (a county's 100,000 households have a few hundred) and
    picked per household: the final text then copies one piece per household instead of
    three per factor."""
    counts = np.asarray(counts, dtype=np.int64)
    key, usable = grading_kernels.combination_key(counts)
    codes, uniques = pd.factorize(key if usable else _renumbered_key(counts))
    one = np.empty(len(uniques), np.int64)  # a household of each combination
    one[codes] = np.arange(len(counts))
    rows = counts[one]
    groups = [
        rt.group(c > 0, label, rt.Number(c), "名") for label, c in zip(labels, rows.T, strict=True)
    ]
    table = rt.render(groups, len(uniques))
    written = pc.greater(pc.binary_length(table), 0).to_numpy(zero_copy_only=False)
    return rt.group(written[codes] if len(counts) else np.zeros(0, bool), rt.Pick(table, codes))


def _renumbered_key(counts: np.ndarray) -> np.ndarray:
    """`combination_key` for counts whose key would overflow: renumbered densely before each
    column that could make it wrap around."""
    key = np.zeros(len(counts), np.int64)
    room = 1  # distinct values key can take so far
    for count in counts.T:
        base = int(count.max()) + 1
        if room * base >= 2**62:
            key, uniques = pd.factorize(key)
            room = len(uniques)
        key = key * base + count
        room *= base
    return key


def grade_prepared(prep: Prepared, prox: Proximity) -> Graded:
    """Household rows (score, tier, tier_code, reasons) from the prepared facts and proximity."""
    rules = prep.rules
    hh, groups = household_exposure(prep.facts, prox, rules)
    n = len(hh["household_id"])
    out = dict(hh)
    out["children"] = prep.children
    out["vulnerability_points"] = prep.most
    out["score"] = hh["exposure_points"] + np.nan_to_num(prep.most)
    out["tier_code"], out["tier"] = rules.tiers(out["score"])
    out["reasons"] = rt.render(groups + prep.counted, n)
    return Graded(at.frame(out), lambda: _child_rows(hh, groups, prep))


def assess(
    proximity: Callable[[], Proximity],
    households: pd.DataFrame,
    children: pd.DataFrame,
    waters: pd.DataFrame,
    slopes: pd.DataFrame,
    as_of: dt.date,
    rules: RiskRules | None = None,
) -> tuple[Proximity, Graded]:
    """`proximity()` and the grading that follows it, with the grading's own preparation
    (children's ages and categories, equipment, ids) on a second thread meanwhile when there
    are many households: most of proximity's time is compiled loops and GEOS calls that let
    that thread run. A township's few thousand are graded on one thread: there, handing the
    interpreter between the two threads costs more than the overlap saves."""
    if len(households) < OVERLAP_FROM_HOUSEHOLDS:
        prox = proximity()  # first: its error is the one to report
        return prox, grade_prepared(
            prepare(households, children, waters, slopes, as_of, rules), prox
        )
    with ThreadPoolExecutor(1) as pool:
        prepared = pool.submit(prepare, households, children, waters, slopes, as_of, rules)
        prox = proximity()  # on an error here, the preparation is awaited and dropped
        prep = prepared.result()
    return prox, grade_prepared(prep, prox)


def _child_rows(hh: dict, groups: list, prep: Prepared) -> pd.DataFrame:
    ch, home = prep.ch, prep.home
    m = len(home)
    inside = home >= 0
    rows = dict(ch)
    for name in CHILD_FACTS:
        rows[name] = _take_any(hh[name], home)
    exposure = np.where(inside, hh["exposure_points"][np.maximum(home, 0)], 0)
    rows["exposure_points"] = exposure
    rows["score"] = exposure + ch["vulnerability_points"]
    rows["tier_code"], rows["tier"] = prep.rules.tiers(rows["score"])
    rows["reasons"] = rt.render(
        [g.take(home) for g in groups]
        + [rt.group(mask, label) for label, mask in zip(prep.labels, prep.masks, strict=True)],
        m,
    )
    return at.frame(rows)


def grade(
    households: pd.DataFrame,
    children: pd.DataFrame,
    waters: pd.DataFrame,
    slopes: pd.DataFrame,
    prox: Proximity,
    as_of: dt.date,
    rules: RiskRules | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(household rows in `households` order, child rows), each with score, tier, tier_code
    and reasons (a household's own exposure plus its children's factors)."""
    graded = grade_prepared(prepare(households, children, waters, slopes, as_of, rules), prox)
    return graded.households, graded.children()


def warm_up() -> None:
    """Load grading's compiled kernels (the reasons' writer, the children's passes)."""
    rt.warm_up()
    grading_kernels.warm_up()
