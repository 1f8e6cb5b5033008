"""`shouhu import …` and `shouhu export …`: the command-line side of layers/ imports and exports.

An import with errors writes nothing, saves the problem list (行号, 列, 问题, 处理办法) as a CSV
report and exits with code 1; `--dry-run` shows what would change without writing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli_args import code_arg, input_file_arg, labelled
from geo.crs import SOURCE_SYSTEMS
from layers import ledger
from layers.export import EXPORT_FORMATS
from layers.geofile import FORMATS
from layers.layer_import import KINDS


def add_parsers(sub, store_arg) -> None:
    """Register `import` and `export` on the main parser's subcommands."""
    imp = sub.add_parser("import", help="导入台账（儿童）或图层文件（全部成功才写入）")
    imp_sub = imp.add_subparsers(dest="import_command", required=True)
    children = imp_sub.add_parser("children", help="从 Excel/CSV 台账导入儿童和家庭户")
    children.add_argument(
        "file", type=input_file_arg, metavar="文件", help="台账文件（.xlsx 或 .csv）"
    )
    children.add_argument(
        "--ledger",
        choices=list(ledger.LEDGERS),
        default=None,
        help="台账类型：left_behind（附件1 留守儿童）、difficulty（附件2 困境儿童）；"
        "未填儿童类别时按此归类",
    )
    layer = imp_sub.add_parser("layer", help="从 GIS 文件导入图层")
    layer.add_argument("kind", choices=list(KINDS), help=f"目标图层：{labelled(KINDS)}")
    layer.add_argument(
        "file",
        type=input_file_arg,
        metavar="文件",
        help=f"GIS 文件：{'、'.join(dict.fromkeys(FORMATS.values()))}",
    )
    layer.add_argument("--set", action="append", default=[], metavar="列=值",
                       help="为全部要素指定某列的值，如 --set water_type=pond")  # fmt: skip
    for parser in (children, layer):
        parser.add_argument(
            "--crs",
            choices=list(SOURCE_SYSTEMS),
            default=None,
            help=f"文件坐标系（文件自带坐标系时可省略）：{labelled(SOURCE_SYSTEMS)}",
        )
        parser.add_argument("--dry-run", action="store_true", help="只检查并列出将要的变化，不写入")
        parser.add_argument("--report", default=None, help="问题清单 CSV 的路径（默认在当前目录）")
        parser.add_argument("--user", default=None, help="以该账号的权限和管辖范围导入")
        store_arg(parser)
    exp = sub.add_parser("export", help="导出 GeoPackage、GeoJSON、KML 或 Excel 台账")
    exp.add_argument(
        "kind",
        choices=list(EXPORT_FORMATS),
        help="格式：gpkg（全部图层）、geojson、kml（一个图层）、ledger（Excel 台账）",
    )
    exp.add_argument(
        "what",
        nargs="?",
        default=None,
        help="geojson/kml：图层名；ledger：left_behind（附件1）或 difficulty（附件2）",
    )
    exp.add_argument(
        "--out", required=True, help="输出文件：.gpkg、.geojson、.kml 或 .xlsx，与格式相符"
    )
    exp.add_argument(
        "--village", nargs="+", type=code_arg, default=None, help="只导出这些村或乡镇代码"
    )
    exp.add_argument("--user", default=None, help="以该账号的权限和管辖范围导出")
    store_arg(exp)  # fmt: skip


def run_import(args: argparse.Namespace, as_user) -> int:
    from app.services import open_checked_store
    from layers.child_import import apply_import, plan_import
    from layers.geofile import read_geofile
    from layers.layer_import import apply_layer, plan_layer
    from layers.tabular import read_table

    path = args.file
    data = path.read_bytes()
    with open_checked_store(args.store) as base:
        store = as_user(base, args)
        if args.import_command == "children":
            table = read_table(data, path.name, ledger.KNOWN_HEADERS)
            plan = plan_import(store, table, source_crs=args.crs, ledger_kind=args.ledger)
            print(f"读取 {path.name}：{len(table.rows)} 行（{table.encoding}）")
            what, apply = "儿童", apply_import
        else:
            defaults = dict(_pair(text) for text in args.set)
            geofile = read_geofile(data, path.name, args.crs)
            for warning in geofile.warnings:
                print(f"提示：{warning}", file=sys.stderr)
            plan = plan_layer(store, args.kind, geofile, defaults=defaults)
            print(f"读取 {path.name}（{geofile.fmt}，坐标系 {geofile.source_crs}）："
                  f"{len(geofile.frame)} 个要素")  # fmt: skip
            what, apply = KINDS[args.kind], apply_layer
        for problem in plan.problems:
            where = f"第 {problem.row} 行" if problem.row else "文件"
            print(f"{problem.level}：{where} {problem.column}：{problem.problem}。{problem.fix}",
                  file=sys.stderr)  # fmt: skip
        counts = plan.counts()
        summary = f"新增 {counts['新增']}，更新 {counts['更新']}，不变 {counts['不变']}"
        if not plan.ok:
            report = Path(args.report or f"{path.stem}_导入问题.csv")
            plan.problem_table().to_csv(report, index=False, encoding="utf-8-sig")
            print(f"未导入：有 {len(plan.errors)} 个错误，什么也没有写入。"
                  f"问题清单已保存到 {report}", file=sys.stderr)  # fmt: skip
            return 1
        if args.dry_run:
            print(f"检查通过（未写入）：{what}将{summary}")
            return 0
        apply(store, plan)
        if store is base:
            base.accounts().audit("cli", "write", layer=path.name, rows=sum(counts.values()),
                                  detail={"import": args.import_command, **counts})  # fmt: skip
        print(f"已导入{what}：{summary}")
    return 0


def run_export(args: argparse.Namespace, as_user) -> int:
    from app.services import open_checked_store
    from layers import exporters

    if args.kind in ("geojson", "kml", "ledger") and not args.what:
        print("错误：请指明图层名（geojson/kml）或台账类型（ledger）", file=sys.stderr)
        return 2
    with open_checked_store(args.store) as base:
        store = as_user(base, args)
        if args.kind == "gpkg":
            counts = exporters.export_geopackage(store, args.out, args.village)
            rows = sum(counts.values())
            print("已导出 GeoPackage：" + "，".join(f"{k} {v}" for k, v in counts.items()))
        elif args.kind == "geojson":
            rows = exporters.export_geojson(store, args.what, args.out, args.village)
        elif args.kind == "kml":
            rows = exporters.export_kml(store, args.what, args.out, args.village)
        else:
            if args.what not in ledger.LEDGERS:
                print(f"错误：台账类型应为 {'、'.join(ledger.LEDGERS)}", file=sys.stderr)
                return 2
            rows = exporters.export_ledger(store, args.what, args.out, args.village)
        base.accounts().audit(args.user or "cli", "export", layer=args.what or args.kind,
                              rows=rows, detail={"file": Path(args.out).name, "format": args.kind,
                                                 "villages": args.village})  # fmt: skip
        print(f"已写入 {args.out}：{rows} 行")
    return 0


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise SystemExit(f"错误：--set 应写成 列=值（收到 {text}）")
    return key.strip(), value.strip()
