"""What every page needs: the store (or one clear Chinese message why it cannot be used)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from app import messages as M
from app.services import open_checked_store
from layers import evidence, geofile, tabular
from layers.access import Scope
from layers.errors import StoreError
from layers.export import WORKBOOK
from layers.store import Store, resolve_store_spec
from layers.store.scoped import ScopedStore

log = logging.getLogger("shouhu.app")


@st.cache_resource(show_spinner=False)
def _store(spec: str) -> Store:
    # A store handle holds no personal data, only a path or a connection pool.
    return open_checked_store(spec)


def base_store_or_stop() -> Store:
    """The app's shared store handle (no user scope: only the login page uses it directly)."""
    spec = resolve_store_spec()
    try:
        store = _store(spec)
        store.check()  # the schema may have changed since the handle was cached
        return store
    except StoreError as exc:
        _store.clear()
        log.warning("store unusable: %s", exc.detail or exc.user_msg)
        st.error(f"**{M.STORE_PROBLEM}**\n\n{exc.user_msg}\n\n{M.STORE_HOWTO}")
        st.stop()
        raise  # unreachable: st.stop() ends the run


def _upload_types(*suffixes) -> list[str]:
    return [s.lstrip(".") for group in suffixes for s in group]


# What an uploader lets through: the files its reader reads, and the ones people mistake for
# them (an old .xls ledger, a bare .shp), which the readers refuse with a Chinese message saying
# what to do. Streamlit would refuse those itself with "… files are not allowed.", in English.
TABLE_UPLOAD = _upload_types(tabular.SUFFIXES, tabular.OLD_SHEETS)
WORKBOOK_UPLOAD = _upload_types(WORKBOOK, tabular.OLD_SHEETS)
GIS_UPLOAD = _upload_types(geofile.FORMATS, (".shp", ".xlsx", ".xls"))
PHOTO_UPLOAD = _upload_types(evidence.SUFFIXES)


def photo_uploader(what: str, key: str):
    """The uploader of a record's photos (several at once; checked by `evidence.media_type`
    before anything is saved)."""
    return st.file_uploader(
        f"{what}（jpg、png，可多张）", accept_multiple_files=True, type=PHOTO_UPLOAD, key=key
    )


def read_or_explain(errors: tuple[type[Exception], ...], read, *args):
    """`read(*args)`, or None after showing in Chinese why the file was refused (the readers'
    `errors` say what to do). A refused file must not st.stop() the page: the tabs and
    sections after the uploader would be left empty."""
    try:
        return read(*args)
    except errors as exc:
        st.error(str(exc))
        return None


def show_table(data, **kwargs) -> None:
    """A table as every page shows it: the page's width, no index unless `hide_index=False`,
    and a missing value (a plan date not set, a water body never inspected) as an empty cell:
    Streamlit's own word for it is "None", English that reads like an error."""
    kwargs.setdefault("hide_index", True)
    st.dataframe(data, placeholder="", **kwargs)


def download(where, label: str, make, file_name: str, key: str, log=None, **kwargs) -> None:
    """A download button whose file `make()` writes when it is clicked, not at every rerun;
    `log()` (the audit row) runs right after, once the file exists. The click does not rerun the
    page: after a rerun Streamlit forgets the files the other buttons would have written, so a
    second button clicked during it gave nothing (a CSV, then at once the Excel)."""

    def data():
        content = make()
        if log is not None:
            log()
        return content

    where.download_button(label, data, file_name, key=key, on_click="ignore", **kwargs)


def show_plan(plan, key: str, ok: str = M.TRANSFER_CHECK_OK, failed: str = M.TRANSFER_CHECK_FAILED,
              counts: bool = True) -> bool:  # fmt: skip
    """An import plan's problems (a table, and its CSV) and planned changes, with `ok` or
    `failed` (which may use {n}, the number of errors); True when the plan may be confirmed."""
    if counts:
        done = plan.counts()
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("新增", done["新增"])
        c2.metric("更新", done["更新"])
        c3.metric("不变", done["不变"])
        c4.metric("错误", len(plan.errors))
    if plan.problems:
        problems = plan.problem_table()
        show_table(problems)
        download(st, "下载问题清单（CSV）",
                 lambda: problems.to_csv(index=False).encode("utf-8-sig"),
                 "导入问题.csv", key=f"{key}_report")  # fmt: skip
    if plan.ok:
        st.success(ok)
        changed = plan.actions[plan.actions["操作"] != "不变"]
        if len(changed):
            show_table(changed)
    else:
        st.error(failed.format(n=len(plan.errors)))
    return plan.ok


def held(name: str, key: tuple, compute, fresh: bool = False) -> tuple:
    """(`compute()`, when it ran): its result kept in this browser session while `key` (the
    page's inputs and the `data_revision` of the layers it reads) is unchanged, so a rerun for
    a filter, a tab's number box or a download does not compute again. One result per `name`,
    none kept after an error; cleared with the session at logout. `fresh` forces a new one."""
    slot = f"held_{name}"
    value = st.session_state.get(slot)
    if fresh or value is None or value[0] != key:
        st.session_state.pop(slot, None)
        value = (key, compute(), dt.datetime.now())
        st.session_state[slot] = value
    return value[1], value[2]


def settings_key(*settings) -> str:
    """Settings (risk rules' data, weights) as one comparable text, for a `held` key."""
    return json.dumps(settings, sort_keys=True, default=str)


IDLE_MINUTES = float(os.environ.get("SHOUHU_IDLE_MINUTES", "30"))
# Streamlit's own English words in Chinese, and no unlogged table download (see the file):
# read once per process, not at every rerun of every page.
_STATIC = Path(__file__).parents[1] / "static"
STYLE = f"<style>{(_STATIC / 'shouhu.css').read_text('utf-8')}</style>"
# The words Streamlit draws in English on hover and click, where a stylesheet cannot reach.
UI_WORDS = f"<script>{(_STATIC / 'zh_ui.js').read_text('utf-8')}</script>"


def current_scope() -> Scope | None:
    """The logged-in user's scope, or None (never logged in, logged out, or idle too long)."""
    scope = st.session_state.get("scope")
    if scope is None:
        return None
    now = time.monotonic()
    if now - st.session_state.get("last_active", now) > IDLE_MINUTES * 60:
        log_out(M.LOGIN_IDLE.format(minutes=int(IDLE_MINUTES)))
        return None
    st.session_state["last_active"] = now
    return scope


def log_out(message: str | None = None) -> None:
    for key in list(st.session_state):
        del st.session_state[key]  # nothing of the last user stays in this browser session
    if message:
        st.session_state["login_notice"] = message


def store_or_stop() -> ScopedStore:
    """The store as the logged-in user may see it; stops the page when nobody is logged in."""
    scope = current_scope()
    if scope is None:
        st.warning(M.LOGIN_REQUIRED)
        st.stop()
    return ScopedStore(base_store_or_stop(), scope)


def is_demo(store: Store) -> bool:
    """Demo data uses division codes starting with 99 (no such province)."""
    townships = store.read_layer("townships")
    return bool(len(townships)) and townships["county_code"].str.startswith("99").all()


@dataclass
class Place:
    """What the user picked: a township, optionally one village in it ('' for all); or, where
    a page offers it, every township the user may see (`township` '', `codes` their scope)."""

    township: str
    village: str
    villages: pd.DataFrame  # the villages shown (the picked one, or all in the township)
    village_names: dict[str, str]  # code -> name for the villages that may be picked
    township_names: dict[str, str]  # code -> name for every township the user may see
    codes: tuple[str, ...] = ()  # the user's scope, when every township is picked

    @property
    def whole(self) -> bool:
        """Every township the user may see (a county's, for a county administrator)."""
        return not self.township

    @property
    def scope(self) -> list[str]:
        """The admin codes to filter by: the village if picked, else the township, else the
        user's whole scope."""
        if self.village or self.township:
            return [self.village or self.township]
        return list(self.codes)


def pick_place(store: Store, left, right, key: str, whole: bool = False) -> Place:
    """Township and village pickers in two given columns; widget keys are `{key}_township`
    and `{key}_village`. With `whole`, a user who may see more than one township can also
    pick them all (listed first; the first township stays the default), and then any of
    their villages, named with its township."""
    villages = store.read_own("villages")  # only the places the user may see
    townships = store.read_layer("townships")
    townships = townships[townships["township_code"].isin(set(villages["township_code"]))]
    township_names = dict(zip(townships["township_code"], townships["name"], strict=True))
    names = township_names
    if whole and len(names) > 1:
        names = {"": M.PLACE_ALL_TOWNSHIPS.format(n=len(names)), **names}
    township = left.selectbox(
        "乡镇（街道）", list(names), index=1 if "" in names else 0, format_func=names.get,
        key=f"{key}_township",
    )  # fmt: skip
    if township:
        in_township = villages[villages["township_code"] == township]
        village_names = dict(zip(in_township["village_code"], in_township["name"], strict=True))
    else:
        in_township = villages
        village_names = dict(zip(villages["village_code"],
                                 villages["township_code"].map(township_names)
                                 + villages["name"],
                                 strict=True))  # fmt: skip
    options = {"": M.MAP_ALL_VILLAGES, **village_names}
    village = right.selectbox(
        M.MAP_FILTER_VILLAGE, list(options), format_func=options.get, key=f"{key}_village"
    )
    shown = in_township[in_township["village_code"] == village] if village else in_township
    return Place(township, village, shown, village_names, township_names, tuple(store.scope.codes))
