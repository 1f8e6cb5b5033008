"""`shouhu … -h` speaks Chinese: every command and option explains itself with a Chinese word
for its value, argparse's own words are translated, and the help fits the terminal and keeps
its column (a Chinese character takes two columns there, and argparse counts one)."""

import argparse
import re
import unicodedata

import pytest

from app.cli import build_parser

CJK = re.compile(r"[\u4e00-\u9fff]")


def _parsers(parser, path=("shouhu",)):
    yield " ".join(path), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


PARSERS = dict(_parsers(build_parser()))


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_every_command_and_option_is_explained_in_chinese():
    unexplained = []
    for name, parser in PARSERS.items():
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                unexplained += [
                    f"{name} {sub.dest}"
                    for sub in action._choices_actions
                    if not CJK.search(sub.help or "")
                ]
            elif not CJK.search(action.help or ""):
                unexplained.append(f"{name} {action.dest}")
            elif action.nargs != 0 and action.choices is None and action.metavar != "EPSG":
                if not CJK.search(str(action.metavar)):  # `--out OUT` where `--out 文件` is meant
                    unexplained.append(f"{name} {action.dest}: {action.metavar}")
    assert len(PARSERS) > 30 and unexplained == []


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_help_is_chinese_fits_the_terminal_and_keeps_its_column(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    for name, parser in PARSERS.items():
        text = parser.format_help()
        assert text.startswith(f"用法：{name}"), name
        for english in ("usage:", "options:", "positional arguments:", "show this help"):
            assert english not in text, (name, english)
        lines = text.splitlines()
        # Lines argparse cannot break ({demo,db,...}) may be wider; none with Chinese in it.
        assert [line for line in lines if CJK.search(line) and _columns(line) > columns] == []
        # Every help text starts in one column: after an option and its value word, or on
        # the lines that carry it on.
        starts = set()
        for line in lines[lines.index("") :]:  # after the usage lines
            if not line.startswith("  ") or line.startswith("  {"):
                continue
            gap = re.search(r"\S(\s{2,})\S", line)
            if gap:
                starts.add(_columns(line[: gap.end(1)]))
            elif line.startswith(" " * 8):
                starts.add(len(line) - len(line.lstrip(" ")))
        assert len(starts) == 1, (name, columns, starts)
