"""Argument types shared by the CLI's command modules (Chinese messages on bad values)."""

from __future__ import annotations

import argparse
import datetime as dt


def date_arg(text: str) -> dt.date:
    """A YYYY-MM-DD date; argparse shows the message on a bad one."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日期“{text}”格式不对，应为 YYYY-MM-DD，如 2026-08-01"
        ) from None
