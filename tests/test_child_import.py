"""Ledger import: reading (encodings, headers, Excel types), every validation rule with its
message, all-or-nothing and repeatable writes on both stores, and coordinate conversion."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from geo import idcard
from geo.crs import gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from layers import ledger
from layers.child_import import apply_import, plan_import
from layers.tabular import TableError, read_table

AS_OF = dt.date(2026, 7, 1)
HEADERS = ["序号", "姓名", "性别", "身份证号", "出生日期", "所属村（社区）", "现住址", "儿童类别",
           "监护人", "监护人电话", "经度", "纬度"]  # fmt: skip


def make_id(birth: str, seq: int, region: str = "500115") -> str:
    first = f"{region}{birth}{seq:03d}"
    return first + idcard.check_digit(first)


@pytest.fixture
def places(store, demo_frames):
    """An empty store with the demo townships and villages; returns (store, villages)."""
    store.write_layers(
        {"townships": demo_frames["townships"], "villages": demo_frames["villages"]}, replace=True
    )
    return store, demo_frames["villages"].sort_values("village_code").reset_index(drop=True)


def _rows(villages, n=4) -> list[list[object]]:
    rows = []
    for i in range(n):
        v = villages.iloc[i % 2]
        point = v.geometry.representative_point()
        seq = 2 * i + 1 if i % 2 == 0 else 2 * i + 2  # odd: boy, even: girl
        rows.append([
            i + 1, f"测试{'甲乙丙丁戊己'[i]}{'明红'[i % 2]}", "男" if i % 2 == 0 else "女",
            make_id(f"201{i}0{i + 1}15", seq), f"201{i}-0{i + 1}-15", v["name"],
            f"{v['name']}{i + 1}组{i + 3}号", "农村留守儿童", f"监护人{i}", f"1380000{i:04d}",
            round(point.x, 7), round(point.y, 7),
        ])  # fmt: skip
    return rows


def _csv(rows, headers=HEADERS, encoding="utf-8") -> bytes:
    frame = pd.DataFrame(rows, columns=headers)
    return frame.to_csv(index=False).encode(encoding)


def _xlsx(rows, headers=HEADERS, id_as_number=False) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["某某村留守儿童信息台账"])  # a title row above the header
    sheet.append(headers)
    for row in rows:
        row = list(row)
        if id_as_number:
            row[3] = float(row[3][:17])  # what Excel does to a long number
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _plan(store, data: bytes, name="t.csv", crs="wgs84", **kw):
    table = read_table(data, name, ledger.KNOWN_HEADERS)
    return plan_import(store, table, source_crs=crs, as_of=AS_OF, **kw)


def _messages(plan) -> list[str]:
    return [f"{p.row}|{p.column}|{p.problem}|{p.fix}|{p.level}" for p in plan.problems]


# -- reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding_reads_the_same(encoding, demo_frames):
    villages = demo_frames["villages"].sort_values("village_code")
    rows = _rows(villages)
    table = read_table(_csv(rows, encoding=encoding), "t.csv", ledger.KNOWN_HEADERS)
    names = [r[table.columns.index("姓名")] for r in table.rows]
    assert names == [r[1] for r in rows]
    expected = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）", "gbk": "GBK", "gb18030": "GBK"}
    assert table.encoding == expected[encoding]
    # A character outside GBK (𠀀) is GB18030-only: detected as such, not garbled.
    odd = read_table(_csv([["𠀀", "x"]], ["姓名", "身份证号"], "gb18030"), "t.csv",
                     ledger.KNOWN_HEADERS)  # fmt: skip
    assert odd.rows[0][0] == "𠀀" and odd.encoding == "GB18030"


def test_unreadable_files_get_a_chinese_reason():
    with pytest.raises(TableError, match="编码"):
        read_table(b"\xff\xfe\x00\xd8\x00\x00 bad", "t.csv", ledger.KNOWN_HEADERS)
    with pytest.raises(TableError, match="另存为"):
        read_table(b"whatever", "old.xls", ledger.KNOWN_HEADERS)
    with pytest.raises(TableError, match="表头"):
        read_table(_csv([[1, 2]], ["a", "b"]), "t.csv", ledger.KNOWN_HEADERS)
    with pytest.raises(TableError, match="无法打开"):
        read_table(b"not a zip", "t.xlsx", ledger.KNOWN_HEADERS)


def test_template_has_grouped_headers_that_map_back_to_every_field():
    for kind in ledger.LEDGERS:
        table = read_table(ledger.template_bytes(kind), "t.xlsx", ledger.KNOWN_HEADERS)
        mapping = ledger.guess_mapping(table.columns)
        assert set(mapping) == set(ledger.BY_NAME)
        assert mapping["father_work_place"] == "父亲情况/务工地点"
        assert mapping["mother_work_place"] == "母亲情况/务工地点"
        book = openpyxl.load_workbook(io.BytesIO(ledger.template_bytes(kind)))
        id_col = table.columns.index("身份证号") + 1
        assert book.active.cell(4, id_col).number_format == "@"  # text, never a number


def test_synonym_headers_are_recognised():
    mapping = ledger.guess_mapping(["儿童姓名", "公民身份号码", "家庭住址", "村名", "联系电话"])
    assert mapping == {"name": "儿童姓名", "id_number": "公民身份号码", "address": "家庭住址",
                       "village": "村名", "guardian_phone": "联系电话"}  # fmt: skip


# -- writing: all or nothing, repeatable -------------------------------------------------------


def test_import_then_reimport_changes_nothing_and_a_correction_updates(places):
    store, villages = places
    rows = _rows(villages)
    plan = _plan(store, _xlsx(rows), "t.xlsx")
    assert plan.ok, _messages(plan)
    assert plan.counts() == {"新增": 4, "更新": 0, "不变": 0}
    apply_import(store, plan)
    children = store.read_layer("children")
    assert sorted(children["id_number"]) == sorted(r[3] for r in rows)
    assert set(children["source_crs"]) == {"wgs84"}
    homes = store.read_layer("households")
    assert len(homes) == 4 and set(homes["source_crs"]) == {"wgs84"}
    first = homes.set_index("address").loc[rows[0][6]]
    assert first.geometry.x == pytest.approx(rows[0][10], abs=1e-9)

    again = _plan(store, _xlsx(rows), "t.xlsx")
    assert again.counts() == {"新增": 0, "更新": 0, "不变": 4}
    assert again.children.empty and again.households.empty
    apply_import(store, again)
    pd.testing.assert_frame_equal(store.read_layer("children"), children)

    fixed = [list(r) for r in rows]
    fixed[1][8] = "新监护人"  # a correction
    fixed[2][9] = None  # an empty cell keeps what is stored
    plan = _plan(store, _xlsx(fixed), "t.xlsx")
    assert plan.counts() == {"新增": 0, "更新": 1, "不变": 3}
    assert plan.actions.set_index("行号").loc[4, "变化"] == "监护人"
    apply_import(store, plan)
    after = store.read_layer("children").set_index("id_number")
    assert after.loc[rows[1][3], "guardian_name"] == "新监护人"
    assert after.loc[rows[2][3], "guardian_phone"] == rows[2][9]
    assert (
        len(after) == 4
        and after.loc[rows[1][3], "child_id"]
        == (children.set_index("id_number").loc[rows[1][3], "child_id"])
    )


def test_one_bad_row_means_nothing_is_written(places):
    store, villages = places
    rows = _rows(villages)
    rows[2][3] = rows[2][3][:-1] + ("0" if rows[2][3][-1] != "0" else "1")  # bad check digit
    plan = _plan(store, _csv(rows))
    assert not plan.ok and len(plan.errors) == 1 and plan.errors[0].row == 4
    with pytest.raises(ValueError, match="nothing was written"):
        apply_import(store, plan)
    assert store.count("children") == 0 and store.count("households") == 0


def test_children_at_the_same_address_share_a_household(places):
    store, villages = places
    rows = _rows(villages, 2)
    sibling = list(rows[0])
    sibling[1], sibling[3], sibling[4] = "测试庚明", make_id("20160101", 11), "2016-01-01"
    plan = _plan(store, _csv([*rows, sibling]))
    assert plan.ok, _messages(plan)
    apply_import(store, plan)
    children = store.read_layer("children").set_index("id_number")
    assert children.loc[sibling[3], "household_id"] == children.loc[rows[0][3], "household_id"]
    assert store.count("households") == 2


def test_gcj02_and_bd09_points_are_stored_in_wgs84(places):
    store, villages = places
    rows = _rows(villages, 2)
    truth = np.array([[r[10], r[11]] for r in rows])
    gcj = np.column_stack(wgs84_to_gcj02(truth[:, 0], truth[:, 1]))
    bd = np.column_stack(wgs84_to_bd09(truth[:, 0], truth[:, 1]))
    for system, coords in (("gcj02", gcj), ("bd09", bd)):
        shifted = [list(r) for r in rows]
        for r, (x, y) in zip(shifted, coords, strict=True):
            r[10], r[11] = round(float(x), 9), round(float(y), 9)
        plan = _plan(store, _csv(shifted), crs=system)
        assert plan.ok, _messages(plan)
        got = np.array([[g.x, g.y] for g in plan.households.geometry])
        # GCJ-02 is inverted exactly (1e-7 degree is about 1 cm); Baidu's published inverse is
        # itself approximate (about 0.1 m), as in every reference implementation.
        tolerance = 1e-7 if system == "gcj02" else 2e-6
        assert np.abs(got - truth).max() < tolerance, system
        assert set(plan.households["source_crs"]) == {system}
    gx, gy = gcj02_to_wgs84(gcj[:, 0], gcj[:, 1])
    assert np.abs(np.column_stack([gx, gy]) - truth).max() < 1e-9


# -- every rule, with its message ----------------------------------------------------------------


def _one_problem(store, villages, change, name="t.csv", crs="wgs84", level="错误", **kw):
    rows = _rows(villages, 2)
    change(rows)
    data = _xlsx(rows, **kw) if name.endswith(".xlsx") else _csv(rows)
    plan = _plan(store, data, name, crs=crs)
    found = [p for p in plan.problems if p.level == level]
    assert len(found) >= 1, _messages(plan)
    return found[0]


def _set(i, col, value):
    def change(rows):
        rows[i][col] = value

    return change


def test_rule_check_digit(places):
    store, villages = places
    bad = _one_problem(store, villages, _set(0, 3, "500115201001150011"))
    assert bad.row == 2 and bad.column == "身份证号" and "校验位" in bad.problem
    assert "户口簿" in bad.fix


def test_rule_excel_number_and_scientific_notation(places):
    store, villages = places
    bad = _one_problem(store, villages, lambda rows: None, "t.xlsx", id_as_number=True)
    assert "存成了数字" in bad.problem and "文本" in bad.fix and bad.row == 3
    bad = _one_problem(store, villages, _set(0, 3, "5.00115E+17"))
    assert "科学计数法" in bad.problem and "5.00115E+17" in bad.problem


def test_rule_old_and_malformed_numbers(places):
    store, villages = places
    assert "15 位旧身份证号" in _one_problem(store, villages, _set(0, 3, "500115100115001")).problem
    assert "不是 18 位" in _one_problem(store, villages, _set(0, 3, "50011520100115")).problem
    empty = _one_problem(store, villages, _set(0, 3, ""))
    assert empty.problem == "身份证号为空"


def test_rule_birth_date_must_match_the_number(places):
    store, villages = places
    bad = _one_problem(store, villages, _set(0, 4, "2010-01-16"))
    assert bad.column == "出生日期" and "2010-01-16" in bad.problem and "2010-01-15" in bad.problem
    unreadable = _one_problem(store, villages, _set(0, 4, "去年"))
    assert "无法识别" in unreadable.problem


def test_rule_sex_must_match_the_number(places):
    store, villages = places
    bad = _one_problem(store, villages, _set(0, 2, "女"))
    assert bad.column == "性别" and "第 17 位表示男" in bad.problem


def test_rule_age_in_scope(places):
    store, villages = places

    def adult(rows):
        rows[0][3], rows[0][4] = make_id("20050101", 1), "2005-01-01"

    bad = _one_problem(store, villages, adult)
    assert "已满 18 周岁" in bad.problem and "21 岁" in bad.problem

    def unborn(rows):
        rows[0][3], rows[0][4] = make_id("20270101", 1), "2027-01-01"

    assert "晚于今天" in _one_problem(store, villages, unborn).problem


def test_rule_duplicates_in_the_file_and_in_the_store(places):
    store, villages = places
    bad = _one_problem(store, villages, lambda rows: rows.append(list(rows[0])))
    assert bad.row == 4 and "与第 2 行重复" in bad.problem
    rows = _rows(villages, 2)
    apply_import(store, _plan(store, _csv(rows)))
    moved = [list(r) for r in rows]
    moved[0][5] = villages.iloc[1]["name"]
    plan = _plan(store, _csv(moved))
    warning = [p for p in plan.problems if p.level == "警告" and "已登记在" in p.problem]
    assert warning and villages.iloc[0]["village_code"] in warning[0].problem
    assert plan.counts()["更新"] == 1


def test_rule_unknown_and_ambiguous_villages(places):
    store, villages = places
    bad = _one_problem(store, villages, _set(0, 5, "不存在村"))
    assert bad.column == "所属村（社区）" and "找不到名为“不存在村”" in bad.problem
    same_name = villages.iloc[[0]].assign(
        village_code=villages.iloc[0]["village_code"][:-3] + "999"
    )
    store.write_layers({"villages": same_name})
    bad = _one_problem(store, villages, lambda rows: None)
    assert "有多个村叫" in bad.problem and "12 位" in bad.fix


def test_rule_required_fields(places):
    store, villages = places
    assert _one_problem(store, villages, _set(0, 1, "")).problem == "姓名为空"
    table = read_table(_csv([["张三", "x"]], ["姓名", "性别"]), "t.csv", {"姓名", "性别"})
    plan = plan_import(store, table, source_crs="wgs84", as_of=AS_OF)
    assert {p.problem for p in plan.problems} >= {"缺少“身份证号”列"}
    assert any("所属村" in p.problem for p in plan.problems)


def test_rule_coordinates(places):
    store, villages = places

    def swap(rows):
        rows[0][10], rows[0][11] = rows[0][11], rows[0][10]

    assert "填反" in _one_problem(store, villages, swap).problem
    abroad = _one_problem(store, villages, lambda rows: rows[0].__setitem__(10, 2.35))
    assert "不在中国境内" in abroad.problem
    far = _one_problem(store, villages, lambda rows: rows[0].__setitem__(10, rows[0][10] + 3))
    assert "离本辖区太远" in far.problem
    other = villages.iloc[1].geometry.representative_point()

    def elsewhere(rows):
        rows[0][10], rows[0][11] = other.x, other.y

    warning = _one_problem(store, villages, elsewhere, level="警告")
    assert "村界内" in warning.problem
    half = _one_problem(store, villages, _set(0, 10, None))
    assert half.problem == "只填了纬度，缺少经度"
    unlocated = _one_problem(
        store, villages, lambda rows: [r.__setitem__(k, None) for r in rows for k in (10, 11)],
        level="警告",
    )  # fmt: skip
    assert "村委会位置" in unlocated.problem
    no_crs = _one_problem(store, villages, lambda rows: None, crs=None)
    assert "坐标系" in no_crs.problem and no_crs.row == 0


def test_rule_unknown_values_and_phones(places):
    store, villages = places
    bad = _one_problem(store, villages, _set(0, 7, "外星儿童"))
    assert bad.column == "儿童类别" and "外星儿童" in bad.problem and "散居孤儿" in bad.fix
    assert "无法识别" in _one_problem(store, villages, _set(0, 2, "未知")).problem
    assert "格式不对" in _one_problem(store, villages, _set(0, 9, "打电话找村委")).problem


def test_all_problems_are_reported_at_once(places):
    store, villages = places
    rows = _rows(villages, 4)
    rows[0][3] = "5.00115E+17"
    rows[1][1] = ""
    rows[2][5] = "不存在村"
    plan = _plan(store, _csv(rows))
    assert sorted(p.row for p in plan.errors) == [2, 3, 4]
    table = plan.problem_table()
    assert list(table.columns) == ["行号", "列", "问题", "处理办法", "级别"] and len(table) >= 3
