"""Imports: the source coordinate system on every importable table, and the point hazards layer.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WITH_SOURCE = ("villages", "households", "children", "water_bodies", "slopes", "facilities")
METRIC_COMMENT = "分析坐标系下的几何（触发器维护）"


def upgrade() -> None:
    for table in WITH_SOURCE:
        op.add_column(table, sa.Column("source_crs", sa.Text(), nullable=True, comment="来源坐标系"))
    op.create_geospatial_table(
        "point_hazards",
        sa.Column("hazard_id", sa.Text(), nullable=False, comment="隐患编号"),
        sa.Column("county_code", sa.Text(), nullable=False, comment="区县代码"),
        sa.Column("township_code", sa.Text(), nullable=False, comment="乡镇（街道）代码"),
        sa.Column("village_code", sa.Text(), nullable=False, comment="村（社区）代码"),
        sa.Column("name", sa.Text(), nullable=True, comment="名称"),
        sa.Column("hazard_type", sa.Text(), nullable=False, comment="类型"),
        sa.Column("found_date", sa.Date(), nullable=True, comment="发现日期"),
        sa.Column("photo_count", sa.Integer(), nullable=True, comment="照片数"),
        sa.Column("note", sa.Text(), nullable=True, comment="备注"),
        sa.Column("source_crs", sa.Text(), nullable=True, comment="来源坐标系"),
        sa.Column(
            "geom",
            Geometry(geometry_type="POINT", srid=4326, dimension=2, spatial_index=False,
                     from_text="ST_GeomFromEWKT", name="geometry", nullable=False),
            nullable=False,
        ),
        sa.Column(
            "geom_m",
            Geometry(geometry_type=None, spatial_index=False, from_text="ST_GeomFromEWKT",
                     name="geometry"),
            nullable=True,
            comment=METRIC_COMMENT,
        ),
        sa.PrimaryKeyConstraint("hazard_id"),
        comment="点状隐患",
    )  # fmt: skip
    op.create_geospatial_index(
        "idx_point_hazards_geom", "point_hazards", ["geom"], unique=False,
        postgresql_using="gist", postgresql_ops={},
    )  # fmt: skip
    op.create_geospatial_index(
        "idx_point_hazards_geom_m", "point_hazards", ["geom_m"], unique=False,
        postgresql_using="gist", postgresql_ops={},
    )  # fmt: skip
    for col in ("county_code", "township_code", "village_code"):
        op.create_index(op.f(f"ix_point_hazards_{col}"), "point_hazards", [col], unique=False)
    op.execute(
        "CREATE TRIGGER point_hazards_geom_m BEFORE INSERT OR UPDATE OF geom ON point_hazards "
        "FOR EACH ROW EXECUTE FUNCTION shouhu_set_geom_m()"
    )
    op.execute("COMMENT ON TABLE point_hazards IS '点状隐患'")  # create_geospatial_table drops it
    op.execute(f"COMMENT ON COLUMN point_hazards.geom_m IS '{METRIC_COMMENT}'")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON point_hazards TO shouhu_app")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS point_hazards_geom_m ON point_hazards")
    for col in ("county_code", "township_code", "village_code"):
        op.drop_index(op.f(f"ix_point_hazards_{col}"), table_name="point_hazards")
    op.drop_geospatial_index(
        "idx_point_hazards_geom_m", table_name="point_hazards", postgresql_using="gist",
        column_name="geom_m",
    )  # fmt: skip
    op.drop_geospatial_index(
        "idx_point_hazards_geom", table_name="point_hazards", postgresql_using="gist",
        column_name="geom",
    )  # fmt: skip
    op.drop_geospatial_table("point_hazards")
    for table in WITH_SOURCE:
        op.drop_column(table, "source_crs")
