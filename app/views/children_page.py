"""Child register page: masked by default; full values only by an explicit, logged action."""

import streamlit as st

from app import messages as M
from app.register_service import (
    EDIT_FIELDS,
    apply_child_edit,
    child_register,
    log_export,
    open_child,
    plan_child_edit,
)
from app.views.common import download, pick_place, show_plan, show_table, store_or_stop
from geo import vocab
from layers import ledger
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


# -- one child's record, corrected through the ledger's own checks -------------------------------

# Fields chosen from a list (the ledger's words); '' keeps the stored value.
CHOICES = {
    "sex": list(vocab.SEXES.values()),
    "registration": list(vocab.REGISTRATION_TYPES.values()),
    "guardian_capable": ["是", "否"],
    "caregiver_agreement_signed": ["是", "否"],
    "father_situation": list(vocab.PARENT_SITUATIONS.values()),
    "mother_situation": list(vocab.PARENT_SITUATIONS.values()),
}
MANY = {"categories": vocab.CHILD_CATEGORIES, "reasons": vocab.DIFFICULTY_REASONS}


def _edit_form(child_id: str, current: dict) -> dict:
    """The form's fields as ledger cells (text), keyed by field name."""
    values = {}
    columns = st.columns(3)
    for i, name in enumerate(EDIT_FIELDS):
        col, label, key = columns[i % 3], ledger.BY_NAME[name].header, f"edit_{child_id}_{name}"
        now = "" if current.get(name) is None else str(current[name])
        if name == "id_number":
            col.text_input(label, now, disabled=True, key=key)
            values[name] = now
        elif name == "village_code":
            codes = list(place.village_names)
            at = codes.index(now) if now in codes else 0
            values[name] = col.selectbox(ledger.BY_NAME["village"].header, codes, at,
                                         place.village_names.get, key=key)  # fmt: skip
        elif name in CHOICES:
            options = ["", *CHOICES[name]] + ([now] if now not in CHOICES[name] and now else [])
            values[name] = col.selectbox(label, options, index=options.index(now), key=key,
                                         format_func=lambda v: v or "（未填）")  # fmt: skip
        elif name in MANY:
            labels = list(MANY[name].values())
            chosen = [v for v in now.split("、") if v in labels]
            values[name] = "、".join(col.multiselect(label, labels, chosen, key=key,
                                                    placeholder="（未填）"))  # fmt: skip
        else:
            values[name] = col.text_input(label, now, key=key)
    return values


if store.scope.can("import") and store.scope.can("reveal"):
    st.subheader(M.CHILD_EDIT)
    st.caption(M.CHILD_EDIT_HELP)
    if "child_edit_done" in st.session_state:
        st.success(st.session_state.pop("child_edit_done"))
    listed = _register(False)  # masked: the names in the list are not revealed
    shown = listed["姓名"] + " · " + listed["村（社区）"]
    names = dict(zip(listed["儿童编号"], shown, strict=True))
    child_id = st.selectbox(M.CHILD_EDIT_PICK, list(names), index=None,
                            format_func=lambda c: f"{names[c]} · {c}",
                            placeholder=M.CHILD_EDIT_PICK, key="child_edit_pick")  # fmt: skip
    opened = st.session_state.get("child_edit_open")
    if child_id is not None and (opened is None or opened[0] != (key, child_id)):
        # One audit row each time a child is opened for editing, not one per rerun.
        opened = ((key, child_id), open_child(store, child_id, place.scope))
        st.session_state["child_edit_open"] = opened
        st.session_state.pop("child_edit_plan", None)
    if child_id is not None and opened[1] is None:
        st.warning(M.CHILD_EDIT_GONE)
    elif child_id is not None:
        with st.form("child_edit_form"):
            values = _edit_form(child_id, opened[1])
            checked = st.form_submit_button("检查（不写入）")
        if checked:
            plan = plan_child_edit(store, child_id, values)
            st.session_state["child_edit_plan"] = (child_id, plan)
        held_plan = st.session_state.get("child_edit_plan")
        if held_plan is not None and held_plan[0] == child_id:
            plan = held_plan[1]
            if plan.ok and plan.writes_nothing:
                st.info(M.CHILD_EDIT_SAME)
            elif show_plan(plan, "child_edit", M.CHILD_EDIT_OK, M.CHILD_EDIT_FAILED, counts=False):
                if st.button("确认修改", type="primary", key="child_edit_apply"):
                    changes = apply_child_edit(store, plan)
                    for name in ("child_edit_plan", "child_edit_open", "children_tables"):
                        st.session_state.pop(name, None)
                    st.session_state["child_edit_done"] = M.CHILD_EDIT_DONE.format(
                        child=names[child_id], changes=changes
                    )
                    st.rerun()
