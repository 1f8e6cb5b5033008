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

# Fewer rows than this are written on the calling thread alone: each of the kernel's few dozen
# parallel loops would otherwise wait for the other threads, which may be busy with a search
# (the children's text, a few hundred rows, took 13 ms beside the in-reach search, 0.3 alone).
SERIAL_BELOW = 5_000


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
    kind, arg, table_base, start = [], [], [], [0]
    masks, refs, nums = _list(_BOOLS), _list(_INTS), _list(_FLOATS)
    for g in groups:
        masks.append(np.ascontiguousarray(g.mask, dtype=bool))
        for tok in g.tokens:
            if isinstance(tok, str):
                kind.append(0)
                arg.append(base + literal_ids[tok])
                table_base.append(0)
            elif isinstance(tok, Pick):
                table_base.append(add(tok.table))
                refs.append(np.ascontiguousarray(tok.index, dtype=np.int64))
                kind.append(1)
                arg.append(len(refs) - 1)
            else:
                nums.append(np.ascontiguousarray(tok.values, dtype=np.float64))
                kind.append(2)
                arg.append(len(nums) - 1)
                table_base.append(0)
        start.append(len(kind))
    threads = nb.get_num_threads()
    if n < SERIAL_BELOW:  # this thread's setting only (numba keeps it per thread)
        nb.set_num_threads(1)
    try:
        out_off, out_data = _render_kernel(
            n,
            np.concatenate(pool_data) if pool_data else np.empty(0, np.uint8),
            np.asarray(pool_off, np.int64),
            np.asarray(kind, np.int64),
            np.asarray(arg, np.int64),
            np.asarray(table_base, np.int64),
            np.asarray(start, np.int64),
            masks,
            refs,
            nums,
            base + literal_ids[sep],
        )
    finally:
        nb.set_num_threads(threads)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(out_off), pa.py_buffer(out_data))


_BOOLS = nb.types.Array(nb.types.boolean, 1, "C", readonly=True)
_INTS = nb.types.Array(nb.types.int64, 1, "C", readonly=True)
_FLOATS = nb.types.Array(nb.types.float64, 1, "C", readonly=True)


def _list(item_type) -> nb.typed.List:
    """An empty typed list of arrays (one compiled kernel for any number of columns)."""
    return nb.typed.List.empty_list(item_type)


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
def _number(x):
    """x rounded half to even (as NumPy rounds), and its decimal characters; -1 when NaN."""
    if np.isnan(x):
        return 0, -1
    v = np.int64(np.rint(x))
    return v, _digits(v)


@nb.njit(cache=True, inline="always")
def _write_number(out, at, v, d):
    j = at + d - 1
    if v < 0:
        out[at] = 45  # '-'
        v = -v
    while True:
        out[j] = 48 + v % 10
        v //= 10
        j -= 1
        if v == 0:
            break


@nb.njit(cache=True, parallel=True, nogil=True)
def _render_kernel(n, pool, pool_off, kind, arg, table_base, start, masks, refs, nums, sep):
    """Token by token over all rows (so each column is fetched once): measure, then write."""
    sep_len = pool_off[sep + 1] - pool_off[sep]
    length = np.zeros(n, np.int64)
    for g in range(start.shape[0] - 1):
        mask = masks[g]
        for i in nb.prange(n):
            if mask[i] and length[i] > 0:
                length[i] += sep_len
        for t in range(start[g], start[g + 1]):
            if kind[t] == 0:
                size = pool_off[arg[t] + 1] - pool_off[arg[t]]
                for i in nb.prange(n):
                    if mask[i]:
                        length[i] += size
            elif kind[t] == 1:
                ref = refs[arg[t]]
                base = table_base[t]
                for i in nb.prange(n):
                    if mask[i] and ref[i] >= 0:
                        length[i] += pool_off[ref[i] + base + 1] - pool_off[ref[i] + base]
            else:
                num = nums[arg[t]]
                for i in nb.prange(n):
                    if mask[i]:
                        _, d = _number(num[i])
                        if d > 0:
                            length[i] += d
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    for i in range(n):
        offsets[i + 1] = offsets[i] + length[i]
    out = np.empty(offsets[n], np.uint8)
    cur = offsets[:n].copy()
    for g in range(start.shape[0] - 1):
        mask = masks[g]
        a = pool_off[sep]
        for i in nb.prange(n):
            if mask[i] and cur[i] > offsets[i]:
                for j in range(sep_len):
                    out[cur[i] + j] = pool[a + j]
                cur[i] += sep_len
        for t in range(start[g], start[g + 1]):
            if kind[t] == 0:
                a = pool_off[arg[t]]
                size = pool_off[arg[t] + 1] - a
                for i in nb.prange(n):
                    if mask[i]:
                        for j in range(size):
                            out[cur[i] + j] = pool[a + j]
                        cur[i] += size
            elif kind[t] == 1:
                ref = refs[arg[t]]
                base = table_base[t]
                for i in nb.prange(n):
                    if mask[i] and ref[i] >= 0:
                        first = pool_off[ref[i] + base]
                        count = pool_off[ref[i] + base + 1] - first
                        for j in range(count):
                            out[cur[i] + j] = pool[first + j]
                        cur[i] += count
            else:
                num = nums[arg[t]]
                for i in nb.prange(n):
                    if mask[i]:
                        v, d = _number(num[i])
                        if d > 0:
                            _write_number(out, cur[i], v, d)
                            cur[i] += d
    return offsets, out


def warm_up() -> None:
    """Load the compiled kernel (numba's on-disk cache, or compile it once per machine) and the
    typed-list methods it takes its columns in (compiled once per process, for writable and
    read-only arrays alike)."""
    for writable in (True, False):
        mask, index, value = np.array([True]), np.array([0]), np.ones(1)
        for array in (mask, index, value):
            array.flags.writeable = writable
        render([group(mask, "x", Pick(pa.array(["y"]), index), Number(value))], 1)
