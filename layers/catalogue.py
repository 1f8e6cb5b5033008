"""The layer catalogue: every layer's columns, geometry type, admin codes, sensitivity and style.

Both stores, the demo generator, the map and (later) importers read the schema from here, so a
column is declared once. Kinds: text, int, float, bool, date, datetime.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from geo import vocab

ADMIN_CODES: tuple[str, ...] = ("county_code", "township_code", "village_code")
ADMIN_CODE_LENGTHS: dict[str, int] = {"county_code": 6, "township_code": 9, "village_code": 12}
KINDS = ("text", "int", "float", "bool", "date", "datetime")


# What the data dictionary page calls each kind of column and of geometry.
KIND_LABELS = {"text": "文字", "int": "整数", "float": "数值", "bool": "是/否", "date": "日期",
               "datetime": "日期时间"}  # fmt: skip
GEOMETRY_LABELS = {"Point": "点", "MultiPolygon": "面", "Geometry": "线或面"}
NO_GEOMETRY = "无（记录表）"


@dataclass(frozen=True)
class Column:
    """One attribute column."""

    name: str
    kind: str
    label: str
    required: bool = False
    personal: bool = False  # personal data of a child or family: masked, scoped, audited
    choices: dict[str, str] | None = None  # code -> Chinese label
    multi: bool = False  # several codes joined by vocab.MULTI_SEPARATOR


@dataclass(frozen=True)
class Layer:
    """One layer (a spatial table) or record table (geometry None)."""

    name: str
    label: str
    key: str
    columns: tuple[Column, ...]
    geometry: str | None = None  # 'Point', 'MultiPolygon', 'Geometry' (lines or polygons)
    sensitive: bool = False  # holds personal data of children or families
    admin_level: str = "village_code"  # finest admin code the layer carries
    style: dict = field(default_factory=dict)

    @property
    def geometry_label(self) -> str:
        """The kind of geometry in Chinese (点、面、线或面), or that the layer is a record table."""
        return GEOMETRY_LABELS[self.geometry] if self.geometry else NO_GEOMETRY

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def admin_codes(self) -> tuple[str, ...]:
        """Admin code columns this layer carries, coarsest first."""
        return ADMIN_CODES[: ADMIN_CODES.index(self.admin_level) + 1]

    @property
    def personal_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.personal]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"layer {self.name} has no column {name}")


def _admin(level: str) -> tuple[Column, ...]:
    labels = {
        "county_code": "区县代码",
        "township_code": "乡镇（街道）代码",
        "village_code": "村（社区）代码",
    }
    names = ADMIN_CODES[: ADMIN_CODES.index(level) + 1]
    return tuple(Column(n, "text", labels[n], required=True) for n in names)


# Where an imported row's coordinates came from: wgs84, cgcs2000, gcj02, bd09 (converted to
# WGS84 on import) or the file's own CRS as "EPSG:nnnn"; empty for rows not imported.
SOURCE_CRS = Column("source_crs", "text", "来源坐标系")


def _equipment_columns() -> tuple[Column, ...]:
    return tuple(
        Column(f"{item}_status", "text", f"{label}状态", choices=vocab.EQUIPMENT_STATUSES)
        for item, label in vocab.EQUIPMENT_ITEMS.items()
    )


TOWNSHIPS = Layer(
    name="townships",
    label="乡镇（街道）",
    key="township_code",
    geometry="MultiPolygon",
    admin_level="township_code",
    columns=(*_admin("township_code"), Column("name", "text", "名称", required=True)),
    style={"color": "#555555", "weight": 3, "fill": False},
)

VILLAGES = Layer(
    name="villages",
    label="村（社区）",
    key="village_code",
    geometry="MultiPolygon",
    columns=(
        *_admin("village_code"),
        Column("name", "text", "名称", required=True),
        Column("committee_lon", "float", "村委会经度"),
        Column("committee_lat", "float", "村委会纬度"),
        SOURCE_CRS,
    ),
    style={"color": "#6b6b6b", "weight": 1.5, "fillColor": "#f4f1e8", "fillOpacity": 0.35},
)

DIRECTORS = Layer(
    name="directors",
    label="儿童主任",
    key="director_id",
    columns=(
        Column("director_id", "text", "编号", required=True),
        *_admin("village_code"),
        Column("name", "text", "姓名", required=True),
        Column("phone", "text", "联系电话"),
    ),
)

HOUSEHOLDS = Layer(
    name="households",
    label="家庭户",
    key="household_id",
    geometry="Point",
    sensitive=True,
    columns=(
        Column("household_id", "text", "户编号", required=True),
        *_admin("village_code"),
        Column("address", "text", "现住址", personal=True),
        SOURCE_CRS,
    ),
    style={"color": "#1f5fa8"},
)

CHILDREN = Layer(
    name="children",
    label="儿童",
    key="child_id",
    sensitive=True,
    columns=(
        Column("child_id", "text", "儿童编号", required=True),
        Column("household_id", "text", "户编号", required=True),
        *_admin("village_code"),
        Column("name", "text", "姓名", required=True, personal=True),
        Column("id_number", "text", "身份证号", personal=True),
        Column("sex", "text", "性别", required=True, choices=vocab.SEXES),
        Column("birth_date", "date", "出生日期", required=True),
        Column("registration", "text", "户籍性质", choices=vocab.REGISTRATION_TYPES),
        Column("categories", "text", "儿童类别", choices=vocab.CHILD_CATEGORIES, multi=True),
        Column(
            "difficulty_reasons", "text", "困境原因", choices=vocab.DIFFICULTY_REASONS, multi=True
        ),
        Column("guardian_name", "text", "监护人", personal=True),
        Column("guardian_phone", "text", "监护人电话", personal=True),
        Column("guardian_capable", "bool", "监护人有监护能力"),
        Column("caregiver_name", "text", "委托照护人", personal=True),
        Column("caregiver_phone", "text", "委托照护人电话", personal=True),
        Column("caregiver_agreement_signed", "bool", "已签委托照护协议"),
        Column("father_situation", "text", "父亲情况", choices=vocab.PARENT_SITUATIONS),
        Column("father_work_place", "text", "父亲务工地"),
        Column("father_months_away", "int", "父亲外出月数"),
        Column("mother_situation", "text", "母亲情况", choices=vocab.PARENT_SITUATIONS),
        Column("mother_work_place", "text", "母亲务工地"),
        Column("mother_months_away", "int", "母亲外出月数"),
        Column("school", "text", "就学情况"),
        Column("disability", "text", "残疾情况", personal=True),
        SOURCE_CRS,
    ),
)

WATER_BODIES = Layer(
    name="water_bodies",
    label="水域（河塘库坝）",
    key="water_id",
    geometry="Geometry",
    columns=(
        Column("water_id", "text", "水域编号", required=True),
        *_admin("village_code"),
        Column("name", "text", "名称"),
        Column("water_type", "text", "类型", required=True, choices=vocab.WATER_TYPES),
        *_equipment_columns(),
        Column("responsible_person", "text", "责任人"),
        Column("responsible_phone", "text", "责任人电话"),
        Column("last_inspection_date", "date", "最近巡查日期"),
        SOURCE_CRS,
    ),
    style={
        "complete": "#2e7d32",
        "incomplete": "#d32f2f",
        "unknown": "#9e9e9e",
    },
)

SLOPES = Layer(
    name="slopes",
    label="易涝易滑坡体",
    key="slope_id",
    geometry="MultiPolygon",
    columns=(
        Column("slope_id", "text", "编号", required=True),
        *_admin("village_code"),
        Column("name", "text", "名称"),
        Column("hazard_grade", "text", "隐患等级", required=True, choices=vocab.SLOPE_GRADES),
        SOURCE_CRS,
    ),
    style={"color": "#8d5a00", "fillColor": "#e69500", "fillOpacity": 0.45, "weight": 1},
)

FACILITIES = Layer(
    name="facilities",
    label="儿童场所",
    key="facility_id",
    geometry="Point",
    columns=(
        Column("facility_id", "text", "场所编号", required=True),
        *_admin("village_code"),
        Column("name", "text", "名称", required=True),
        Column("facility_type", "text", "类型", required=True, choices=vocab.FACILITY_TYPES),
        Column("children_count", "int", "儿童人数"),
        SOURCE_CRS,
    ),
    style={"color": "#6a1b9a"},
)

POINT_HAZARDS = Layer(
    name="point_hazards",
    label="点状隐患",
    key="hazard_id",
    geometry="Point",
    columns=(
        Column("hazard_id", "text", "隐患编号", required=True),
        *_admin("village_code"),
        Column("name", "text", "名称"),
        Column("hazard_type", "text", "类型", required=True, choices=vocab.POINT_HAZARD_TYPES),
        Column("found_date", "date", "发现日期"),
        Column("photo_count", "int", "照片数"),
        Column("note", "text", "备注"),
        SOURCE_CRS,
    ),
    style={"color": "#b71c1c"},
)

INSPECTIONS = Layer(
    name="inspections",
    label="设施巡查记录",
    key="inspection_id",
    columns=(
        Column("inspection_id", "text", "记录编号", required=True),
        Column("water_id", "text", "水域编号", required=True),
        *_admin("village_code"),
        Column("inspected_at", "datetime", "巡查时间", required=True),
        Column("patroller", "text", "巡查人"),
        *_equipment_columns(),
        Column("children_seen", "int", "发现儿童人数"),
        Column("photo_count", "int", "照片数"),
        Column("note", "text", "备注"),
    ),
)

EDUCATION_SESSIONS = Layer(
    name="education_sessions",
    label="安全教育宣讲",
    key="session_id",
    columns=(
        Column("session_id", "text", "宣讲编号", required=True),
        *_admin("village_code"),
        Column("session_date", "date", "宣讲日期"),
        Column("planned_date", "date", "计划日期"),
        Column("form", "text", "形式", required=True, choices=vocab.SESSION_FORMS),
        Column("topics", "text", "主题", required=True, choices=vocab.SESSION_TOPICS, multi=True),
        Column("presenter", "text", "宣讲人"),
        Column("attendance_children", "int", "参加儿童人数"),
        Column("attendance_guardians", "int", "参加监护人人数"),
        Column("evidence_count", "int", "佐证材料数"),
        Column("note", "text", "备注"),
    ),
)

CAMPAIGNS = Layer(
    name="campaigns",
    label="安全教育专项行动",
    key="campaign_id",
    admin_level="county_code",
    columns=(
        Column("campaign_id", "text", "行动编号", required=True),
        *_admin("county_code"),
        Column("name", "text", "名称", required=True),
        Column("year", "int", "年度", required=True),
        Column("deadline", "date", "宣讲截止日期", required=True),
        Column("report_due", "date", "报送日期", required=True),
        Column("min_sessions", "int", "每村至少场次", required=True),
        Column(
            "counted_forms", "text", "计入的宣讲形式", required=True,
            choices=vocab.SESSION_FORMS, multi=True,
        ),
        Column("topics", "text", "主题", required=True, choices=vocab.SESSION_TOPICS, multi=True),
        Column("scope_codes", "text", "范围（乡镇代码，逗号分隔）", required=True),
    ),
)  # fmt: skip

SWEEPS = Layer(
    name="sweeps",
    label="汛期隐患排查",
    key="sweep_id",
    admin_level="county_code",
    columns=(
        Column("sweep_id", "text", "排查编号", required=True),
        *_admin("county_code"),
        Column("name", "text", "名称", required=True),
        Column("start_date", "date", "开始日期", required=True),
        Column("end_date", "date", "结束日期", required=True),
        Column("scope_codes", "text", "范围（乡镇代码，逗号分隔）", required=True),
        Column("radius_m", "float", "排查半径（米）", required=True),
    ),
)

SWEEP_ITEMS = Layer(
    name="sweep_items",
    label="隐患排查项",
    key="item_id",
    columns=(
        Column("item_id", "text", "排查项编号", required=True),
        Column("sweep_id", "text", "排查编号", required=True),
        Column("facility_id", "text", "场所编号", required=True),
        *_admin("village_code"),
        Column("item_kind", "text", "类别", required=True, choices=vocab.SWEEP_ITEM_KINDS),
        Column("hazard_id", "text", "隐患编号"),
        Column("label", "text", "排查内容", required=True),
        Column("status", "text", "状态", required=True, choices=vocab.SWEEP_STATUSES),
        Column("responsible", "text", "责任人"),
        Column("due_date", "date", "整改期限"),
        Column("note", "text", "备注"),
        Column("updated_at", "datetime", "更新时间"),
        Column("updated_by", "text", "更新人"),
    ),
)

PATROLS = Layer(
    name="patrols",
    label="巡河巡塘",
    key="patrol_id",
    columns=(
        Column("patrol_id", "text", "巡查编号", required=True),
        *_admin("village_code"),
        Column("patrol_date", "date", "巡查日期", required=True),
        Column("team", "text", "巡查组", required=True),
        Column("stop", "int", "站序"),
        Column("water_id", "text", "水域编号", required=True),
        Column("status", "text", "状态", required=True, choices=vocab.PATROL_STATUSES),
        Column("patroller", "text", "巡查人"),
    ),
)

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        TOWNSHIPS,
        VILLAGES,
        DIRECTORS,
        HOUSEHOLDS,
        CHILDREN,
        WATER_BODIES,
        SLOPES,
        FACILITIES,
        POINT_HAZARDS,
        INSPECTIONS,
        EDUCATION_SESSIONS,
        CAMPAIGNS,
        SWEEPS,
        SWEEP_ITEMS,
        PATROLS,
    )
}


def get_layer(name: str) -> Layer:
    """The catalogue entry for a layer name; KeyError with the known names otherwise."""
    try:
        return LAYERS[name]
    except KeyError:
        raise KeyError(f"unknown layer {name!r}; known: {', '.join(LAYERS)}") from None


def check_admin_codes(layer: Layer, frame: pd.DataFrame) -> list[str]:
    """Problems with admin codes: wrong length, non-digits, or a code not nested in its parent."""
    problems = []
    for name in layer.admin_codes:
        values = frame[name].astype(str)
        bad = ~values.str.fullmatch(rf"\d{{{ADMIN_CODE_LENGTHS[name]}}}")
        if bad.any():
            problems.append(
                f"{layer.name}.{name}: {int(bad.sum())} 个代码不是{ADMIN_CODE_LENGTHS[name]}位数字"
            )
    codes = list(layer.admin_codes)
    for parent, child in zip(codes, codes[1:], strict=False):
        nested = [
            str(c).startswith(str(p)) for p, c in zip(frame[parent], frame[child], strict=True)
        ]
        if not all(nested):
            problems.append(
                f"{layer.name}.{child}: {nested.count(False)} 个代码不属于其上级 {parent}"
            )
    return problems
