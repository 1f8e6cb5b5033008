"""A uniform grid over the boundary segments of lines and polygons, for exact point distances.

Why not shapely's STRtree: a county has ~100,000 homes and ~1,000,000 (home, water body) pairs
within 500 m; GEOS answers them one geometry pair at a time. Here every line and polygon ring is
cut into segments, the segments are bucketed in square cells, and compiled loops (numba, one
chunk of points per core) measure each point against the segments of the cells it can reach.

Distances follow GEOS's point-to-segment formula exactly, so results match shapely/PostGIS to
floating-point rounding; a point inside a polygon is at distance 0 (even-odd ray crossing over
all rings of that polygon, holes included). Ties go to the smaller rank (the caller ranks ids).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np
import shapely

from geo import validity_kernels
from geo.cell_kernels import nearest_by_cells, point_cells
from geo.grid_kernels import bucket_counts, bucket_fill, run_segments, within_kernel
from geo.reach_kernels import cell_owners, overall_nearest, reach_by_cells

BATCH = 16384  # points per call of the search kernel (its output buffer is reused)
# Side of the query cells whose points share one walk to their nearest target and one
# gathering of the targets in reach (`Points`). County (100,500 homes), median of 5-7, the four
# nearest-of-a-type searches + the slopes': 250 m 30 + 16 ms, 500 m 18 + 9.6, 750 m 16 + 9.5,
# 1000 m 16 + 10 (ring search per point: 30 + 13); reach: 125 m 41.7, 250 m 36.0, 500 m 32.1,
# 750 m 31.5, 1000 m 31.5 (per point: 35). Wider cells gather more candidates per cell,
# narrower ones walk more often.
QUERY_CELL_M = 750.0


@dataclass(frozen=True)
class SegmentGrid:
    """Segments of `n` target geometries bucketed in cells of `cell_m` metres.

    seg: (m, 4) x0, y0, x1, y1, ordered by owner (for ray casting);
    owner_start: first segment of each target (n + 1 entries, for ray casting);
    cell_start/cell_xy/cell_owner: CSR of the segments per cell, copied in cell order so the
    distance loops read memory in sequence, with their owners; poly_*: polygon targets by
    bounding box (containment candidates); bbox: (n, 4) of each target.
    """

    n: int
    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    seg: np.ndarray
    owner_start: np.ndarray
    cell_start: np.ndarray
    cell_xy: np.ndarray
    cell_owner: np.ndarray
    is_polygon: np.ndarray
    bbox: np.ndarray
    poly_start: np.ndarray
    poly_ids: np.ndarray
    simple: np.ndarray  # per target: a line, or a polygon without holes (`sure_valid`)

    @property
    def kernel_args(self) -> tuple:
        """The grid as the compiled kernels take it (geo/grid_kernels.py and
        geo/reach_kernels.py), in their order."""
        return (
            self.x0, self.y0, self.cell_m, self.nx, self.ny, self.seg, self.cell_owner,
            self.owner_start, self.cell_start, self.cell_xy, self.poly_start, self.poly_ids,
            self.bbox, max(self.n, 1),
        )  # fmt: skip


def _pieces(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polygon rings and line parts of `geoms`, and the geometry each came from, by owner."""
    kind = shapely.get_type_id(geoms)
    multi = np.flatnonzero((kind == 5) | (kind == 6))  # multi-part lines and polygons
    single = np.flatnonzero((kind == 1) | (kind == 2) | (kind == 3))
    parts, part_owner = shapely.get_parts(geoms[multi], return_index=True)
    items = np.concatenate([geoms[single], parts])
    owner = np.concatenate([single, multi[part_owner]])
    polygon = shapely.get_type_id(items) == 3
    rings, ring_of = shapely.get_rings(items[polygon], return_index=True)
    pieces = np.concatenate([items[~polygon], rings])
    owners = np.concatenate([owner[~polygon], owner[polygon][ring_of]])
    order = np.argsort(owners, kind="stable")
    return pieces[order], owners[order]


def _segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(segments (m, 4), owner of each, polygon flag and `_simple` per geometry) from lines
    and polygons.

    A line, or a polygon without holes, is one run of coordinates: its segments join
    consecutive coordinates, read in one pass. Only multi-part shapes and polygons with holes
    are taken apart into rings and parts first (new GEOS objects: the slow way)."""
    kind = shapely.get_type_id(geoms)
    is_polygon = (kind == 3) | (kind == 6)
    simple = kind == 1  # a line, or (below) a polygon without holes: one run of coordinates
    simple[kind == 3] = shapely.get_num_interior_rings(geoms[kind == 3]) == 0
    one_run = np.flatnonzero(simple)
    coords, piece = shapely.get_coordinates(geoms[one_run], return_index=True)
    owner_of_piece = one_run
    rest = np.flatnonzero(~simple)
    if len(rest):
        pieces, piece_owner = _pieces(geoms[rest])
        more, more_piece = shapely.get_coordinates(pieces, return_index=True)
        coords = np.concatenate([coords, more])
        piece = np.concatenate([piece, more_piece + len(one_run)])
        owner_of_piece = np.concatenate([one_run, rest[piece_owner]])
    # Pieces in owner order (each owner's rings and parts as they came), each cut into the
    # segments joining its consecutive coordinates (one compiled pass; the arrays from NumPy).
    order = np.argsort(owner_of_piece, kind="stable") if len(rest) else np.arange(len(one_run))
    per_piece = np.bincount(piece, minlength=len(owner_of_piece))
    piece_start = np.zeros(len(per_piece) + 1, np.int64)
    np.cumsum(per_piece, out=piece_start[1:])
    m = int(np.maximum(per_piece - 1, 0).sum())
    seg, owner = np.empty((m, 4)), np.empty(m, np.int64)
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    run_segments(coords, piece_start, order, owner_of_piece.astype(np.int64), seg, owner)
    return seg, owner, is_polygon, simple


def build(geoms: np.ndarray, cell_m: float | None = None) -> SegmentGrid:
    """Grid over the segments of `geoms` (projected lines/polygons; validated by the caller)."""
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if n == 0:
        none = np.zeros(0, bool)
        return _grid(np.empty((0, 4)), np.empty(0, np.int64), none, np.empty((0, 4)), cell_m, none)
    seg, owner, is_polygon, simple = _segments(geoms)
    return _grid(seg, owner, is_polygon, shapely.bounds(geoms), cell_m, simple)


def subset(grid: SegmentGrid, keep: np.ndarray, cell_m: float | None = None) -> SegmentGrid:
    """The grid of some of its targets (`keep`: their indices, ascending), from the segments
    already cut: target k of the result is target keep[k] of `grid`."""
    keep = np.asarray(keep, dtype=np.int64)
    per_owner = np.diff(grid.owner_start)
    new_id = np.full(grid.n, -1, np.int64)
    new_id[keep] = np.arange(len(keep))
    owner = np.repeat(new_id, per_owner)
    mine = owner >= 0
    return _grid(
        grid.seg.compress(mine, axis=0),
        owner[mine],
        grid.is_polygon[keep],
        grid.bbox.take(keep, axis=0),
        cell_m,
        grid.simple[keep],
    )


def _grid(seg, owner, is_polygon, bbox, cell_m, simple) -> SegmentGrid:
    n = len(bbox)
    if len(seg):
        x0, y0 = float(bbox[:, 0].min()), float(bbox[:, 1].min())
        width = max(float(bbox[:, 2].max()) - x0, 1.0)
        height = max(float(bbox[:, 3].max()) - y0, 1.0)
    else:
        x0 = y0 = 0.0
        width = height = 1.0
    if cell_m is None:  # about one segment per cell on average (measured best for nearest)
        cell_m = math.sqrt(width * height / max(len(seg), 1))
    cell_m = max(float(cell_m), 10.0, math.sqrt(width * height / 4e6))  # at most ~4M cells
    nx = int(width // cell_m) + 1
    ny = int(height // cell_m) + 1
    owner_start = np.searchsorted(owner, np.arange(n + 1)).astype(np.int64)
    # The segments copied in cell order with their owners (arrays from NumPy, which asks the
    # kernel for huge pages for large ones: fewer first touches of fresh memory).
    cell_start = bucket_counts(seg, x0, y0, cell_m, nx, ny)
    cell_xy, cell_owner = np.empty((cell_start[-1], 4)), np.empty(cell_start[-1], np.int64)
    bucket_fill(seg, x0, y0, cell_m, nx, ny, cell_start, owner, cell_owner, cell_xy)
    # The polygons by their boxes (containment candidates): their numbers only.
    polys = np.flatnonzero(is_polygon).astype(np.int64)
    poly_box = bbox.take(polys, axis=0)
    poly_start = bucket_counts(poly_box, x0, y0, cell_m, nx, ny)
    poly_ids = np.empty(poly_start[-1], np.int64)
    bucket_fill(poly_box, x0, y0, cell_m, nx, ny, poly_start, polys, poly_ids, seg[:0])
    return SegmentGrid(
        n, x0, y0, cell_m, nx, ny, seg, owner_start, cell_start, cell_xy, cell_owner,
        is_polygon, bbox, poly_start, poly_ids, simple,
    )  # fmt: skip


BIG_TARGET = 64  # segments: a target with more is searched segment by segment, cell by cell


def reach(grid: SegmentGrid, pts: Points, kind: np.ndarray, radius_of: np.ndarray, rank):
    """For the points: how many targets are within their kind's radius, and the nearest of
    each kind within the largest radius ((n, kinds) target, -1 none, and distance). The pairs
    themselves are left out: grading needs only these, and `within` lists them on demand.

    Small targets (ponds, dams: a few dozen segments) are taken whole, and measured only when
    their bounding box leaves the answer open; long ones (a river of 1,000s of vertices) segment
    by segment in the cells within reach, as `within` does. The counts and nearest targets are
    the same either way."""
    n, kinds = len(pts.xy), len(radius_of)
    reach_m = float(radius_of.max())
    threads = nb.get_num_threads()
    whole = np.diff(grid.owner_start) <= BIG_TARGET
    own_start, own_ids = cell_owners(grid.cell_start, grid.cell_owner, whole)
    count = np.empty(n, np.int64)  # every point is in a query cell: the kernel writes each row
    near_o = np.empty((n, kinds), np.int64)
    near_d = np.empty((n, kinds))
    reach_by_cells(
        pts.xy, pts.order, pts.cell_start, pts.centre, pts.cell_m, threads, reach_m, radius_of,
        kind, rank, count, near_o, near_d, grid.is_polygon, own_start, own_ids, whole,
        *grid.kernel_args,
    )  # fmt: skip
    big = np.flatnonzero(~whole)
    if len(big):
        part = subset(grid, big, grid.cell_m)
        c2 = np.empty(n, np.int64)
        o2, d2 = np.empty((n, kinds), np.int64), np.empty((n, kinds))
        none_o, none_d = np.empty((n, 0), np.int64), np.empty((n, 0))
        within_kernel(
            pts.xy, threads, reach_m, radius_of, kind[big], rank[big], c2, none_o, none_d, o2, d2,
            *part.kernel_args,
        )  # fmt: skip
        count += c2
        o2 = _back(big, o2)
        r1 = np.where(near_o >= 0, rank[np.maximum(near_o, 0)], 0)
        r2 = np.where(o2 >= 0, rank[np.maximum(o2, 0)], 0)
        d1 = np.where(near_o >= 0, near_d, np.inf)
        better = (o2 >= 0) & ((d2 < d1) | ((d2 == d1) & (r2 < r1)))
        near_o = np.where(better, o2, near_o)
        near_d = np.where(better, d2, near_d)
    return count, near_o, near_d


def within(
    grid: SegmentGrid,
    points: np.ndarray,
    kind: np.ndarray,
    radius_of: np.ndarray,
    rank: np.ndarray,
    cap: int = 32,
):
    """For points (n, 2): pairs within each kind's radius and the nearest of each kind within
    the largest radius. Returns (point index, target index, distance) sorted by point, distance,
    rank; and (n, kinds) arrays of nearest target (-1 none) and distance."""
    reach = float(radius_of.max())
    args = grid.kernel_args
    pts = np.ascontiguousarray(points, dtype=np.float64)
    n = len(pts)
    near_o = np.empty((n, len(radius_of)), np.int64)
    near_d = np.empty((n, len(radius_of)))
    # Batches reuse one small output buffer: touching fresh memory costs more than the search.
    batch = min(n, BATCH) or 1
    count = np.empty(batch, np.int64)
    out_o = np.empty((batch, cap), np.int64)
    out_d = np.empty((batch, cap))
    found_p, found_o, found_d = [], [], []
    threads = nb.get_num_threads()
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        m = stop - start
        part = slice(start, stop)
        outputs = (count[:m], out_o[:m], out_d[:m], near_o[part], near_d[part])
        within_kernel(pts[part], threads, reach, radius_of, kind, rank, *outputs, *args)
        filled = (np.arange(cap) < count[:m, None]) & (count[:m, None] <= cap)
        bp, bo, bd = np.nonzero(filled)[0] + start, out_o[:m][filled], out_d[:m][filled]
        over = np.flatnonzero(count[:m] > cap)
        if len(over):  # the rare crowded point: once more with room for all its pairs
            big = int(count[over].max())
            c2 = np.empty(len(over), np.int64)
            o2, d2 = np.empty((len(over), big), np.int64), np.empty((len(over), big))
            near = (
                np.empty((len(over), len(radius_of)), np.int64),
                np.empty((len(over), len(radius_of))),
            )
            within_kernel(
                pts.take(start + over, axis=0),
                threads,
                reach,
                radius_of,
                kind,
                rank,
                c2,
                o2,
                d2,
                *near,
                *args,
            )
            extra = np.arange(big) < c2[:, None]
            bp = np.concatenate([bp, start + over[np.nonzero(extra)[0]]])
            bo, bd = np.concatenate([bo, o2[extra]]), np.concatenate([bd, d2[extra]])
            order = np.argsort(bp, kind="stable")  # each point's run is in (distance, rank) order
            bp, bo, bd = bp[order], bo[order], bd[order]
        found_p.append(bp)
        found_o.append(bo)
        found_d.append(bd)
    pi = np.concatenate(found_p) if found_p else np.empty(0, np.int64)
    wi = np.concatenate(found_o) if found_o else np.empty(0, np.int64)
    d = np.concatenate(found_d) if found_d else np.empty(0)
    return (pi, wi, d), (near_o, near_d)


@dataclass(frozen=True)
class Points:
    """Query points (n, 2), and the same grouped by square cells of `cell_m` for the nearest
    searches (geo/cell_kernels.py): homes come in villages, and the points of a cell share
    one walk to their nearest target."""

    xy: np.ndarray
    cell_m: float
    order: np.ndarray
    cell_start: np.ndarray
    centre: np.ndarray

    @property
    def half_m(self) -> float:
        return self.cell_m * math.sqrt(2.0) / 2.0


def points(xy: np.ndarray, cell_m: float = QUERY_CELL_M) -> Points:
    """`xy` grouped by query cell (a counting sort, compiled)."""
    pts = np.ascontiguousarray(xy, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        return Points(pts, cell_m, np.empty(0, np.int64), np.zeros(1, np.int64), np.empty((0, 2)))
    order, start, centre, cell_m = point_cells(pts, float(cell_m))
    return Points(pts, cell_m, order, start, centre)


def nearest(
    grid: SegmentGrid,
    pts: Points,
    rank: np.ndarray,
    limit_m: float,
    kind: np.ndarray | None = None,
    want: int = -1,
    skip: np.ndarray | None = None,
):
    """For points: index of the nearest target within limit_m (-1 none) and distance; with
    `kind` and `want`, the nearest target of that kind only; -1 and NaN where `skip`."""
    return _answers(
        len(pts.xy), skip, lambda o, d: nearest_into(grid, pts, rank, limit_m, o, d, kind, want)
    )


def _answers(n: int, skip, search) -> tuple[np.ndarray, np.ndarray]:
    """Fresh (target, distance) arrays that `search(out_o, out_d)` fills in where the target
    is -1; -1 and NaN where `skip` (marked -2 meanwhile, so that it is passed over)."""
    out_o = np.full(n, -1, np.int64) if skip is None else np.where(skip, -2, -1)
    out_d = np.full(n, np.nan)
    search(out_o, out_d)
    if skip is not None:
        out_o[skip] = -1
    return out_o, out_d


def nearest_into(
    grid: SegmentGrid,
    pts: Points,
    rank: np.ndarray,
    limit_m: float,
    out_o: np.ndarray,
    out_d: np.ndarray,
    kind: np.ndarray | None = None,
    want: int = -1,
    ids: np.ndarray | None = None,
) -> None:
    """Into out_o/out_d (views may be strided), for each point whose out_o is -1: the nearest
    target within limit_m (of kind `want` when given), as ids[target] (`ids`: the target
    itself when None), and its distance; the others are left as they are. One walk per query
    cell, then each point against the candidates it gathered (cell_kernels)."""
    if grid.n == 0 or len(pts.xy) == 0:
        return
    if kind is None:
        kind, want = np.zeros(1, np.int64), -1
    nearest_by_cells(
        pts.xy, pts.order, pts.cell_start, pts.centre, pts.half_m, out_o, out_d,
        np.empty(0, np.int64) if ids is None else ids, nb.get_num_threads(), float(limit_m),
        rank, np.asarray(kind, np.int64), int(want), grid.is_polygon, *grid.kernel_args,
    )  # fmt: skip


def nearest_of_kind(
    grid: SegmentGrid, pts: Points, kind: np.ndarray, want: int, rank, limit_m: float, skip=None
):
    """Nearest target of one kind (-1 and NaN where `skip`): see `nearest_of_kind_into`."""
    return _answers(
        len(pts.xy),
        skip,
        lambda o, d: nearest_of_kind_into(grid, pts, kind, want, rank, limit_m, o, d),
    )


def nearest_of_kind_into(
    grid: SegmentGrid,
    pts: Points,
    kind: np.ndarray,
    want: int,
    rank,
    limit_m: float,
    out_o,
    out_d,
) -> None:
    """`nearest_into` among targets of one kind: on a grid of that kind's targets alone, cut
    from `grid`'s segments; or, when that kind is most of the targets (a grid of its own would
    cost nearly as much as `grid` did), on `grid` itself, passing over the others."""
    mask = np.flatnonzero(kind == want)
    if len(mask) == 0:
        return
    if 2 * len(mask) > grid.n:
        nearest_into(grid, pts, rank, limit_m, out_o, out_d, kind, want)
    else:
        nearest_into(subset(grid, mask), pts, rank[mask], limit_m, out_o, out_d, ids=mask)


def sure_valid(grid: SegmentGrid) -> np.ndarray:
    """Per target of `grid`: whether its segments prove it a valid shape (a line, or a polygon
    of one simple ring: most ponds and rivers). The others may be valid too; GEOS must judge
    them."""
    return validity_kernels.sure_valid(grid.seg, grid.owner_start, grid.is_polygon, grid.simple)


def _back(keep: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Indices into a `subset(grid, keep)` (-1 none) as indices into `grid`."""
    return np.where(found >= 0, keep[np.maximum(found, 0)], -1)


def warm_up() -> float:
    """Load the compiled kernels (from numba's on-disk cache, or compile them: seconds, once per
    machine) with a tiny search; returns the seconds it took. The benchmark calls it before
    timing, so that the figures are the search, not the loading."""
    import time

    started = time.perf_counter()
    square = shapely.box(0.0, 0.0, 10.0, 10.0)
    grid = build(np.array([square, shapely.LineString([(20, 0), (30, 0)])], dtype=object))
    pts = np.array([[5.0, 5.0], [40.0, 0.0]])
    rank = np.arange(2, dtype=np.int64)
    within(grid, pts, np.zeros(2, np.int64), np.array([50.0]), rank)
    reach(grid, points(pts), np.zeros(2, np.int64), np.array([50.0]), rank)
    nearest(grid, points(pts), rank, 100.0)
    nearest_of_kind(grid, points(pts), np.array([0, 1]), 0, rank, 100.0)
    near_o, near_d = np.full((2, 2), -1, np.int64), np.full((2, 2), np.nan)  # columns: strided
    nearest_of_kind_into(grid, points(pts), np.array([0, 1]), 0, rank, 100.0, near_o[:, 0],
                         near_d[:, 0])  # fmt: skip
    overall_nearest(np.zeros((1, 2), np.int64), np.zeros((1, 2)), rank)
    sure_valid(grid)
    return time.perf_counter() - started
