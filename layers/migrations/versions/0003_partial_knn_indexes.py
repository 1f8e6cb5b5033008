"""Partial GIST indexes per water type, for nearest-by-type KNN.

A KNN scan over one index of all water bodies, filtered to a sparse type (rivers, dams), walks
past every closer pond first; a partial index per type holds only that type. Indexes named
ixp_* are managed here and left out of autogenerate (layers/migrations/__init__.py).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WATER_TYPES = ("river", "pond", "reservoir", "dam")


def upgrade() -> None:
    for water_type in WATER_TYPES:
        op.execute(
            f"CREATE INDEX ixp_water_bodies_geom_m_{water_type} ON water_bodies "
            f"USING gist (geom_m) WHERE water_type = '{water_type}'"
        )
    op.execute("ANALYZE water_bodies")


def downgrade() -> None:
    for water_type in WATER_TYPES:
        op.execute(f"DROP INDEX IF EXISTS ixp_water_bodies_geom_m_{water_type}")
