"""Flood-season sweeps: distances and directions on hand-built layouts (both engines), the same
hazard list on both stores, checklist state changes and progress, bad input, the printable
page, the CLI and the page."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from app import sweep_service as svc
from app.cli import main
from geo.sweep import (
    AT_FACILITY,
    SweepError,
    check_radius,
    direction,
    facility_type,
    hazards_around,
    radii,
)

EPSG = 32648


def _frame(rows, crs=EPSG):
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=crs)


def _layout():
    facility = _frame([{"facility_id": "F1", "facility_type": "school",
                        "geometry": shapely.Point(0, 0)}])  # fmt: skip
    slopes = _frame([
        {"slope_id": "S_in", "name": "山", "hazard_grade": "high",
         "geometry": shapely.box(-50, -50, 50, 50)},
        {"slope_id": "S_far", "name": "远坡", "hazard_grade": "low",
         "geometry": shapely.box(900, 900, 1000, 1000)},
    ])  # fmt: skip
    waters = _frame([
        {"water_id": "W_line", "name": "河", "water_type": "river",
         "geometry": shapely.LineString([(-300, 200), (300, 200)])},  # 200 m north
        {"water_id": "W_edge", "name": "塘", "water_type": "pond",
         "geometry": shapely.box(500, -10, 560, 10)},  # exactly 500 m east
        {"water_id": "W_out", "name": "外塘", "water_type": "pond",
         "geometry": shapely.box(500.5, 100, 560, 120)},
    ])  # fmt: skip
    points = _frame([{"hazard_id": "P1", "name": "危墙", "hazard_type": "dangerous_wall",
                      "geometry": shapely.Point(-100, -100)}])  # fmt: skip
    return facility, slopes, waters, points


def test_distances_directions_radius_edge_and_inside():
    hazards = hazards_around(*_layout(), radii()).set_index("hazard_id")
    assert list(hazards.index) == ["S_in", "P1", "W_line", "W_edge"]  # nearest first
    assert (
        hazards.loc["S_in", "distance_m"] == 0 and hazards.loc["S_in", "direction"] == AT_FACILITY
    )
    assert hazards.loc["W_line", "distance_m"] == pytest.approx(200)
    assert hazards.loc["W_line", "direction"] == "北"
    assert hazards.loc["W_edge", "distance_m"] == pytest.approx(500)  # on the radius: counts
    assert hazards.loc["W_edge", "direction"] == "东"
    assert hazards.loc["P1", "distance_m"] == pytest.approx(2**0.5 * 100)
    assert hazards.loc["P1", "direction"] == "西南"
    assert hazards.loc["S_in", "hazard_type"] == "隐患等级高"
    assert hazards.loc["W_line", "hazard_kind"] == "water"
    smaller = hazards_around(*_layout(), radii({"school": 150}))
    assert set(smaller["hazard_id"]) == {"S_in", "P1"}  # per facility type


def test_compass_and_radius_checks():
    vectors = [(0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1)]
    assert [direction(*v) for v in vectors] == [
        "北",
        "东北",
        "东",
        "东南",
        "南",
        "西南",
        "西",
        "西北",
    ]
    for bad in (0, -5, 6000, float("nan"), "很远"):
        with pytest.raises(SweepError):
            check_radius(bad)
    with pytest.raises(SweepError, match="未知的场所类型"):
        radii({"casino": 100})
    facility, slopes, waters, points = _layout()
    facility.loc[0, "geometry"] = None
    with pytest.raises(SweepError, match="没有位置"):
        hazards_around(facility, slopes, waters, points, radii())


def test_both_stores_give_the_same_hazard_list(demo_store):
    """Compared with the in-process engine on the same data (PostGIS pushes it down)."""
    from layers.store.base import Store

    pushed = demo_store.hazards_around(radii())
    local = Store.hazards_around(demo_store, radii())
    assert len(pushed) > 0
    key = ["facility_id", "hazard_id"]
    a, b = pushed.sort_values(key, ignore_index=True), local.sort_values(key, ignore_index=True)
    assert a[key].equals(b[key])
    assert (a["distance_m"] - b["distance_m"]).abs().max() < 0.01
    assert (a["direction"] == b["direction"]).all()


@pytest.fixture
def swept(store, demo_frames):
    store.write_layers(demo_frames, replace=True)
    sweep = svc.pick_sweep(store, dt.date(2026, 7, 1))
    return store, sweep


def test_checklists_state_changes_and_progress(swept):
    store, sweep = swept
    items = svc.ensure_checklists(store, sweep)
    facilities = store.read_layer("facilities")
    assert set(items["facility_id"]) == set(facilities["facility_id"])
    fid = facilities["facility_id"].iloc[0]
    mine = items[items["facility_id"] == fid]
    hazards = svc.hazard_list(store, sweep.radius_m, dt.date(2026, 7, 1), sweep, None, [fid])
    assert len(mine) == len(hazards) + 5  # one per hazard plus the fixed items
    again = svc.ensure_checklists(store, sweep)
    assert len(again) == len(items)  # created once
    ids = list(mine["item_id"])
    svc.update_items(store, sweep, [{"item_id": i, "status": "safe"} for i in ids[1:]], "t")
    svc.update_items(store, sweep, [{"item_id": ids[0], "status": "rectify", "responsible": "李",
                                     "due_date": dt.date(2026, 7, 10)}], "t")  # fmt: skip
    progress, overdue = svc.sweep_progress(store, sweep, dt.date(2026, 7, 20))
    row = progress.iloc[0]
    assert (row["facilities"], row["fully_checked"]) == (len(facilities), 1)
    assert row["open_rectifications"] == 1 and row["overdue"] == 1
    assert list(overdue["item_id"]) == [ids[0]]
    svc.update_items(store, sweep, [{"item_id": ids[0], "status": "已整改"}], "t")
    progress, overdue = svc.sweep_progress(store, sweep, dt.date(2026, 7, 20))
    assert progress.iloc[0]["open_rectifications"] == 0 and overdue.empty
    assert svc.ensure_checklists(store, sweep).set_index("item_id").loc[ids[0], "status"] == (
        "rectified"
    )  # a re-run keeps the statuses
    listed = svc.hazard_list(store, sweep.radius_m, dt.date(2026, 7, 20), sweep, None, [fid])
    if len(listed):
        assert set(listed["status"]) <= {"已排查无隐患", "已整改"}


def test_bad_checklist_updates_save_nothing(swept):
    store, sweep = swept
    items = svc.ensure_checklists(store, sweep)
    first, second = items["item_id"].iloc[0], items["item_id"].iloc[1]
    cases = [
        ([{"item_id": "nope", "status": "safe"}], "不存在"),
        ([{"item_id": first, "status": "maybe"}], "无法识别"),
        ([{"item_id": first, "status": "rectify", "responsible": "李",
           "due_date": dt.date(2026, 5, 1)}], "早于排查开始日期"),
        ([{"item_id": first, "status": "rectify"}], "请填写责任人和整改期限"),
        ([{"item_id": second, "status": "safe"}, {"item_id": "nope"}], "未保存任何修改"),
    ]  # fmt: skip
    for updates, message in cases:
        with pytest.raises(SweepError, match=message):
            svc.update_items(store, sweep, updates, "t")
    stored = store.read_layer("sweep_items").set_index("item_id")
    assert (stored["status"] == "pending").all()
    with pytest.raises(SweepError, match="早于开始日期"):
        svc.create_sweep(store, "X2", "x", dt.date(2026, 9, 1), dt.date(2026, 6, 1), ["990101100"])


def test_printable_sheet_and_cli(swept, tmp_path, capsys):
    store, sweep = swept
    fid = store.read_layer("facilities")["facility_id"].iloc[0]
    html = svc.facility_sheet(store, sweep, fid)
    hazards = svc.hazard_list(store, sweep.radius_m, dt.date(2026, 7, 1), sweep, None, [fid])
    assert (
        'class="radius"' in html
        and "内部资料" in html
        and html.count("<tr>") == len(hazards) + 5 + 1
    )  # header row, one per hazard, five fixed items
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")
    spec = str(store.path) if store.kind == "gpkg" else store.url
    out = tmp_path / "sweep.xlsx"
    assert main(["sweep", "--radius-m", "500", "--as-of", "2026-07-01", "--out", str(out),
                 "--store", spec]) == 0  # fmt: skip
    table = pd.read_excel(out, dtype={"facility_id": str, "hazard_id": str})
    assert list(table.columns[:10]) == ["facility_id", "facility_name", "facility_type",
                                        "village_code", "hazard_id", "hazard_kind", "hazard_type",
                                        "distance_m", "direction", "status"]  # fmt: skip
    assert main(["sweep", "--radius-m", "99999", "--out", str(out), "--store", spec]) == 2
    assert "不合理" in capsys.readouterr().err
    small = tmp_path / "small.csv"
    assert main(["sweep", "--radius-m", "500", "--radius-type", "school=100", "--as-of",
                 "2026-07-01", "--out", str(small), "--store", spec]) == 0  # fmt: skip
    narrowed = pd.read_csv(small)
    is_school = table["facility_type"] == "中小学"
    assert (narrowed["facility_type"] == "中小学").sum() == (
        is_school & (table["distance_m"] <= 100)
    ).sum()
    assert (narrowed["facility_type"] != "中小学").sum() == (~is_school).sum()
    assert is_school.sum() > (narrowed["facility_type"] == "中小学").sum()
    by_label = tmp_path / "by_label.csv"  # the type by its Chinese name, as staff write it
    assert main(["sweep", "--radius-m", "500", "--radius-type", "中小学=100", "--as-of",
                 "2026-07-01", "--out", str(by_label), "--store", spec]) == 0  # fmt: skip
    assert pd.read_csv(by_label).equals(narrowed)
    for bad, message in (("casino=100", "可用：school（中小学）、kindergarten（幼儿园）"),
                         ("school", "应写成 场所类型=米")):  # fmt: skip
        with pytest.raises(SystemExit) as exit_:
            main(["sweep", "--radius-type", bad, "--out", str(small), "--store", spec])
        assert exit_.value.code == 2
        assert message in capsys.readouterr().err
    results = tmp_path / "results.xlsx"
    assert main(["sweep-campaign", "results", sweep.sweep_id, "--out", str(results),
                 "--store", spec]) == 0  # fmt: skip
    import openpyxl

    book = openpyxl.load_workbook(results)
    assert book.sheetnames == ["汇总", "排查明细"]
    detail = list(book["排查明细"].iter_rows(values_only=True))
    assert len(detail) - 1 == len(svc.ensure_checklists(store, sweep))


def test_sweep_page_saves_a_checklist_item(monkeypatch, fresh_demo_gpkg, demo_frames):
    from layers.access import Scope
    from layers.store.gpkg import GeoPackageStore
    from tests.conftest import app_as

    path = fresh_demo_gpkg
    county = demo_frames["villages"]["county_code"].iloc[0]
    at = app_as(monkeypatch, path, Scope("admin", "county_admin", (county,)))
    at.switch_page("views/sweep_page.py").run()
    assert not at.exception, at.exception
    items = GeoPackageStore(path).read_layer("sweep_items")
    assert len(items) > 0
    at.selectbox(key="sweep_status").set_value("rectify")
    at.button(key="sweep_save").click().run()
    assert any("请填写责任人和整改期限" in e.value for e in at.error)
    at.selectbox(key="sweep_status").set_value("safe")
    at.button(key="sweep_save").click().run()
    assert not at.exception and any("已保存" in s.value for s in at.success)
    stored = GeoPackageStore(path).read_layer("sweep_items")
    assert (stored["status"] == "safe").sum() == 1


def test_a_hazard_recorded_on_site_joins_the_checklist(swept):
    from layers.access import Scope
    from layers.store.scoped import ScopedStore

    store, sweep = swept
    facility = store.read_layer("facilities").iloc[0]
    staff = ScopedStore(store, Scope("t_sw", "township_staff", (facility["township_code"],)))
    before = svc.ensure_checklists(staff, sweep, [facility["facility_id"]])
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 32
    lon, lat = facility.geometry.x + 0.0005, facility.geometry.y  # about 50 m east
    hazard_id = svc.record_point_hazard(staff, "dangerous_wall", "操场东侧围墙", lon, lat, "裂缝",
                                        dt.date(2026, 7, 5), [("墙.jpg", jpeg)])  # fmt: skip
    after = svc.ensure_checklists(staff, sweep, [facility["facility_id"]])
    assert len(after) == len(before) + 1 and hazard_id in set(after["hazard_id"])
    assert staff.evidence_counts([hazard_id]) == {hazard_id: 1}
    listed = svc.hazard_list(
        staff, 500, dt.date(2026, 7, 5), sweep, None, [facility["facility_id"]]
    )
    row = listed.set_index("hazard_id").loc[hazard_id]
    assert row["direction"] == "东" and 30 < row["distance_m"] < 70
    with pytest.raises(SweepError, match="不在任何村界内"):
        svc.record_point_hazard(staff, "other", "x", 116.4, 39.9, "", dt.date(2026, 7, 5), [])


def test_a_facility_type_is_read_as_file_imports_read_it():
    """--radius-type names a type by code, label or another word staff write (the same words
    a layer import accepts), and an unknown word lists the types."""
    assert facility_type("school") == facility_type("中小学") == facility_type("学校") == "school"
    assert facility_type(" Kindergarten ") == facility_type("幼儿园") == "kindergarten"
    with pytest.raises(SweepError, match="可用：school（中小学）"):
        facility_type("网吧")
