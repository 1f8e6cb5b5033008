"""GeoPackage backend: one .gpkg file (OGC standard, opens in QGIS), the zero-setup default.

Layers are written and read with pyogrio (GDAL), which keeps the GeoPackage's R-tree spatial
index; record tables without geometry are GeoPackage attribute tables. A write goes to a copy
of the file that replaces the original only when every layer is written, so a failed write
leaves the store exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyogrio

from geo import arrowtext
from layers.access import Scope
from layers.accounts import Accounts, sqlite_accounts
from layers.catalogue import LAYERS, Layer
from layers.errors import SchemaBehindError, StoreError
from layers.evidence import Evidence, sqlite_evidence
from layers.frames import empty_frame
from layers.store.base import Bbox, Store

# Bump whenever the catalogue changes a GeoPackage table, and make `upgrade` bring an older
# file there (`_add_missing_columns`, `_create_schema(skip=...)`, `_create_change_counters`).
SCHEMA_VERSION = 5  # 2: source_crs, point_hazards; 3: campaigns; 4: sweeps, sweep_items;
# 5: change counters (triggers) on every layer
META_TABLE = "shouhu_meta"
# Arrow text types as pandas' Arrow-backed text (`read_layer(arrow_text=True)`).
_ARROW_TEXT = {pa.string(): arrowtext.STR, pa.large_string(): arrowtext.STR}
GEOMETRY_COLUMN = "geom"


class GeoPackageStore(Store):
    """A store in a single GeoPackage file."""

    kind = "gpkg"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def describe(self) -> str:
        return f"GeoPackage 文件 {self.path}"

    # -- schema -----------------------------------------------------------------------------

    def schema_version(self) -> int | None:
        """The file's schema version; None if it is a GeoPackage that Shouhu never initialised."""
        _require_geopackage(self.path)
        with _connect(self.path) as con:
            has_meta = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (META_TABLE,)
            ).fetchone()
            if not has_meta:
                return None
            row = con.execute(
                f"SELECT value FROM {META_TABLE} WHERE key='schema_version'"
            ).fetchone()
        return int(row[0]) if row else None

    def check(self) -> None:
        version = self.schema_version()
        if version is None:
            raise SchemaBehindError(
                f"{self.path} 是 GeoPackage 文件，但不是守护数据库（缺少结构信息）。"
                f"请运行 “shouhu db upgrade --store {self.path}” 初始化，"
                "或用 “shouhu demo” 生成示范数据。"
            )
        if version < SCHEMA_VERSION:
            raise SchemaBehindError(
                f"{self.path} 的数据结构版本为 {version}，低于本程序需要的 {SCHEMA_VERSION}。"
                f"请先备份该文件，再运行 “shouhu db upgrade --store {self.path}”。"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} 由更新版本的守护创建（结构版本 {version}），请升级本程序后再打开。"
            )

    def upgrade(self) -> None:
        """Create the file with every catalogue layer, or add what an older version lacks."""
        self._checked = False  # the schema is about to change
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _staged_copy(self.path, exists=False) as tmp:
                _create_schema(tmp)
            return
        version = self.schema_version()
        if version is not None and version >= SCHEMA_VERSION:
            return
        with _staged_copy(self.path, exists=True) as tmp:
            existing = set(pyogrio.list_layers(tmp)[:, 0])
            _add_missing_columns(tmp, existing)
            _create_schema(tmp, skip=existing)

    # -- data -------------------------------------------------------------------------------

    def _write(
        self,
        frames: dict[str, pd.DataFrame],
        replace: bool,
        upsert: bool,
        scope: Scope | None = None,
    ) -> None:
        self._ready()
        with _staged_copy(self.path, exists=True) as tmp:
            with sqlite3.connect(tmp) as con:  # back if another program re-created a layer
                _create_change_counters(con)
            for name, frame in frames.items():
                layer = LAYERS[name]
                if replace:
                    _truncate(tmp, name)
                elif upsert and len(frame):
                    _delete_keys(tmp, layer, list(frame[layer.key].astype(str)))
                if len(frame):
                    _append(tmp, layer, frame)

    def _read(
        self,
        layer: Layer,
        bbox: Bbox | None,
        code_filter: tuple[str, list[str]] | None,
        columns: list[str] | None = None,
        scope: Scope | None = None,
        arrow_text: bool = False,
    ) -> pd.DataFrame:
        self._ready()
        conditions = []
        if code_filter is not None:
            column, codes = code_filter
            if not codes:
                return empty_frame(layer)
            conditions.append(f"{column} IN ({', '.join(repr(str(c)) for c in codes)})")
        if scope is not None:
            conditions.append(_in_scope(scope))
        where = " AND ".join(conditions) or None
        frame = pyogrio.read_dataframe(
            self.path,
            layer=layer.name,
            bbox=bbox,
            where=where,
            read_geometry=layer.geometry is not None,
            fid_as_index=False,
            columns=columns,
            use_arrow=True,  # GDAL's Arrow stream: a county's children read ~7x faster
            # Text left in Arrow rather than made into Python strings, when asked.
            arrow_to_pandas_kwargs={"types_mapper": _ARROW_TEXT.get} if arrow_text else None,
        )
        if layer.geometry is not None and not isinstance(frame, gpd.GeoDataFrame):
            frame = gpd.GeoDataFrame(frame, geometry=[], crs=4326)
        return frame

    _accounts = None

    def accounts(self) -> Accounts:
        self._ready()
        if self._accounts is None:
            self._accounts = sqlite_accounts(self.path)
        return self._accounts

    def evidence(self) -> Evidence:
        self._ready()
        return sqlite_evidence(self.path)

    def get_setting(self, key: str) -> str | None:
        self._ready()
        with _connect(self.path) as con:
            row = con.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_setting(self, key: str, value: str) -> None:
        self._ready()
        with sqlite3.connect(self.path) as con:  # one statement pair, one transaction
            con.execute(f"DELETE FROM {META_TABLE} WHERE key = ?", (key,))
            con.execute(f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?)", (key, value))

    def data_revision(self, names: list[str], scope: Scope | None = None) -> str:
        """Per layer: the count of rows inserted, updated or deleted by anyone, this program
        included (`_CHANGES`: triggers in the file, so an edit that does not go through GDAL
        counts too); and, for a program that re-creates the whole table (the triggers go with
        it), the gpkg_contents.last_change GDAL-based editors (QGIS) set and the row count."""
        self._ready()
        parts = []
        with _connect(self.path) as con:
            for name in names:
                table = LAYERS[name].name
                changes = con.execute(
                    f"SELECT value FROM {META_TABLE} WHERE key = ?", (_CHANGES + table,)
                ).fetchone()
                changed = con.execute(
                    "SELECT last_change FROM gpkg_contents WHERE table_name = ?", (table,)
                ).fetchone()
                rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
                parts.append(f"{changes and changes[0]}/{changed and changed[0]}/{rows[0]}")
        return "|".join(parts)

    def count(self, name: str, scope: Scope | None = None) -> int:
        self._ready()
        where = f" WHERE {_in_scope(scope)}" if scope is not None else ""
        with _connect(self.path) as con:
            sql = f'SELECT count(*) FROM "{LAYERS[name].name}"{where}'
            return int(con.execute(sql).fetchone()[0])


# -- helpers ----------------------------------------------------------------------------------


def _in_scope(scope: Scope) -> str:
    """SQL condition: the row's village code starts with one of the scope's codes (digits only,
    checked by Scope, so they are safe to inline)."""
    by_length: dict[int, list[str]] = {}
    for code in scope.codes:
        by_length.setdefault(len(code), []).append(f"'{code}'")
    return (
        "("
        + " OR ".join(
            f"substr(village_code, 1, {n}) IN ({', '.join(codes)})"
            for n, codes in sorted(by_length.items())
        )
        + ")"
    )


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _require_geopackage(path: Path) -> None:
    """Raise a clear StoreError unless `path` is a readable GeoPackage file."""
    if not path.exists():
        raise StoreError(
            f"找不到数据文件 {path}。请检查路径，或运行 “shouhu demo --out {path}” 生成示范数据。"
        )
    if path.is_dir():
        raise StoreError(f"{path} 是文件夹，不是 GeoPackage 文件。请指定一个 .gpkg 文件。")
    try:
        with open(path, "rb") as fh:
            header = fh.read(16)
    except OSError as exc:
        raise StoreError(
            f"无法读取 {path}：没有权限或文件被占用。请检查文件权限。", str(exc)
        ) from exc
    if header != b"SQLite format 3\x00":
        raise StoreError(
            f"{path} 不是 GeoPackage 文件（文件内容不是 SQLite/GeoPackage 格式）。"
            "请选择守护生成的 .gpkg 文件。"
        )
    try:
        with _connect(path) as con:
            ok = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='gpkg_contents'"
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} 已损坏或不是 GeoPackage 文件，无法打开。", str(exc)) from exc
    if not ok:
        raise StoreError(
            f"{path} 是 SQLite 数据库，但不是 GeoPackage 文件（缺少 gpkg_contents 表）。"
            "请选择守护生成的 .gpkg 文件。"
        )


_CHANGES = "changes:"  # + table name: rows inserted, updated or deleted, counted by triggers


def _create_change_counters(con: sqlite3.Connection) -> None:
    """A counter per layer in the meta table, and triggers that add one for every row any
    program inserts, updates or deletes (GDAL and QGIS; SpatiaLite-based tools; any SQLite
    editor on a layer without geometry, such as the children; plain SQLite cannot write a
    spatial layer, whose GDAL R-tree triggers call ST_ functions): what GDAL's own last_change
    and a row count miss is an in-place edit by a tool that does not go through GDAL. Each
    trigger costs ~1 µs per row written. Idempotent: upgrades and every write of this program
    run it again (a layer another program re-created has lost its triggers)."""
    for layer in LAYERS.values():
        key = _CHANGES + layer.name
        con.execute(
            f"INSERT INTO {META_TABLE} (key, value) SELECT ?, '0' "
            f"WHERE NOT EXISTS (SELECT 1 FROM {META_TABLE} WHERE key = ?)",
            (key, key),
        )
        for event in ("INSERT", "UPDATE", "DELETE"):
            con.execute(
                f'CREATE TRIGGER IF NOT EXISTS "shouhu_count_{event.lower()}_{layer.name}" '
                f'AFTER {event} ON "{layer.name}" FOR EACH ROW BEGIN '
                f"UPDATE {META_TABLE} SET value = CAST(value AS INTEGER) + 1 "
                f"WHERE key = '{key}'; END"
            )


class _staged_copy:
    """Context manager: work on a temporary copy, then atomically replace the original."""

    def __init__(self, path: Path, exists: bool):
        self.path = path
        self.exists = exists

    def __enter__(self) -> Path:
        fd, name = tempfile.mkstemp(suffix=".gpkg", prefix=".shouhu-", dir=self.path.parent)
        os.close(fd)
        self.tmp = Path(name)
        if self.exists:
            shutil.copyfile(self.path, self.tmp)
        else:
            self.tmp.unlink()
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


_SQLITE_TYPES = {
    "text": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "bool": "BOOLEAN",
    "date": "DATE",
    "datetime": "DATETIME",
}


def _add_missing_columns(path: Path, existing: set[str]) -> None:
    """Add catalogue columns an older file lacks to its existing layers (empty for old rows)."""
    with sqlite3.connect(path) as con:
        for layer in LAYERS.values():
            if layer.name not in existing:
                continue
            have = {row[1] for row in con.execute(f'PRAGMA table_info("{layer.name}")')}
            for col in layer.columns:
                if col.name not in have:
                    con.execute(
                        f'ALTER TABLE "{layer.name}" ADD COLUMN "{col.name}" '
                        f"{_SQLITE_TYPES[col.kind]}"
                    )


def _create_schema(path: Path, skip: set[str] = frozenset()) -> None:
    for layer in LAYERS.values():
        if layer.name in skip:
            continue
        _write_frame(path, layer, empty_frame(layer), append=False)
        _create_indexes(path, layer)
    if META_TABLE not in skip:
        meta = pd.DataFrame({"key": ["schema_version"], "value": [str(SCHEMA_VERSION)]})
        pyogrio.write_dataframe(meta, path, layer=META_TABLE, driver="GPKG")
    with sqlite3.connect(path) as con:
        _create_change_counters(con)
        # The per-write tokens schema 4 kept instead of the counters: gone with the upgrade.
        con.execute(f"DELETE FROM {META_TABLE} WHERE key LIKE 'revision:%'")
        con.execute(
            f"UPDATE {META_TABLE} SET value = ? WHERE key = 'schema_version'",
            (str(SCHEMA_VERSION),),
        )


def _write_frame(path: Path, layer: Layer, frame: pd.DataFrame, append: bool) -> None:
    if layer.geometry is not None:
        pyogrio.write_dataframe(
            frame,
            path,
            layer=layer.name,
            driver="GPKG",
            geometry_type="Unknown" if layer.geometry == "Geometry" else layer.geometry,
            append=append,
            promote_to_multi=False,
            GEOMETRY_NAME=GEOMETRY_COLUMN,
        )
    else:
        pyogrio.write_dataframe(
            pd.DataFrame(frame), path, layer=layer.name, driver="GPKG", append=append
        )


def _append(path: Path, layer: Layer, frame: pd.DataFrame) -> None:
    try:
        _write_frame(path, layer, frame, append=True)
    except Exception as exc:  # GDAL reports a unique-key clash as a generic write error
        if "UNIQUE" in str(exc).upper():
            raise StoreError(
                f"图层“{layer.label}”中已有相同编号（{layer.column(layer.key).label}）的记录，"
                "未写入任何数据。",
                str(exc),
            ) from exc
        raise


def _create_indexes(path: Path, layer: Layer) -> None:
    """Unique key and admin-code indexes (the R-tree spatial index is made by GDAL)."""
    with sqlite3.connect(path) as con:
        con.execute(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "ux_{layer.name}_{layer.key}" '
            f'ON "{layer.name}" ("{layer.key}")'
        )
        for code in layer.admin_codes:
            con.execute(
                f'CREATE INDEX IF NOT EXISTS "ix_{layer.name}_{code}" ON "{layer.name}" ("{code}")'
            )


def _delete_keys(path: Path, layer: Layer, keys: list[str]) -> None:
    with sqlite3.connect(path) as con:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            con.execute(
                f'DELETE FROM "{layer.name}" WHERE "{layer.key}" IN '
                f"({', '.join('?' * len(chunk))})",
                chunk,
            )


def _truncate(path: Path, name: str) -> None:
    with sqlite3.connect(path) as con:
        con.execute(f'DELETE FROM "{name}"')
