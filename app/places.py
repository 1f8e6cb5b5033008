"""Administrative division codes given on the command line (`--village`, `--township`,
`--scope`), checked against the villages layer before any work: a code that names no village in
the data, or lies outside the user's places, gets a Chinese message instead of an empty list
written as if all were well, or a campaign saved with a scope nobody can match."""

from __future__ import annotations

import numpy as np

from layers.store.base import ADMIN_CODE, CODE_COLUMNS

_LEVEL = {6: "县级", 9: "乡镇级", 12: "村级"}


class PlaceError(ValueError):
    """Codes that cannot be used; the message (Chinese) names them and says how to fix it."""


def code_problem(text: str, lengths: tuple[int, ...] = (6, 9, 12)) -> str | None:
    """Why `text` is not an admin code of one of `lengths` digits (None: it is one)."""
    if ADMIN_CODE.match(text) and len(text) in lengths:
        return None
    if lengths == (9,):
        return f"乡镇（街道）代码“{text}”不对：应为 9 位数字，如 990101100"
    return (
        f"区划代码“{text}”不对：应为 6 位（县）、9 位（乡镇）或 12 位（村、社区）数字，"
        "如 990101100200"
    )


def resolve_args(store, args) -> None:
    """Check the codes of a command's --village, --township and --scope (townships) against
    the store, in place; mixed-level --village codes become the village codes they name."""
    if getattr(args, "village", None) is not None:
        args.village = resolve(store, args.village)
    if getattr(args, "township", None) is not None:
        resolve(store, [args.township], (9,))
    if getattr(args, "scope", None) is not None:
        args.scope = resolve(store, args.scope, (9,))


def resolve(store, codes: list[str] | None, lengths: tuple[int, ...] = (6, 9, 12)):
    """The codes to filter by (None: no filter, every place in scope). Codes of one level are
    kept as given (duplicates dropped); codes of mixed levels become the village codes they
    name, since a filter is on one column. Raises PlaceError for a malformed code, one that
    names no village in the data, or (for a user) one outside the user's places."""
    if codes is None:
        return None
    codes = [str(c).strip() for c in codes]
    problems = [p for p in (code_problem(c, lengths) for c in codes) if p]
    if problems:
        raise PlaceError("；".join(problems))
    villages = store.read_layer("villages", columns=["township_code", "county_code"])
    known = {n: set(villages[column]) for n, column in CODE_COLUMNS.items()}
    unknown = [c for c in codes if c not in known[len(c)]]
    if unknown:
        named = "、".join(f"{c}（{_LEVEL[len(c)]}）" for c in unknown[:5])
        raise PlaceError(
            f"数据中没有这些区划代码：{named}。请核对代码；已有的村（社区）可在“数据图层”页"
            "查看，或用 shouhu export geojson villages --out 村.geojson 导出"
        )
    scope = getattr(store, "scope", None)
    if scope is not None:
        outside = [c for c in codes if not scope.overlaps(c)]
        if outside:
            raise PlaceError(f"{'、'.join(outside[:5])} 不在您的管辖范围内")
    codes = list(dict.fromkeys(codes))
    if len({len(c) for c in codes}) == 1:
        return codes
    named = np.zeros(len(villages), dtype=bool)
    for code in codes:
        named |= villages[CODE_COLUMNS[len(code)]].to_numpy(dtype=object) == code
    return sorted(villages.loc[named, "village_code"])
