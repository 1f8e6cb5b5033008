#!/usr/bin/env bash
# Fetch Leaflet and leaflet.markercluster from the npm registry into app/static/vendor/,
# so the map works with no internet. Pinned versions; npm verifies the package integrity.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=app/static/vendor
stamp="$dest/.versions"
want="leaflet@1.9.4 leaflet.markercluster@1.5.3"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
command -v npm >/dev/null || { echo "需要 npm（Debian 包 npm）来下载地图脚本 Leaflet" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent $want >/dev/null 2>&1)
rm -rf "$dest" && mkdir -p "$dest/leaflet" "$dest/markercluster"
tar -xzf "$work"/leaflet-1.9.4.tgz -C "$work" && cp -r "$work"/package/dist/* "$dest/leaflet/" && rm -rf "$work/package"
tar -xzf "$work"/leaflet.markercluster-1.5.3.tgz -C "$work" && cp "$work"/package/dist/leaflet.markercluster.js "$work"/package/dist/MarkerCluster*.css "$dest/markercluster/"
echo "$want" > "$stamp"
echo "vendored $want into $dest"
