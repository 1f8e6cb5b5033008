"""One contract, both backends: every test body here runs on GeoPackage and on PostGIS."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from layers.catalogue import LAYERS
from layers.errors import StoreError

BBOX = (107.09, 29.89, 107.11, 29.91)


def edit_without_gdal(path, sql: str, params: tuple = ()) -> int:
    """Run `sql` on a GeoPackage as a SpatiaLite-based tool would, not through GDAL (it brings
    the SQL functions GDAL's R-tree triggers name; plain SQLite cannot write a spatial layer).
    Returns the rows changed."""
    import sqlite3

    with sqlite3.connect(path) as con:
        for function in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
            con.create_function(function, 1, lambda blob: None)
        return con.execute(sql, params).rowcount


def _assert_same(expected: pd.DataFrame, got: pd.DataFrame, key: str) -> None:
    expected = expected.sort_values(key).reset_index(drop=True)
    got = got.sort_values(key).reset_index(drop=True)
    if isinstance(expected, gpd.GeoDataFrame):
        assert got.crs.to_epsg() == 4326
        assert shapely.equals_exact(expected.geometry.values, got.geometry.values, 1e-9).all()
        expected, got = (
            pd.DataFrame(expected.drop(columns="geometry")),
            pd.DataFrame(got.drop(columns="geometry")),
        )
    pd.testing.assert_frame_equal(expected, got)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_round_trips(demo_store, demo_frames, name):
    got = demo_store.read_layer(name)
    assert demo_store.count(name) == len(demo_frames[name])
    _assert_same(demo_frames[name], got, LAYERS[name].key)


def test_bbox_filter_returns_exactly_what_intersects(demo_store, demo_frames):
    for name in ("households", "water_bodies", "villages"):
        frame = demo_frames[name]
        expected = frame[frame.intersects(box(*BBOX))]
        got = demo_store.read_layer(name, bbox=BBOX)
        assert 0 < len(got) < len(frame), name
        assert sorted(got[LAYERS[name].key]) == sorted(expected[LAYERS[name].key]), name


def test_village_code_filter_at_each_level(demo_store, demo_frames):
    hh = demo_frames["households"]
    codes = sorted(hh["village_code"].unique())[:2]
    got = demo_store.read_layer("households", village_codes=codes)
    assert len(got) == hh["village_code"].isin(codes).sum() > 0
    assert set(got["village_code"]) == set(codes)
    township = codes[0][:9]
    assert len(demo_store.read_layer("children", village_codes=[township])) == len(
        demo_frames["children"]
    )
    assert len(demo_store.read_layer("children", village_codes=["990101999"])) == 0
    assert len(demo_store.read_layer("children", village_codes=[])) == 0
    # A coarser layer filtered by village codes returns the township they belong to.
    assert list(demo_store.read_layer("townships", village_codes=codes)["township_code"]) == [
        township
    ]


def test_filter_refuses_non_codes(demo_store):
    with pytest.raises(ValueError, match="not an administrative division code"):
        demo_store.read_layer("households", village_codes=["1' OR '1'='1"])


def test_write_is_all_or_nothing_across_layers(store, demo_frames):
    good = demo_frames["villages"]
    bad = demo_frames["water_bodies"].copy()
    bad.loc[bad.index[5], "water_type"] = "lake"  # not in the vocabulary
    with pytest.raises(StoreError, match="未知取值：lake"):
        store.write_layers({"villages": good, "water_bodies": bad})
    assert store.count("villages") == 0 and store.count("water_bodies") == 0


def test_duplicate_key_in_store_writes_nothing(store, demo_frames):
    slopes = demo_frames["slopes"]
    store.write_layer("slopes", slopes.iloc[:3])
    with pytest.raises(StoreError, match="相同编号"):
        store.write_layer("slopes", slopes.iloc[2:])  # row 2 is already stored
    assert store.count("slopes") == 3


def test_duplicate_key_within_a_frame_is_refused(store, demo_frames):
    doubled = pd.concat([demo_frames["facilities"].iloc[:2]] * 2)
    with pytest.raises(StoreError, match="重复"):
        store.write_layer("facilities", doubled)
    assert store.count("facilities") == 0


def test_data_in_another_crs_is_refused(store, demo_frames):
    projected = demo_frames["facilities"].to_crs(32648)
    with pytest.raises(StoreError, match="EPSG:4326"):
        store.write_layer("facilities", projected)


def test_missing_required_values_are_reported(store, demo_frames):
    frame = demo_frames["children"].iloc[:5].copy()
    frame.loc[frame.index[0], "sex"] = None
    with pytest.raises(StoreError, match="“性别”有 1 行为空"):
        store.write_layer("children", frame)


@pytest.mark.parametrize("name", ["children", "water_bodies", "inspections"])
def test_missing_optional_values_round_trip(store, demo_frames, name):
    """Optional values left empty (text, dates, yes/no, numbers) come back empty, with the
    catalogue's dtypes, whichever way the backend reads them."""
    layer = LAYERS[name]
    frame = demo_frames[name].iloc[:6].copy()
    optional = [c.name for c in layer.columns if not c.required and c.name in frame.columns]
    assert optional
    for column in optional:
        frame[column] = frame[column].astype(object)
        frame.loc[frame.index[::2], column] = None  # every other row: empty
    frame = frame.astype(demo_frames[name].dtypes.to_dict())
    store.write_layers({"villages": demo_frames["villages"], name: frame})  # a CRS to start
    _assert_same(frame, store.read_layer(name), layer.key)


def test_awkward_text_reads_back_as_written(store, demo_frames):
    """Text that a row-by-row or a CSV reader could mangle comes back as written: separators,
    quotes and line breaks inside a value, leading zeros, number-, date- and NULL-like text
    (PostGIS reads layers as a CSV stream). An empty string reads back missing on both stores,
    as a blank cell is on import."""
    frame = demo_frames["water_bodies"].iloc[:8].copy()
    texts = {
        "name": ['村口"大"塘, 东侧', "第一行\n第二行", "", None, "007", "1e5", "2024-01-02", "t"],
        "responsible_person": ["NULL", "\\N", "a,b", '"', " 前后空格 ", "", None, "nan"],
    }
    for column, values in texts.items():
        frame[column] = pd.Series(values, index=frame.index, dtype=object)
    store.write_layers({"villages": demo_frames["villages"], "water_bodies": frame})
    got = store.read_layer("water_bodies")
    expected = frame.copy()
    for column in texts:
        expected[column] = expected[column].where(expected[column] != "", None)
    _assert_same(expected, got, "water_id")
    assert got.set_index("water_id").loc[frame["water_id"].iloc[2], "name"] is None


def test_arrow_text_reads_the_same_rows_and_values(store, demo_frames):
    """`read_layer(arrow_text=True)`, as the risk engine reads: the rows, order, values and
    shapes of the default read, its text in pandas' Arrow-backed dtype (missing, and an empty
    string, as NaN)."""
    frame = demo_frames["water_bodies"].iloc[:8].copy()
    names = ['村口"大"塘, 东侧', "", None, "007", "第一行\n第二行", "NULL", "t", " 空格 "]
    frame["name"] = pd.Series(names, index=frame.index, dtype=object)
    store.write_layers({"villages": demo_frames["villages"], "water_bodies": frame})
    columns = ["name", "water_type", "fence_status", "last_inspection_date"]
    plain = store.read_layer("water_bodies", columns=columns)
    arrow = store.read_layer("water_bodies", columns=columns, arrow_text=True)
    assert list(arrow.columns) == list(plain.columns)
    assert shapely.equals_exact(plain.geometry.values, arrow.geometry.values, 0).all()
    for column in ("water_id", "name", "water_type", "fence_status"):
        dtype = arrow[column].dtype
        assert isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow", column
        assert [None if pd.isna(v) else v for v in arrow[column]] == plain[column].tolist()
    assert plain["name"].isna().sum() == 2 and arrow["name"].isna().sum() == 2
    pd.testing.assert_series_equal(plain["last_inspection_date"], arrow["last_inspection_date"])


def test_replace_empties_the_layer_first(store, demo_frames):
    f = demo_frames["facilities"]
    store.write_layer("facilities", f)
    store.write_layer("facilities", f.iloc[:4], replace=True)
    assert store.count("facilities") == 4


def test_append_then_read_keeps_mixed_lines_and_polygons(store, demo_frames):
    water = demo_frames["water_bodies"]
    mixed = water[water["water_type"].isin(["river", "dam", "pond"])].iloc[:20]
    store.write_layer("water_bodies", mixed)
    got = store.read_layer("water_bodies")
    assert set(got.geom_type) == set(mixed.geom_type) >= {"LineString", "Polygon"}
    _assert_same(mixed, got, "water_id")


def test_data_revision_changes_with_every_write_of_its_layers(store, demo_frames):
    """The token a page keeps a result by: the same while the layers are unchanged, new after
    an append, an upsert that changes no count, a replace, and an edit by another program (on
    the GeoPackage both a GDAL-based one and a plain SQLite one); writes to other layers and
    the audit log leave it alone."""
    layers = ["water_bodies", "slopes"]
    waters = demo_frames["water_bodies"]
    store.write_layers({"villages": demo_frames["villages"]})  # a CRS to start
    seen = [store.data_revision(layers)]
    assert store.data_revision(layers) == seen[0]

    def changed() -> None:
        seen.append(store.data_revision(layers))
        assert seen[-1] not in seen[:-1]

    store.write_layer("water_bodies", waters.iloc[:5])
    changed()
    edited = waters.iloc[:1].copy()
    edited["name"] = "改过名的塘"
    store.write_layers({"water_bodies": edited}, upsert=True)  # same count, one row changed
    changed()
    store.write_layer("slopes", demo_frames["slopes"].iloc[:2], replace=True)
    changed()
    store.write_layer("facilities", demo_frames["facilities"])
    store.accounts().audit("tester", "export", layer="water_bodies", rows=5)
    assert store.data_revision(layers) == seen[-1]
    if store.kind == "postgis":  # another client edits a row in place
        import sqlalchemy as sa

        with store.engine.begin() as con:
            con.execute(sa.text("UPDATE water_bodies SET name = 'QGIS 改名' WHERE water_id = :i"),
                        {"i": waters["water_id"].iloc[1]})  # fmt: skip
    else:  # another GDAL-based editor (QGIS) adds a feature to the file
        import pyogrio

        row = pyogrio.read_dataframe(store.path, layer="water_bodies", max_features=1)
        row["water_id"] = "QGIS-1"
        pyogrio.write_dataframe(row, store.path, layer="water_bodies", append=True)
        changed()
        # An editor that does not go through GDAL renames one in place: the same row count and
        # no new last_change, so only the file's own change counters can tell.
        sql = "UPDATE water_bodies SET name = '改名' WHERE water_id = 'QGIS-1'"
        assert edit_without_gdal(store.path, sql) == 1
    changed()


def test_arrow_buffers_come_from_the_c_allocator():
    """Loading the storage package switches Arrow off mimalloc (fresh huge pages per thread)."""
    import subprocess
    import sys

    code = "import layers, pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "system"
