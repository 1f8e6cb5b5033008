"""Patrols: priority ordering on hand-built cases, route validity and quality against the exact
optimum, plans on both stores, inspections (history and current status), compliance, the
patrol sheet round trip and its bad inputs."""

from __future__ import annotations

import datetime as dt
import io
import itertools

import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from app.cli import main
from app.patrol_service import compliance, make_plan, record_inspections, water_priorities
from geo.patrol import WeightsError, explain_weights, priorities, weights
from geo.routing import RoutingError, plan_routes, route_length
from layers.patrol_record import read_records
from layers.patrol_sheets import sheet_html, sheets_xlsx

DATE = dt.date(2026, 7, 20)


def _water(wid, wtype="pond", statuses=("present",) * 5, last="2026-07-19", x=107.1):
    sign, buoy, rope, pole, fence = statuses
    return {"water_id": wid, "name": wid, "water_type": wtype, "village_code": "999901001200",
            "sign_status": sign, "buoy_status": buoy, "rope_status": rope, "pole_status": pole,
            "fence_status": fence, "last_inspection_date": pd.Timestamp(last) if last else None,
            "geometry": shapely.Point(x, 29.9)}  # fmt: skip


def test_priority_orders_by_children_equipment_type_and_days():
    waters = pd.DataFrame([
        _water("W_ok"),
        _water("W_kids"),
        _water("W_missing", statuses=("missing", "missing", "present", "present", "present")),
        _water("W_never", last=None),
        _water("W_reservoir", wtype="reservoir"),
    ])  # fmt: skip
    near = pd.DataFrame({"water_id": ["W_kids"] * 3, "tier_code": ["high", "high", "low"]})
    ranked = priorities(waters, near, DATE)
    assert ranked["water_id"].tolist() == ["W_never", "W_missing", "W_kids", "W_reservoir", "W_ok"]
    by = ranked.set_index("water_id")
    w = weights()
    assert by.loc["W_kids", "priority"] - by.loc["W_ok", "priority"] == pytest.approx(
        2 * w["child_by_tier"]["high"] + w["child_by_tier"]["low"]
    )
    assert by.loc["W_missing", "missing_items"] == "警示牌、救生圈"
    assert "附近儿童3名（一级2名、三级1名）" in by.loc["W_kids", "reasons"]
    assert "从未巡查" in by.loc["W_never", "reasons"]
    heavy = priorities(waters, near, DATE, weights({"child_by_tier": {"high": 100}}))
    assert heavy["water_id"].iloc[0] == "W_kids"  # weights are data
    with pytest.raises(WeightsError, match="未知"):
        weights({"moon": 1})
    with pytest.raises(WeightsError, match="负数"):
        weights({"per_day_uninspected": -1})


def test_the_page_explains_the_weights_the_priority_adds_up():
    w = weights({"item": {"missing": 9.5}, "fence": {"damaged": 4.25}, "water_type": {"dam": 7.75},
                 "child_by_tier": {"high": 3.5}, "per_day_uninspected": 0.25,
                 "max_days_points": 12})  # fmt: skip
    lines = explain_weights(w)
    assert "一级风险 3.5 分" in lines[0] and "缺 9.5 分" in lines[1]
    assert "损坏 4.25 分" in lines[2] and "堤坝 7.75 分" in lines[3]
    assert "每天 0.25 分，最多 12 分" in lines[4]
    assert "present" not in "".join(lines) and "0 分" not in "".join(lines)
    # A dam with its sign missing and its fence damaged, last inspected 10 days ago, one child
    # of tier 一级 nearby: the parts the lines name, added up.
    statuses = ("missing", "present", "present", "present", "damaged")
    water = pd.DataFrame([_water("W", "dam", statuses, last="2026-07-10")])
    near = pd.DataFrame({"water_id": ["W"], "tier_code": ["high"]})
    assert priorities(water, near, DATE, w)["priority"].iloc[0] == 3.5 + 9.5 + 4.25 + 7.75 + 2.5


def test_every_problem_of_a_weights_file_is_listed_at_once():
    with pytest.raises(WeightsError) as error:
        weights({"moon": 1, "item": {"missing": "很多", "lost": 2}, "fence": 3,
                 "water_type": {"dam": -1, "pond": True},
                 "max_days_points": float("inf")})  # fmt: skip
    found = str(error.value).split("；")
    assert found == [
        "未知的权重“moon”，可用：child_by_tier、item、fence、water_type、per_day_uninspected、"
        "max_days_points",
        "权重“item.missing”应为数字，现为 '很多'",
        "权重“item”中有未知项“lost”，可用：missing、damaged、unknown、present",
        "权重“fence”应为一个表（[fence]，各项一行），现为 3",
        "权重“water_type.dam”不能为负数（现为 -1）",
        "权重“water_type.pond”应为数字，现为 True",
        "权重“max_days_points”应为数字，现为 inf",
    ]
    assert weights({"item": {"missing": 9}})["item"] == {**weights()["item"], "missing": 9.0}


def _weights_file(folder, text: str):
    path = folder / "patrol_weights.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_deployment_weights_file_ranks_the_patrols(demo_store, tmp_path, monkeypatch):
    """The file named by SHOUHU_PATROL_WEIGHTS (or given) changes exactly the parts it names."""
    from layers.rules_file import load_weights

    usual = water_priorities(demo_store, DATE).set_index("water_id")
    path = _weights_file(tmp_path, "[water_type]\ndam = 5000\n")
    monkeypatch.setenv("SHOUHU_PATROL_WEIGHTS", str(path))
    heavy = water_priorities(demo_store, DATE).set_index("water_id")
    dams = usual.index[usual["water_type"] == "堤坝"]
    assert len(dams) and set(heavy.index[: len(dams)]) == set(dams)  # the dams come first
    change = heavy["priority"] - usual.loc[heavy.index, "priority"]
    assert np.allclose(change[dams], 5000 - weights()["water_type"]["dam"])
    assert np.allclose(change.drop(dams), 0)
    assert load_weights()["water_type"]["dam"] == 5000.0
    _weights_file(tmp_path, '[water_type]\ndam = "高"\n')
    with pytest.raises(
        WeightsError, match=r"巡查优先级权重文件 .*patrol_weights.toml：.*dam.*应为数字"
    ):
        load_weights()
    monkeypatch.delenv("SHOUHU_PATROL_WEIGHTS")
    assert load_weights() == weights()
    for text, message in (("dam = [", "格式有误"), (None, "找不到巡查优先级权重文件")):
        target = tmp_path / "nope.toml" if text is None else _weights_file(tmp_path, text)
        with pytest.raises(WeightsError, match=message):
            load_weights(target)


def test_routes_are_valid_and_near_the_exact_optimum():
    rng = np.random.default_rng(7)
    for _ in range(12):
        n = int(rng.integers(3, 9))
        stops, base = rng.uniform(0, 6000, (n, 2)), rng.uniform(0, 6000, (1, 2))
        route = plan_routes(stops, base, n)[0]
        assert sorted(route.stops) == list(range(n))  # every stop once
        best = min(route_length(list(p), stops, base[0]) for p in itertools.permutations(range(n)))
        assert route.length_m <= best * 1.05 + 1  # within 5 % (and metre rounding)
        assert route.length_m == pytest.approx(route_length(route.stops, stops, base[0]), abs=n)
    stops, bases = rng.uniform(0, 9000, (20, 2)), rng.uniform(0, 9000, (3, 2))
    routes = plan_routes(stops, bases, 7)
    visited = [s for r in routes for s in r.stops]
    assert sorted(visited) == list(range(20)) and max(len(r.stops) for r in routes) <= 7
    for r in routes:  # each starts and ends at its own base
        assert r.length_m == pytest.approx(route_length(r.stops, stops, bases[r.team - 1]),
                                           abs=len(r.stops) + 1)  # fmt: skip
    assert [r.stops for r in plan_routes(stops, bases, 7)] == [r.stops for r in routes]
    with pytest.raises(RoutingError, match="多于"):
        plan_routes(stops, bases, 6)
    with pytest.raises(RoutingError, match="至少为 1"):
        plan_routes(stops, bases[:0], 7)


def test_both_stores_give_the_same_plan(demo_store):
    plan = make_plan(demo_store, DATE, 3, 5)
    assert len(plan.plan) == 15 and plan.plan.groupby("team").size().max() <= 5
    assert list(plan.plan.columns[:11]) == ["team", "stop", "water_id", "water_name",
                                            "water_type", "village_code", "lon", "lat",
                                            "priority", "leg_m", "missing_items"]  # fmt: skip
    ranked = water_priorities(demo_store, DATE)
    assert set(plan.plan["water_id"]) == set(ranked["water_id"].head(15))


@pytest.mark.postgis
def test_plans_agree_across_stores(demo_frames, gpkg_template, pg_server, pg_template, tmp_path):
    import shutil

    from layers.store.gpkg import GeoPackageStore
    from layers.store.postgis import PostGISStore

    path = tmp_path / "d.gpkg"
    shutil.copyfile(gpkg_template, path)
    gpkg = GeoPackageStore(path)
    pg = PostGISStore(pg_server.create_database("patrol_same", template=pg_template))
    plans = []
    for store in (gpkg, pg):
        store.write_layers(demo_frames, replace=True)
        plans.append(make_plan(store, DATE, 3, 5).plan)
    pg.close()
    pd.testing.assert_frame_equal(plans[0], plans[1], check_dtype=False)


def test_bad_plan_requests_are_refused(demo_store):
    with pytest.raises(RoutingError, match="至少为 1"):
        make_plan(demo_store, DATE, 0)
    with pytest.raises(RoutingError, match="多于可巡查的水域"):
        make_plan(demo_store, DATE, 10_000)
    with pytest.raises(RoutingError, match="不在本辖区"):
        make_plan(demo_store, DATE, 2, 3, bases=[(116.4, 39.9)])


def _filled_sheet(plan, rows: dict[int, list]) -> bytes:
    """The team sheets with findings written into the given data rows (sheet row -> values)."""
    book = openpyxl.load_workbook(io.BytesIO(sheets_xlsx(plan, "测试")))
    sheet = book.worksheets[0]
    for row, values in rows.items():
        for col, value in enumerate(values, start=10):
            sheet.cell(row, col, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_inspections_keep_history_update_status_and_drive_compliance(store, demo_frames):
    store.write_layers(demo_frames, replace=True)
    plan = make_plan(store, DATE, 2, 3)
    from app.patrol_service import save_plan

    save_plan(store, plan)
    first = plan.plan.iloc[0]
    ok = ["2026-07-20 09:30", "王巡查", "完好", "缺失", "完好", "损坏", "完好", 2, "有人钓鱼"]
    data = _filled_sheet(plan, {4: ok})
    ids = set(store.read_layer("water_bodies", columns=[])["water_id"])
    records, problems = read_records(data, ids)
    assert not problems and len(records) == 1 and records[0]["water_id"] == first["water_id"]
    history = store.read_layer("inspections")
    before = int((history["water_id"] == first["water_id"]).sum())
    record_inspections(store, records)
    water = store.read_layer("water_bodies").set_index("water_id").loc[first["water_id"]]
    assert (water["buoy_status"], water["pole_status"]) == ("missing", "damaged")
    assert water["last_inspection_date"] == pd.Timestamp(DATE)
    older = dict(records[0], inspected_at=pd.Timestamp("2026-07-01 08:00"),
                 buoy_status="present", pole_status="present")  # fmt: skip
    record_inspections(store, [older])  # an older sheet entered late: history, not status
    water = store.read_layer("water_bodies").set_index("water_id").loc[first["water_id"]]
    assert water["buoy_status"] == "missing"
    history = store.read_layer("inspections")
    assert (history["water_id"] == first["water_id"]).sum() == before + 2
    result = compliance(store, DATE)
    team1 = result["per_team"].set_index("team").loc["第1组"]
    assert (team1["planned"], team1["checked"], team1["missed"]) == (3, 1, 2)
    assert first["water_id"] not in set(result["stale"]["water_id"])
    items = result["open_items"]
    mine = items[items["water_id"] == first["water_id"]]
    assert sorted(mine["item"]) == ["救生圈", "救生杆"]


def test_patrol_sheet_bad_inputs_name_the_row_and_field(demo_store):
    plan = make_plan(demo_store, DATE, 1, 3)
    ids = set(demo_store.read_layer("water_bodies", columns=[])["water_id"])
    bad = _filled_sheet(plan, {
        4: ["昨天", "王", "完好", "完好", "完好", "完好", "完好", 0, None],
        5: ["2026-07-20 10:00", "王", "还行", "完好", "完好", "完好", "完好", "两个", None],
    })  # fmt: skip
    records, problems = read_records(bad, ids)
    fields = {(p.row, p.column.split("·")[1]) for p in problems}
    assert {(4, "巡查时间"), (5, "警示牌"), (5, "发现儿童人数")} <= fields
    book = openpyxl.load_workbook(io.BytesIO(_filled_sheet(plan, {})))
    book.worksheets[0].cell(3, 11).value = "巡逻员"  # an edited header
    buffer = io.BytesIO()
    book.save(buffer)
    _records, problems = read_records(buffer.getvalue(), ids)
    assert "缺少或改动了列：巡查人" in problems[0].problem
    edited = _filled_sheet(plan, {4: ["2026-07-20 09:30", "王", *["完好"] * 5, 0, None]})
    book = openpyxl.load_workbook(io.BytesIO(edited))
    book.worksheets[0].cell(4, 2).value = "W_NOPE"
    buffer = io.BytesIO()
    book.save(buffer)
    _records, problems = read_records(buffer.getvalue(), ids)
    assert problems[0].row == 4 and "W_NOPE" in problems[0].problem


def test_cli_plan_prints_lengths_and_writes_sheets(demo_frames, fresh_demo_gpkg, tmp_path, capsys):
    from layers.store.gpkg import GeoPackageStore

    path = fresh_demo_gpkg
    out, sheets = tmp_path / "plan.csv", tmp_path / "sheets"
    args = ["patrol", "plan", "--date", "2026-07-20", "--teams", "2", "--stops-per-team", "4",
            "--out", str(out), "--sheets", str(sheets), "--store", str(path)]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    plan = pd.read_csv(out, dtype={"water_id": str})
    for team in (1, 2):
        legs = plan.loc[plan["team"] == team, "leg_m"].sum()
        assert f"第{team}组：4 站" in printed
        assert legs > 0
    assert GeoPackageStore(path).count("patrols") == 8
    html = (sheets / "巡查单_20260720_第1组.html").read_text("utf-8")
    assert "<svg" in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "内部资料" in html
    filled = sheets / "巡查单_20260720.xlsx"
    book = openpyxl.load_workbook(filled)
    for col, value in enumerate(["2026-07-20 09:30", "王", *["完好"] * 5, 0, None], start=10):
        book.worksheets[0].cell(4, col, value)
    book.save(filled)
    assert main(["patrol", "record", str(filled), "--store", str(path)]) == 0
    assert "已登记 1 条" in capsys.readouterr().out
    assert main(["patrol", "plan", "--date", "2026-07-20", "--teams", "0", "--out", str(out),
                 "--store", str(path)]) == 2  # fmt: skip
    assert "至少为 1" in capsys.readouterr().err
    junk = tmp_path / "巡查单_坏.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a workbook")
    assert main(["patrol", "record", str(junk), "--store", str(path)]) == 1
    assert "无法打开这个 Excel 文件" in capsys.readouterr().err
    assert GeoPackageStore(path).count("inspections") == len(demo_frames["inspections"]) + 1


def test_cli_ranks_and_plans_with_a_weights_file(fresh_demo_gpkg, tmp_path, capsys):
    path = fresh_demo_gpkg
    weights_file = _weights_file(tmp_path, "[water_type]\ndam = 5000\n")
    out = tmp_path / "priority.csv"
    common = ["--store", str(path), "--weights", str(weights_file)]
    assert main(["patrol", "priority", "--as-of", "2026-07-20", "--out", str(out), *common]) == 0
    ranked = pd.read_csv(out, dtype={"water_id": str})
    dams = int((ranked["water_type"] == "堤坝").sum())
    assert dams and (ranked["water_type"].head(dams) == "堤坝").all()
    plan_out = tmp_path / "plan.csv"
    assert main(["patrol", "plan", "--date", "2026-07-20", "--teams", "1", "--stops-per-team",
                 str(min(dams, 3)), "--out", str(plan_out), "--no-save", *common]) == 0  # fmt: skip
    assert set(pd.read_csv(plan_out)["water_type"]) == {"堤坝"}
    capsys.readouterr()
    bad = _weights_file(tmp_path, 'per_day_uninspected = -2\n[item]\nmissing = "多"\n')
    out.unlink()
    assert main(["patrol", "priority", "--out", str(out), "--store", str(path),
                 "--weights", str(bad)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert f"巡查优先级权重文件 {bad}" in err
    assert "per_day_uninspected”不能为负数" in err and "item.missing”应为数字" in err
    assert not out.exists()  # nothing written


def test_printable_sheet_numbers_every_stop(demo_store):
    plan = make_plan(demo_store, DATE, 1, 4)
    villages = demo_store.read_layer("villages")
    html = sheet_html(plan, 1, villages, demo_store.analysis_crs().epsg, "测试")
    assert html.count("<circle") == 4 and "出发点" in html
    for name in plan.plan["water_name"]:
        assert name in html


def test_patrol_page_plans_records_and_shows_compliance(monkeypatch, fresh_demo_gpkg, demo_frames):
    from layers.access import Scope
    from layers.store.gpkg import GeoPackageStore
    from tests.conftest import app_as

    path = fresh_demo_gpkg
    county = demo_frames["villages"]["county_code"].iloc[0]
    at = app_as(monkeypatch, path, Scope("admin", "county_admin", (county,)))
    at.switch_page("views/patrol_page.py").run()
    assert not at.exception, at.exception
    assert [e.label for e in at.expander][0] == "优先级如何计算"
    assert "水域类型：河流 6 分" in at.expander[0].markdown[0].value
    at.date_input(key="patrol_date").set_value(DATE).run()
    at.number_input(key="plan_teams").set_value(2)
    at.number_input(key="plan_stops").set_value(3)
    at.button(key="plan_make").click().run()
    assert not at.exception, at.exception
    plan = at.session_state["patrol_plan"]
    assert len(plan.plan) == 6 and [m.label for m in at.metric][:2] == ["第1组路线", "第2组路线"]
    at.button(key="plan_save").click().run()
    assert GeoPackageStore(path).count("patrols") == 6
    first = plan.plan.iloc[0]["water_id"]
    at.selectbox(key="insp_water").set_value(first)
    at.selectbox(key="insp_buoy").set_value("missing")
    at.button(key="insp_save").click().run()
    assert not at.exception, at.exception
    water = GeoPackageStore(path).read_layer("water_bodies").set_index("water_id").loc[first]
    assert water["buoy_status"] == "missing"
    at.text_input(key="plan_base").set_value("116.4,39.9")
    at.button(key="plan_make").click().run()
    assert any("不在本辖区" in e.value for e in at.error)


def test_patrol_page_ranks_once_until_the_data_changes(monkeypatch, fresh_demo_gpkg, demo_frames):
    """The plan's and the check's number boxes rerun the page on the held ranking (it grades
    every household); after an inspection is saved, a write to the water bodies, the next run
    ranks again and shows the new ranking."""
    import app.patrol_service as service
    from layers.access import Scope
    from tests.conftest import app_as

    calls = []
    real = service.water_priorities
    monkeypatch.setattr(
        service, "water_priorities", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    county = demo_frames["villages"]["county_code"].iloc[0]
    at = app_as(monkeypatch, fresh_demo_gpkg, Scope("admin", "county_admin", (county,)))
    at.switch_page("views/patrol_page.py").run()
    assert not at.exception, at.exception
    assert len(calls) == 1
    at.number_input(key="plan_teams").set_value(2).run()
    at.number_input(key="chk_days").set_value(3).run()
    assert not at.exception and len(calls) == 1
    first = at.dataframe[0].value["水域编号"].iloc[0]
    at.selectbox(key="insp_water").set_value(first)
    at.selectbox(key="insp_buoy").set_value("missing")
    at.button(key="insp_save").click().run()  # ranked before the form below saves
    assert not at.exception, at.exception
    at.run()  # the next rerun finds the water bodies changed
    assert len(calls) == 2
    row = at.dataframe[0].value.set_index("水域编号").loc[first]
    assert "救生圈" in row["缺失设备"] and row["未巡查天数"] == 0


def test_patrol_page_ranks_with_the_deployment_weights(monkeypatch, fresh_demo_gpkg, demo_frames,
                                                       tmp_path):  # fmt: skip
    from layers.access import Scope
    from tests.conftest import app_as

    weights_file = _weights_file(tmp_path, "per_day_uninspected = 1.5\n[water_type]\ndam = 5000\n")
    monkeypatch.setenv("SHOUHU_PATROL_WEIGHTS", str(weights_file))
    county = demo_frames["villages"]["county_code"].iloc[0]
    at = app_as(monkeypatch, fresh_demo_gpkg, Scope("admin", "county_admin", (county,)))
    at.switch_page("views/patrol_page.py").run()
    assert not at.exception, at.exception
    explained = at.expander[0].markdown[0].value
    assert "堤坝 5000 分" in explained and "每天 1.5 分" in explained
    shown = at.dataframe[0].value
    dams = int((shown["类型"] == "堤坝").sum())
    assert dams and (shown["类型"].head(dams) == "堤坝").all()
    _weights_file(tmp_path, "[water_type]\ndam = -1\n")
    at.run()
    assert not at.exception, at.exception
    assert "巡查优先级权重文件" in at.error[0].value and "不能为负数" in at.error[0].value
    assert not at.dataframe  # no ranking by weights the deployment did not mean
