#!/usr/bin/env bash
# Builds the chart-check tools from the Go module proxy into .cache/tools (no prebuilt downloads):
#   helm                — helm.sh/helm/v3 at the version pinned in tools/deploy/go.mod
#   validate-manifests  — tools/deploy/cmd/validate-manifests (strict decoding into k8s.io/api types)
# Rebuilds only when go.mod, go.sum or the validator source changed (hash stamp). Prints the paths.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../build/go-tools.sh" install-tools

stamp="$(cat "$here/go.mod" "$here/go.sum" "$here"/cmd/*/*.go "$0" | sha256sum | cut -c1-16)"
if go_tools_current .stamp "$stamp" helm validate-manifests; then
  exit 0
fi

cd "$here"
helm_version="$(go list -m -f '{{.Version}}' helm.sh/helm/v3)"
k8s_version="$(go list -m -f '{{.Version}}' k8s.io/client-go)"   # v0.MINOR.PATCH ↔ Kubernetes 1.MINOR
k8s_minor="$(cut -d. -f2 <<<"$k8s_version")"
# The same ldflags as helm's Makefile: version string and the default Kubernetes version of its capabilities.
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${helm_version}
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${k8s_minor}
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${k8s_minor}"
echo "install-tools: building helm ${helm_version} and validate-manifests (k8s.io/api ${k8s_version}) into ${out} — the first build takes several minutes" >&2
CGO_ENABLED=0 go build -buildvcs=false -trimpath -ldflags "$ldflags" -o "$out/helm" helm.sh/helm/v3/cmd/helm
CGO_ENABLED=0 go build -buildvcs=false -trimpath -ldflags "-s -w" -o "$out/validate-manifests" ./cmd/validate-manifests
echo "$stamp" >"$out/.stamp"
