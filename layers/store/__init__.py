"""Open a store by what the user gave: a .gpkg path or a PostgreSQL URL."""

from __future__ import annotations

import os

from layers.errors import StoreError
from layers.store.base import Store

DEFAULT_STORE = "data/demo.gpkg"


def resolve_store_spec(store: str | None = None) -> str:
    """The store to use: --store, else DATABASE_URL, else SHOUHU_STORE, else the demo file."""
    return (
        store or os.environ.get("DATABASE_URL") or os.environ.get("SHOUHU_STORE") or DEFAULT_STORE
    )


def open_store(spec: str | None = None) -> Store:
    """Open (not check) the store named by `spec`; see `resolve_store_spec`."""
    spec = resolve_store_spec(spec)
    if "://" in spec:
        if not spec.startswith(("postgresql", "postgres")):
            raise StoreError(
                f"不支持的数据库地址：{spec.split('://')[0]}://…。"
                "请使用 postgresql://用户:密码@主机:端口/库名，或一个 .gpkg 文件路径。"
            )
        from layers.store.postgis import PostGISStore

        return PostGISStore(spec)
    from layers.store.gpkg import GeoPackageStore

    return GeoPackageStore(spec)


__all__ = ["Store", "StoreError", "open_store", "resolve_store_spec", "DEFAULT_STORE"]
