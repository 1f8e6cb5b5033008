"""Child register page: masked by default; full values only by an explicit, logged action."""

import streamlit as st

from app import messages as M
from app.register_service import child_register, log_export
from app.views.common import download, pick_place, show_table, store_or_stop
from layers.export import table_bytes

st.title(M.PAGE_CHILDREN)
store = store_or_stop()
if not store.scope.can("children"):
    st.info(M.CHILDREN_NOT_ALLOWED)
    st.stop()
c1, c2 = st.columns(2)
place = pick_place(store, c1, c2, "children")
key = tuple(place.scope)

# Full values stay on only for the place they were revealed for; changing place masks again.
revealed = st.session_state.get("children_revealed") == key
if store.scope.can("reveal"):
    if revealed:
        if st.button(M.CHILDREN_HIDE, key="children_hide"):
            st.session_state.pop("children_revealed", None)
            st.rerun()
    elif st.button(M.CHILDREN_REVEAL, key="children_reveal"):
        st.session_state["children_revealed"] = key
        st.rerun()

# One audit row per view (place, masked or full) and session, not one per rerun; the tables
# live in this browser session only and go with the place change, the hide button or logout.
cache = st.session_state.setdefault("children_tables", {})
if any(k[0] != key or (k[1] and not revealed) for k in cache):
    cache.clear()


def _register(full: bool):
    if (key, full) not in cache:
        cache[(key, full)] = child_register(store, place.scope, place.village_names, full)
    return cache[(key, full)]


table = _register(revealed)

st.caption(M.CHILDREN_REVEALED if revealed else M.CHILDREN_MASKED)
st.metric("儿童", len(table))
show_table(table)

full = revealed and store.scope.can("export_personal")
if revealed and not full:
    st.caption(M.CHILDREN_EXPORT_MASKED)
    export = _register(False)
else:
    export = table
stem = f"儿童名册_{place.scope[0]}"
d1, d2 = st.columns(2)
for col, fmt in ((d1, "xlsx"), (d2, "csv")):
    download(
        col,
        f"下载名册（{'Excel' if fmt == 'xlsx' else 'CSV'}）",
        lambda fmt=fmt: table_bytes(export, fmt, "儿童名册"),
        f"{stem}.{fmt}",
        key=f"children_dl_{fmt}",
        log=lambda fmt=fmt: log_export(store, export, fmt, full, place.scope),
    )
