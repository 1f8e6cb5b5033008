"""The children's compiled passes against plain NumPy on hand-built and random cases."""

import numpy as np

from geo.grading_kernels import flag_points, household_tally


def test_household_tally_by_hand():
    home = np.array([-1, 0, 0, 2, 0])  # the first child lives in no listed household
    masks = np.array([[True, True, False, True, True], [False, False, True, True, False]])
    points = np.array([50.0, 10.0, 30.0, 5.0, 20.0])
    total, counts, most = household_tally(home, masks, points, 4)
    assert total.tolist() == [3, 0, 1, 0]
    assert counts.T.tolist() == [[2, 0, 1, 0], [1, 0, 1, 0]]
    assert most[0] == 30.0 and most[2] == 5.0
    assert np.isnan(most[1]) and np.isnan(most[3])  # no child: no vulnerability


def test_against_numpy_on_random_children():
    rng = np.random.default_rng(7)
    m, n, k = 5000, 1200, 9
    home = rng.integers(-1, n, m)
    masks = rng.random((k, m)) < 0.3
    pts = rng.integers(0, 25, k).astype(float)
    points = flag_points(masks, pts)
    expected = np.zeros(m)
    for f in range(k):
        expected += np.where(masks[f], pts[f], 0)
    assert np.array_equal(points, expected)
    total, counts, most = household_tally(home, masks, points, n)
    inside = home >= 0
    assert np.array_equal(total, np.bincount(home[inside], minlength=n))
    for f in range(k):
        assert np.array_equal(counts[:, f], np.bincount(home[inside], weights=masks[f][inside],
                                                     minlength=n).astype(np.int64))  # fmt: skip
    ref = np.full(n, np.nan)
    np.fmax.at(ref, home[inside], points[inside])
    assert np.array_equal(most, ref, equal_nan=True)


def test_warm_up_loads_what_grading_calls_with_read_only_columns():
    """pandas hands its columns out read-only: a kernel specialisation the warm-up skipped
    would be loaded (or compiled) inside the first timed call."""
    from geo.grading_kernels import exposure, warm_up

    warm_up()
    known = len(exposure.signatures)
    dist = np.array([10.0, np.nan])
    dist.flags.writeable = False
    one = np.array([0, -1])
    exposure(one, one, dist, dist, np.array([50.0, np.nan]), np.array([50.0]),
             np.array([40.0, 0.0]), np.zeros(1, np.int64), np.zeros(1, bool), 1.0, 1.0,
             np.array([0.0]), np.array([25.0, 0.0]))  # fmt: skip
    assert len(exposure.signatures) == known
