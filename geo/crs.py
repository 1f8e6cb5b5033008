"""CRS policy: storage in EPSG:4326, metric work in a projected CRS chosen from the data."""

from __future__ import annotations

import math

STORAGE_EPSG = 4326


class CRSError(ValueError):
    """Geometry has no CRS, or one that cannot be used for what was asked."""


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone containing (lon, lat)."""
    if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 84.0):
        raise CRSError(f"coordinate out of UTM range: lon={lon}, lat={lat}")
    zone = min(int(math.floor((lon + 180.0) / 6.0)) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def metric_epsg_for_bounds(bounds: tuple[float, float, float, float]) -> int:
    """Metric CRS (UTM zone of the extent's centre) for data with lon/lat bounds."""
    minx, miny, maxx, maxy = bounds
    if any(math.isnan(v) for v in bounds):
        raise CRSError("empty extent: no geometry to choose a metric CRS from")
    return utm_epsg((minx + maxx) / 2.0, (miny + maxy) / 2.0)


def require_storage_crs(crs: object) -> None:
    """Refuse data without a CRS or in a CRS other than the storage CRS (EPSG:4326)."""
    if crs is None:
        raise CRSError("data has no CRS; state it before storing")
    epsg = getattr(crs, "to_epsg", lambda: None)()
    if epsg != STORAGE_EPSG:
        raise CRSError(f"data must be in EPSG:{STORAGE_EPSG} to be stored, got {crs}")
