"""Every page runs on the demo store (AppTest), and the map HTML is offline and free of PII."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.mapping import build_map, external_urls, map_html
from app.services import map_data
from layers.store.gpkg import GeoPackageStore

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


@pytest.fixture(scope="module")
def demo_gpkg(tmp_path_factory, demo_frames):
    path = tmp_path_factory.mktemp("app") / "demo.gpkg"
    store = GeoPackageStore(path)
    store.upgrade()
    store.write_layers(demo_frames, replace=True)
    return path


@pytest.fixture
def app(monkeypatch, demo_gpkg):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOUHU_STORE", str(demo_gpkg))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_home_page_shows_counts_and_demo_notice(app, demo_frames):
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["村（社区）"] == str(len(demo_frames["villages"]))
    assert metrics["儿童"] == str(len(demo_frames["children"]))
    assert any("示范数据" in i.value for i in app.info)
    assert not app.error


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


def test_risk_page_counts_filters_and_downloads(app, demo_gpkg):
    import datetime as dt

    from app.risk_service import compute_risk

    app.switch_page("views/risk_page.py").run()
    assert not app.exception, app.exception
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
