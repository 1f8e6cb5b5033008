"""Alembic environment: the URL comes from the Config (shouhu db upgrade) or DATABASE_URL."""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context
from geoalchemy2 import alembic_helpers

from layers.schema import metadata

config = context.config


def _url() -> str:
    url = config.attributes.get("url") or os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def include_object(obj, name, obj_type, reflected, compare_to):
    """Leave PostGIS's own tables (spatial_ref_sys, topology, tiger) out of autogenerate."""
    if obj_type == "table" and reflected and compare_to is None:
        if name in {"spatial_ref_sys", "layer", "topology"} or getattr(obj, "schema", None) in {
            "tiger",
            "topology",
        }:
            return False
    return alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to)


_COMMON = dict(
    target_metadata=metadata,
    include_object=include_object,
    process_revision_directives=alembic_helpers.writer,
    render_item=alembic_helpers.render_item,
    compare_type=True,
)


def run_migrations_offline() -> None:
    context.configure(url=_url(), literal_binds=True, **_COMMON)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **_COMMON)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = sa.create_engine(_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, **_COMMON)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
