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
