"""The nearest search a query cell at a time (geo/cell_kernels.py) against shapely, one
distance at a time: same target, same distance, ties to the smaller rank, the search limit,
points inside polygons and outside the targets' extent, whatever the query cells' size."""

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon

from geo import segment_grid


def _targets(rng) -> np.ndarray:
    """Ponds, a lake with an island, rivers, dams and a multi-part polygon on a coarse lattice,
    some twice (so that equal distances happen)."""
    shapes = []
    for _ in range(40):
        x, y = rng.integers(-30, 30, 2) * 50.0
        shapes.append(shapely.box(x, y, x + 50.0 * rng.integers(1, 4), y + 50.0))
    for _ in range(15):
        xy = rng.integers(-40, 40, (int(rng.integers(2, 6)), 2)) * 50.0
        shapes.append(LineString(xy))
    lake = Polygon(
        [(-4000, -4000), (-2000, -4000), (-2000, -2000), (-4000, -2000)],
        [[(-3500, -3500), (-2500, -3500), (-2500, -2500), (-3500, -2500)]],
    )
    shapes += shapes[:20]  # the same shapes again: ties, decided by rank
    shapes += [
        lake,
        MultiPolygon([shapely.box(2000, 2000, 2100, 2100), shapely.box(2500, 2000, 2600, 2100)]),
    ]
    return np.array(shapes, dtype=object)


def _expected(points, geoms, rank, limit_m, kind=None, want=-1):
    """Nearest target by shapely: smallest distance, then smallest rank; -1 beyond limit."""
    o = np.full(len(points), -1)
    d = np.full(len(points), np.nan)
    allowed = np.arange(len(geoms)) if kind is None else np.flatnonzero(kind == want)
    for i, (x, y) in enumerate(points):
        dist = shapely.distance(shapely.Point(x, y), geoms[allowed])
        if not len(dist) or dist.min() > limit_m:
            continue
        tied = allowed[dist == dist.min()]
        o[i] = tied[np.argmin(rank[tied])]
        d[i] = dist.min()
    return o, d


@pytest.mark.parametrize("cell_m", [10.0, 137.0, 500.0, 5000.0])
def test_nearest_by_cells_matches_shapely(cell_m):
    rng = np.random.default_rng(7)
    geoms = _targets(rng)
    rank = rng.permutation(len(geoms)).astype(np.int64)
    points = np.vstack(
        [
            rng.integers(-90, 90, (400, 2)) * 25.0,  # on the lattice: ties and boundaries
            rng.uniform(-5000, 5000, (300, 2)),
            [[-3000.0, -3000.0], [-2200.0, -3000.0], [2050.0, 2050.0], [20000.0, 0.0]],
        ]
    )
    grid = segment_grid.build(geoms)
    query = segment_grid.points(points, cell_m)
    for limit_m in (300.0, 5000.0):
        o, d = segment_grid.nearest(grid, query, rank, limit_m)
        eo, ed = _expected(points, geoms, rank, limit_m)
        assert (o == eo).all()
        assert np.allclose(d, ed, rtol=0, atol=1e-6, equal_nan=True)
    assert d[-4] == 500.0  # on the island: 500 m from the lake's inner ring
    assert d[-3] == 0.0 and d[-2] == 0.0  # in the lake's body, in a part of the multi-polygon
    assert o[-1] == -1  # 20 km away: beyond the search limit


def test_nearest_of_one_kind_and_skipped_points():
    rng = np.random.default_rng(8)
    geoms = _targets(rng)
    kind = rng.integers(0, 3, len(geoms)).astype(np.int64)
    rank = np.arange(len(geoms), dtype=np.int64)
    points = rng.uniform(-5000, 5000, (500, 2))
    skip = rng.random(len(points)) < 0.3
    grid = segment_grid.build(geoms)
    query = segment_grid.points(points)
    for want in range(3):
        o, d = segment_grid.nearest_of_kind(grid, query, kind, want, rank, 5000.0, skip=skip)
        eo, ed = _expected(points, geoms, rank, 5000.0, kind, want)
        assert (o[~skip] == eo[~skip]).all(), want
        assert np.allclose(d[~skip], ed[~skip], rtol=0, atol=1e-6, equal_nan=True)
        assert (o[skip] == -1).all() and np.isnan(d[skip]).all()


def test_no_points_and_no_targets():
    empty = segment_grid.points(np.empty((0, 2)))
    grid = segment_grid.build(np.array([shapely.box(0, 0, 1, 1)], dtype=object))
    o, d = segment_grid.nearest(grid, empty, np.zeros(1, np.int64), 100.0)
    assert len(o) == 0 and len(d) == 0
    none = segment_grid.build(np.array([], dtype=object))
    o, d = segment_grid.nearest(
        none, segment_grid.points(np.zeros((3, 2))), np.zeros(0, np.int64), 100.0
    )
    assert (o == -1).all() and np.isnan(d).all()
