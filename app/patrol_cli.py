"""`shouhu patrol plan|record|priority|compliance`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from app.cli_args import code_arg, date_arg, input_file_arg, positive_int_arg, settings_options


def _lonlat(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"出发点“{text}”应写成 经度,纬度（如 107.08,29.86）"
        ) from None
    return lon, lat


def add_parsers(sub, store_arg) -> None:
    patrol = sub.add_parser(
        "patrol", help="防溺水巡查：plan 计划、record 登记巡查单、priority、compliance"
    )
    psub = patrol.add_subparsers(dest="patrol_command", required=True)
    plan = psub.add_parser("plan", help="按优先级为 N 个巡查组排定路线")
    plan.add_argument("--date", type=date_arg, required=True, help="巡查日期 YYYY-MM-DD")
    plan.add_argument("--teams", type=int, required=True, help="巡查组数")
    plan.add_argument("--stops-per-team", type=int, default=8, help="每组巡查的水域个数（默认 8）")
    plan.add_argument("--base", type=_lonlat, nargs="*", default=None,
                      help="出发点 经度,纬度（WGS84），一个或每组一个")  # fmt: skip
    plan.add_argument("--out", required=True, help="plan.xlsx 或 plan.csv")
    plan.add_argument("--sheets", default=None, help="巡查单（Excel 和可打印网页）写到此文件夹")
    plan.add_argument(
        "--village", nargs="+", type=code_arg, default=None, help="只排这些村或乡镇代码"
    )
    plan.add_argument("--no-save", action="store_true", help="不把计划记入巡查记录")
    record = psub.add_parser("record", help="登记填好的巡查单（全部正确才写入）")
    record.add_argument("file", type=input_file_arg, metavar="文件", help="填好的巡查单（.xlsx）")
    record.add_argument("--dry-run", action="store_true", help="只检查并列出将要的变化，不写入")
    prio = psub.add_parser("priority", help="水域巡查优先级清单")
    prio.add_argument(
        "--as-of", type=date_arg, default=None, help="计算日期 YYYY-MM-DD（默认今天）"
    )
    prio.add_argument("--out", required=True, help="priority.csv 或 priority.xlsx")
    prio.add_argument(
        "--village", nargs="+", type=code_arg, default=None, help="只列这些村或乡镇代码"
    )
    comp = psub.add_parser("compliance", help="巡查完成情况：计划与实际、超期未查、缺失未补")
    comp.add_argument("--date", type=date_arg, required=True, help="核对日期 YYYY-MM-DD")
    comp.add_argument(
        "--days", type=positive_int_arg, default=7, help="多少天内应至少巡查一次（默认 7）"
    )
    for parser in (plan, prio):
        settings_options(parser, weights=True)
    for parser in (plan, record, prio, comp):
        parser.add_argument("--user", default=None, help="以该账号的权限和管辖范围运行")
        store_arg(parser)


def run(args: argparse.Namespace, as_user) -> int:
    from app.services import open_checked_store

    with open_checked_store(args.store) as base:
        store = as_user(base, args)
        return {"plan": _plan, "record": _record, "priority": _priority,
                "compliance": _compliance}[args.patrol_command](store, args)  # fmt: skip


def _plan(store, args) -> int:
    from app.patrol_service import make_plan, save_plan
    from layers.export import check_target, write_table
    from layers.patrol_sheets import sheet_html, sheets_xlsx

    target = check_target(args.out)
    ranked = _ranked(store, args, args.date)
    plan = make_plan(
        store, args.date, args.teams, args.stops_per_team, args.base, args.village, ranked
    )
    write_table(plan.plan, target, sheet="巡查计划")
    print(f"已写入 {target}：{args.teams} 个组，共 {len(plan.plan)} 站（{args.date}）")
    for team, length in plan.lengths_m.items():
        stops = int((plan.plan["team"] == team).sum())
        print(f"第{team}组：{stops} 站，路线全长 {length / 1000:.2f} 公里（{length:.0f} 米）")
    if args.sheets:
        folder = Path(args.sheets)
        folder.mkdir(parents=True, exist_ok=True)
        title = "防溺水巡查"
        (folder / f"巡查单_{args.date:%Y%m%d}.xlsx").write_bytes(sheets_xlsx(plan, title))
        villages = store.read_layer("villages", village_codes=args.village)
        for team in plan.lengths_m:
            html = sheet_html(plan, team, villages, store.analysis_crs().epsg, title)
            (folder / f"巡查单_{args.date:%Y%m%d}_第{team}组.html").write_text(html, "utf-8")
        print(f"巡查单已写到 {folder}")
    if not args.no_save:
        save_plan(store, plan)
    return 0


def _record(store, args) -> int:
    from app.patrol_service import record_inspections
    from layers.patrol_record import read_records

    path = args.file
    ids = set(store.read_layer("water_bodies", columns=[])["water_id"])
    try:
        records, problems = read_records(path.read_bytes(), ids)
    except ValueError as exc:  # not a workbook at all: the message says which file to use
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    for p in problems:
        where = f"第 {p.row} 行" if p.row else ""
        print(f"错误：{p.column} {where}：{p.problem}。{p.fix}", file=sys.stderr)
    if problems:
        print("未登记：巡查单有错误，什么也没有写入。", file=sys.stderr)
        return 1
    if args.dry_run:
        print(f"检查通过（未写入）：{len(records)} 条巡查记录")
        return 0
    added = record_inspections(store, records) if records else 0
    print(f"已登记 {added} 条巡查记录")
    return 0


def _ranked(store, args, day: dt.date):
    """The water bodies of the chosen places ranked by the rules and weights of the options
    (or of the deployment)."""
    from app.patrol_service import water_priorities
    from layers.rules_file import load_rules, load_weights

    rules, weights = load_rules(args.rules), load_weights(args.weights)
    return water_priorities(store, day, args.village, rules, weights)


def _priority(store, args) -> int:
    from layers.export import check_target, write_table

    target = check_target(args.out)
    ranked = _ranked(store, args, args.as_of or dt.date.today())
    write_table(ranked, target, sheet="巡查优先级")
    print(f"已写入 {target}：{len(ranked)} 处水域")
    return 0


def _compliance(store, args) -> int:
    from app.patrol_service import compliance

    result = compliance(store, args.date, args.days)
    for row in result["per_team"].itertuples(index=False):
        print(f"{row.team}：计划 {row.planned} 站，已查 {row.checked}，未查 {row.missed}")
    print(f"超过 {args.days} 天未巡查的水域：{len(result['stale'])} 处")
    print(f"报告缺失或损坏、尚未补齐的设备：{len(result['open_items'])} 项")
    return 0
