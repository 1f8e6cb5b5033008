"""The CLI's parser and argument types shared by its command modules: Chinese messages on bad
values and on argparse's own errors (a missing option, an unknown choice), and help in Chinese,
laid out by terminal columns."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import unicodedata
from pathlib import Path


def date_arg(text: str) -> dt.date:
    """A YYYY-MM-DD date; argparse shows the message on a bad one."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日期“{text}”格式不对，应为 YYYY-MM-DD，如 2026-08-01"
        ) from None


def input_file_arg(text: str) -> Path:
    """A file to read (a ledger, a GIS file, an inspection sheet): refused when missing or a
    folder, before any work."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"“{text}”是文件夹，请指明其中要导入的文件")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"找不到文件“{text}”，请检查路径和文件名")
    return path


def _int_type(low: int, high: int | None, message: str):
    """An argparse type for whole numbers from `low` to `high` (None: no upper bound);
    `message` is formatted with the text given."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(message.format(text=text))
        return value

    return parse


positive_int_arg = _int_type(1, None, "“{text}”不对：应为不小于 1 的整数")  # days, counts
year_arg = _int_type(2000, 2100, "年份“{text}”不对：应为 2000 到 2100 之间的四位数，如 2026")


def _code_type(lengths: tuple[int, ...]):
    """An argparse type for administrative division codes of the given lengths."""

    def parse(text: str) -> str:
        from app.places import code_problem

        problem = code_problem(text.strip(), lengths)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return text.strip()

    return parse


code_arg = _code_type((6, 9, 12))  # a county (6 digits), township (9) or village (12)
township_arg = _code_type((9,))  # a township (乡镇、街道)


def settings_options(parser: argparse.ArgumentParser, weights: bool = False) -> None:
    """--rules (and, with `weights`, --weights): a deployment's settings files for this run,
    instead of the ones the environment names (layers.rules_file), else the built-in ones."""
    from layers.rules_file import RULES_ENV, WEIGHTS_ENV

    parser.add_argument(
        "--rules", default=None, help=f"风险规则 TOML 文件（默认 {RULES_ENV} 或内置规则）"
    )
    if weights:
        parser.add_argument(
            "--weights",
            default=None,
            help=f"巡查优先级权重 TOML 文件（默认 {WEIGHTS_ENV} 或内置权重）",
        )


# argparse's own error messages, in Chinese (a message not listed stays as argparse wrote it).
_MESSAGES = [
    (r"the following arguments are required: (.+)", r"缺少必填参数：\1"),
    (r"argument (\S+): expected one argument", r"参数 \1 后面要写一个值"),
    (r"argument (\S+): expected at least one argument", r"参数 \1 后面至少要写一个值"),
    (r"argument \w*command: invalid choice: (.+?) \(choose from (.+)\)", r"没有命令 \1，可选：\2"),
    (
        r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)",
        r"参数 \1 的值 \2 不对，可选：\3",
    ),
    (r"argument (\S+): invalid int value: (.+)", r"参数 \1 的值 \2 不对，应为整数"),
    (r"argument (\S+): invalid float value: (.+)", r"参数 \1 的值 \2 不对，应为数字"),
    (r"argument (\S+): invalid \S+ value: (.+)", r"参数 \1 的值 \2 不对"),
    (r"unrecognized arguments: (.+)", r"无法识别的参数：\1"),
    (r"argument (\S+): (.+)", r"参数 \1：\2"),
]


# The word shown for an option's value in the help (`--out 文件`), by the option's name, where
# the option does not list its choices; one word for one kind of value across every command.
METAVARS = {
    "out": "文件", "rules": "文件", "weights": "文件", "report": "文件", "sheets": "文件夹",
    "store": "数据位置",
    "village": "代码", "scope": "代码", "township": "代码",
    "as_of": "日期", "date": "日期", "start": "日期", "end": "日期", "deadline": "日期",
    "report_due": "日期",
    "user": "账号", "username": "登录名", "display_name": "姓名", "name": "名称",
    "campaign": "编号", "campaign_id": "编号", "sweep": "编号", "sweep_id": "编号",
    "year": "年份", "teams": "组数", "stops_per_team": "个数", "min_sessions": "场次",
    "days": "天数", "radius_m": "米", "seed": "整数", "port": "端口", "address": "地址",
    "base": "经度,纬度", "what": "名称",
}  # fmt: skip


def labelled(words: dict[str, str]) -> str:
    """Codes with their Chinese names for a help text: 'lecture=集中讲座；home_visit=入户宣讲'
    (the names may hold their own brackets and lists)."""
    return "；".join(f"{code}={label}" for code, label in words.items())


class _Formatter(argparse.HelpFormatter):
    """argparse's help with its own words in Chinese ("用法：" for "usage: "), laid out by
    terminal columns: argparse counts a Chinese character as one column, a terminal shows it
    in two, so lines with Chinese value words or help ran past the terminal's edge."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)

    def _format_usage(self, usage, actions, groups, prefix):
        """The usage line wrapped by columns, its parts ([--out 文件] ...) kept whole."""
        width, self._width = self._width, 1 << 20
        try:
            line = super()._format_usage(usage, actions, groups, prefix).strip("\n")
        finally:
            self._width = width
        width -= self._current_indent
        head = f"{prefix}{self._prog} "
        if _columns(line) <= width or not line.startswith(head):
            return line + "\n\n"
        indent = " " * (_columns(head) if _columns(head) <= 0.75 * width else _columns(prefix))
        lines, current = [], head.rstrip()
        for part in re.findall(r"\(.*?\)+(?=\s|$)|\[.*?\]+(?=\s|$)|\S+", line[len(head) :]):
            if _columns(current) + 1 + _columns(part) > width and current.strip():
                lines.append(current)
                current = indent[:-1]
            current += " " + part
        return "\n".join([*lines, current]) + "\n\n"

    def add_argument(self, action):
        """As argparse does, with the help column set by the options' widths in columns."""
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:
            columns = _columns(self._format_action_invocation(action)) + self._current_indent
            self._action_max_length = max(self._action_max_length, columns)

    def _format_action(self, action):
        """As argparse lays it out, with the help text moved back into its column after an
        option whose value word is in Chinese (or onto the next line, where it no longer fits
        beside it)."""
        text = super()._format_action(action)
        invocation = self._format_action_invocation(action)
        wide = _columns(invocation) - len(invocation)
        first, newline, rest = text.partition("\n")
        end = first.find(invocation) + len(invocation)
        if not wide or end >= len(first):
            return text
        gap = len(first[end:]) - len(first[end:].lstrip(" "))
        if gap - wide >= 2:
            return first[:end] + " " * (gap - wide) + first[end + gap :] + newline + rest
        column = end + gap
        return first[:end] + "\n" + " " * column + first[column:] + newline + rest

    def _split_lines(self, text, width):
        """Help text in lines of at most `width` terminal columns, broken at spaces or
        between Chinese characters (`_PIECE`)."""
        lines, line, used = [], "", 0
        for piece in re.findall(_PIECE, " ".join(text.split())):
            size = _columns(piece.rstrip())
            if line and used + size > width:
                lines.append(line.rstrip())
                line, used = "", 0
            line += piece
            used += _columns(piece)
        return [*lines, line.rstrip()] if line else lines


# A piece a help line may break after: a word of Latin letters, digits and signs, or one Chinese
# character; with the opening punctuation before it, which must not end a line, and the closing
# punctuation after it, which must not begin one.
_PIECE = r"[（「『【《“‘]*(?:[^\s\u2e80-\uffef]+|\S)[）」』】》，。、；：！？”’]*\s*"


def _columns(text: str) -> int:
    """Terminal columns `text` takes: two for a wide (Chinese) character, one for others."""
    return len(text) + sum(unicodedata.east_asian_width(c) in "WF" for c in text)


class Parser(argparse.ArgumentParser):
    """argparse in Chinese, subcommands' parsers too: its errors with a pointer to -h, the
    headings and -h of its help, and a Chinese word for each option's value (`METAVARS`)."""

    def __init__(self, *args, **kwargs):
        kwargs["add_help"] = False
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        self.add_argument(
            "-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出"
        )

    def add_argument(self, *args, **kwargs):
        action = super().add_argument(*args, **kwargs)
        if action.metavar is None and action.choices is None and action.nargs != 0:
            action.metavar = METAVARS.get(action.dest)
        return action

    def error(self, message: str):
        for pattern, chinese in _MESSAGES:
            if re.fullmatch(pattern, message, flags=re.S):
                message = re.sub(pattern, chinese, message, flags=re.S)
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{message}（用 {self.prog} -h 查看用法）\n")
