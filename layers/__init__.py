"""Layer catalogue, file I/O and storage (GeoPackage and PostGIS behind one interface)."""
