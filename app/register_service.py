"""The child register (儿童名册): children in scope, masked unless a permitted user reveals them.

Every view, reveal and export of the register is written to the audit log here, so pages and
CLI commands cannot show personal values without leaving a trace.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geo import vocab
from geo.masking import mask_address, mask_frame
from layers import ledger
from layers.catalogue import get_layer
from layers.child_import import ImportPlan, apply_import, plan_import
from layers.exporters import child_ledger_fields
from layers.problems import Problem
from layers.store.scoped import ScopedStore
from layers.tabular import RawTable

# Register columns and their Chinese headings, in display order.
REGISTER_COLUMNS = {
    "child_id": "儿童编号",
    "village_name": "村（社区）",
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号",
    "categories": "儿童类别",
    "difficulty_reasons": "困境原因",
    "guardian_name": "监护人",
    "guardian_phone": "监护人电话",
    "caregiver_name": "委托照护人",
    "caregiver_phone": "委托照护人电话",
    "caregiver_agreement_signed": "已签委托照护协议",
    "address": "现住址",
    "household_id": "户编号",
}
PERSONAL = [*get_layer("children").personal_columns, "address"]
# Ledger fields the edit form offers, in the ledger's order: all but the row number, the
# village's name (the form picks the village by its code) and the home's point (moving a home
# on the map is an import with coordinates and their system).
EDIT_FIELDS = [f.name for f in ledger.FIELDS if f.name not in ("seq", "village", "lon", "lat")]


def _labelled(codes: pd.Series, labels: dict) -> pd.Series:
    """The label of each code; the code itself where it has none (an empty column stays so)."""
    named = codes.map(labels).astype(object)
    return named.where(named.notna(), codes.astype(object))


def child_register(
    store: ScopedStore, village_codes: list[str], village_names: dict[str, str], reveal: bool
) -> pd.DataFrame:
    """The register for the given places with Chinese headings; personal values masked unless
    `reveal` (which needs the reveal permission and is logged with the records shown)."""
    store.scope.require("children", "查看儿童名册")
    if reveal:
        store.scope.require("reveal", "显示完整个人信息")
    children = store.read_layer("children", village_codes=village_codes)
    homes = store.read_layer("households", village_codes=village_codes, columns=["address"])
    frame = pd.DataFrame(children.drop(columns="geometry", errors="ignore"))
    frame["address"] = frame["household_id"].map(
        dict(zip(homes["household_id"], homes["address"], strict=True))
    )
    frame["village_name"] = _labelled(frame["village_code"], village_names)
    frame["sex"] = _labelled(frame["sex"], vocab.SEXES)
    for col, labels in (
        ("categories", vocab.CHILD_CATEGORIES),
        ("difficulty_reasons", vocab.DIFFICULTY_REASONS),
    ):
        frame[col] = [vocab.labels_of(v, labels) for v in frame[col]]
    frame["caregiver_agreement_signed"] = frame["caregiver_agreement_signed"].map(
        {True: "是", False: "否"}
    )
    if not reveal:
        frame = _masked(frame)
    frame["birth_date"] = pd.to_datetime(frame["birth_date"]).dt.strftime("%Y-%m-%d")
    table = frame[list(REGISTER_COLUMNS)].fillna("").rename(columns=REGISTER_COLUMNS)
    store.accounts().audit(
        store.scope.username,
        "reveal" if reveal else "view",
        layer="children",
        rows=len(table),
        detail={"place": village_codes, "child_ids": list(frame["child_id"])},
    )
    return table


def log_export(store: ScopedStore, table: pd.DataFrame, fmt: str, revealed: bool, place) -> None:
    """Record a download of the register (who, when, format, rows, whether values were full)."""
    store.accounts().audit(
        store.scope.username,
        "export",
        layer="children",
        rows=len(table),
        detail={"format": fmt, "full_values": revealed, "place": place},
    )


def open_child(store: ScopedStore, child_id: str, village_codes: list[str]) -> dict | None:
    """One child of the given places in full, as ledger fields, for the edit form (None when
    not there); logged as a reveal of that one record."""
    store.scope.require("reveal", "查看完整个人信息")
    store.scope.require("import", "修改儿童信息")
    fields = child_ledger_fields(store, child_id, village_codes)
    if fields is not None:
        store.accounts().audit(store.scope.username, "reveal", layer="children",
                               record_id=child_id, rows=1,
                               detail={"place": village_codes, "for": "edit"})  # fmt: skip
    return fields


def plan_child_edit(
    store: ScopedStore, child_id: str, fields: dict, as_of: dt.date | None = None
) -> ImportPlan:
    """The edit form's values checked as a one-row ledger (the ledger's own checks and
    messages, the same all-or-nothing write), and what writing them would change. The row is
    matched by identity number, so it must be that child's: a form whose number is empty or
    another child's gives an error instead of a new child."""
    store.scope.require("import", "修改儿童信息")
    names = [n for n in EDIT_FIELDS if n in fields]
    headers = [ledger.BY_NAME[n].header for n in names]
    table = RawTable(headers, [[fields[n] for n in names]], [1], "表单")
    plan = plan_import(store, table, dict(zip(names, headers, strict=True)), as_of=as_of)
    matched = list(plan.actions["儿童编号"])
    if not plan.errors and matched != [child_id]:
        plan.problems.append(Problem(1, ledger.BY_NAME["id_number"].header,
                                     "按身份证号找到的不是这名儿童",
                                     "身份证号不能在此修改：请通过台账导入更正"))  # fmt: skip
    return plan


def apply_child_edit(store: ScopedStore, plan: ImportPlan) -> str:
    """Write a checked edit (all or nothing, audited by the store); what changed, in Chinese
    (the child's changed fields, or the address when only the home's changed)."""
    apply_import(store, plan)
    return plan.actions["变化"].iloc[0] or ledger.BY_NAME["address"].header


def _masked(frame: pd.DataFrame) -> pd.DataFrame:
    out = mask_frame(frame, [c for c in PERSONAL if c != "address"])
    out["address"] = pd.Series(
        [mask_address(a, v) for a, v in zip(frame["address"], frame["village_name"], strict=True)],
        index=frame.index,
        dtype=object,
    )
    return out
