"""Risk grading for the households and children in scope: store in, tables out."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd

from geo.crs import AnalysisCRS
from geo.grading import Graded, assess
from geo.proximity import Proximity
from geo.risk import RiskRules
from layers.store import Store
from layers.store.base import search_box

# The grade and the facts behind it, shared by household and child rows (the CLI contract).
_GRADED = [
    "tier", "score", "nearest_water_id", "nearest_water_type", "nearest_water_m",
    "waters_within", "nearest_water_equipment_complete", "slope_m", "reasons",
]  # fmt: skip
HOUSEHOLD_COLUMNS = [
    "household_id", "village_code", "children", *_GRADED,
    # beyond the contract
    "township_code", "tier_code", "nearest_water_name", "nearest_slope_id", "lon", "lat",
]  # fmt: skip
# The risk page lists at most this many households, highest score first (a county's 100,000
# would take the browser minutes); the downloads hold them all.
LIST_SHOWN_ROWS = 2000
CHILD_COLUMNS = ["child_id", "household_id", "village_code", "age", *_GRADED, "tier_code"]
CHILD_FIELDS = [
    "household_id",
    "village_code",
    "birth_date",
    "categories",
    "difficulty_reasons",
    "caregiver_agreement_signed",
    "guardian_capable",
    "disability",
]
WATER_FIELDS = [
    "name",
    "water_type",
    "sign_status",
    "buoy_status",
    "rope_status",
    "pole_status",
    "fence_status",
]


class RiskResult:
    """The graded households (HOUSEHOLD_COLUMNS + geometry, EPSG:4326) and, on first use, the
    child rows (CHILD_COLUMNS: never a name or identity number)."""

    def __init__(
        self,
        households: gpd.GeoDataFrame,
        graded: Graded,
        crs: AnalysisCRS,
        as_of: dt.date,
        warnings: list[str],
        proximity: Proximity,
    ):
        self.households = households
        self._graded = graded
        self.crs = crs
        self.as_of = as_of
        self.warnings = warnings
        self.proximity = proximity  # the pairs behind the grades (patrol priorities count by them)
        self._children = None

    @property
    def children(self) -> pd.DataFrame:
        """Built (and rounded) on first use, then kept; the unrounded rows are let go, so the
        child list is held once."""
        if self._children is None:
            self._children = _rounded(self._graded.children())[CHILD_COLUMNS]
            self._graded = None
        return self._children


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Distances to the centimetre and whole-number scores, as the outputs show them."""
    frame = frame.copy()
    for col in ("nearest_water_m", "slope_m"):
        frame[col] = frame[col].round(2)
    frame["score"] = frame["score"].astype(int)
    return frame


# The layers `compute_risk` reads: a page may keep its result while their data_revision holds.
RISK_LAYERS = ["households", "children", "water_bodies", "slopes"]


def compute_risk(
    store: Store,
    as_of: dt.date,
    rules: RiskRules | None = None,
    village_codes: list[str] | None = None,
) -> RiskResult:
    """Proximity (on the store's engine) plus the rules, for the households in scope."""
    rules = rules or RiskRules.from_dict()
    # Text as Arrow: the engine works on it so, and a county's is read ~1.5x faster.
    households = store.read_layer(
        "households",
        village_codes=village_codes,
        columns=["village_code", "township_code"],
        arrow_text=True,
    )
    children = store.read_layer(
        "children", village_codes=village_codes, columns=CHILD_FIELDS, arrow_text=True
    )
    # The water bodies and slopes within the search limit of these homes (no other can change
    # their answers), read once, in the store's order: the in-process engine's positions apply.
    around = search_box(households)
    water_layer = store.read_layer(
        "water_bodies", bbox=around, columns=WATER_FIELDS, arrow_text=True
    )
    slope_layer = store.read_layer("slopes", bbox=around, columns=["name"], arrow_text=True)
    layers = (households, water_layer, slope_layer)  # measured as read, not read again
    prox, graded = assess(
        lambda: store.proximity(rules.data["radius_m"], village_codes=village_codes, layers=layers),
        households, children, pd.DataFrame(water_layer.drop(columns="geometry")),
        pd.DataFrame(slope_layer.drop(columns="geometry")), as_of, rules,
    )  # fmt: skip

    hh = _rounded(graded.households)
    hh["township_code"] = households["township_code"].array
    hh["lon"] = households.geometry.x.round(6).to_numpy()
    hh["lat"] = households.geometry.y.round(6).to_numpy()
    out_hh = gpd.GeoDataFrame(
        hh[HOUSEHOLD_COLUMNS], geometry=households.geometry.to_numpy(), crs=households.crs
    )
    return RiskResult(out_hh, graded, store.analysis_crs(), as_of, prox.warnings, prox)


def tier_counts(households: pd.DataFrame) -> pd.DataFrame:
    """Households per village and tier, with a total row per village (for the page and CLI)."""
    table = pd.crosstab(households["village_code"], households["tier"])
    for tier in ("一级", "二级", "三级", "无"):
        if tier not in table:
            table[tier] = 0
    table = table[["一级", "二级", "三级", "无"]]
    table["合计"] = table.sum(axis=1)
    return table


def township_tier_counts(per_village: pd.DataFrame, villages: pd.DataFrame) -> pd.DataFrame:
    """`tier_counts` per village summed per township (`villages` gives each village's
    township): the county view of the risk page."""
    township = per_village.index.map(villages.set_index("village_code")["township_code"])
    return per_village.groupby(township.rename("township_code")).sum()


def village_tier_summary(
    store, as_of: dt.date, rules: RiskRules | None = None, village_codes: list[str] | None = None
) -> pd.DataFrame:
    """`tier_counts` for roles that may see aggregates only (viewer, patrol member): the
    households are graded through `ScopedStore.counting` and only the counts are returned."""
    result = compute_risk(store.counting(), as_of, rules, village_codes)
    return tier_counts(result.households)
