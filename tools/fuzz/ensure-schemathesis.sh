#!/usr/bin/env bash
# Installs the pinned schemathesis (PyPI) into .cache/schemathesis/venv once and prints the path of
# its `st` executable. Used by the gateway's OpenAPI fuzz test (services/gateway/test/fuzz); needs
# python3 (>= 3.9) with the venv module. Re-runs are cheap: a stamp file records the installed pin.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="$(tr -d '[:space:]' <"$root/tools/fuzz/schemathesis-version")"
venv="$root/.cache/schemathesis/venv"
stamp="$venv/.installed-$version"
if [[ ! -f "$stamp" ]]; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "schemathesis==$version" >&2
  touch "$stamp"
fi
echo "$venv/bin/st"
