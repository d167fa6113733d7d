#!/usr/bin/env bash
# Chart checks run by CI (.ci/run) and by hand: for every chart under charts/ and every values file
# under charts/<chart>/ci/: `helm lint --strict`, `helm template`, then offline validation of the
# rendered manifests against the Kubernetes API types (tools/deploy/cmd/validate-manifests); and the
# environment each workload gets must match its service's zod config schema — its names
# (tools/deploy/check-env-contract.ts) and its values, loaded by the service's own config loader
# (tools/deploy/check-env-values.ts); and the generated references of docs/deploy.md must be current.
# Tools are built from the Go module proxy by tools/deploy/install-tools.sh (cached in .cache/tools).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bash tools/deploy/install-tools.sh
helm=.cache/tools/helm
validate=.cache/tools/validate-manifests
rendered=.cache/charts-rendered
rm -rf "$rendered" && mkdir -p "$rendered"
echo "check-charts: $($helm version --short), $(cd tools/deploy && go list -m -f 'k8s.io/api {{.Version}}' k8s.io/api)"

failed=0
checked=0
for chart in charts/*/; do
  chart="${chart%/}"
  name="$(basename "$chart")"
  shopt -s nullglob
  values_files=("$chart"/ci/*.yaml)
  shopt -u nullglob
  if (( ${#values_files[@]} == 0 )); then
    echo "check-charts: $chart has no ci/*.yaml values files" >&2
    failed=$((failed + 1))
    continue
  fi
  for values in "${values_files[@]}"; do
    case_name="$name/$(basename "$values" .yaml)"
    out="$rendered/$name-$(basename "$values")"
    if ! lint_out="$($helm lint --strict "$chart" -f "$values" 2>&1)"; then
      echo "FAIL lint     $case_name"; echo "$lint_out" | sed 's/^/    /'; failed=$((failed + 1)); continue
    fi
    if ! $helm template "$name" "$chart" --namespace isams-sync -f "$values" >"$out" 2>"$out.err"; then
      echo "FAIL template $case_name"; sed 's/^/    /' "$out.err"; failed=$((failed + 1)); continue
    fi
    if ! result="$($validate -env-out "${out%.yaml}.env.json" "$out" 2>&1)"; then
      echo "FAIL validate $case_name"; echo "$result" | sed 's/^/    /'; failed=$((failed + 1)); continue
    fi
    # The gateway's operator listener (token administration) must stay on loopback and be exposed by
    # no Service, container port or NetworkPolicy rule (docs/security.md).
    op_port="$(grep -A1 'name: GATEWAY_OPERATOR_PORT' "$out" | sed -n 's/^ *value: *"\{0,1\}\([0-9]*\)"\{0,1\} *$/\1/p' | head -1)"
    if [[ -n "$op_port" ]]; then
      if ! grep -A1 'name: GATEWAY_OPERATOR_HOST' "$out" | grep -q 'value: "127.0.0.1"'; then
        echo "FAIL exposure $case_name: GATEWAY_OPERATOR_HOST is not 127.0.0.1"; failed=$((failed + 1)); continue
      fi
      if exposed="$(grep -nE "^ *(- )?(port|containerPort|targetPort|nodePort): *\"?${op_port}\"? *$" "$out")"; then
        echo "FAIL exposure $case_name: the operator port ${op_port} is exposed:"; echo "$exposed" | sed 's/^/    /'
        failed=$((failed + 1)); continue
      fi
    elif grep -q 'name: GATEWAY_OPERATOR_TOKEN' "$out"; then
      echo "FAIL exposure $case_name: the gateway has an operator token but no GATEWAY_OPERATOR_PORT"; failed=$((failed + 1)); continue
    fi
    # The connector's spool volume must hold what the in-process quota lets its runs spool:
    # volume sizeLimit ≥ CONNECTOR_SPOOL_QUOTA_BYTES ≥ SYNC_CONCURRENCY × the largest run (docs/deploy.md).
    if grep -q 'name: CONNECTOR_KEK$' "$out"; then
      quota="$(grep -A1 'name: CONNECTOR_SPOOL_QUOTA_BYTES' "$out" | sed -n 's/^ *value: *"\{0,1\}\([0-9]*\)"\{0,1\} *$/\1/p' | head -1)" || true
      concurrency="$(grep -A1 'name: SYNC_CONCURRENCY' "$out" | sed -n 's/^ *value: *"\{0,1\}\([0-9]*\)"\{0,1\} *$/\1/p' | head -1)" || true
      max_run="$(sed -n 's/^ *isams-sync\/spool-max-run-bytes: *"\([0-9]*\)" *$/\1/p' "$out" | head -1)" || true
      volume_mi="$(grep -A2 '^ *- name: spool$' "$out" | sed -n 's/^ *sizeLimit: *\([0-9]*\)Mi *$/\1/p' | head -1)" || true
      ephemeral_mi="$(sed -n 's/^ *ephemeral-storage: *\([0-9]*\)Mi *$/\1/p' "$out" | sort -n | head -1)" || true
      concurrency="${concurrency:-4}"
      if [[ -z "$quota" || -z "$max_run" || -z "$volume_mi" || -z "$ephemeral_mi" ]]; then
        echo "FAIL spool    $case_name: the connector has no spool volume, quota, ephemeral-storage or max-run annotation"; failed=$((failed + 1)); continue
      fi
      if (( volume_mi * 1048576 < quota || quota < concurrency * max_run || ephemeral_mi < volume_mi )); then
        echo "FAIL spool    $case_name: need ephemeral-storage (${ephemeral_mi}Mi) ≥ spool sizeLimit (${volume_mi}Mi) ≥ CONNECTOR_SPOOL_QUOTA_BYTES (${quota}) ≥ SYNC_CONCURRENCY (${concurrency}) × max run (${max_run})"
        failed=$((failed + 1)); continue
      fi
    fi
    checked=$((checked + 1))
    echo "ok   $case_name: lint --strict, template, ${result#validate-manifests: }"
  done
done
# Values the chart must refuse, with the message it must give (the first ci/ values file as the base).
refused=0
while IFS='|' read -r set_args expected; do
  base="$(ls charts/isams-sync/ci/*.yaml | head -1)"
  # shellcheck disable=SC2086
  if err="$($helm template isams-sync charts/isams-sync -f "$base" $set_args 2>&1 >/dev/null)"; then
    echo "FAIL refuse   isams-sync $set_args: rendered, expected: $expected"; failed=$((failed + 1))
  elif [[ "$err" != *"$expected"* ]]; then
    echo "FAIL refuse   isams-sync $set_args: refused without \"$expected\":"; echo "$err" | sed 's/^/    /'; failed=$((failed + 1))
  else
    refused=$((refused + 1))
  fi
done <<'CASES'
--set shutdownTimeout=29s --set terminationGracePeriodSeconds=30|shutdownTimeout (29s) + 2s must stay below terminationGracePeriodSeconds (30)
--set shutdownTimeout=28500 --set terminationGracePeriodSeconds=30|shutdownTimeout (28500) + 2s must stay below terminationGracePeriodSeconds (30)
--set shutdownTimeout=1m --set terminationGracePeriodSeconds=30|shutdownTimeout (1m) + 2s must stay below terminationGracePeriodSeconds (30)
--set shutdownTimeout=ten|shutdownTimeout must be a duration like 500ms, 30s, 5m or an integer of milliseconds
CASES
echo "check-charts: the chart refused ${refused} bad values files as expected"
shopt -s nullglob
env_files=("$rendered"/*.env.json)
shopt -u nullglob
if (( ${#env_files[@]} > 0 )) && ! npx --no-install tsx tools/deploy/check-env-contract.ts "${env_files[@]}"; then failed=$((failed + 1)); fi
# Values too: each rendered workload's environment must pass its service's own config loader.
shopt -s nullglob
rendered_files=("$rendered"/*.yaml)
shopt -u nullglob
if (( ${#rendered_files[@]} > 0 )) && ! npx --no-install tsx tools/deploy/check-env-values.ts "${rendered_files[@]}"; then failed=$((failed + 1)); fi
if ! npx --no-install tsx tools/deploy/gen-values-doc.ts --check; then failed=$((failed + 1)); fi
echo "check-charts: ${checked} values files passed, ${failed} failed (rendered manifests in $rendered)"
(( failed == 0 ))
