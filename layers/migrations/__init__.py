"""Alembic migrations of the PostGIS schema (run with `shouhu db upgrade`)."""

from __future__ import annotations

from geoalchemy2 import alembic_helpers

from layers.schema import metadata

_POSTGIS_OWN = {"spatial_ref_sys", "layer", "topology"}


def include_object(obj, name, obj_type, reflected, compare_to):
    """Leave PostGIS's own tables (spatial_ref_sys, topology, tiger) out of autogenerate."""
    if obj_type == "index" and reflected and compare_to is None and name.startswith("ixp_"):
        return False  # partial indexes managed by hand in migration 0003
    if obj_type == "table" and reflected and compare_to is None:
        if name in _POSTGIS_OWN or getattr(obj, "schema", None) in {"tiger", "topology"}:
            return False
    return alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to)


def env_options() -> dict:
    """Options for both `context.configure` calls (and for drift checks in tests)."""
    return dict(
        target_metadata=metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
    )
