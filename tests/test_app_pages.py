"""Every page runs on the demo store (AppTest), and the map HTML is offline and free of PII."""

import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.mapping import build_map, external_urls, map_html
from app.services import map_data
from geo.risk import RiskRules
from layers.access import Scope
from layers.store.gpkg import GeoPackageStore
from tests.conftest import app_as

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


@pytest.fixture(scope="module")
def demo_gpkg(tmp_path_factory, demo_frames):
    path = tmp_path_factory.mktemp("app") / "demo.gpkg"
    store = GeoPackageStore(path)
    store.upgrade()
    store.write_layers(demo_frames, replace=True)
    return path


@pytest.fixture
def app(monkeypatch, demo_gpkg, demo_frames):
    """The app as a county administrator of the demo county."""
    county = demo_frames["villages"]["county_code"].iloc[0]
    return app_as(monkeypatch, demo_gpkg, Scope("admin", "county_admin", (county,)))


def test_nothing_but_the_login_page_without_logging_in(monkeypatch, demo_gpkg, demo_frames):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOUHU_STORE", str(demo_gpkg))
    accounts = GeoPackageStore(demo_gpkg).accounts()
    if "t_director" not in set(accounts.users()["username"]):
        village = sorted(demo_frames["villages"]["village_code"])[0]
        accounts.add_user("t_director", "village_director", [village], "director-pass-9")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception and not at.metric  # no data before login
    assert at.title[0].value == "守护 · 登录"
    at.text_input(key="login_user").set_value("t_director")
    at.text_input(key="login_password").set_value("not-the-password-1")
    at.button[0].click().run()
    assert "用户名或口令错误" in at.error[0].value and not at.metric
    at.text_input(key="login_password").set_value("director-pass-9")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.session_state["scope"].username == "t_director"
    metrics = {m.label: m.value for m in at.metric}
    village = sorted(demo_frames["villages"]["village_code"])[0]
    children = demo_frames["children"]
    assert metrics["儿童"] == str((children["village_code"] == village).sum())


def test_idle_sessions_are_logged_out(monkeypatch, demo_gpkg, demo_frames):
    county = demo_frames["villages"]["county_code"].iloc[0]
    at = app_as(monkeypatch, demo_gpkg, Scope("admin", "county_admin", (county,)))
    at.session_state["last_active"] = time.monotonic() - 31 * 60
    at.run()
    assert at.title[0].value == "守护 · 登录" and "自动退出" in at.info[0].value


def test_a_director_sees_only_their_village_on_every_page(monkeypatch, demo_gpkg, demo_frames):
    village = sorted(demo_frames["villages"]["village_code"])[1]
    at = app_as(monkeypatch, demo_gpkg, Scope("d", "village_director", (village,)))
    in_village = demo_frames["households"]["village_code"] == village
    at.switch_page("views/map_page.py").run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["儿童家庭"] == str(in_village.sum())
    assert list(at.selectbox(key="map_village").options)[1:] == [
        demo_frames["villages"].set_index("village_code").loc[village, "name"]
    ]
    at.switch_page("views/risk_page.py").run()
    assert not at.exception, at.exception
    total = sum(int(m.value) for m in at.metric if m.label.endswith("（户）"))
    assert total == in_village.sum()


def test_a_viewer_gets_aggregates_and_no_child_records(monkeypatch, demo_gpkg, demo_frames):
    county = demo_frames["villages"]["county_code"].iloc[0]
    at = app_as(monkeypatch, demo_gpkg, Scope("v", "viewer", (county,)))
    children, households = demo_frames["children"], demo_frames["households"]
    assert {m.label: m.value for m in at.metric}["儿童"] == str(len(children))  # a count
    at.switch_page("views/risk_page.py").run()
    assert not at.exception and "汇总" in at.info[0].value
    per_village = at.dataframe[0].value
    assert per_village["合计"].sum() == len(households)  # tier counts, every household graded
    assert len(at.dataframe) == 1  # no household list
    at.switch_page("views/map_page.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["儿童家庭（汇总）"] == str(len(households))
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/children_page.py")  # the register is not offered at all


def test_child_register_is_masked_until_revealed_and_both_are_logged(
    monkeypatch, demo_gpkg, demo_frames
):
    village = sorted(demo_frames["villages"]["village_code"])[2]
    at = app_as(monkeypatch, demo_gpkg, Scope("d_reg", "village_director", (village,)))
    at.switch_page("views/children_page.py").run()
    assert not at.exception, at.exception
    mine = demo_frames["children"][demo_frames["children"]["village_code"] == village]
    table = at.dataframe[0].value
    assert len(table) == len(mine)
    shown = set(table["身份证号"]) | set(table["姓名"]) | set(table["监护人电话"])
    assert not shown & (set(mine["id_number"]) | set(mine["name"]) | set(mine["guardian_phone"]))
    assert all("*" in v for v in table["身份证号"].dropna())
    accounts = GeoPackageStore(demo_gpkg).accounts()
    views = accounts.audit_rows(username="d_reg", action="view")
    assert list(views["rows"]) == [len(mine)]
    at.run()  # a rerun is not a second view
    assert len(accounts.audit_rows(username="d_reg", action="view")) == 1
    at.button(key="children_reveal").click().run()
    assert not at.exception, at.exception
    full = at.dataframe[0].value
    assert set(full["身份证号"]) == set(mine["id_number"].dropna())
    assert list(accounts.audit_rows(username="d_reg", action="reveal")["rows"]) == [len(mine)]
    assert "没有导出个人信息的权限" in " ".join(c.value for c in at.caption)
    at.button(key="children_hide").click().run()
    assert not set(at.dataframe[0].value["身份证号"]) & set(mine["id_number"])


def test_home_page_shows_counts_and_demo_notice(app, demo_frames):
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["村（社区）"] == str(len(demo_frames["villages"]))
    assert metrics["儿童"] == str(len(demo_frames["children"]))
    assert any("示范数据" in i.value for i in app.info)
    assert not app.error
    layers = app.dataframe[0].value.set_index("表名")
    shapes = layers["几何类型"]
    assert shapes["households"] == "点" and shapes["villages"] == "面"
    assert shapes["water_bodies"] == "线或面" and shapes["children"] == "无（记录表）"
    assert not shapes.str.contains("[A-Za-z]").any()


def test_every_table_has_chinese_headers_and_blank_missing_values(app, demo_frames):
    """Streamlit writes a missing value (a plan date not set, a water body never inspected) as
    the English "None" unless told otherwise: every table on every page is told; no header is
    a code; the patrol tables name villages, not their 12-digit codes."""
    views = Path(APP).parent / "views"
    pages = ["home.py"] + sorted(p.name for p in views.glob("*_page.py"))
    tables = missing = 0
    for page in pages:
        app.switch_page(f"views/{page}").run()
        assert not app.exception, (page, app.exception)
        for table in app.dataframe:
            tables += 1
            assert table.proto.HasField("placeholder") and table.proto.placeholder == "", page
            headers = [str(c) for c in table.value.columns]
            assert not [h for h in headers if re.search("[A-Za-z]{2,}", h)], (page, headers)
            missing += int(table.value.isna().to_numpy().sum())
    assert tables >= 12 and missing > 0  # the case is there to be shown
    app.switch_page("views/patrol_page.py").run()
    villages = set(demo_frames["villages"]["name"])
    named = [t.value["村（社区）"] for t in app.dataframe if "村（社区）" in t.value]
    assert len(named) == 3 and all(len(v) and set(v) <= villages for v in named)
    ranked = app.dataframe[0].value
    never = ranked["未巡查天数"].isna()
    assert never.any() and ranked.loc[never, "原因"].str.contains("从未巡查").all()


def test_map_page_runs_and_counts_match(app, demo_frames):
    app.switch_page("views/map_page.py").run()
    assert not app.exception, app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["水域"] == str(len(demo_frames["water_bodies"]))
    assert metrics["儿童"] == str(len(demo_frames["children"]))
    village = sorted(demo_frames["villages"]["village_code"])[0]
    app.selectbox(key="map_village").set_value(village).run()
    assert not app.exception
    in_village = (demo_frames["households"]["village_code"] == village).sum()
    assert {m.label: m.value for m in app.metric}["儿童家庭"] == str(in_village)


def test_layers_page_lists_columns_with_personal_flags(app):
    app.switch_page("views/layers_page.py").run()
    assert not app.exception
    app.selectbox(key="layer_pick").set_value("children").run()
    table = app.dataframe[0].value
    assert table.loc[table["列名"] == "id_number", "个人信息"].item() == "是"
    # Kinds and geometry in Chinese, every one of them: staff read this page, not the code.
    from layers.catalogue import LAYERS

    for name, layer in LAYERS.items():
        app.selectbox(key="layer_pick").set_value(name).run()
        kinds = app.dataframe[0].value["类型"]
        assert len(kinds) == len(layer.columns) and not kinds.str.contains("[A-Za-z]").any()
        shape = {m.label: m.value for m in app.metric}["几何类型"]
        assert shape in ("点", "面", "线或面", "无（记录表）"), shape
    app.selectbox(key="layer_pick").set_value("water_bodies").run()
    assert {m.label: m.value for m in app.metric}["几何类型"] == "线或面"


def test_audit_page_shows_the_log_in_chinese(app, demo_gpkg):
    accounts = GeoPackageStore(demo_gpkg).accounts()
    accounts.audit("t_audit", "export", layer="children", rows=3, detail={"format": "xlsx"})
    accounts.audit("t_audit", "login")
    app.switch_page("views/audit_page.py").run()
    assert not app.exception, app.exception
    assert "北京时间" in app.caption[0].value
    app.text_input(key="audit_user").set_value("t_audit").run()
    table = app.dataframe[0].value
    assert list(table["操作"]) == ["登录", "导出"]
    assert list(table["图层"]) == ["", "儿童"] and table["详情"].iloc[1] == "格式：xlsx"
    app.selectbox(key="audit_action").set_value("login").run()
    assert list(app.dataframe[0].value["操作"]) == ["登录"]


def test_map_html_is_offline_and_holds_no_personal_data(demo_gpkg, demo_frames):
    store = GeoPackageStore(demo_gpkg)
    html = map_html(build_map(map_data(store)))
    assert external_urls(html) == []
    assert "/app/static/vendor/leaflet/leaflet.js" in html
    assert "markercluster" in html and "shouhu-legend" in html
    children = demo_frames["children"]
    for column in ("id_number", "guardian_phone", "name"):
        leaked = [v for v in children[column].head(200) if len(v) >= 3 and v in html]
        assert leaked == [], column
    for address in demo_frames["households"]["address"].head(200):
        assert address not in html


def test_tianditu_only_when_a_key_is_configured(demo_gpkg):
    store = GeoPackageStore(demo_gpkg)
    data = map_data(store)
    assert "tianditu" not in map_html(build_map(data))
    with_key = map_html(build_map(data, tianditu_key="TESTKEY"))
    assert "tianditu.gov.cn" in with_key and "tk=TESTKEY" in with_key


def _rules_shown(app) -> list[str]:
    """The lines under the risk page's “分数怎么算” expander."""
    box = next(e for e in app.expander if e.label.startswith("分数怎么算"))
    return [line.removeprefix("- ") for line in box.markdown[0].value.splitlines()]


def test_risk_page_counts_filters_and_downloads(app, demo_gpkg):
    import datetime as dt

    from app.risk_service import compute_risk

    app.switch_page("views/risk_page.py").run()
    assert not app.exception, app.exception
    assert _rules_shown(app) == RiskRules.from_dict().explain()  # the rules in use, in Chinese
    expected = compute_risk(GeoPackageStore(demo_gpkg), dt.date.today()).households
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["一级（户）"] == str((expected["tier"] == "一级").sum())
    table = app.dataframe[0].value
    assert len(table) == expected["tier"].isin(["一级", "二级", "三级"]).sum()
    assert {"户编号", "风险等级", "原因"} <= set(table.columns)
    assert table["分数"].is_monotonic_decreasing
    app.multiselect(key="risk_tiers").set_value(["一级"]).run()
    assert set(app.dataframe[0].value["风险等级"]) == {"一级"}
    per_village = app.dataframe[1].value
    assert per_village["合计"].sum() == len(expected)
    # Filtering to one village narrows everything to it.
    village = sorted(expected["village_code"])[0]
    app.selectbox(key="risk_village").set_value(village).run()
    assert not app.exception
    assert len(app.dataframe[1].value) == 1


def test_a_county_admin_grades_every_township_at_once(monkeypatch, tmp_path):
    """With two townships the risk page also offers 全部乡镇 (not by default): the county's
    counts, per township and per village, no household map, and the list cut to its highest
    scores with a note that the download has them all. Someone who sees one township is not
    offered it."""
    import datetime as dt

    from app import risk_service
    from layers import demo

    monkeypatch.setitem(demo.SCALES, "pair", demo.Scale(1, 2, 3, 150, 20))
    frames = demo.generate(seed=3, scale="pair")
    path = tmp_path / "pair.gpkg"
    store = GeoPackageStore(path)
    store.upgrade()
    store.write_layers(frames, replace=True)
    expected = risk_service.compute_risk(store, dt.date.today()).households
    graded = expected[expected["tier"] != "无"]
    townships = sorted(frames["townships"]["township_code"])
    cut = int((graded["township_code"] == townships[0]).sum()) + 5  # over one township's list
    assert len(graded) > cut
    monkeypatch.setattr(risk_service, "LIST_SHOWN_ROWS", cut)
    county = frames["villages"]["county_code"].iloc[0]
    at = app_as(monkeypatch, path, Scope("admin", "county_admin", (county,)))
    at.switch_page("views/risk_page.py").run()
    box = at.selectbox(key="risk_township")
    assert box.value == townships[0] and box.options[0] == "全部乡镇（2 个）"
    assert len(at.dataframe[0].value) == cut - 5  # one township's list, whole
    box.set_value("").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    for tier in ("一级", "二级", "三级"):
        assert metrics[f"{tier}（户）"] == str((expected["tier"] == tier).sum())
    listed, per_township, per_village = (df.value for df in at.dataframe)
    assert len(listed) == cut
    assert listed["分数"].tolist() == sorted(graded["score"], reverse=True)[:cut]
    assert any(f"共 {len(graded)} 户" in c.value for c in at.caption)
    assert any("不逐户画图" in i.value for i in at.info)
    by_township = expected.groupby("township_code").size()
    assert per_township["合计"].tolist() == by_township.sort_index().tolist()
    assert len(per_village) == len(frames["villages"])
    assert per_village["合计"].sum() == len(expected)
    # A village of the other township is picked from the whole list, named with its township.
    village = sorted(frames["villages"]["village_code"])[-1]
    at.selectbox(key="risk_village").set_value(village).run()
    assert not at.exception and len(at.dataframe[2].value) == 1
    assert at.dataframe[2].value.index[0].endswith(f"（{village}）")
    staff = app_as(monkeypatch, path, Scope("s", "township_staff", (townships[1],)))
    staff.switch_page("views/risk_page.py").run()
    assert staff.selectbox(key="risk_township").options == [
        frames["townships"].set_index("township_code").loc[townships[1], "name"]
    ]


def test_risk_page_grades_once_until_the_data_changes(monkeypatch, fresh_demo_gpkg, demo_frames):
    """Filters rerun the page on the held result; a write by the app or by another editor, or
    the "重新计算" button, grades again, and the page shows the new result."""
    import datetime as dt

    import pyogrio

    import app.risk_service as service

    calls = []
    real = service.compute_risk
    monkeypatch.setattr(service, "compute_risk", lambda *a, **k: calls.append(1) or real(*a, **k))
    county = demo_frames["villages"]["county_code"].iloc[0]
    at = app_as(monkeypatch, fresh_demo_gpkg, Scope("admin", "county_admin", (county,)))
    at.switch_page("views/risk_page.py").run()
    assert not at.exception and len(calls) == 1
    assert "结果计算于" in at.caption[0].value
    at.multiselect(key="risk_tiers").set_value(["一级"]).run()
    assert len(calls) == 1 and set(at.dataframe[0].value["风险等级"]) == {"一级"}

    def high() -> int:
        return int({m.label: m.value for m in at.metric}["一级（户）"])

    before = high()
    store = GeoPackageStore(fresh_demo_gpkg)  # the water layer emptied: no one near water
    store.write_layer("water_bodies", demo_frames["water_bodies"].iloc[:0], replace=True)
    at.run()
    expected = real(store, dt.date.today()).households
    assert len(calls) == 2 and high() == (expected["tier"] == "一级").sum() < before
    assert any("水域图层为空" in w.value for w in at.warning)
    # Another GDAL-based editor (QGIS) adds the water bodies back to the file.
    pyogrio.write_dataframe(
        demo_frames["water_bodies"].rename_geometry("geom"),
        fresh_demo_gpkg, layer="water_bodies", append=True,
    )  # fmt: skip
    at.run()
    assert len(calls) == 3 and high() == before
    at.button(key="risk_recompute").click().run()
    assert len(calls) == 4 and high() == before


def test_risk_map_is_offline_and_offers_tianditu_only_with_a_key(demo_gpkg):
    import datetime as dt

    from app.mapping import build_risk_map
    from app.risk_service import compute_risk

    store = GeoPackageStore(demo_gpkg)
    result = compute_risk(store, dt.date(2026, 8, 1))
    villages = store.read_layer("villages")
    plain = map_html(build_risk_map(villages, result.households))
    assert external_urls(plain) == [] and "tianditu" not in plain
    assert "marker-cluster-tier-" in plain and "shouhu-legend" in plain
    assert "tk=TESTKEY" in map_html(build_risk_map(villages, result.households, "TESTKEY"))


def test_transfer_page_exports_and_refuses_imports_to_viewers(monkeypatch, demo_gpkg, demo_frames):
    county = demo_frames["villages"]["county_code"].iloc[0]
    at = app_as(monkeypatch, demo_gpkg, Scope("admin", "county_admin", (county,)))
    at.switch_page("views/transfer_page.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="export_what").set_value("water_bodies.kml").run()
    at.button(key="export_make").click().run()
    assert not at.exception, at.exception
    what, fmt, filename, rows, data = at.session_state["export_file"]
    township = sorted(demo_frames["villages"]["township_code"])[0]
    in_township = demo_frames["water_bodies"]["township_code"] == township
    assert fmt == "kml" and rows == int(in_township.sum()) and b"<kml" in data
    viewer = app_as(monkeypatch, demo_gpkg, Scope("v", "viewer", (county,)))
    viewer.switch_page("views/transfer_page.py").run()
    assert not viewer.exception
    assert any("不能导入" in i.value for i in viewer.info)
    assert not [o for o in viewer.selectbox(key="export_what").options if "台账" in o]
    assert [o for o in at.selectbox(key="export_what").options if "台账" in o]
