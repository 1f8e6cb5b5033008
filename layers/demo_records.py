"""Demo records over time: the county's campaign and flood-season sweep, safety-education
sessions per village, and hazards recorded near child facilities (all fictional)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import shapely

from geo.vocab import POINT_HAZARD_TYPES, SESSION_TOPICS, join_codes
from layers import demo_people as people
from layers.demo_people import REFERENCE_DATE


def point_hazards(rng, facilities, villages, v_codes, admin_t) -> pd.DataFrame:
    """A few hazards recorded near some facilities (within ~400 m), in metres like the rest."""
    rows = []
    for k, fac in enumerate(facilities.itertuples(index=False)):
        if rng.random() > 0.5:
            continue
        kind = str(rng.choice(list(POINT_HAZARD_TYPES)))
        point = shapely.Point(
            fac.geometry.x + rng.normal(0, 200), fac.geometry.y + rng.normal(0, 200)
        )
        inside = [i for i, v in enumerate(villages) if v.covers(point)]
        if not inside:
            continue
        rows.append({**admin_t, "village_code": v_codes[inside[0]],
                     "hazard_id": f"P{v_codes[inside[0]]}{k:03d}", "name": POINT_HAZARD_TYPES[kind],
                     "hazard_type": kind, "found_date": dt.date(REFERENCE_DATE.year, 6, 20),
                     "photo_count": 0, "note": None, "geometry": point})  # fmt: skip
    return pd.DataFrame(rows)


def sweep(county_code: str, townships: list[str]) -> pd.DataFrame:
    """The county's flood-season sweep of child facilities (汛期: June to September)."""
    year = REFERENCE_DATE.year
    return pd.DataFrame([{
        "sweep_id": f"X{county_code}{year}", "county_code": county_code,
        "name": f"{year}年汛期儿童场所隐患排查", "start_date": dt.date(year, 6, 1),
        "end_date": dt.date(year, 9, 30), "radius_m": 500.0,
        "scope_codes": ",".join(townships),
    }])  # fmt: skip


def campaign(county_code: str, townships: list[str]) -> pd.DataFrame:
    """The county's summer campaign with the seed's dates (talks by 15 Aug, report by 20 Aug)."""
    year = REFERENCE_DATE.year
    return pd.DataFrame(
        [
            {
                "campaign_id": f"K{county_code}{year}",
                "county_code": county_code,
                "name": f"{year}年暑期安全专项行动",
                "year": year,
                "deadline": dt.date(year, 8, 15),
                "report_due": dt.date(year, 8, 20),
                "min_sessions": 1,
                "counted_forms": "lecture",
                "topics": join_codes(list(SESSION_TOPICS)),
                "scope_codes": ",".join(townships),
            }
        ]
    )


def sessions(rng, v_codes, admin_t, township_code) -> pd.DataFrame:
    rows = []
    year = REFERENCE_DATE.year
    forms = ["lecture", "home_visit", "loudspeaker", "leaflet"]
    topics = ["drowning", "fire", "electricity", "traffic", "weather", "internet", "mental_health"]
    for code in v_codes:
        r = rng.random()
        n_held = 0 if r < 0.3 else int(rng.integers(1, 4))
        for _ in range(n_held):
            day = dt.date(year, 6, 1) + dt.timedelta(days=int(rng.integers(0, 30)))
            chosen = ["drowning"] + list(
                rng.choice(topics[1:], int(rng.integers(0, 3)), replace=False)
            )
            rows.append(
                {
                    "village_code": code,
                    "session_date": day,
                    "planned_date": None,
                    "form": str(rng.choice(forms, p=[0.5, 0.25, 0.15, 0.1])),
                    "topics": join_codes(list(dict.fromkeys(chosen))),
                    "attendance_children": int(rng.integers(8, 60)),
                    "attendance_guardians": int(rng.integers(0, 30)),
                    "evidence_count": int(rng.integers(0, 6)),
                }
            )
        if n_held == 0 and rng.random() < 0.5:
            rows.append(
                {
                    "village_code": code,
                    "session_date": None,
                    "planned_date": dt.date(year, 8, 1)
                    + dt.timedelta(days=int(rng.integers(0, 12))),
                    "form": "lecture",
                    "topics": "drowning",
                    "attendance_children": None,
                    "attendance_guardians": None,
                    "evidence_count": 0,
                }
            )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["session_id"] = [f"E{township_code}{k:04d}" for k in range(len(frame))]
    frame["county_code"], frame["township_code"] = admin_t["county_code"], admin_t["township_code"]
    frame["presenter"] = people.names(rng, len(frame))
    frame["note"] = None
    return frame
