"""The CLI's parser and argument types shared by its command modules: Chinese messages on bad
values and on argparse's own errors (a missing option, an unknown choice)."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
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


class Parser(argparse.ArgumentParser):
    """argparse with its errors in Chinese, and a pointer to -h (subcommands' parsers too)."""

    def error(self, message: str):
        for pattern, chinese in _MESSAGES:
            if re.fullmatch(pattern, message, flags=re.S):
                message = re.sub(pattern, chinese, message, flags=re.S)
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{message}（用 {self.prog} -h 查看用法）\n")
