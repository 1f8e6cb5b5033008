"""Errors that carry a message for the user (Chinese, no secrets) apart from the log detail."""

from __future__ import annotations

import re


class StoreError(Exception):
    """A store cannot be used as asked. `user_msg` says what is wrong and how to fix it."""

    def __init__(self, user_msg: str, detail: str = ""):
        super().__init__(user_msg)
        self.user_msg = user_msg
        self.detail = detail


class SchemaBehindError(StoreError):
    """The store's schema is older than this version of Shouhu expects."""


_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")


def mask_url(url: str) -> str:
    """Hide the password of a database URL: postgresql://u:secret@h/db -> postgresql://u:***@h/db."""
    return _URL_PASSWORD.sub(r"\1***\3", url)


def scrub(text: str, *secrets: str | None) -> str:
    """Remove passwords (in URLs and the given secret strings) from a message before showing it."""
    text = mask_url(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
