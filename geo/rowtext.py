"""One line of Chinese text per row (the reasons of a grade), written by a compiled loop.

A row's text is a few optional groups joined by a separator ("距池塘“王家塘”35米（50米内）；
该水域四个一不全：缺救生圈；6岁以下1名"). A group is present where its mask is true and is a
sequence of tokens: a literal, a pick from a table of strings by a per-row index, or a per-row
whole number. Python string operations on 100,000s of rows cost more than the distance search,
and Arrow's element-wise kernels need several passes per part; here one compiled pass measures
every row, one writes the UTF-8 bytes, and the result is an Arrow string array (no copy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
import pyarrow as pa

MISSING = np.iinfo(np.int64).min  # a number that writes nothing


@dataclass(frozen=True)
class Pick:
    """table[index] per row; nothing where index < 0. table: strings (None/'' write nothing)."""

    table: pa.Array
    index: np.ndarray


@dataclass(frozen=True)
class Number:
    """The value rounded to a whole number per row; nothing where NaN."""

    values: np.ndarray


Token = str | Pick | Number


@dataclass(frozen=True)
class Group:
    """Tokens written in order where `mask` is true; one part of the joined text."""

    mask: np.ndarray
    tokens: tuple[Token, ...]

    def take(self, index: np.ndarray) -> Group:
        """The group for other rows: row r gets row index[r] (absent where index[r] < 0)."""
        index = np.asarray(index, dtype=np.int64)
        ok = index >= 0
        at = np.maximum(index, 0)
        mask = np.zeros(len(index), bool) if len(self.mask) == 0 else self.mask[at] & ok
        tokens = []
        for tok in self.tokens:
            if isinstance(tok, Pick):
                idx = tok.index[at] if len(tok.index) else np.full(len(index), -1)
                tok = Pick(tok.table, np.where(ok, idx, -1))
            elif isinstance(tok, Number):
                vals = tok.values[at] if len(tok.values) else np.full(len(index), np.nan)
                tok = Number(np.where(ok, vals, np.nan))
            tokens.append(tok)
        return Group(mask, tuple(tokens))


def group(mask, *tokens: Token) -> Group:
    return Group(np.asarray(mask, dtype=bool), tokens)


def _table(values) -> tuple[np.ndarray, np.ndarray]:
    """(UTF-8 bytes, offsets) of a string table; nulls are empty strings."""
    arr = pa.array(values, type=pa.large_string()) if not isinstance(values, pa.Array) else values
    arr = arr.cast(pa.large_string()).fill_null("")
    _, offsets, data = arr.buffers()
    off = np.frombuffer(offsets, np.int64)[arr.offset : arr.offset + len(arr) + 1]
    raw = np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8)
    return raw[off[0] : off[-1]], off - off[0]


def render(groups: list[Group], n: int, sep: str = "；") -> pa.Array:
    """The joined text of the present groups per row ('' where none), as Arrow large_string."""
    pool_data, pool_off, tables = [], [0], {}

    def add(values) -> int:
        """Add a table to the pool; its first pool id."""
        key = id(values)
        if key not in tables:
            raw, off = _table(values)
            tables[key] = (len(pool_off) - 1, values)
            pool_data.append(raw)
            pool_off.extend((off[1:] + pool_off[-1]).tolist() if len(off) > 1 else [])
        return tables[key][0]

    literal_texts = [sep]
    for g in groups:
        literal_texts += [t for t in g.tokens if isinstance(t, str)]
    literal_ids = {text: i for i, text in enumerate(dict.fromkeys(literal_texts))}
    literals = pa.array(list(literal_ids), type=pa.large_string())
    base = add(literals)
    kind, arg, start = [], [], [0]
    refs, ints = [], []
    for g in groups:
        for tok in g.tokens:
            if isinstance(tok, str):
                kind.append(0)
                arg.append(base + literal_ids[tok])
            elif isinstance(tok, Pick):
                first = add(tok.table)
                index = np.asarray(tok.index, dtype=np.int64)
                refs.append(np.where(index >= 0, index + first, -1))
                kind.append(1)
                arg.append(len(refs) - 1)
            else:
                values = np.asarray(tok.values, dtype=float)
                nan = np.isnan(values)
                ints.append(
                    np.where(nan, MISSING, np.round(np.where(nan, 0, values))).astype(np.int64)
                )
                kind.append(2)
                arg.append(len(ints) - 1)
        start.append(len(kind))
    masks = _columns([g.mask for g in groups], n, bool)
    out_off, out_data = _render_kernel(
        np.concatenate(pool_data) if pool_data else np.empty(0, np.uint8),
        np.asarray(pool_off, np.int64),
        np.asarray(kind, np.int64),
        np.asarray(arg, np.int64),
        np.asarray(start, np.int64),
        masks,
        _columns(refs, n, np.int64),
        _columns(ints, n, np.int64),
        base + literal_ids[sep],
    )
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(out_off), pa.py_buffer(out_data))


def _columns(columns: list[np.ndarray], n: int, dtype) -> np.ndarray:
    """Columns side by side as an (n, k) array, column-major so filling each is one copy."""
    out = np.empty((n, max(len(columns), 1)), dtype=dtype, order="F")
    for k, col in enumerate(columns):
        out[:, k] = col
    return out


@nb.njit(cache=True, inline="always")
def _digits(v):
    """Characters of v written in decimal (a minus sign counts)."""
    count = 1 if v < 0 else 0
    v = abs(v)
    count += 1
    while v >= 10:
        v //= 10
        count += 1
    return count


@nb.njit(cache=True, inline="always")
def _copy(write, out, at, pool, a, b):
    """Bytes pool[a:b] to out[at:] when `write`; their count."""
    if write:
        for j in range(b - a):
            out[at + j] = pool[a + j]
    return b - a


@nb.njit(cache=True, inline="always")
def _row(i, write, out, pos, pool, pool_off, kind, arg, start, masks, refs, ints, sep):
    """Length of row i's text; written at out[pos:] when `write`."""
    length = 0
    for g in range(start.shape[0] - 1):
        if not masks[i, g]:
            continue
        if length > 0:
            length += _copy(write, out, pos + length, pool, pool_off[sep], pool_off[sep + 1])
        for t in range(start[g], start[g + 1]):
            k = kind[t]
            if k == 2:
                v = ints[i, arg[t]]
                if v == MISSING:
                    continue
                d = _digits(v)
                if write:
                    j = pos + length + d - 1
                    if v < 0:
                        out[pos + length] = 45  # '-'
                        v = -v
                    while True:
                        out[j] = 48 + v % 10
                        v //= 10
                        j -= 1
                        if v == 0:
                            break
                length += d
                continue
            p = arg[t] if k == 0 else refs[i, arg[t]]
            if p < 0:
                continue
            length += _copy(write, out, pos + length, pool, pool_off[p], pool_off[p + 1])
    return length


@nb.njit(cache=True, parallel=True)
def _render_kernel(pool, pool_off, kind, arg, start, masks, refs, ints, sep):
    n = masks.shape[0]
    lengths = np.empty(n, np.int64)
    for i in nb.prange(n):
        lengths[i] = _row(
            i, False, pool, 0, pool, pool_off, kind, arg, start, masks, refs, ints, sep
        )
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    for i in range(n):
        offsets[i + 1] = offsets[i] + lengths[i]
    out = np.empty(offsets[n], np.uint8)
    for i in nb.prange(n):
        _row(i, True, out, offsets[i], pool, pool_off, kind, arg, start, masks, refs, ints, sep)
    return offsets, out
