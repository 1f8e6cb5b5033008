"""Coverage on both stores, session entry and import (every bad input names its row), the CLI,
the 20 August report read back with openpyxl, and the page."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from app.cli import main
from app.coverage_service import compute_coverage
from geo.coverage import Campaign
from layers.session_import import KNOWN_HEADERS, check_session, plan_sessions, template_bytes
from layers.tabular import read_table
from layers.village_index import VillageIndex

AS_OF = dt.date(2026, 8, 20)
CAMPAIGN = Campaign("K1", "测试", 2026, dt.date(2026, 8, 15), dt.date(2026, 8, 20))


def _spec(store) -> str:
    return str(store.path) if store.kind == "gpkg" else store.url


def test_both_stores_give_the_same_coverage(demo_store, demo_frames):
    from geo.coverage import children_in_scope, village_coverage

    result = compute_coverage(demo_store, AS_OF)
    expected = village_coverage(
        demo_frames["villages"], demo_frames["education_sessions"],
        Campaign.from_row(demo_frames["campaigns"].iloc[0]), AS_OF,
        children_in_scope(demo_frames["children"]), demo_frames["directors"],
    )  # fmt: skip
    got = result.coverage.reset_index(drop=True)
    staff = ["directors", "director_phones"]
    pd.testing.assert_frame_equal(got.drop(columns=staff), expected.drop(columns=staff))
    assert result.campaign.campaign_id == demo_frames["campaigns"]["campaign_id"].iloc[0]
    assert set(result.coverage["status"]) <= {"已完成", "逾期完成", "未开展"}


def _sessions_file(rows, headers=None) -> bytes:
    headers = headers or ["村（社区）", "宣讲日期", "计划日期", "形式", "主题", "宣讲人",
                          "参加儿童人数", "参加监护人人数", "佐证材料数", "备注"]  # fmt: skip
    book = openpyxl.Workbook()
    book.active.append(headers)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_session_import_all_or_nothing_and_every_bad_row_named(store, demo_frames):
    store.write_layers({k: demo_frames[k] for k in ("townships", "villages", "campaigns")},
                       replace=True)  # fmt: skip
    names = demo_frames["villages"].sort_values("village_code")["name"].tolist()
    good = [names[0], "2026-07-20", None, "集中讲座", "防溺水、防火", "张老师", 35, 20, 3, None]
    rows = [
        good,
        ["不存在村", "2026-07-21", None, "集中讲座", "防溺水", None, None, None, None, None],
        [names[1], "2025-07-21", None, "集中讲座", "防溺水", None, None, None, None, None],
        [names[2], "2026-07-21", None, "舞会", "防溺水", None, None, None, None, None],
        [names[3], "2026-07-21", None, "集中讲座", "天文", None, None, None, None, None],
        [names[4], None, None, "集中讲座", "防溺水", None, None, None, None, None],
    ]
    table = read_table(_sessions_file(rows), "s.xlsx", KNOWN_HEADERS)
    frame, problems = plan_sessions(store, table, CAMPAIGN)
    by_row = {p.row: p for p in problems}
    assert sorted(by_row) == [3, 4, 5, 6, 7]
    assert "不存在村" in by_row[3].problem
    assert "不在行动年度 2026 年内" in by_row[4].problem
    assert "舞会" in by_row[5].problem and "集中讲座" in by_row[5].fix
    assert "天文" in by_row[6].problem
    assert "都为空" in by_row[7].problem
    assert store.count("education_sessions") == 0  # nothing recorded
    table = read_table(_sessions_file([good]), "s.xlsx", KNOWN_HEADERS)
    frame, problems = plan_sessions(store, table, CAMPAIGN)
    assert not problems and frame["topics"].iloc[0] == "drowning;fire"
    store.write_layers({"education_sessions": frame}, upsert=True)
    store.write_layers({"education_sessions": frame}, upsert=True)  # same file again
    assert store.count("education_sessions") == 1


def test_session_templates_with_missing_or_merged_headers_are_refused(store, demo_frames):
    store.write_layers({"villages": demo_frames["villages"]}, replace=True)
    table = read_table(_sessions_file([["x", "2026-07-01"]], ["村（社区）", "宣讲日期"]), "s.xlsx",
                       KNOWN_HEADERS)  # fmt: skip
    _frame, problems = plan_sessions(store, table, CAMPAIGN)
    assert problems[0].row == 0 and "缺少列：形式、主题" in problems[0].problem
    book = openpyxl.load_workbook(io.BytesIO(template_bytes()))
    book.active.merge_cells("D1:E1")
    buffer = io.BytesIO()
    book.save(buffer)
    table = read_table(buffer.getvalue(), "s.xlsx", KNOWN_HEADERS)
    _frame, problems = plan_sessions(store, table, CAMPAIGN)
    assert "合并单元格" in problems[0].problem


def test_check_session_from_the_form(demo_frames):
    index = VillageIndex(demo_frames["villages"])
    code = demo_frames["villages"]["village_code"].iloc[0]
    values = {"village_code": code, "session_date": dt.date(2026, 7, 1), "form": "集中讲座",
              "topics": "防溺水"}  # fmt: skip
    row, problems = check_session(values, index, CAMPAIGN, 0)
    assert not problems and row["form"] == "lecture" and row["village_code"] == code
    _row, problems = check_session({"village_code": "999999999999", "session_date": "x",
                                    "form": "", "topics": ""}, index, CAMPAIGN, 0)  # fmt: skip
    assert len(problems) == 4


def test_cli_coverage_columns_and_report_read_back(tmp_path, demo_frames, gpkg_template, capsys):
    import shutil

    from layers.store.gpkg import GeoPackageStore

    path = tmp_path / "d.gpkg"
    shutil.copyfile(gpkg_template, path)
    GeoPackageStore(path).write_layers(demo_frames, replace=True)
    out = tmp_path / "coverage.xlsx"
    args = ["coverage", "--as-of", "2026-08-20", "--out", str(out), "--store", str(path)]
    assert main(args) == 0
    table = pd.read_excel(out, dtype=str, header=0)
    assert list(table.columns[:9]) == ["village_code", "village_name", "township_code", "status",
                                       "sessions_counted", "first_counted_date", "topics",
                                       "children_in_scope", "days_to_deadline"]  # fmt: skip
    said = capsys.readouterr().out
    assert "已开展" in said and "没有登记专项行动" not in said  # the demo registers 2026
    old_year = ["coverage", "--as-of", "2019-08-01", "--out", str(out), "--store", str(path)]
    assert main(old_year) == 0
    said = capsys.readouterr().out
    assert "注意：2019 年没有登记专项行动，按默认日期统计：08月15日前宣讲、08月20日前报送" in said
    township = demo_frames["townships"]["township_code"].iloc[0]
    report = tmp_path / "report.xlsx"
    assert main(["coverage-report", "--township", township, "--as-of", "2026-08-20",
                 "--out", str(report), "--store", str(path)]) == 0  # fmt: skip
    book = openpyxl.load_workbook(report)
    summary = {r[0]: r[1] for r in book["汇总"].iter_rows(values_only=True) if len(r) > 1}
    result = compute_coverage(GeoPackageStore(path), AS_OF)
    done = int(result.coverage["status_code"].isin(["done", "late"]).sum())
    assert summary["村（社区）总数"] == len(result.coverage) and summary["已开展（含逾期）"] == done
    villages = list(book["各村情况"].iter_rows(values_only=True))
    assert villages[0][1] == "村（社区）" and len(villages) == len(result.coverage) + 1
    sessions = result.sessions
    first = villages[1]
    mine = sessions[(sessions["village_code"] == first[2]) & (sessions["form"] == "lecture")]
    assert first[4] == len(mine) and first[9] == int(mine["evidence_count"].fillna(0).sum())
    assert book["各村情况"].oddHeader.center.text == "内部资料 · 注意保密"
    # A sessions file checked in a year with no campaign registered says whose dates judge it.
    GeoPackageStore(path).write_layers({"campaigns": demo_frames["campaigns"].iloc[:0]},
                                       replace=True)  # fmt: skip
    code = demo_frames["villages"]["village_code"].iloc[0]
    sessions = tmp_path / "宣讲.csv"
    sessions.write_text(f"村（社区）代码,宣讲日期,形式,主题\n{code},{dt.date.today()},集中讲座,防溺水\n",
                        encoding="utf-8")  # fmt: skip
    args = ["sessions", "import", str(sessions), "--dry-run", "--store", str(path)]
    assert main(args) == 0
    said = capsys.readouterr().out
    assert f"注意：{dt.date.today().year} 年没有登记专项行动" in said and "检查通过" in said
    assert main(["campaign", "add", "K2027", "--name", "2027暑期", "--year", "2027",
                 "--scope", township, "--store", str(path)]) == 0  # fmt: skip
    assert main(["coverage", "--as-of", "2027-08-01", "--out", str(out), "--store", str(path),
                 "--campaign", "NOPE"]) == 2  # fmt: skip


def test_education_page_records_a_session(monkeypatch, fresh_demo_gpkg, demo_frames):
    from layers.access import Scope
    from layers.store.gpkg import GeoPackageStore
    from tests.conftest import app_as

    path = fresh_demo_gpkg
    county = demo_frames["villages"]["county_code"].iloc[0]
    at = app_as(monkeypatch, path, Scope("admin", "county_admin", (county,)))
    at.switch_page("views/education_page.py").run()
    assert not at.exception, at.exception
    at.date_input(key="edu_as_of").set_value(dt.date(2026, 8, 1)).run()
    todo = at.dataframe[0].value
    assert len(todo) > 0
    name = todo["村（社区）"].iloc[0]
    code = demo_frames["villages"].set_index("name").loc[name, "village_code"]
    at.selectbox(key="edu_form_village").set_value(code)
    at.date_input(key="edu_day").set_value(dt.date(2026, 7, 30))
    at.button(key="edu_save").click().run()
    assert not at.exception, at.exception
    assert any("已保存" in s.value for s in at.success)
    after = at.dataframe[1].value.set_index("村（社区）")
    assert after.loc[name, "状态"] == "已完成" and after.loc[name, "计入场次"] == 1
    stored = GeoPackageStore(path).read_layer("education_sessions", village_codes=[code])
    assert (stored["session_date"] == pd.Timestamp("2026-07-30")).sum() == 1
    at.date_input(key="edu_day").set_value(dt.date(2025, 7, 30))  # outside the campaign year
    at.button(key="edu_save").click().run()
    assert any("不在行动年度" in e.value for e in at.error)
    assert not [i for i in at.info if "没有登记专项行动" in i.value]  # 2026 is registered
    at.date_input(key="edu_as_of").set_value(dt.date(2019, 8, 1)).run()
    assert not at.exception, at.exception
    assert [i for i in at.info if i.value.startswith("2019 年没有登记专项行动，按默认日期统计")]


JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_evidence_photos_are_kept_scoped_and_checked(store, demo_frames):
    from layers.access import AccessDenied, Scope
    from layers.evidence import EvidenceError
    from layers.store.scoped import ScopedStore

    store.write_layers({"villages": demo_frames["villages"]}, replace=True)
    mine, other = sorted(demo_frames["villages"]["village_code"])[:2]
    director = ScopedStore(store, Scope("d_ev", "village_director", (mine,)))
    added = director.add_evidence("education_sessions", "E1", mine,
                                  [("现场.jpg", JPEG), ("签到.png", PNG)])  # fmt: skip
    assert added == 2 and director.evidence_counts(["E1", "E2"]) == {"E1": 2}
    files = director.evidence_files("E1")
    assert [(f[0], f[1]) for f in files] == [("现场.jpg", "image/jpeg"), ("签到.png", "image/png")]
    assert files[0][2] == JPEG
    with pytest.raises(AccessDenied):
        director.add_evidence("education_sessions", "E2", other, [("x.jpg", JPEG)])
    with pytest.raises(EvidenceError, match="不是 JPG 或 PNG"):
        director.add_evidence(
            "education_sessions", "E3", mine, [("a.jpg", JPEG), ("b.pdf", b"%PDF")]
        )
    assert director.evidence_counts(["E3"]) == {}  # none of the lot was kept
    neighbour = ScopedStore(store, Scope("d_ev2", "village_director", (other,)))
    assert neighbour.evidence_files("E1") == [] and neighbour.evidence_counts(["E1"]) == {}
