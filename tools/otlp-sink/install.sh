#!/usr/bin/env bash
# Builds tools/otlp-sink (an OTLP/HTTP trace receiver on the OpenTelemetry Collector's pdata module,
# writing the spans it receives as OTLP/JSON lines) from the Go module proxy into
# .cache/tools/otlp-sink — no prebuilt download. Its go.mod/go.sum pin the versions; the binary is
# rebuilt only when they or main.go change (stamp file). Prints nothing when the binary is current.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/.cache/tools"
mkdir -p "$out"
command -v go >/dev/null || { echo "otlp-sink: Go is required (https://go.dev/dl, or the distro's golang package)" >&2; exit 1; }
stamp="$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" | sha256sum | cut -c1-16)"
if [[ -x "$out/otlp-sink" && "$(cat "$out/.otlp-sink-stamp" 2>/dev/null)" == "$stamp" ]]; then
  exit 0
fi
echo "otlp-sink: building into ${out} (about a minute the first time)" >&2
cd "$here"
CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly" go build -trimpath -ldflags "-s -w" -o "$out/otlp-sink" .
echo "$stamp" >"$out/.otlp-sink-stamp"
