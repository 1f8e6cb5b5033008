"""GIS layer import: every file format, coordinate systems (file CRS, stated WGS84/GCJ-02/BD-09,
Xian-80 refused), attribute mapping, geometry repair, idempotent upserts on both stores, and the
public GCJ-02/WGS84 boundaries of ../shared/realdata."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo import vocab
from geo.crs import bd09_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from layers.geofile import GeoFileError, read_geofile
from layers.layer_import import apply_layer, plan_layer
from tests.conftest import ROOT
from tests.test_store_contract import edit_without_gdal


def _realdata() -> Path:
    """../shared/realdata beside the repository (SHOUHU_REALDATA overrides; /work/shared is
    where this workplace keeps it when the clone lives elsewhere). Never copied in."""
    import os

    candidates = [os.environ.get("SHOUHU_REALDATA"), ROOT.parent / "shared" / "realdata",
                  Path("/work/shared/realdata")]  # fmt: skip
    for candidate in candidates:
        if candidate and (Path(candidate) / "boundaries").is_dir():
            return Path(candidate) / "boundaries"
    return ROOT.parent / "shared" / "realdata" / "boundaries"


REALDATA = _realdata()


@pytest.fixture
def places(store, demo_frames):
    store.write_layers(
        {"townships": demo_frames["townships"], "villages": demo_frames["villages"]}, replace=True
    )
    return store


def _waters(demo_frames, n=6) -> gpd.GeoDataFrame:
    """Demo water bodies as an office's file: Chinese headers and labels, no admin codes."""
    w = demo_frames["water_bodies"].sort_values("water_id").head(n)
    return gpd.GeoDataFrame(
        {
            "编号": w["water_id"].to_numpy(),
            "名称": w["name"].to_numpy(),
            "类型": w["water_type"].map(vocab.WATER_TYPES).to_numpy(),
        },
        geometry=w.geometry.to_numpy(),
        crs=4326,
    )


def _polygons(demo_frames) -> gpd.GeoDataFrame:
    """Ponds and reservoirs only: a Shapefile holds one geometry type."""
    source = _waters(demo_frames, 12)
    return source[source.geom_type == "Polygon"]


def _file(frame: gpd.GeoDataFrame, fmt: str, tmp_path: Path, **kw) -> tuple[bytes, str]:
    """The frame written as an office would send it: (bytes, filename)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if fmt == "geojson":
        path = tmp_path / "w.geojson"
        frame.to_file(path, driver="GeoJSON")
    elif fmt == "gpkg":
        path = tmp_path / "w.gpkg"
        frame.to_file(path, driver="GPKG", layer="水域")
    elif fmt in ("kml", "kmz"):
        path = tmp_path / "w.kml"
        frame.rename(columns={"名称": "Name"}).to_file(path, driver="KML")
        if fmt == "kmz":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as z:
                z.writestr("doc.kml", path.read_bytes())
            return buffer.getvalue(), "w.kmz"
    elif fmt == "shp":
        folder = tmp_path / "shp"
        folder.mkdir(exist_ok=True)
        frame.to_file(folder / "水域.shp", encoding=kw.get("encoding", "GBK"))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            for part in folder.iterdir():
                if part.suffix == ".prj" and kw.get("no_prj"):
                    continue
                if part.suffix == ".cpg" and kw.get("no_cpg"):
                    continue
                z.write(part, part.name)
        return buffer.getvalue(), "w.zip"
    elif fmt == "csv_wkt":
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table["WKT"] = shapely.to_wkt(frame.geometry.values, rounding_precision=-1)
        return table.to_csv(index=False).encode("gbk"), "w.csv"
    elif fmt == "csv_lonlat":
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table["经度"], table["纬度"] = frame.geometry.x, frame.geometry.y
        return table.to_csv(index=False).encode("utf-8-sig"), "w.csv"
    return path.read_bytes(), path.name


def _close(a: gpd.GeoSeries, b: gpd.GeoSeries, tol: float = 1e-7) -> bool:
    return all(x.equals_exact(y, tol) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "kml", "kmz", "shp", "csv_wkt"])
def test_water_bodies_in_every_format(fmt, tmp_path, demo_store, demo_frames):
    source = _waters(demo_frames, 12)
    if fmt == "shp":  # a Shapefile holds one geometry type
        source = source[source.geom_type == "Polygon"]
    data, name = _file(source, fmt, tmp_path)
    geofile = read_geofile(data, name, "wgs84" if fmt.startswith("csv") else None)
    assert geofile.source_crs == "wgs84"
    plan = plan_layer(demo_store, "water_bodies", geofile)
    assert plan.ok, plan.problem_table()
    assert plan.counts()["不变"] == len(source)  # same ids, same values as the demo store
    by_id = demo_frames["water_bodies"].set_index("water_id")
    stored = by_id.loc[source["编号"]]
    assert _close(geofile.frame.geometry, stored.geometry.reset_index(drop=True))


def test_gbk_shapefile_attributes_with_and_without_cpg(tmp_path, demo_store, demo_frames):
    source = _polygons(demo_frames)
    for no_cpg in (False, True):
        data, name = _file(source, "shp", tmp_path / str(no_cpg), no_cpg=no_cpg)
        geofile = read_geofile(data, name)
        assert list(geofile.frame["名称"]) == list(source["名称"])  # never garbled
        assert ("GBK" in " ".join(geofile.warnings)) == no_cpg


def test_import_assigns_villages_upserts_and_is_repeatable(places, demo_frames, tmp_path):
    store = places
    source = _waters(demo_frames)
    data, name = _file(source, "geojson", tmp_path)
    plan = plan_layer(store, "water_bodies", read_geofile(data, name))
    assert plan.ok, plan.problem_table()
    assert plan.counts() == {"新增": len(source), "更新": 0, "不变": 0}
    apply_layer(store, plan)
    stored = store.read_layer("water_bodies").set_index("water_id")
    demo = demo_frames["water_bodies"].set_index("water_id").loc[stored.index]
    # The village is found by location (the file has no codes) and matches the demo's.
    assert (stored["village_code"] == demo["village_code"]).all()
    assert set(stored["source_crs"]) == {"wgs84"}
    again = plan_layer(store, "water_bodies", read_geofile(data, name))
    assert again.counts() == {"新增": 0, "更新": 0, "不变": len(source)} and again.frame.empty
    renamed = source.copy()
    renamed.loc[renamed.index[0], "名称"] = "改名塘"
    data2, name2 = _file(renamed.drop(columns="类型"), "geojson", tmp_path / "b")
    (tmp_path / "b").mkdir(exist_ok=True)
    plan = plan_layer(store, "water_bodies", read_geofile(data2, name2))
    assert plan.counts() == {"新增": 0, "更新": 1, "不变": len(source) - 1}
    apply_layer(store, plan)
    after = store.read_layer("water_bodies").set_index("water_id")
    first = source["编号"].iloc[0]
    assert after.loc[first, "name"] == "改名塘"
    assert after.loc[first, "water_type"] == stored.loc[first, "water_type"]  # kept


def test_one_bad_feature_writes_nothing(places, demo_frames, tmp_path):
    source = _waters(demo_frames)
    source.loc[source.index[2], "类型"] = "游泳池"
    data, name = _file(source, "geojson", tmp_path)
    plan = plan_layer(places, "water_bodies", read_geofile(data, name))
    assert not plan.ok and plan.errors[0].row == 3 and "游泳池" in plan.errors[0].problem
    assert "池塘" in plan.errors[0].fix
    with pytest.raises(ValueError):
        apply_layer(places, plan)
    assert places.count("water_bodies") == 0


def test_file_crs_is_used_and_xian80_is_refused(tmp_path, demo_store, demo_frames):
    source = _polygons(demo_frames)
    data, name = _file(source.to_crs(4545), "shp", tmp_path)  # CGCS2000 3-degree GK 108E
    geofile = read_geofile(data, name)
    assert geofile.source_crs == "EPSG:4545"
    assert _close(geofile.frame.geometry, source.geometry, 1e-8)
    data, name = _file(source.to_crs(2381), "shp", tmp_path / "x")  # Xian 1980 3-degree GK
    with pytest.raises(GeoFileError, match="西安80"):
        read_geofile(data, name)


def test_files_without_a_crs_need_one_stated(tmp_path, demo_frames):
    source = _polygons(demo_frames)
    data, name = _file(source, "shp", tmp_path, no_prj=True)
    with pytest.raises(GeoFileError, match="没有说明坐标系"):
        read_geofile(data, name)
    assert read_geofile(data, name, "cgcs2000").source_crs == "cgcs2000"
    projected, pname = _file(source.to_crs(4545), "shp", tmp_path / "p", no_prj=True)
    with pytest.raises(GeoFileError, match="米制投影"):
        read_geofile(projected, pname, "wgs84")


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_stated_gcj02_and_bd09_are_converted(system, demo_frames, tmp_path):
    facilities = demo_frames["facilities"].head(5)
    truth = np.column_stack([facilities.geometry.x, facilities.geometry.y])
    convert = wgs84_to_gcj02 if system == "gcj02" else wgs84_to_bd09
    x, y = convert(truth[:, 0], truth[:, 1])
    table = pd.DataFrame({"名称": facilities["name"].to_numpy(), "经度": x, "纬度": y})
    geofile = read_geofile(table.to_csv(index=False).encode("utf-8"), "f.csv", system)
    got = np.column_stack([geofile.frame.geometry.x, geofile.frame.geometry.y])
    assert geofile.source_crs == system
    assert np.abs(got - truth).max() < (1e-8 if system == "gcj02" else 2e-6)


def test_converters_match_published_reference_values():
    """Values published with the gcoord library's tests (hujiulong/gcoord) at (123, 45)."""
    cases = [
        (wgs84_to_gcj02, (123.00607541, 45.00197815)),
        (gcj02_to_wgs84, (122.99395597, 44.99804071)),
        (wgs84_to_bd09, (123.0124491, 45.0083293)),
        (bd09_to_gcj02, (122.99363304, 44.99365430)),
    ]
    for fn, (ex, ey) in cases:
        x, y = fn(np.array([123.0]), np.array([45.0]))
        assert abs(x[0] - ex) < 1e-6 and abs(y[0] - ey) < 1e-6, fn.__name__
    outside = wgs84_to_gcj02(np.array([2.35]), np.array([48.85]))
    assert outside[0][0] == 2.35 and outside[1][0] == 48.85  # unchanged outside China
    lon = np.random.default_rng(1).uniform(74, 134, 10_000)
    lat = np.random.default_rng(2).uniform(18, 53, 10_000)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    to_m = Transformer.from_crs(4326, 4479, always_xy=True)  # any metric check: ECEF-ish CGCS
    assert np.abs(back[0] - lon).max() < 1e-9 and np.abs(back[1] - lat).max() < 1e-9
    assert to_m is not None


def test_swapped_and_foreign_coordinates_are_refused(demo_frames):
    f = demo_frames["facilities"].head(3)
    swapped = pd.DataFrame(
        {"名称": f["name"].to_numpy(), "经度": f.geometry.y, "纬度": f.geometry.x}
    )
    with pytest.raises(GeoFileError, match="填反"):
        read_geofile(swapped.to_csv(index=False).encode(), "f.csv", "wgs84")
    paris = pd.DataFrame({"名称": ["x"], "经度": [2.35], "纬度": [48.85]})
    with pytest.raises(GeoFileError, match="不在中国境内"):
        read_geofile(paris.to_csv(index=False).encode(), "f.csv", "wgs84")
    with pytest.raises(GeoFileError, match="不支持的文件类型"):
        read_geofile(b"x", "f.dwg")


def test_invalid_geometry_is_repaired_with_a_warning_and_wrong_types_refused(places, demo_frames):
    village = demo_frames["villages"].geometry.iloc[0].representative_point()
    x, y = village.x, village.y
    d = 0.001
    bowtie = shapely.Polygon([(x, y), (x + d, y + d), (x + d, y), (x, y + d), (x, y)])
    frame = gpd.GeoDataFrame({"名称": ["蝶形坡"], "等级": ["高"]}, geometry=[bowtie], crs=4326)
    geofile = read_geofile(frame.to_json().encode(), "s.geojson")
    plan = plan_layer(places, "slopes", geofile)
    assert plan.ok and "已自动修复" in plan.problems[0].problem and plan.problems[0].level == "警告"
    assert plan.frame.geometry.iloc[0].is_valid
    points = gpd.GeoDataFrame({"名称": ["点"], "等级": ["高"]}, geometry=[village], crs=4326)
    plan = plan_layer(places, "slopes", read_geofile(points.to_json().encode(), "p.geojson"))
    assert not plan.ok and "需要面" in plan.errors[0].problem


def test_missing_type_can_be_given_for_the_whole_file(places, demo_frames, tmp_path):
    source = _waters(demo_frames).drop(columns="类型")
    data, name = _file(source, "geojson", tmp_path)
    plan = plan_layer(places, "water_bodies", read_geofile(data, name))
    assert not plan.ok and "“类型”为空" in plan.errors[0].problem
    plan = plan_layer(
        places, "water_bodies", read_geofile(data, name), defaults={"water_type": "pond"}
    )
    assert plan.ok and set(plan.frame["water_type"]) == {"pond"}


def test_point_hazards_from_csv_get_stable_ids(places, demo_frames):
    f = demo_frames["facilities"].head(3)
    table = pd.DataFrame(
        {
            "名称": ["危墙甲", "危房乙", "堵塞丙"],
            "类型": ["危墙", "危房", "排水不畅"],
            "经度": f.geometry.x.to_numpy(),
            "纬度": f.geometry.y.to_numpy(),
        }
    )
    data = table.to_csv(index=False).encode("gb18030")
    plan = plan_layer(places, "point_hazards", read_geofile(data, "h.csv", "wgs84"))
    assert plan.ok, plan.problem_table()
    apply_layer(places, plan)
    again = plan_layer(places, "point_hazards", read_geofile(data, "h.csv", "wgs84"))
    assert again.counts()["不变"] == 3
    stored = places.read_layer("point_hazards")
    assert sorted(stored["hazard_type"]) == ["blocked_drainage", "dangerous_wall",
                                              "dilapidated_building"]  # fmt: skip


# -- the public boundaries ---------------------------------------------------------------------


@pytest.mark.parametrize("adcode", ["420112", "610330", "420100"])
def test_realdata_gcj02_boundary_declared_as_gcj02_matches_the_wgs84_one(adcode):
    gcj_bytes = (REALDATA / f"{adcode}_gcj02.geojson").read_bytes()
    wgs_bytes = (REALDATA / f"{adcode}_wgs84.geojson").read_bytes()
    converted = read_geofile(gcj_bytes, "b.geojson", "gcj02").frame
    reference = read_geofile(wgs_bytes, "b.geojson").frame
    undeclared = read_geofile(gcj_bytes, "b.geojson").frame
    to_m = Transformer.from_crs(4326, 32649, always_xy=True)

    def metres(frame):
        xy = shapely.get_coordinates(frame.geometry.values)
        return np.column_stack(to_m.transform(xy[:, 0], xy[:, 1]))

    ours, ref = metres(converted), metres(reference)
    gap = np.hypot(*(ours - ref).T)
    # The reference file was made with cnmaps' one-step approximate inverse; ours is exact.
    # Vertex by vertex they differ by the approximation (1-3 m); the shapes agree to 2 m.
    assert gap.mean() < 2.0 and gap.max() < 3.0
    shape_gap = (
        converted.to_crs(32649)
        .geometry.iloc[0]
        .centroid.distance(reference.to_crs(32649).geometry.iloc[0].centroid)
    )
    assert shape_gap < 2.0
    assert np.hypot(*(metres(undeclared) - ref).T).mean() > 300  # not declaring it: far off
    # The gap is the file's approximation: the one-step formula reproduces the file to 1 cm.
    xy = shapely.get_coordinates(undeclared.geometry.values)
    fx, fy = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
    one_step = np.column_stack(to_m.transform(2 * xy[:, 0] - fx, 2 * xy[:, 1] - fy))
    assert np.hypot(*(one_step - ref).T).max() < 0.01
    assert json.loads(gcj_bytes)["type"] == "FeatureCollection"


def test_realdata_boundary_imports_as_a_village_with_its_township(store):
    data = (REALDATA / "610330_gcj02.geojson").read_bytes()
    geofile = read_geofile(data, "b.geojson", "gcj02")
    plan = plan_layer(
        store, "villages", geofile,
        mapping={}, defaults={"village_code": "610330100001", "name": "凤县（测试边界）"},
    )  # fmt: skip
    assert plan.ok, plan.problem_table()
    assert len(plan.townships) == 1 and plan.townships["township_code"].iloc[0] == "610330100"
    apply_layer(store, plan)
    village = store.read_layer("villages")
    assert village["source_crs"].iloc[0] == "gcj02" and village["county_code"].iloc[0] == "610330"
    assert store.count("townships") == 1


def test_a_version_1_geopackage_upgrades_keeping_its_data(tmp_path, demo_frames):
    """Files made before imports existed (no source_crs, no point_hazards) upgrade in place."""
    import sqlite3

    import pyogrio

    from layers.errors import SchemaBehindError
    from layers.store.gpkg import GeoPackageStore

    path = tmp_path / "old.gpkg"
    store = GeoPackageStore(path)
    store.upgrade()
    store.write_layers(demo_frames, replace=True)
    with sqlite3.connect(path) as con:  # make it look like schema version 1
        for table in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions"):
            con.execute(f"DELETE FROM {table} WHERE table_name = 'point_hazards'")
        con.execute("DROP TABLE point_hazards")
        con.execute("DROP TABLE IF EXISTS rtree_point_hazards_geom")
        for table in ("villages", "households", "children", "water_bodies", "slopes", "facilities"):
            con.execute(f'ALTER TABLE "{table}" DROP COLUMN source_crs')
        con.execute("UPDATE shouhu_meta SET value = '1' WHERE key = 'schema_version'")
    fresh = GeoPackageStore(path)
    with pytest.raises(SchemaBehindError, match="shouhu db upgrade"):
        fresh.check()
    fresh.upgrade()
    fresh.check()
    assert "point_hazards" in set(pyogrio.list_layers(path)[:, 0])
    children = fresh.read_layer("children")
    assert len(children) == len(demo_frames["children"]) and children["source_crs"].isna().all()


def test_an_older_file_gains_change_counters_on_upgrade(tmp_path, demo_frames):
    """A file from before the change counters (schema 4) is refused until upgraded; after the
    upgrade, an edit only the counters can see (one child's category changed in place by a
    program that does not go through GDAL: the same row count, no new last_change) changes the
    layer's revision."""
    import sqlite3

    from layers.errors import SchemaBehindError
    from layers.store.gpkg import GeoPackageStore

    path = tmp_path / "old.gpkg"
    store = GeoPackageStore(path)
    store.upgrade()
    store.write_layers({"villages": demo_frames["villages"], "children": demo_frames["children"]})
    with sqlite3.connect(path) as con:  # make it look like schema version 4
        for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'shouhu_count_%'"
        ).fetchall():
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute("DELETE FROM shouhu_meta WHERE key LIKE 'changes:%'")
        con.execute("UPDATE shouhu_meta SET value = '4' WHERE key = 'schema_version'")
    fresh = GeoPackageStore(path)
    with pytest.raises(SchemaBehindError, match="shouhu db upgrade"):
        fresh.check()
    fresh.upgrade()
    before = fresh.data_revision(["children"])
    with sqlite3.connect(path) as con:  # a plain SQLite editor fixes one child's category
        child = demo_frames["children"]["child_id"].iloc[0]
        assert (
            con.execute(
                "UPDATE children SET categories = 'orphan' WHERE child_id = ?", (child,)
            ).rowcount
            == 1
        )
    assert fresh.data_revision(["children"]) != before
    assert len(fresh.read_layer("children")) == len(demo_frames["children"])


def test_a_layer_another_program_recreates_is_counted_again_after_the_next_write(
    fresh_demo_gpkg, demo_frames
):
    """A GDAL program that overwrites a layer re-creates its table without the change counter's
    triggers: its own overwrite still changes the revision (GDAL's last_change), and the app's
    next write puts the triggers back, so a later in-place edit counts again."""
    import pyogrio

    from layers.store.gpkg import GeoPackageStore

    store = GeoPackageStore(fresh_demo_gpkg)
    before = store.data_revision(["water_bodies"])
    waters = pyogrio.read_dataframe(fresh_demo_gpkg, layer="water_bodies")
    pyogrio.write_dataframe(waters, fresh_demo_gpkg, layer="water_bodies")  # overwrite
    overwritten = store.data_revision(["water_bodies"])
    assert overwritten != before

    store.write_layers({"facilities": demo_frames["facilities"].head(1)}, upsert=True)
    written = store.data_revision(["water_bodies"])
    sql = "UPDATE water_bodies SET name = ? WHERE water_id = ?"
    assert edit_without_gdal(fresh_demo_gpkg, sql, ("改过名的塘", waters["water_id"].iloc[0])) == 1
    assert store.data_revision(["water_bodies"]) not in (overwritten, written)


def test_features_far_outside_the_deployment_are_refused(places, demo_frames):
    f = demo_frames["facilities"].head(2)
    table = pd.DataFrame({"名称": ["甲", "乙"], "类型": ["幼儿园", "幼儿园"],
                          "经度": f.geometry.x + [0, 1.0], "纬度": f.geometry.y})  # fmt: skip
    plan = plan_layer(places, "facilities", read_geofile(table.to_csv(index=False).encode(),
                                                         "f.csv", "wgs84"))  # fmt: skip
    assert {p.row for p in plan.errors} == {2} and "离本辖区太远" in plan.errors[0].problem
