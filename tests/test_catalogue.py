"""The layer catalogue and the small domain rules it relies on."""

import pandas as pd
import pytest

from geo import idcard
from geo.equipment import completeness, completeness_series, missing_items
from geo.vocab import split_codes
from layers.catalogue import ADMIN_CODES, LAYERS, check_admin_codes, get_layer
from layers.frames import conform, empty_frame

REQUIRED_LAYERS = {
    "townships",
    "villages",
    "directors",
    "households",
    "children",
    "water_bodies",
    "slopes",
    "facilities",
    "inspections",
    "education_sessions",
    "patrols",
}


def test_catalogue_covers_the_data_model():
    assert REQUIRED_LAYERS <= set(LAYERS)
    assert LAYERS["water_bodies"].geometry == "Geometry"  # rivers are lines, ponds polygons
    assert LAYERS["households"].geometry == "Point"
    assert LAYERS["villages"].geometry == "MultiPolygon"
    assert LAYERS["children"].geometry is None
    statuses = {f"{i}_status" for i in ("sign", "buoy", "rope", "pole", "fence")}
    assert statuses <= set(LAYERS["water_bodies"].column_names)
    assert statuses <= set(LAYERS["inspections"].column_names)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_is_well_formed(name):
    layer = LAYERS[name]
    assert layer.key in layer.column_names
    assert len(set(layer.column_names)) == len(layer.column_names)
    # Every fact table carries its admin codes: they scope access.
    assert set(layer.admin_codes) <= set(layer.column_names)
    assert layer.admin_codes[0] == "county_code"
    # Personal columns only on layers flagged sensitive, and sensitive layers have some.
    assert bool(layer.personal_columns) == layer.sensitive
    for col in layer.columns:
        assert col.kind in ("text", "int", "float", "bool", "date", "datetime")
        assert col.label and not col.label.isascii()  # a Chinese label for every column


def test_children_identity_number_and_name_are_personal():
    children = LAYERS["children"]
    assert {"name", "id_number", "guardian_phone"} <= set(children.personal_columns)


def test_get_layer_names_the_known_layers():
    with pytest.raises(KeyError, match="known: townships"):
        get_layer("rivers")


def test_conform_gives_canonical_dtypes():
    layer = LAYERS["education_sessions"]
    raw = pd.DataFrame({"session_id": [1], "session_date": ["2026-08-01"], "evidence_count": ["3"]})
    out = conform(layer, raw)
    assert list(out.columns) == layer.column_names
    assert out.loc[0, "session_id"] == "1"
    assert out["session_date"].dtype == "datetime64[ms]"
    assert out.loc[0, "session_date"] == pd.Timestamp("2026-08-01")
    assert out["evidence_count"].dtype == "Int64"
    assert out["form"].isna().all()


def test_empty_frame_is_a_geodataframe_for_spatial_layers():
    assert empty_frame(LAYERS["households"]).crs.to_epsg() == 4326
    assert len(empty_frame(LAYERS["children"])) == 0


def test_admin_code_check_finds_bad_lengths_and_wrong_parents():
    layer = LAYERS["directors"]
    frame = pd.DataFrame(
        {
            "county_code": ["990101", "990101"],
            "township_code": ["990101100", "99010110"],
            "village_code": ["990101100200", "990102100200"],
        }
    )
    problems = check_admin_codes(layer, frame)
    assert any("9位数字" in p for p in problems)
    assert any("不属于其上级" in p for p in problems)
    assert ADMIN_CODES == ("county_code", "township_code", "village_code")


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({"sign": "present", "buoy": "present", "rope": "present", "pole": "present"}, "complete"),
        (
            {"sign": "present", "buoy": "missing", "rope": "present", "pole": "present"},
            "incomplete",
        ),
        ({"sign": "damaged", "buoy": "unknown", "rope": None, "pole": "present"}, "incomplete"),
        ({"sign": "present", "buoy": "present", "rope": "unknown", "pole": "present"}, "unknown"),
        ({}, "unknown"),
    ],
)
def test_equipment_completeness(statuses, expected):
    assert completeness(statuses) == expected
    frame = pd.DataFrame(
        [{f"{k}_status": statuses.get(k) for k in ("sign", "buoy", "rope", "pole")}]
    )
    assert completeness_series(frame).iloc[0] == expected


def test_missing_items_lists_missing_and_damaged():
    assert missing_items({"sign": "missing", "buoy": "present", "fence": "damaged"}) == [
        "sign",
        "fence",
    ]


def test_identity_number_check_digit():
    # The worked example of GB 11643-1999.
    assert idcard.check_digit("11010519491231002") == "X"
    assert idcard.is_valid("11010519491231002X")
    assert idcard.is_valid("11010519491231002x")
    assert not idcard.is_valid("110105194912310021")
    assert not idcard.is_valid("5.00115E+17")
    assert idcard.sex_of("11010519491231002X") == "F"


def test_split_codes():
    assert split_codes("a;b") == ["a", "b"]
    assert split_codes(None) == [] and split_codes("") == []
