"""PostGIS backend: SQLAlchemy 2 + GeoAlchemy2 + psycopg 3, schema by Alembic migrations."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from layers.catalogue import Layer
from layers.errors import SchemaBehindError, StoreError, mask_url, scrub
from layers.schema import GEOMETRY_COLUMN, TABLES
from layers.store.base import Bbox, Store

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["url"] = url
    return cfg


class PostGISStore(Store):
    """A store in a PostgreSQL database with PostGIS."""

    kind = "postgis"

    def __init__(self, url: str):
        self.url = normalise_url(url)
        self._password = make_url(self.url).password
        self.engine = sa.create_engine(self.url, pool_pre_ping=True)

    def describe(self) -> str:
        return f"PostGIS 数据库 {mask_url(make_url(self.url).render_as_string(hide_password=True))}"

    def _fail(self, what: str, exc: Exception) -> StoreError:
        detail = scrub(str(getattr(exc, "orig", exc) or exc), self._password).strip()
        first = detail.splitlines()[0] if detail else ""
        return StoreError(f"{what}（{self.describe()}）：{first}", detail)

    def _connect(self):
        try:
            return self.engine.connect()
        except sa.exc.OperationalError as exc:
            raise self._fail(
                "无法连接数据库。请检查 DATABASE_URL 中的主机、端口、用户名和密码，"
                "并确认数据库服务已启动",
                exc,
            ) from exc

    # -- schema -----------------------------------------------------------------------------

    def current_revision(self) -> str | None:
        with self._connect() as con:
            return MigrationContext.configure(con).get_current_revision()

    @staticmethod
    def head_revision() -> str:
        return ScriptDirectory.from_config(alembic_config("")).get_current_head()

    def check(self) -> None:
        with self._connect() as con:
            has_postgis = con.execute(
                sa.text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
            ).scalar()
            current = MigrationContext.configure(con).get_current_revision()
        if not has_postgis:
            raise StoreError(
                f"数据库未安装 PostGIS 扩展（{self.describe()}）。请安装 postgresql-15-postgis-3，"
                "并由数据库管理员执行 CREATE EXTENSION postgis，然后运行 “shouhu db upgrade”。"
            )
        head = self.head_revision()
        if current != head:
            raise SchemaBehindError(
                f"数据库结构版本（{current or '空'}）不是本程序需要的 {head}（{self.describe()}）。"
                "请先备份数据库，再运行 “shouhu db upgrade”。"
            )

    def upgrade(self) -> None:
        with self._connect():
            pass  # a clear message if unreachable, before Alembic's own traceback
        try:
            command.upgrade(alembic_config(self.url), "head")
        except sa.exc.SQLAlchemyError as exc:
            raise self._fail("数据库结构升级失败", exc) from exc

    # -- data -------------------------------------------------------------------------------

    def _write(self, frames: dict[str, pd.DataFrame], replace: bool) -> None:
        self.check()
        try:
            with self.engine.begin() as con:
                for name, frame in frames.items():
                    if replace:
                        con.execute(TABLES[name].delete())
                    if not len(frame):
                        continue
                    if isinstance(frame, gpd.GeoDataFrame):
                        out = frame.rename_geometry(GEOMETRY_COLUMN)
                        out.to_postgis(name, con, if_exists="append", index=False, chunksize=20000)
                    else:
                        frame.to_sql(name, con, if_exists="append", index=False, chunksize=20000)
        except (sa.exc.IntegrityError, psycopg.errors.UniqueViolation) as exc:
            raise self._fail("写入失败，已有相同编号的记录，未写入任何数据", exc) from exc
        except (sa.exc.SQLAlchemyError, psycopg.Error) as exc:
            raise self._fail("写入数据库失败，未写入任何数据", exc) from exc

    def _read(
        self, layer: Layer, bbox: Bbox | None, code_filter: tuple[str, list[str]] | None
    ) -> pd.DataFrame:
        self.check()
        table = TABLES[layer.name]
        stmt = sa.select(table)
        if code_filter is not None:
            column, codes = code_filter
            stmt = stmt.where(table.c[column].in_(codes))
        if bbox is not None:
            envelope = sa.func.ST_MakeEnvelope(*map(float, bbox), 4326)
            stmt = stmt.where(sa.func.ST_Intersects(table.c[GEOMETRY_COLUMN], envelope))
        stmt = stmt.order_by(table.c[layer.key])
        with self._connect() as con:
            if layer.geometry is not None:
                frame = gpd.read_postgis(stmt, con, geom_col=GEOMETRY_COLUMN, crs=4326)
                return frame.rename_geometry("geometry")
            return pd.read_sql(stmt, con)

    def count(self, name: str) -> int:
        self.check()
        with self._connect() as con:
            return int(con.execute(sa.select(sa.func.count()).select_from(TABLES[name])).scalar())

    def close(self) -> None:
        self.engine.dispose()
