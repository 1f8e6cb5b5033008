"""Compiled passes (numba) over a county's children: their points, and what they add to each
household. One pass each instead of a NumPy pass per rule (nine masks of 130,000 children)
and a `bincount` per rule into floating-point counts.
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


def warm_up() -> None:
    """Load the kernels (numba's on-disk cache, or compile them once per machine)."""
    masks = np.ones((1, 1), bool)
    points = flag_points(masks, np.ones(1))
    _, counts, _ = household_tally(np.zeros(1, np.int64), masks, points, 1)
    combination_key(counts)
