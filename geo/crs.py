"""CRS policy: storage in EPSG:4326, metric work in one projected CRS chosen from the data.

Distances are never measured in degrees. The analysis CRS is the UTM zone (WGS84) of the data's
centre by default, or a CGCS2000 3-degree Gauss-Krüger zone, or any projected EPSG code a
deployment sets. Whatever is used is reported with its name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geo.gcj import (  # noqa: F401 - the converters are part of this module's interface
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

STORAGE_EPSG = 4326
# Coordinate systems a user may state for data that does not carry its own CRS.
SOURCE_SYSTEMS = {
    "wgs84": "WGS84（GPS、天地图、奥维默认）",
    "cgcs2000": "CGCS2000（国家 2000 坐标系，经纬度）",
    "gcj02": "GCJ-02（高德、腾讯、微信定位）",
    "bd09": "BD-09（百度地图）",
}
# CGCS2000 / 3-degree Gauss-Kruger CM 75E .. 135E are EPSG:4534 .. 4554 (no false easting zone
# prefix); they cover China's longitudes.
_GK3_FIRST_EPSG, _GK3_FIRST_CM = 4534, 75


class CRSError(ValueError):
    """Geometry has no CRS, or one that cannot be used for what was asked."""


@dataclass(frozen=True)
class AnalysisCRS:
    """The projected CRS distances are measured in, with a name to report."""

    epsg: int
    name: str

    def __str__(self) -> str:
        return f"EPSG:{self.epsg}（{self.name}）"


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone containing (lon, lat)."""
    if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 84.0):
        raise CRSError(f"坐标超出 UTM 分带范围（经度 {lon}，纬度 {lat}），请检查经纬度")
    zone = min(int(math.floor((lon + 180.0) / 6.0)) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def gk3_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (central meridian nearest lon)."""
    cm = 3 * round(lon / 3)
    if not _GK3_FIRST_CM <= cm <= 135:
        raise CRSError(f"经度 {lon} 不在 CGCS2000 3 度分带范围内（东经 75°–135°）")
    return _GK3_FIRST_EPSG + (cm - _GK3_FIRST_CM) // 3


def analysis_crs(
    bounds: tuple[float, float, float, float], system: str = "utm", epsg: int | None = None
) -> AnalysisCRS:
    """The metric CRS for data with these lon/lat bounds.

    `epsg` (a deployment setting) wins; otherwise `system` is 'utm' or 'gk3' at the centre.
    """
    if epsg is not None:
        return AnalysisCRS(int(epsg), _name(int(epsg)))
    minx, miny, maxx, maxy = bounds
    if any(math.isnan(v) for v in bounds):
        raise CRSError("范围为空：没有任何几何图形，无法据此选择分析坐标系")
    lon, lat = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    code = gk3_epsg(lon) if system == "gk3" else utm_epsg(lon, lat)
    return AnalysisCRS(code, _name(code))


def _name(epsg: int) -> str:
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjError

    try:
        crs = CRS.from_epsg(epsg)
    except ProjError:
        raise CRSError(
            f"EPSG:{epsg} 不是已知的坐标系代码，请核对（如 32648 为 WGS 84 / UTM 48N，"
            "4545 为 CGCS2000 3 度带 108°E）"
        ) from None
    if not crs.is_projected:
        raise CRSError(
            f"EPSG:{epsg}（{crs.name}）不是投影坐标系：量算距离需要以米为单位的投影坐标系，"
            "如 UTM 或 CGCS2000 3 度带"
        )
    return crs.name


def require_storage_crs(crs: object) -> None:
    """Refuse data without a CRS or in a CRS other than the storage CRS (EPSG:4326)."""
    if crs is None:
        raise CRSError("数据没有坐标系：请先说明它的坐标系再保存")
    epsg = getattr(crs, "to_epsg", lambda: None)()
    if epsg != STORAGE_EPSG:
        raise CRSError(f"保存的数据应为 EPSG:{STORAGE_EPSG}（WGS 84 经纬度），现为 {crs}")


def require_metric(frame, what: str = "图层") -> None:
    """Refuse a GeoDataFrame/GeoSeries whose CRS is missing or not in metres."""
    crs = getattr(frame, "crs", None)
    if crs is None:
        raise CRSError(f"{what}没有坐标系，无法量算距离")
    if not crs.is_projected:
        raise CRSError(f"{what}是经纬度（度，{crs.name}），请先投影到以米为单位的坐标系")
    units = {axis.unit_name for axis in crs.axis_info}
    if not units <= {"metre", "meter"}:
        raise CRSError(f"{what}的单位是 {'、'.join(sorted(units))}，不是米")


def to_metric(frame, crs: AnalysisCRS):
    """Project a frame stored in EPSG:4326 to the analysis CRS (refusing one without a CRS)."""
    if frame.crs is None:
        raise CRSError("图层没有坐标系：请先说明它的坐标系再分析")
    return frame.to_crs(crs.epsg)


AREA_MARGIN_DEG = 0.2  # about 20 km: how far outside the deployment's villages data may lie


def near_area(bounds, lon: float, lat: float, margin_deg: float = AREA_MARGIN_DEG) -> bool:
    """Whether (lon, lat) lies within the lon/lat `bounds` widened by the margin: points far
    outside come from a wrong file or a wrong coordinate system."""
    minx, miny, maxx, maxy = bounds
    return (minx - margin_deg <= lon <= maxx + margin_deg
            and miny - margin_deg <= lat <= maxy + margin_deg)  # fmt: skip


def lonlat_to_wgs84(lon, lat, system: str):
    """Lon/lat arrays in a stated source system converted to WGS84 (CGCS2000 is taken as equal
    to WGS84, which it is to a few centimetres)."""
    if system in ("wgs84", "cgcs2000"):
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if system == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise CRSError(f"未知坐标系“{system}”，可选：{'、'.join(SOURCE_SYSTEMS)}")
