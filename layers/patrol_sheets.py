"""Patrol sheets: an Excel workbook (one sheet per team) and a printable page per team with a
map of the route drawn as inline SVG, so it prints with no internet and no tiles.

The findings columns of the Excel sheet are what `shouhu patrol record` reads back.
"""

from __future__ import annotations

import html
import io

import numpy as np
from pyproj import Transformer

from geo import vocab

INFO_HEADERS = ["站序", "水域编号", "水域名称", "类型", "村（社区）代码", "经度", "纬度",
                "附近儿童（人）", "缺失/原因"]  # fmt: skip
FINDING_HEADERS = ["巡查时间", "巡查人", *[vocab.EQUIPMENT_ITEMS[i] for i in vocab.FOUR_ITEMS],
                   "隔离设施", "发现儿童人数", "备注"]  # fmt: skip
STATUS_HINT = "设备填：完好 / 缺失 / 损坏；巡查时间如 2026-07-20 09:30"


def sheets_xlsx(plan, title: str) -> bytes:
    """One worksheet per team: the stops in order, what to check, blank fields for findings."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    book = openpyxl.Workbook()
    book.remove(book.active)
    for team, stops in plan.plan.groupby("team"):
        sheet = book.create_sheet(f"第{team}组")
        base = plan.bases[team - 1]
        sheet.append([f"{title} 第{team}组巡查单（{plan.date:%Y-%m-%d}）"])
        sheet.append([f"出发点：{base[0]:.5f}, {base[1]:.5f}；路线全长约 "
                      f"{plan.lengths_m[team] / 1000:.1f} 公里；{STATUS_HINT}"])  # fmt: skip
        sheet.append([*INFO_HEADERS, *FINDING_HEADERS])
        for row in stops.itertuples(index=False):
            info = [
                row.stop,
                row.water_id,
                row.water_name,
                row.water_type,
                row.village_code,
                row.lon,
                row.lat,
                int(row.children_near),
                row.missing_items or row.reasons,
            ]
            sheet.append([*info, *([None] * len(FINDING_HEADERS))])
        sheet["A1"].font = Font(bold=True, size=14)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
        widths = [6, 16, 12, 8, 15, 11, 10, 9, 28, 17, 9, 8, 8, 8, 8, 9, 11, 16]
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[openpyxl.utils.get_column_letter(i)].width = width
        sheet.freeze_panes = "A4"
        sheet.oddHeader.center.text = "内部资料 · 注意保密"
        sheet.page_setup.orientation = "landscape"
        sheet.print_title_rows = "3:3"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sheet_html(plan, team: int, villages, epsg: int, title: str) -> str:
    """A printable page for one team: a route map (inline SVG) and the checklist table."""
    stops = plan.plan[plan.plan["team"] == team]
    base = plan.bases[team - 1]
    to_m = Transformer.from_crs(4326, epsg, always_xy=True)
    pts = np.column_stack(to_m.transform([base[0], *stops["lon"]], [base[1], *stops["lat"]]))
    outlines = villages.to_crs(epsg)
    minx, miny, maxx, maxy = pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()
    pad = max(maxx - minx, maxy - miny, 400) * 0.12
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    width, height = 640, 640 * (maxy - miny) / (maxx - minx)

    def xy(x, y):
        return (x - minx) / (maxx - minx) * width, (maxy - y) / (maxy - miny) * height

    shapes = []
    for geom, name in zip(outlines.geometry, outlines["name"], strict=True):
        for poly in getattr(geom, "geoms", [geom]):
            ring = " ".join(
                f"{a:.1f},{b:.1f}" for a, b in (xy(x, y) for x, y in poly.exterior.coords)
            )
            shapes.append(
                f'<polygon points="{ring}" fill="#f4f1e8" stroke="#999" stroke-width="1"/>'
            )
        label = geom.representative_point()
        lx, ly = xy(label.x, label.y)
        if 0 <= lx <= width and 0 <= ly <= height:
            shapes.append(f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="11" fill="#777">'
                          f"{html.escape(str(name))}</text>")  # fmt: skip
    path = [xy(x, y) for x, y in pts] + [xy(*pts[0])]
    line = " ".join(f"{a:.1f},{b:.1f}" for a, b in path)
    marks = []
    bx, by = path[0]
    marks.append(
        f'<rect x="{bx - 7:.1f}" y="{by - 7:.1f}" width="14" height="14" fill="#333"/>'
        f'<text x="{bx + 10:.1f}" y="{by + 4:.1f}" font-size="12">出发点</text>'
    )
    for k, (px, py) in enumerate(path[1:-1], start=1):
        marks.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="10" fill="#1f5fa8"/>'
                     f'<text x="{px:.1f}" y="{py + 4:.1f}" font-size="11" fill="#fff" '
                     f'text-anchor="middle">{k}</text>')  # fmt: skip
    svg = (f'<svg class="route-map" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">{"".join(shapes)}'
           f'<polyline points="{line}" fill="none" stroke="#c62828" stroke-width="2.5"/>'
           f'{"".join(marks)}</svg>')  # fmt: skip
    rows = []
    for row in stops.itertuples(index=False):
        checks = "".join(f"<td>{vocab.EQUIPMENT_ITEMS[i]}：□完好 □缺失 □损坏</td>"
                         for i in [*vocab.FOUR_ITEMS, "fence"])  # fmt: skip
        rows.append(
            f"<tr><td>{row.stop}</td><td>{html.escape(str(row.water_name))}<br/>"
            f"<small>{row.water_id} · {html.escape(str(row.water_type))}</small></td>"
            f"<td>{int(row.children_near)}</td>"
            f"<td>{html.escape(str(row.missing_items or '—'))}</td>{checks}"
            "<td>时间：<br/>发现儿童：___人<br/>备注：</td></tr>"
        )
    head = ("<tr><th>站</th><th>水域</th><th>附近儿童</th><th>缺失</th>"
            + "".join(f"<th>{vocab.EQUIPMENT_ITEMS[i]}</th>" for i in [*vocab.FOUR_ITEMS, "fence"])
            + "<th>巡查记录</th></tr>")  # fmt: skip
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{html.escape(title)} 第{team}组巡查单</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 16px; }}
.internal {{ text-align: right; font-size: 12px; color: #a00; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12px; margin-top: 8px; }}
th, td {{ border: 1px solid #555; padding: 4px; vertical-align: top; }}
.sign {{ margin-top: 16px; font-size: 13px; }}
@media print {{ @page {{ size: A4 landscape; margin: 10mm; }} }}
</style></head><body>
<div class="internal">内部资料 · 注意保密</div>
<h2>{html.escape(title)} 第{team}组巡查单 · {plan.date:%Y年%m月%d日}</h2>
<p>共 {len(stops)} 站，路线全长约 {plan.lengths_m[team] / 1000:.1f} 公里（直线距离）。
附近儿童只有人数，不列姓名。</p>
{svg}
<table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>
<p class="sign">巡查人签字：__________　　带队人签字：__________　　日期：__________</p>
</body></html>"""
