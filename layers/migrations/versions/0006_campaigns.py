"""Safety-education campaigns: deadline, report date, counted forms, topics and scope as data.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.Text(), nullable=False, comment="行动编号"),
        sa.Column("county_code", sa.Text(), nullable=False, comment="区县代码"),
        sa.Column("name", sa.Text(), nullable=False, comment="名称"),
        sa.Column("year", sa.Integer(), nullable=False, comment="年度"),
        sa.Column("deadline", sa.Date(), nullable=False, comment="宣讲截止日期"),
        sa.Column("report_due", sa.Date(), nullable=False, comment="报送日期"),
        sa.Column("min_sessions", sa.Integer(), nullable=False, comment="每村至少场次"),
        sa.Column("counted_forms", sa.Text(), nullable=False, comment="计入的宣讲形式"),
        sa.Column("topics", sa.Text(), nullable=False, comment="主题"),
        sa.Column("scope_codes", sa.Text(), nullable=False, comment="范围（乡镇代码，逗号分隔）"),
        sa.PrimaryKeyConstraint("campaign_id"),
        comment="安全教育专项行动",
    )
    op.create_index(op.f("ix_campaigns_county_code"), "campaigns", ["county_code"], unique=False)
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON campaigns TO shouhu_app")


def downgrade() -> None:
    op.drop_index(op.f("ix_campaigns_county_code"), table_name="campaigns")
    op.drop_table("campaigns")
