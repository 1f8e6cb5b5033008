"""PostGIS backend: SQLAlchemy 2 + GeoAlchemy2 + psycopg 3, schema by Alembic migrations."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import psycopg.sql
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from geo.crs import STORAGE_EPSG
from geo.proximity import Proximity, check_radii, default_radii
from layers.access import Scope
from layers.accounts import Accounts, check_password
from layers.catalogue import LAYERS, Layer
from layers.errors import SchemaBehindError, StoreError, mask_url, scrub
from layers.evidence import Evidence
from layers.schema import GEOMETRY_COLUMN, METRIC_COLUMN, SETTINGS, SPATIAL_TABLES, TABLES
from layers.store import pg_copy, pg_proximity
from layers.store.base import ANALYSIS_EPSG, Bbox, Store, _code_filter

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# Hazards around child facilities: the same exact distances in the analysis CRS, and the
# bearing to the hazard's closest point (NULL when the facility is on or inside it).
_SWEEP_SQL = """
SELECT f.facility_id, x.{key} AS hazard_id, '{kind}' AS hazard_kind, x.{type_col} AS type_code,
       x.name AS hazard_name, ST_Distance(f.geom_m, x.geom_m) AS distance_m,
       degrees(ST_Azimuth(f.geom_m, ST_ClosestPoint(x.geom_m, f.geom_m))) AS bearing
FROM facilities f
JOIN {table} x ON ST_DWithin(f.geom_m, x.geom_m, {radius_case})
WHERE {where}
"""
_SWEEP_LAYERS = (
    ("slope", "slopes", "slope_id", "hazard_grade"),
    ("water", "water_bodies", "water_id", "water_type"),
    ("other", "point_hazards", "hazard_id", "hazard_type"),
)


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


APP_LOGIN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class PostGISStore(Store):
    """A store in a PostgreSQL database with PostGIS."""

    kind = "postgis"

    def __init__(self, url: str):
        self.url = normalise_url(url)
        self._password = make_url(self.url).password
        # No JIT: compiling costs PostGIS joins more (~0.4 s a query here) than it saves.
        # ISO dates: layers are read as CSV (layers/store/pg_copy.py), whatever the server's
        # default DateStyle.
        self.engine = sa.create_engine(
            self.url,
            pool_pre_ping=True,
            connect_args={"options": "-c jit=off -c DateStyle=ISO,YMD"},
        )

    def describe(self) -> str:
        return f"PostGIS 数据库 {mask_url(make_url(self.url).render_as_string(hide_password=True))}"

    def _fail(self, what: str, exc: Exception) -> StoreError:
        detail = scrub(str(getattr(exc, "orig", exc) or exc), self._password).strip()
        first = detail.splitlines()[0] if detail else ""
        return StoreError(f"{what}（{self.describe()}）：{first}", detail)

    def _connect(self, scope: Scope | None = None):
        """A connection; with a scope, its codes are set for row-level security in the
        transaction that the first statement opens (set_config(..., true) ends with it)."""
        try:
            con = self.engine.connect()
            if scope is not None:
                con.execute(
                    sa.text("SELECT set_config('shouhu.scope', :codes, true)"),
                    {"codes": scope.setting()},
                )
            return con
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
        self._checked = False  # the schema is about to change
        with self._connect():
            pass  # a clear message if unreachable, before Alembic's own traceback
        try:
            command.upgrade(alembic_config(self.url), "head")
        except sa.exc.SQLAlchemyError as exc:
            raise self._fail("数据库结构升级失败", exc) from exc

    # -- data -------------------------------------------------------------------------------

    def _write(
        self,
        frames: dict[str, pd.DataFrame],
        replace: bool,
        upsert: bool,
        scope: Scope | None = None,
    ) -> None:
        self._ready()
        try:
            with self.engine.begin() as con:
                if scope is not None:  # row-level security checks the rows against it
                    con.execute(
                        sa.text("SELECT set_config('shouhu.scope', :codes, true)"),
                        {"codes": scope.setting()},
                    )
                for name, frame in frames.items():
                    table = TABLES[name]
                    if replace:
                        con.execute(table.delete())
                    elif upsert and len(frame):
                        key = table.c[LAYERS[name].key]
                        keys = list(frame[LAYERS[name].key].astype(str))
                        for start in range(0, len(keys), 5000):
                            con.execute(table.delete().where(key.in_(keys[start : start + 5000])))
                    if not len(frame):
                        continue
                    if scope is not None:  # COPY is not allowed under row-level security
                        con.execute(table.insert(), _records(frame))
                    elif isinstance(frame, gpd.GeoDataFrame):
                        out = frame.rename_geometry(GEOMETRY_COLUMN)
                        out.to_postgis(name, con, if_exists="append", index=False, chunksize=20000)
                    else:
                        frame.to_sql(name, con, if_exists="append", index=False, chunksize=20000)
        except (sa.exc.IntegrityError, psycopg.errors.UniqueViolation) as exc:
            raise self._fail("写入失败，已有相同编号的记录，未写入任何数据", exc) from exc
        except (sa.exc.SQLAlchemyError, psycopg.Error) as exc:
            raise self._fail("写入数据库失败，未写入任何数据", exc) from exc

    def _read(
        self,
        layer: Layer,
        bbox: Bbox | None,
        code_filter: tuple[str, list[str]] | None,
        columns: list[str] | None = None,
        scope: Scope | None = None,
        arrow_text: bool = False,  # conform converts the text read
    ) -> pd.DataFrame:
        self._ready()
        table = TABLES[layer.name]
        names = columns if columns is not None else layer.column_names
        selected = [table.c[n] for n in names]
        if layer.geometry is not None:
            selected.append(pg_copy.hex_wkb(table.c[GEOMETRY_COLUMN]))
        stmt = sa.select(*selected)
        if code_filter is not None:
            column, codes = code_filter
            stmt = stmt.where(table.c[column].in_(codes))
        if bbox is not None:
            envelope = sa.func.ST_MakeEnvelope(*map(float, bbox), 4326)
            stmt = stmt.where(sa.func.ST_Intersects(table.c[GEOMETRY_COLUMN], envelope))
        if scope is not None:
            stmt = stmt.where(_in_scope(table, scope))
        stmt = stmt.order_by(table.c[layer.key])
        with self._connect(scope) as con:
            frame = pg_copy.read_frame(con, stmt, {n: layer.column(n).kind for n in names})
        if layer.geometry is not None:
            return gpd.GeoDataFrame(frame, geometry=pg_copy.GEOMETRY_LABEL, crs=4326)
        return frame

    def accounts(self) -> Accounts:
        self._ready()
        return Accounts(self.engine)

    def evidence(self) -> Evidence:
        """Evidence files; each connection sets the user's scope for row-level security."""
        self._ready()
        return Evidence(self._connect)

    def get_setting(self, key: str) -> str | None:
        self._ready()
        with self._connect() as con:
            return con.execute(
                sa.select(SETTINGS.c.value).where(SETTINGS.c.key == key)
            ).scalar_one_or_none()

    def _set_setting(self, key: str, value: str) -> None:
        self._ready()
        with self.engine.begin() as con:
            con.execute(SETTINGS.delete().where(SETTINGS.c.key == key))
            con.execute(SETTINGS.insert().values(key=key, value=value))
            if key == ANALYSIS_EPSG:  # re-project every metric geometry in the same transaction
                for name in SPATIAL_TABLES:
                    con.execute(
                        sa.text(f"UPDATE {name} SET {METRIC_COLUMN} = ST_Transform(geom, :srid)"),
                        {"srid": int(value)},
                    )

    def proximity(
        self,
        radius_by_type: dict[str, float] | None = None,
        village_codes: list[str] | None = None,
        scope: Scope | None = None,
        layers: tuple | None = None,
    ) -> Proximity:
        """The same facts as the in-process engine, computed in the database on geom_m
        (`layers` already read by the caller are not needed: nothing is pulled into Python)."""
        radius = check_radii(radius_by_type or default_radii())
        self._ready()
        self.analysis_crs()  # a clear message when no CRS is set yet
        conditions, params = [], {}
        if village_codes is not None:
            column, codes = _code_filter(LAYERS["households"], village_codes)
            conditions.append(f"h.{column} = ANY(:codes)")
            params["codes"] = codes
        if scope is not None:
            scope.check_layer("households")
            conditions.append(
                "EXISTS (SELECT 1 FROM unnest(CAST(:scope AS text[])) AS s(code) "
                "WHERE left(h.village_code, length(s.code)) = s.code)"
            )
            params["scope"] = list(scope.codes)
        return pg_proximity.proximity(lambda: self._connect(scope), radius, conditions, params)

    def data_revision(self, names: list[str], scope: Scope | None = None) -> str:
        """Per layer: the row count and the sum of the rows' creating transaction ids (xmin),
        which an insert, update or delete by any client changes; within the scope's rows."""
        self._ready()
        token = "count(*) || '/' || coalesce(sum(xmin::text::bigint), 0)"
        sums = ", ".join(f"(SELECT {token} FROM {TABLES[n].name})" for n in names)
        with self._connect(scope) as con:
            return "|".join(map(str, con.execute(sa.text(f"SELECT {sums}")).one()))

    def person_rows(self) -> int:
        """Households and children held, whatever the schema version (0 before the tables
        exist; no check(), so an older schema counts too): what a demo would replace."""
        with self._connect() as con:
            if not con.execute(sa.text("SELECT to_regclass('households') IS NOT NULL")).scalar():
                return 0
            sql = "SELECT (SELECT count(*) FROM households) + (SELECT count(*) FROM children)"
            return int(con.execute(sa.text(sql)).scalar())

    def count(self, name: str, scope: Scope | None = None) -> int:
        self._ready()
        stmt = sa.select(sa.func.count()).select_from(TABLES[name])
        if scope is not None:
            stmt = stmt.where(_in_scope(TABLES[name], scope))
        with self._connect(scope) as con:
            return int(con.execute(stmt).scalar())

    def create_app_login(self, name: str, password: str) -> None:
        """Create (or reset the password of) the login role the web app connects as: a member
        of shouhu_app that owns nothing and is no superuser. Run as the owner role."""
        if not APP_LOGIN_NAME.match(name or "") or name == "shouhu_app":
            raise StoreError(
                f"角色名“{name}”不可用：请用小写字母、数字和下划线，以字母开头（如 shouhu_web）。"
            )
        check_password(password)
        self._ready()
        ident, secret = psycopg.sql.Identifier(name), psycopg.sql.Literal(password)
        with self.engine.begin() as con:
            exists = con.execute(
                sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = :n"), {"n": name}
            ).first()
            if exists is not None and exists.rolsuper:
                raise StoreError(f"“{name}”是超级用户，不能作为应用连接角色。")
            verb = "ALTER" if exists is not None else "CREATE"
            statement = psycopg.sql.SQL(
                verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT PASSWORD {}"
            ).format(ident, secret)
            raw = con.connection.driver_connection
            raw.execute(statement)
            raw.execute(psycopg.sql.SQL("GRANT shouhu_app TO {}").format(ident))

    def hazards_around(
        self,
        radius_by_type: dict[str, float],
        village_codes: list[str] | None = None,
        facility_ids: list[str] | None = None,
    ) -> pd.DataFrame:
        """geo.sweep.hazards_around pushed down: ST_DWithin on the metric geometry (GIST)."""
        from geo import sweep

        self._ready()
        params: dict = {}
        cases = []
        for i, (ftype, radius) in enumerate(sorted(radius_by_type.items())):
            params[f"t{i}"], params[f"r{i}"] = ftype, float(radius)
            cases.append(f"WHEN :t{i} THEN :r{i}")
        radius_case = f"CASE f.facility_type {' '.join(cases)} ELSE :r_default END"
        params["r_default"] = sweep.DEFAULT_RADIUS_M
        where = ["true"]
        if village_codes is not None:
            where.append(
                "EXISTS (SELECT 1 FROM unnest(CAST(:codes AS text[])) AS c(code) "
                "WHERE left(f.village_code, length(c.code)) = c.code)"
            )
            params["codes"] = list(village_codes)
        if facility_ids is not None:
            where.append("f.facility_id = ANY(CAST(:ids AS text[]))")
            params["ids"] = list(facility_ids)
        sql = " UNION ALL ".join(
            _SWEEP_SQL.format(kind=kind, table=table, key=key, type_col=type_col,
                              radius_case=radius_case, where=" AND ".join(where))
            for kind, table, key, type_col in _SWEEP_LAYERS
        )  # fmt: skip
        with self._connect() as con:
            rows = con.execute(sa.text(sql), params).all()
        frame = pd.DataFrame(
            rows, columns=["facility_id", "hazard_id", "hazard_kind", "type_code", "hazard_name",
                           "distance_m", "bearing"],
        )  # fmt: skip
        frame["hazard_type"] = [
            sweep.type_label(k, c) for k, c in zip(frame["hazard_kind"], frame["type_code"],
                                                    strict=True)
        ]  # fmt: skip
        frame["direction"] = [
            sweep.direction_of_bearing(b, d)
            for b, d in zip(frame["bearing"], frame["distance_m"], strict=True)
        ]
        frame = frame[sweep.HAZARD_COLUMNS]
        return frame.sort_values(["facility_id", "distance_m", "hazard_id"], ignore_index=True)

    def close(self) -> None:
        self.engine.dispose()


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain Python values for an INSERT (geometry as WKB with the storage SRID)."""
    from geoalchemy2.elements import WKBElement

    plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).astype(object)
    plain = plain.where(plain.notna(), None)
    rows = plain.to_dict("records")
    if isinstance(frame, gpd.GeoDataFrame):
        for row, geom in zip(rows, frame.geometry, strict=True):
            row[GEOMETRY_COLUMN] = WKBElement(geom.wkb, srid=STORAGE_EPSG)
    for row in rows:
        for key, value in row.items():
            if hasattr(value, "item"):  # numpy scalar
                row[key] = value.item()
    return rows


def _in_scope(table: sa.Table, scope: Scope):
    """The row's village code starts with one of the scope's codes (row-level security holds
    the same rule for the app role; this keeps the owner's connections to it too)."""
    return sa.or_(*(table.c.village_code.startswith(code) for code in scope.codes))
