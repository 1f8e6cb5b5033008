"""Proximity on hand-built layouts: exact distances, inclusive radius, ties, bad input."""

import math

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon

from geo.crs import CRSError, analysis_crs, gk3_epsg, require_metric, utm_epsg
from geo.proximity import SEARCH_LIMIT_M, ProximityError, check_radii, proximity
from tests.geo_cases import at, households, line, slopes, square, waters


def near_of(result, hid):
    return result.nearest.set_index("household_id").loc[hid]


def test_household_exactly_on_the_radius_is_within_reach():
    # Pond's west edge is exactly 500 m east of the household.
    r = proximity(households(at(0, 0)), waters(("W1", "pond", square(500, -50, 100))), slopes())
    assert list(r.pairs["water_id"]) == ["W1"]
    assert r.pairs["distance_m"].iloc[0] == 500.0
    just_out = proximity(
        households(at(-0.01, 0)), waters(("W1", "pond", square(500, -50, 100))), slopes()
    )
    assert just_out.pairs.empty
    assert near_of(just_out, "H0")["nearest_water_m"] == pytest.approx(500.01)


def test_inside_a_pond_is_distance_zero():
    r = proximity(households(at(50, 50)), waters(("W1", "pond", square(0, 0, 100))), slopes())
    assert near_of(r, "H0")["nearest_pond_m"] == 0.0
    assert near_of(r, "H0")["waters_within"] == 1


@pytest.mark.parametrize("big_target", [64, 2])
def test_deep_inside_a_large_lake_is_within_reach(monkeypatch, big_target):
    """A home 1,500 m from every shore of a 3 km lake: no edge is in reach, yet the lake is
    at distance 0 and within reach, counted once, whether the lake is searched whole or
    segment by segment."""
    from geo import segment_grid

    monkeypatch.setattr(segment_grid, "BIG_TARGET", big_target)
    layout = waters(("L1", "reservoir", square(0, 0, 3000)), ("P1", "pond", square(1700, 1700, 20)))
    r = proximity(households(at(1500, 1500), at(1200, 2990)), layout, slopes())
    deep, shore = near_of(r, "H0"), near_of(r, "H1")
    assert (deep["nearest_reservoir_id"], deep["nearest_reservoir_m"]) == ("L1", 0.0)
    assert deep["waters_within"] == 2  # the lake, and the pond 200 m away
    assert (shore["nearest_reservoir_m"], shore["waters_within"]) == (0.0, 1)
    counts = r.pairs.groupby("household_id").size()
    assert list(counts.reindex(["H0", "H1"], fill_value=0)) == [2, 1]


def test_distance_to_a_river_line_is_perpendicular_not_to_its_centroid():
    river = line((-3000, 0), (3000, 0))
    r = proximity(households(at(2000, 300)), waters(("R1", "river", river)), slopes())
    n = near_of(r, "H0")
    assert n["nearest_river_m"] == pytest.approx(300.0, abs=1e-9)
    assert n["nearest_water_type"] == "river"  # the centroid would be ~2,022 m away


def test_two_water_bodies_at_equal_distance_go_to_the_smaller_id():
    layout = waters(("W2", "pond", square(100, -10, 20)), ("W1", "pond", square(-120, -10, 20)))
    n = near_of(proximity(households(at(0, 0)), layout, slopes()), "H0")
    assert n["nearest_pond_m"] == 100.0 and n["nearest_pond_id"] == "W1"
    assert n["waters_within"] == 2


def test_nearest_per_type_and_overall():
    layout = waters(
        ("P1", "pond", square(300, 0, 10)),
        ("R1", "river", line((0, 120), (50, 120))),
        ("D1", "dam", line((0, -800), (10, -800))),
    )
    n = near_of(proximity(households(at(0, 0)), layout, slopes()), "H0")
    assert (n["nearest_water_id"], n["nearest_water_type"]) == ("R1", "river")
    assert n["nearest_water_m"] == 120.0
    assert n["nearest_pond_m"] == 300.0 and n["nearest_dam_m"] == 800.0
    assert pd.isna(n["nearest_reservoir_id"]) and math.isnan(n["nearest_reservoir_m"])
    assert n["waters_within"] == 2  # the dam is beyond 500 m


def test_radius_per_type():
    layout = waters(("P1", "pond", square(200, 0, 10)), ("R1", "river", line((0, 400), (9, 400))))
    r = proximity(households(at(0, 0)), layout, slopes(), {"pond": 100, "river": 500})
    assert list(r.pairs["water_id"]) == ["R1"]


def test_slope_containing_the_household_is_zero_and_beyond_limit_is_empty():
    r = proximity(
        households(at(0, 0), at(50_000, 0)),
        waters(),
        slopes(("S1", square(-100, -100, 200))),
    )
    assert near_of(r, "H0")["slope_m"] == 0.0 and near_of(r, "H0")["nearest_slope_id"] == "S1"
    assert math.isnan(near_of(r, "H1")["slope_m"]) and pd.isna(near_of(r, "H1")["nearest_slope_id"])
    assert any("水域图层为空" in w for w in r.warnings)
    assert SEARCH_LIMIT_M == 5000


@pytest.mark.parametrize("radius", [0, -10, 5000.5, float("nan"), "abc"])
def test_bad_radius_is_refused_with_a_reason(radius):
    with pytest.raises(ProximityError, match="半径"):
        check_radii({"pond": radius})


def test_unknown_water_type_in_radii():
    with pytest.raises(ProximityError, match="未知的水域类型：lake"):
        check_radii({"lake": 100})


def test_degrees_and_missing_crs_are_refused():
    hh = households(at(0, 0))
    with pytest.raises(ProximityError, match="经纬度"):
        proximity(hh.to_crs(4326), waters(), slopes())
    no_crs = hh.set_crs(None, allow_override=True)
    with pytest.raises(ProximityError, match="家庭户图层没有坐标系，无法量算距离"):
        proximity(no_crs, waters(), slopes())
    with pytest.raises(CRSError, match="图层是经纬度（度，WGS 84），请先投影到以米为单位的坐标系"):
        require_metric(hh.to_crs(4326))


def test_null_and_invalid_geometries_are_all_reported_together():
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    hh = households(at(0, 0), None, ids=["H0", "H-null"])
    layout = waters(("W-bad", "pond", bowtie))
    with pytest.raises(ProximityError) as err:
        proximity(hh, layout, slopes())
    message = str(err.value)
    # Both problems in one message, each naming the feature, so the user fixes all at once.
    assert "H-null" in message and "W-bad" in message and "无效几何" in message


def test_analysis_crs_choices():
    assert utm_epsg(107.1, 29.9) == 32648
    assert gk3_epsg(107.1) == 4545  # CGCS2000 / 3-degree Gauss-Kruger CM 108E
    crs = analysis_crs((107.0, 29.8, 107.2, 30.0))
    assert crs.epsg == 32648 and "UTM zone 48N" in str(crs)
    assert "108E" in analysis_crs((107.0, 29.8, 107.2, 30.0), system="gk3").name
    assert analysis_crs((0, 0, 1, 1), epsg=4547).epsg == 4547
    with pytest.raises(
        CRSError, match="EPSG:4490（China Geodetic Coordinate System 2000）不是投影"
    ):
        analysis_crs((0, 0, 1, 1), epsg=4490)
    with pytest.raises(CRSError, match="EPSG:999999 不是已知的坐标系代码"):
        analysis_crs((0, 0, 1, 1), epsg=999999)
    with pytest.raises(CRSError, match="范围为空"):
        analysis_crs((np.nan, np.nan, np.nan, np.nan))


def test_many_points_match_brute_force():
    rng = np.random.default_rng(3)
    pts = [at(*xy) for xy in rng.uniform(-2000, 2000, (300, 2))]
    ponds = [
        (f"P{i:03d}", "pond", at(*xy).buffer(rng.uniform(5, 40)))
        for i, xy in enumerate(rng.uniform(-2500, 2500, (80, 2)))
    ]
    hh, wb = households(*pts), waters(*ponds)
    r = proximity(hh, wb, slopes())
    d = np.array([[p.distance(w) for w in wb.geometry] for p in hh.geometry])
    expected = {
        (f"H{i}", wb["water_id"].iat[j]) for i, j in zip(*np.nonzero(d <= 500), strict=True)
    }
    assert set(zip(r.pairs["household_id"], r.pairs["water_id"], strict=True)) == expected
    best = d.min(axis=1)
    got = r.nearest.set_index("household_id")["nearest_water_m"]
    assert np.allclose(got.loc[[f"H{i}" for i in range(300)]].to_numpy(), best)


def _brute_force_pairs(hh, ws, radius_m):
    """Every (household, water) pair within radius_m by shapely, one distance at a time."""
    out = set()
    for hid, point in zip(hh["household_id"], hh.geometry, strict=True):
        for wid, shape in zip(ws["water_id"], ws.geometry, strict=True):
            if point.distance(shape) <= radius_m:
                out.add((hid, wid))
    return out


def test_a_crowded_household_gets_every_pair_in_order(monkeypatch):
    """More water bodies in reach than the kernel's first buffer holds, over several batches:
    the same pairs as shapely, in (household, distance, id) order."""
    from geo import segment_grid

    monkeypatch.setattr(segment_grid, "BATCH", 7)
    rng = np.random.default_rng(3)
    ponds = [(f"P{i:03d}", "pond", square(*rng.uniform(-400, 400, 2), 20)) for i in range(60)]
    hh = households(*(at(*xy) for xy in rng.uniform(-300, 300, (25, 2))))
    ws = waters(*ponds)
    r = proximity(hh, ws, slopes())
    got = set(zip(r.pairs["household_id"], r.pairs["water_id"], strict=True))
    assert got == _brute_force_pairs(hh, ws, 500.0)
    assert r.pairs.groupby("household_id").size().max() > 32  # the crowded path ran
    keys = list(
        zip(r.pairs["household_id"], r.pairs["distance_m"], r.pairs["water_id"], strict=True)
    )
    assert keys == sorted(keys)
    counts = r.pairs.groupby("household_id").size()
    within = r.nearest.set_index("household_id")["waters_within"]
    assert (within.loc[counts.index] == counts).all()


@pytest.mark.parametrize("big_target", [64, 6, 0])
def test_mixed_shapes_match_shapely_per_type(monkeypatch, big_target):
    """Lines, polygons with and without holes, multi-part lines and polygons in one layer: the
    pairs, the nearest of each type and the containment as shapely measures them (a home in a
    pond's hole is outside the pond; no segment joins two rings or parts). Whichever shapes
    are searched whole and which segment by segment (`big_target`), the answers are these."""
    from shapely.geometry import MultiLineString, MultiPolygon

    from geo import segment_grid

    monkeypatch.setattr(segment_grid, "BIG_TARGET", big_target)

    rng = np.random.default_rng(11)
    ring = Polygon(
        [(at(-300, -300).x, at(-300, -300).y), (at(300, -300).x, at(300, -300).y),
         (at(300, 300).x, at(300, 300).y), (at(-300, 300).x, at(-300, 300).y)],
        [[(at(-100, -100).x, at(-100, -100).y), (at(100, -100).x, at(100, -100).y),
          (at(100, 100).x, at(100, 100).y), (at(-100, 100).x, at(-100, 100).y)]],
    )  # fmt: skip
    shapes = [
        ("W0", "reservoir", ring),
        ("W1", "pond", MultiPolygon([square(700, 0, 50), square(-900, 400, 80)])),
        (
            "W2",
            "river",
            MultiLineString(
                [line((-1500, -800), (1500, -800)).coords, line((-1500, 900), (0, 1400)).coords]
            ),
        ),  # fmt: skip
        ("W3", "pond", square(-700, -200, 60)),
        ("W4", "dam", line((1200, 1200), (1300, 1250))),
        ("W5", "river", line((-1800, -1800), (-1200, 0), (-1800, 1800))),
    ]
    pts = [at(0, 0), at(200, 0), at(720, 20)] + [
        at(*xy) for xy in rng.uniform(-2000, 2000, (120, 2))
    ]
    hh, ws = households(*pts), waters(*shapes)
    r = proximity(hh, ws, slopes())
    assert set(zip(r.pairs["household_id"], r.pairs["water_id"], strict=True)) == (
        _brute_force_pairs(hh, ws, 500.0)
    )
    near = r.nearest.set_index("household_id")
    counts = r.pairs.groupby("household_id").size().reindex(hh["household_id"], fill_value=0)
    assert (near.loc[hh["household_id"], "waters_within"] == counts).all()
    for water_type in ("river", "pond", "reservoir", "dam"):
        mine = ws[ws["water_type"] == water_type]
        d = np.array([[p.distance(w) for w in mine.geometry] for p in hh.geometry])
        got = near.loc[hh["household_id"], f"nearest_{water_type}_m"].to_numpy()
        assert np.allclose(got, d.min(axis=1), atol=1e-6), water_type
        ids = mine["water_id"].to_numpy()[d.argmin(axis=1)]
        assert (near.loc[hh["household_id"], f"nearest_{water_type}_id"].to_numpy() == ids).all()
    assert near.loc["H0", "nearest_reservoir_m"] == pytest.approx(100.0)  # in the hole
    assert near.loc["H1", "nearest_reservoir_m"] == 0.0  # in the reservoir's body
    assert near.loc["H2", "nearest_pond_m"] == 0.0  # in a part of the multi-polygon


def _awkward_shapes(rng) -> list:
    """Random lines and single-ring polygons, many of them invalid or nearly so: bow-ties,
    spikes, repeated and collinear vertices, rings touching themselves, zero-length lines,
    non-finite coordinates; and a few shapes GEOS alone decides (holes, many vertices)."""
    from shapely.geometry import LineString

    shapes = []
    for _ in range(3000):
        k = int(rng.integers(3, 9))
        xy = rng.integers(0, 6, (k, 2)).astype(float) * 10 + 700_000  # on a coarse lattice
        if rng.random() < 0.3:  # round polygons: most of them valid
            angle = np.sort(rng.uniform(0, 2 * np.pi, k))
            xy = np.c_[np.cos(angle), np.sin(angle)] * rng.uniform(5, 50) + 700_000
        if rng.random() < 0.1:
            xy[int(rng.integers(1, k))] = xy[0]  # a repeated or touching vertex
        if rng.random() < 0.5:
            shapes.append(Polygon(xy))
        else:
            shapes.append(LineString(xy[: int(rng.integers(2, k + 1))]))
    shapes += [
        LineString([(1.0, 1.0), (1.0, 1.0)]),  # no length
        LineString([(0.0, 0.0), (np.nan, 1.0)]),
        Polygon([(0, 0), (10, 0), (20, 0), (0, 0)]),  # flat
        Polygon([(0, 0), (10, 0), (10, 10), (10, 20), (10, 10), (0, 10)]),  # a spike
        Polygon([(0, 0), (4, 0), (4, 4), (2, 0), (0, 4)]),  # touches itself at (2, 0)
        Polygon([(0, 0), (10, 0), (10, 10)], [[(6, 1), (9, 1), (9, 4)]]),  # a hole: GEOS
        Polygon(np.c_[np.cos(np.arange(100) / 16), np.sin(np.arange(100) / 16)]),  # 100 points
    ]
    return shapes


def test_shapes_proven_valid_from_their_segments_are_valid_for_geos():
    """The segment test may only say 'valid' where GEOS agrees; where it is unsure, GEOS is
    asked, so the water layer's problems are GEOS's own."""
    import shapely

    from geo import segment_grid

    geoms = np.array(_awkward_shapes(np.random.default_rng(5)), dtype=object)
    sure = segment_grid.sure_valid(segment_grid.build(geoms))
    geos = shapely.is_valid(geoms)
    assert not (sure & ~geos).any(), [geoms[i].wkt for i in np.flatnonzero(sure & ~geos)][:3]
    assert (~geos).sum() > 300 and sure.sum() > 0.5 * geos.sum()  # both kinds well covered
    assert not sure[-2:].any()  # a hole, 100 vertices: left to GEOS

    frame = waters(*[(f"W{i}", "pond", g) for i, g in enumerate(geoms)])
    with pytest.raises(ProximityError) as err:
        proximity(households(at(0, 0)), frame, slopes())
    assert f"有 {int((~geos).sum())} 个无效几何" in str(err.value)
