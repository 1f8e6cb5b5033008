"""Accounts (argon2id passwords, lock-out) and the append-only audit log, on either store.

Both stores keep the two tables of layers/schema.py: the GeoPackage file through SQLAlchemy's
sqlite dialect (with triggers refusing UPDATE and DELETE on the audit log), PostGIS through
migration 0004 (the app role may only INSERT and SELECT the audit log).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from layers.access import ROLES, Scope, check_scope
from layers.schema import AUDIT, USERS

MAX_FAILURES = 5  # consecutive wrong passwords before the account locks
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
_HASHER = PasswordHasher()

# Actions written to the audit log, with their Chinese labels for the audit page.
ACTIONS = {
    "login": "登录",
    "login_failed": "登录失败",
    "view": "查看个人信息",
    "reveal": "显示完整信息",
    "export": "导出",
    "write": "写入数据",
    "write_record": "写入记录（旧值/新值）",
    "user_add": "新建账号",
    "user_passwd": "修改口令",
    "user_disable": "停用账号",
}


class AccountError(ValueError):
    """A refused account operation or login; the message (Chinese) is safe to show."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"口令至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    if password.isdigit() or password.isalpha():
        raise AccountError("口令不能只由数字或只由字母组成")


def _new_account(username: str, role: str, codes: list[str]) -> str:
    """The stripped login name, once name, role and scope are right (AccountError if not)."""
    username = (username or "").strip()
    if not username:
        raise AccountError("登录名不能为空")
    try:
        check_scope(role, codes)
    except ValueError as exc:
        raise AccountError(str(exc)) from exc
    return username


def _no_such(username: str) -> str:
    return f"没有登录名为“{username}”的账号"


def _taken(username: str) -> str:
    return f"登录名“{username}”已存在"


class Accounts:
    """Users and audit rows in one database (an SQLAlchemy engine)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    # -- users ------------------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        role: str,
        codes: list[str],
        password: str,
        display_name: str | None = None,
        by: str = "cli",
    ) -> None:
        username = _new_account(username, role, codes)
        check_password(password)
        with self.engine.begin() as con:  # taken? asked in the transaction that inserts
            if self._exists(con, username):
                raise AccountError(_taken(username))
            con.execute(
                USERS.insert().values(
                    username=username,
                    display_name=display_name,
                    role=role,
                    scope_codes=",".join(codes),
                    password_hash=_HASHER.hash(password),
                    disabled=False,
                    failed_logins=0,
                    created_at=_now(),
                )
            )
            _audit(con, by, "user_add", record_id=username, detail={"role": role, "codes": codes})

    def check_new(self, username: str, role: str, codes: list[str]) -> str:
        """The login name of a new account (stripped), or AccountError saying what is wrong
        (name, role and scope, not taken): for a caller to check before asking for a
        password; add_user checks the same itself."""
        username = _new_account(username, role, codes)
        with self.engine.connect() as con:
            if self._exists(con, username):
                raise AccountError(_taken(username))
        return username

    def require(self, username: str) -> None:
        """AccountError unless the account exists (before asking for its new password)."""
        with self.engine.connect() as con:
            if not self._exists(con, username):
                raise AccountError(_no_such(username))

    @staticmethod
    def _exists(con, username: str) -> bool:
        query = sa.select(USERS.c.username).where(USERS.c.username == username)
        return con.execute(query).first() is not None

    def set_password(self, username: str, password: str, by: str = "cli") -> None:
        check_password(password)
        with self.engine.begin() as con:
            done = con.execute(
                USERS.update()
                .where(USERS.c.username == username)
                .values(password_hash=_HASHER.hash(password), failed_logins=0, locked_until=None)
            ).rowcount
            if not done:
                raise AccountError(_no_such(username))
            _audit(con, by, "user_passwd", record_id=username)

    def set_disabled(self, username: str, disabled: bool = True, by: str = "cli") -> None:
        with self.engine.begin() as con:
            done = con.execute(
                USERS.update().where(USERS.c.username == username).values(disabled=disabled)
            ).rowcount
            if not done:
                raise AccountError(_no_such(username))
            _audit(con, by, "user_disable", record_id=username, detail={"disabled": disabled})

    def users(self) -> pd.DataFrame:
        """Accounts without their password hashes."""
        cols = [c for c in USERS.c if c.name != "password_hash"]
        with self.engine.connect() as con:
            frame = pd.DataFrame(con.execute(sa.select(*cols).order_by(USERS.c.username)).all())
        if frame.empty:
            frame = pd.DataFrame(columns=[c.name for c in cols])
        frame["role_label"] = frame["role"].map(ROLES)
        return frame

    def count_users(self) -> int:
        with self.engine.connect() as con:
            return con.execute(sa.select(sa.func.count()).select_from(USERS)).scalar_one()

    def authenticate(self, username: str, password: str, now: dt.datetime | None = None) -> Scope:
        """The user's scope for a right password; AccountError otherwise (and counts it)."""
        now = now or _now()
        with self.engine.begin() as con:  # failures are counted and logged: commit, then raise
            row = con.execute(sa.select(USERS).where(USERS.c.username == username)).first()
            error = _refusal(con, row, username, password, now)
            if error is None:
                con.execute(
                    USERS.update()
                    .where(USERS.c.username == username)
                    .values(failed_logins=0, locked_until=None)
                )
                _audit(con, username, "login")
        if error is not None:
            raise error
        return Scope(username, row.role, tuple(row.scope_codes.split(",")))

    # -- audit ------------------------------------------------------------------------------

    def audit(
        self,
        username: str,
        action: str,
        layer: str | None = None,
        record_id: str | None = None,
        rows: int | None = None,
        detail: dict | None = None,
    ) -> None:
        with self.engine.begin() as con:
            _audit(con, username, action, layer, record_id, rows, detail)

    def audit_records(
        self, username: str, action: str, layer: str, records: list[tuple[str, dict]]
    ) -> None:
        """One audit row per record (id, detail), all in one transaction."""
        with self.engine.begin() as con:
            for record_id, detail in records:
                _audit(con, username, action, layer, record_id, 1, detail)

    def audit_rows(
        self,
        username: str | None = None,
        action: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 1000,
    ) -> pd.DataFrame:
        """Newest first, filtered."""
        stmt = sa.select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit)
        if username:
            stmt = stmt.where(AUDIT.c.username == username)
        if action:
            stmt = stmt.where(AUDIT.c.action == action)
        if since is not None:
            stmt = stmt.where(AUDIT.c.at >= since)
        with self.engine.connect() as con:
            frame = pd.DataFrame(con.execute(stmt).all())
        if frame.empty:
            frame = pd.DataFrame(columns=[c.name for c in AUDIT.c])
        return frame


def _refusal(con, row, username: str, password: str, now: dt.datetime) -> AccountError | None:
    """Why a login is refused (recording the failure), or None for a right password."""
    wrong = AccountError("用户名或口令错误")
    if row is None:
        _audit(con, username or "-", "login_failed", detail={"reason": "unknown"})
        return wrong
    if row.disabled:
        _audit(con, username, "login_failed", detail={"reason": "disabled"})
        return AccountError("该账号已停用，请联系县级管理员")
    if row.locked_until is not None and row.locked_until > now:
        minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
        _audit(con, username, "login_failed", detail={"reason": "locked"})
        return AccountError(
            f"连续 {MAX_FAILURES} 次口令错误，账号已锁定，请约 {minutes} 分钟后再试，"
            "或请管理员重设口令"
        )
    try:
        _HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        failures = row.failed_logins + 1
        values = {"failed_logins": failures}
        if failures >= MAX_FAILURES:
            values = {"failed_logins": 0, "locked_until": now + dt.timedelta(minutes=LOCK_MINUTES)}
        con.execute(USERS.update().where(USERS.c.username == username).values(**values))
        _audit(con, username, "login_failed", detail={"reason": "password"})
        return wrong
    return None


def _audit(con, username, action, layer=None, record_id=None, rows=None, detail=None) -> None:
    con.execute(
        AUDIT.insert().values(
            at=_now(),
            username=username,
            action=action,
            layer=layer,
            record_id=record_id,
            rows=rows,
            detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        )
    )


SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER IF NOT EXISTS shouhu_audit_no_update BEFORE UPDATE ON shouhu_audit "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS shouhu_audit_no_delete BEFORE DELETE ON shouhu_audit "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
]


def sqlite_accounts(path) -> Accounts:
    """Accounts kept inside a GeoPackage file (tables created on first use)."""
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    with engine.begin() as con:
        USERS.create(con, checkfirst=True)
        AUDIT.create(con, checkfirst=True)
        for statement in SQLITE_APPEND_ONLY:
            con.execute(sa.text(statement))
    return Accounts(engine)
