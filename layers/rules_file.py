"""Read a deployment's settings files (TOML): the risk rules (README, "Risk rules") and the
patrol priority weights (README, "Drowning-prevention patrols")."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from geo.patrol import WeightsError, weights
from geo.risk import RiskRules, RulesError

RULES_ENV = "SHOUHU_RISK_RULES"
WEIGHTS_ENV = "SHOUHU_PATROL_WEIGHTS"


def load_rules(path: str | os.PathLike | None = None) -> RiskRules:
    """Rules from `path`, else from SHOUHU_RISK_RULES, else the defaults."""
    return _load(path, RULES_ENV, "风险规则", RulesError, RiskRules.from_dict)


def load_weights(path: str | os.PathLike | None = None) -> dict:
    """Patrol priority weights from `path`, else from SHOUHU_PATROL_WEIGHTS, else the defaults
    (geo.patrol.PRIORITY_WEIGHTS)."""
    return _load(path, WEIGHTS_ENV, "巡查优先级权重", WeightsError, weights)


def _load(path, env: str, what: str, error: type[ValueError], build):
    """`build(the file's tables)`, or `build({})` without a file; every failure is `error`
    with a Chinese message naming the file and what to fix."""
    path = path or os.environ.get(env)
    if not path:
        return build({})
    file = Path(path)
    if not file.is_file():
        raise error(f"找不到{what}文件 {file}。请检查路径，或不指定以使用默认{what}。")
    try:
        with open(file, "rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{what}文件 {file} 格式有误（应为 UTF-8 编码的 TOML）：{exc}") from exc
    try:
        return build(data)
    except error as exc:
        raise error(f"{what}文件 {file}：{exc}") from None
