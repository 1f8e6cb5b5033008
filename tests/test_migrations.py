"""Alembic migrations on a real PostGIS: upgrade from empty, GIST indexes, no autogenerate drift."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from layers.catalogue import LAYERS
from layers.migrations import env_options
from layers.schema import metadata
from layers.store.postgis import PostGISStore


def test_upgrade_from_empty_then_no_autogenerate_changes(new_pg_db):
    store = PostGISStore(new_pg_db(postgis=False))  # the migration installs PostGIS itself
    store.upgrade()
    store.check()
    assert store.current_revision() == store.head_revision()
    with store.engine.connect() as con:
        context = MigrationContext.configure(con, opts=env_options())
        diff = compare_metadata(context, metadata)
    assert diff == [], diff
    store.upgrade()  # a second upgrade is a no-op
    store.close()


def test_every_geometry_has_a_gist_index(new_pg_db):
    store = PostGISStore(new_pg_db())
    store.upgrade()
    with store.engine.connect() as con:
        gist = set(
            con.execute(
                sa.text(
                    "SELECT t.relname, a.attname FROM pg_index x "
                    "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                    "JOIN pg_am am ON am.oid = i.relam "
                    "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] "
                    "WHERE am.amname = 'gist'"
                )
            ).all()
        )
        srids = dict(
            con.execute(
                sa.text(
                    "SELECT f_table_name, srid FROM geometry_columns "
                    "WHERE f_geometry_column = 'geom'"
                )
            ).all()
        )
    spatial = {name for name, layer in LAYERS.items() if layer.geometry}
    # Storage geometry (EPSG:4326) and metric geometry (analysis CRS) are both indexed.
    assert {(name, "geom") for name in spatial} <= gist
    assert {(name, "geom_m") for name in spatial} <= gist
    assert {srids[name] for name in spatial} == {4326}
    store.close()


def test_downgrade_to_base_and_back(new_pg_db):
    from alembic import command

    from layers.store.postgis import alembic_config

    url = new_pg_db()
    store = PostGISStore(url)
    store.upgrade()
    command.downgrade(alembic_config(store.url), "base")
    assert store.current_revision() is None
    store.upgrade()
    assert store.current_revision() == store.head_revision()
    store.close()
