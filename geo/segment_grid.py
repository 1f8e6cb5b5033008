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

BATCH = 16384  # points per call of the search kernel (its output buffer is reused)


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


def _segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(segments (m, 4), owner of each, polygon flag per geometry) from lines and polygons."""
    kind = shapely.get_type_id(geoms)
    is_polygon = (kind == 3) | (kind == 6)
    rings = np.where(is_polygon, shapely.boundary(geoms), geoms)
    parts, part_owner = shapely.get_parts(rings, return_index=True)
    coords, part = shapely.get_coordinates(parts, return_index=True)
    same = part[1:] == part[:-1]
    start = np.flatnonzero(same)
    seg = np.empty((len(start), 4))
    seg[:, 0:2] = coords[start]
    seg[:, 2:4] = coords[start + 1]
    return seg, part_owner[part[start]].astype(np.int64), is_polygon


def build(geoms: np.ndarray, cell_m: float | None = None) -> SegmentGrid:
    """Grid over the segments of `geoms` (projected lines/polygons; validated by the caller)."""
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    seg, owner, is_polygon = (
        _segments(geoms) if n else (np.empty((0, 4)), np.empty(0, np.int64), np.zeros(0, bool))
    )
    bbox = shapely.bounds(geoms) if n else np.empty((0, 4))
    if len(seg):
        x0, y0 = float(bbox[:, 0].min()), float(bbox[:, 1].min())
        width = max(float(bbox[:, 2].max()) - x0, 1.0)
        height = max(float(bbox[:, 3].max()) - y0, 1.0)
    else:
        x0 = y0 = 0.0
        width = height = 1.0
    if cell_m is None:  # a few segments per cell on average
        cell_m = math.sqrt(width * height / max(len(seg), 1)) * 2.0
    cell_m = max(float(cell_m), 10.0, math.sqrt(width * height / 4e6))  # at most ~4M cells
    nx = int(width // cell_m) + 1
    ny = int(height // cell_m) + 1
    owner_start = np.searchsorted(owner, np.arange(n + 1)).astype(np.int64)
    cell_start, cell_seg = _bucket(seg, x0, y0, cell_m, nx, ny)
    polys = np.flatnonzero(is_polygon)
    poly_start, poly_ids = _bucket(bbox[polys], x0, y0, cell_m, nx, ny)
    return SegmentGrid(
        n,
        x0,
        y0,
        cell_m,
        nx,
        ny,
        seg,
        owner_start,
        cell_start,
        np.ascontiguousarray(seg[cell_seg]),
        owner[cell_seg],
        is_polygon,
        bbox,
        poly_start,
        polys[poly_ids].astype(np.int64),
    )


@nb.njit(cache=True)
def _cell_range(lo, hi, origin, cell, count):
    a = int(math.floor((lo - origin) / cell))
    b = int(math.floor((hi - origin) / cell))
    return max(a, 0), min(b, count - 1)


@nb.njit(cache=True)
def _bucket(boxes, x0, y0, cell, nx, ny):
    """CSR (start per cell, item ids) of boxes (x0, y0, x1, y1 in any corner order) by cell."""
    counts = np.zeros(nx * ny + 1, np.int64)
    for i in range(boxes.shape[0]):
        ax, bx = _cell_range(
            min(boxes[i, 0], boxes[i, 2]), max(boxes[i, 0], boxes[i, 2]), x0, cell, nx
        )
        ay, by = _cell_range(
            min(boxes[i, 1], boxes[i, 3]), max(boxes[i, 1], boxes[i, 3]), y0, cell, ny
        )
        for cy in range(ay, by + 1):
            for cx in range(ax, bx + 1):
                counts[cy * nx + cx + 1] += 1
    start = np.cumsum(counts)
    fill = start[:-1].copy()
    items = np.empty(start[-1], np.int64)
    for i in range(boxes.shape[0]):
        ax, bx = _cell_range(
            min(boxes[i, 0], boxes[i, 2]), max(boxes[i, 0], boxes[i, 2]), x0, cell, nx
        )
        ay, by = _cell_range(
            min(boxes[i, 1], boxes[i, 3]), max(boxes[i, 1], boxes[i, 3]), y0, cell, ny
        )
        for cy in range(ay, by + 1):
            for cx in range(ax, bx + 1):
                c = cy * nx + cx
                items[fill[c]] = i
                fill[c] += 1
    return start, items


@nb.njit(cache=True, inline="always")
def _seg_dist(px, py, ax, ay, bx, by):
    """GEOS Distance::pointToSegment, term for term."""
    if ax == bx and ay == by:
        return math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    dx = bx - ax
    dy = by - ay
    len2 = dx * dx + dy * dy
    r = ((px - ax) * dx + (py - ay) * dy) / len2
    if r <= 0.0:
        return math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    if r >= 1.0:
        return math.sqrt((px - bx) * (px - bx) + (py - by) * (py - by))
    s = ((ay - py) * dx - (ax - px) * dy) / len2
    return abs(s) * math.sqrt(len2)


@nb.njit(cache=True, inline="always")
def _seg_dist2(px, py, ax, ay, bx, by):
    """Squared point-segment distance with one division: a cheap filter before the exact one."""
    dx = bx - ax
    dy = by - ay
    wx = px - ax
    wy = py - ay
    dot = wx * dx + wy * dy
    if dot <= 0.0:
        return wx * wx + wy * wy
    len2 = dx * dx + dy * dy
    if dot >= len2:
        return (px - bx) * (px - bx) + (py - by) * (py - by)
    cross = wx * dy - wy * dx
    return cross * cross / len2


SLACK = 1.0 + 1e-9  # the filter lets through anything the exact formula could put in reach


@nb.njit(cache=True)
def _inside(px, py, o, seg, owner_start):
    """Even-odd ray crossing over every ring segment of polygon o (boundary handled by d=0)."""
    inside = False
    for s in range(owner_start[o], owner_start[o + 1]):
        ax, ay, bx, by = seg[s, 0], seg[s, 1], seg[s, 2], seg[s, 3]
        if (ay > py) != (by > py):
            xc = ax + (py - ay) * (bx - ax) / (by - ay)
            if px < xc:
                inside = not inside
    return inside


@nb.njit(cache=True)
def _containing(
    px,
    py,
    g_x0,
    g_y0,
    cell,
    nx,
    ny,
    poly_start,
    poly_ids,
    bbox,
    seg,
    owner_start,
    best,
    touched,
    ntouched,
):
    """Mark polygons containing the point with -1 in `best`; returns the touched count."""
    cx = int(math.floor((px - g_x0) / cell))
    cy = int(math.floor((py - g_y0) / cell))
    if cx < 0 or cy < 0 or cx >= nx or cy >= ny:
        return ntouched
    c = cy * nx + cx
    for k in range(poly_start[c], poly_start[c + 1]):
        o = poly_ids[k]
        if best[o] < 0.0:
            continue
        if px < bbox[o, 0] or px > bbox[o, 2] or py < bbox[o, 1] or py > bbox[o, 3]:
            continue
        if _inside(px, py, o, seg, owner_start):
            if best[o] == np.inf:
                touched[ntouched] = o
                ntouched += 1
            best[o] = -1.0
    return ntouched


@nb.njit(cache=True, parallel=True)
def _within(
    pts,
    threads,
    reach,
    radius_of,
    kind,
    rank,
    count,
    out_o,
    out_d,
    near_o,
    near_d,
    g_x0,
    g_y0,
    cell,
    nx,
    ny,
    seg,
    cell_owner,
    owner_start,
    cell_start,
    cell_xy,
    poly_start,
    poly_ids,
    bbox,
    n_owners,
):
    """Per point (into the given arrays): its targets within their kind's radius, sorted by
    distance and rank, up to out_o.shape[1] of them; their count; and the nearest target of each
    kind within `reach` (-1 when none). Scratch memory is per thread: fresh pages are dear."""
    n = pts.shape[0]
    cap = out_o.shape[1]
    nthreads = max(1, min(threads, n // 256))
    reach2 = reach * reach * SLACK
    for worker in nb.prange(nthreads):
        best = np.full(n_owners, np.inf)  # squared filter distance; -1: inside the polygon
        best_k = np.empty(n_owners, np.int64)  # the segment that gave it
        touched = np.empty(n_owners, np.int64)
        for i in range(worker * n // nthreads, (worker + 1) * n // nthreads):
            px, py = pts[i, 0], pts[i, 1]
            near_o[i, :] = -1
            near_d[i, :] = np.nan
            nt = 0
            cx0, cx1 = _cell_range(px - reach, px + reach, g_x0, cell, nx)
            cy0, cy1 = _cell_range(py - reach, py + reach, g_y0, cell, ny)
            for cy in range(cy0, cy1 + 1):
                for cx in range(cx0, cx1 + 1):
                    c = cy * nx + cx
                    for k in range(cell_start[c], cell_start[c + 1]):
                        ax, ay = cell_xy[k, 0], cell_xy[k, 1]
                        bx, by = cell_xy[k, 2], cell_xy[k, 3]
                        q = _seg_dist2(px, py, ax, ay, bx, by)
                        if q > reach2:
                            continue
                        o = cell_owner[k]
                        if best[o] == np.inf:
                            touched[nt] = o
                            nt += 1
                        if q < best[o]:
                            best[o] = q
                            best_k[o] = k
            nt = _containing(
                px,
                py,
                g_x0,
                g_y0,
                cell,
                nx,
                ny,
                poly_start,
                poly_ids,
                bbox,
                seg,
                owner_start,
                best,
                touched,
                nt,
            )
            m = 0
            for j in range(nt):
                o = touched[j]
                d = 0.0
                if best[o] >= 0.0:  # exact GEOS distance to the closest segment
                    k = best_k[o]
                    d = _seg_dist(
                        px, py, cell_xy[k, 0], cell_xy[k, 1], cell_xy[k, 2], cell_xy[k, 3]
                    )
                best[o] = np.inf
                if d > reach:
                    continue
                t = kind[o]
                q = near_o[i, t]
                if q < 0 or d < near_d[i, t] or (d == near_d[i, t] and rank[o] < rank[q]):
                    near_o[i, t] = o
                    near_d[i, t] = d
                if d <= radius_of[t]:
                    if m < cap:  # insertion by (distance, rank)
                        p = m
                        while p > 0 and (
                            out_d[i, p - 1] > d
                            or (out_d[i, p - 1] == d and rank[out_o[i, p - 1]] > rank[o])
                        ):
                            out_o[i, p] = out_o[i, p - 1]
                            out_d[i, p] = out_d[i, p - 1]
                            p -= 1
                        out_o[i, p] = o
                        out_d[i, p] = d
                    m += 1
            count[i] = m


@nb.njit(cache=True, parallel=True)
def _nearest(
    pts,
    threads,
    limit,
    rank,
    g_x0,
    g_y0,
    cell,
    nx,
    ny,
    seg,
    cell_owner,
    owner_start,
    cell_start,
    cell_xy,
    poly_start,
    poly_ids,
    bbox,
    n_owners,
):
    """Per point: the nearest target within `limit` (ties: smaller rank), by growing rings of
    cells; -1 and NaN when none."""
    n = pts.shape[0]
    out_o = np.full(n, -1, np.int64)
    out_d = np.full(n, np.nan)
    max_ring = int(limit // cell) + 2
    nthreads = max(1, min(threads, n // 256))
    for worker in nb.prange(nthreads):
        best = np.full(n_owners, np.inf)
        touched = np.empty(n_owners, np.int64)
        for i in range(worker * n // nthreads, (worker + 1) * n // nthreads):
            px, py = pts[i, 0], pts[i, 1]
            bo = -1
            bd = np.inf
            nt = _containing(
                px,
                py,
                g_x0,
                g_y0,
                cell,
                nx,
                ny,
                poly_start,
                poly_ids,
                bbox,
                seg,
                owner_start,
                best,
                touched,
                0,
            )
            for j in range(nt):
                o = touched[j]
                best[o] = np.inf
                if bo < 0 or rank[o] < rank[bo]:
                    bo = o
                    bd = 0.0
            pcx = int(math.floor((px - g_x0) / cell))
            pcy = int(math.floor((py - g_y0) / cell))
            for ring in range(max_ring + 1):
                floor_m = (ring - 1) * cell  # every cell of this ring is farther than this
                if ring > 0 and (bd <= floor_m or floor_m > limit):
                    break
                for cy in range(max(pcy - ring, 0), min(pcy + ring, ny - 1) + 1):
                    edge = cy == pcy - ring or cy == pcy + ring
                    step = 1 if edge else 2 * ring
                    cx = pcx - ring
                    while cx <= pcx + ring:
                        if 0 <= cx < nx:
                            c = cy * nx + cx
                            for k in range(cell_start[c], cell_start[c + 1]):
                                ax, ay = cell_xy[k, 0], cell_xy[k, 1]
                                bx, by = cell_xy[k, 2], cell_xy[k, 3]
                                if _seg_dist2(px, py, ax, ay, bx, by) > bd * bd * SLACK:
                                    continue
                                d = _seg_dist(px, py, ax, ay, bx, by)
                                o = cell_owner[k]
                                if d < bd or (d == bd and rank[o] < rank[bo]):
                                    bd = d
                                    bo = o
                        if step == 0:
                            break
                        cx += step
            if bo >= 0 and bd <= limit:
                out_o[i] = bo
                out_d[i] = bd
    return out_o, out_d


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
    args = (
        grid.x0,
        grid.y0,
        grid.cell_m,
        grid.nx,
        grid.ny,
        grid.seg,
        grid.cell_owner,
        grid.owner_start,
        grid.cell_start,
        grid.cell_xy,
        grid.poly_start,
        grid.poly_ids,
        grid.bbox,
        max(grid.n, 1),
    )
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
        _within(pts[part], threads, reach, radius_of, kind, rank, count[:m], out_o[:m], out_d[:m],
                near_o[part], near_d[part], *args)  # fmt: skip
        filled = (np.arange(cap) < count[:m, None]) & (count[:m, None] <= cap)
        bp, bo, bd = np.nonzero(filled)[0] + start, out_o[:m][filled], out_d[:m][filled]
        over = np.flatnonzero(count[:m] > cap)
        if len(over):  # the rare crowded point: once more with room for all its pairs
            big = int(count[over].max())
            c2 = np.empty(len(over), np.int64)
            o2, d2 = np.empty((len(over), big), np.int64), np.empty((len(over), big))
            _within(pts[start + over], threads, reach, radius_of, kind, rank, c2, o2, d2,
                    np.empty((len(over), len(radius_of)), np.int64),
                    np.empty((len(over), len(radius_of))), *args)  # fmt: skip
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


def nearest(grid: SegmentGrid, points: np.ndarray, rank: np.ndarray, limit_m: float):
    """For points (n, 2): index of the nearest target within limit_m (-1 none) and distance."""
    pts = np.ascontiguousarray(points, dtype=np.float64)
    if grid.n == 0 or len(pts) == 0:
        return np.full(len(pts), -1, np.int64), np.full(len(pts), np.nan)
    return _nearest(
        pts,
        nb.get_num_threads(),
        float(limit_m),
        rank,
        grid.x0,
        grid.y0,
        grid.cell_m,
        grid.nx,
        grid.ny,
        grid.seg,
        grid.cell_owner,
        grid.owner_start,
        grid.cell_start,
        grid.cell_xy,
        grid.poly_start,
        grid.poly_ids,
        grid.bbox,
        grid.n,
    )


def warm_up() -> float:
    """Load the compiled kernels (from numba's on-disk cache, or compile them: seconds, once per
    machine) with a tiny search; returns the seconds it took. Long-running processes call it at
    start so that a user's first risk computation does not pay for it."""
    import time

    started = time.perf_counter()
    square = shapely.box(0.0, 0.0, 10.0, 10.0)
    grid = build(np.array([square, shapely.LineString([(20, 0), (30, 0)])], dtype=object))
    pts = np.array([[5.0, 5.0], [40.0, 0.0]])
    rank = np.arange(2, dtype=np.int64)
    within(grid, pts, np.zeros(2, np.int64), np.array([50.0]), rank)
    nearest(grid, pts, rank, 100.0)
    return time.perf_counter() - started
