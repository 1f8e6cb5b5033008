"""Write result tables to CSV, Excel, GeoJSON or GeoPackage, all or nothing.

The file is written beside the target under a temporary name and renamed into place only when
complete, so a failure never leaves a half-written file where the user looks for it.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers.errors import StoreError

FORMATS = {".csv": "CSV", ".xlsx": "Excel", ".geojson": "GeoJSON", ".gpkg": "GeoPackage"}
WORKBOOK = (".xlsx",)  # files laid out as Excel workbooks (ledgers, report forms, templates)
# The exports of layers.exporters and the extensions each writes: a file is what its name says.
EXPORT_FORMATS = {
    "gpkg": (".gpkg",), "geojson": (".geojson", ".json"), "kml": (".kml",), "ledger": WORKBOOK,
}  # fmt: skip


def check_target(path: str | os.PathLike, formats: Iterable[str] = FORMATS) -> Path:
    """The output path, refused early (before any work) if its extension is not one of
    `formats` (a file named .csv must hold CSV) or its folder does not exist."""
    target = Path(path)
    allowed = list(formats)
    if target.suffix.lower() not in allowed:
        which = f"{'、'.join(allowed)} 之一" if len(allowed) > 1 else f"{allowed[0]} "
        raise StoreError(
            f"不支持的输出格式“{target.suffix or target.name}”。请使用 {which}作为文件扩展名。"
        )
    if not target.parent.exists():
        raise StoreError(f"输出文件夹 {target.parent} 不存在，请先创建或换一个位置。")
    return target


def atomic_write(target: Path, write: Callable[[Path], object]) -> Path:
    """Run `write(tmp)` on a temporary path beside `target` (not yet existing, same
    extension) and rename it into place only when it succeeded: a failure never leaves a
    half-written file, and never touches an older `target`."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix,
                                    dir=target.parent)  # fmt: skip
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()  # GDAL's drivers create the file themselves
        write(tmp)
        os.replace(tmp, target)
    except PermissionError as exc:
        raise StoreError(
            f"无法写入 {target}：文件可能正被 Excel 等程序打开，请关闭后重试。"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_bytes(data: bytes, path: str | os.PathLike, formats: Iterable[str]) -> Path:
    """Write a finished file (an .xlsx built in memory), all or nothing."""
    return atomic_write(check_target(path, formats), lambda tmp: tmp.write_bytes(data))


def write_table(frame: pd.DataFrame, path: str | os.PathLike, sheet: str = "清单") -> Path:
    """Write `frame` by the file's extension; GeoJSON/GeoPackage need a GeoDataFrame."""
    target = check_target(path)
    suffix = target.suffix.lower()
    if suffix in (".geojson", ".gpkg") and not isinstance(frame, gpd.GeoDataFrame):
        raise StoreError(f"{FORMATS[suffix]} 输出需要带坐标的数据，请改用 .csv 或 .xlsx。")

    def write(tmp: Path) -> None:
        if suffix == ".csv":
            _plain(frame).to_csv(tmp, index=False, encoding="utf-8-sig")  # BOM: Excel opens it
        elif suffix == ".xlsx":
            _excel(_plain(frame), tmp, sheet)
        else:
            driver = "GeoJSON" if suffix == ".geojson" else "GPKG"
            out = frame.to_crs(4326) if frame.crs is not None else frame
            out.to_file(tmp, driver=driver, layer=target.stem if driver == "GPKG" else None)

    atomic_write(target, write)
    return target


def table_bytes(frame: pd.DataFrame, fmt: str, sheet: str = "清单") -> bytes:
    """A table as CSV (UTF-8 with BOM, opens in Excel) or .xlsx bytes, for downloads."""
    plain = _plain(frame)
    if fmt == "csv":
        return plain.to_csv(index=False).encode("utf-8-sig")
    buffer = io.BytesIO()
    _excel(plain, buffer, sheet)
    return buffer.getvalue()


INTERNAL_HEADER = "内部资料 · 注意保密"


def _excel(frame: pd.DataFrame, target, sheet: str) -> None:
    """An .xlsx whose printed pages carry the "内部资料" header (the table itself unchanged)."""
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet)
        page = writer.sheets[sheet]
        page.oddHeader.center.text = INTERNAL_HEADER
        page.evenHeader.center.text = INTERNAL_HEADER


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the geometry column for tabular formats."""
    if isinstance(frame, gpd.GeoDataFrame):
        return pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return frame
