#!/usr/bin/env bash
# What `make run` needs before the virtual environment: Python >= 3.11 with venv, and npm
# (to fetch Leaflet from the npm registry). Installs Debian packages when run as root.
set -euo pipefail
PYTHON=${PYTHON:-python3}
missing=()
command -v "$PYTHON" >/dev/null || missing+=(python3)
if command -v "$PYTHON" >/dev/null; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "需要 Python 3.11 或更高版本（当前：$("$PYTHON" --version)）" >&2; exit 1; }
  "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
fi
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "缺少软件包：${missing[*]}。请以 root 运行：apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
