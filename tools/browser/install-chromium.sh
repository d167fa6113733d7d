#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (playwright-core drives it; Playwright's own
# browser download is not used). Safe to run repeatedly: does nothing when chromium is installed.
set -euo pipefail

CHROMIUM_BIN="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [ -x "$CHROMIUM_BIN" ] && "$CHROMIUM_BIN" --version >/dev/null 2>&1; then
  echo "chromium already installed: $("$CHROMIUM_BIN" --version)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: apt-get not found; install chromium with your package manager and set CHROMIUM_PATH" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-chromium: run as root (or install sudo)" >&2
    exit 1
  fi
fi

echo "installing chromium from the Debian archive…"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-liberation

"$CHROMIUM_BIN" --version
