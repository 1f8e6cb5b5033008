"""Reading GIS files as offices have them, into WGS84: GeoJSON, zipped Shapefile, GeoPackage,
KML/KMZ and CSV with lon/lat or WKT columns.

The file's own CRS is used where it has one. GeoJSON and KML are WGS84 by definition, but data
copied from phone map apps is often GCJ-02 or BD-09 anyway: the user may say so and it is
converted. A file without a CRS needs the user to state one. Xian-80 and Beijing-54 data is
refused with an explanation (converting it needs local parameters), never silently accepted.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo.crs import SOURCE_SYSTEMS, in_china, lonlat_to_wgs84
from layers.tabular import decode_csv

FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".zip": "Shapefile（.zip）",
    ".gpkg": "GeoPackage",
    ".kml": "KML",
    ".kmz": "KMZ",
    ".csv": "CSV（经纬度或 WKT）",
}
_LON = ("经度", "lon", "lng", "long", "longitude", "x", "东经")
_LAT = ("纬度", "lat", "latitude", "y", "北纬")
_WKT = ("wkt", "geometry", "geom", "几何", "the_geom")
_LEGACY = ("xian 1980", "xian_1980", "beijing 1954", "beijing_1954", "new beijing")


class GeoFileError(ValueError):
    """The file cannot be used; the message (Chinese) says why and how to fix it."""


@dataclass
class GeoFile:
    frame: gpd.GeoDataFrame  # attributes and geometry in EPSG:4326
    source_crs: str  # what the coordinates were: wgs84/cgcs2000/gcj02/bd09 or "EPSG:nnnn"
    fmt: str
    warnings: list[str]


def read_geofile(data: bytes, filename: str, stated: str | None = None) -> GeoFile:
    """The features of a GIS file in WGS84; `stated` is the user's coordinate system
    (wgs84, cgcs2000, gcj02, bd09) for files without one or with GCJ-02/BD-09 content."""
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        kinds = "、".join(sorted(set(FORMATS.values())))
        raise GeoFileError(
            f"不支持的文件类型“{suffix or filename}”。可导入：{kinds}。"
            "Shapefile 请把 .shp、.shx、.dbf、.prj、.cpg 一起压缩成 .zip。"
        )
    if stated is not None and stated not in SOURCE_SYSTEMS:
        raise GeoFileError(f"未知坐标系“{stated}”，可选：{'、'.join(SOURCE_SYSTEMS)}")
    warnings: list[str] = []
    if suffix == ".csv":
        frame = _read_csv(data, warnings)
    else:
        frame = _read_ogr(data, suffix, warnings)
    if frame.geometry.isna().all() or len(frame) == 0:
        raise GeoFileError("文件里没有带几何的要素。")
    frame, source = _to_wgs84(frame, suffix, stated)
    _check_place(frame)
    return GeoFile(frame, source, FORMATS[suffix], warnings)


def _read_ogr(data: bytes, suffix: str, warnings: list[str]) -> gpd.GeoDataFrame:
    with tempfile.TemporaryDirectory(prefix="shouhu-import-") as tmp:
        folder = Path(tmp)
        if suffix == ".zip":
            path = _unzip_shapefile(data, folder)
        elif suffix == ".kmz":
            path = _unzip_kmz(data, folder)
        else:
            path = folder / f"upload{suffix}"
            path.write_bytes(data)
        try:
            layers = pyogrio.list_layers(path)
            options = {}
            if suffix == ".zip" and not path.with_suffix(".cpg").exists():
                options["encoding"] = _shapefile_encoding(path, warnings)
            frames = []
            for name in layers[:, 0]:
                part = pyogrio.read_dataframe(path, layer=name, **options)
                if len(part):
                    frames.append(part)
        except pyogrio.errors.DataSourceError as exc:
            raise GeoFileError(
                f"无法读取这个{FORMATS[suffix]}文件：文件已损坏或格式不对。"
            ) from exc
        if not frames:
            raise GeoFileError("文件里没有要素（各图层都是空的）。")
        if len(frames) > 1 and suffix not in (".kml", ".kmz"):
            warnings.append(f"文件有 {len(frames)} 个图层，只导入了第一个。")
            frames = frames[:1]
        crs = frames[0].crs
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)


def _archive(data: bytes, suffix: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise GeoFileError(f"这个 {suffix} 文件已损坏，无法解压。") from exc


def _unzip_shapefile(data: bytes, folder: Path) -> Path:
    archive = _archive(data, ".zip")
    shps = [n for n in archive.namelist() if n.lower().endswith(".shp")]
    if not shps:
        raise GeoFileError("压缩包里没有 .shp 文件。请把 .shp、.shx、.dbf、.prj、.cpg 一起压缩。")
    if len(shps) > 1:
        raise GeoFileError(f"压缩包里有 {len(shps)} 个 .shp 文件，请每次只导入一个图层。")
    stem = shps[0][:-4]
    members = [n for n in archive.namelist() if n[: len(stem)] == stem]
    for needed in (".shx", ".dbf"):
        if not any(n.lower() == (stem + needed).lower() for n in members):
            raise GeoFileError(f"压缩包里缺少 {Path(stem).name}{needed}，Shapefile 不完整。")
    for name in members:
        target = folder / ("layer" + name[len(stem) :].lower())
        target.write_bytes(archive.read(name))
    return folder / "layer.shp"


def _unzip_kmz(data: bytes, folder: Path) -> Path:
    archive = _archive(data, ".kmz")
    kmls = [n for n in archive.namelist() if n.lower().endswith(".kml")]
    if not kmls:
        raise GeoFileError("KMZ 文件里没有 .kml 文档。")
    path = folder / "doc.kml"
    path.write_bytes(archive.read(kmls[0]))
    return path


def _shapefile_encoding(path: Path, warnings: list[str]) -> str:
    """A .dbf without .cpg: UTF-8 if its bytes decode as such, else GBK (Chinese GIS default)."""
    raw = path.with_suffix(".dbf").read_bytes()
    try:
        raw.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        warnings.append("Shapefile 缺少 .cpg 编码文件，属性按 GBK 读取；如有乱码请补上 .cpg。")
        return "GBK"


def _read_csv(data: bytes, warnings: list[str]) -> gpd.GeoDataFrame:
    text, _encoding = decode_csv(data)
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    lower = {c.strip().lower(): c for c in frame.columns}
    wkt = next((lower[k] for k in _WKT if k in lower), None)
    lon = next((lower[k] for k in _LON if k in lower), None)
    lat = next((lower[k] for k in _LAT if k in lower), None)
    if wkt is not None:
        try:
            geometry = shapely.from_wkt(frame[wkt].replace("", None))
        except shapely.errors.GEOSException as exc:
            raise GeoFileError(f"“{wkt}”列里有无法识别的 WKT 几何：{exc}") from exc
        frame = frame.drop(columns=[wkt])
    elif lon is not None and lat is not None:
        try:
            x = pd.to_numeric(frame[lon].replace("", None))
            y = pd.to_numeric(frame[lat].replace("", None))
        except ValueError as exc:
            raise GeoFileError(f"“{lon}”或“{lat}”列里有不是数字的值。") from exc
        geometry = shapely.points(x.to_numpy(float), y.to_numpy(float))
        geometry[x.isna().to_numpy() | y.isna().to_numpy()] = None
        frame = frame.drop(columns=[lon, lat])
    else:
        raise GeoFileError(
            "CSV 里没有找到坐标列：需要“经度”和“纬度”两列（或 lon/lat、x/y），或一列 WKT 几何。"
        )
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=None)


def _legacy(crs: CRS) -> bool:
    text = (crs.name + " " + (crs.datum.name if crs.datum else "")).lower()
    return any(word in text for word in _LEGACY)


def _to_wgs84(frame: gpd.GeoDataFrame, suffix: str, stated: str | None):
    """Project to EPSG:4326 and undo GCJ-02/BD-09 if stated; (frame, source system)."""
    crs = frame.crs
    if crs is not None and _legacy(crs):
        raise GeoFileError(
            f"文件使用“{crs.name}”（西安80 或北京54）坐标系，与 WGS84/CGCS2000 相差可达百米，"
            "不能可靠地自动转换。请在 GIS 软件中用当地的转换参数（七参数）转为 CGCS2000 后再导入。"
        )
    if crs is None:
        if stated is None:
            raise GeoFileError(
                "文件没有说明坐标系（例如 Shapefile 缺少 .prj）。请选择坐标系：WGS84、CGCS2000、"
                "GCJ-02（高德/腾讯/微信）或 BD-09（百度）；如是米制投影坐标，请补上 .prj 文件。"
            )
        bounds = frame.total_bounds
        if np.nanmax(np.abs(bounds)) > 360:
            raise GeoFileError(
                "坐标值是米制投影坐标（数值很大），但文件没有说明投影。请补上 .prj 文件后再导入。"
            )
        frame = frame.set_crs(4326, allow_override=True)
        source = stated
    elif crs.is_geographic and stated in ("gcj02", "bd09"):
        source = stated  # GeoJSON/KML are WGS84 on paper; the user says the content is not
    elif stated in ("gcj02", "bd09"):
        raise GeoFileError(
            f"文件自带投影坐标系“{crs.name}”，不会是 {stated.upper()} 坐标。请不要选择该坐标系。"
        )
    else:
        epsg = crs.to_epsg()
        source = {4326: "wgs84", 4490: "cgcs2000"}.get(epsg, f"EPSG:{epsg}" if epsg else crs.name)
    frame = frame.to_crs(4326)
    if source in ("gcj02", "bd09"):
        frame = frame.set_geometry(
            shapely.transform(frame.geometry.values, lambda xy: _convert(xy, source))
        )
    return frame, source


def _convert(xy: np.ndarray, system: str) -> np.ndarray:
    lon, lat = lonlat_to_wgs84(xy[:, 0], xy[:, 1], system)
    return np.column_stack([lon, lat])


def _check_place(frame: gpd.GeoDataFrame) -> None:
    valid = frame.geometry.dropna()
    valid = valid[~valid.is_empty]
    if valid.empty:
        raise GeoFileError("文件里的几何都是空的。")
    minx, miny, maxx, maxy = valid.total_bounds
    if 3 < minx and maxx < 54 and 73 < miny and maxy < 136:
        raise GeoFileError(
            "经度和纬度可能填反了（经度在 4–54 之间、纬度在 73–135 之间）。请交换两列。"
        )
    centre = valid.representative_point()
    inside = in_china(centre.x.to_numpy(), centre.y.to_numpy())
    if not inside.all():
        raise GeoFileError(
            f"有 {int((~inside).sum())} 个要素不在中国境内，请核对坐标和坐标系"
            "（投影坐标需要 .prj 文件）。"
        )


def clean_name(text: object) -> str:
    return re.sub(r"\s+", "", "" if text is None else str(text)).lower()
