"""Evidence files (photos) in the database, scoped by village with row-level security.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shouhu_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False, comment="序号"),
        sa.Column("record_layer", sa.Text(), nullable=False, comment="所属记录的图层"),
        sa.Column("record_id", sa.Text(), nullable=False, comment="所属记录"),
        sa.Column("village_code", sa.Text(), nullable=False, comment="村（社区）代码"),
        sa.Column("filename", sa.Text(), nullable=False, comment="文件名"),
        sa.Column("media_type", sa.Text(), nullable=False, comment="类型"),
        sa.Column("content", sa.LargeBinary(), nullable=False, comment="内容"),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False, comment="上传时间（UTC）"),
        sa.Column("uploaded_by", sa.Text(), nullable=False, comment="上传账号"),
        sa.PrimaryKeyConstraint("id"),
        comment="佐证材料",
    )
    op.create_index("ix_shouhu_evidence_record_id", "shouhu_evidence", ["record_id"])
    op.create_index("ix_shouhu_evidence_village_code", "shouhu_evidence", ["village_code"])
    op.execute("ALTER TABLE shouhu_evidence ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY shouhu_evidence_in_scope ON shouhu_evidence "
        "USING (shouhu_in_scope(village_code)) WITH CHECK (shouhu_in_scope(village_code))"
    )
    op.execute("GRANT SELECT, INSERT, DELETE ON shouhu_evidence TO shouhu_app")
    op.execute("GRANT USAGE ON SEQUENCE shouhu_evidence_id_seq TO shouhu_app")


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS shouhu_evidence_in_scope ON shouhu_evidence")
    op.drop_index("ix_shouhu_evidence_village_code", table_name="shouhu_evidence")
    op.drop_index("ix_shouhu_evidence_record_id", table_name="shouhu_evidence")
    op.drop_table("shouhu_evidence")
