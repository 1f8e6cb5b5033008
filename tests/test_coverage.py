"""Education coverage on hand-built timelines: every status, the roll-up, staffing, topics."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from geo.coverage import (
    Campaign,
    CampaignError,
    children_in_scope,
    staffing_gaps,
    still_to_hold,
    topic_matrix,
    township_rollup,
    village_coverage,
)

T1, T2 = "999901001", "999901002"
CAMPAIGN = Campaign("K1", "测试行动", 2026, dt.date(2026, 8, 15), dt.date(2026, 8, 20))


def _villages(n=6, township=T1):
    return pd.DataFrame({
        "village_code": [f"{township}{200 + i:03d}" for i in range(n)],
        "name": [f"村{i}" for i in range(n)],
        "township_code": township,
    })  # fmt: skip


def _session(village, held=None, planned=None, form="lecture", topics="drowning"):
    return {"village_code": village, "session_date": held, "planned_date": planned,
            "form": form, "topics": topics}  # fmt: skip


def _coverage(sessions, as_of, villages=None, **kw):
    villages = villages if villages is not None else _villages()
    frame = pd.DataFrame(sessions, columns=["village_code", "session_date", "planned_date",
                                            "form", "topics"])  # fmt: skip
    return village_coverage(villages, frame, kw.pop("campaign", CAMPAIGN), as_of, **kw)


def test_every_status_on_hand_built_timelines():
    v = _villages()["village_code"].tolist()
    sessions = [
        _session(v[0], held=dt.date(2026, 8, 15)),  # on the deadline day: on time
        _session(v[1], held=dt.date(2026, 8, 16)),  # the day after: late
        _session(v[2], held=dt.date(2026, 7, 1), form="loudspeaker"),  # form does not count
        _session(v[2], held=dt.date(2026, 7, 2), form="leaflet"),
        _session(v[3], planned=dt.date(2026, 8, 10)),  # planned only
        # v[4]: nothing at all
        _session(v[5], held=dt.date(2025, 7, 1)),  # last year's talk does not count
    ]
    before = _coverage(sessions, dt.date(2026, 8, 1)).set_index("village_code")
    assert list(before["status"]) == ["待开展", "待开展", "待开展", "已安排", "待开展", "待开展"]
    assert (before["days_to_deadline"] == 14).all()
    on_day = _coverage(sessions, dt.date(2026, 8, 15)).set_index("village_code")
    assert on_day.loc[v[0], "status"] == "已完成" and on_day.loc[v[0], "days_to_deadline"] == 0
    after = _coverage(sessions, dt.date(2026, 8, 20)).set_index("village_code")
    assert list(after["status"]) == ["已完成", "逾期完成", "未开展", "未开展", "未开展", "未开展"]
    assert after.loc[v[0], "first_counted_date"] == dt.date(2026, 8, 15)
    assert after.loc[v[0], "sessions_counted"] == 1 and after.loc[v[2], "sessions_counted"] == 0
    assert (after["days_to_deadline"] == -5).all()


def test_configured_forms_minimum_and_topics_change_the_result():
    v = _villages()["village_code"].tolist()
    sessions = [
        _session(v[0], held=dt.date(2026, 7, 1), form="home_visit"),
        _session(v[1], held=dt.date(2026, 7, 1)),
        _session(v[1], held=dt.date(2026, 7, 9), topics="fire;traffic"),
        _session(v[2], held=dt.date(2026, 7, 1), topics="fire"),
    ]
    wide = Campaign("K2", "x", 2026, dt.date(2026, 8, 15), dt.date(2026, 8, 20),
                    min_sessions=2, counted_forms=("lecture", "home_visit"),
                    topics=("drowning", "traffic"))  # fmt: skip
    cov = _coverage(sessions, dt.date(2026, 8, 16), campaign=wide).set_index("village_code")
    assert cov.loc[v[0], "sessions_counted"] == 1 and cov.loc[v[0], "status"] == "未开展"
    assert cov.loc[v[1], "status"] == "已完成" and cov.loc[v[1], "topics"] == "防溺水、交通安全"
    assert cov.loc[v[2], "sessions_counted"] == 0  # fire is not a topic of this campaign


def test_children_directors_rollup_and_staffing():
    villages = pd.concat([_villages(3, T1), _villages(2, T2)], ignore_index=True)
    codes = villages["village_code"].tolist()
    children = pd.DataFrame({
        "village_code": [codes[0]] * 31 + [codes[1]] * 30 + [codes[3]] * 40 + [codes[4]] * 5,
        "categories": ["left_behind_rural"] * 31 + ["difficulty"] * 30 + ["orphan"] * 40
        + [None] * 5,
    })  # fmt: skip
    directors = pd.DataFrame({"village_code": [codes[0], codes[3], codes[3]],
                              "name": ["甲", "乙", "丙"], "phone": ["1", "2", "3"]})  # fmt: skip
    sessions = [_session(codes[0], held=dt.date(2026, 7, 1)),
                _session(codes[1], held=dt.date(2026, 8, 17)),
                _session(codes[3], held=dt.date(2026, 6, 1))]  # fmt: skip
    cov = _coverage(sessions, dt.date(2026, 8, 18), villages, in_scope=children_in_scope(children),
                    directors=directors)  # fmt: skip
    by = cov.set_index("village_code")
    assert list(by["children_in_scope"]) == [31, 30, 0, 40, 0]
    assert by.loc[codes[3], "directors"] == "乙、丙" and by.loc[codes[3], "directors_count"] == 2
    rollup = township_rollup(cov).set_index("township_code")
    assert rollup.loc[T1].tolist() == [3, 2, 1, pytest.approx(66.7), -3]
    assert rollup.loc[T2].tolist() == [2, 1, 1, 50.0, -3]
    gaps = staffing_gaps(cov)
    assert gaps["village_code"].tolist() == [codes[0]]  # 31 > 30 with one director; 30 is not
    todo = still_to_hold(cov)
    assert todo["village_code"].tolist() == [codes[2], codes[4]]
    matrix = topic_matrix(cov, pd.DataFrame(sessions), CAMPAIGN, dt.date(2026, 8, 18))
    assert matrix.loc[codes[0], "防溺水"] == 1 and matrix.loc[codes[2]].sum() == 0


def test_scope_and_bad_campaign_settings():
    villages = pd.concat([_villages(2, T1), _villages(2, T2)], ignore_index=True)
    scoped = Campaign("K3", "x", 2026, dt.date(2026, 8, 15), dt.date(2026, 8, 20),
                      scope_codes=(T2,))  # fmt: skip
    cov = _coverage([], dt.date(2026, 8, 1), villages, campaign=scoped)
    assert set(cov["township_code"]) == {T2}
    with pytest.raises(CampaignError, match="不在行动年度"):
        Campaign("x", "x", 2026, dt.date(2025, 8, 15), dt.date(2026, 8, 20))
    with pytest.raises(CampaignError, match="早于"):
        Campaign("x", "x", 2026, dt.date(2026, 8, 15), dt.date(2026, 8, 1))
    with pytest.raises(CampaignError, match="宣讲形式"):
        Campaign("x", "x", 2026, dt.date(2026, 8, 15), dt.date(2026, 8, 20),
                 counted_forms=("party",))  # fmt: skip
    assert Campaign.default(2027).deadline == dt.date(2027, 8, 15)
    # The seed's dates for a year nobody registered, and it says so; a registered one not.
    assert not Campaign.default(2027).registered and CAMPAIGN.registered
