"""`shouhu risk`: the output contract, formats, no personal data, no partial files."""

import datetime as dt
import os

import geopandas as gpd
import pandas as pd
import pytest

from app.cli import main
from app.risk_service import compute_risk
from geo.crs import analysis_crs
from geo.grading import grade
from geo.proximity import proximity
from layers import export

HOUSEHOLD_CONTRACT = [
    "household_id",
    "village_code",
    "children",
    "tier",
    "score",
    "nearest_water_id",
    "nearest_water_type",
    "nearest_water_m",
    "waters_within",
    "nearest_water_equipment_complete",
    "slope_m",
    "reasons",
]
AS_OF = "2026-08-01"


def store_arg(store):
    return store.url if store.kind == "postgis" else str(store.path)


def run(capsys, *args):
    code = main(list(args))
    return code, capsys.readouterr()


def test_household_csv_matches_the_contract_and_a_pure_reference(
    demo_store, demo_frames, tmp_path, capsys
):
    out = tmp_path / "risk.csv"
    code, printed = run(
        capsys, "risk", "--store", store_arg(demo_store), "--as-of", AS_OF, "--out", str(out)
    )
    assert code == 0, printed.err
    assert "EPSG:32648" in printed.out and "一级" in printed.out
    got = pd.read_csv(out, dtype={"household_id": str, "village_code": str})
    assert list(got.columns[: len(HOUSEHOLD_CONTRACT)]) == HOUSEHOLD_CONTRACT
    assert len(got) == len(demo_frames["households"])
    assert set(got["tier"]) <= {"一级", "二级", "三级", "无"}

    # Reference: the pure engine on the frames in memory, no store involved.
    crs = analysis_crs(tuple(demo_frames["villages"].total_bounds))
    m = {k: demo_frames[k].to_crs(crs.epsg) for k in ("households", "water_bodies", "slopes")}
    prox = proximity(m["households"], m["water_bodies"], m["slopes"])
    ref, _ = grade(
        demo_frames["households"],
        demo_frames["children"],
        demo_frames["water_bodies"],
        demo_frames["slopes"],
        prox,
        dt.date.fromisoformat(AS_OF),
    )
    ref = ref.set_index("household_id").loc[got["household_id"]]
    assert (got["score"].to_numpy() == ref["score"].to_numpy()).all()
    assert (got["tier"].to_numpy() == ref["tier"].to_numpy()).all()
    assert (got["reasons"].fillna("").to_numpy() == ref["reasons"].to_numpy()).all()
    gap = got["nearest_water_m"].to_numpy() - ref["nearest_water_m"].to_numpy()
    assert (abs(gap) < 0.01).all()


def test_child_rows_carry_no_name_or_identity_number(demo_store, demo_frames, tmp_path, capsys):
    out = tmp_path / "children.xlsx"
    code, printed = run(
        capsys,
        "risk",
        "--store",
        store_arg(demo_store),
        "--level",
        "child",
        "--as-of",
        AS_OF,
        "--out",
        str(out),
    )
    assert code == 0, printed.err
    got = pd.read_excel(out, dtype=str)
    assert {"child_id", "age"} <= set(got.columns)
    assert set(HOUSEHOLD_CONTRACT) - {"household_id", "children"} <= set(got.columns)
    assert not {"name", "id_number", "guardian_name", "guardian_phone"} & set(got.columns)
    text = got.to_csv()
    kids = demo_frames["children"]
    assert not any(n in text for n in kids["id_number"].head(300))
    assert not any(n in text for n in kids["guardian_phone"].head(300))
    assert got["age"].astype(int).between(0, 17).all()


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_spatial_outputs_have_points_in_wgs84(demo_store, tmp_path, capsys, suffix):
    out = tmp_path / f"risk{suffix}"
    code, printed = run(
        capsys,
        "risk",
        "--store",
        store_arg(demo_store),
        "--as-of",
        AS_OF,
        "--level",
        "child",
        "--out",
        str(out),
    )
    assert code == 0, printed.err
    frame = gpd.read_file(out)
    assert frame.crs.to_epsg() == 4326 and set(frame.geom_type) == {"Point"}
    assert "child_id" in frame.columns and "name" not in frame.columns


def test_village_scope(demo_store, demo_frames, tmp_path, capsys):
    village = sorted(demo_frames["villages"]["village_code"])[2]
    out = tmp_path / "v.csv"
    assert (
        run(
            capsys,
            "risk",
            "--store",
            store_arg(demo_store),
            "--village",
            village,
            "--as-of",
            AS_OF,
            "--out",
            str(out),
        )[0]
        == 0
    )
    got = pd.read_csv(out, dtype=str)
    assert set(got["village_code"]) == {village}
    assert len(got) == (demo_frames["households"]["village_code"] == village).sum()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "{tmp}/risk.pdf"], "不支持的输出格式"),
        (["--out", "{tmp}/missing/risk.csv"], "不存在"),
        (["--out", "{tmp}/risk.csv", "--rules", "{tmp}/nope.toml"], "找不到风险规则文件"),
        (["--out", "{tmp}/risk.csv", "--rules", "{tmp}/zero.toml"], "半径为 0 米"),
        (["--out", "{tmp}/risk.csv", "--rules", "{tmp}/broken.toml"], "格式有误"),
    ],
)
def test_bad_input_leaves_no_file(demo_store, tmp_path, capsys, extra, message):
    (tmp_path / "zero.toml").write_text("[radius_m]\npond = 0\n", encoding="utf-8")
    (tmp_path / "broken.toml").write_text("[radius_m\n", encoding="utf-8")
    args = [a.format(tmp=tmp_path) for a in extra]
    code, printed = run(capsys, "risk", "--store", store_arg(demo_store), *args)
    assert code == 2 and message in printed.err
    assert not (tmp_path / "risk.csv").exists() and not (tmp_path / "risk.pdf").exists()


def test_bad_date_is_refused_in_chinese(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["risk", "--as-of", "2026-13-01", "--out", "x.csv"])
    assert exit_.value.code == 2
    assert "格式不对" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["risk"], "shouhu risk：错误：缺少必填参数：--out（用 shouhu risk -h 查看用法）"),
        (["risk", "--out"], "参数 --out 后面要写一个值"),
        (["risk", "--level", "x", "--out", "a.csv"], "参数 --level 的值 'x' 不对，可选："),
        (["patrol", "plan", "--date", "2026-07-01", "--teams", "两", "--out", "p.csv"],
         "参数 --teams 的值 '两' 不对，应为整数"),
        (["riks"], "没有命令 'riks'，可选："),
        (["layers", "--bogus"], "无法识别的参数：--bogus"),
        (["campaign", "add", "K1", "--name", "x", "--year", "20260", "--scope", "990101100"],
         "年份“20260”不对"),
        (["patrol", "compliance", "--date", "2026-07-01", "--days", "-3"],
         "“-3”不对：应为不小于 1 的整数"),
        (["import", "children", "{tmp}"], "是文件夹，请指明其中要导入的文件"),
        (["import", "layer", "slopes", "{tmp}/无.geojson"], "找不到文件“{tmp}/无.geojson”"),
        (["patrol", "record", "{tmp}/巡查.xlsx"], "找不到文件"),
        (["sessions", "import", "{tmp}/宣讲.csv"], "找不到文件"),
    ],
)  # fmt: skip
def test_argparse_errors_are_in_chinese(capsys, tmp_path, args, message):
    with pytest.raises(SystemExit) as exit_:
        main([a.format(tmp=tmp_path) for a in args])
    assert exit_.value.code == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err


@pytest.mark.parametrize(
    ("epsg", "message"),
    [("4326", "EPSG:4326（WGS 84）不是投影坐标系"), ("999999", "EPSG:999999 不是已知的坐标系代码")],
)
def test_an_analysis_crs_in_degrees_or_unknown_is_refused(fresh_demo_gpkg, capsys, epsg, message):
    from layers.store.gpkg import GeoPackageStore

    before = GeoPackageStore(fresh_demo_gpkg).analysis_crs()
    assert main(["db", "crs", "--set", epsg, "--store", str(fresh_demo_gpkg)]) == 2
    assert message in capsys.readouterr().err
    assert GeoPackageStore(fresh_demo_gpkg).analysis_crs() == before


def test_a_failed_write_leaves_neither_target_nor_temporary_file(tmp_path, monkeypatch):
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=gpd.points_from_xy([107.1], [29.9]), crs=4326)

    def explode(self, path, **kw):
        open(path, "w").write("half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", explode)
    with pytest.raises(RuntimeError):
        export.write_table(frame, tmp_path / "out.geojson")
    assert os.listdir(tmp_path) == []


def test_empty_hazard_layers_give_warnings_not_errors(store, demo_frames):
    store.write_layers({k: demo_frames[k] for k in ("villages", "households", "children")})
    result = compute_risk(store, dt.date(2026, 8, 1))
    assert len(result.households) == len(demo_frames["households"])
    assert result.households["nearest_water_id"].isna().all()
    assert any("水域图层为空" in w for w in result.warnings)


def test_excel_downloads_carry_the_internal_header():
    import io

    import openpyxl
    import pandas as pd

    from layers.export import INTERNAL_HEADER, table_bytes

    book = openpyxl.load_workbook(io.BytesIO(table_bytes(pd.DataFrame({"a": [1]}), "xlsx", "表")))
    sheet = book["表"]
    assert sheet.oddHeader.center.text == INTERNAL_HEADER
    assert sheet["A1"].value == "a" and sheet["A2"].value == 1  # the table itself is unchanged
