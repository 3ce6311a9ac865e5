#!/usr/bin/env bash
# install-deps.sh [--peers]: installs what is missing, and only that, so a second run is a
# no-op. Debian packages from scripts/apt-packages.txt; with --peers also the Python venv
# (.venv) with scripts/pip-requirements.txt. Needs root for apt (CI and the set-up run as root).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
missing=()
while read -r pkg; do
  pkg=${pkg%%#*}; pkg=$(echo "$pkg" | xargs)
  [ -z "$pkg" ] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done < "$root/scripts/apt-packages.txt"
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "install-deps: no 'swift' on PATH; install the Swift 6 toolchain (swift.org) first" >&2; exit 1; }
if [ "${1:-}" = "--peers" ]; then
  stamp="$root/.venv/.requirements.sha256"
  want=$(sha256sum "$root/scripts/pip-requirements.txt" | cut -d' ' -f1)
  if [ ! -x "$root/.venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "install-deps: preparing the peer venv in .venv"
    python3 -m venv "$root/.venv"
    "$root/.venv/bin/pip" install -q --disable-pip-version-check -r "$root/scripts/pip-requirements.txt"
    echo "$want" > "$stamp"
  fi
fi
