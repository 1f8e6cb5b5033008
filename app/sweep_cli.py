"""`shouhu sweep` (hazards around child facilities) and `shouhu sweep-campaign add|list|results`."""

from __future__ import annotations

import argparse
import datetime as dt

from app.cli_args import code_arg, date_arg, township_arg


def radius_type_arg(text: str) -> tuple[str, str]:
    """“类型=米” of `--radius-type`: the facility type by its code or its Chinese name (幼儿园),
    and the metres as written (checked with the other radii)."""
    from geo.sweep import SweepError, facility_type

    name, sep, metres = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(
            f"“{text}”不对：应写成 场所类型=米，如 kindergarten=300 或 幼儿园=300"
        )
    try:
        return facility_type(name), metres.strip()
    except SweepError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parsers(sub, store_arg) -> None:
    sweep = sub.add_parser("sweep", help="汛期：各儿童场所周边的坡体、水域和隐患点清单")
    sweep.add_argument("--radius-m", type=float, default=500.0, help="排查半径（米，默认 500）")
    sweep.add_argument(
        "--radius-type", action="append", default=[], metavar="类型=米", type=radius_type_arg,
        help="某类场所的半径，如 kindergarten=300 或 幼儿园=300（可多次）",
    )  # fmt: skip
    sweep.add_argument("--as-of", type=date_arg, default=None, help="日期（取当天进行中的排查）")
    sweep.add_argument("--sweep", default=None, help="排查编号（默认当天进行中的）")
    sweep.add_argument(
        "--village", nargs="+", type=code_arg, default=None, help="只列这些村或乡镇的场所"
    )
    sweep.add_argument("--out", required=True, help="sweep.csv 或 sweep.xlsx")
    camp = sub.add_parser("sweep-campaign", help="汛期排查：add 新建，list 列出，results 导出结果")
    csub = camp.add_subparsers(dest="sweep_command", required=True)
    add = csub.add_parser("add", help="新建汛期排查（时段、乡镇和排查半径）")
    add.add_argument("sweep_id", help="排查编号，如 X2026")
    add.add_argument("--name", required=True, help="名称，如 2026年汛期排查")
    add.add_argument("--start", type=date_arg, required=True, help="开始日期 YYYY-MM-DD")
    add.add_argument("--end", type=date_arg, required=True, help="结束日期 YYYY-MM-DD")
    add.add_argument("--scope", nargs="+", type=township_arg, required=True, help="乡镇代码")
    add.add_argument("--radius-m", type=float, default=500.0, help="排查半径（米，默认 500）")
    listing = csub.add_parser("list", help="列出汛期排查")
    results = csub.add_parser("results", help="全部场所的排查结果（Excel）")
    results.add_argument("sweep_id", help="排查编号")
    results.add_argument("--out", required=True, help="结果文件（.xlsx）")
    for parser in (sweep, add, listing, results):
        parser.add_argument("--user", default=None, help="以该账号的权限和管辖范围运行")
        store_arg(parser)


def run(args: argparse.Namespace, as_user) -> int:
    from app import sweep_service as svc
    from app.services import open_checked_store
    from layers.export import WORKBOOK, check_target, write_bytes, write_table

    with open_checked_store(args.store) as base:
        store = as_user(base, args)
        if args.command == "sweep":
            target = check_target(args.out)
            as_of = args.as_of or dt.date.today()
            sweep = svc.pick_sweep(store, as_of, args.sweep)
            table = svc.hazard_list(store, args.radius_m, as_of, sweep, args.village,
                                    radius_by_type=dict(args.radius_type))  # fmt: skip
            write_table(table, target, sheet="场所周边隐患")
            facilities = table["facility_id"].nunique()
            print(f"已写入 {target}：{facilities} 个场所周边 {len(table)} 处隐患（半径 "
                  f"{args.radius_m:.0f} 米{'，' + sweep.name if sweep else ''}）")  # fmt: skip
            return 0
        if args.sweep_command == "add":
            sweep = svc.create_sweep(store, args.sweep_id, args.name, args.start, args.end,
                                     args.scope, args.radius_m)  # fmt: skip
            radius = f"半径 {sweep.radius_m:.0f} 米"
            print(f"已保存排查 {sweep.sweep_id}：{sweep.start} 至 {sweep.end}，{radius}")
            return 0
        if args.sweep_command == "list":
            for s in svc.sweeps(store):
                print(f"{s.sweep_id}\t{s.name}\t{s.start} 至 {s.end}\t半径 {s.radius_m:.0f} 米")
            return 0
        from layers.sweep_sheets import results_xlsx

        check_target(args.out, WORKBOOK)  # before any work
        sweep = svc.pick_sweep(store, dt.date.today(), args.sweep_id)
        items = svc.ensure_checklists(store, sweep)
        facilities = store.read_layer("facilities", village_codes=list(sweep.scope_codes))
        write_bytes(results_xlsx(items, facilities, sweep), args.out, WORKBOOK)
        print(f"已写入 {args.out}：{items['facility_id'].nunique()} 个场所，{len(items)} 个排查项")
        return 0
