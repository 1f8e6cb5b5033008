"""Shared fixtures: demo data, a PostGIS server, and one `store` fixture over both backends.

Set SHOUHU_REQUIRE_ALL=1 (make test does) or CI=true to turn every skip into a failure: a
PostGIS or browser test that did not run must not pass silently.
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from layers import demo
from layers.store.gpkg import GeoPackageStore
from layers.store.postgis import PostGISStore
from tests.pg_server import PostgresUnavailable, TempPostgres

REQUIRE_ALL = os.environ.get("SHOUHU_REQUIRE_ALL") == "1" or os.environ.get("CI") == "true"
ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["gpkg", "postgis"]


def unavailable(reason: str) -> None:
    """Skip locally; fail when every test must run."""
    if REQUIRE_ALL:
        pytest.fail(f"required test could not run: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if REQUIRE_ALL and skipped and exitstatus == 0:
        reporter.write_line(f"FAILED: {skipped} test(s) skipped while SHOUHU_REQUIRE_ALL/CI is set")
        session.exitstatus = 1


# -- demo data ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_frames():
    """The demo township for seed 7 (generated once per session; treat as read-only)."""
    return demo.generate(seed=7, scale="town")


# -- PostgreSQL ---------------------------------------------------------------------------------


class ExternalPostgres:
    """A server given by TEST_DATABASE_URL (a role allowed to create databases)."""

    def __init__(self, url: str):
        self.base = sa.engine.make_url(PostGISStore(url).url)
        self.engine = sa.create_engine(self.base, isolation_level="AUTOCOMMIT")

    def create_database(self, name: str, postgis: bool = True, template: str | None = None) -> str:
        with self.engine.connect() as con:
            tpl = f' TEMPLATE "{template}"' if template else ""
            con.execute(sa.text(f'CREATE DATABASE "{name}"{tpl}'))
        url = self.url(name)
        if postgis and not template:
            with sa.create_engine(url).begin() as con:
                con.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        return url

    def url(self, db: str) -> str:
        return self.base.set(database=db).render_as_string(hide_password=False)

    def stop(self) -> None:
        self.engine.dispose()


class _Temp(TempPostgres):
    def create_database(self, name: str, postgis: bool = True, template: str | None = None) -> str:
        if template:
            self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return self.url(name)
        return super().create_database(name, postgis=postgis)


@pytest.fixture(scope="session")
def pg_server():
    """A running PostgreSQL with PostGIS available, for the whole session."""
    url = os.environ.get("TEST_DATABASE_URL")
    try:
        server = ExternalPostgres(url) if url else _Temp().start()
    except PostgresUnavailable as exc:
        unavailable(f"PostGIS server unavailable: {exc}")
    yield server
    server.stop()


_db_names = (f"shouhu_t{os.getpid()}_{n}" for n in itertools.count())


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:
    """A database migrated to head, cloned for each test that needs an empty store."""
    name = next(_db_names)
    url = pg_server.create_database(name, postgis=True)
    store = PostGISStore(url)
    store.upgrade()
    store.close()
    return name


@pytest.fixture
def new_pg_db(pg_server):
    """Factory: a new empty database URL (with or without PostGIS, not migrated)."""

    def make(postgis: bool = True) -> str:
        return pg_server.create_database(next(_db_names), postgis=postgis)

    return make


# -- stores -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def gpkg_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.gpkg"
    GeoPackageStore(path).upgrade()
    return path


def _empty_store(kind: str, request, tmp_path):
    if kind == "gpkg":
        path = tmp_path / "store.gpkg"
        shutil.copyfile(request.getfixturevalue("gpkg_template"), path)
        return GeoPackageStore(path)
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template")
    return PostGISStore(server.create_database(next(_db_names), template=template))


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    """An empty, migrated store on each backend: the same test body runs on both."""
    s = _empty_store(request.param, request, tmp_path)
    yield s
    s.close()


@pytest.fixture(scope="session", params=BACKENDS)
def demo_store(request, tmp_path_factory, demo_frames):
    """A store holding the demo township on each backend (read-only for tests)."""
    s = _empty_store(request.param, request, tmp_path_factory.mktemp(request.param))
    s.write_layers(demo_frames, replace=True)
    yield s
    s.close()


@pytest.fixture
def fresh_demo_gpkg(tmp_path, gpkg_template, demo_frames) -> Path:
    """A GeoPackage of the demo this test may change."""
    path = tmp_path / "demo.gpkg"
    shutil.copyfile(gpkg_template, path)
    GeoPackageStore(path).write_layers(demo_frames, replace=True)
    return path


def app_as(monkeypatch, path: Path, scope, timeout: int = 120):
    """The real Streamlit app (AppTest) on a GeoPackage, logged in with `scope`."""
    import time

    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOUHU_STORE", str(path))
    at = AppTest.from_file(str(ROOT / "app" / "streamlit_app.py"), default_timeout=timeout)
    at.session_state["scope"] = scope
    at.session_state["last_active"] = time.monotonic()
    at.run()
    assert not at.exception, at.exception
    return at
