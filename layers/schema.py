"""SQLAlchemy tables for PostGIS, derived from the catalogue (Alembic autogenerates from this)."""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry

from geo.crs import STORAGE_EPSG
from layers.catalogue import LAYERS, Layer

GEOMETRY_COLUMN = "geom"
# The same geometry projected to the deployment's analysis CRS (metres), kept by a trigger
# (migration 0002) from shouhu_settings.analysis_epsg, with its own GIST index: distance
# queries run on it in the database.
METRIC_COLUMN = "geom_m"

_TYPES = {
    "text": sa.Text,
    "int": sa.Integer,
    "float": sa.Float,
    "bool": sa.Boolean,
    "date": sa.Date,
    "datetime": sa.DateTime,
}

metadata = sa.MetaData()


def _table(layer: Layer) -> sa.Table:
    columns: list[sa.Column] = []
    for col in layer.columns:
        columns.append(
            sa.Column(
                col.name,
                _TYPES[col.kind](),
                primary_key=col.name == layer.key,
                nullable=not col.required,
                index=col.name in layer.admin_codes,
                comment=col.label,
            )
        )
    if layer.geometry is not None:
        columns.append(
            sa.Column(
                GEOMETRY_COLUMN,
                Geometry(
                    geometry_type=layer.geometry.upper(),
                    srid=STORAGE_EPSG,
                    spatial_index=True,
                ),
                nullable=False,
            )
        )
        columns.append(
            sa.Column(
                METRIC_COLUMN,
                Geometry(geometry_type=None, srid=-1, spatial_index=True),
                comment="分析坐标系下的几何（触发器维护）",
            )
        )
    return sa.Table(layer.name, metadata, *columns, comment=layer.label)


TABLES: dict[str, sa.Table] = {name: _table(layer) for name, layer in LAYERS.items()}
SPATIAL_TABLES = [name for name, layer in LAYERS.items() if layer.geometry is not None]

SETTINGS = sa.Table(
    "shouhu_settings",
    metadata,
    sa.Column("key", sa.Text, primary_key=True, comment="设置项"),
    sa.Column("value", sa.Text, nullable=False, comment="取值"),
    comment="部署设置（如分析坐标系）",
)

# Accounts and the audit log. The same Table objects serve the GeoPackage file (through
# SQLAlchemy's sqlite dialect) and PostGIS (migration 0004).
USERS = sa.Table(
    "shouhu_users",
    metadata,
    sa.Column("username", sa.Text, primary_key=True, comment="登录名"),
    sa.Column("display_name", sa.Text, comment="姓名或称呼"),
    sa.Column("role", sa.Text, nullable=False, comment="角色"),
    sa.Column("scope_codes", sa.Text, nullable=False, comment="管辖范围（行政区划代码，逗号分隔）"),
    sa.Column("password_hash", sa.Text, nullable=False, comment="口令哈希（argon2id）"),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false(), comment="已停用"),
    sa.Column(
        "failed_logins", sa.Integer, nullable=False, server_default="0", comment="连续失败次数"
    ),
    sa.Column("locked_until", sa.DateTime, comment="锁定至（UTC）"),
    sa.Column("created_at", sa.DateTime, nullable=False, comment="创建时间（UTC）"),
    comment="账号",
)
AUDIT = sa.Table(
    "shouhu_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True, comment="序号"),
    sa.Column("at", sa.DateTime, nullable=False, index=True, comment="时间（UTC）"),
    sa.Column("username", sa.Text, nullable=False, index=True, comment="账号"),
    sa.Column("action", sa.Text, nullable=False, comment="操作"),
    sa.Column("layer", sa.Text, comment="图层"),
    sa.Column("record_id", sa.Text, comment="记录"),
    sa.Column("rows", sa.Integer, comment="行数"),
    sa.Column("detail", sa.Text, comment="详情（JSON，旧值与新值等）"),
    comment="审计日志（只追加）",
)

# Evidence files (photos of a safety talk and, later, of inspections and sweeps), kept in the
# database so a backup of the store is complete. Scoped by village like the records they prove.
EVIDENCE = sa.Table(
    "shouhu_evidence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True, comment="序号"),
    sa.Column("record_layer", sa.Text, nullable=False, comment="所属记录的图层"),
    sa.Column("record_id", sa.Text, nullable=False, index=True, comment="所属记录"),
    sa.Column("village_code", sa.Text, nullable=False, index=True, comment="村（社区）代码"),
    sa.Column("filename", sa.Text, nullable=False, comment="文件名"),
    sa.Column("media_type", sa.Text, nullable=False, comment="类型"),
    sa.Column("content", sa.LargeBinary, nullable=False, comment="内容"),
    sa.Column("uploaded_at", sa.DateTime, nullable=False, comment="上传时间（UTC）"),
    sa.Column("uploaded_by", sa.Text, nullable=False, comment="上传账号"),
    comment="佐证材料",
)
