"""Domain vocabulary as data: codes stored in the data, with their Chinese labels.

Codes are short ASCII words so that files, SQL and tests stay stable; every label a user sees
comes from here. See DOMAIN.md for the meaning of each term.
"""

from __future__ import annotations

WATER_TYPES: dict[str, str] = {
    "river": "河流",
    "pond": "池塘",
    "reservoir": "水库",
    "dam": "堤坝",
}

# The "四个一" set plus fencing. Order matters: it is the order shown on sheets and popups.
EQUIPMENT_ITEMS: dict[str, str] = {
    "sign": "警示牌",
    "buoy": "救生圈",
    "rope": "救生绳",
    "pole": "救生杆",
    "fence": "隔离防护设施",
}
FOUR_ITEMS: tuple[str, ...] = ("sign", "buoy", "rope", "pole")

EQUIPMENT_STATUSES: dict[str, str] = {
    "present": "完好",
    "missing": "缺失",
    "damaged": "损坏",
    "unknown": "未核查",
}

# Completeness of a water body's four items, for the map colour.
COMPLETENESS: dict[str, str] = {
    "complete": "四个一齐全",
    "incomplete": "四个一不全",
    "unknown": "未核查",
}

# Hazards found on site around child facilities (a point layer).
POINT_HAZARD_TYPES: dict[str, str] = {
    "dangerous_wall": "危墙",
    "dilapidated_building": "危房",
    "blocked_drainage": "排水不畅",
    "other": "其他",
}

# Checklist items of a flood-season sweep.
SWEEP_STATUSES: dict[str, str] = {
    "pending": "待排查",
    "safe": "已排查无隐患",
    "rectify": "需整改",
    "rectified": "已整改",
}

# A sweep checklist's items: one per hazard found near the facility, then the fixed ones.
SWEEP_ITEM_KINDS: dict[str, str] = {"hazard": "周边隐患", "fixed": "固定排查项"}

SLOPE_GRADES: dict[str, str] = {
    "high": "高",
    "medium": "中",
    "low": "低",
}

FACILITY_TYPES: dict[str, str] = {
    "school": "中小学",
    "kindergarten": "幼儿园",
    "protection_station": "未成年人保护工作站",
    "childrens_home": "儿童之家",
    "summer_daycare": "爱心暑托班",
    "social_work_station": "社工站",
}

CHILD_CATEGORIES: dict[str, str] = {
    "orphan": "散居孤儿",
    "unsupported": "事实无人抚养儿童",
    "left_behind_rural": "农村留守儿童",
    "left_behind_urban": "城镇留守儿童",
    "difficulty": "其他困境儿童",
}

DIFFICULTY_REASONS: dict[str, str] = {
    "low_income": "低保家庭",
    "disabled": "残疾",
    "domestic_violence": "家庭暴力",
    "wandering": "易走失",
    "legal_case": "涉案",
}

SEXES: dict[str, str] = {"M": "男", "F": "女"}

REGISTRATION_TYPES: dict[str, str] = {"rural": "农业户籍", "urban": "非农业户籍"}

PARENT_SITUATIONS: dict[str, str] = {
    "home": "在家",
    "away_in_county": "县内务工",
    "away_out_of_county": "县外务工",
    "incapable": "无监护能力",
    "deceased": "已故",
    "unknown": "不详",
}

SESSION_FORMS: dict[str, str] = {
    "lecture": "集中讲座",
    "home_visit": "入户宣讲",
    "loudspeaker": "大喇叭",
    "leaflet": "发传单",
}

SESSION_TOPICS: dict[str, str] = {
    "drowning": "防溺水",
    "fire": "防火",
    "electricity": "用电安全",
    "traffic": "交通安全",
    "weather": "恶劣天气",
    "internet": "网络安全",
    "mental_health": "心理健康",
    "bullying": "防欺凌",
    "sexual_abuse": "防性侵",
}

PATROL_STATUSES: dict[str, str] = {
    "planned": "计划",
    "checked": "已巡查",
    "skipped": "未到达",
}

# Multi-valued fields (categories, topics) are stored as codes joined by this separator.
MULTI_SEPARATOR = ";"


def split_codes(value: object) -> list[str]:
    """Split a stored multi-value field ('a;b') into its codes; empty or missing gives []."""
    if value is None or not isinstance(value, str):
        return []
    return [code for code in value.split(MULTI_SEPARATOR) if code]


def join_codes(codes: list[str] | tuple[str, ...]) -> str:
    """Join codes into the stored multi-value form."""
    return MULTI_SEPARATOR.join(codes)


def labels_of(value: object, labels: dict[str, str]) -> str:
    """Stored codes ('a;b', or one code) as staff read them: their labels joined by '、' (a
    code without a label as it is; empty or missing gives '')."""
    return "、".join(labels.get(code, code) for code in split_codes(value))


# Words staff write for a code besides its label (学校 for school, 塘 for pond), per column.
VALUE_WORDS: dict[str, dict[str, str]] = {
    "water_type": {"河": "river", "河道": "river", "溪": "river", "溪沟": "river",
                   "沟渠": "river", "江": "river", "塘": "pond", "山坪塘": "pond", "鱼塘": "pond",
                   "水塘": "pond", "库": "reservoir", "坝": "dam", "拦河坝": "dam", "堰": "dam"},
    "facility_type": {"学校": "school", "小学": "school", "中学": "school", "初中": "school",
                      "托儿所": "kindergarten", "暑托班": "summer_daycare",
                      "未保站": "protection_station", "儿童福利院": "childrens_home"},
    "hazard_type": {"危险墙体": "dangerous_wall", "危旧房": "dilapidated_building",
                    "排水堵塞": "blocked_drainage"},
    "hazard_grade": {"较高": "high", "较大": "high", "一般": "medium", "较低": "low"},
}  # fmt: skip


def words_for(column: str, choices: dict[str, str]) -> dict[str, str]:
    """Every word that names a code of `column` (`choices`: code -> label): the codes, their
    labels and the other words of VALUE_WORDS. Look a word up as written, then lower-cased."""
    return {**VALUE_WORDS.get(column, {}), **{k: k for k in choices},
            **{label: code for code, label in choices.items()}}  # fmt: skip


def points_phrase(parts) -> str:
    """(label, points) pairs as staff read a rule: '一级风险 2 分，二级风险 1 分'; parts worth
    nothing are left out ('不计分' when every part is)."""
    return "，".join(f"{label} {points:g} 分" for label, points in parts if points) or "不计分"
