"""Alembic migrations of the PostGIS schema (run with `shouhu db upgrade`)."""
