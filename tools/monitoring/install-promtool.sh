#!/usr/bin/env bash
# Builds promtool (github.com/prometheus/prometheus/cmd/promtool) from the Go module proxy into
# .cache/tools/promtool — no prebuilt download. The version is pinned here; the binary is rebuilt only
# when the pin changes (stamp file). Go's module and build caches are the user's defaults, shared with
# tools/deploy/install-tools.sh. Prints nothing when the binary is current.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../build/go-tools.sh" install-promtool
# Prometheus v3.x is published on the module proxy as v0.3xx.y (v0.316.0 = Prometheus 3.16.0).
version="v0.316.0"
if go_tools_current .promtool-stamp "$version" promtool; then
  exit 0
fi
echo "install-promtool: building promtool ${version} into ${out} — the first build takes several minutes" >&2
cd "$root"
GOBIN="$out" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -trimpath -ldflags "-s -w" \
  "github.com/prometheus/prometheus/cmd/promtool@${version}"
echo "$version" >"$out/.promtool-stamp"
