"""Maps of the patrol page: water bodies by priority, and each team's route with numbered stops."""

from __future__ import annotations

import html

import folium

from app.mapping import _finish, _new_map, _swatch

TEAM_COLORS = ["#c62828", "#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037",
               "#ad1457"]  # fmt: skip


def build_priority_map(villages, ranked, top: int = 30, tianditu_key: str | None = None):
    fmap = _new_map(villages, tianditu_key, canvas=False)
    group = folium.FeatureGroup(name=f"优先级前 {top} 的水域")
    for rank, row in enumerate(ranked.head(top).itertuples(index=False), start=1):
        folium.CircleMarker(
            (row.lat, row.lon), radius=max(5, 14 - rank // 3), color="#ffffff", weight=1,
            fill=True, fill_color="#c62828", fill_opacity=0.85,
            tooltip=f"{rank}. {html.escape(str(row.water_name))}（{row.water_type}）优先级 "
            f"{row.priority}",
        ).add_to(group)  # fmt: skip
    group.add_to(fmap)
    return _finish(fmap, villages, "<b>图例</b>" + _swatch("#c62828", "优先巡查的水域", "circle"))


def build_route_map(villages, plan, tianditu_key: str | None = None):
    """Each team's route from its base through the numbered stops and back; the view is on
    the routes (the stops of a day often lie in a few villages of the township)."""
    fmap = _new_map(villages, tianditu_key, canvas=False)
    legend = ["<b>巡查路线</b>"]
    focus = [(lat, lon) for lon, lat in plan.bases]
    focus += list(zip(plan.plan["lat"], plan.plan["lon"], strict=True))
    for team, stops in plan.plan.groupby("team"):
        color = TEAM_COLORS[(team - 1) % len(TEAM_COLORS)]
        base = plan.bases[team - 1]
        group = folium.FeatureGroup(name=f"第{team}组")
        points = [(base[1], base[0]), *zip(stops["lat"], stops["lon"], strict=True),
                  (base[1], base[0])]  # fmt: skip
        length = f"第{team}组：{plan.lengths_m[team] / 1000:.1f} 公里"
        folium.PolyLine(points, color=color, weight=4, opacity=0.85, tooltip=length).add_to(group)
        folium.Marker(
            (base[1], base[0]),
            icon=folium.DivIcon(html=f'<div class="shouhu-base" style="background:{color}">'
                                f"{team}</div>"),
            tooltip=f"第{team}组出发点",
        ).add_to(group)  # fmt: skip
        for row in stops.itertuples(index=False):
            folium.Marker(
                (row.lat, row.lon),
                icon=folium.DivIcon(html=f'<div class="shouhu-stop" style="border-color:{color}">'
                                    f"{row.stop}</div>"),
                tooltip=f"第{team}组第{row.stop}站：{html.escape(str(row.water_name))}",
            ).add_to(group)  # fmt: skip
        group.add_to(fmap)
        legend.append(_swatch(color, f"第{team}组（{plan.lengths_m[team] / 1000:.1f} 公里）"))
    fmap.get_root().header.add_child(folium.Element(
        "<style>.shouhu-stop{width:20px;height:20px;border-radius:10px;background:#fff;"
        "border:3px solid;font:bold 11px sans-serif;text-align:center;line-height:15px;"
        "margin:-10px 0 0 -10px}.shouhu-base{width:18px;height:18px;color:#fff;"
        "font:bold 11px sans-serif;text-align:center;line-height:18px;margin:-9px 0 0 -9px}"
        "</style>"))  # fmt: skip
    return _finish(fmap, villages, "".join(legend), focus)
