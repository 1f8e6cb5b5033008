"""Row text (geo/rowtext.py): the compiled writer gives what Python string joining gives."""

import numpy as np
import pyarrow as pa
import pytest

from geo import rowtext as rt


def python_render(groups: list[list], sep: str = "；") -> list[str]:
    """The reference: per row, the present groups' tokens joined, groups joined by sep."""
    return [sep.join("".join(parts) for parts in row if parts is not None) for row in groups]


def test_groups_tokens_and_separators():
    names = pa.array(["“王家塘”", None, "", "河"])
    water = rt.group(
        [True, False, True, True, False],
        "距",
        rt.Pick(names, np.array([0, 1, 2, -1, 3])),
        rt.Number(np.array([35.4, 1.0, 7.5, np.nan, 2.0])),
        "米",
    )
    lack = rt.group(
        [True, True, False, True, False],
        "缺",
        rt.Pick(pa.array(["救生圈", "警示牌"]), np.array([1, 0, 0, -1, 0])),
    )
    got = rt.render([water, lack], 5).to_pylist()
    assert got == python_render(
        [
            ["距“王家塘”35米", "缺警示牌"],
            [None, "缺救生圈"],
            ["距8米", None],  # 7.5 rounds half to even, like NumPy; '' and null names write nothing
            ["距米", "缺"],
            [None, None],
        ]
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (0.5, "0"),
        (1.5, "2"),
        (2.5, "2"),
        (-7.6, "-8"),
        (-0.4, "0"),
        (123456789.0, "123456789"),
        (9.0, "9"),
        (10.0, "10"),
    ],
)
def test_numbers_round_like_numpy(value, text):
    out = rt.render([rt.group([True], rt.Number(np.array([value])))], 1).to_pylist()
    assert out == [text] == [str(int(np.round(value)))]


def test_take_moves_groups_to_other_rows_and_leaves_the_rest_out():
    g = rt.group(
        [True, False],
        "户",
        rt.Number(np.array([1.0, 2.0])),
        rt.Pick(pa.array(["甲", "乙"]), np.array([0, 1])),
    )
    child = rt.group([True, True, True], "童")
    got = rt.render([g.take(np.array([1, 0, -1])), child], 3).to_pylist()
    assert got == ["童", "户1甲；童", "童"]


def test_random_rows_match_python_joining():
    rng = np.random.default_rng(7)
    n = 2000
    table = pa.array(["", None, "a", "长名字", "“引号”"] + [f"名{i}" for i in range(50)])
    groups, reference = [], [[] for _ in range(n)]
    for k in range(6):
        mask = rng.random(n) < 0.5
        index = rng.integers(-1, len(table), n)
        values = np.where(rng.random(n) < 0.1, np.nan, rng.normal(0, 1000, n))
        groups.append(rt.group(mask, f"段{k}", rt.Pick(table, index), rt.Number(values), "米"))
        names = table.to_pylist()
        for i in range(n):
            if not mask[i]:
                reference[i].append(None)
                continue
            name = names[index[i]] if index[i] >= 0 else None
            number = "" if np.isnan(values[i]) else str(int(np.round(values[i])))
            reference[i].append([f"段{k}", name or "", number, "米"])
    assert rt.render(groups, n).to_pylist() == python_render(reference)


def test_no_rows_and_no_groups():
    assert rt.render([], 3).to_pylist() == ["", "", ""]
    assert rt.render([rt.group(np.zeros(0, bool), "x")], 0).to_pylist() == []


def test_a_small_table_is_written_on_one_thread_and_the_setting_restored():
    import numba as nb

    before = nb.get_num_threads()
    mask = np.array([True, False, True])
    got = rt.render([rt.group(mask, "第", rt.Number(np.array([1.0, 2.0, 3.0])), "项")], 3)
    assert got.to_pylist() == ["第1项", "", "第3项"]
    assert nb.get_num_threads() == before
