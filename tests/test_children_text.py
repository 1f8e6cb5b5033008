"""The children's factors of each household (geo/grading.py `_children_text`): written once per
distinct combination of counts and picked per household, they read as if written per household."""

import numpy as np
import pytest

from geo import rowtext as rt
from geo.grading import _children_text

LABELS = ["6岁以下", "6–11岁", "12–15岁", "留守儿童未签委托照护协议", "散居孤儿", "残疾儿童"]


def expected(counts: list[np.ndarray], n: int) -> list[str]:
    return [
        "；".join(f"{label}{int(c[i])}名" for label, c in zip(LABELS, counts, strict=True) if c[i])
        for i in range(n)
    ]


@pytest.mark.parametrize("most", [3, 40_000])  # 40,000: the key is renumbered on the way
def test_each_household_reads_its_own_counts(most):
    rng = np.random.default_rng(most)
    n = 3000
    counts = [
        np.where(rng.random(n) < 0.6, 0, rng.integers(1, most + 1, n)).astype(float) for _ in LABELS
    ]
    counts[0][:5] = [most, 0, 1, most, 0]  # the largest count present, and twice
    group = _children_text(LABELS, np.column_stack(counts))
    assert rt.render([group], n).to_pylist() == expected(counts, n)
    # After another group, a separator only where the household has children's factors.
    before = rt.group(np.ones(n, bool), "距河")
    got = rt.render([before, group], n).to_pylist()
    assert got == [f"距河；{t}" if t else "距河" for t in expected(counts, n)]


def test_no_households_and_no_factors():
    assert rt.render([_children_text(LABELS, np.zeros((0, len(LABELS))))], 0).to_pylist() == []
    zeros = np.zeros((4, len(LABELS)))
    assert rt.render([_children_text(LABELS, zeros)], 4).to_pylist() == [""] * 4


def test_combinations_stay_apart_when_counts_are_huge():
    # Without renumbering, 2**34 * 2**30 wraps around 64 bits onto the same key as 0: the
    # first two households would read alike.
    a = np.array([0.0, 2.0**34, 1.0])
    b = np.array([5.0, 5.0, 2.0**30 - 1])
    got = rt.render([_children_text(LABELS[:2], np.column_stack([a, b]))], 3).to_pylist()
    assert got == ["6–11岁5名", "6岁以下17179869184名；6–11岁5名", "6岁以下1名；6–11岁1073741823名"]
