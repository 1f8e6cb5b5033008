"""Administrative codes on the command line: a malformed code, a code that names no village, a
code outside the user's places or mixed levels get a Chinese answer before any work, and
nothing is written (no empty list, no campaign with a scope nobody can match)."""

import pandas as pd
import pytest

from app.cli import main
from app.places import PlaceError, resolve
from layers.store.gpkg import GeoPackageStore
from tests.test_risk_cli import store_arg as _spec

PASSWORD = "correct-horse-42"


def _codes(demo_frames):
    villages = demo_frames["villages"].sort_values("village_code")
    return list(villages["village_code"]), villages["township_code"].iloc[0]


@pytest.mark.parametrize(
    "args",
    [
        ["risk", "--village", "12", "--out", "{tmp}/r.csv"],
        ["risk", "--village", "--out", "{tmp}/r.csv"],
        ["export", "gpkg", "--village", "99010110020", "--out", "{tmp}/r.gpkg"],
        ["coverage-report", "--township", "990101100200", "--out", "{tmp}/r.xlsx"],
        ["campaign", "add", "K9", "--name", "x", "--year", "2026", "--scope", "9901011"],
    ],
)
def test_a_malformed_code_is_refused_by_the_parser_in_chinese(tmp_path, capsys, args):
    with pytest.raises(SystemExit) as exit_:
        main([a.format(tmp=tmp_path) for a in args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "不对：应为" in err or "后面至少要写一个值" in err
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_code_is_named_and_nothing_is_written(demo_store, tmp_path, capsys):
    spec = ["--store", _spec(demo_store)]
    for args in (
        ["risk", "--village", "990101100999", "--out", str(tmp_path / "r.csv")],
        ["coverage", "--village", "990101999", "--out", str(tmp_path / "c.csv")],
        ["patrol", "priority", "--village", "990102", "--out", str(tmp_path / "p.csv")],
        ["sweep", "--village", "990101100999", "--out", str(tmp_path / "s.csv")],
        ["export", "geojson", "villages", "--village", "990101999", "--out", str(tmp_path / "v")],
    ):
        assert main([*args, *spec]) == 2, args
        err = capsys.readouterr().err
        assert "数据中没有这些区划代码" in err and args[args.index("--village") + 1] in err
    assert list(tmp_path.iterdir()) == []


def test_campaign_and_sweep_scopes_must_name_townships_in_the_data(store, demo_frames, capsys):
    store.write_layers({k: demo_frames[k] for k in ("townships", "villages")}, replace=True)
    _, township = _codes(demo_frames)
    spec = ["--store", _spec(store)]
    campaign = ["campaign", "add", "K9", "--name", "暑期", "--year", "2026", *spec]
    sweep = ["sweep-campaign", "add", "X9", "--name", "汛期", "--start", "2026-06-01",
             "--end", "2026-06-30", *spec]  # fmt: skip
    for args in (campaign, sweep):
        assert main([*args, "--scope", township, "990101999"]) == 2
        assert "990101999（乡镇级）" in capsys.readouterr().err
    assert store.count("campaigns") == 0 and store.count("sweeps") == 0
    assert main([*campaign, "--scope", township]) == 0
    assert main([*sweep, "--scope", township]) == 0
    assert store.count("campaigns") == 1 and store.count("sweeps") == 1


def test_codes_of_mixed_levels_select_the_villages_they_name(demo_store, demo_frames, tmp_path):
    villages, township = _codes(demo_frames)
    assert resolve(demo_store, None) is None
    assert resolve(demo_store, [villages[0], villages[0]]) == [villages[0]]
    assert resolve(demo_store, [township, villages[0]]) == villages  # the township holds all
    assert resolve(demo_store, [township]) == [township]
    with pytest.raises(PlaceError, match="应为 9 位数字"):
        resolve(demo_store, [villages[0]], (9,))

    out = tmp_path / "mixed.csv"
    args = ["risk", "--store", _spec(demo_store), "--as-of", "2026-08-01", "--out", str(out)]
    assert main([*args, "--village", villages[1], township[:6]]) == 0
    rows = pd.read_csv(out, dtype=str)
    assert len(rows) == len(demo_frames["households"])


def test_a_code_outside_the_users_places_is_refused(fresh_demo_gpkg, demo_frames, tmp_path,
                                                    capsys, monkeypatch):  # fmt: skip
    villages, _ = _codes(demo_frames)
    store = GeoPackageStore(fresh_demo_gpkg)
    store.accounts().add_user("d1", "village_director", [villages[0]], PASSWORD)
    monkeypatch.setenv("SHOUHU_PASSWORD", PASSWORD)
    out = tmp_path / "r.csv"
    args = ["risk", "--user", "d1", "--store", str(fresh_demo_gpkg), "--out", str(out)]
    assert main([*args, "--village", villages[1]]) == 2
    assert f"{villages[1]} 不在您的管辖范围内" in capsys.readouterr().err
    assert not out.exists()
    assert main([*args, "--village", villages[0][:9]]) == 0  # the township around it: overlaps
    assert set(pd.read_csv(out, dtype=str)["village_code"]) == {villages[0]}
