"""`shouhu coverage`, `shouhu coverage-report`, `shouhu sessions` and `shouhu campaign`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from app import messages as M
from app.cli_args import code_arg, date_arg, input_file_arg, labelled, township_arg, year_arg
from geo import vocab


def add_parsers(sub, store_arg) -> None:
    cov = sub.add_parser("coverage", help="各村安全教育宣讲完成情况（截至某日）")
    cov.add_argument("--as-of", type=date_arg, default=None, help="统计日期 YYYY-MM-DD（默认今天）")
    cov.add_argument("--campaign", default=None, help="专项行动编号（默认当年最新的）")
    cov.add_argument("--out", required=True, help="coverage.csv 或 coverage.xlsx")
    cov.add_argument(
        "--village", nargs="+", type=code_arg, default=None, help="只统计这些村或乡镇代码"
    )
    rep = sub.add_parser("coverage-report", help="8月20日报送用的乡镇宣讲情况表（Excel）")
    rep.add_argument("--township", type=township_arg, required=True, help="乡镇（街道）代码")
    rep.add_argument("--as-of", type=date_arg, default=None, help="统计日期 YYYY-MM-DD（默认今天）")
    rep.add_argument("--campaign", default=None, help="专项行动编号（默认当年最新的）")
    rep.add_argument("--out", required=True, help=".xlsx 文件")
    ses = sub.add_parser("sessions", help="宣讲记录：import 从模板导入，template 下载模板")
    ses_sub = ses.add_subparsers(dest="sessions_command", required=True)
    imp = ses_sub.add_parser("import", help="从 Excel/CSV 模板导入宣讲记录（全部成功才写入）")
    imp.add_argument(
        "file", type=input_file_arg, metavar="文件", help="填好的模板（.xlsx 或 .csv）"
    )
    imp.add_argument("--campaign", default=None, help="记入哪个专项行动（默认当年最新的）")
    imp.add_argument("--dry-run", action="store_true", help="只检查并列出将要的变化，不写入")
    tpl = ses_sub.add_parser("template", help="写出宣讲记录模板")
    tpl.add_argument("--out", required=True, help="模板文件（.xlsx）")
    camp = sub.add_parser("campaign", help="专项行动设置：add 新建/修改，list 列出")
    camp_sub = camp.add_subparsers(dest="campaign_command", required=True)
    add = camp_sub.add_parser("add", help="新建或修改专项行动（日期是设置，不写死在程序里）")
    add.add_argument("campaign_id", help="专项行动编号；写已有的编号即修改它")
    add.add_argument("--name", required=True, help="名称，如 2026 年暑期安全专项行动")
    add.add_argument("--year", type=year_arg, required=True, help="年份，如 2026")
    add.add_argument("--deadline", type=date_arg, default=None, help="默认当年 8 月 15 日")
    add.add_argument("--report-due", type=date_arg, default=None, help="默认当年 8 月 20 日")
    add.add_argument(
        "--min-sessions", type=int, default=1, help="每村至少宣讲几场才算完成（默认 1）"
    )
    add.add_argument(
        "--forms",
        nargs="+",
        default=["lecture"],
        choices=list(vocab.SESSION_FORMS),
        metavar="形式",
        help=f"计入完成的宣讲形式（默认只计集中讲座）：{labelled(vocab.SESSION_FORMS)}",
    )
    add.add_argument(
        "--topics",
        nargs="+",
        default=list(vocab.SESSION_TOPICS),
        choices=list(vocab.SESSION_TOPICS),
        metavar="主题",
        help=f"计入的主题（默认全部）：{labelled(vocab.SESSION_TOPICS)}",
    )
    add.add_argument("--scope", nargs="+", type=township_arg, required=True, help="乡镇代码")
    camp_sub.add_parser("list", help="列出专项行动")
    for parser in (cov, rep, imp, add, camp_sub.choices["list"]):
        parser.add_argument("--user", default=None, help="以该账号的权限和管辖范围运行")
        store_arg(parser)


def run(args: argparse.Namespace, as_user) -> int:
    from app.services import open_checked_store

    if args.command == "sessions" and args.sessions_command == "template":
        from layers.export import WORKBOOK, write_bytes
        from layers.session_import import template_bytes

        write_bytes(template_bytes(), args.out, WORKBOOK)
        print(f"已写出宣讲记录模板 {args.out}")
        return 0
    with open_checked_store(args.store) as base:
        store = as_user(base, args)
        if args.command == "coverage":
            return _coverage(store, args)
        if args.command == "coverage-report":
            return _report(store, args)
        if args.command == "sessions":
            return _import_sessions(store, args)
        return _campaign(store, args)


def _coverage(store, args) -> int:
    from app.coverage_service import compute_coverage
    from layers.export import check_target, write_table

    target = check_target(args.out)
    as_of = args.as_of or dt.date.today()
    result = compute_coverage(store, as_of, args.campaign, args.village)
    write_table(result.coverage, target, sheet="宣讲完成情况")
    print(f"已写入 {target}：{len(result.coverage)} 个村（社区），{result.campaign.name}，"
          f"截止 {result.campaign.deadline}，统计日期 {as_of}")  # fmt: skip
    _say_if_default(result.campaign)
    for row in result.rollup.itertuples(index=False):
        print(f"乡镇 {row.township_code}：已开展 {row.done}/{row.villages}（{row.percent}%），"
              f"按期 {row.on_time}，距截止 {row.days_to_deadline} 天")  # fmt: skip
    if len(result.staffing):
        print(f"儿童主任配备不足（儿童超过 30 人而主任少于 2 人）：{len(result.staffing)} 个村")
    return 0


def _report(store, args) -> int:
    from app.coverage_service import compute_coverage
    from layers.coverage_report import report_bytes
    from layers.export import WORKBOOK, check_target, write_bytes

    check_target(args.out, WORKBOOK)  # before any work
    as_of = args.as_of or dt.date.today()
    result = compute_coverage(store, as_of, args.campaign, [args.township])
    if result.coverage.empty:
        print(f"错误：乡镇 {args.township} 没有村（或不在管辖范围内）", file=sys.stderr)
        return 2
    townships = store.read_layer("townships")
    names = dict(zip(townships["township_code"], townships["name"], strict=True))
    report = report_bytes(result, args.township, names.get(args.township, ""))
    write_bytes(report, args.out, WORKBOOK)
    print(f"已写入 {args.out}：{len(result.coverage)} 个村（社区）")
    _say_if_default(result.campaign)
    return 0


def _import_sessions(store, args) -> int:
    from app.coverage_service import pick_campaign
    from layers.session_import import KNOWN_HEADERS, plan_sessions
    from layers.tabular import read_table

    path = args.file
    table = read_table(path.read_bytes(), path.name, KNOWN_HEADERS)
    campaign = pick_campaign(store, dt.date.today(), args.campaign)
    _say_if_default(campaign)  # its dates judge the rows, a dry run's too
    frame, problems = plan_sessions(store, table, campaign)
    for p in problems:
        where = f"第 {p.row} 行" if p.row else "文件"
        print(f"错误：{where} {p.column}：{p.problem}。{p.fix}", file=sys.stderr)
    if problems:
        print("未导入：什么也没有写入。", file=sys.stderr)
        return 1
    if args.dry_run:
        print(f"检查通过（未写入）：{len(frame)} 条宣讲记录")
        return 0
    store.write_layers({"education_sessions": frame}, upsert=True)
    print(f"已导入 {len(frame)} 条宣讲记录（{campaign.name}）")
    return 0


def _say_if_default(campaign) -> None:
    """A year with no campaign registered was counted by the seed's dates: say so."""
    if not campaign.registered:
        print("注意：" + M.CAMPAIGN_DEFAULT.format(c=campaign))


def _campaign(store, args) -> int:
    from app.coverage_service import campaigns
    from geo.coverage import Campaign

    if args.campaign_command == "list":
        for c in campaigns(store):
            print(f"{c.campaign_id}\t{c.name}\t截止 {c.deadline}\t报送 {c.report_due}\t"
                  f"每村 {c.min_sessions} 场\t范围 {'、'.join(c.scope_codes)}")  # fmt: skip
        return 0
    campaign = Campaign(
        args.campaign_id, args.name, args.year,
        args.deadline or dt.date(args.year, 8, 15), args.report_due or dt.date(args.year, 8, 20),
        args.min_sessions, tuple(args.forms), tuple(args.topics), tuple(args.scope),
    )  # fmt: skip
    scope = getattr(store, "scope", None)
    if scope is not None:
        scope.require("import", "设置专项行动")
        outside = [c for c in campaign.scope_codes if not scope.covers(c)]
        if outside:
            print(f"错误：{'、'.join(outside)} 不在您的管辖范围内", file=sys.stderr)
            return 2
    row = {
        "campaign_id": campaign.campaign_id, "county_code": campaign.scope_codes[0][:6],
        "name": campaign.name, "year": campaign.year, "deadline": campaign.deadline,
        "report_due": campaign.report_due, "min_sessions": campaign.min_sessions,
        "counted_forms": vocab.join_codes(campaign.counted_forms),
        "topics": vocab.join_codes(campaign.topics), "scope_codes": ",".join(campaign.scope_codes),
    }  # fmt: skip
    import pandas as pd

    store.write_layers({"campaigns": pd.DataFrame([row])}, upsert=True)
    saved = f"已保存专项行动 {campaign.campaign_id}"
    print(f"{saved}：截止 {campaign.deadline}，报送 {campaign.report_due}")
    return 0
