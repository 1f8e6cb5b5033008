"""Who may see what: roles, their permissions, and the place scope every read goes through.

A Scope travels with each request (a logged-in session, a CLI run with --user). Stores apply it
when reading: layers of child and family records need the `children` permission, and rows of
scoped layers must lie in one of the scope's admin codes (a county, township or village code
matches every row whose village code starts with it). On PostGIS the same codes are also set in
each transaction for row-level security, so a bypass of this module still sees nothing extra.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

ROLES = {
    "county_admin": "县级管理员",
    "township_staff": "乡镇工作人员",
    "village_director": "村（居）儿童主任",
    "patrol_member": "巡查队员",
    "viewer": "只读查看（仅汇总）",
}
# What each role may do beyond seeing its scope's non-personal layers.
#   children: read child and household records (masked);  reveal: show full values (logged);
#   locations: exact home locations on the map;  export_personal: personal columns in exports;
#   users: manage accounts;  audit: read the audit log;  import: import ledgers and layers.
PERMISSIONS: dict[str, frozenset[str]] = {
    "county_admin": frozenset(
        {"children", "reveal", "locations", "export_personal", "users", "audit", "import"}
    ),
    "township_staff": frozenset({"children", "reveal", "locations", "export_personal", "import"}),
    "village_director": frozenset({"children", "reveal", "locations", "import"}),
    "patrol_member": frozenset(),
    "viewer": frozenset(),
}
# The admin level of a role's scope codes (county 6, township 9, village 12 digits).
SCOPE_DIGITS = {
    "county_admin": {6},
    "township_staff": {9},
    "village_director": {12},
    "patrol_member": {6, 9, 12},
    "viewer": {6, 9, 12},
}
PERSON_LAYERS = frozenset({"households", "children"})
# Layers whose rows belong to a village and are only read within scope. Reference layers
# (townships, villages, water bodies, slopes, facilities) are hazard and map data for everyone.
SCOPED_LAYERS = frozenset(
    {
        "households",
        "children",
        "directors",
        "inspections",
        "education_sessions",
        "patrols",
        "sweep_items",
    }
)
_CODE = re.compile(r"^\d+$")


class AccessDenied(PermissionError):
    """The user's role or scope does not allow this; the message (Chinese) says why."""


@dataclass(frozen=True)
class Scope:
    """A user's role and the admin codes they may see."""

    username: str
    role: str
    codes: tuple[str, ...]
    # Rows of person layers may be read for counting only (see `for_counting`).
    counting: bool = False

    def __post_init__(self) -> None:
        check_scope(self.role, list(self.codes))

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS[self.role]

    def require(self, permission: str, what: str) -> None:
        if not self.can(permission):
            raise AccessDenied(f"当前账号（{ROLES[self.role]}）无权{what}。")

    def covers(self, code: str) -> bool:
        """Whether an admin code (any level) lies inside this scope."""
        return any(str(code).startswith(c) for c in self.codes)

    def overlaps(self, code: str) -> bool:
        """Whether an admin code (any level) shares places with this scope: inside it, or
        holding some of it (a township around a village director's village)."""
        code = str(code)
        return any(code.startswith(c) or c.startswith(code) for c in self.codes)

    def for_counting(self) -> Scope:
        """The same places, with person rows readable by code that returns only aggregates
        (village counts, tier counts): what viewers and patrol members are shown."""
        return replace(self, counting=True)

    def check_layer(self, name: str) -> None:
        if name in PERSON_LAYERS and not (self.can("children") or self.counting):
            raise AccessDenied(
                f"当前账号（{ROLES[self.role]}）不能查看儿童和家庭的个人信息，只能查看汇总数据。"
            )

    def setting(self) -> str:
        """The scope as PostGIS row-level security reads it: codes joined by commas."""
        return ",".join(self.codes)


def check_scope(role: str, codes: list[str]) -> None:
    """Refuse an unknown role or codes of the wrong level for it (Chinese message)."""
    if role not in ROLES:
        raise ValueError(f"未知角色“{role}”，可用：{'、'.join(ROLES)}")
    if not codes:
        raise ValueError("账号必须指定管辖范围（县、乡镇或村的行政区划代码）")
    digits = SCOPE_DIGITS[role]
    for code in codes:
        if not _CODE.match(str(code)) or len(str(code)) not in digits:
            want = "、".join(f"{d} 位" for d in sorted(digits))
            raise ValueError(f"“{code}”不是{ROLES[role]}可用的行政区划代码（应为 {want} 数字）")
