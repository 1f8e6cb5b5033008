"""Printable one-page checklist per facility (隐患排查表) with an inline SVG map of the facility,
its hazards and the radius; and an Excel workbook of every facility's results. Offline."""

from __future__ import annotations

import html
import io

import pandas as pd
import shapely

from geo import vocab
from geo.sweep import ITEM_STATUSES

KIND_STYLE = {"slope": ("#e69500", "#8d5a00"), "water": ("#64b5f6", "#1565c0"),
              "other": ("#ef5350", "#b71c1c")}  # fmt: skip


def facility_html(facility, sweep, radius_m: float, hazards_m: list, items: pd.DataFrame,
                  title: str = "汛期隐患排查表") -> str:  # fmt: skip
    """`facility`: a facility row (itertuples) with its point in the metric CRS; `hazards_m`:
    (kind, label, metric geometry) within the radius."""
    cx, cy = facility.geometry.x, facility.geometry.y
    extent = radius_m * 1.15
    size = 420

    def xy(x, y):
        return (x - cx + extent) / (2 * extent) * size, (cy - y + extent) / (2 * extent) * size

    window = shapely.box(cx - extent, cy - extent, cx + extent, cy + extent)
    shapes = []
    for kind, label, geom in hazards_m:
        fill, stroke = KIND_STYLE[kind]
        geom = geom.intersection(window)
        for part in getattr(geom, "geoms", [geom]):
            if part.is_empty:
                continue
            if part.geom_type == "Polygon":
                pts = " ".join(
                    f"{a:.1f},{b:.1f}" for a, b in (xy(*c) for c in part.exterior.coords)
                )
                tip = f"<title>{html.escape(label)}</title>"
                shapes.append(f'<polygon points="{pts}" fill="{fill}" fill-opacity="0.5" '
                              f'stroke="{stroke}">{tip}</polygon>')  # fmt: skip
            elif part.geom_type == "LineString":
                pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in (xy(*c) for c in part.coords))
                tip = f"<title>{html.escape(label)}</title>"
                shapes.append(f'<polyline points="{pts}" fill="none" stroke="{stroke}" '
                              f'stroke-width="3">{tip}</polyline>')  # fmt: skip
            elif part.geom_type == "Point":
                px, py = xy(part.x, part.y)
                shapes.append(f'<rect class="point-hazard" x="{px - 5:.1f}" y="{py - 5:.1f}" '
                              f'width="10" height="10" fill="{fill}" stroke="{stroke}">'
                              f"<title>{html.escape(label)}</title></rect>")  # fmt: skip
    r_px = radius_m / (2 * extent) * size
    svg = (f'<svg class="sweep-map" xmlns="http://www.w3.org/2000/svg" width="{size}" '
           f'height="{size}" viewBox="0 0 {size} {size}" style="border:1px solid #999">'
           f'{"".join(shapes)}<circle class="radius" cx="{size / 2}" cy="{size / 2}" '
           f'r="{r_px:.1f}" fill="none" stroke="#c62828" stroke-dasharray="6 4"/>'
           f'<circle cx="{size / 2}" cy="{size / 2}" r="6" fill="#6a1b9a"/>'
           f'<text x="8" y="{size - 8}" font-size="12">半径 {radius_m:.0f} 米 · 上北下南</text>'
           "</svg>")  # fmt: skip
    rows = []
    for k, item in enumerate(items.itertuples(index=False), start=1):
        rows.append(
            f"<tr><td>{k}</td><td>{html.escape(item.label)}</td>"
            f"<td>{ITEM_STATUSES.get(item.status, item.status)}</td>"
            "<td>□无隐患 □需整改 □已整改</td><td></td><td></td><td></td></tr>"
        )
    ftype = vocab.FACILITY_TYPES.get(facility.facility_type, facility.facility_type)
    children = (
        "" if pd.isna(facility.children_count) else f"，儿童约 {int(facility.children_count)} 人"
    )
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{html.escape(str(facility.name))} {title}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 16px; }}
.internal {{ text-align: right; font-size: 12px; color: #a00; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12px; margin-top: 8px; }}
th, td {{ border: 1px solid #555; padding: 4px; vertical-align: top; }}
td:nth-child(5), td:nth-child(6), td:nth-child(7) {{ width: 90px; }}
@media print {{ @page {{ size: A4 portrait; margin: 10mm; }} }}
</style></head><body>
<div class="internal">内部资料 · 注意保密</div>
<h2>{html.escape(str(facility.name))} · {title}</h2>
<p>{html.escape(ftype)}，村（社区）代码 {facility.village_code}{children}。
排查：{html.escape(sweep.name)}（{sweep.start} 至 {sweep.end}）。</p>
{svg}
<table><thead><tr><th>序号</th><th>排查内容</th><th>当前状态</th><th>排查结果</th><th>责任人</th>
<th>整改期限</th><th>备注/照片</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
<p>排查人签字：__________　　场所负责人签字：__________　　日期：__________</p>
</body></html>"""


def results_xlsx(items: pd.DataFrame, facilities: pd.DataFrame, sweep) -> bytes:
    """Every facility's checklist results in one sheet, plus a summary per facility."""
    import openpyxl
    from openpyxl.styles import Font

    names = facilities.set_index("facility_id")
    book = openpyxl.Workbook()
    summary = book.active
    summary.title = "汇总"
    summary.append([f"{sweep.name}（{sweep.start} 至 {sweep.end}）"])
    summary.append(["场所编号", "场所", "类型", "村（社区）代码", "排查项", "待排查", "需整改",
                    "已整改", "无隐患"])  # fmt: skip
    for fid, group in items.groupby("facility_id"):
        row = names.loc[fid] if fid in names.index else None
        counts = group["status"].value_counts()
        tally = [int(counts.get(s, 0)) for s in ("pending", "rectify", "rectified", "safe")]
        summary.append([fid, None if row is None else row["name"],
                        None if row is None else vocab.FACILITY_TYPES.get(row["facility_type"]),
                        group["village_code"].iloc[0], len(group), *tally])  # fmt: skip
    detail = book.create_sheet("排查明细")
    detail.append(["场所编号", "场所", "排查内容", "状态", "责任人", "整改期限", "备注", "更新时间",
                   "更新人"])  # fmt: skip
    for item in items.sort_values(["facility_id", "item_id"]).itertuples(index=False):
        name = names.loc[item.facility_id, "name"] if item.facility_id in names.index else None
        due = None if pd.isna(item.due_date) else pd.Timestamp(item.due_date).date()
        at = None if pd.isna(item.updated_at) else pd.Timestamp(item.updated_at).to_pydatetime()
        detail.append([item.facility_id, name, item.label, ITEM_STATUSES.get(item.status),
                       item.responsible, due, item.note, at, item.updated_by])  # fmt: skip
    for ws in (summary, detail):
        ws["A1"].font = Font(bold=True)
        ws.oddHeader.center.text = "内部资料 · 注意保密"
        ws.page_setup.orientation = "landscape"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
