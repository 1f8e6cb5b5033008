"""Importing hazard and boundary layers from GIS files into the catalogue's layers.

Attributes are matched to the layer's columns by header synonyms; values are read from Chinese
labels (池塘, 幼儿园 ...) or codes. A feature without a village code is placed in the village
that contains it. Features are matched to stored ones by their id (the file's id column, or for
files without one an id derived from the geometry), so importing the same file twice changes
nothing and a corrected file updates what it names, keeping columns it does not have.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import shapely

from geo import vocab
from geo.crs import near_area
from layers.catalogue import LAYERS, get_layer
from layers.geofile import GeoFile, clean_name
from layers.problems import PlanChecks, Problem, same_value

KINDS = {
    "villages": "村（社区）边界",
    "water_bodies": "水域（河塘库坝）",
    "slopes": "易涝易滑坡体",
    "facilities": "儿童场所",
    "point_hazards": "点状隐患",
}
KEY_PREFIX = {"water_bodies": "W", "slopes": "S", "facilities": "F", "point_hazards": "P"}
# Column -> other headers files use for it (compared lower-case, without spaces).
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("名称", "名字", "name", "mc", "河流名称", "水库名称", "山坪塘名称", "学校名称",
             "村名"),
    "village_code": ("村代码", "村(社区)代码", "村（社区）代码", "村级代码", "区划代码", "code",
                     "adcode", "village_code", "cun_dm"),
    "water_type": ("类型", "水域类型", "类别", "type", "lx"),
    "facility_type": ("类型", "场所类型", "类别", "type"),
    "hazard_type": ("类型", "隐患类型", "类别", "type"),
    "hazard_grade": ("等级", "隐患等级", "风险等级", "grade", "level"),
    "children_count": ("儿童人数", "学生人数", "在校人数", "人数"),
    "responsible_person": ("责任人", "管护责任人", "河长", "塘长"),
    "responsible_phone": ("责任人电话", "联系电话", "电话"),
    "committee_lon": ("村委会经度",),
    "committee_lat": ("村委会纬度",),
    "found_date": ("发现日期", "日期"),
    "note": ("备注", "说明", "description", "descriptio"),
    "township_name": ("乡镇", "乡镇(街道)", "乡镇（街道）", "街道", "township"),
}  # fmt: skip
ID_SYNONYMS = ("编号", "id", "fid", "objectid", "bh", "code_id", "要素编号")
TYPE_COLUMN = {
    "water_bodies": "water_type",
    "facilities": "facility_type",
    "point_hazards": "hazard_type",
    "slopes": "hazard_grade",
}
_GEOMETRY_KINDS = {
    "Point": {"Point"},
    "MultiPolygon": {"Polygon", "MultiPolygon"},
    "Geometry": {"LineString", "MultiLineString", "Polygon", "MultiPolygon"},
}


@dataclass
class LayerPlan(PlanChecks):
    kind: str
    frame: gpd.GeoDataFrame  # rows to write (new and changed)
    actions: pd.DataFrame  # 序号, 编号, 名称, 操作
    townships: gpd.GeoDataFrame | None = None  # townships to create (villages import)
    problems: list[Problem] = field(default_factory=list)
    source_crs: str = ""


def guess_columns(kind: str, columns: list[str]) -> dict[str, str]:
    """Layer column -> file column, by name and synonyms."""
    layer = get_layer(kind)
    wanted = [*layer.column_names, "township_name"]
    by_clean = {clean_name(c): c for c in columns}
    mapping = {}
    for col in wanted:
        names = (col, *COLUMN_SYNONYMS.get(col, ()))
        if col == layer.key:
            names = (*names, *ID_SYNONYMS)
        for name in names:
            found = by_clean.get(clean_name(name))
            if found is not None and found not in mapping.values():
                mapping[col] = found
                break
    return mapping


def plan_layer(
    store,
    kind: str,
    geofile: GeoFile,
    mapping: dict[str, str] | None = None,
    defaults: dict[str, str] | None = None,
) -> LayerPlan:
    """Check a GIS file as layer `kind` and work out what importing it changes (nothing is
    written). `defaults` give a value for every feature (e.g. water_type=pond)."""
    if kind not in KINDS:
        raise ValueError(f"unknown layer kind {kind!r}")
    layer = get_layer(kind)
    frame = geofile.frame.reset_index(drop=True)
    mapping = mapping if mapping is not None else guess_columns(kind, list(frame.columns))
    defaults = dict(defaults or {})
    problems: list[Problem] = []
    values = pd.DataFrame(index=frame.index)
    for col, source in mapping.items():
        values[col] = frame[source].map(lambda v: None if _blank(v) else str(v).strip())
    for col, value in defaults.items():
        if col not in layer.column_names and col != "township_name":
            raise ValueError(f"layer {kind} has no column {col}")
        values[col] = values[col].fillna(value) if col in values else value
    geometry = _geometries(frame.geometry, layer.geometry, problems)
    villages = store.read_own("villages")
    _outside_area(kind, geometry, villages, problems)
    _admin_codes(kind, values, geometry, villages, problems)
    _choices(kind, values, problems, mapping)
    if layer.key not in values or values[layer.key].isna().any():
        generated = [_geometry_id(kind, g, values.get("village_code", pd.Series()).get(i))
                     for i, g in enumerate(geometry)]  # fmt: skip
        if layer.key in values:
            values[layer.key] = values[layer.key].fillna(pd.Series(generated, index=values.index))
        else:
            values[layer.key] = generated
    dup = values[layer.key].duplicated(keep="first")
    for i in values.index[dup]:
        problems.append(Problem(i + 1, mapping.get(layer.key, "编号"),
                                f"编号“{values.at[i, layer.key]}”与前面的要素重复",
                                "请保证每个要素编号唯一"))  # fmt: skip
    existing = store.read_layer(kind)
    stored_keys = set(existing[layer.key].astype(str))
    new_rows = ~values[layer.key].astype(str).isin(stored_keys)  # stored ones keep their values
    for col in layer.columns:
        missing = new_rows & (values[col.name].isna() if col.name in values else True)
        if col.required and missing.any():
            for i in values.index[missing][:20]:
                problems.append(Problem(i + 1, mapping.get(col.name, col.label),
                                        f"“{col.label}”为空",
                                        _fix_for(kind, col.name)))  # fmt: skip
    values["source_crs"] = geofile.source_crs
    plan_frame, actions = _merge(layer, values, geometry, existing, mapping)
    townships = _new_townships(store, plan_frame, values) if kind == "villages" else None
    return LayerPlan(kind, plan_frame, actions, townships, problems, geofile.source_crs)


def apply_layer(store, plan: LayerPlan) -> dict[str, int]:
    """Write the plan in one all-or-nothing write; refuses a plan with errors."""
    if not plan.ok:
        raise ValueError("the plan has errors; nothing was written")
    frames = {}
    if plan.townships is not None and len(plan.townships):
        frames["townships"] = plan.townships
    if len(plan.frame):
        frames[plan.kind] = plan.frame
    if frames:
        store.write_layers(frames, upsert=True)
    return plan.counts()


# -- steps ------------------------------------------------------------------------------------


def _blank(value) -> bool:
    return (
        value is None or (not isinstance(value, str) and pd.isna(value)) or str(value).strip() == ""
    )


def _fix_for(kind: str, column: str) -> str:
    if column == TYPE_COLUMN.get(kind):
        labels = "、".join(get_layer(kind).column(column).choices.values())
        return f"请在文件中加上类型列，或在导入时为全部要素指定类型（可选：{labels}）"
    if column in ("county_code", "township_code", "village_code"):
        return "请加上 12 位村（社区）代码列，或确认要素位于已导入的村界内"
    return "请在文件中补上该列"


def _geometries(series: gpd.GeoSeries, kind: str, problems: list[Problem]) -> list:
    """Geometries of the layer's kind: invalid ones repaired (warned), wrong or empty refused."""
    allowed = _GEOMETRY_KINDS[kind]
    out = []
    for i, geom in enumerate(series):
        row = i + 1
        if geom is None or geom.is_empty:
            problems.append(Problem(row, "几何", "要素没有几何（空）", "请删除该要素或补上图形"))
            out.append(None)
            continue
        if geom.geom_type == "MultiPoint" and len(geom.geoms) == 1 and "Point" in allowed:
            geom = geom.geoms[0]
        if geom.has_z:
            geom = shapely.force_2d(geom)
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            fixed = shapely.make_valid(geom)
            if fixed.geom_type == "GeometryCollection":
                parts = [g for g in fixed.geoms if g.geom_type in allowed]
                fixed = shapely.union_all(parts) if parts else fixed
            if fixed.is_empty or fixed.geom_type not in allowed:
                problems.append(Problem(row, "几何", f"几何无效且无法修复（{reason}）",
                                        "请在 GIS 软件中修复后再导入"))  # fmt: skip
                out.append(None)
                continue
            problems.append(Problem(row, "几何", f"几何无效（{reason}），已自动修复",
                                    "请核对修复后的形状", "警告"))  # fmt: skip
            geom = fixed
        if geom.geom_type not in allowed:
            want = {"Point": "点", "MultiPolygon": "面", "Geometry": "线或面"}[kind]
            problems.append(Problem(row, "几何", f"几何类型是 {geom.geom_type}，本图层需要{want}",
                                    "请确认导入的图层类型是否选对"))  # fmt: skip
            out.append(None)
            continue
        if kind == "MultiPolygon" and geom.geom_type == "Polygon":
            geom = shapely.MultiPolygon([geom])
        out.append(geom)
    return out


def _outside_area(kind, geometry, villages, problems) -> None:
    """Features far outside the deployment's villages: a wrong file or coordinate system."""
    if kind == "villages" or not len(villages):
        return
    bounds = villages.total_bounds
    for i, geom in enumerate(geometry):
        if geom is None:
            continue
        p = geom.representative_point()
        if not near_area(bounds, p.x, p.y):
            problems.append(Problem(i + 1, "几何", f"要素（{p.x:.5f}, {p.y:.5f}）离本辖区太远"
                                    "（20 公里以外）", "请核对文件和所选坐标系"))  # fmt: skip
            geometry[i] = None


def _admin_codes(kind, values, geometry, villages, problems) -> None:
    """Village, township and county codes: from the file or by the containing village."""
    if kind == "villages":
        codes = values.get("village_code")
        if codes is None:
            return
        for i, code in codes.items():
            if code is not None and not (code.isdigit() and len(code) == 12):
                problems.append(Problem(i + 1, "村（社区）代码", f"“{code}”不是 12 位数字",
                                        "请填写统计用区划代码（12 位）"))  # fmt: skip
                values.at[i, "village_code"] = None
        values["township_code"] = values["village_code"].str[:9]
        values["county_code"] = values["village_code"].str[:6]
        return
    known = dict(zip(villages["village_code"], villages["township_code"], strict=True))
    if "village_code" not in values:
        values["village_code"] = None
    for i in values.index:
        code, geom = values.at[i, "village_code"], geometry[i]
        if code is not None and code not in known:
            problems.append(Problem(i + 1, "村（社区）代码",
                                    f"村（社区）代码“{code}”不在村列表中（或不在您的管辖范围）",
                                    "请核对代码，或先导入村界"))  # fmt: skip
            values.at[i, "village_code"] = None
            continue
        if code is None and geom is not None and len(villages):
            point = geom.representative_point()
            inside = villages[villages.geometry.covers(point)]
            if len(inside):
                values.at[i, "village_code"] = inside["village_code"].iloc[0]
            else:
                problems.append(Problem(i + 1, "几何", "要素不在任何（您管辖的）村界内",
                                        "请核对坐标和坐标系，或写明村（社区）代码"))  # fmt: skip
    values["township_code"] = values["village_code"].map(known)
    values["county_code"] = values["village_code"].str[:6]


def _choices(kind, values, problems, mapping) -> None:
    layer = get_layer(kind)
    for col in layer.columns:
        if not col.choices or col.name not in values:
            continue
        words = vocab.words_for(col.name, col.choices)
        for i, value in values[col.name].items():
            if value is None:
                continue
            code = words.get(value) or words.get(value.lower())
            if code is None:
                problems.append(Problem(i + 1, mapping.get(col.name, col.label),
                                        f"“{value}”不是可识别的{col.label}",
                                        f"可填：{'、'.join(col.choices.values())}"))  # fmt: skip
            values.at[i, col.name] = code


def _geometry_id(kind: str, geom, village_code) -> str:
    """A stable id for a feature of a file without ids: from its village and shape."""
    if geom is None:
        return f"{KEY_PREFIX[kind]}-EMPTY"
    digest = hashlib.sha1(shapely.set_precision(geom, 1e-7).wkb).hexdigest()[:12].upper()
    return f"{KEY_PREFIX[kind]}{village_code or ''}{digest}"


def _merge(layer, values, geometry, existing, mapping):
    """Rows to write (new features, and stored ones the file changes) and one action per
    feature; columns the file does not have keep their stored values."""
    stored = {str(k): i for i, k in enumerate(existing[layer.key])}
    given = [c for c in layer.column_names if c in values]
    rows, actions = [], []
    for i in values.index:
        key = str(values.at[i, layer.key])
        record = {c: values.at[i, c] for c in given}
        if key in stored:
            old = existing.iloc[stored[key]]
            merged = {c: old[c] for c in layer.column_names}
            merged.update({c: v for c, v in record.items() if v is not None})
            merged["geometry"] = geometry[i] if geometry[i] is not None else old.geometry
            changed = [c for c in given if c != "source_crs" and not same_value(old[c], merged[c])]
            if (
                merged["geometry"] is not None
                and old.geometry is not None
                and not _same_shape(merged["geometry"], old.geometry)
            ):
                changed.append("几何")
            op = "更新" if changed else "不变"
        else:
            merged = {c: record.get(c) for c in layer.column_names}
            merged["geometry"] = geometry[i]
            op = "新增"
        actions.append({"序号": i + 1, "编号": key, "名称": record.get("name"), "操作": op})
        if op != "不变":
            rows.append(merged)
    frame = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=[*layer.column_names, "geometry"]), geometry="geometry", crs=4326
    )
    return frame, pd.DataFrame(actions, columns=["序号", "编号", "名称", "操作"])


def _same_shape(a, b) -> bool:
    """Equal to 1e-9 degree after normalising (a Shapefile reverses rings; same shape)."""
    return shapely.normalize(a).equals_exact(shapely.normalize(b), 1e-9)


def _new_townships(store, villages: gpd.GeoDataFrame, values) -> gpd.GeoDataFrame:
    """Townships that imported villages belong to but the store lacks: their outline is the
    union of their villages, their name the file's township column (or the code)."""
    have = set(store.read_layer("townships", columns=[])["township_code"])
    layer = LAYERS["townships"]
    rows = []
    names = {}
    if "township_name" in values:
        names = dict(zip(values["township_code"], values["township_name"], strict=True))
    for code, group in villages.groupby("township_code"):
        if code in have or code is None:
            continue
        outline = shapely.union_all(group.geometry.values)
        if outline.geom_type == "Polygon":
            outline = shapely.MultiPolygon([outline])
        rows.append({"county_code": code[:6], "township_code": code,
                     "name": names.get(code) or code, "geometry": outline})  # fmt: skip
    return gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=[*layer.column_names, "geometry"]), geometry="geometry", crs=4326
    )
