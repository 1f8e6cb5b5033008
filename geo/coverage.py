"""Safety-education coverage per village for a campaign, as of a date (pure: frames in, frames out).

A village is covered when it has held at least `min_sessions` sessions of a counted form (by
default only the concentrated lecture, 集中讲座) on at least one of the campaign's topics, dated
in the campaign's year. Statuses: held on time (on or before the deadline), held late, planned
(a planned date and the deadline not passed), not yet held with N days left, missing after the
deadline. Dates come from the campaign (data), never from code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from geo import vocab

STATUSES = {
    "done": "已完成",
    "late": "逾期完成",
    "planned": "已安排",
    "pending": "待开展",
    "missing": "未开展",
}
STATUS_COLORS = {
    "done": "#2e7d32",
    "late": "#9ccc65",
    "planned": "#1f77b4",
    "pending": "#f9a825",
    "missing": "#c62828",
}
# Children counted for the talk and the staffing rule: left-behind and children in difficulty.
IN_SCOPE_CATEGORIES = frozenset(vocab.CHILD_CATEGORIES)
STAFFING_CHILDREN = 30  # more than this many children in scope ...
STAFFING_DIRECTORS = 2  # ... needs at least this many children directors (seed 001)
COVERAGE_COLUMNS = [
    "village_code", "village_name", "township_code", "status", "sessions_counted",
    "first_counted_date", "topics", "children_in_scope", "days_to_deadline",
    # beyond the contract
    "status_code", "planned_date", "directors", "director_phones", "directors_count",
]  # fmt: skip


class CampaignError(ValueError):
    """A campaign setting that cannot be used; the message (Chinese) says which and why."""


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    year: int
    deadline: dt.date
    report_due: dt.date
    min_sessions: int = 1
    counted_forms: tuple[str, ...] = ("lecture",)
    topics: tuple[str, ...] = tuple(vocab.SESSION_TOPICS)
    scope_codes: tuple[str, ...] = ()
    registered: bool = True  # False: none was set for the year, the seed's dates are assumed

    def __post_init__(self) -> None:
        if self.deadline.year != self.year:
            raise CampaignError(f"截止日期 {self.deadline} 不在行动年度 {self.year} 内")
        if self.report_due < self.deadline:
            raise CampaignError(f"报送日期 {self.report_due} 早于宣讲截止日期 {self.deadline}")
        if self.min_sessions < 1:
            raise CampaignError("每村至少场次应不少于 1")
        for label, values, known in (
            ("宣讲形式", self.counted_forms, vocab.SESSION_FORMS),
            ("主题", self.topics, vocab.SESSION_TOPICS),
        ):
            unknown = [v for v in values if v not in known]
            if unknown or not values:
                raise CampaignError(f"未知或缺少{label}：{'、'.join(unknown) or '（空）'}")

    @classmethod
    def default(cls, year: int, scope_codes: tuple[str, ...] = ()) -> Campaign:
        """The seed's campaign: talks by 15 August, the return by 20 August (used for a year
        that has none registered, and said so: `registered` is False)."""
        return cls(f"K{year}", f"{year}年暑期安全专项行动", year, dt.date(year, 8, 15),
                   dt.date(year, 8, 20), scope_codes=scope_codes, registered=False)  # fmt: skip

    @classmethod
    def from_row(cls, row) -> Campaign:
        get = row.get if hasattr(row, "get") else lambda k: getattr(row, k)
        return cls(
            campaign_id=str(get("campaign_id")),
            name=str(get("name")),
            year=int(get("year")),
            deadline=pd.Timestamp(get("deadline")).date(),
            report_due=pd.Timestamp(get("report_due")).date(),
            min_sessions=int(get("min_sessions")),
            counted_forms=tuple(vocab.split_codes(get("counted_forms"))),
            topics=tuple(vocab.split_codes(get("topics"))),
            scope_codes=tuple(c for c in str(get("scope_codes") or "").split(",") if c),
        )

    def covers(self, village_code: str) -> bool:
        return not self.scope_codes or any(
            str(village_code).startswith(c) for c in self.scope_codes
        )


def counted_sessions(sessions: pd.DataFrame, campaign: Campaign, as_of: dt.date) -> pd.DataFrame:
    """Sessions that count: held (dated, not after `as_of`) in the campaign year, of a counted
    form, on at least one campaign topic."""
    held = pd.to_datetime(sessions["session_date"])
    topics_ok = [bool(set(vocab.split_codes(t)) & set(campaign.topics)) for t in sessions["topics"]]
    keep = (
        held.notna()
        & (held.dt.year == campaign.year)
        & (held <= pd.Timestamp(as_of))
        & sessions["form"].isin(campaign.counted_forms)
        & pd.Series(topics_ok, index=sessions.index, dtype=bool)
    )
    return sessions[keep.to_numpy()]


def children_in_scope(children: pd.DataFrame) -> pd.Series:
    """village_code -> number of left-behind and difficulty children living there."""
    keep = [bool(set(vocab.split_codes(c)) & IN_SCOPE_CATEGORIES) for c in children["categories"]]
    return children[keep].groupby("village_code").size()


def village_coverage(
    villages: pd.DataFrame,
    sessions: pd.DataFrame,
    campaign: Campaign,
    as_of: dt.date,
    in_scope: pd.Series | None = None,
    directors: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per village of the campaign's scope (COVERAGE_COLUMNS)."""
    villages = villages[[campaign.covers(c) for c in villages["village_code"]]]
    counted = counted_sessions(sessions, campaign, as_of)
    deadline = pd.Timestamp(campaign.deadline)
    days_left = (campaign.deadline - as_of).days
    held_on = pd.to_datetime(sessions["session_date"])
    not_held = held_on.isna() | (held_on > pd.Timestamp(as_of))
    planned = sessions[(pd.to_datetime(sessions["planned_date"]).notna() & not_held).to_numpy()]
    in_scope = in_scope if in_scope is not None else pd.Series(dtype=int)
    directors = (
        directors
        if directors is not None
        else pd.DataFrame(columns=["village_code", "name", "phone"])
    )
    rows = []
    for village in villages.sort_values("village_code").itertuples():
        code = village.village_code
        mine = counted[counted["village_code"] == code]
        dates = pd.to_datetime(mine["session_date"]).sort_values()
        on_time = int((dates <= deadline).sum())
        plan_dates = pd.to_datetime(planned.loc[planned["village_code"] == code, "planned_date"])
        if on_time >= campaign.min_sessions:
            status = "done"
        elif len(dates) >= campaign.min_sessions:
            status = "late"
        elif days_left >= 0 and len(plan_dates):
            status = "planned"
        elif days_left >= 0:
            status = "pending"
        else:
            status = "missing"
        covered = {t for v in mine["topics"] for t in vocab.split_codes(v)} & set(campaign.topics)
        topics = sorted(covered, key=list(vocab.SESSION_TOPICS).index)
        staff = directors[directors["village_code"] == code]
        rows.append({
            "village_code": code,
            "village_name": village.name,
            "township_code": village.township_code,
            "status": STATUSES[status],
            "sessions_counted": len(dates),
            "first_counted_date": dates.iloc[0].date() if len(dates) else None,
            "topics": "、".join(vocab.SESSION_TOPICS[t] for t in topics),
            "children_in_scope": int(in_scope.get(code, 0)),
            "days_to_deadline": days_left,
            "status_code": status,
            "planned_date": plan_dates.min().date() if len(plan_dates) else None,
            "directors": "、".join(staff["name"].astype(str)),
            "director_phones": "、".join(staff["phone"].fillna("").astype(str)),
            "directors_count": len(staff),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)


def still_to_hold(coverage: pd.DataFrame) -> pd.DataFrame:
    """Villages that have not held the talk: fewest days left first, then most children."""
    todo = coverage[coverage["status_code"].isin(["planned", "pending", "missing"])]
    return todo.sort_values(["days_to_deadline", "children_in_scope", "village_code"],
                            ascending=[True, False, True])  # fmt: skip


def township_rollup(coverage: pd.DataFrame) -> pd.DataFrame:
    """Per township: villages, done (on time or late), on time, percent done, days left."""
    rows = []
    for code, group in coverage.groupby("township_code", sort=True):
        done = int(group["status_code"].isin(["done", "late"]).sum())
        rows.append({
            "township_code": code,
            "villages": len(group),
            "done": done,
            "on_time": int((group["status_code"] == "done").sum()),
            "percent": round(100.0 * done / len(group), 1) if len(group) else 0.0,
            "days_to_deadline": int(group["days_to_deadline"].iloc[0]),
        })  # fmt: skip
    return pd.DataFrame(
        rows, columns=["township_code", "villages", "done", "on_time", "percent",
                       "days_to_deadline"],
    )  # fmt: skip


def staffing_gaps(coverage: pd.DataFrame) -> pd.DataFrame:
    """Villages with more than 30 left-behind and difficulty children and fewer than two
    children directors (seed 001)."""
    short = (coverage["children_in_scope"] > STAFFING_CHILDREN) & (
        coverage["directors_count"] < STAFFING_DIRECTORS
    )
    return coverage.loc[short, ["village_code", "village_name", "township_code",
                                "children_in_scope", "directors_count", "directors"]]  # fmt: skip


def topic_matrix(coverage: pd.DataFrame, sessions: pd.DataFrame, campaign: Campaign,
                 as_of: dt.date) -> pd.DataFrame:  # fmt: skip
    """Village × topic: the number of counted sessions on each campaign topic."""
    counted = counted_sessions(sessions, campaign, as_of)
    table = pd.DataFrame(0, index=coverage["village_code"],
                         columns=[vocab.SESSION_TOPICS[t] for t in campaign.topics])  # fmt: skip
    for code, topics in zip(counted["village_code"], counted["topics"], strict=True):
        if code not in table.index:
            continue
        for t in vocab.split_codes(topics):
            if t in campaign.topics:
                table.loc[code, vocab.SESSION_TOPICS[t]] += 1
    return table
