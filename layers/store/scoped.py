"""A store seen through one user's scope: what every page, CLI command and export uses.

It exposes only reads and writes that apply the scope; anything else is not reachable through
it, so code holding a ScopedStore cannot read outside the user's places by forgetting a filter.
"""

from __future__ import annotations

import pandas as pd

from geo.crs import AnalysisCRS
from geo.proximity import Proximity
from layers.access import SCOPED_LAYERS, AccessDenied, Scope
from layers.accounts import Accounts
from layers.catalogue import get_layer
from layers.changes import record_changes
from layers.store.base import Bbox, Store


class ScopedStore:
    """Delegates to `store` with `scope` applied to every read and write."""

    def __init__(self, store: Store, scope: Scope):
        self._store = store
        self.scope = scope
        self.kind = store.kind

    def describe(self) -> str:
        return self._store.describe()

    def check(self) -> None:
        self._store.check()

    def accounts(self) -> Accounts:
        return self._store.accounts()

    def add_evidence(
        self, layer: str, record_id: str, village_code: str, files: list[tuple[str, bytes]]
    ) -> int:
        """Keep photos of a record in the user's villages (logged)."""
        if self.scope.counting or self.scope.role == "viewer":
            raise AccessDenied("只读账号不能上传佐证材料。")
        added = self._store.evidence().add(
            self.scope, layer, record_id, village_code, files, self.scope.username
        )
        self.accounts().audit(self.scope.username, "write", layer="shouhu_evidence",
                              record_id=record_id, rows=added)  # fmt: skip
        return added

    def evidence_counts(self, record_ids: list[str]) -> dict[str, int]:
        return self._store.evidence().counts(self.scope, record_ids)

    def evidence_files(self, record_id: str) -> list[tuple[str, str, bytes]]:
        return self._store.evidence().files(self.scope, record_id)

    def analysis_crs(self) -> AnalysisCRS:
        return self._store.analysis_crs()

    def get_setting(self, key: str) -> str | None:
        return self._store.get_setting(key)

    def read_layer(
        self,
        name: str,
        bbox: Bbox | None = None,
        village_codes: list[str] | None = None,
        columns: list[str] | None = None,
        arrow_text: bool = False,
    ) -> pd.DataFrame:
        return self._store.read_layer(
            name, bbox, village_codes, columns, scope=self.scope, arrow_text=arrow_text
        )

    def counting(self) -> ScopedStore:
        """This store for aggregate-only services (see `Scope.for_counting`): same places, and
        person rows readable so that they can be counted. Never hand it to a page."""
        return ScopedStore(self._store, self.scope.for_counting())

    def read_own(
        self, name: str, village_codes: list[str] | None = None, columns: list[str] | None = None
    ) -> pd.DataFrame:
        """Rows inside the user's places, for reference layers as well: reading them whole is
        for analysis (a pond over the boundary counts), acting on them is within scope."""
        frame = self.read_layer(name, village_codes=village_codes, columns=columns)
        return frame[[self.scope.covers(c) for c in frame["village_code"]]]

    def data_revision(self, names: list[str]) -> str:
        """See `Store.data_revision`: a token for the named layers as this user reads them."""
        return self._store.data_revision(names, self.scope)

    def count(self, name: str) -> int:
        """Rows inside the scope: an aggregate, so every role may see it."""
        return self._store.count(name, self.scope if name in SCOPED_LAYERS else None)

    def proximity(
        self,
        radius_by_type: dict[str, float] | None = None,
        village_codes: list[str] | None = None,
        layers: tuple | None = None,
    ) -> Proximity:
        """`layers`: households, water bodies and slopes read through this scoped store."""
        return self._store.proximity(radius_by_type, village_codes, self.scope, layers)

    def hazards_around(
        self,
        radius_by_type: dict[str, float],
        village_codes: list[str] | None = None,
        facility_ids: list[str] | None = None,
    ) -> pd.DataFrame:
        """Hazards around child facilities: reference layers only, no personal data."""
        return self._store.hazards_around(radius_by_type, village_codes, facility_ids)

    def write_layers(
        self, frames: dict[str, pd.DataFrame], replace: bool = False, upsert: bool = False
    ) -> None:
        """Write rows inside the scope only (for every layer: reference layers are read whole
        but written only within the user's places); replacing whole layers is for the owner."""
        if replace:
            raise AccessDenied("按账号写入时不能整层替换数据。")
        if self.scope.counting or self.scope.role == "viewer":
            raise AccessDenied("只读账号和汇总统计视图不能写入数据。")
        for name, frame in frames.items():
            self.scope.check_layer(name)
            if "village_code" in frame:
                outside = [c for c in frame["village_code"].astype(str) if not self.scope.covers(c)]
                if outside:
                    raise AccessDenied(
                        f"有 {len(outside)} 行属于管辖范围以外的村（如 {outside[0]}），"
                        "未写入任何数据。"
                    )
        changes = {name: self._changes(name, frame) for name, frame in frames.items()}
        self._store.write_layers(frames, replace=False, upsert=upsert, scope=self.scope)
        accounts = self.accounts()
        for name, frame in frames.items():
            accounts.audit(self.scope.username, "write", layer=name, rows=len(frame))
            accounts.audit_records(self.scope.username, "write_record", name, changes[name])

    def _changes(self, name: str, frame: pd.DataFrame) -> list[tuple[str, dict]]:
        """Old and new values of each record the write touches (see layers.changes)."""
        layer = get_layer(name)
        codes = None
        if "village_code" in frame and "village_code" in layer.column_names:
            codes = sorted(set(frame["village_code"].astype(str)))
        old = self._store.read_layer(name, village_codes=codes, scope=self.scope)
        old = old[old[layer.key].astype(str).isin(set(frame[layer.key].astype(str)))]
        return record_changes(layer, old, frame)

    def close(self) -> None:
        """The underlying store may be shared; it is closed by its owner."""
