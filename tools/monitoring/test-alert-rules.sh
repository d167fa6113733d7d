#!/usr/bin/env bash
# Unit-tests the alert rules the chart ships (docs/deploy.md › Alerts): renders the PrometheusRule
# with `helm template` (charts/isams-sync/ci/proxy-tls-sasl-values.yaml turns it on), extracts its
# rule groups, and runs `promtool test rules tools/monitoring/alert-rules.test.yaml` on them, so the
# rules tested are the rules shipped. helm and promtool are built from the Go module proxy into
# .cache/tools (tools/deploy/install-tools.sh, tools/monitoring/install-promtool.sh).
# Run by tools/monitoring/alert-rules.int.test.ts (npm test, .ci/run) and by hand.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bash tools/deploy/install-tools.sh
bash tools/monitoring/install-promtool.sh
out=.cache/alert-rules
rm -rf "$out" && mkdir -p "$out"
.cache/tools/helm template isams-sync charts/isams-sync --namespace isams-sync \
  -f charts/isams-sync/ci/proxy-tls-sasl-values.yaml --show-only templates/prometheus-rule.yaml >"$out/prometheus-rule.yaml"
# The PrometheusRule's `spec` is a Prometheus rule file (`groups:`): take it and drop one indent.
sed -n '/^spec:$/,$p' "$out/prometheus-rule.yaml" | tail -n +2 | sed 's/^  //' >"$out/rules.yaml"
grep -q '^groups:$' "$out/rules.yaml" || { echo "test-alert-rules: no rule groups rendered" >&2; exit 1; }
cp tools/monitoring/alert-rules.test.yaml "$out/"
.cache/tools/promtool check rules "$out/rules.yaml"
cd "$out" && ../tools/promtool test rules alert-rules.test.yaml
