"""Differential test: the in-process engine (GeoPackage) and the PostGIS pushdown agree."""

import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.proximity import Proximity
from layers.store.gpkg import GeoPackageStore
from layers.store.postgis import PostGISStore

TOLERANCE_M = 0.01
ADMIN = {"county_code": "990101", "township_code": "990101100", "village_code": "990101100200"}


@pytest.fixture
def both(tmp_path, gpkg_template, pg_server, pg_template):
    """Factory: write the same frames to a GeoPackage and a PostGIS store; return both."""
    made = []

    def make(frames):
        path = tmp_path / f"s{len(made)}.gpkg"
        shutil.copyfile(gpkg_template, path)
        gpkg = GeoPackageStore(path)
        pg = PostGISStore(
            pg_server.create_database(f"diff_{id(made)}_{len(made)}", template=pg_template)
        )
        for store in (gpkg, pg):
            store.write_layers(frames)
        made.append(pg)
        return gpkg, pg

    yield make
    for store in made:
        store.close()


def assert_same(a: Proximity, b: Proximity) -> int:
    """Same pairs, same nearest ids, distances within TOLERANCE_M. Returns the pair count."""
    key = ["household_id", "water_id"]
    assert set(map(tuple, a.pairs[key].to_numpy())) == set(map(tuple, b.pairs[key].to_numpy()))
    merged = a.pairs.merge(b.pairs, on=key, suffixes=("_a", "_b"))
    gap = (merged["distance_m_a"] - merged["distance_m_b"]).abs().to_numpy()
    assert gap.max(initial=0) <= TOLERANCE_M
    na = a.nearest.set_index("household_id").sort_index()
    nb = b.nearest.set_index("household_id").sort_index()
    assert list(na.index) == list(nb.index)
    assert sorted(na.columns) == sorted(nb.columns)
    for column in na.columns:
        if column.endswith("_id") or column.endswith("_type"):
            assert na[column].fillna("").tolist() == nb[column].fillna("").tolist(), column
        elif column == "waters_within":
            assert na[column].tolist() == nb[column].tolist()
        else:
            x, y = na[column].to_numpy(float), nb[column].to_numpy(float)
            assert np.array_equal(np.isnan(x), np.isnan(y)), column
            assert np.nanmax(np.abs(x - y), initial=0) <= TOLERANCE_M, column
    return len(merged)


def test_demo_township_same_on_both_stores(both, demo_frames):
    gpkg, pg = both(demo_frames)
    pairs = assert_same(gpkg.proximity(), pg.proximity())
    assert pairs > 1000  # a real workload, not an empty comparison
    radii = {"pond": 120, "river": 800, "reservoir": 300, "dam": 50}
    assert_same(gpkg.proximity(radii), pg.proximity(radii))
    village = sorted(demo_frames["villages"]["village_code"])[3]
    a, b = gpkg.proximity(village_codes=[village]), pg.proximity(village_codes=[village])
    assert_same(a, b)
    assert set(a.nearest["household_id"]) == set(
        demo_frames["households"].query("village_code == @village")["household_id"]
    )


def _random_layout(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    metric = 32648
    x0, y0 = 690_000.0, 3_310_000.0  # about 107.0°E 29.9°N
    n_h = 400
    hh = gpd.GeoDataFrame(
        {"household_id": [f"H{i:04d}" for i in range(n_h)], **ADMIN},
        geometry=shapely.points(rng.uniform(0, 6000, (n_h, 2)) + (x0, y0)),
        crs=metric,
    )
    geoms, types = [], []
    for _ in range(60):
        c = rng.uniform(0, 6000, 2) + (x0, y0)
        kind = rng.choice(["pond", "reservoir", "river", "dam"], p=[0.6, 0.1, 0.2, 0.1])
        if kind in ("pond", "reservoir"):
            g = shapely.Point(*c).buffer(rng.uniform(10, 150 if kind == "pond" else 500), 6)
        else:
            steps = rng.normal(0, 300, (int(rng.integers(2, 12)), 2)).cumsum(axis=0)
            g = shapely.LineString(steps + c)
        geoms.append(g)
        types.append(kind)
    # A pond around a household: distance 0 must agree too.
    geoms.append(hh.geometry.iloc[0].buffer(30))
    types.append("pond")
    n_w = len(geoms)
    water = gpd.GeoDataFrame(
        {"water_id": [f"W{i:03d}" for i in range(n_w)], **ADMIN, "water_type": types},
        geometry=geoms,
        crs=metric,
    )
    slope_geoms = [
        shapely.Point(*(rng.uniform(0, 6000, 2) + (x0, y0))).buffer(200) for _ in range(8)
    ]
    slope_geoms.append(hh.geometry.iloc[1].buffer(50))
    slopes = gpd.GeoDataFrame(
        {"slope_id": [f"S{i}" for i in range(len(slope_geoms))], **ADMIN, "hazard_grade": "high"},
        geometry=slope_geoms,
        crs=metric,
    )
    return {
        "households": hh.to_crs(4326),
        "water_bodies": water.to_crs(4326),
        "slopes": slopes.to_crs(4326),
    }


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_random_layouts_same_on_both_stores(both, seed):
    gpkg, pg = both(_random_layout(seed))
    a, b = gpkg.proximity(), pg.proximity()
    assert assert_same(a, b) > 50
    near = a.nearest.set_index("household_id")
    assert near.loc["H0000", "nearest_pond_m"] == 0 and near.loc["H0001", "slope_m"] == 0


def test_both_stores_report_the_same_analysis_crs(both, demo_frames):
    gpkg, pg = both({"villages": demo_frames["villages"]})
    assert gpkg.analysis_crs() == pg.analysis_crs()
    assert gpkg.analysis_crs().epsg == 32648


def test_changing_the_analysis_crs_reprojects_postgis(both, demo_frames):
    from geo.crs import analysis_crs

    frames = {k: demo_frames[k] for k in ("households", "water_bodies", "slopes", "villages")}
    gpkg, pg = both(frames)
    gk = analysis_crs((0, 0, 0, 0), epsg=4545)  # CGCS2000 3-degree zone CM 108E
    for store in (gpkg, pg):
        store.set_analysis_crs(gk)
    assert pg.analysis_crs().epsg == 4545
    assert_same(gpkg.proximity(), pg.proximity())
    pd.testing.assert_series_equal(
        gpkg.proximity().pairs["water_id"], pg.proximity().pairs["water_id"], check_dtype=False
    )


def test_layers_already_read_are_measured_as_reading_them_would(both, demo_frames, monkeypatch):
    """compute_risk hands the layers it has read to the store's proximity: the in-process
    answer is the one the store gets by reading them itself (households of one village, water
    bodies around them), each layer is read once, and both stores grade alike."""
    import datetime as dt

    from app.risk_service import WATER_FIELDS, compute_risk

    gpkg, pg = both(demo_frames)
    village = sorted(demo_frames["villages"]["village_code"])[3]
    layers = (
        gpkg.read_layer("households", village_codes=[village], columns=["village_code"]),
        gpkg.read_layer("water_bodies", columns=WATER_FIELDS),
        gpkg.read_layer("slopes", columns=["name"]),
    )
    given = gpkg.proximity(village_codes=[village], layers=layers)
    read = gpkg.proximity(village_codes=[village])
    assert assert_same(given, read) > 10
    pd.testing.assert_frame_equal(given.nearest, read.nearest)

    reads = []
    original = GeoPackageStore.read_layer

    def counted(self, name, *args, **kwargs):
        reads.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(GeoPackageStore, "read_layer", counted)
    as_of = dt.date(2026, 8, 1)
    mine = compute_risk(gpkg, as_of).households
    assert sorted(reads) == ["children", "households", "slopes", "water_bodies"]
    theirs = compute_risk(pg, as_of).households
    key = ["household_id", "tier", "score", "nearest_water_id", "waters_within"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(mine[key]).sort_values("household_id", ignore_index=True),
        pd.DataFrame(theirs[key]).sort_values("household_id", ignore_index=True),
        check_dtype=False,
    )


def _three_villages() -> dict:
    """Villages A, B and C 30 km apart along a line; water near A and B, a slope near A only:
    C has nothing within the search limit."""
    metric, x0, y0 = 32648, 690_000.0, 3_310_000.0
    rows, geoms = [], []
    for v, dx in enumerate((0.0, 30_000.0, 60_000.0)):
        for i in range(12):
            village = f"99010110020{v}"
            rows.append({**ADMIN, "household_id": f"H{v}{i:02d}", "village_code": village})
            geoms.append(shapely.Point(x0 + dx + 150.0 * i, y0 + 90.0 * (i % 4)))
    hh = gpd.GeoDataFrame(rows, geometry=geoms, crs=metric)
    water = gpd.GeoDataFrame(
        {"water_id": ["WA1", "WA2", "WB1", "WB2"], **ADMIN,
         "water_type": ["pond", "river", "pond", "reservoir"]},
        geometry=[shapely.Point(x0 + 400, y0 + 600).buffer(80, 8),
                  shapely.LineString([(x0 - 500, y0 - 300), (x0 + 2500, y0 - 200)]),
                  shapely.Point(x0 + 30_900, y0 + 200).buffer(50, 8),
                  shapely.Point(x0 + 33_000, y0 + 4000).buffer(600, 8)],
        crs=metric,
    )  # fmt: skip
    slopes = gpd.GeoDataFrame(
        {"slope_id": ["S1"], **ADMIN, "hazard_grade": "high"},
        geometry=[shapely.Point(x0 + 700, y0 + 100).buffer(120, 8)],
        crs=metric,
    )
    return {
        "households": hh.to_crs(4326),
        "water_bodies": water.to_crs(4326),
        "slopes": slopes.to_crs(4326),
    }


def test_a_village_alone_is_graded_as_in_the_whole_layout(both, monkeypatch):
    """compute_risk for one village reads only the water bodies and slopes within the search
    limit of its homes, and grades them exactly as the whole layout does; a village with no
    hazard within the limit gets no "empty layer" warning while the layers are not empty."""
    import datetime as dt

    from app.risk_service import compute_risk
    from layers.store.base import Store

    as_of = dt.date(2026, 8, 1)
    reads = {}
    original = Store.read_layer

    def counted(self, name, *args, **kwargs):
        frame = original(self, name, *args, **kwargs)
        reads[name] = len(frame)
        return frame

    for store in both(_three_villages()):
        whole = pd.DataFrame(compute_risk(store, as_of).households.drop(columns="geometry"))
        whole = whole.set_index("household_id")
        monkeypatch.setattr(Store, "read_layer", counted)
        for v, waters_read in enumerate((2, 2, 0)):
            part = compute_risk(store, as_of, village_codes=[f"99010110020{v}"])
            assert reads["water_bodies"] == waters_read, store.kind
            assert reads["slopes"] == (v == 0)
            got = pd.DataFrame(part.households.drop(columns="geometry")).set_index("household_id")
            assert len(got) == 12
            pd.testing.assert_frame_equal(got, whole.loc[got.index])
            assert part.warnings == []
        monkeypatch.setattr(Store, "read_layer", original)
        assert pd.isna(whole.loc["H200", "nearest_water_id"])
        assert np.isnan(whole.loc["H200", "slope_m"])
        assert whole.loc["H000", "nearest_water_id"] == "WA2"  # the river, ~300 m south
        assert whole.loc["H106", "nearest_water_m"] == 0  # inside pond WB1


def test_invalid_shapes_stop_only_the_lists_they_are_near(both):
    """A self-intersecting pond that another editor drew near village C stops C's list on both
    stores, naming it, and not A's 60 km away: each store checks the shapes it measures."""
    import datetime as dt

    import pyogrio
    import sqlalchemy as sa

    from app.risk_service import compute_risk
    from geo.proximity import ProximityError

    x, y = 690_000.0 + 60_500, 3_310_000.0 + 800
    bowtie = shapely.Polygon([(x, y), (x + 90, y + 90), (x + 90, y), (x, y + 90), (x, y)])
    bowtie = gpd.GeoSeries([bowtie], crs=32648).to_crs(4326).iloc[0]
    assert not bowtie.is_valid
    as_of = dt.date(2026, 8, 1)
    for store in both(_three_villages()):
        if store.kind == "postgis":
            copy_of_wb1 = [
                "CREATE TEMP TABLE bad AS SELECT * FROM water_bodies WHERE water_id = 'WB1'",
                "UPDATE bad SET water_id = 'WBAD', geom = ST_GeomFromText(:wkt, 4326)",
                "INSERT INTO water_bodies SELECT * FROM bad",
            ]
            with store.engine.begin() as con:
                for sql in copy_of_wb1:
                    con.execute(sa.text(sql), {"wkt": bowtie.wkt} if ":wkt" in sql else {})
        else:
            row = pyogrio.read_dataframe(store.path, layer="water_bodies", max_features=1)
            row["water_id"] = "WBAD"
            row = row.set_geometry(gpd.GeoSeries([bowtie], crs=4326).values)
            pyogrio.write_dataframe(row, store.path, layer="water_bodies", append=True)
        assert len(compute_risk(store, as_of, village_codes=["990101100200"]).households) == 12
        with pytest.raises(ProximityError, match="无效几何.*WBAD"):
            compute_risk(store, as_of, village_codes=["990101100202"])
