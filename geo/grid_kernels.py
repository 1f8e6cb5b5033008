"""Compiled loops (numba) behind geo/segment_grid.py: bucketing, exact point-to-segment
distance, polygon containment, the radius search segment by segment and the ring-growing
nearest search of one point. The search target by target (counts and nearest within reach) is in
geo/reach_kernels.py, on the same primitives.

Every kernel after `pts` and its own parameters takes a grid's `SegmentGrid.kernel_args`, in
that order. Scratch memory is per thread, not per task: on this kind of machine touching fresh
pages costs more than the arithmetic.
"""

import math

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _cell_range(lo, hi, origin, cell, count):
    a = int(math.floor((lo - origin) / cell))
    b = int(math.floor((hi - origin) / cell))
    return max(a, 0), min(b, count - 1)


@nb.njit(cache=True, inline="always")
def _window(x, y, r, g_x0, g_y0, cell, nx, ny):
    """Grid columns cx0..cx1 and rows cy0..cy1 of the square of half side r around (x, y)."""
    cx0, cx1 = _cell_range(x - r, x + r, g_x0, cell, nx)
    cy0, cy1 = _cell_range(y - r, y + r, g_y0, cell, ny)
    return cx0, cx1, cy0, cy1


@nb.njit(cache=True, inline="always")
def _box_cells(boxes, i, x0, y0, cell, nx, ny):
    """Cell columns ax..bx and rows ay..by that box i (x0, y0, x1, y1 in any corner order)
    overlaps."""
    ax, bx = _cell_range(min(boxes[i, 0], boxes[i, 2]), max(boxes[i, 0], boxes[i, 2]), x0, cell, nx)
    ay, by = _cell_range(min(boxes[i, 1], boxes[i, 3]), max(boxes[i, 1], boxes[i, 3]), y0, cell, ny)
    return ax, bx, ay, by


@nb.njit(cache=True, nogil=True)
def bucket_counts(boxes, x0, y0, cell, nx, ny):
    """Start of each cell's entries (CSR, nx * ny + 1 numbers) when each box is listed in every
    cell it overlaps."""
    counts = np.zeros(nx * ny + 1, np.int64)
    for i in range(boxes.shape[0]):
        ax, bx, ay, by = _box_cells(boxes, i, x0, y0, cell, nx, ny)
        for cy in range(ay, by + 1):
            for cx in range(ax, bx + 1):
                counts[cy * nx + cx + 1] += 1
    return np.cumsum(counts)


@nb.njit(cache=True, nogil=True)
def bucket_fill(boxes, x0, y0, cell, nx, ny, start, owner, owner_out, rows_out):
    """List each box in the cells it overlaps (slots from `bucket_counts`): owner[box] into
    `owner_out`, and, when `rows_out` has rows, the box itself (the segments copied in cell
    order, for the distance loops)."""
    fill = start[:-1].copy()
    rows = rows_out.shape[0] > 0
    for i in range(boxes.shape[0]):
        ax, bx, ay, by = _box_cells(boxes, i, x0, y0, cell, nx, ny)
        for cy in range(ay, by + 1):
            for cx in range(ax, bx + 1):
                c = cy * nx + cx
                j = fill[c]
                fill[c] = j + 1
                owner_out[j] = owner[i]
                if rows:
                    for u in range(4):
                        rows_out[j, u] = boxes[i, u]


@nb.njit(cache=True, nogil=True)
def run_segments(coords, piece_start, piece_order, owner_of_piece, seg, owner):
    """The segments joining consecutive coordinates of each piece (a line or a ring; its
    coordinates are coords[piece_start[p]:piece_start[p + 1]]), pieces taken in `piece_order`,
    into seg (x0, y0, x1, y1) and owner."""
    k = 0
    for p in piece_order:
        for i in range(piece_start[p], piece_start[p + 1] - 1):
            seg[k, 0] = coords[i, 0]
            seg[k, 1] = coords[i, 1]
            seg[k, 2] = coords[i + 1, 0]
            seg[k, 3] = coords[i + 1, 1]
            owner[k] = owner_of_piece[p]
            k += 1


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


@nb.njit(cache=True, inline="always")
def _nearer(d, o, bd, bo, rank):
    """Whether target o at d beats the best so far (bo at bd, -1 none): nearer, or as near
    with the smaller rank (the tie rule of every search)."""
    return bo < 0 or d < bd or (d == bd and rank[o] < rank[bo])


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


@nb.njit(cache=True, parallel=True, nogil=True)
def within_kernel(
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
            cx0, cx1, cy0, cy1 = _window(px, py, reach, g_x0, g_y0, cell, nx, ny)
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
                if _nearer(d, o, near_d[i, t], near_o[i, t], rank):
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


@nb.njit(cache=True)
def _ring_nearest(
    px, py, limit, rank, kind, want, best, touched,
    g_x0, g_y0, cell, nx, ny, seg, cell_owner, owner_start, cell_start, cell_xy,
    poly_start, poly_ids, bbox,
):  # fmt: skip
    """The nearest target of one point within `limit` (ties: smaller rank), by growing rings
    of cells; with `want` >= 0 only targets whose `kind` is `want` count. (target, distance),
    (-1, inf) when none. `best` (all inf, left so) and `touched` are scratch, one per target."""
    bo = -1
    bd = np.inf
    nt = _containing(
        px, py, g_x0, g_y0, cell, nx, ny, poly_start, poly_ids, bbox, seg, owner_start, best,
        touched, 0,
    )  # fmt: skip
    for j in range(nt):
        o = touched[j]
        best[o] = np.inf
        if want >= 0 and kind[o] != want:
            continue
        if _nearer(0.0, o, bd, bo, rank):
            bo = o
            bd = 0.0
    pcx = int(math.floor((px - g_x0) / cell))
    pcy = int(math.floor((py - g_y0) / cell))
    fx = px - g_x0 - pcx * cell
    fy = py - g_y0 - pcy * cell
    edge_m = max(0.0, min(min(fx, cell - fx), min(fy, cell - fy)))
    max_ring = int(limit // cell) + 2
    for ring in range(max_ring + 1):
        # Every cell of this ring is farther than this: the rings between, and the way from
        # the point to the nearest side of its own cell.
        floor_m = (ring - 1) * cell + edge_m
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
                        o = cell_owner[k]
                        if want >= 0 and kind[o] != want:
                            continue
                        d = _seg_dist(px, py, ax, ay, bx, by)
                        if _nearer(d, o, bd, bo, rank):
                            bd = d
                            bo = o
                if step == 0:
                    break
                cx += step
    if bo >= 0 and bd > limit:
        return -1, np.inf
    return bo, bd
