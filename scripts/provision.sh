#!/usr/bin/env bash
# What the tests need beyond Python: PostgreSQL 15 with PostGIS 3, Chromium, CJK fonts.
# Installs the missing Debian packages when run as root; otherwise says what to install.
set -euo pipefail
need=(postgresql-15-postgis-3 chromium fonts-noto-cjk)
missing=()
for pkg in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && { echo "provision: PostGIS, Chromium and CJK fonts present"; exit 0; }
if [ "$(id -u)" -ne 0 ]; then
  echo "测试需要以下软件包：${missing[*]}。请以 root 运行：apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "provision: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
# Debian starts a cluster on install; the tests run their own throwaway server instead.
command -v pg_ctlcluster >/dev/null && pg_ctlcluster 15 main stop 2>/dev/null || true
echo "provision: done"
