"""Compiled nearest search (numba) for many points at once, a cell of points at a time.

The ring search of geo/grid_kernels.py walks, for every point, every cell out to its nearest
target: for a dam or a river 2 km away that is dozens of cells per home. Homes come in
villages, so here the points are grouped in square query cells and the walk is done once per
cell, from its centre m: D, the distance from m to its nearest target, bounds every point p
of the cell (|pm| <= h, the half diagonal): its nearest is at most D + h away, so the segment
that gives it lies within D + 2h of m. Those segments (and the polygons around m) are gathered
once; each point is then measured against them alone, with the same exact formula and the
same tie rule (smaller rank) as the ring search, so both give the same answers.

Like every kernel, it takes a grid's `SegmentGrid.kernel_args` after its own parameters.
"""

import math

import numba as nb
import numpy as np

from geo.grid_kernels import (
    SLACK,
    _containing,
    _inside,
    _nearer,
    _ring_nearest,
    _seg_dist,
    _seg_dist2,
    _window,
)  # fmt: skip


@nb.njit(cache=True)
def point_cells(pts, cell):
    """Points grouped by square query cells of side `cell` (widened to keep the grid within
    ~4M cells), by a counting sort: (point order, start of each occupied cell in it, centre
    (k, 2) of each occupied cell, the side used)."""
    n = pts.shape[0]
    x0, y0, x1, y1 = np.inf, np.inf, -np.inf, -np.inf
    for i in range(n):
        x, y = pts[i, 0], pts[i, 1]
        if x < x0:
            x0 = x
        if x > x1:
            x1 = x
        if y < y0:
            y0 = y
        if y > y1:
            y1 = y
    cell = max(cell, math.sqrt((x1 - x0 + 1.0) * (y1 - y0 + 1.0) / 4e6))
    nx = int((x1 - x0) / cell) + 1
    ny = int((y1 - y0) / cell) + 1
    key = np.empty(n, np.int64)
    counts = np.zeros(nx * ny + 1, np.int64)
    for i in range(n):
        cx = min(int((pts[i, 0] - x0) / cell), nx - 1)  # >= 0: no floor needed
        cy = min(int((pts[i, 1] - y0) / cell), ny - 1)
        key[i] = cy * nx + cx
        counts[key[i] + 1] += 1
    start = np.cumsum(counts)
    fill = start[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        order[fill[key[i]]] = i
        fill[key[i]] += 1
    occupied = 0
    for c in range(nx * ny):
        if start[c + 1] > start[c]:
            occupied += 1
    cell_start = np.empty(occupied + 1, np.int64)
    centre = np.empty((occupied, 2))
    k = 0
    for c in range(nx * ny):
        if start[c + 1] > start[c]:
            cell_start[k] = start[c]
            centre[k, 0] = x0 + (c % nx + 0.5) * cell
            centre[k, 1] = y0 + (c // nx + 0.5) * cell
            k += 1
    cell_start[occupied] = n
    return order, cell_start, centre, cell


@nb.njit(cache=True, fastmath=True)
def _filter_dist2(px, py, sx, sy, sdx, sdy, sinv, sq, nc):
    """Squared distance from the point to each of the first `nc` segments (start sx, sy,
    direction sdx, sdy, 1 / squared length sinv; 0 for a point) into `sq`, and their least.
    Branch-free and fast-math so that it runs on vector registers: a filter, within a few
    units in the last place of the exact `_seg_dist2` (every value is finite)."""
    for u in range(nc):
        wx = px - sx[u]
        wy = py - sy[u]
        t = min(max((wx * sdx[u] + wy * sdy[u]) * sinv[u], 0.0), 1.0)
        ex = wx - t * sdx[u]
        ey = wy - t * sdy[u]
        sq[u] = ex * ex + ey * ey
    qmin = 1e300
    for u in range(nc):
        qmin = min(qmin, sq[u])
    return qmin


@nb.njit(cache=True, parallel=True, nogil=True)
def nearest_by_cells(
    pts, order, pcell_start, centre, half_m, out_o, out_d, ids, threads, limit, rank, kind,
    want, is_polygon,
    g_x0, g_y0, cell, nx, ny, seg, cell_owner, owner_start, cell_start, cell_xy,
    poly_start, poly_ids, bbox, n_owners,
):  # fmt: skip
    """Into out_o/out_d, for each point whose out_o is -1 (the others are left as they are):
    the nearest target within `limit` (ties to the smaller rank) as ids[target] (the target
    itself when `ids` is empty), and its distance; nothing where none is within `limit`. With
    `want` >= 0, among targets of that `kind` only. Points come grouped by query cell
    (`point_cells`: order, pcell_start, centre; half_m the cells' half diagonal)."""
    ncells = centre.shape[0]
    nthreads = max(1, min(threads, ncells // 64))
    for worker in nb.prange(nthreads):
        best = np.full(n_owners, np.inf)
        touched = np.empty(n_owners, np.int64)
        mark = np.full(n_owners, -1, np.int64)
        cand = np.empty(cell_xy.shape[0], np.int64)
        polys = np.empty(n_owners, np.int64)
        sx = np.empty(cell_xy.shape[0])  # the candidates, laid out for `_filter_dist2`
        sy = np.empty(cell_xy.shape[0])
        sdx = np.empty(cell_xy.shape[0])
        sdy = np.empty(cell_xy.shape[0])
        sinv = np.empty(cell_xy.shape[0])
        sq = np.empty(cell_xy.shape[0])
        for q in range(worker, ncells, nthreads):  # alternate cells: balanced halves
            a, b = pcell_start[q], pcell_start[q + 1]
            busy = False
            for j in range(a, b):
                if out_o[order[j]] == -1:
                    busy = True
                    break
            if not busy:
                continue
            mx, my = centre[q, 0], centre[q, 1]
            # Nothing within limit + h of the centre: nothing within limit of any point.
            mo, md = _ring_nearest(
                mx, my, limit + half_m, rank, kind, want, best, touched,
                g_x0, g_y0, cell, nx, ny, seg, cell_owner, owner_start, cell_start, cell_xy,
                poly_start, poly_ids, bbox,
            )  # fmt: skip
            if mo < 0:
                continue
            reach = (md + 2.0 * half_m) * SLACK + 1e-6
            reach2 = reach * reach
            nc = 0
            npoly = 0
            cx0, cx1, cy0, cy1 = _window(mx, my, reach, g_x0, g_y0, cell, nx, ny)
            for cy in range(cy0, cy1 + 1):
                for cx in range(cx0, cx1 + 1):
                    c = cy * nx + cx
                    for k in range(cell_start[c], cell_start[c + 1]):
                        o = cell_owner[k]
                        if want >= 0 and kind[o] != want:
                            continue
                        ax, ay = cell_xy[k, 0], cell_xy[k, 1]
                        bx, by = cell_xy[k, 2], cell_xy[k, 3]
                        if _seg_dist2(mx, my, ax, ay, bx, by) > reach2:
                            continue
                        cand[nc] = k
                        sx[nc] = ax
                        sy[nc] = ay
                        sdx[nc] = bx - ax
                        sdy[nc] = by - ay
                        len2 = sdx[nc] * sdx[nc] + sdy[nc] * sdy[nc]
                        sinv[nc] = 1.0 / len2 if len2 > 0.0 else 0.0
                        nc += 1
                        if is_polygon[o] and mark[o] != q:
                            mark[o] = q
                            polys[npoly] = o
                            npoly += 1
            # Polygons around the centre whose edges are all out of reach hold the whole cell.
            nt = _containing(
                mx, my, g_x0, g_y0, cell, nx, ny, poly_start, poly_ids, bbox, seg,
                owner_start, best, touched, 0,
            )  # fmt: skip
            for j in range(nt):
                o = touched[j]
                best[o] = np.inf
                if mark[o] != q:
                    mark[o] = q
                    polys[npoly] = o
                    npoly += 1
            for j in range(a, b):
                i = order[j]
                if out_o[i] != -1:
                    continue
                px, py = pts[i, 0], pts[i, 1]
                bo = -1
                bd = np.inf
                for u in range(npoly):
                    o = polys[u]
                    if want >= 0 and kind[o] != want:
                        continue
                    if px < bbox[o, 0] or px > bbox[o, 2] or py < bbox[o, 1] or py > bbox[o, 3]:
                        continue
                    if _inside(px, py, o, seg, owner_start) and _nearer(0.0, o, bd, bo, rank):
                        bo = o
                        bd = 0.0
                # The squared distance to every candidate in one vectorised pass; only those
                # that could be the nearest (rounding aside) are measured exactly.
                qmin = _filter_dist2(px, py, sx, sy, sdx, sdy, sinv, sq, nc)
                keep = qmin * (1.0 + 1e-9) + 1e-6 + 1e-12 * reach2
                for u in range(nc):
                    if sq[u] > keep:
                        continue
                    k = cand[u]
                    ax, ay = cell_xy[k, 0], cell_xy[k, 1]
                    bx, by = cell_xy[k, 2], cell_xy[k, 3]
                    if _seg_dist2(px, py, ax, ay, bx, by) > bd * bd * SLACK:
                        continue
                    o = cell_owner[k]
                    d = _seg_dist(px, py, ax, ay, bx, by)
                    if _nearer(d, o, bd, bo, rank):
                        bd = d
                        bo = o
                if bo >= 0 and bd <= limit:
                    out_o[i] = ids[bo] if ids.shape[0] else bo
                    out_d[i] = bd
