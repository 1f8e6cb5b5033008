"""The `shouhu` command line. Problems a user can fix exit 2 with one Chinese message."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
import time
from pathlib import Path

import geopandas as gpd

from app import education_cli, patrol_cli, sweep_cli, transfer_cli
from app.cli_args import Parser, code_arg, date_arg, labelled, settings_options
from app.places import PlaceError, resolve_args
from geo.coverage import CampaignError
from geo.crs import CRSError, analysis_crs
from geo.patrol import WeightsError
from geo.proximity import ProximityError
from geo.risk import RulesError
from geo.routing import RoutingError
from geo.sweep import SweepError
from layers.access import ROLES, AccessDenied
from layers.accounts import AccountError
from layers.errors import StoreError
from layers.geofile import GeoFileError
from layers.store import open_store, resolve_store_spec
from layers.tabular import TableError


def _store_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        help="数据位置：.gpkg 文件或 postgresql:// 地址"
        "（默认取 DATABASE_URL，否则 data/demo.gpkg）",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="shouhu", description="守护：儿童防溺水与汛期隐患 GIS")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="生成虚构的示范乡镇数据")
    demo.add_argument("--out", required=True, help=".gpkg 文件路径或 postgresql:// 地址")
    demo.add_argument("--seed", type=int, default=1, help="随机种子（同一种子结果相同）")
    demo.add_argument(
        "--scale",
        choices=["town", "county", "province"],
        default="town",
        help="规模：town（一个乡镇，默认）、county（一个县，约 10 万户）、province（约 100 万户）",
    )
    demo.add_argument(
        "--replace", action="store_true", help="目标已有文件或数据时，用示范数据整个替换它"
    )

    db = sub.add_parser("db", help="数据库结构")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    for name, text in (("upgrade", "创建或升级数据结构"), ("check", "检查数据库是否可用")):
        _store_arg(db_sub.add_parser(name, help=text))

    serve = sub.add_parser("serve", help="启动网页应用")
    _store_arg(serve)
    serve.add_argument("--port", type=int, default=None, help="网页端口（默认 8501）")
    serve.add_argument(
        "--address",
        default=None,
        help="监听地址（默认 127.0.0.1 仅本机；0.0.0.0 让办公室局域网也能访问）",
    )

    layers = sub.add_parser("layers", help="列出各图层记录数")
    _store_arg(layers)

    risk = sub.add_parser("risk", help="计算每户/每名儿童的风险等级并导出清单")
    _store_arg(risk)
    risk.add_argument(
        "--level",
        choices=["household", "child"],
        default="household",
        help="清单：household 每户一行（默认），child 每名儿童一行",
    )
    risk.add_argument(
        "--as-of", type=date_arg, default=None, help="计算日期 YYYY-MM-DD（默认今天）"
    )
    risk.add_argument("--out", required=True, help="输出文件：.csv、.xlsx、.geojson 或 .gpkg")
    risk.add_argument(
        "--village", nargs="+", type=code_arg, default=None, help="只算这些村（社区）或乡镇代码"
    )
    settings_options(risk)

    risk.add_argument(
        "--user",
        default=None,
        help="以该账号的角色和管辖范围计算（口令取 SHOUHU_PASSWORD 或提示输入）",
    )

    user = sub.add_parser("user", help="账号管理：add 新建、passwd 改口令、disable 停用、list 列出")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="新建账号（口令取 SHOUHU_NEW_PASSWORD 或提示输入）")
    add.add_argument("username", help="登录名")
    add.add_argument("--role", required=True, choices=list(ROLES), help=f"角色：{labelled(ROLES)}")
    add.add_argument("--scope", required=True, nargs="+", help="管辖范围：县、乡镇或村的区划代码")
    add.add_argument("--display-name", default=None, help="姓名或称呼（可不填）")
    passwd = user_sub.add_parser("passwd", help="重设口令（同时解除锁定）")
    passwd.add_argument("username", help="登录名")
    disable = user_sub.add_parser("disable", help="停用账号（--enable 恢复）")
    disable.add_argument("username", help="登录名")
    disable.add_argument("--enable", action="store_true", help="恢复已停用的账号")
    listing = user_sub.add_parser("list", help="列出账号")
    first = user_sub.add_parser(
        "first-admin", help="还没有任何账号时，为数据所在的县新建第一个管理员 admin（提示输入口令）"
    )
    for p in (add, passwd, disable, listing, first):
        _store_arg(p)

    app_role = db_sub.add_parser(
        "app-role",
        help="（PostGIS）创建或重设网页应用连接用的登录角色"
        "（口令取 SHOUHU_APP_PASSWORD 或提示输入）",
    )
    app_role.add_argument("name", help="角色名，如 shouhu_web")
    _store_arg(app_role)
    db_crs = db_sub.add_parser("crs", help="查看或设置分析坐标系（米制投影）")
    _store_arg(db_crs)
    db_crs.add_argument(
        "--set", type=int, default=None, metavar="EPSG", help="设为这个 EPSG 代码的投影坐标系"
    )
    transfer_cli.add_parsers(sub, _store_arg)
    education_cli.add_parsers(sub, _store_arg)
    patrol_cli.add_parsers(sub, _store_arg)
    sweep_cli.add_parsers(sub, _store_arg)
    return parser


def load_env_file(path: Path = Path(".env")) -> None:
    """KEY=VALUE lines of an untracked secrets file into the environment (set values win)."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            os.environ.setdefault(key.strip(), value.strip())


def main(argv: list[str] | None = None) -> int:
    load_env_file()
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except StoreError as exc:
        print(f"错误：{exc.user_msg}", file=sys.stderr)
        return 2
    except (
        ProximityError, RulesError, CRSError, AccountError, AccessDenied, CampaignError,
        RoutingError, WeightsError, SweepError, PlaceError,
    ) as exc:  # fmt: skip
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except (TableError, GeoFileError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        return _demo(args)
    if args.command == "risk":
        return _risk(args)
    if args.command == "user":
        return _user(args)
    if args.command in ("coverage", "coverage-report", "sessions", "campaign"):
        return education_cli.run(args, _as_user)
    if args.command in ("sweep", "sweep-campaign"):
        return sweep_cli.run(args, _as_user)
    if args.command == "patrol":
        return patrol_cli.run(args, _as_user)
    if args.command == "import":
        return transfer_cli.run_import(args, _as_user)
    if args.command == "export":
        return transfer_cli.run_export(args, _as_user)
    if args.command == "db":
        with open_store(args.store) as store:
            if args.db_command == "crs":
                store.check()
                if args.set is not None:
                    store.set_analysis_crs(analysis_crs((0, 0, 0, 0), epsg=args.set))
                print(f"分析坐标系：{store.analysis_crs()}")
                return 0
            if args.db_command == "app-role":
                return _app_role(store, args.name)
            if args.db_command == "upgrade":
                store.upgrade()
                store.check()
                print(f"数据结构已是最新：{store.describe()}")
            else:
                store.check()
                print(f"数据库可用：{store.describe()}")
        return 0
    if args.command == "serve":
        from app.launcher import serve
        from app.services import open_checked_store

        spec = resolve_store_spec(args.store)
        open_checked_store(spec).close()
        where = spec if "://" not in spec else "PostGIS 数据库"
        print(f"守护启动中：http://localhost:{args.port or 8501}（数据：{where}）")
        return serve(spec, port=args.port, address=args.address)
    if args.command == "layers":
        from app.services import open_checked_store

        with open_checked_store(args.store) as store:
            from app.services import layer_counts

            print(layer_counts(store).to_string(index=False))
        return 0
    raise AssertionError(args.command)


def _risk(args: argparse.Namespace) -> int:
    from app.risk_service import compute_risk, tier_counts
    from app.services import open_checked_store
    from layers.export import check_target, write_table
    from layers.rules_file import load_rules

    target = check_target(args.out)  # refuse a bad target before any work
    rules = load_rules(args.rules)
    as_of = args.as_of or dt.date.today()
    started = time.perf_counter()
    with open_checked_store(args.store) as store:
        scoped = _as_user(store, args)  # before args.village is read: it resolves the codes
        result = compute_risk(scoped, as_of, rules, village_codes=args.village)
        for warning in result.warnings:
            print(f"提示：{warning}", file=sys.stderr)
        frame = result.households if args.level == "household" else result.children
        if args.level == "child" and target.suffix.lower() in (".geojson", ".gpkg"):
            # Children carry their home's point, never a name or identity number.
            points = result.households.set_index("household_id").geometry
            frame = gpd.GeoDataFrame(
                frame, geometry=frame["household_id"].map(points).to_numpy(), crs=points.crs
            )
        write_table(frame, target, sheet="风险清单")
        store.accounts().audit(
            args.user or "cli", "export", layer=f"risk_{args.level}", rows=len(frame),
            detail={"file": target.name, "as_of": str(as_of), "villages": args.village},
        )  # fmt: skip
    elapsed = time.perf_counter() - started
    counts = tier_counts(result.households).sum()
    print(
        f"已写入 {target}：{len(frame)} 行（{'家庭户' if args.level == 'household' else '儿童'}），"
        f"计算日期 {as_of}，分析坐标系 {result.crs}，用时 {elapsed:.1f} 秒"
    )
    print(
        "家庭户风险分级："
        + "，".join(f"{tier} {int(counts[tier])}" for tier in ("一级", "二级", "三级", "无"))
    )
    return 0


def _app_role(store, name: str) -> int:
    """Create the PostGIS login role the app connects as (run with the owner's DATABASE_URL)."""
    if store.kind != "postgis":
        print("GeoPackage 存储不需要数据库角色：此命令只用于 PostGIS。", file=sys.stderr)
        return 2
    store.check()
    store.create_app_login(name, _password("SHOUHU_APP_PASSWORD", f"{name} 的口令：", True))
    from sqlalchemy.engine import make_url

    url = make_url(store.url)
    where = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"
    print(f"已创建/更新登录角色 {name}（属于 shouhu_app，受行级安全限制）。")
    print(f"网页应用请用：DATABASE_URL=postgresql://{name}:<口令>@{where}")
    return 0


def _password(env: str, prompt: str, confirm: bool = False) -> str:
    """A password from the environment (for scripts) or typed at a prompt, never an argument."""
    value = os.environ.get(env)
    if value:
        return value
    try:
        value = _typed(prompt)
        if confirm and _typed("再输入一次：") != value:
            raise AccountError("两次输入的口令不一致")
    except EOFError:  # no terminal and nothing piped in (a service, a script, nohup)
        raise AccountError(
            f"没有可以输入口令的终端：请在终端窗口里运行此命令，或先设置环境变量 {env}"
        ) from None
    return value


def _typed(prompt: str) -> str:
    """A password typed at the terminal without echo; without a terminal, a line piped in
    (getpass would print an English warning first); EOFError when there is neither."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\r\n")


def _as_user(store, args: argparse.Namespace):
    """The store as the command's --user sees it (the store itself for the operator), with the
    command's place codes (--village, --township, --scope) checked against it, in place: every
    command that opens the store for its work comes through here, so none can forget them."""
    if args.user:
        from layers.store.scoped import ScopedStore

        scope = store.accounts().authenticate(args.user, _password("SHOUHU_PASSWORD", "口令："))
        store = ScopedStore(store, scope)
    resolve_args(store, args)
    return store


def _user(args: argparse.Namespace) -> int:
    from app.services import open_checked_store

    with open_checked_store(args.store) as store:
        accounts = store.accounts()
        name = getattr(args, "username", None)
        if args.user_command == "add":
            accounts.check_new(name, args.role, args.scope)  # before asking for a password
            password = _password("SHOUHU_NEW_PASSWORD", f"为 {name} 设置口令：", confirm=True)
            accounts.add_user(name, args.role, args.scope, password, args.display_name)
            print(f"已新建账号 {name}（{ROLES[args.role]}，管辖范围 {'、'.join(args.scope)}）")
        elif args.user_command == "passwd":
            accounts.require(name)
            accounts.set_password(name, _password("SHOUHU_NEW_PASSWORD", "新口令：", True))
            print(f"已重设 {name} 的口令")
        elif args.user_command == "first-admin":
            if accounts.count_users():
                return 0
            counties = sorted(set(store.read_layer("townships")["county_code"]))
            if not counties:
                raise AccountError("数据中还没有县和乡镇，无法确定管理员的管辖范围")
            print(f"还没有任何账号：现在为县 {'、'.join(counties)} 新建第一个县级管理员 admin。")
            password = _password("SHOUHU_NEW_PASSWORD", "为 admin 设置口令（至少10位）：", True)
            accounts.add_user("admin", "county_admin", counties, password, "县级管理员")
            print("已新建账号 admin。用它登录后即可使用；其他账号用 “shouhu user add” 新建。")
        elif args.user_command == "disable":
            accounts.set_disabled(name, disabled=not args.enable)
            print(f"已{'恢复' if args.enable else '停用'}账号 {name}")
        else:
            users = accounts.users()
            if users.empty:
                print(
                    "还没有账号。请用 “shouhu user add 登录名 --role county_admin "
                    "--scope 县代码” 新建。"
                )
            else:
                cols = ["username", "role_label", "scope_codes", "disabled", "locked_until"]
                print(users[cols].to_string(index=False))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from layers import demo

    if not args.replace:
        _refuse_to_replace(args.out)
    started = time.perf_counter()
    frames = demo.generate(seed=args.seed, scale=args.scale)
    generated = time.perf_counter() - started
    if "://" not in args.out:
        out = Path(args.out)
        if out.suffix.lower() != ".gpkg":
            raise StoreError(f"--out 应为 .gpkg 文件（收到 {out}），或 postgresql:// 数据库地址。")
        fresh = out.with_name(f".{out.name}.new")
        fresh.unlink(missing_ok=True)
        try:
            with open_store(str(fresh)) as store:
                store.upgrade()
                store.write_layers(frames, replace=True)
            fresh.replace(out)  # the old file stays intact until the new one is complete
        finally:
            fresh.unlink(missing_ok=True)
        where = str(out)
    else:
        with open_store(args.out) as store:
            store.upgrade()
            store.write_layers(frames, replace=True)
            where = store.describe()
    total = time.perf_counter() - started
    counts = "，".join(f"{name} {len(frame)}" for name, frame in frames.items())
    print(f"示范数据（{args.scale}，种子 {args.seed}）已写入 {where}：{counts}")
    print(f"生成 {generated:.1f} 秒，共 {total:.1f} 秒")
    return 0


def _refuse_to_replace(out: str) -> None:
    """The demo replaces its target whole: an existing file, or a database holding households
    or children, is only replaced when asked (--replace), so a real store is never lost to a
    mistyped --out."""
    if "://" not in out:
        if Path(out).exists():
            raise StoreError(
                f"文件 {out} 已存在。示范数据会整个替换它（其中的数据和账号都会丢失）："
                "确要替换请加 --replace，否则换一个 --out 文件名。"
            )
        return
    with open_store(out) as store:
        rows = store.person_rows()  # an unreachable server: the usual message
        if rows:
            raise StoreError(
                f"数据库已有 {rows} 条家庭户和儿童记录（{store.describe()}）。"
                "示范数据会整个替换它们：确要替换请加 --replace，否则换一个数据库。"
            )


if __name__ == "__main__":
    raise SystemExit(main())
