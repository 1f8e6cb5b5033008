"""Correcting one child's record on the 儿童名册 page: opened in full (logged), checked by the
ledger's own rules, written only on 确认修改 (all or nothing, logged)."""

import datetime as dt

import pandas as pd
import pytest

from app.register_service import open_child, plan_child_edit
from geo import vocab
from layers.access import Scope
from layers.store.gpkg import GeoPackageStore
from layers.store.scoped import ScopedStore
from tests.conftest import app_as


@pytest.fixture
def demo(store, demo_frames):
    """The demo township on each backend, for tests that write to it."""
    store.write_layers(demo_frames, replace=True)
    return store


def _children_of(store, village: str) -> pd.DataFrame:
    """Children of a village with an identity number, under 17 (still children next year)."""
    children = store.read_layer("children", village_codes=[village])
    age_days = (pd.Timestamp(dt.date.today()) - children["birth_date"]).dt.days
    return children[(age_days < 17 * 365) & children["id_number"].notna()]


def test_a_record_opened_and_checked_unchanged_changes_nothing(demo, demo_frames):
    """The form's fields are the ledger's words for the stored values: checked back as they
    are, every child of a village is 不变 with no problem (or the record would drift)."""
    village = sorted(demo_frames["villages"]["village_code"])[0]
    store = ScopedStore(demo, Scope("d", "village_director", (village,)))
    children = _children_of(demo, village)
    assert len(children) > 10
    for child_id in children["child_id"]:
        plan = plan_child_edit(store, child_id, open_child(store, child_id, [village]))
        assert plan.problems == [] and plan.counts() == {"新增": 0, "更新": 0, "不变": 1}
    opened = store.accounts().audit_rows(username="d", action="reveal")
    assert sorted(opened["record_id"]) == sorted(children["child_id"])
    assert set(opened["rows"]) == {1}


def test_another_childs_number_is_refused_not_added(demo, demo_frames):
    village = sorted(demo_frames["villages"]["village_code"])[0]
    store = ScopedStore(demo, Scope("d", "village_director", (village,)))
    first, second = _children_of(demo, village)["child_id"].iloc[:2]
    plan = plan_child_edit(store, first, open_child(store, second, [village]))  # its number
    assert not plan.ok and [p.problem for p in plan.errors] == ["按身份证号找到的不是这名儿童"]


def test_a_director_corrects_a_childs_record_in_the_app(monkeypatch, fresh_demo_gpkg, demo_frames):
    store_path = fresh_demo_gpkg
    village = sorted(demo_frames["villages"]["village_code"])[0]
    children = _children_of(GeoPackageStore(store_path), village)
    unsigned = children["caregiver_agreement_signed"] == False  # noqa: E712
    child = children[unsigned & children["categories"].notna()].iloc[0]
    child_id = child["child_id"]
    at = app_as(monkeypatch, store_path, Scope("d_edit", "village_director", (village,)))
    at.switch_page("views/children_page.py").run()
    assert not at.exception, at.exception
    pick = at.selectbox(key="child_edit_pick")
    assert child["name"] not in " ".join(pick.options)  # the list is masked
    pick.set_value(child_id).run()
    assert not at.exception, at.exception
    accounts = GeoPackageStore(store_path).accounts()
    opened = accounts.audit_rows(username="d_edit", action="reveal")
    assert list(opened["record_id"]) == [child_id]
    assert at.text_input(key=f"edit_{child_id}_name").value == child["name"]
    assert at.text_input(key=f"edit_{child_id}_id_number").disabled
    categories = at.multiselect(key=f"edit_{child_id}_categories").value
    assert "、".join(categories) == vocab.labels_of(child["categories"], vocab.CHILD_CATEGORIES)
    at.run()  # a rerun does not open it again
    assert len(accounts.audit_rows(username="d_edit", action="reveal")) == 1

    # A malformed phone: the ledger's message, nothing written.
    at.text_input(key=f"edit_{child_id}_guardian_phone").set_value("12ab")
    at.selectbox(key=f"edit_{child_id}_caregiver_agreement_signed").set_value("是")
    at.button(key="FormSubmitter:child_edit_form-检查（不写入）").click().run()
    assert not at.exception, at.exception
    assert "不能保存" in at.error[0].value
    assert "电话“12ab”格式不对" in " ".join(at.dataframe[-1].value["问题"])
    assert not [b for b in at.button if b.key == "child_edit_apply"]

    # Corrected: checked (still nothing written), then written on 确认修改.
    at.text_input(key=f"edit_{child_id}_guardian_phone").set_value("13800001111")
    at.button(key="FormSubmitter:child_edit_form-检查（不写入）").click().run()
    assert not at.exception and not at.error, at.error
    changes = at.dataframe[-1].value["变化"].iloc[0]
    assert "监护人电话" in changes and "委托照护协议" in changes
    before = GeoPackageStore(store_path).read_layer("children").set_index("child_id")
    assert before.loc[child_id, "guardian_phone"] == child["guardian_phone"]
    at.button(key="child_edit_apply").click().run()
    assert not at.exception, at.exception
    after = GeoPackageStore(store_path).read_layer("children").set_index("child_id")
    assert after.loc[child_id, "guardian_phone"] == "13800001111"
    assert bool(after.loc[child_id, "caregiver_agreement_signed"]) is True
    others = after.index != child_id
    pd.testing.assert_frame_equal(after[others], before[others])  # the others untouched
    assert "已保存" in at.success[0].value and child["name"] not in at.success[0].value
    written = accounts.audit_rows(username="d_edit", action="write_record")
    assert list(written["record_id"]) == [child_id]
