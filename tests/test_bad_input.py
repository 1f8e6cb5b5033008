"""Wrong stores get one clear Chinese message and a non-zero exit; passwords never shown."""

import sqlite3
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from streamlit.testing.v1 import AppTest

from app.cli import main
from layers.store.gpkg import META_TABLE, GeoPackageStore

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_missing_file(capsys, tmp_path):
    code, _, err = run_cli(capsys, "db", "check", "--store", str(tmp_path / "nope.gpkg"))
    assert code == 2
    assert "找不到数据文件" in err and "shouhu demo" in err
    assert "Traceback" not in err


def test_directory_text_file_and_plain_sqlite_are_not_geopackages(capsys, tmp_path):
    code, _, err = run_cli(capsys, "layers", "--store", str(tmp_path))
    assert code == 2 and "是文件夹" in err
    text = tmp_path / "ledger.gpkg"
    text.write_text("序号,姓名\n1,张三\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "layers", "--store", str(text))
    assert code == 2 and "不是 GeoPackage 文件" in err
    plain = tmp_path / "plain.gpkg"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.commit()
    code, _, err = run_cli(capsys, "layers", "--store", str(plain))
    assert code == 2 and "gpkg_contents" in err


def test_foreign_geopackage_and_old_schema_are_named_with_the_fix(capsys, tmp_path):
    foreign = tmp_path / "qgis.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"a": [1]}), foreign, layer="x")
    code, _, err = run_cli(capsys, "layers", "--store", str(foreign))
    assert code == 2 and "不是守护数据库" in err and "shouhu db upgrade" in err

    old = tmp_path / "old.gpkg"
    GeoPackageStore(old).upgrade()
    with sqlite3.connect(old) as con:
        con.execute(f"UPDATE {META_TABLE} SET value='0'")
    code, _, err = run_cli(capsys, "db", "check", "--store", str(old))
    assert code == 2 and "低于本程序需要的" in err and "shouhu db upgrade" in err
    code, out, _ = run_cli(capsys, "db", "upgrade", "--store", str(old))
    assert code == 0 and "已是最新" in out
    assert run_cli(capsys, "db", "check", "--store", str(old))[0] == 0


def test_unreachable_database_hides_the_password(capsys):
    code, _, err = run_cli(
        capsys, "db", "check", "--store", "postgresql://shouhu:s3cretPW@127.0.0.1:1/shouhu"
    )
    assert code == 2
    assert "无法连接数据库" in err and "shouhu:***@127.0.0.1:1" in err
    assert "s3cretPW" not in err


def test_unsupported_url_and_wrong_demo_target(capsys):
    code, _, err = run_cli(capsys, "db", "check", "--store", "mysql://u:p@h/db")
    assert code == 2 and "不支持的数据库地址" in err and "u:p" not in err
    code, _, err = run_cli(capsys, "demo", "--out", "demo.txt")
    assert code == 2 and ".gpkg" in err


def test_the_demo_does_not_replace_an_existing_store_unless_asked(capsys, tmp_path):
    from layers.store.gpkg import GeoPackageStore

    path = tmp_path / "real.gpkg"
    assert run_cli(capsys, "demo", "--out", str(path))[0] == 0
    store = GeoPackageStore(path)
    store.accounts().add_user("admin", "county_admin", ["990101"], "correct-horse-42")
    code, _, err = run_cli(capsys, "demo", "--out", str(path), "--seed", "2")
    assert code == 2 and "已存在" in err and "--replace" in err
    assert GeoPackageStore(path).accounts().count_users() == 1
    assert run_cli(capsys, "demo", "--out", str(path), "--seed", "2", "--replace")[0] == 0
    assert GeoPackageStore(path).accounts().count_users() == 0


def test_the_demo_does_not_replace_a_database_with_children_unless_asked(capsys, new_pg_db):
    url = new_pg_db(postgis=True)
    assert run_cli(capsys, "demo", "--out", url)[0] == 0  # an empty database: written
    code, _, err = run_cli(capsys, "demo", "--out", url)
    assert code == 2 and "条家庭户和儿童记录" in err and "--replace" in err
    assert run_cli(capsys, "demo", "--out", url, "--replace")[0] == 0


def test_database_without_postgis_or_schema(capsys, new_pg_db):
    bare = new_pg_db(postgis=False)
    code, _, err = run_cli(capsys, "db", "check", "--store", bare)
    assert code == 2 and "未安装 PostGIS" in err
    behind = new_pg_db(postgis=True)
    code, _, err = run_cli(capsys, "layers", "--store", behind)
    assert code == 2 and "数据库结构版本（空）" in err and "shouhu db upgrade" in err
    code, out, _ = run_cli(capsys, "db", "upgrade", "--store", behind)
    assert code == 0, out
    assert run_cli(capsys, "db", "check", "--store", behind)[0] == 0


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("{tmp}/bad.gpkg", "不是 GeoPackage 文件"),
        ("postgresql://app:hunter2pw@127.0.0.1:1/db", "无法连接数据库"),
    ],
)
def test_app_shows_one_chinese_message_not_a_traceback(monkeypatch, tmp_path, spec, expected):
    (tmp_path / "bad.gpkg").write_bytes(b"not a geopackage")
    spec = spec.format(tmp=tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOUHU_STORE" if "://" not in spec else "DATABASE_URL", spec)
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert expected in message
    assert "hunter2pw" not in message
