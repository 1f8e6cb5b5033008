"""Education coverage for the places in scope: store in, tables out (pages and CLI share it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from geo import coverage as cov
from geo.coverage import Campaign, CampaignError


@dataclass
class CoverageResult:
    campaign: Campaign
    as_of: dt.date
    villages: pd.DataFrame  # the villages (with geometry) the coverage rows are about
    coverage: pd.DataFrame  # geo.coverage.COVERAGE_COLUMNS
    rollup: pd.DataFrame
    staffing: pd.DataFrame
    matrix: pd.DataFrame
    sessions: pd.DataFrame  # the sessions of those villages in the campaign year


def campaigns(store) -> list[Campaign]:
    return [Campaign.from_row(row) for _, row in store.read_layer("campaigns").iterrows()]


def pick_campaign(store, as_of: dt.date, campaign_id: str | None = None) -> Campaign:
    """The named campaign, else the latest of the as-of year, else the seed's default for it."""
    known = campaigns(store)
    if campaign_id:
        for campaign in known:
            if campaign.campaign_id == campaign_id:
                return campaign
        ids = "、".join(c.campaign_id for c in known) or "（无）"
        raise CampaignError(f"没有编号为“{campaign_id}”的专项行动；已有：{ids}")
    this_year = [c for c in known if c.year == as_of.year]
    if this_year:
        return sorted(this_year, key=lambda c: c.deadline)[-1]
    return Campaign.default(as_of.year)


def compute_coverage(
    store,
    as_of: dt.date,
    campaign_id: str | None = None,
    village_codes: list[str] | None = None,
) -> CoverageResult:
    campaign = pick_campaign(store, as_of, campaign_id)
    villages = store.read_own("villages", village_codes=village_codes)
    sessions = store.read_layer("education_sessions", village_codes=village_codes)
    year = pd.to_datetime(sessions["session_date"]).dt.year.fillna(
        pd.to_datetime(sessions["planned_date"]).dt.year
    )
    sessions = sessions[(year == campaign.year).to_numpy()]
    counting = store.counting() if hasattr(store, "counting") else store
    children = counting.read_layer("children", village_codes=village_codes,
                                   columns=["village_code", "categories"])  # fmt: skip
    directors = store.read_layer("directors", village_codes=village_codes)
    coverage = cov.village_coverage(villages, sessions, campaign, as_of,
                                    cov.children_in_scope(children), directors)  # fmt: skip
    return CoverageResult(
        campaign, as_of, villages, coverage, cov.township_rollup(coverage),
        cov.staffing_gaps(coverage), cov.topic_matrix(coverage, sessions, campaign, as_of),
        sessions,
    )  # fmt: skip
