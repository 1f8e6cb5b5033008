"""Layer catalogue, file I/O and storage (GeoPackage and PostGIS behind one interface)."""

import pyarrow as pa

# Arrow's buffers (layers read as Arrow, the text columns computed on) come from the C library's
# allocator, not Arrow's default mimalloc. mimalloc keeps a heap per thread and backs it with
# transparent huge pages, so each new thread (every Streamlit rerun, the risk preparation's
# thread) first zeroes fresh 2 MiB pages: county risk's first call measured 197 ms against
# 172 ms this way (median of 12 fresh processes each).
pa.set_memory_pool(pa.system_memory_pool())
