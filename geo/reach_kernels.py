"""Compiled search (numba) behind `segment_grid.reach`: per point, the count of targets within
their kind's radius and the nearest of each kind within reach, target by target (small ponds
and dams taken whole) rather than segment by segment. Kept apart from geo/grid_kernels.py,
whose distance primitives it uses: it answers from targets' boxes first, and measures a
target only when its box leaves the answer open.

Like every kernel, it takes a grid's `SegmentGrid.kernel_args` after its own parameters.
"""

import math

import numba as nb
import numpy as np

from geo.grid_kernels import SLACK, _inside, _nearer, _seg_dist, _seg_dist2, _window


@nb.njit(cache=True)
def cell_owners(cell_start, cell_owner, keep):
    """CSR of the distinct owners of each cell's segments, those with `keep` only (a cell
    lists its segments in owner order, so repeats are neighbours)."""
    ncell = cell_start.shape[0] - 1
    start = np.zeros(ncell + 1, np.int64)
    ids = np.empty(cell_owner.shape[0], np.int64)
    m = 0
    for c in range(ncell):
        last = -1
        for k in range(cell_start[c], cell_start[c + 1]):
            o = cell_owner[k]
            if o != last and keep[o]:
                ids[m] = o
                m += 1
                last = o
        start[c + 1] = m
    return start, ids[:m]


@nb.njit(cache=True)
def _owner_dist(px, py, o, near_box, seg, owner_start, is_polygon):
    """Exact distance from the point to target o: GEOS's formula on the segment the squared
    filter finds closest; 0 inside a polygon (tested only when the point is in its box)."""
    q = np.inf
    kb = owner_start[o]
    for s in range(owner_start[o], owner_start[o + 1]):
        qq = _seg_dist2(px, py, seg[s, 0], seg[s, 1], seg[s, 2], seg[s, 3])
        if qq < q:
            q = qq
            kb = s
    if near_box and is_polygon[o] and _inside(px, py, o, seg, owner_start):
        return 0.0
    return _seg_dist(px, py, seg[kb, 0], seg[kb, 1], seg[kb, 2], seg[kb, 3])


@nb.njit(cache=True)
def _judge(px, py, cand, cand_q, nc, reach, radius_of, kind, rank, seg, owner_start, is_polygon,
           near_o, near_d):  # fmt: skip
    """For one point and its candidate targets (with their squared box distances; the first
    nc): the nearest of each kind within `reach` into near_o/near_d (one row) and the count
    within their kind's radius (returned).

    Each kind's candidate of smallest box distance is measured first (no sort of them all: the
    answer does not depend on the order). A target is measured exactly only when its box could
    hold its kind's nearest so far, or when its box straddles the radius and its first vertex
    does not settle it: a target whose box is beyond the radius is out, one with a vertex
    inside the radius is in. Exact distances are those of `within_kernel`, so both give the
    same counts and nearest targets."""
    kinds = radius_of.shape[0]
    for t in range(kinds):
        near_o[t] = -1
        near_d[t] = np.inf
    front = 0
    for t in range(kinds):
        b = -1
        bq = np.inf
        for j in range(front, nc):
            if cand_q[j] < bq and kind[cand[j]] == t:
                bq = cand_q[j]
                b = j
        if b >= 0:
            o = cand[b]
            cand[b] = cand[front]
            cand_q[b] = cand_q[front]
            cand[front] = o
            cand_q[front] = bq
            front += 1
    m = 0
    for j in range(nc):
        o = cand[j]
        t = kind[o]
        lb = math.sqrt(cand_q[j]) * (1.0 - 1e-9)
        r = radius_of[t]
        settled = lb > r  # out of the radius whatever the shape
        if not settled:
            vx = seg[owner_start[o], 0] - px
            vy = seg[owner_start[o], 1] - py
            if math.sqrt(vx * vx + vy * vy) * (1.0 + 1e-9) < r:
                settled = True  # a vertex within the radius: in
                m += 1
        if settled and lb > near_d[t]:
            continue
        d = _owner_dist(px, py, o, cand_q[j] == 0.0, seg, owner_start, is_polygon)
        if not settled and d <= r:
            m += 1
        if d > reach:
            continue
        if _nearer(d, o, near_d[t], near_o[t], rank):
            near_o[t] = o
            near_d[t] = d
    for t in range(kinds):
        if near_o[t] < 0:
            near_d[t] = np.nan
    return m


@nb.njit(cache=True, parallel=True, nogil=True)
def reach_by_cells(
    pts, order, pcell_start, centre, side_m, threads, reach, radius_of, kind, rank, count,
    near_o, near_d, is_polygon, own_start, own_ids, whole,
    g_x0, g_y0, cell, nx, ny, seg, cell_owner, owner_start, cell_start, cell_xy,
    poly_start, poly_ids, bbox, n_owners,
):  # fmt: skip
    """Per point: how many `whole` targets are within their kind's radius, and the nearest of
    each kind within `reach` (-1 when none), target by target rather than segment by segment.

    Points come grouped by query cell (`cell_kernels.point_cells`, cells of side `side_m`):
    the targets that may be within reach of any point of a cell (`own_start`/`own_ids`: the
    distinct targets of each grid cell's segments) are gathered once per cell, with their
    boxes side by side; each point then tests those boxes in one tight pass. Add the `whole`
    polygons whose box holds the point, and `_judge` decides."""
    ncells = centre.shape[0]
    nthreads = max(1, min(threads, ncells // 16))
    reach2 = reach * reach * SLACK
    for worker in nb.prange(nthreads):
        seen = np.full(n_owners, -1, np.int64)
        mark = np.full(n_owners, -1, np.int64)
        gid = np.empty(n_owners, np.int64)  # the cell's gathered targets and their boxes
        gx0 = np.empty(n_owners)
        gy0 = np.empty(n_owners)
        gx1 = np.empty(n_owners)
        gy1 = np.empty(n_owners)
        gq = np.empty(n_owners)
        cand = np.empty(n_owners, np.int64)
        cand_q = np.empty(n_owners)
        for q in range(worker, ncells, nthreads):  # alternate cells: balanced halves
            a, b = pcell_start[q], pcell_start[q + 1]
            half = 0.5 * side_m + reach
            ng = 0
            cx0, cx1, cy0, cy1 = _window(centre[q, 0], centre[q, 1], half, g_x0, g_y0, cell, nx, ny)
            for cy in range(cy0, cy1 + 1):
                for cx in range(cx0, cx1 + 1):
                    c = cy * nx + cx
                    for k in range(own_start[c], own_start[c + 1]):
                        o = own_ids[k]
                        if mark[o] == q:
                            continue
                        mark[o] = q
                        gid[ng] = o
                        gx0[ng] = bbox[o, 0]
                        gy0[ng] = bbox[o, 1]
                        gx1[ng] = bbox[o, 2]
                        gy1[ng] = bbox[o, 3]
                        ng += 1
            for j in range(a, b):
                i = order[j]
                px, py = pts[i, 0], pts[i, 1]
                for u in range(ng):  # side by side: vector registers
                    dx = max(gx0[u] - px, 0.0, px - gx1[u])
                    dy = max(gy0[u] - py, 0.0, py - gy1[u])
                    gq[u] = dx * dx + dy * dy
                nc = 0
                for u in range(ng):
                    if gq[u] <= reach2:
                        o = gid[u]
                        seen[o] = i
                        cand[nc] = o
                        cand_q[nc] = gq[u]
                        nc += 1
                # A polygon around the point whose every edge is out of reach (a large lake):
                # not listed in the cells in reach, yet at distance 0. Its box holds the point.
                hx = int(math.floor((px - g_x0) / cell))
                hy = int(math.floor((py - g_y0) / cell))
                if 0 <= hx < nx and 0 <= hy < ny:
                    c = hy * nx + hx
                    for k in range(poly_start[c], poly_start[c + 1]):
                        o = poly_ids[k]
                        if seen[o] == i or not whole[o]:
                            continue
                        if px < bbox[o, 0] or px > bbox[o, 2] or py < bbox[o, 1] or py > bbox[o, 3]:
                            continue
                        seen[o] = i
                        cand[nc] = o
                        cand_q[nc] = 0.0
                        nc += 1
                count[i] = _judge(
                    px, py, cand, cand_q, nc, reach, radius_of, kind, rank, seg, owner_start,
                    is_polygon, near_o[i], near_d[i],
                )  # fmt: skip


@nb.njit(cache=True, nogil=True)
def overall_nearest(near_o, near_d, rank):
    """Per row of the nearest target of each kind (near_o, -1 none; near_d): the kind of the
    nearest of all (-1 none), its target and distance (NaN none); ties go to the smaller
    rank, then to the first kind."""
    n, kinds = near_o.shape
    best = np.full(n, -1, np.int64)
    best_o = np.full(n, -1, np.int64)
    best_d = np.full(n, np.nan)
    for i in range(n):
        for t in range(kinds):
            o = near_o[i, t]
            if o < 0:
                continue
            d = near_d[i, t]
            b = best_o[i]
            if b < 0 or d < best_d[i] or (d == best_d[i] and rank[o] < rank[b]):
                best[i], best_o[i], best_d[i] = t, o, d
    return best, best_o, best_d
