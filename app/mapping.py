"""Build the folium map with every script served by the app itself (no CDN, no tiles needed).

folium's classes point at public CDNs; offline that leaves a blank map. `use_local_assets`
rewrites each element's scripts and styles to the copies vendored into app/static/vendor
(served by Streamlit at /app/static/…) and refuses any element whose assets we do not have.
"""

from __future__ import annotations

import html
import json
import re

import branca
import folium
from folium.plugins import FastMarkerCluster
from jinja2 import Template

from app import messages as M
from app.services import MapData
from geo.risk import TIERS
from geo.vocab import (
    COMPLETENESS,
    EQUIPMENT_ITEMS,
    EQUIPMENT_STATUSES,
    FACILITY_TYPES,
    SLOPE_GRADES,
    WATER_TYPES,
)
from layers.catalogue import FACILITIES, SLOPES, VILLAGES, WATER_BODIES

STATIC_PREFIX = "/app/static/vendor"
LOCAL_JS = {
    "leaflet": f"{STATIC_PREFIX}/leaflet/leaflet.js",
    "markerclusterjs": f"{STATIC_PREFIX}/markercluster/leaflet.markercluster.js",
}
LOCAL_CSS = {
    "leaflet_css": f"{STATIC_PREFIX}/leaflet/leaflet.css",
    "markerclustercss": f"{STATIC_PREFIX}/markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": f"{STATIC_PREFIX}/markercluster/MarkerCluster.Default.css",
}
# folium's Map also loads jQuery, Bootstrap and awesome-markers; nothing we draw uses them.
_UNUSED = {
    "jquery",
    "bootstrap",
    "awesome_markers",
    "bootstrap_css",
    "glyphicons_css",
    "awesome_markers_font_css",
    "awesome_markers_css",
    "awesome_rotate_css",
}

TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)


class UnservedAssetError(RuntimeError):
    """A map element needs a script or style that the app does not serve locally."""


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def use_local_assets(fmap: folium.Map) -> folium.Map:
    """Point every element's scripts and styles at the app's own static files."""
    for element in _walk(fmap):
        for attr, local in (("default_js", LOCAL_JS), ("default_css", LOCAL_CSS)):
            assets = getattr(element, attr, None)
            if not assets:
                continue
            rewritten = []
            for name, _url in assets:
                if name in _UNUSED:
                    continue
                if name not in local:
                    raise UnservedAssetError(f"{type(element).__name__} needs {name}: vendor it")
                rewritten.append((name, local[name]))
            setattr(element, attr, rewritten)
    return fmap


class Legend(branca.element.MacroElement):
    """A legend drawn as a Leaflet control, so it lives inside the map (and in st_folium)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            map.getContainer().style.background = '#f7f6f2';
            var legend = L.control({position: 'bottomright'});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', 'shouhu-legend');
                div.style.cssText = 'background:rgba(255,255,255,.92);padding:6px 10px;'
                    + 'border-radius:4px;font:13px/1.6 sans-serif;'
                    + 'box-shadow:0 1px 4px rgba(0,0,0,.3)';
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html: str):
        super().__init__()
        self._name = "Legend"
        self.html = html


class MapControls(branca.element.MacroElement):
    """Leaflet's zoom buttons titled in Chinese, a metric-only scale bar and Leaflet credited
    in plain text: its defaults are "Zoom in"/"Zoom out" tooltips, a second bar in feet and
    miles, and a flag icon with a link to leafletjs.com, which an offline office PC cannot
    open."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.zoom({zoomInTitle: {{ this.zoom_in|tojson }},
                        zoomOutTitle: {{ this.zoom_out|tojson }}})
            .addTo({{ this._parent.get_name() }});
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "MapControls"
        self.zoom_in, self.zoom_out = M.MAP_ZOOM_IN, M.MAP_ZOOM_OUT


def _swatch(color: str, label: str, shape: str = "square") -> str:
    radius = "50%" if shape == "circle" else "2px"
    return (
        f'<div><span style="display:inline-block;width:12px;height:12px;margin-right:6px;'
        f'background:{color};border-radius:{radius};vertical-align:middle"></span>{label}</div>'
    )


def legend_html() -> str:
    rows = [f"<b>{M.MAP_LEGEND_TITLE}</b>"]
    rows += [
        _swatch(WATER_BODIES.style[code], f"水域：{label}") for code, label in COMPLETENESS.items()
    ]
    rows.append(_swatch(SLOPES.style["fillColor"], M.LEGEND_SLOPE))
    rows.append(_swatch(FACILITIES.style["color"], M.LEGEND_FACILITY, "circle"))
    rows.append(_swatch("#1f5fa8", M.LEGEND_HOUSEHOLD, "circle"))
    rows.append(_swatch(VILLAGES.style["fillColor"], M.LEGEND_VILLAGE))
    return "".join(rows)


_HOUSEHOLD_CALLBACK = """
function (row) {
    var m = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 5, color: '#1f5fa8', weight: 1, fillOpacity: 0.8});
    m.bindPopup('儿童 ' + row[2] + ' 名');
    return m;
}
"""


def _water_display(water):
    out = water[["water_id", "geometry"]].copy()
    out["名称"] = water["name"].fillna("（未命名）")
    out["类型"] = water["water_type"].map(WATER_TYPES)
    out["四个一"] = water["completeness"].map(COMPLETENESS)
    for item, label in EQUIPMENT_ITEMS.items():
        out[label] = water[f"{item}_status"].map(EQUIPMENT_STATUSES).fillna("未核查")
    out["最近巡查"] = water["last_inspection_date"].dt.strftime("%Y-%m-%d").fillna("无记录")
    out["completeness"] = water["completeness"]
    return out


def _vector_layer(fmap: folium.Map, name: str, frame, **geojson) -> None:
    """A toggleable layer of one GeoJSON (left empty when there is nothing to draw)."""
    group = folium.FeatureGroup(name=name)
    if len(frame):
        folium.GeoJson(frame, **geojson).add_to(group)
    group.add_to(fmap)


def _new_map(villages, tianditu_key: str | None = None, canvas: bool = True) -> folium.Map:
    """A tile-free map with village boundaries (and Tianditu as a layer when a key is set);
    `canvas` draws vectors on a canvas (fast for many features) rather than as SVG."""
    fmap = folium.Map(tiles=None, min_zoom=5, zoom_control=False, prefer_canvas=canvas)
    MapControls().add_to(fmap)
    fmap.options["maxZoom"] = 18  # with no tile layer Leaflet has no maxZoom; clustering needs one
    if tianditu_key:
        base = folium.FeatureGroup(name=M.MAP_BASE_TIANDITU, show=False)
        for layer in ("vec", "cva"):
            folium.TileLayer(
                TIANDITU_URL.format(layer=layer, key=tianditu_key, s="{s}"),
                attr="天地图",
                subdomains="01234567",
                max_zoom=18,
            ).add_to(base)
        base.add_to(fmap)
    _vector_layer(
        fmap,
        M.MAP_LAYER_VILLAGES,
        villages[["village_code", "name", "geometry"]],
        style_function=lambda _f: VILLAGES.style,
        tooltip=folium.GeoJsonTooltip(["name", "village_code"], aliases=["村（社区）", "代码"]),
    )
    return fmap


def _finish(
    fmap: folium.Map, villages, legend: str, focus: list[tuple[float, float]] | None = None
) -> folium.Map:
    """Layer toggles, legend, view on the villages (or on the (lat, lon) points of `focus`,
    when what the map is about lies in a corner of the place), and every asset served
    locally."""
    folium.LayerControl(collapsed=False).add_to(fmap)
    Legend(legend).add_to(fmap)
    if focus:
        lats, lons = zip(*focus, strict=True)
        fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(40, 40),
                        max_zoom=16)  # fmt: skip
    elif len(villages):
        minx, miny, maxx, maxy = villages.total_bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return use_local_assets(fmap)


def build_map(data: MapData, tianditu_key: str | None = None) -> folium.Map:
    """The risk map: villages, water by equipment completeness, slopes, facilities, households."""
    fmap = _new_map(data.villages, tianditu_key)
    _vector_layer(
        fmap,
        M.MAP_LAYER_SLOPES,
        data.slopes[["name", "geometry"]].assign(
            等级=data.slopes["hazard_grade"].map(SLOPE_GRADES)
        ),
        style_function=lambda _f: SLOPES.style,
        popup=folium.GeoJsonPopup(["name", "等级"], aliases=["名称", "隐患等级"]),
    )
    colors = WATER_BODIES.style
    _vector_layer(
        fmap,
        M.MAP_LAYER_WATER,
        _water_display(data.water),
        style_function=lambda f: {
            "color": colors[f["properties"]["completeness"]],
            "fillColor": colors[f["properties"]["completeness"]],
            "weight": 3,
            "fillOpacity": 0.6,
        },
        popup=folium.GeoJsonPopup(
            ["名称", "类型", "四个一", *EQUIPMENT_ITEMS.values(), "最近巡查"]
        ),
    )
    facilities = data.facilities
    _vector_layer(
        fmap,
        M.MAP_LAYER_FACILITIES,
        facilities[["name", "geometry"]].assign(
            类型=facilities["facility_type"].map(FACILITY_TYPES),
            儿童人数=facilities["children_count"].astype("float").fillna(0).astype(int),
        ),
        marker=folium.CircleMarker(
            radius=7,
            color="#ffffff",
            weight=2,
            fill=True,
            fill_color=FACILITIES.style["color"],
            fill_opacity=1,
        ),
        popup=folium.GeoJsonPopup(
            ["name", "类型", "儿童人数"], aliases=["名称", "类型", "儿童人数"]
        ),
    )

    if len(data.households):
        households = folium.FeatureGroup(name=M.MAP_LAYER_HOUSEHOLDS)
        rows = data.households[["lat", "lon", "children"]].round(6).values.tolist()
        FastMarkerCluster(rows, callback=_HOUSEHOLD_CALLBACK).add_to(households)
        households.add_to(fmap)
    if len(data.village_counts):
        _village_count_layer(fmap, data.village_counts)

    return _finish(fmap, data.villages, legend_html())


def _village_count_layer(fmap: folium.Map, counts) -> None:
    """One labelled circle per village with its household and child counts (no home points)."""
    group = folium.FeatureGroup(name=M.MAP_LAYER_VILLAGE_COUNTS)
    for row in counts.itertuples(index=False):
        text = M.MAP_VILLAGE_COUNT.format(
            name=html.escape(str(row.name)), households=row.households, children=row.children
        )
        folium.CircleMarker(
            (row.lat, row.lon),
            radius=8 + min(int(row.children), 400) ** 0.5,
            color="#1f5fa8",
            weight=2,
            fill=True,
            fill_opacity=0.55,
            tooltip=text,
        ).add_to(group)
    group.add_to(fmap)


TIER_COLORS = {"high": "#c62828", "medium": "#ef6c00", "low": "#f9a825", "none": "#9e9e9e"}

_TIER_CALLBACK = """
function (row) {
    var colors = %s;
    var m = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 6, color: '#ffffff', weight: 1, fillColor: colors[row[2]], fillOpacity: 0.95});
    m.bindPopup(row[3]);
    m.tierRank = {high: 3, medium: 2, low: 1, none: 0}[row[2]];
    return m;
}
"""

# A cluster takes the colour of the highest tier inside it, so a red cluster always hides at
# least one 一级 household. Keeps markercluster's class names (and so its sizing and tests).
_TIER_CLUSTER_ICON = """
function (cluster) {
    var colors = %s, names = ['none', 'low', 'medium', 'high'], rank = 0;
    cluster.getAllChildMarkers().forEach(function (m) { rank = Math.max(rank, m.tierRank || 0); });
    var n = cluster.getChildCount();
    return L.divIcon({
        html: '<div style="background:' + colors[names[rank]] + ';color:#fff;font-weight:bold">'
            + '<span>' + n + '</span></div>',
        className: 'marker-cluster marker-cluster-tier-' + names[rank],
        iconSize: new L.Point(40, 40)
    });
}
"""


def build_risk_map(villages, households, tianditu_key: str | None = None) -> folium.Map:
    """Households coloured by risk tier (clustered in the browser) over village boundaries.

    Popups show the household id, tier, score and reasons: no child's name or identity number.
    """
    fmap = _new_map(villages, tianditu_key)
    group = folium.FeatureGroup(name="儿童家庭（按风险等级）")
    popups = (
        households["household_id"]
        + "｜"
        + households["tier"]
        + " "
        + households["score"].astype(str)
        + "分<br>"
        + households["reasons"].fillna("").map(html.escape)
    )
    rows = [
        [round(lat, 6), round(lon, 6), tier, popup]
        for lat, lon, tier, popup in zip(
            households["lat"], households["lon"], households["tier_code"], popups, strict=True
        )
    ]
    FastMarkerCluster(
        rows,
        callback=_TIER_CALLBACK % json.dumps(TIER_COLORS),
        icon_create_function=_TIER_CLUSTER_ICON % json.dumps(TIER_COLORS),
    ).add_to(group)
    group.add_to(fmap)
    rows_html = [f"<b>{M.MAP_LEGEND_TITLE}</b>"] + [
        _swatch(color, f"风险{TIERS[code]}" if code != "none" else "无风险等级", "circle")
        for code, color in TIER_COLORS.items()
    ]
    return _finish(fmap, villages, "".join(rows_html))


def external_urls(html: str) -> list[str]:
    """http(s) URLs a rendered map page would load (should be none, or only Tianditu tiles)."""
    found = re.findall(r'(?:src|href)\s*=\s*["\'](https?://[^"\']+)', html)
    return sorted(set(found))


def map_html(fmap: folium.Map) -> str:
    """The whole standalone map page (for tests and downloads)."""
    return fmap.get_root().render()
