#!/usr/bin/env bash
# Builds tools/otlp-sink (an OTLP/HTTP trace receiver on the OpenTelemetry Collector's pdata module,
# writing the spans it receives as OTLP/JSON lines) from the Go module proxy into
# .cache/tools/otlp-sink — no prebuilt download. Its go.mod/go.sum pin the versions; the binary is
# rebuilt only when they or main.go change (stamp file). Prints nothing when the binary is current.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../build/go-tools.sh" otlp-sink
stamp="$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" | sha256sum | cut -c1-16)"
if go_tools_current .otlp-sink-stamp "$stamp" otlp-sink; then
  exit 0
fi
echo "otlp-sink: building into ${out} (about a minute the first time)" >&2
cd "$here"
CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly" go build -trimpath -ldflags "-s -w" -o "$out/otlp-sink" .
echo "$stamp" >"$out/.otlp-sink-stamp"
