"""Exports that read back into GIS and Excel: a GeoPackage of every layer, GeoJSON, KML for
phone map apps and Google Earth, and the ledgers in the layout of the seed's attachments.

Everything is read through the caller's store, so a ScopedStore exports only the user's places;
person layers are left out (GeoPackage) or masked (ledgers) without the export permission.
Files are written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import html
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo import vocab
from geo.masking import mask_frame
from layers import ledger
from layers.access import PERSON_LAYERS, AccessDenied
from layers.catalogue import LAYERS, get_layer
from layers.errors import StoreError
from layers.export import EXPORT_FORMATS, atomic_write, check_target

LEFT_BEHIND = {"left_behind_rural", "left_behind_urban"}
IN_DIFFICULTY = {"orphan", "unsupported", "difficulty"}


def _may_export_personal(store) -> bool:
    scope = getattr(store, "scope", None)
    return scope is None or scope.can("export_personal")


def export_geopackage(store, path, village_codes: list[str] | None = None) -> dict[str, int]:
    """Every layer the user may export into one GeoPackage (rows per layer returned)."""
    target = check_target(path, EXPORT_FORMATS["gpkg"])
    personal = _may_export_personal(store)
    frames = {}
    for name in LAYERS:
        if name in PERSON_LAYERS and not personal:
            continue
        try:
            frames[name] = store.read_layer(name, village_codes=village_codes)
        except AccessDenied:
            continue

    def write(tmp: Path) -> None:
        for name, frame in frames.items():
            layer = LAYERS[name]
            out = frame if layer.geometry is not None else pd.DataFrame(frame)
            kwargs = {"layer": name, "driver": "GPKG", "append": tmp.exists()}
            if layer.geometry is not None:
                kwargs["geometry_type"] = "Unknown" if layer.geometry == "Geometry" else None
                kwargs["promote_to_multi"] = False
            pyogrio.write_dataframe(out, tmp, **{k: v for k, v in kwargs.items() if v is not None})

    atomic_write(target, write)
    return {name: len(frame) for name, frame in frames.items()}


def export_geojson(store, name: str, path, village_codes: list[str] | None = None) -> int:
    target = check_target(path, EXPORT_FORMATS["geojson"])
    frame = _layer_for_file(store, name, village_codes)
    atomic_write(target, lambda tmp: frame.to_file(tmp, driver="GeoJSON"))
    return len(frame)


def export_kml(store, name: str, path, village_codes: list[str] | None = None) -> int:
    """KML in WGS84 with Name and Description filled in Chinese; personal columns only for
    users with the export permission."""
    target = check_target(path, EXPORT_FORMATS["kml"])
    frame = _layer_for_file(store, name, village_codes)
    layer = get_layer(name)
    label_cols = [c for c in layer.columns if c.name in frame.columns and c.name != "geometry"]
    names = frame["name"] if "name" in frame else frame[layer.key]
    descriptions = []
    for i in range(len(frame)):
        parts = []
        for col in label_cols:
            value = frame[col.name].iloc[i]
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                continue
            if col.choices:
                value = vocab.labels_of(str(value), col.choices)
            parts.append(f"{col.label}：{html.escape(str(value))}")
        descriptions.append("<br/>".join(parts))
    out = gpd.GeoDataFrame(
        {"Name": names.astype(str).to_numpy(), "Description": descriptions},
        geometry=frame.geometry.to_numpy(),
        crs=4326,
    )
    # The layer (a KML folder) is named after the data, not after the temporary file.
    atomic_write(target, lambda tmp: out.to_file(tmp, driver="KML", layer=layer.label))
    return len(out)


def _layer_for_file(store, name: str, village_codes) -> gpd.GeoDataFrame:
    if name not in LAYERS:
        spatial = [n for n, layer in LAYERS.items() if layer.geometry is not None]
        raise StoreError(
            f"没有名为“{name}”的图层。可导出为 GeoJSON/KML 的图层：{'、'.join(spatial)}"
        )
    layer = get_layer(name)
    if layer.geometry is None:
        raise StoreError(
            f"图层“{layer.label}”没有几何，不能导出为 GeoJSON/KML，请导出 Excel 台账。"
        )
    frame = store.read_layer(name, village_codes=village_codes)
    if name in PERSON_LAYERS and not _may_export_personal(store):
        frame = mask_frame(frame, layer.personal_columns)
    return frame.to_crs(4326)


def ledger_rows(store, kind: str, village_codes: list[str] | None = None) -> list[dict]:
    """The children of a ledger (附件1 left-behind, 附件2 in difficulty) as ledger fields, in
    village and name order; masked without the export permission."""
    if kind not in ledger.LEDGERS:
        raise ValueError(f"unknown ledger {kind!r}")
    children = store.read_layer("children", village_codes=village_codes)
    wanted = LEFT_BEHIND if kind == "left_behind" else IN_DIFFICULTY
    keep = [bool(set(vocab.split_codes(c)) & wanted) for c in children["categories"]]
    children = children[keep]
    if not _may_export_personal(store):
        children = mask_frame(children, get_layer("children").personal_columns)
    homes = store.read_layer(
        "households", village_codes=village_codes, columns=["address", "village_code"]
    )
    address = dict(zip(homes["household_id"], homes["address"], strict=True))
    points = dict(zip(homes["household_id"], homes.geometry, strict=True))
    village_names = dict(
        zip(*(store.read_layer("villages")[c] for c in ("village_code", "name")), strict=True)
    )
    if not _may_export_personal(store):
        address = {k: f"{village_names.get(v, '')}（已隐藏）" for k, v in
                   zip(homes["household_id"], homes["village_code"], strict=True)}  # fmt: skip
        points = {}  # exact home locations only with the export permission
    children = children.sort_values(["village_code", "child_id"])
    return [
        {"seq": seq, **_ledger_fields(child, village_names, address, points)}
        for seq, child in enumerate(children.itertuples(index=False), start=1)
    ]


def child_ledger_fields(store, child_id: str, village_codes: list[str]) -> dict | None:
    """One child of the given places as ledger fields, in full (for correcting the record with
    the ledger's own checks); None when no such child is there. Its home's point is left out."""
    children = store.read_layer("children", village_codes=village_codes)
    children = children[children["child_id"] == child_id]
    if not len(children):
        return None
    child = next(children.itertuples(index=False))
    homes = store.read_layer("households", village_codes=[child.village_code],
                             columns=["address"])  # fmt: skip
    address = dict(zip(homes["household_id"], homes["address"], strict=True))
    villages = store.read_layer("villages", village_codes=[child.village_code])
    names = dict(zip(villages["village_code"], villages["name"], strict=True))
    return _ledger_fields(child, names, address, {})


def _ledger_fields(child, village_names: dict, address: dict, points: dict) -> dict:
    """A child record (a row of the children layer) as ledger fields with the ledger's words."""
    point = points.get(child.household_id)
    return {
        "name": child.name,
        "sex": vocab.SEXES.get(child.sex, child.sex),
        "id_number": child.id_number,  # a string: written as text
        "birth_date": pd.Timestamp(child.birth_date).strftime("%Y-%m-%d"),
        "registration": vocab.REGISTRATION_TYPES.get(child.registration),
        "village": village_names.get(child.village_code),
        "village_code": child.village_code,
        "address": address.get(child.household_id),
        "school": child.school,
        "categories": _labels(child.categories, vocab.CHILD_CATEGORIES),
        "guardian_name": child.guardian_name,
        "guardian_phone": child.guardian_phone,
        "guardian_capable": _yes_no(child.guardian_capable),
        "caregiver_name": child.caregiver_name,
        "caregiver_phone": child.caregiver_phone,
        "caregiver_agreement_signed": _yes_no(child.caregiver_agreement_signed),
        "father_situation": vocab.PARENT_SITUATIONS.get(child.father_situation),
        "father_work_place": child.father_work_place,
        "father_away_since": _int(child.father_months_away),
        "mother_situation": vocab.PARENT_SITUATIONS.get(child.mother_situation),
        "mother_work_place": child.mother_work_place,
        "mother_away_since": _int(child.mother_months_away),
        "reasons": _labels(child.difficulty_reasons, vocab.DIFFICULTY_REASONS),
        "disability": child.disability,
        "lon": point.x if point is not None else None,
        "lat": point.y if point is not None else None,
    }


def export_ledger(store, kind: str, path, village_codes: list[str] | None = None) -> int:
    target = check_target(path, EXPORT_FORMATS["ledger"])
    rows = ledger_rows(store, kind, village_codes)
    data = ledger.template_bytes(kind, rows)
    atomic_write(target, lambda tmp: tmp.write_bytes(data))
    return len(rows)


def _labels(value, labels: dict[str, str]) -> str | None:
    return vocab.labels_of(value, labels) or None


def _yes_no(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return "是" if bool(value) else "否"


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)
