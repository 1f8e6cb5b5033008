"""A deterministic, clearly fictional demo county for trying and testing Shouhu.

Everything here is invented: the division codes start with 99 (no such province), names are
drawn from syllable lists, identity numbers use region 99xxxx and valid check digits. Geometry is
built in metres (UTM 48N, around 107.1°E 29.9°N) and stored in EPSG:4326.

Scales keep realistic densities: every township is about 42 km² with ~1,500 households, so a
county (~67 townships, ~2,800 km²) and a province (~670 townships in 10 counties) grow in area
with their counts instead of packing more homes into one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.vocab import FOUR_ITEMS
from layers import demo_people as people
from layers import demo_records as records
from layers.catalogue import LAYERS
from layers.demo_people import REFERENCE_DATE
from layers.frames import conform, empty_frame

METRIC_EPSG = 32648  # UTM 48N
ORIGIN_LONLAT = (107.10, 29.90)
TOWNSHIP_W_M, TOWNSHIP_H_M = 7000.0, 6000.0
DEMO_NOTICE = "示范数据：地名、人员、编码均为虚构，仅供演示和测试。"


@dataclass(frozen=True)
class Scale:
    counties: int
    townships_per_county: int
    villages_per_township: int
    households_per_township: int
    waters_per_township: int


SCALES: dict[str, Scale] = {
    "town": Scale(1, 1, 12, 1500, 150),
    "county": Scale(1, 67, 12, 1500, 300),
    "province": Scale(10, 67, 12, 1500, 150),
}

_PLACE_A = list("青石柳桃龙杨双白荷松梨竹金大黄水红长新清安平高碧凤云")
_PLACE_B = list("湾桥井河林园坝田口岭塘坪沟岩溪山")


def generate(seed: int = 1, scale: str = "town") -> dict[str, pd.DataFrame]:
    """All demo layers as catalogue-conformant frames, identical for the same seed and scale."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}")
    spec = SCALES[scale]
    rng = np.random.default_rng(seed)
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in LAYERS}
    cols = int(np.ceil(np.sqrt(spec.townships_per_county * spec.counties)))
    ox, oy = Transformer.from_crs(4326, METRIC_EPSG, always_xy=True).transform(*ORIGIN_LONLAT)
    ox, oy = ox - TOWNSHIP_W_M / 2, oy - TOWNSHIP_H_M / 2
    t_index = 0
    for c in range(spec.counties):
        county_code = f"9901{c + 1:02d}"
        townships: list[str] = []
        for t in range(spec.townships_per_county):
            row, col = divmod(t_index, cols)
            x0, y0 = ox + col * TOWNSHIP_W_M, oy - row * TOWNSHIP_H_M
            township_code = f"{county_code}{100 + t:03d}"
            townships.append(township_code)
            _township(rng, spec, county_code, township_code, t_index, (x0, y0), parts)
            t_index += 1
        parts["campaigns"].append(records.campaign(county_code, townships))
        parts["sweeps"].append(records.sweep(county_code, townships))
    out = {}
    for name, frames in parts.items():
        layer = LAYERS[name]
        frames = [f for f in frames if len(f)]
        if not frames:
            out[name] = empty_frame(layer)
            continue
        frame = pd.concat(frames, ignore_index=True)
        if layer.geometry is not None:
            frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=METRIC_EPSG).to_crs(4326)
        if name == "villages":
            committee = gpd.GeoSeries(
                shapely.points(frame["committee_x"], frame["committee_y"]), crs=METRIC_EPSG
            ).to_crs(4326)
            frame["committee_lon"], frame["committee_lat"] = committee.x, committee.y
        out[name] = conform(layer, frame)
    return out


# -- one township -------------------------------------------------------------------------------


def _township(rng, spec: Scale, county_code, township_code, t_index, origin, parts) -> None:
    x0, y0 = origin
    outline = _wobbly_rect(rng, x0, y0, TOWNSHIP_W_M, TOWNSHIP_H_M)
    t_name = _place_name(rng, t_index) + ("街道" if t_index % 4 == 3 else "镇")
    admin_t = {"county_code": county_code, "township_code": township_code}
    parts["townships"].append(
        pd.DataFrame({**admin_t, "name": [t_name], "geometry": [shapely.MultiPolygon([outline])]})
    )

    villages = _villages(rng, outline, spec.villages_per_township)
    n_v = len(villages)
    v_codes = [f"{township_code}{200 + i:03d}" for i in range(n_v)]
    v_names = [_place_name(rng, t_index * 100 + i) + "村" for i in range(n_v)]
    committees = [v.point_on_surface() for v in villages]
    parts["villages"].append(
        pd.DataFrame(
            {
                **admin_t,
                "village_code": v_codes,
                "name": v_names,
                "committee_x": [p.x for p in committees],
                "committee_y": [p.y for p in committees],
                "geometry": [shapely.MultiPolygon([v]) for v in villages],
            }
        )
    )

    # Households clustered in hamlets.
    weights = rng.dirichlet(np.full(n_v, 4.0))
    per_village = rng.multinomial(spec.households_per_township, weights)
    hh_frames, hamlet_centres = [], []
    for i, (village, n) in enumerate(zip(villages, per_village, strict=True)):
        centres = _points_in(rng, village, int(rng.integers(3, 7)))
        hamlet_centres.append(centres)
        pts = _clustered_points_in(rng, village, centres, int(n), sigma_m=220.0)
        group = rng.integers(0, len(centres), size=int(n)) + 1
        hh_frames.append(
            pd.DataFrame(
                {
                    "v": i,
                    "village_code": v_codes[i],
                    "address": [
                        f"{v_names[i]}{g}组{k}号"
                        for g, k in zip(group, rng.integers(1, 80, size=int(n)), strict=True)
                    ],
                    "geometry": pts,
                }
            )
        )
    hh = pd.concat(hh_frames, ignore_index=True)
    hh["household_id"] = [f"H{township_code}{k:05d}" for k in range(len(hh))]
    hh["county_code"], hh["township_code"] = county_code, township_code
    parts["households"].append(hh.drop(columns="v"))

    parts["children"].append(people.children(rng, hh, v_names, t_name))
    parts["directors"].append(people.directors(rng, v_codes, admin_t))

    waters, inspections = _waters(rng, outline, villages, v_codes, hamlet_centres, spec, admin_t)
    parts["water_bodies"].append(waters)
    parts["inspections"].append(inspections)
    parts["slopes"].append(_slopes(rng, villages, v_codes, hamlet_centres, admin_t, township_code))
    parts["facilities"].append(
        _facilities(rng, villages, v_codes, v_names, t_name, admin_t, township_code)
    )
    parts["education_sessions"].append(records.sessions(rng, v_codes, admin_t, township_code))
    # Its own generator: adding point hazards leaves every earlier layer as it was.
    hazard_rng = np.random.default_rng([t_index, 8])
    parts["point_hazards"].append(
        records.point_hazards(hazard_rng, parts["facilities"][-1], villages, v_codes, admin_t)
    )


def _place_name(rng, k: int) -> str:
    a = _PLACE_A[(k * 7 + int(rng.integers(0, len(_PLACE_A)))) % len(_PLACE_A)]
    b = _PLACE_B[(k * 3 + int(rng.integers(0, len(_PLACE_B)))) % len(_PLACE_B)]
    return a + b


def _wobbly_rect(rng, x0, y0, w, h) -> shapely.Polygon:
    """A township outline: the grid cell with gently wobbling, non-overlapping edges."""
    n = 10
    t = np.linspace(0, 1, n, endpoint=False)
    jitter = lambda: rng.uniform(-0.03, 0.03, n)  # noqa: E731
    bottom = np.c_[x0 + t * w, y0 + jitter() * h]
    right = np.c_[x0 + w + jitter() * w, y0 + t * h]
    top = np.c_[x0 + w - t * w, y0 + h + jitter() * h]
    left = np.c_[x0 + jitter() * w, y0 + h - t * h]
    ring = np.vstack([bottom, right, top, left])
    return shapely.make_valid(shapely.Polygon(ring)).buffer(0)


def _points_in(rng, polygon, n: int) -> list[shapely.Point]:
    minx, miny, maxx, maxy = polygon.bounds
    out: list = []
    while len(out) < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(n * 3, 2))
        ok = shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
        out.extend(shapely.points(xy[ok]).tolist())
    return out[:n]


def _villages(rng, outline, n: int) -> list[shapely.Polygon]:
    seeds = _points_in(rng, outline, n)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=outline)
    polys = [c.intersection(outline) for c in cells.geoms]
    polys = [p if p.geom_type == "Polygon" else max(p.geoms, key=lambda g: g.area) for p in polys]
    return sorted(polys, key=lambda p: (-round(p.centroid.y, -2), p.centroid.x))


def _clustered_points_in(rng, polygon, centres, n: int, sigma_m: float) -> np.ndarray:
    if n == 0:
        return np.array([], dtype=object)
    cx = np.array([c.x for c in centres])
    cy = np.array([c.y for c in centres])
    out = np.empty(0, dtype=object)
    while len(out) < n:
        k = rng.integers(0, len(centres), size=n * 2)
        x = cx[k] + rng.normal(0, sigma_m, size=n * 2)
        y = cy[k] + rng.normal(0, sigma_m, size=n * 2)
        ok = shapely.contains_xy(polygon, x, y)
        out = np.concatenate([out, shapely.points(np.c_[x[ok], y[ok]])])
    return out[:n]


# -- hazards and facilities -----------------------------------------------------------------------


def _which_village(villages, geoms) -> list[int]:
    tree = shapely.STRtree(villages)
    reps = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    found = tree.query_nearest(reps, all_matches=False)
    order = np.empty(len(reps), dtype=int)
    order[found[0]] = found[1]
    return order.tolist()


def _blob(rng, centre, radius_m: float, n: int = 12) -> shapely.Polygon:
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = radius_m * rng.uniform(0.6, 1.3, n)
    return shapely.Polygon(
        np.c_[centre.x + radii * np.cos(angles), centre.y + radii * np.sin(angles)]
    ).buffer(0)


def _waters(rng, outline, villages, v_codes, hamlets, spec, admin_t):
    minx, miny, maxx, maxy = outline.bounds
    geoms, types, names = [], [], []
    # The river: a meandering line across the township.
    xs = np.linspace(minx - 200, maxx + 200, 30)
    ys = (miny + maxy) / 2 + np.cumsum(rng.normal(0, 120, 30)) + rng.uniform(-1000, 1000)
    river = shapely.LineString(np.c_[xs, ys]).intersection(outline)
    if river.geom_type != "LineString":
        river = max(getattr(river, "geoms", [river]), key=lambda g: g.length)
    geoms.append(river)
    types.append("river")
    names.append(_place_name(rng, len(names)) + "河")
    for _ in range(2):  # reservoirs
        geoms.append(_blob(rng, _points_in(rng, outline.buffer(-600), 1)[0], rng.uniform(200, 350)))
        types.append("reservoir")
        names.append(_place_name(rng, len(names)) + "水库")
    n_dams = max(3, spec.waters_per_township // 30)
    for _ in range(n_dams):  # weirs across the river
        p = river.interpolate(rng.uniform(0.05, 0.95), normalized=True)
        angle = rng.uniform(0, np.pi)
        dx, dy = 25 * np.cos(angle), 25 * np.sin(angle)
        geoms.append(shapely.LineString([(p.x - dx, p.y - dy), (p.x + dx, p.y + dy)]))
        types.append("dam")
        names.append(_place_name(rng, len(names)) + "堰")
    all_hamlets = [c for cs in hamlets for c in cs]
    n_ponds = spec.waters_per_township - len(geoms)
    hx = np.array([c.x for c in all_hamlets])
    hy = np.array([c.y for c in all_hamlets])
    placed = 0
    while placed < n_ponds:
        k = int(rng.integers(0, len(all_hamlets)))
        centre = shapely.Point(hx[k] + rng.normal(0, 450), hy[k] + rng.normal(0, 450))
        if not outline.contains(centre):
            continue
        pond = _blob(rng, centre, rng.uniform(15, 45), n=8).intersection(outline)
        if pond.is_empty or pond.geom_type != "Polygon":
            continue
        geoms.append(pond)
        types.append("pond")
        names.append(f"{_place_name(rng, placed)}塘")
        placed += 1
    n = len(geoms)
    village_idx = _which_village(villages, geoms)
    codes = [v_codes[i] for i in village_idx]
    ids = [f"W{admin_t['township_code']}{k:04d}" for k in range(n)]
    scenario = rng.choice(["complete", "incomplete", "unknown"], n, p=[0.45, 0.35, 0.20])
    scenario[np.array(types) == "reservoir"] = "complete"
    status = {}
    for item in FOUR_ITEMS:
        bad = rng.random(n) < 0.45
        status[item] = np.where(
            scenario == "complete",
            "present",
            np.where(
                scenario == "unknown",
                "unknown",
                np.where(bad, rng.choice(["missing", "damaged"], n), "present"),
            ),
        )
    # Guarantee at least one gap on every "incomplete" water body.
    first = rng.integers(0, len(FOUR_ITEMS), n)
    for k in np.flatnonzero(scenario == "incomplete"):
        item = FOUR_ITEMS[first[k]]
        if status[item][k] == "present":
            status[item][k] = "missing"
    fence = np.where(
        scenario == "unknown",
        "unknown",
        rng.choice(["present", "missing", "damaged"], n, p=[0.45, 0.45, 0.1]),
    )
    inspected = scenario != "unknown"
    last = pd.to_datetime(REFERENCE_DATE) - pd.to_timedelta(rng.integers(1, 60, n), unit="D")
    frame = pd.DataFrame(
        {
            "water_id": ids,
            **admin_t,
            "village_code": codes,
            "name": names,
            "water_type": types,
            **{f"{item}_status": status[item] for item in FOUR_ITEMS},
            "fence_status": fence,
            "responsible_person": people.names(rng, n),
            "responsible_phone": people.phones(rng, n),
            "last_inspection_date": np.where(inspected, last, pd.NaT),
            "geometry": geoms,
        }
    )
    insp = frame[inspected].reset_index(drop=True)
    inspections = pd.DataFrame(
        {
            "inspection_id": "I" + insp["water_id"].str[1:] + "01",
            "water_id": insp["water_id"],
            **{k: insp[k] for k in ("county_code", "township_code", "village_code")},
            "inspected_at": pd.to_datetime(insp["last_inspection_date"])
            + pd.to_timedelta(rng.integers(8, 18, len(insp)), unit="h"),
            "patroller": people.names(rng, len(insp)),
            **{f"{item}_status": insp[f"{item}_status"] for item in (*FOUR_ITEMS, "fence")},
            "children_seen": rng.poisson(0.3, len(insp)),
            "photo_count": rng.integers(0, 4, len(insp)),
            "note": None,
        }
    )
    return frame, inspections


def _slopes(rng, villages, v_codes, hamlets, admin_t, township_code) -> pd.DataFrame:
    geoms = []
    all_hamlets = [c for cs in hamlets for c in cs]
    for _ in range(10):
        h = all_hamlets[int(rng.integers(0, len(all_hamlets)))]
        centre = shapely.Point(h.x + rng.normal(0, 350), h.y + rng.normal(0, 350))
        geoms.append(_blob(rng, centre, rng.uniform(60, 180)))
    village_idx = _which_village(villages, geoms)
    return pd.DataFrame(
        {
            "slope_id": [f"S{township_code}{k:03d}" for k in range(len(geoms))],
            **admin_t,
            "village_code": [v_codes[i] for i in village_idx],
            "name": [_place_name(rng, k) + "坡" for k in range(len(geoms))],
            "hazard_grade": rng.choice(["high", "medium", "low"], len(geoms), p=[0.3, 0.4, 0.3]),
            "geometry": geoms,
        }
    )


_FACILITY_PLAN = [
    ("school", "中心小学", (300, 900)),
    ("school", "村小", (40, 150)),
    ("school", "初级中学", (400, 1200)),
    ("kindergarten", "中心幼儿园", (120, 300)),
    ("kindergarten", "幼儿园", (30, 100)),
    ("kindergarten", "幼儿园", (30, 100)),
    ("protection_station", "未成年人保护工作站", (0, 0)),
    ("childrens_home", "儿童之家", (10, 40)),
    ("childrens_home", "儿童之家", (10, 40)),
    ("childrens_home", "儿童之家", (10, 40)),
    ("childrens_home", "儿童之家", (10, 40)),
    ("childrens_home", "儿童之家", (10, 40)),
    ("summer_daycare", "爱心暑托班", (20, 60)),
    ("summer_daycare", "爱心暑托班", (20, 60)),
    ("social_work_station", "社工站", (0, 0)),
]


def _facilities(rng, villages, v_codes, v_names, t_name, admin_t, township_code) -> pd.DataFrame:
    rows = []
    for k, (ftype, suffix, (lo, hi)) in enumerate(_FACILITY_PLAN):
        v = int(rng.integers(0, len(villages))) if k not in (0, 2, 3, 6, 14) else 0
        inner = villages[v].buffer(-50)
        point = _points_in(rng, villages[v] if inner.is_empty else inner, 1)[0]
        prefix = v_names[v] if suffix in ("村小", "幼儿园", "儿童之家", "爱心暑托班") else t_name
        rows.append(
            {
                "facility_id": f"F{township_code}{k:03d}",
                **admin_t,
                "village_code": v_codes[v],
                "name": prefix + suffix,
                "facility_type": ftype,
                "children_count": int(rng.integers(lo, hi + 1)) if hi else None,
                "geometry": point,
            }
        )
    return pd.DataFrame(rows)
