#!/usr/bin/env bash
# Installs schemathesis (PyPI), pinned with all its dependencies by schemathesis-constraints.txt,
# into .cache/schemathesis/venv once and prints the path of its `st` executable. Used by the
# gateway's OpenAPI fuzz test (services/gateway/test/fuzz); needs python3 (>= 3.9) with venv.
# Re-runs are cheap: a stamp records the hash of the constraints that were installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
constraints="$here/schemathesis-constraints.txt"
venv="$root/.cache/schemathesis/venv"
stamp="$venv/.installed-$(sha256sum "$constraints" | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  command -v python3 >/dev/null || { echo "ensure-schemathesis: python3 is required" >&2; exit 1; }
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -c "$constraints" schemathesis >&2
  touch "$stamp"
fi
echo "$venv/bin/st"
