"""Evidence files (佐证材料): photos attached to a record, stored in the store's database.

Only JPEG and PNG images up to 10 MB each are accepted (checked by their first bytes, not the
file name). Reads and writes take the user's scope: a file belongs to a village, and a user
sees and adds files of their own villages only (on PostGIS also by row-level security).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from layers.access import AccessDenied, Scope
from layers.schema import EVIDENCE

MAX_BYTES = 10 * 1024 * 1024
_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
SUFFIXES = (".jpg", ".jpeg", ".png")  # the names an uploader offers; the content decides


class EvidenceError(ValueError):
    """A file that cannot be kept; the message (Chinese) names it and says why."""


def media_type(name: str, content: bytes) -> str:
    for magic, kind in _MAGIC.items():
        if content.startswith(magic):
            if len(content) > MAX_BYTES:
                raise EvidenceError(f"“{name}”超过 10 MB，请压缩后再上传")
            return kind
    raise EvidenceError(f"“{name}”不是 JPG 或 PNG 图片，请上传照片")


class Evidence:
    """Files of records in one database; `connect(scope)` opens a scoped connection."""

    def __init__(self, connect):
        self._connect = connect

    def add(
        self,
        scope: Scope | None,
        layer: str,
        record_id: str,
        village_code: str,
        files: list[tuple[str, bytes]],
        by: str,
    ) -> int:
        """Keep all the files or none (one bad file refuses the lot); returns how many."""
        if scope is not None and not scope.covers(village_code):
            raise AccessDenied(f"村（社区）{village_code} 不在您的管辖范围内")
        rows = [
            {"record_layer": layer, "record_id": record_id, "village_code": village_code,
             "filename": name, "media_type": media_type(name, content), "content": content,
             "uploaded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "uploaded_by": by}
            for name, content in files
        ]  # fmt: skip
        if rows:
            with self._connect(scope) as con:
                con.execute(EVIDENCE.insert(), rows)
                con.commit()
        return len(rows)

    def counts(self, scope: Scope | None, record_ids: list[str]) -> dict[str, int]:
        if not record_ids:
            return {}
        stmt = (
            sa.select(EVIDENCE.c.record_id, sa.func.count())
            .where(EVIDENCE.c.record_id.in_(record_ids))
            .group_by(EVIDENCE.c.record_id)
        )
        with self._connect(scope) as con:
            rows = con.execute(_scoped(stmt, scope)).all()
        return {r[0]: int(r[1]) for r in rows}

    def files(self, scope: Scope | None, record_id: str) -> list[tuple[str, str, bytes]]:
        stmt = sa.select(EVIDENCE.c.filename, EVIDENCE.c.media_type, EVIDENCE.c.content).where(
            EVIDENCE.c.record_id == record_id
        )
        with self._connect(scope) as con:
            return [tuple(r) for r in con.execute(_scoped(stmt, scope).order_by(EVIDENCE.c.id))]


def _scoped(stmt, scope: Scope | None):
    if scope is None:
        return stmt
    return stmt.where(sa.or_(*(EVIDENCE.c.village_code.startswith(c) for c in scope.codes)))


def sqlite_evidence(path) -> Evidence:
    """Evidence kept inside a GeoPackage file (table created on first use)."""
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    with engine.begin() as con:
        EVIDENCE.create(con, checkfirst=True)
    return Evidence(lambda scope: engine.connect())
