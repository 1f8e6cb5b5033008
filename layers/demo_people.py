"""Fictional people for the demo: names, phones, children with categories, directors.

Everything is drawn from syllable lists and random numbers; identity numbers use region 99xxxx
(no such province) with valid check digits. Split from layers/demo.py, which places them.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geo import idcard
from geo.vocab import join_codes

REFERENCE_DATE = dt.date(2026, 7, 1)  # ages are relative to this, not today: determinism

_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
)
_GIVEN = list("子浩宇轩然欣怡梓涵雨晨思佳俊杰文博雅婷嘉豪诗琪明辉晓燕志强丽娟春华秋月建国玉兰")
_WORK_PLACES = [
    "广东省东莞市",
    "广东省深圳市",
    "浙江省宁波市",
    "江苏省苏州市",
    "福建省厦门市",
    "上海市",
    "重庆市渝北区",
    "四川省成都市",
    "北京市",
    "湖北省武汉市",
]


def names(rng, n: int) -> list[str]:
    s = rng.integers(0, len(_SURNAMES), n)
    g1 = rng.integers(0, len(_GIVEN), n)
    g2 = rng.integers(-len(_GIVEN) // 3, len(_GIVEN), n)  # about a quarter have one-character names
    return [
        _SURNAMES[a] + _GIVEN[b] + (_GIVEN[c] if c >= 0 else "")
        for a, b, c in zip(s, g1, g2, strict=True)
    ]


def phones(rng, n: int) -> list[str]:
    prefixes = np.array(["138", "139", "150", "158", "177", "186", "189"])
    p = prefixes[rng.integers(0, len(prefixes), n)]
    return [f"{a}{b:08d}" for a, b in zip(p, rng.integers(0, 10**8, n), strict=True)]


def children(rng, hh: pd.DataFrame, v_names: list[str], t_name: str) -> pd.DataFrame:
    """Children of the households, with a realistic mix of categories and ages."""
    n_hh = len(hh)
    per_hh = rng.choice([1, 2, 3], size=n_hh, p=[0.72, 0.23, 0.05])
    # Household situation drives every child's categories in it.
    situation = rng.choice(
        ["left_behind", "ordinary", "difficulty", "orphan", "unsupported"],
        size=n_hh,
        p=[0.52, 0.26, 0.16, 0.02, 0.04],
    )
    urban = rng.random(n_hh) < 0.08
    idx = np.repeat(np.arange(n_hh), per_hh)
    n = len(idx)
    age_days = rng.integers(30, 18 * 365 - 30, n)
    birth = pd.to_datetime(REFERENCE_DATE) - pd.to_timedelta(age_days, unit="D")
    age_years = age_days / 365.25
    sex = np.where(rng.random(n) < 0.52, "M", "F")
    sit = situation[idx]
    is_urban = urban[idx]

    categories, reasons = [], []
    difficulty_pick = rng.choice(
        ["low_income", "disabled", "wandering", "domestic_violence", "legal_case"],
        size=n,
        p=[0.6, 0.25, 0.08, 0.04, 0.03],
    )
    extra_low_income = rng.random(n) < 0.1
    for k in range(n):
        cats: list[str] = []
        why: list[str] = []
        s = sit[k]
        if s == "left_behind" and age_years[k] < 16:
            cats.append("left_behind_urban" if is_urban[k] else "left_behind_rural")
        elif s in ("orphan", "unsupported"):
            cats.append(s)
        elif s == "difficulty":
            cats.append("difficulty")
            why.append(str(difficulty_pick[k]))
        if s != "difficulty" and extra_low_income[k] and s != "ordinary":
            cats.append("difficulty")
            why.append("low_income")
        categories.append(join_codes(cats) or None)
        reasons.append(join_codes(why) or None)

    left = np.array(["left_behind" in (c or "") for c in categories])
    away = rng.integers(3, 40, n)
    father_sit = np.where(left, "away_out_of_county", rng.choice(["home", "away_in_county"], n))
    mother_sit = np.where(
        left,
        rng.choice(["away_out_of_county", "incapable"], n, p=[0.85, 0.15]),
        rng.choice(["home", "away_in_county"], n, p=[0.8, 0.2]),
    )
    orphan_like = np.isin(sit, ["orphan"])
    father_sit = np.where(orphan_like, "deceased", father_sit)
    mother_sit = np.where(orphan_like, "deceased", mother_sit)
    unsupported = sit == "unsupported"
    father_sit = np.where(unsupported, rng.choice(["incapable", "unknown"], n), father_sit)
    work = np.array(_WORK_PLACES)[rng.integers(0, len(_WORK_PLACES), n)]
    father_work = np.where(father_sit == "away_out_of_county", work, None)
    mother_work = np.where(mother_sit == "away_out_of_county", work, None)

    needs_caregiver = left | orphan_like | unsupported
    caregiver_names = np.array(names(rng, n), dtype=object)
    disabled = np.array(["disabled" in (r or "") for r in reasons])
    school = [_school(a, t_name, r) for a, r in zip(age_years, rng.random(n), strict=True)]

    ids = []
    seq = rng.integers(0, 100, n)
    for k in range(n):
        b = birth[k]
        sex_digit = int(rng.integers(0, 5)) * 2 + (1 if sex[k] == "M" else 0)
        first17 = f"990101{b:%Y%m%d}{seq[k]:02d}{sex_digit}"
        ids.append(first17 + idcard.check_digit(first17))

    parent = hh.iloc[idx].reset_index(drop=True)
    return pd.DataFrame(
        {
            "child_id": [
                f"C{h[1:]}{j:02d}" for h, j in zip(parent["household_id"], _rank(idx), strict=True)
            ],
            "household_id": parent["household_id"],
            "county_code": parent["county_code"],
            "township_code": parent["township_code"],
            "village_code": parent["village_code"],
            "name": names(rng, n),
            "id_number": ids,
            "sex": sex,
            "birth_date": birth.normalize(),
            "registration": np.where(is_urban, "urban", "rural"),
            "categories": categories,
            "difficulty_reasons": reasons,
            "guardian_name": names(rng, n),
            "guardian_phone": phones(rng, n),
            "guardian_capable": rng.random(n) > 0.06,
            "caregiver_name": np.where(needs_caregiver, caregiver_names, None),
            "caregiver_phone": np.where(needs_caregiver, np.array(phones(rng, n)), None),
            "caregiver_agreement_signed": needs_caregiver & (rng.random(n) < 0.8),
            "father_situation": father_sit,
            "father_work_place": father_work,
            "father_months_away": np.where(father_work != None, away, None),  # noqa: E711
            "mother_situation": mother_sit,
            "mother_work_place": mother_work,
            "mother_months_away": np.where(mother_work != None, away, None),  # noqa: E711
            "school": school,
            "disability": np.where(
                disabled, rng.choice(["肢体残疾", "智力残疾", "听力残疾"], n), None
            ),
        }
    )


def _rank(idx: np.ndarray) -> np.ndarray:
    """Position of each child within its household: 1, 2, ..."""
    starts = np.r_[0, np.flatnonzero(np.diff(idx)) + 1]
    rank = np.ones(len(idx), dtype=int)
    for s, e in zip(starts, np.r_[starts[1:], len(idx)], strict=True):
        rank[s:e] = np.arange(1, e - s + 1)
    return rank


def _school(age: float, t_name: str, r: float) -> str:
    if age < 3:
        return "散居"
    if age < 6:
        return f"{t_name}中心幼儿园" if r < 0.8 else "未入园"
    if age < 12:
        return f"{t_name}中心小学 {int(age) - 5}年级"
    if age < 15:
        return f"{t_name}初级中学 {int(age) - 11}年级" if r < 0.97 else "辍学"
    return "县职业教育中心" if r < 0.4 else ("县第一中学" if r < 0.9 else "辍学")


def directors(rng, v_codes, admin_t) -> pd.DataFrame:
    rows = []
    for code in v_codes:
        for j in range(1 if rng.random() < 0.75 else 2):
            rows.append({**admin_t, "village_code": code, "director_id": f"D{code}{j + 1}"})
    frame = pd.DataFrame(rows)
    frame["name"] = names(rng, len(frame))
    frame["phone"] = phones(rng, len(frame))
    return frame
