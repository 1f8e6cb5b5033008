"""Benchmarks of the foundation: demo generation, store writes and filtered reads.

Prints medians (of --runs) with the machine's core count; asserts nothing. PostGIS figures use
a throwaway server (tests/pg_server.py) or TEST_DATABASE_URL.
Usage: python scripts/bench.py [--scales town,county] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from layers import demo  # noqa: E402
from layers.store.gpkg import GeoPackageStore  # noqa: E402
from layers.store.postgis import PostGISStore  # noqa: E402


def median_s(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_store(label, make_store, frames, runs):
    village = sorted(frames["villages"]["village_code"])[0]
    minx, miny, maxx, maxy = frames["villages"].total_bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    bbox = (cx - 0.02, cy - 0.02, cx + 0.02, cy + 0.02)  # about 4 km x 4.4 km

    def write():
        store = make_store()
        store.write_layers(frames, replace=True)
        store.close()

    write_s = median_s(write, max(1, runs // 2))
    store = make_store()
    rows = [
        ("write all layers", write_s),
        ("read households (all)", median_s(lambda: store.read_layer("households"), runs)),
        (
            "read households (1 village)",
            median_s(lambda: store.read_layer("households", village_codes=[village]), runs),
        ),
        (
            "read households (4 km bbox)",
            median_s(lambda: store.read_layer("households", bbox=bbox), runs),
        ),
        ("read water bodies (all)", median_s(lambda: store.read_layer("water_bodies"), runs)),
    ]
    store.close()
    for what, seconds in rows:
        print(f"  {label:8s} {what:30s} {seconds:8.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="town,county")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-postgis", action="store_true")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}  runs: {args.runs} (median)")
    server = None
    if not args.no_postgis:
        from tests.conftest import ExternalPostgres
        from tests.pg_server import TempPostgres

        url = os.environ.get("TEST_DATABASE_URL")
        server = ExternalPostgres(url) if url else TempPostgres().start()
    try:
        for scale in args.scales.split(","):
            gen_s = median_s(lambda s=scale: demo.generate(seed=1, scale=s), 1)
            frames = demo.generate(seed=1, scale=scale)
            counts = {
                k: len(v)
                for k, v in frames.items()
                if k in ("households", "children", "water_bodies")
            }
            print(f"\n[{scale}] {counts}  generate: {gen_s:.2f} s")
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "bench.gpkg"
                GeoPackageStore(path).upgrade()
                bench_store("gpkg", lambda p=path: GeoPackageStore(p), frames, args.runs)
            if server is not None:
                db_url = server.create_database(f"bench_{scale}", postgis=True)
                PostGISStore(db_url).upgrade()
                bench_store("postgis", lambda u=db_url: PostGISStore(u), frames, args.runs)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
