"""What every page needs: the store (or one clear Chinese message why it cannot be used)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from app import messages as M
from app.services import open_checked_store
from layers.errors import StoreError
from layers.store import Store, resolve_store_spec

log = logging.getLogger("shouhu.app")


@st.cache_resource(show_spinner=False)
def _store(spec: str) -> Store:
    # A store handle holds no personal data, only a path or a connection pool.
    return open_checked_store(spec)


def store_or_stop() -> Store:
    """The app's store; on any problem show one Chinese message and stop the page."""
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


def is_demo(store: Store) -> bool:
    """Demo data uses division codes starting with 99 (no such province)."""
    townships = store.read_layer("townships")
    return bool(len(townships)) and townships["county_code"].str.startswith("99").all()


@dataclass
class Place:
    """What the user picked: a township, optionally one village in it ('' for all)."""

    township: str
    village: str
    villages: pd.DataFrame  # the villages shown (the picked one, or all in the township)
    village_names: dict[str, str]  # code -> name for the township's villages

    @property
    def scope(self) -> list[str]:
        """The admin code to filter by: the village if picked, else the township."""
        return [self.village or self.township]


def pick_place(store: Store, left, right, key: str) -> Place:
    """Township and village pickers in two given columns; widget keys are `{key}_township`
    and `{key}_village`."""
    townships = store.read_layer("townships")
    villages = store.read_layer("villages")
    names = dict(zip(townships["township_code"], townships["name"], strict=True))
    township = left.selectbox(
        "乡镇（街道）", list(names), format_func=names.get, key=f"{key}_township"
    )
    in_township = villages[villages["township_code"] == township]
    village_names = dict(zip(in_township["village_code"], in_township["name"], strict=True))
    options = {"": M.MAP_ALL_VILLAGES, **village_names}
    village = right.selectbox(
        M.MAP_FILTER_VILLAGE, list(options), format_func=options.get, key=f"{key}_village"
    )
    shown = in_township[in_township["village_code"] == village] if village else in_township
    return Place(township, village, shown, village_names)
