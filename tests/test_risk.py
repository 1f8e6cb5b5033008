"""Risk rules: each one alone adds its points and its reason; together they add up."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geo.grading import grade
from geo.proximity import proximity
from geo.risk import DEFAULT_RULES, RiskRules, RulesError, age_years
from tests.geo_cases import at, households, line, slopes, square, waters

AS_OF = dt.date(2026, 8, 1)
RULES = DEFAULT_RULES


def child(child_id="C1", household_id="H0", age=16, **fields):
    birth = pd.Timestamp(AS_OF.replace(year=AS_OF.year - age)) - pd.Timedelta(days=10)
    row = {
        "child_id": child_id,
        "household_id": household_id,
        "village_code": "990101100200",
        "birth_date": birth,
        "categories": None,
        "difficulty_reasons": None,
        "caregiver_agreement_signed": False,
        "guardian_capable": True,
        "disability": None,
    }
    row.update(fields)
    return row


def run(kids, water_rows=(), slope_rows=(), point=None, rules=None):
    hh = households(point or at(0, 0))
    wb, sl = waters(*water_rows), slopes(*slope_rows)
    prox = proximity(hh, wb, sl)
    return grade(hh, pd.DataFrame(kids), wb, sl, prox, AS_OF, rules)


def one(kids, **kw):
    hh, ch = run(kids, **kw)
    return hh.iloc[0], ch.iloc[0]


def test_nothing_fires_for_a_16_year_old_far_from_everything():
    hh, ch = one([child()])
    assert ch["score"] == 0 and ch["tier"] == "无" and ch["reasons"] == ""
    assert hh["children"] == 1 and hh["tier_code"] == "none"


@pytest.mark.parametrize(
    ("distance", "points"), [(30, 40), (50, 40), (120, 30), (499, 15), (600, 0)]
)
def test_water_distance_band_alone(distance, points):
    _, ch = one([child()], water_rows=[("W1", "pond", square(distance, -5, 10))])
    assert ch["score"] == points
    if points:
        assert f"距池塘“W1塘”{distance}米" in ch["reasons"]


def test_missing_items_and_fence_alone_add_their_points():
    base = ("W1", "pond", square(400, -5, 10))
    lacking = ("W1", "pond", square(400, -5, 10), {"buoy": "missing", "pole": "damaged"})
    unfenced = ("W1", "pond", square(400, -5, 10), {"fence": "missing"})
    s0 = one([child()], water_rows=[base])[1]["score"]
    lack = one([child()], water_rows=[lacking])[1]
    fence = one([child()], water_rows=[unfenced])[1]
    assert lack["score"] - s0 == RULES["equipment"]["missing_four_items_points"]
    assert "四个一不全：缺救生圈、救生杆" in lack["reasons"]
    assert fence["score"] - s0 == RULES["equipment"]["missing_fence_points"]
    assert "缺隔离防护设施" in fence["reasons"]


def test_equipment_of_water_out_of_reach_does_not_count():
    far = ("W1", "pond", square(700, -5, 10), {"buoy": "missing", "fence": "missing"})
    hh, ch = one([child()], water_rows=[far])
    assert ch["score"] == 0
    flag = hh["nearest_water_equipment_complete"]
    assert pd.notna(flag) and not flag  # known incomplete, yet out of reach


@pytest.mark.parametrize(
    ("slope", "points", "text"),
    [
        (square(-50, -50, 100), 25, "住所位于易滑坡体“S1坡”内"),
        (square(40, -5, 10), 15, "距易滑坡体“S1坡”40米"),
        (square(90, -5, 10), 5, "距易滑坡体“S1坡”90米"),
        (square(300, -5, 10), 0, None),
    ],
)
def test_slope_band_alone(slope, points, text):
    _, ch = one([child()], slope_rows=[("S1", slope)])
    assert ch["score"] == points
    if text:
        assert text in ch["reasons"]


@pytest.mark.parametrize(
    ("fields", "points", "text"),
    [
        ({"age": 3}, 20, "6岁以下"),
        ({"age": 8}, 12, "6–11岁"),
        ({"age": 13}, 6, "12–15岁"),
        ({"categories": "left_behind_rural", "age": 16}, 15, "留守儿童未签委托照护协议"),
        ({"categories": "orphan"}, 15, "散居孤儿"),
        ({"categories": "unsupported"}, 20, "事实无人抚养儿童"),
        ({"categories": "difficulty", "difficulty_reasons": "disabled"}, 10, "残疾儿童"),
        ({"disability": "听力残疾"}, 10, "残疾儿童"),
        ({"categories": "difficulty", "difficulty_reasons": "wandering"}, 15, "易走失"),
        ({"guardian_capable": False}, 20, "监护人无监护能力"),
    ],
)
def test_child_rule_alone(fields, points, text):
    _, ch = one([child(**fields)])
    assert ch["score"] == points
    assert ch["reasons"] == text


def test_signed_agreement_removes_the_left_behind_points():
    _, ch = one([child(categories="left_behind_rural", caregiver_agreement_signed=True)])
    assert ch["score"] == 0


def test_rules_together_add_up_and_the_household_takes_its_highest_child():
    water = ("W1", "pond", square(30, -5, 10), {"rope": "missing"})
    kids = [
        child("C1", age=4, categories="left_behind_rural"),  # 20 + 15
        child("C2", age=16, guardian_capable=False),  # 20
    ]
    hh, ch = run(kids, water_rows=[water], slope_rows=[("S1", square(-50, -50, 100))])
    exposure = 40 + 15 + 25
    scores = dict(zip(ch["child_id"], ch["score"], strict=True))
    assert scores == {"C1": exposure + 35, "C2": exposure + 20}
    h = hh.iloc[0]
    assert h["score"] == exposure + 35 and h["tier"] == "一级" and h["children"] == 2
    assert "6岁以下1名" in h["reasons"] and "监护人无监护能力1名" in h["reasons"]
    assert h["reasons"].startswith("距池塘“W1塘”30米")
    assert h["nearest_water_id"] == "W1" and h["waters_within"] == 1


@pytest.mark.parametrize(
    ("score_fields", "tier"),
    [
        ({"age": 3, "disability": "肢体残疾"}, "三级"),  # 30 = low threshold exactly
        ({"age": 3, "disability": "肢体残疾", "guardian_capable": False}, "二级"),  # 50
        (
            {
                "age": 3,
                "disability": "肢体残疾",
                "guardian_capable": False,
                "categories": "unsupported",
            },
            "一级",
        ),  # 70
        ({"age": 3}, "无"),  # 20
    ],
)
def test_tier_thresholds_are_inclusive(score_fields, tier):
    assert one([child(**score_fields)])[1]["tier"] == tier


def test_rules_are_data_a_deployment_can_change():
    rules = RiskRules.from_dict(
        {"tiers": {"low": 10}, "guardian_incapable": {"points": 5, "label": "监护缺失"}}
    )
    _, ch = one([child(age=8)], rules=rules)
    assert ch["tier"] == "三级"
    _, ch = one([child(guardian_capable=False)], rules=rules)
    assert ch["score"] == 5 and ch["reasons"] == "监护缺失"


def test_the_rules_explained_are_the_points_a_score_adds_up():
    rules = RiskRules.from_dict({
        "water_bands": [{"max_m": 50, "points": 37}, {"max_m": 500, "points": 3}],
        "equipment": {"missing_four_items_points": 11},
        "slope_bands": [{"max_m": 0, "points": 9}],
        "age_bands": [{"below_age": 6, "points": 17, "label": "学龄前"}],
        "tiers": {"high": 90, "medium": 60, "low": 40},
    })  # fmt: skip
    lines = rules.explain()
    assert "池塘 500 米" in lines[0] and "50 米内 37 分，500 米内 3 分" in lines[0]
    assert "四个一不全 11 分" in lines[1] and "位于坡体内 9 分" in lines[2]
    assert lines[3] == "儿童年龄：学龄前 17 分"
    assert "留守儿童未签委托照护协议 15 分" in lines[4]
    assert "90 分及以上为一级，60 分及以上为二级，40 分及以上为三级" in lines[5]
    water = ("W1", "pond", square(30, -5, 10), {"rope": "missing"})
    kids = [child("C1", age=4, categories="left_behind_rural")]
    hh, _ = run(kids, water_rows=[water], slope_rows=[("S1", square(-50, -50, 100))], rules=rules)
    assert hh.iloc[0]["score"] == 37 + 11 + 9 + 17 + 15 and hh.iloc[0]["tier"] == "二级"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tiers": {"high": 10}}, "一级 > 二级 > 三级"),
        ({"radius_m": {"pond": 0}}, "半径"),
        ({"weather": 1}, "未知的项“weather”"),
        ({"water_bands": [{"max_m": 300, "points": 1}, {"max_m": 100, "points": 2}]}, "从小到大"),
        # a typo inside a table is refused, not silently ignored
        ({"equipment": {"missing_four_item_points": 30}}, "“equipment”中有未知的项"),
        ({"categories": {"orphans": {"points": 1}}}, "“categories”中有未知的项“orphans”"),
        ({"water_bands": [{"max_m": 100}]}, "“water_bands”第 1 条缺少 points"),
        (
            {"age_bands": [{"below_age": 6, "points": 2, "label": "小", "extra": 1}]},
            "未知的项 extra",
        ),
        ({"water_bands": {"foo": 1}}, "应写成若干条 \\[\\[water_bands\\]\\]"),
        ({"tiers": 5}, "“tiers”应为一个表"),
        ({"tiers": {"high": "x"}}, "“tiers.high”应为数字，现为 'x'"),
        ({"tiers": {"high": True}}, "“tiers.high”应为数字"),
        ({"guardian_incapable": {"label": 3}}, "应为文字"),
        (
            {
                "age_bands": [
                    {"below_age": 12, "points": 1, "label": "a"},
                    {"below_age": 6, "points": 1, "label": "b"},
                ]
            },
            "below_age 应从小到大",
        ),
        ({"slope_bands": [{"max_m": 0, "points": -5}]}, "不能为负数"),
    ],
)
def test_bad_rules_are_refused(overrides, message):
    with pytest.raises(RulesError, match=message):
        RiskRules.from_dict(overrides)


def test_every_problem_of_a_rules_file_is_listed_at_once():
    with pytest.raises(RulesError) as error:
        RiskRules.from_dict({"tiers": {"high": "x"}, "weather": 1, "water_bands": [{"max_m": 1}]})
    assert str(error.value).count("；") == 2


def test_a_table_that_sets_one_value_keeps_the_others():
    rules = RiskRules.from_dict({"categories": {"orphan": {"points": 21}}})
    assert rules.data["categories"]["orphan"] == {"points": 21, "label": "散居孤儿"}
    assert rules.data["categories"]["disabled"] == DEFAULT_RULES["categories"]["disabled"]
    _, ch = one([child(categories="orphan", age=17)], rules=rules)
    assert ch["score"] == 21 and ch["reasons"] == "散居孤儿"


def test_age_in_whole_years_on_the_as_of_date():
    births = pd.Series(pd.to_datetime(["2020-08-01", "2020-08-02", "2008-08-01"]))
    assert list(age_years(births, AS_OF)) == [6, 5, 18]


def _calendar_age(birth: dt.date, as_of: dt.date) -> int:
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


@pytest.mark.parametrize("wide", [False, True])
def test_age_matches_the_calendar_on_random_dates(wide):
    """Against Python's calendar: leap days, birthdays on the day, unknown dates; and with a
    mistyped year making the span of dates wide (each row worked out on its own)."""
    rng = np.random.default_rng(3)
    days = rng.integers(0, 9000, 2000) + np.datetime64("2004-01-01", "D").astype(np.int64)
    births = days.astype("datetime64[D]").astype(object)
    births[:5] = [dt.date(2012, 2, 29), dt.date(2008, 2, 29), dt.date(2010, 3, 1), None, None]
    if wide:
        births[5:7] = [dt.date(1, 1, 1), dt.date(2999, 12, 31)]
    series = pd.Series(pd.to_datetime(pd.Series(births)).to_numpy("datetime64[ms]"))
    for as_of in (dt.date(2026, 8, 1), dt.date(2024, 2, 29), dt.date(2025, 2, 28)):
        want = [-1 if b is None else max(_calendar_age(b, as_of), -1) for b in births]
        got = age_years(series, as_of)
        assert [max(int(a), -1) for a in got] == want, as_of


def test_children_aged_18_are_out_of_scope():
    hh, ch = run([child("C1", age=18), child("C2", age=10)])
    assert list(ch["child_id"]) == ["C2"] and hh.iloc[0]["children"] == 1


def test_river_line_nearby_counts_with_its_type_name():
    _, ch = one([child()], water_rows=[("R1", "river", line((-900, 80), (900, 80)))])
    assert ch["score"] == 30 and "距河流“R1塘”80米（200米内）" in ch["reasons"]


def test_facts_by_position_and_by_id_agree():
    """Grading takes each home's nearest water body and slope by the engine's positions when
    it is given the layers the engine searched, and by id otherwise (another order, a subset):
    the same rows either way."""
    import numpy as np

    rng = np.random.default_rng(5)
    statuses = ({}, {"buoy": "missing"}, {"fence": "damaged", "sign": "missing"})
    ponds = [
        (f"P{i:02d}", "pond", square(*xy, 30), statuses[i % 3])
        for i, xy in enumerate(rng.uniform(-900, 900, (25, 2)))
    ]
    hh = households(*(at(*xy) for xy in rng.uniform(-1000, 1000, (40, 2))))
    wb = waters(*ponds)
    sl = slopes(*((f"S{i}", square(*xy, 200)) for i, xy in enumerate([(-800, 300), (400, -600)])))
    kids = pd.DataFrame([child(f"C{i}", f"H{i}", age=4 + i % 12) for i in range(40)])
    prox = proximity(hh, wb, sl)
    by_position, _ = grade(hh, kids, wb, sl, prox, AS_OF)
    shuffled_w = wb.iloc[::-1].reset_index(drop=True)
    shuffled_s = sl.iloc[::-1].reset_index(drop=True)
    by_id, _ = grade(hh, kids, shuffled_w, shuffled_s, prox, AS_OF)
    columns = ["nearest_water_id", "nearest_water_name", "nearest_water_equipment_complete",
               "score", "tier", "reasons"]  # fmt: skip
    pd.testing.assert_frame_equal(by_position[columns], by_id[columns])
    assert by_position["reasons"].str.contains("四个一不全").any()
    assert by_position["reasons"].str.contains("易滑坡体").any()


@pytest.mark.parametrize("overlap_from", [0, 10**9], ids=["second-thread", "one-thread"])
def test_assess_grades_as_proximity_then_grading_and_reports_the_proximity_error(
    overlap_from, monkeypatch
):
    """The preparation, on a second thread or not, changes nothing in the result; when
    proximity fails, its error is the one raised (not one from the preparation)."""
    from geo import grading
    from geo.grading import assess
    from geo.proximity import ProximityError

    monkeypatch.setattr(grading, "OVERLAP_FROM_HOUSEHOLDS", overlap_from)

    hh = households(at(0, 0), at(300, 40))
    wb = waters(("W1", "pond", square(120, -5, 10), {"buoy": "missing"}))
    sl = slopes(("S1", square(40, 40, 30)))
    kids = pd.DataFrame([child("C1", "H0", age=4), child("C2", "H1", age=9)])
    expected = grade(hh, kids, wb, sl, proximity(hh, wb, sl), AS_OF)[0]
    prox, graded = assess(lambda: proximity(hh, wb, sl), hh, kids, wb, sl, AS_OF)
    pd.testing.assert_frame_equal(graded.households, expected)
    assert list(prox.nearest["household_id"]) == ["H0", "H1"]
    assert (graded.households["score"] > 0).all()

    def failing():
        raise ProximityError("水域图层的坐标系不能用于量算距离")

    bad_kids = kids.drop(columns=["birth_date"])  # the preparation would fail too
    with pytest.raises(ProximityError, match="坐标系"):
        assess(failing, hh, bad_kids, wb, sl, AS_OF)


def test_bands_take_the_first_band_reaching_the_value():
    """Edges are inclusive, equal limits give the first band, NaN and beyond give none; for
    water as for slopes (the water band only within the type's radius, here unlimited)."""
    from geo.grading_kernels import exposure
    from geo.risk import _band_table

    bands = [{"max_m": 0, "points": 25}, {"max_m": 50, "points": 15}, {"max_m": 50, "points": 9},
             {"max_m": 100, "points": 5}]  # fmt: skip
    values = np.array([-1.0, 0.0, 1e-9, 50.0, 50.000001, 100.0, 100.5, np.nan, np.inf])
    n = len(values)
    which, points, _, _, slope_points, total = exposure(
        np.zeros(n, np.int64), np.full(n, -1), values, values, np.array([np.inf, np.nan]),
        *_band_table(bands), np.zeros(0, np.int64), np.zeros(0, bool), 11.0, 7.0,
        *_band_table(bands),
    )  # fmt: skip
    assert list(which) == [0, 0, 1, 1, 3, 3, -1, -1, -1]
    assert list(points) == [25, 25, 15, 15, 5, 5, 0, 0, 0]
    assert list(slope_points) == list(points) and list(total) == list(2 * points)
