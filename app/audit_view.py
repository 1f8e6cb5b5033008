"""The audit log as county administrators read it: Beijing time, actions, layers and details in
Chinese (the log itself keeps UTC times, codes and JSON, for tools)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from geo.vocab import labels_of
from layers.access import ROLES
from layers.accounts import ACTIONS
from layers.catalogue import LAYERS
from layers.ledger import LEDGERS

# China keeps one offset all year (no daylight saving since 1991): no time-zone database needed.
BEIJING = dt.timedelta(hours=8)
OTHER_LAYERS = {
    "risk_household": "风险清单（家庭户）",
    "risk_child": "风险清单（儿童）",
    "shouhu_evidence": "佐证照片",
    "gpkg": "全部图层（GeoPackage）",
}
DETAIL_KEYS = {
    "place": "范围", "villages": "村", "codes": "管辖范围", "child_ids": "儿童编号",
    "format": "格式", "file": "文件", "as_of": "计算日期", "full_values": "完整信息",
    "role": "角色", "disabled": "停用", "reason": "原因", "import": "导入",
}  # fmt: skip
REASONS = {"unknown": "账号不存在", "disabled": "账号已停用", "locked": "账号已锁定",
           "password": "口令错误"}  # fmt: skip
COLUMNS = {"at": "时间（北京时间）", "username": "账号", "action": "操作", "layer": "图层",
           "record_id": "记录", "rows": "行数", "detail": "详情"}  # fmt: skip


def audit_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of `Accounts.audit_rows` with Chinese headings and values."""
    at = pd.to_datetime(rows["at"]) + BEIJING
    out = pd.DataFrame(
        {
            "at": at.dt.strftime("%Y-%m-%d %H:%M:%S"),
            "username": rows["username"],
            "action": rows["action"].map(ACTIONS).fillna(rows["action"]),
            "layer": [layer_label(v) for v in rows["layer"]],
            "record_id": rows["record_id"].fillna(""),
            "rows": rows["rows"].astype("Int64"),
            "detail": [
                detail_text(layer, detail)
                for layer, detail in zip(rows["layer"], rows["detail"], strict=True)
            ],
        }
    )
    return out.rename(columns=COLUMNS)


def layer_label(name) -> str:
    """A layer, ledger or export's Chinese name; other values (file names) as they are."""
    if not isinstance(name, str):
        return ""
    if name in LAYERS:
        return LAYERS[name].label
    return LEDGERS.get(name) or OTHER_LAYERS.get(name, name)


def detail_text(layer, detail) -> str:
    """'键：值；…' in Chinese; a record's change (layers.changes: the changed fields' old and
    new values) as '名称：旧 → 新'."""
    if not isinstance(detail, str) or not detail:
        return ""
    try:
        data = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(data, dict):
        return str(data)
    if set(data) == {"old", "new"}:
        return _change(layer, data["old"], data["new"])
    parts = []
    for key, value in data.items():
        if key == "reason":
            value = REASONS.get(value, value)
        elif key == "role":
            value = ROLES.get(value, value)
        parts.append(f"{DETAIL_KEYS.get(key, key)}：{_value(value)}")
    return "；".join(parts)


def _change(layer, old, new) -> str:
    columns = {c.name: c for c in LAYERS[layer].columns} if layer in LAYERS else {}

    def shown(name, value) -> str:
        column = columns.get(name)
        if column is not None and column.choices and isinstance(value, str):
            value = labels_of(value, column.choices)
        return _value(value)

    def label(name) -> str:
        return columns[name].label if name in columns else name

    if old is None:  # a new record: its values (personal ones masked when logged)
        filled = [f"{label(k)}：{shown(k, v)}" for k, v in new.items() if v not in (None, "")]
        return "新增：" + "；".join(filled)
    if new is None:
        return "删除"
    changed = [
        f"{label(k)}：{shown(k, old.get(k))} → {shown(k, new.get(k))}"
        for k in dict.fromkeys([*old, *new])
        if old.get(k) != new.get(k)
    ]
    return "修改：" + ("；".join(changed) if changed else "无变化")


def _value(value) -> str:
    if value is None or value == "":
        return "空"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_value(v) for v in value) if value else "空"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
