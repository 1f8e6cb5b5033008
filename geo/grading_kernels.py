"""Compiled passes (numba) behind grading: the children's points and what they add to each
household, and each household's exposure. One pass each instead of a NumPy pass per rule
(nine masks of 130,000 children, a `bincount` per rule into floating-point counts; a dozen
passes over 100,000 households for the bands and the equipment).
"""

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def flag_points(masks, points):
    """Per child (column of `masks`, one row per rule): the sum of the points of the rules it
    meets, added in rule order."""
    k, m = masks.shape
    out = np.zeros(m)
    for f in range(k):
        p = points[f]
        for j in range(m):
            if masks[f, j]:
                out[j] += p
    return out


@nb.njit(cache=True, nogil=True)
def household_tally(home, masks, points, n):
    """Per household of n (each child's `home`, -1 none): its children, how many meet each rule
    (n, k: a household's counts side by side), and the highest of their `points` (NaN: no
    child)."""
    k, m = masks.shape
    total = np.zeros(n, np.int64)
    counts = np.zeros((n, k), np.int64)
    most = np.full(n, np.nan)
    for j in range(m):
        h = home[j]
        if h < 0:
            continue
        total[h] += 1
        for f in range(k):
            counts[h, f] += masks[f, j]
        if not most[h] >= points[j]:  # NaN (no child yet) or lower
            most[h] = points[j]
    return total, counts, most


@nb.njit(cache=True, nogil=True)
def combination_key(counts):
    """One number per row of counts (n, k) that tells its combination apart: the counts as
    digits of a mixed radix (column f's base: its largest count + 1); and False (the key
    unusable) when the bases' product reaches 2**62, where the key could wrap around."""
    n, k = counts.shape
    base = np.ones(k, np.int64)
    for i in range(n):
        for f in range(k):
            if counts[i, f] >= base[f]:
                base[f] = counts[i, f] + 1
    room = 1.0
    for f in range(k):
        room *= base[f]
    key = np.zeros(n, np.int64)
    if room >= 2.0**62:
        return key, False
    for i in range(n):
        v = 0
        for f in range(k):
            v = v * base[f] + counts[i, f]
        key[i] = v
    return key, True


@nb.njit(cache=True, inline="always")
def _band(value, limits):
    """The first band whose limit is >= value (limits ascend), -1 none (and for NaN)."""
    for b in range(limits.shape[0]):
        if value <= limits[b]:
            return b
    return -1


@nb.njit(cache=True, nogil=True)
def exposure(type_no, water, dist, slope_m, radius_of, w_limit, w_points, lack_code, fence_bad,
             lack_points, fence_points, s_limit, s_points):  # fmt: skip
    """Per household, from its nearest water body (`water`, -1 none; `type_no`, its type's
    place in radius_of, whose last entry, NaN, stands for none; `dist`) and the distance to
    its nearest slope: the water band (-1 none) and its points, which of the four items that
    water body lacks (bits) and whether its fencing is bad, both only within its type's
    radius, the slope band's points, and the sum. Band points take 0 for none (their last)."""
    n = type_no.shape[0]
    water_pts, slope_pts, total = np.empty(n), np.empty(n), np.empty(n)
    water_band, lack = np.empty(n, np.int64), np.zeros(n, np.int64)
    fence = np.zeros(n, np.bool_)
    for i in range(n):
        reach = dist[i] <= radius_of[type_no[i]]  # False for NaN
        band = _band(dist[i], w_limit) if reach else -1
        water_band[i] = band
        water_pts[i] = w_points[band]
        equip = 0
        if reach and water[i] >= 0:
            lack[i] = lack_code[water[i]]
            fence[i] = fence_bad[water[i]]
            equip = (lack_points if lack[i] > 0 else 0) + (fence_points if fence[i] else 0)
        slope_pts[i] = s_points[_band(slope_m[i], s_limit)]
        total[i] = water_pts[i] + equip + slope_pts[i]
    return water_band, water_pts, lack, fence, slope_pts, total


def warm_up() -> None:
    """Load the kernels (numba's on-disk cache, or compile them once per machine)."""
    masks = np.ones((1, 1), bool)
    points = flag_points(masks, np.ones(1))
    _, counts, _ = household_tally(np.zeros(1, np.int64), masks, points, 1)
    combination_key(counts)
    one, ones, yes = np.zeros(1, np.int64), np.ones(2), np.ones(1, np.bool_)
    for writable in (True, False):  # distances come read-only from pandas columns
        dist = np.ones(1)
        dist.flags.writeable = writable
        exposure(one, one, dist, dist, ones, ones[:1], ones, one, yes, 1.0, 1.0, ones[:1], ones)
