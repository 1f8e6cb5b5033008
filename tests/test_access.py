"""Accounts, place scope and masking: on both stores, and past the app on PostGIS (RLS)."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from geo.masking import mask_address, mask_frame, mask_id_number, mask_name, mask_phone
from layers.access import AccessDenied, Scope
from layers.accounts import MAX_FAILURES, AccountError
from layers.store.scoped import ScopedStore

PASSWORD = "correct-horse-42"
ROOT = Path(__file__).resolve().parent.parent


def test_masking_formats():
    assert (
        mask_name("张三丰") == "张*丰"
        and mask_name("张三") == "张*"
        and mask_name("欧阳娜娜") == "欧**娜"
    )
    assert mask_id_number("500115201001011234") == "500115********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_address("石溪村3组12号", "石溪村") == "石溪村（已隐藏）"
    assert mask_name(None) is None


def test_mask_frame_masks_every_personal_column(demo_frames):
    from layers.catalogue import get_layer

    layer = get_layer("children")
    masked = mask_frame(demo_frames["children"].head(50), layer.personal_columns)
    for col in ("name", "id_number", "guardian_phone"):
        original = demo_frames["children"].head(50)[col].dropna()
        assert not (masked.loc[original.index, col] == original).any(), col


def _villages(demo_frames) -> list[str]:
    return sorted(demo_frames["children"]["village_code"].unique())


def test_scope_rejects_wrong_levels_and_roles():
    with pytest.raises(ValueError, match="村"):
        Scope("a", "village_director", ("999901",))
    with pytest.raises(ValueError, match="未知角色"):
        Scope("a", "boss", ("999901",))
    with pytest.raises(ValueError, match="管辖范围"):
        Scope("a", "county_admin", ())


def test_a_village_director_sees_only_their_village(demo_store, demo_frames):
    mine, other = _villages(demo_frames)[:2]
    scoped = ScopedStore(demo_store, Scope("d1", "village_director", (mine,)))
    for layer in ("children", "households"):
        rows = scoped.read_layer(layer)
        assert len(rows) > 0 and set(rows["village_code"]) == {mine}
        assert scoped.read_layer(layer, village_codes=[other]).empty
        expected = (demo_frames[layer]["village_code"] == mine).sum()
        assert scoped.count(layer) == expected
    prox = scoped.proximity()
    hh_mine = set(demo_frames["households"].query("village_code == @mine")["household_id"])
    assert set(prox.nearest["household_id"]) == hh_mine
    # Reference hazard layers stay whole: a pond over the boundary still counts.
    assert len(scoped.read_layer("water_bodies")) == len(demo_frames["water_bodies"])


def test_viewer_and_patrol_member_get_no_child_records(demo_store, demo_frames):
    from app.services import map_data

    county = _villages(demo_frames)[0][:6]
    for role in ("viewer", "patrol_member"):
        scoped = ScopedStore(demo_store, Scope("v", role, (county,)))
        for layer in ("children", "households"):
            with pytest.raises(AccessDenied, match="个人信息"):
                scoped.read_layer(layer)
            with pytest.raises(AccessDenied, match="个人信息"):
                scoped.proximity()
            assert scoped.count(layer) == len(demo_frames[layer])  # counts are aggregates
        assert len(scoped.read_layer("water_bodies")) > 0
        data = map_data(scoped)
        assert data.households.empty
        assert data.village_counts["children"].sum() == len(demo_frames["children"])


def test_aggregates_for_a_viewer_match_the_records(demo_store, demo_frames):
    from app.risk_service import compute_risk, tier_counts, village_tier_summary
    from app.services import village_counts

    mine, other = _villages(demo_frames)[:2]
    township = mine[:9]
    viewer = ScopedStore(demo_store, Scope("v", "viewer", (township,)))
    counts = village_counts(viewer).set_index("village_code")
    children = demo_frames["children"]
    expected = children[children["village_code"].str.startswith(township)]
    assert counts["children"].to_dict() == expected["village_code"].value_counts().to_dict()
    assert list(counts.columns) == ["households", "children"]  # nothing personal
    admin = ScopedStore(demo_store, Scope("a", "township_staff", (township,)))
    as_of = dt.date(2026, 8, 1)
    want = tier_counts(compute_risk(admin, as_of).households)
    got = village_tier_summary(viewer, as_of)
    pd.testing.assert_frame_equal(got, want)
    with pytest.raises(AccessDenied, match="汇总"):
        viewer.counting().write_layers({"water_bodies": demo_frames["water_bodies"].head(1)})


def test_risk_for_a_director_covers_only_their_village(demo_store, demo_frames):
    from app.risk_service import compute_risk

    mine = _villages(demo_frames)[0]
    scoped = ScopedStore(demo_store, Scope("d1", "village_director", (mine,)))
    result = compute_risk(scoped, dt.date(2026, 8, 1))
    assert len(result.households) > 0
    assert set(result.households["village_code"]) == {mine}
    assert set(result.children["village_code"]) == {mine}


def test_writes_outside_the_scope_are_refused_whole(store, demo_frames):
    store.write_layers({"villages": demo_frames["villages"]}, replace=True)
    mine, other = _villages(demo_frames)[:2]
    scoped = ScopedStore(store, Scope("d1", "village_director", (mine,)))
    rows = demo_frames["households"]
    mixed = pd.concat(
        [rows[rows.village_code == mine].head(2), rows[rows.village_code == other].head(1)]
    )
    with pytest.raises(AccessDenied, match="管辖范围以外"):
        scoped.write_layers({"households": mixed})
    assert store.count("households") == 0
    scoped.write_layers({"households": rows[rows.village_code == mine].head(2)})
    assert store.count("households") == 2
    audit = store.accounts().audit_rows(action="write")
    assert list(audit["username"]) == ["d1"] and list(audit["rows"]) == [2]
    written = rows[rows.village_code == mine].head(2)
    records = store.accounts().audit_rows(action="write_record").sort_values("record_id")
    assert list(records["record_id"]) == sorted(written["household_id"])
    addresses = written.sort_values("household_id")["address"]
    for detail, address in zip(records["detail"], addresses, strict=True):
        change = json.loads(detail)
        assert change["old"] is None and change["new"]["village_code"] == mine
        assert change["new"]["（位置）"] == "（已记录）"  # a marker, never coordinates
        assert address not in detail and change["new"]["address"] == mask_address(address)


def test_record_changes_give_old_and_new_values_masked(demo_frames):
    from layers.catalogue import get_layer
    from layers.changes import record_changes

    layer = get_layer("children")
    old = demo_frames["children"].head(2)
    new = old.copy()
    new.loc[new.index[0], "name"] = "王小明"
    new.loc[new.index[0], "school"] = "石溪小学"
    changes = dict(record_changes(layer, old, new))
    first, second = (changes[str(k)] for k in old["child_id"])
    assert first["new"] == {"name": "王*明", "school": "石溪小学"}
    assert first["old"]["name"] == mask_name(old["name"].iloc[0])
    assert second == {"old": {}, "new": {}}  # unchanged record
    assert "王小明" not in json.dumps(changes, ensure_ascii=False)


def test_the_audit_page_reads_in_chinese_and_beijing_time(store, demo_frames):
    """What a county administrator reads: Beijing time, actions, layers, reasons, roles and
    each record's changed fields with their Chinese names and values."""
    from app.audit_view import audit_table
    from layers.catalogue import get_layer
    from layers.changes import record_changes

    accounts = store.accounts()
    accounts.add_user("admin", "county_admin", ["999901"], PASSWORD)
    with pytest.raises(AccountError):
        accounts.authenticate("admin", "wrong-password-1")
    detail = {"format": "csv", "place": ["999901001"], "full_values": False}
    accounts.audit("admin", "export", layer="risk_household", rows=12, detail=detail)
    old = demo_frames["children"].head(2)
    new = old.copy()
    new.loc[new.index[0], "school"] = "石溪小学"
    new.loc[new.index[0], "categories"] = "orphan;difficulty"
    changes = dict(record_changes(get_layer("children"), old, new))
    accounts.audit_records("admin", "write_record", "children", list(changes.items()))
    item = {"item_id": "X1:F1:drainage", "item_kind": "fixed", "status": "pending", "note": None}
    accounts.audit_records("admin", "write_record", "sweep_items",
                           [("X1:F1:drainage", {"old": None, "new": item})])  # fmt: skip
    rows = accounts.audit_rows()
    table = audit_table(rows).set_index(rows["action"].to_numpy())
    assert list(table.columns) == [
        "时间（北京时间）", "账号", "操作", "图层", "记录", "行数", "详情"
    ]  # fmt: skip
    utc = pd.to_datetime(rows["at"]).dt.floor("s")
    beijing = pd.to_datetime(table["时间（北京时间）"].to_numpy())
    assert (beijing - utc.to_numpy() == pd.Timedelta(hours=8)).all()
    assert table.loc["user_add", "详情"] == "角色：县级管理员；管辖范围：999901"
    assert table.loc["login_failed", "操作"] == "登录失败"
    assert table.loc["login_failed", "详情"] == "原因：口令错误"
    export = table.loc["export"]
    assert export["图层"] == "风险清单（家庭户）" and export["行数"] == 12
    assert export["详情"] == "格式：csv；范围：999901001；完整信息：否"
    records = table.loc["write_record"].set_index("记录")
    first, second = (records.loc[str(k)] for k in old["child_id"])
    assert first["图层"] == "儿童" and first["详情"].startswith("修改：")
    assert "就学情况：" in first["详情"] and "→ 石溪小学" in first["详情"]
    assert "→ 散居孤儿、其他困境儿童" in first["详情"]  # codes shown by their Chinese names
    assert second["详情"] == "修改：无变化"
    assert records.loc["X1:F1:drainage", "详情"] == (
        "新增：排查项编号：X1:F1:drainage；类别：固定排查项；状态：待排查"
    )
    # No codes or JSON keys left in what staff read (but the sweep item's id, which names its
    # item in Latin letters, as the sweep writes it).
    shown = table.drop(columns=["账号", "记录"]).map(str)
    latin = shown.apply(lambda c: c.str.replace("X1:F1:drainage", "").str.contains("[A-Za-z_]{4,}"))
    assert not latin.any().any(), shown


def test_accounts_hash_lock_out_and_audit(store):
    accounts = store.accounts()
    assert accounts.count_users() == 0  # no default account, no default password
    with pytest.raises(AccountError, match="至少"):
        accounts.add_user("admin", "county_admin", ["999901"], "short")
    accounts.add_user("admin", "county_admin", ["999901"], PASSWORD)
    stored = accounts.engine.connect().execute(sa.text("SELECT password_hash FROM shouhu_users"))
    assert stored.scalar_one().startswith("$argon2id$")
    scope = accounts.authenticate("admin", PASSWORD)
    assert scope.role == "county_admin" and scope.codes == ("999901",)
    for _ in range(MAX_FAILURES):
        with pytest.raises(AccountError, match="用户名或口令错误"):
            accounts.authenticate("admin", "wrong-password-1")
    with pytest.raises(AccountError, match="锁定"):
        accounts.authenticate("admin", PASSWORD)  # even the right password, while locked
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)
    assert accounts.authenticate("admin", PASSWORD, now=later).username == "admin"
    accounts.set_disabled("admin")
    with pytest.raises(AccountError, match="停用"):
        accounts.authenticate("admin", PASSWORD, now=later)
    actions = list(accounts.audit_rows(username="admin")["action"])
    assert actions.count("login_failed") == MAX_FAILURES + 2 and actions.count("login") == 2
    assert "user_add" in list(accounts.audit_rows()["action"])


def test_audit_log_is_append_only_on_geopackage(tmp_path, gpkg_template):
    import shutil

    from layers.store.gpkg import GeoPackageStore

    path = tmp_path / "a.gpkg"
    shutil.copyfile(gpkg_template, path)
    accounts = GeoPackageStore(path).accounts()
    accounts.audit("u", "export", layer="children", rows=3)
    for statement in ("UPDATE shouhu_audit SET rows = 0", "DELETE FROM shouhu_audit"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with accounts.engine.begin() as con:
                con.execute(sa.text(statement))
    assert len(accounts.audit_rows()) == 1


# -- past the app: raw SQL as the app's database role on PostGIS --------------------------------


@pytest.fixture(scope="module")
def app_role_url(pg_server, pg_template, demo_frames):
    """A database with the demo data and a login role that is a member of shouhu_app."""
    from layers.store.postgis import PostGISStore

    url = pg_server.create_database(f"rls_{id(demo_frames) % 100000}", template=pg_template)
    owner = PostGISStore(url)
    owner.write_layers(demo_frames, replace=True)
    owner.close()
    # The documented command, run twice: the second run only resets the password.
    env = {**os.environ, "SHOUHU_APP_PASSWORD": "web-pass-first-1"}
    for password in ("web-pass-first-1", "web-pass-final-2"):
        env["SHOUHU_APP_PASSWORD"] = password
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "db", "app-role", "shouhu_web", "--store", url],
            env=env, capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "DATABASE_URL=postgresql://shouhu_web:<口令>@" in done.stdout
        assert password not in done.stdout + done.stderr
    return sa.engine.make_url(url).set(username="shouhu_web", password="web-pass-final-2")


@pytest.mark.postgis
def test_raw_sql_as_the_app_role_sees_only_the_scope(app_role_url, demo_frames):
    mine, other = _villages(demo_frames)[:2]
    engine = sa.create_engine(app_role_url)
    with engine.connect() as con:
        role = con.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        assert role.scalar_one() is False
        # No scope set: nothing is visible.
        assert con.execute(sa.text("SELECT count(*) FROM children")).scalar_one() == 0
        assert con.execute(sa.text("SELECT count(*) FROM households")).scalar_one() == 0
    with engine.begin() as con:
        con.execute(sa.text("SELECT set_config('shouhu.scope', :c, true)"), {"c": mine})
        codes = con.execute(sa.text("SELECT DISTINCT village_code FROM children")).scalars().all()
        assert codes == [mine]
        hidden = con.execute(
            sa.text("SELECT count(*) FROM children WHERE village_code = :o"), {"o": other}
        )
        assert hidden.scalar_one() == 0
        changed = con.execute(
            sa.text("UPDATE children SET name = 'x' WHERE village_code = :o"), {"o": other}
        )
        assert changed.rowcount == 0
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        with engine.begin() as con:
            con.execute(sa.text("SELECT set_config('shouhu.scope', :c, true)"), {"c": mine})
            con.execute(
                sa.text("UPDATE children SET village_code = :o WHERE village_code = :m"),
                {"o": other, "m": mine},
            )
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
        with engine.begin() as con:
            con.execute(sa.text("DELETE FROM shouhu_audit"))
    with pytest.raises(sa.exc.ProgrammingError, match="must be owner"):
        with engine.begin() as con:
            con.execute(sa.text("ALTER TABLE children DISABLE ROW LEVEL SECURITY"))
    engine.dispose()


@pytest.mark.postgis
def test_the_app_role_writes_and_upserts_inside_its_scope_only(app_role_url, demo_frames):
    from layers.errors import StoreError
    from layers.store.postgis import PostGISStore

    mine, other = _villages(demo_frames)[:2]
    web = PostGISStore(app_role_url.render_as_string(hide_password=False))
    scope = Scope("d_web", "village_director", (mine,))
    director = ScopedStore(web, scope)
    home = demo_frames["households"].query("village_code == @mine").head(1).copy()
    home["household_id"] = "HWEB0001"
    director.write_layers({"households": home})
    home["address"] = "新地址 1 号"
    director.write_layers({"households": home}, upsert=True)  # same key: replaced, not doubled
    stored = director.read_layer("households", village_codes=[mine])
    assert stored.set_index("household_id").loc["HWEB0001", "address"] == "新地址 1 号"
    change = director.accounts().audit_rows(username="d_web", action="write_record")
    assert json.loads(change["detail"].iloc[0])["new"] == {"address": mask_address("新地址 1 号")}
    away = home.assign(household_id="HWEB0002", village_code=other)
    with pytest.raises(AccessDenied):
        director.write_layers({"households": away})
    with pytest.raises(StoreError):  # past the app's check, row-level security refuses it
        web.write_layers({"households": away}, scope=scope)
    with pytest.raises(AccessDenied):  # reference layers too are written only in scope
        director.write_layers(
            {"water_bodies": demo_frames["water_bodies"].query("village_code == @other").head(1)}
        )
    web.close()


def test_cli_user_commands_and_scoped_risk_export(
    tmp_path, fresh_demo_gpkg, demo_frames, monkeypatch
):
    """`shouhu user add|list|disable` and `shouhu risk --user`: only the village, and logged."""
    from app.cli import main
    from layers.store.gpkg import GeoPackageStore

    path = fresh_demo_gpkg
    mine = _villages(demo_frames)[0]
    monkeypatch.setenv("SHOUHU_NEW_PASSWORD", PASSWORD)
    args = ["--store", str(path)]
    assert main(["user", "add", "d1", "--role", "village_director", "--scope", mine, *args]) == 0
    assert main(["user", "add", "d1", "--role", "village_director", "--scope", mine, *args]) == 2
    assert main(["user", "add", "x", "--role", "village_director", "--scope", "99", *args]) == 2
    monkeypatch.setenv("SHOUHU_PASSWORD", PASSWORD)
    out = tmp_path / "risk.csv"
    assert main(["risk", "--user", "d1", "--out", str(out), "--as-of", "2026-08-01", *args]) == 0
    rows = pd.read_csv(out, dtype=str)
    assert len(rows) > 0 and set(rows["village_code"]) == {mine}

    audit = GeoPackageStore(path).accounts().audit_rows(action="export")
    assert audit.iloc[0]["username"] == "d1" and audit.iloc[0]["rows"] == len(rows)
    assert main(["user", "disable", "d1", *args]) == 0
    assert main(["risk", "--user", "d1", "--out", str(out), *args]) == 2


def test_child_register_is_scoped_masked_and_logged(demo_store, demo_frames):
    from app.register_service import child_register, log_export

    mine, other = _villages(demo_frames)[:2]
    director = ScopedStore(demo_store, Scope("reg_d", "village_director", (mine,)))
    assert child_register(director, [other], {}, reveal=False).empty
    table = child_register(director, [mine], {}, reveal=False)
    children = demo_frames["children"].query("village_code == @mine")
    assert len(table) == len(children)
    for column, label in (
        ("name", "姓名"),
        ("id_number", "身份证号"),
        ("guardian_phone", "监护人电话"),
    ):
        assert not set(table[label].dropna()) & set(children[column].dropna()), column
    full = child_register(director, [mine], {}, reveal=True)
    assert set(full["身份证号"].dropna()) == set(children["id_number"].dropna())
    log_export(director, table, "csv", False, [mine])
    audit = demo_store.accounts().audit_rows(username="reg_d")
    assert list(audit["action"]) == ["export", "reveal", "view", "view"]
    logged = json.loads(audit["detail"].iloc[1])["child_ids"]
    assert sorted(logged) == sorted(children["child_id"])
    for role in ("viewer", "patrol_member"):
        viewer = ScopedStore(demo_store, Scope("reg_v", role, (mine[:9],)))
        with pytest.raises(AccessDenied):
            child_register(viewer, [mine], {}, reveal=False)


def test_app_role_command_refuses_bad_names_and_the_geopackage(tmp_path, pg_server, pg_template):
    env = {**os.environ, "SHOUHU_APP_PASSWORD": "web-pass-first-1"}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "app.cli", "db", "app-role", *args],
            env=env, capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip

    gpkg = run("shouhu_web", "--store", str(tmp_path / "x.gpkg"))
    assert gpkg.returncode == 2 and "只用于 PostGIS" in gpkg.stderr
    bad = run("Robert'); DROP TABLE children;--", "--store", pg_server.url(pg_template))
    assert bad.returncode == 2 and "角色名" in bad.stderr and "Traceback" not in bad.stderr


def test_first_admin_without_a_terminal_says_how_to_give_the_password(fresh_demo_gpkg):
    """`make run` started by a service or nohup: no prompt can be answered, so a Chinese
    message names the variable to set instead of a traceback, and no account is made."""
    from layers.store.gpkg import GeoPackageStore

    path = fresh_demo_gpkg
    env = {k: v for k, v in os.environ.items() if k != "SHOUHU_NEW_PASSWORD"}

    def first_admin(**extra):
        return subprocess.run(
            [sys.executable, "-m", "app.cli", "user", "first-admin", "--store", str(path)],
            env={**env, **extra}, capture_output=True, text=True, cwd=ROOT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip

    none = first_admin()
    assert none.returncode == 2 and "Traceback" not in none.stderr
    assert "SHOUHU_NEW_PASSWORD" in none.stderr and "终端" in none.stderr
    assert GeoPackageStore(path).accounts().count_users() == 0
    given = first_admin(SHOUHU_NEW_PASSWORD=PASSWORD)
    assert given.returncode == 0 and GeoPackageStore(path).accounts().count_users() == 1


def test_cli_password_is_asked_only_after_the_account_is_checked(
    fresh_demo_gpkg, demo_frames, monkeypatch, capsys
):
    """Without SHOUHU_NEW_PASSWORD the password is read from the terminal or a pipe, and only
    once the name, role and scope are known to be right: a typo is not found after typing a
    password twice. With neither terminal nor pipe, one Chinese message (no English warning)."""
    import io

    from app.cli import main
    from layers.store.gpkg import GeoPackageStore

    monkeypatch.delenv("SHOUHU_NEW_PASSWORD", raising=False)
    mine = _villages(demo_frames)[0]
    args = ["--store", str(fresh_demo_gpkg)]
    add = ["user", "add", "d2", "--role", "village_director", "--scope", mine, *args]

    def run(argv, typed):
        monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
        code = main(argv)
        return code, capsys.readouterr().err, sys.stdin.read()

    code, err, unread = run(["user", "passwd", "nobody", *args], f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 2 and "没有登录名为“nobody”的账号" in err and unread == f"{PASSWORD}\n" * 2
    code, err, unread = run(add, "")
    assert code == 2 and "没有可以输入口令的终端" in err and "Warning" not in err
    code, err, unread = run(add, f"{PASSWORD}\nanother-one-42\n")
    assert code == 2 and "两次输入的口令不一致" in err
    assert run(add, f"{PASSWORD}\n{PASSWORD}\n")[0] == 0
    assert GeoPackageStore(fresh_demo_gpkg).accounts().authenticate("d2", PASSWORD).username == "d2"
    code, err, unread = run(add, f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 2 and "登录名“d2”已存在" in err and unread == f"{PASSWORD}\n" * 2
