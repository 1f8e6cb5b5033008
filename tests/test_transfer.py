"""`shouhu import` and `shouhu export` end to end: exit codes, reports, dry runs, and exports that
read back (pyogrio, openpyxl) equal to what is stored, on both stores."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from app.cli import main
from layers import ledger
from layers.child_import import plan_import
from layers.tabular import read_table
from tests.test_child_import import AS_OF, _rows, _xlsx

PASSWORD = "correct-horse-42"


def _spec(store) -> str:
    return str(store.path) if store.kind == "gpkg" else store.url


@pytest.fixture
def filled(store, demo_frames):
    store.write_layers(demo_frames, replace=True)
    return store


def test_cli_import_children_dry_run_report_and_repeat(store, demo_frames, tmp_path, capsys,
                                                       monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    store.write_layers(
        {"townships": demo_frames["townships"], "villages": demo_frames["villages"]}, replace=True
    )
    villages = demo_frames["villages"].sort_values("village_code").reset_index(drop=True)
    rows = _rows(villages)
    good = tmp_path / "台账.xlsx"
    good.write_bytes(_xlsx(rows))
    args = ["import", "children", str(good), "--crs", "wgs84", "--store", _spec(store)]
    assert main([*args, "--dry-run"]) == 0
    assert "新增 4" in capsys.readouterr().out and store.count("children") == 0
    assert main(args) == 0
    assert "已导入儿童：新增 4，更新 0，不变 0" in capsys.readouterr().out
    assert main(args) == 0
    assert "新增 0，更新 0，不变 4" in capsys.readouterr().out
    assert store.count("children") == 4

    rows[1][3] = "5.00115E+17"
    bad = tmp_path / "有错.csv"
    bad.write_bytes(pd.DataFrame(rows, columns=[
        "序号", "姓名", "性别", "身份证号", "出生日期", "所属村（社区）", "现住址", "儿童类别",
        "监护人", "监护人电话", "经度", "纬度"]).to_csv(index=False).encode("gbk"))  # fmt: skip
    assert main(["import", "children", str(bad), "--crs", "wgs84", "--store", _spec(store)]) == 1
    err = capsys.readouterr().err
    assert "科学计数法" in err and "什么也没有写入" in err
    report = pd.read_csv(tmp_path / "有错_导入问题.csv", dtype=str)
    assert list(report.columns) == ["行号", "列", "问题", "处理办法", "级别"]
    assert report.iloc[0]["行号"] == "3" and report.iloc[0]["列"] == "身份证号"
    assert store.count("children") == 4
    with pytest.raises(SystemExit) as exit_:  # refused by the parser, before the store opens
        main(["import", "children", str(tmp_path / "nope.xlsx"), "--store", _spec(store)])
    assert exit_.value.code == 2 and "找不到文件" in capsys.readouterr().err


def test_cli_import_layer_with_a_type_for_the_whole_file(store, demo_frames, tmp_path, capsys,
                                                        monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)  # the rejected import writes its report into the current folder
    store.write_layers(
        {"townships": demo_frames["townships"], "villages": demo_frames["villages"]}, replace=True
    )
    ponds = demo_frames["water_bodies"].query("water_type == 'pond'").head(5)
    path = tmp_path / "塘.geojson"
    ponds[["name", "geometry"]].to_file(path, driver="GeoJSON")
    args = ["import", "layer", "water_bodies", str(path), "--store", _spec(store)]
    assert main(args) == 1  # no type column: refused, with the fix in the message
    assert "类型" in capsys.readouterr().err and store.count("water_bodies") == 0
    report = pd.read_csv(tmp_path / "塘_导入问题.csv", dtype=str)
    assert len(report) == 5 and set(report["列"]) == {"类型"}
    assert main([*args, "--set", "water_type=pond"]) == 0
    assert "新增 5" in capsys.readouterr().out and store.count("water_bodies") == 5
    assert main([*args, "--set", "water_type=pond"]) == 0
    assert "不变 5" in capsys.readouterr().out


def test_export_of_an_unknown_or_tableless_layer_is_refused_in_chinese(filled, tmp_path, capsys):
    out = tmp_path / "x.geojson"
    for what, message in (("ponds", "没有名为“ponds”的图层"), ("children", "没有几何")):
        assert main(["export", "geojson", what, "--out", str(out), "--store", _spec(filled)]) == 2
        assert message in capsys.readouterr().err
    assert not out.exists()


def test_ledger_export_reads_back_as_text_and_reimports_unchanged(filled, demo_frames, tmp_path):
    out = tmp_path / "附件1.xlsx"
    assert (
        main(["export", "ledger", "left_behind", "--out", str(out), "--store", _spec(filled)]) == 0
    )
    book = openpyxl.load_workbook(out)
    sheet = book.active
    assert sheet.oddHeader.center.text == "内部资料 · 注意保密"
    table = read_table(out.read_bytes(), out.name, ledger.KNOWN_HEADERS)
    id_col = table.columns.index("身份证号")
    ids = [r[id_col] for r in table.rows]
    children = demo_frames["children"]
    left = children[children["categories"].fillna("").str.contains("left_behind")]
    assert sorted(ids) == sorted(left["id_number"])  # as text: no digit lost
    assert all(sheet.cell(4 + i, id_col + 1).data_type == "s" for i in range(len(ids)))
    plan = plan_import(filled, table, as_of=AS_OF, source_crs="wgs84")
    assert plan.ok, plan.problem_table().head()
    assert plan.counts() == {"新增": 0, "更新": 0, "不变": len(left)}


def test_geopackage_export_reads_back_equal(filled, demo_frames, tmp_path):
    out = tmp_path / "全部.gpkg"
    assert main(["export", "gpkg", "--out", str(out), "--store", _spec(filled)]) == 0
    layers = set(pyogrio.list_layers(out)[:, 0])
    assert {"villages", "water_bodies", "households", "children"} <= layers
    for name in ("villages", "water_bodies", "facilities", "children"):
        back = pyogrio.read_dataframe(out, layer=name)
        stored = filled.read_layer(name)
        key = {"villages": "village_code", "water_bodies": "water_id", "facilities": "facility_id",
               "children": "child_id"}[name]  # fmt: skip
        back, stored = back.sort_values(key), stored.sort_values(key)
        assert list(back[key]) == list(stored[key])
        if "geometry" in stored:
            assert all(a.equals_exact(b, 1e-9) for a, b in
                       zip(back.geometry, stored.geometry, strict=True))  # fmt: skip
        if name == "children":
            assert list(back["id_number"]) == list(stored["id_number"])


def test_kml_and_geojson_exports_and_masking_by_permission(filled, demo_frames, tmp_path,
                                                           monkeypatch):  # fmt: skip
    spec = _spec(filled)
    out = tmp_path / "水域.kml"
    assert main(["export", "kml", "water_bodies", "--out", str(out), "--store", spec]) == 0
    back = pyogrio.read_dataframe(out).rename(columns=str.lower)  # LIBKML: name, description
    assert pyogrio.list_layers(out)[0][0] == "水域（河塘库坝）"  # the folder: the layer's name
    stored = filled.read_layer("water_bodies")
    assert sorted(back["name"]) == sorted(stored["name"])
    assert back["description"].str.contains("类型：").all()
    gj = tmp_path / "场所.geojson"
    assert main(["export", "geojson", "facilities", "--out", str(gj), "--store", spec]) == 0
    back = pyogrio.read_dataframe(gj).sort_values("facility_id")
    facilities = filled.read_layer("facilities").sort_values("facility_id")
    assert all(shapely.equals_exact(back.geometry.values, facilities.geometry.values, 1e-9))

    village = sorted(demo_frames["villages"]["village_code"])[0]
    filled.accounts().add_user("d_exp", "village_director", [village], PASSWORD)
    monkeypatch.setenv("SHOUHU_PASSWORD", PASSWORD)
    homes = tmp_path / "家庭.kml"
    args = ["export", "kml", "households", "--out", str(homes), "--store", spec, "--user", "d_exp"]
    assert main(args) == 0
    text = homes.read_text(encoding="utf-8")
    mine = demo_frames["households"].query("village_code == @village")
    assert len(pyogrio.read_dataframe(homes)) == len(mine)  # only the director's village
    assert not [a for a in mine["address"] if a in text]  # addresses masked: no export right
    ledger_out = tmp_path / "附件1.xlsx"
    args = ["export", "ledger", "left_behind", "--out", str(ledger_out), "--store", spec,
            "--user", "d_exp"]  # fmt: skip
    assert main(args) == 0
    cells = [c for row in openpyxl.load_workbook(ledger_out).active.iter_rows(values_only=True)
             for c in row if c]  # fmt: skip
    ids = set(demo_frames["children"].query("village_code == @village")["id_number"])
    assert ids and not ids & set(map(str, cells)) and any("********" in str(c) for c in cells)
    audit = filled.accounts().audit_rows(username="d_exp", action="export")
    assert len(audit) == 2


def test_a_file_must_be_what_its_name_says(filled, demo_frames, tmp_path, capsys):
    """Each command that writes a fixed format refuses another extension before any work
    (a .csv holding an Excel workbook, or KML in a .txt, would not open as named), leaves no
    file behind and does not touch an older file of that name."""
    spec = ["--store", _spec(filled)]
    township = demo_frames["townships"]["township_code"].iloc[0]
    cases = [
        (["export", "kml", "water_bodies", *spec], "水域.txt", ".kml"),
        (["export", "geojson", "water_bodies", *spec], "水域.kml", ".geojson、.json"),
        (["export", "gpkg", *spec], "全部.csv", ".gpkg"),
        (["export", "ledger", "left_behind", *spec], "附件1.csv", ".xlsx"),
        (["coverage-report", "--township", township, *spec], "报送.csv", ".xlsx"),
        (["sweep-campaign", "results", "2026汛期", *spec], "排查.txt", ".xlsx"),
        (["sessions", "template"], "模板.csv", ".xlsx"),
        (["risk", *spec], "风险.docx", ".csv、.xlsx"),
    ]
    folder = tmp_path / "out"
    folder.mkdir()
    older = folder / "水域.txt"
    older.write_text("an older file", encoding="utf-8")
    for args, name, allowed in cases:
        assert main([*args, "--out", str(folder / name)]) == 2, args
        err = capsys.readouterr().err
        assert "不支持的输出格式" in err and allowed in err, err
    assert [p.name for p in folder.iterdir()] == ["水域.txt"]
    assert older.read_text(encoding="utf-8") == "an older file"


def test_exports_refuse_a_missing_folder(filled, tmp_path, capsys):
    out = tmp_path / "no" / "x.gpkg"
    assert main(["export", "gpkg", "--out", str(out), "--store", _spec(filled)]) == 2
    assert "不存在" in capsys.readouterr().err
    assert io is not None
