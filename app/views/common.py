"""What every page needs: the store (or one clear Chinese message why it cannot be used)."""

from __future__ import annotations

import logging

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
