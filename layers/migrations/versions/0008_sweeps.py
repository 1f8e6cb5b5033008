"""Flood-season sweeps and their checklist items (scoped by village with row-level security).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("sweep_id", sa.Text(), nullable=False, comment="排查编号"),
        sa.Column("county_code", sa.Text(), nullable=False, comment="区县代码"),
        sa.Column("name", sa.Text(), nullable=False, comment="名称"),
        sa.Column("start_date", sa.Date(), nullable=False, comment="开始日期"),
        sa.Column("end_date", sa.Date(), nullable=False, comment="结束日期"),
        sa.Column("scope_codes", sa.Text(), nullable=False, comment="范围（乡镇代码，逗号分隔）"),
        sa.Column("radius_m", sa.Float(), nullable=False, comment="排查半径（米）"),
        sa.PrimaryKeyConstraint("sweep_id"),
        comment="汛期隐患排查",
    )
    op.create_index(op.f("ix_sweeps_county_code"), "sweeps", ["county_code"], unique=False)
    op.create_table(
        "sweep_items",
        sa.Column("item_id", sa.Text(), nullable=False, comment="排查项编号"),
        sa.Column("sweep_id", sa.Text(), nullable=False, comment="排查编号"),
        sa.Column("facility_id", sa.Text(), nullable=False, comment="场所编号"),
        sa.Column("county_code", sa.Text(), nullable=False, comment="区县代码"),
        sa.Column("township_code", sa.Text(), nullable=False, comment="乡镇（街道）代码"),
        sa.Column("village_code", sa.Text(), nullable=False, comment="村（社区）代码"),
        sa.Column("item_kind", sa.Text(), nullable=False, comment="类别"),
        sa.Column("hazard_id", sa.Text(), nullable=True, comment="隐患编号"),
        sa.Column("label", sa.Text(), nullable=False, comment="排查内容"),
        sa.Column("status", sa.Text(), nullable=False, comment="状态"),
        sa.Column("responsible", sa.Text(), nullable=True, comment="责任人"),
        sa.Column("due_date", sa.Date(), nullable=True, comment="整改期限"),
        sa.Column("note", sa.Text(), nullable=True, comment="备注"),
        sa.Column("updated_at", sa.DateTime(), nullable=True, comment="更新时间"),
        sa.Column("updated_by", sa.Text(), nullable=True, comment="更新人"),
        sa.PrimaryKeyConstraint("item_id"),
        comment="隐患排查项",
    )
    for col in ("county_code", "township_code", "village_code"):
        op.create_index(op.f(f"ix_sweep_items_{col}"), "sweep_items", [col], unique=False)
    op.execute("ALTER TABLE sweep_items ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY sweep_items_in_scope ON sweep_items "
        "USING (shouhu_in_scope(village_code)) WITH CHECK (shouhu_in_scope(village_code))"
    )
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON sweeps, sweep_items TO shouhu_app")


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS sweep_items_in_scope ON sweep_items")
    for col in ("county_code", "township_code", "village_code"):
        op.drop_index(op.f(f"ix_sweep_items_{col}"), table_name="sweep_items")
    op.drop_table("sweep_items")
    op.drop_index(op.f("ix_sweeps_county_code"), table_name="sweeps")
    op.drop_table("sweeps")
