"""Read a deployment's risk rules from a TOML file (see README, "Risk rules")."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from geo.risk import RiskRules, RulesError


def load_rules(path: str | os.PathLike | None = None) -> RiskRules:
    """Rules from `path`, else from SHOUHU_RISK_RULES, else the defaults."""
    path = path or os.environ.get("SHOUHU_RISK_RULES")
    if not path:
        return RiskRules.from_dict()
    file = Path(path)
    if not file.is_file():
        raise RulesError(f"找不到风险规则文件 {file}。请检查路径，或不指定以使用默认规则。")
    try:
        with open(file, "rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"风险规则文件 {file} 格式有误（应为 UTF-8 编码的 TOML）：{exc}") from exc
    return RiskRules.from_dict(data)
