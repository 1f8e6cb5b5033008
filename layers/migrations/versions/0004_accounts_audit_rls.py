"""Accounts, the append-only audit log, the app role and row-level security by place.

The app connects as a login role that is a member of shouhu_app: it owns nothing and is no
superuser. Rows of scoped tables are visible to it only when their village code lies inside the
codes the app sets per transaction (set_config('shouhu.scope', 'codes,...', true)); with no scope
set, nothing is visible. The owner (who runs migrations) is not subject to the policies.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCOPED = ("households", "children", "directors", "inspections", "education_sessions", "patrols")
LAYERS = (
    "townships", "villages", "directors", "households", "children", "water_bodies", "slopes",
    "facilities", "inspections", "education_sessions", "patrols",
)  # fmt: skip

IN_SCOPE = """
CREATE FUNCTION shouhu_in_scope(code text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1
        FROM unnest(string_to_array(nullif(current_setting('shouhu.scope', true), ''), ','))
             AS s(prefix)
        WHERE left(code, length(s.prefix)) = s.prefix
    )
$$
"""

APP_ROLE = """
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shouhu_app') THEN
        CREATE ROLE shouhu_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "shouhu_users",
        sa.Column("username", sa.Text(), nullable=False, comment="登录名"),
        sa.Column("display_name", sa.Text(), nullable=True, comment="姓名或称呼"),
        sa.Column("role", sa.Text(), nullable=False, comment="角色"),
        sa.Column(
            "scope_codes", sa.Text(), nullable=False, comment="管辖范围（行政区划代码，逗号分隔）"
        ),
        sa.Column("password_hash", sa.Text(), nullable=False, comment="口令哈希（argon2id）"),
        sa.Column(
            "disabled", sa.Boolean(), server_default=sa.false(), nullable=False, comment="已停用"
        ),
        sa.Column(
            "failed_logins", sa.Integer(), server_default="0", nullable=False,
            comment="连续失败次数",
        ),
        sa.Column("locked_until", sa.DateTime(), nullable=True, comment="锁定至（UTC）"),
        sa.Column("created_at", sa.DateTime(), nullable=False, comment="创建时间（UTC）"),
        sa.PrimaryKeyConstraint("username"),
        comment="账号",
    )
    op.create_table(
        "shouhu_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False, comment="序号"),
        sa.Column("at", sa.DateTime(), nullable=False, comment="时间（UTC）"),
        sa.Column("username", sa.Text(), nullable=False, comment="账号"),
        sa.Column("action", sa.Text(), nullable=False, comment="操作"),
        sa.Column("layer", sa.Text(), nullable=True, comment="图层"),
        sa.Column("record_id", sa.Text(), nullable=True, comment="记录"),
        sa.Column("rows", sa.Integer(), nullable=True, comment="行数"),
        sa.Column("detail", sa.Text(), nullable=True, comment="详情（JSON，旧值与新值等）"),
        sa.PrimaryKeyConstraint("id"),
        comment="审计日志（只追加）",
    )
    op.create_index("ix_shouhu_audit_at", "shouhu_audit", ["at"])
    op.create_index("ix_shouhu_audit_username", "shouhu_audit", ["username"])

    op.execute(IN_SCOPE)
    for table in SCOPED:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_in_scope ON {table} "
            "USING (shouhu_in_scope(village_code)) WITH CHECK (shouhu_in_scope(village_code))"
        )
    op.execute(APP_ROLE)
    op.execute("GRANT USAGE ON SCHEMA public TO shouhu_app")
    for table in LAYERS:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO shouhu_app")
    op.execute("GRANT SELECT ON shouhu_settings, alembic_version TO shouhu_app")
    op.execute("GRANT SELECT, INSERT, UPDATE ON shouhu_users TO shouhu_app")
    op.execute("GRANT SELECT, INSERT ON shouhu_audit TO shouhu_app")  # append-only
    op.execute("GRANT USAGE ON SEQUENCE shouhu_audit_id_seq TO shouhu_app")


def downgrade() -> None:
    for table in SCOPED:
        op.execute(f"DROP POLICY IF EXISTS {table}_in_scope ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS shouhu_in_scope(text)")
    op.drop_table("shouhu_audit")
    op.drop_table("shouhu_users")
