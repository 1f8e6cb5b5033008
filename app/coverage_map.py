"""The coverage map: villages filled by their safety-talk status (offline, no tiles needed)."""

from __future__ import annotations

import folium

from app.mapping import _finish, _new_map, _swatch
from geo.coverage import STATUS_COLORS, STATUSES


def build_coverage_map(villages, coverage, tianditu_key: str | None = None) -> folium.Map:
    """`villages` with geometry; `coverage` rows from geo.coverage.village_coverage."""
    fmap = _new_map(villages.iloc[:0], tianditu_key, canvas=False)  # SVG: a few polygons
    shown = villages[["village_code", "name", "geometry"]].merge(
        coverage[["village_code", "status", "status_code", "sessions_counted",
                  "children_in_scope"]], on="village_code", how="inner",
    )  # fmt: skip
    group = folium.FeatureGroup(name="宣讲完成情况")
    if len(shown):
        folium.GeoJson(
            shown,
            style_function=lambda f: {
                "color": "#555555",
                "weight": 1.5,
                "fillColor": STATUS_COLORS[f["properties"]["status_code"]],
                "fillOpacity": 0.65,
            },
            tooltip=folium.GeoJsonTooltip(
                ["name", "status", "sessions_counted", "children_in_scope"],
                aliases=["村（社区）", "完成情况", "计入场次", "留守及困境儿童"],
            ),
        ).add_to(group)
    group.add_to(fmap)
    legend = "<b>宣讲完成情况</b>" + "".join(
        _swatch(STATUS_COLORS[code], label) for code, label in STATUSES.items()
    )
    return _finish(fmap, villages, legend)
