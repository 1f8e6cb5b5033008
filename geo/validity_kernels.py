"""Compiled test (numba) behind `segment_grid.sure_valid`: whether a shape's segments prove it
valid, so that GEOS need only judge the rest. Kept apart from the search kernels: it answers
a different question (is the shape sound?) over the same segments.
"""

import numba as nb
import numpy as np

SURE_VALID_MAX = 64  # segments: a bigger shape is left to GEOS (the pair test is quadratic)


@nb.njit(cache=True, inline="always")
def _orient(ax, ay, bx, by, cx, cy):
    """Side of c from the line a->b: 1 left, -1 right, 0 when rounding could decide it (a
    bound far looser than Shewchuk's, so that 'sure' is sure)."""
    left = (bx - ax) * (cy - ay)
    right = (by - ay) * (cx - ax)
    det = left - right
    bound = 1e-10 * (abs(left) + abs(right))
    if det > bound:
        return 1
    if det < -bound:
        return -1
    return 0


@nb.njit(cache=True, inline="always")
def _apart(seg, i, j):
    """Whether segments i and j (not neighbours in their ring) surely do not meet: 1 apart,
    0 unsure or meeting."""
    ax, ay, bx, by = seg[i, 0], seg[i, 1], seg[i, 2], seg[i, 3]
    cx, cy, dx, dy = seg[j, 0], seg[j, 1], seg[j, 2], seg[j, 3]
    if max(ax, bx) < min(cx, dx) or max(cx, dx) < min(ax, bx):
        return True
    if max(ay, by) < min(cy, dy) or max(cy, dy) < min(ay, by):
        return True
    o1 = _orient(ax, ay, bx, by, cx, cy)
    o2 = _orient(ax, ay, bx, by, dx, dy)
    o3 = _orient(cx, cy, dx, dy, ax, ay)
    o4 = _orient(cx, cy, dx, dy, bx, by)
    if o1 == 0 or o2 == 0 or o3 == 0 or o4 == 0:
        return False
    return o1 == o2 or o3 == o4


@nb.njit(cache=True, nogil=True)
def sure_valid(seg, owner_start, is_polygon, simple):
    """Per target, whether it is surely a valid geometry in the OGC sense GEOS checks, from its
    segments alone; False means 'ask GEOS' (it may well be valid). Decided here: a `simple`
    line (one part: finite, with a segment of some length) and a `simple` polygon (one ring,
    no holes) whose ring is closed, finite and simple: no two segments meet except neighbours
    at their shared vertex, where they turn. Anything near a tie is left to GEOS."""
    n = owner_start.shape[0] - 1
    out = np.zeros(n, np.bool_)
    for o in range(n):
        a, b = owner_start[o], owner_start[o + 1]
        m = b - a
        if not simple[o] or m == 0 or m > SURE_VALID_MAX:
            continue
        finite = True
        length = False
        for s in range(a, b):
            for k in range(4):
                if not np.isfinite(seg[s, k]):
                    finite = False
            if seg[s, 0] != seg[s, 2] or seg[s, 1] != seg[s, 3]:
                length = True
        if not finite:
            continue
        if not is_polygon[o]:
            out[o] = length
            continue
        if m < 3 or seg[b - 1, 2] != seg[a, 0] or seg[b - 1, 3] != seg[a, 1]:
            continue
        ok = True
        for i in range(m):  # every vertex turns: neighbours meet only there
            p, q = a + (i - 1 if i > 0 else m - 1), a + i
            if _orient(seg[p, 0], seg[p, 1], seg[q, 0], seg[q, 1], seg[q, 2], seg[q, 3]) == 0:
                ok = False
                break
        for i in range(m):
            if not ok:
                break
            for j in range(i + 2, m):
                if i == 0 and j == m - 1:
                    continue  # neighbours across the closing vertex
                if not _apart(seg, a + i, a + j):
                    ok = False
                    break
        out[o] = ok
    return out
