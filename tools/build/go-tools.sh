# Sourced (not run) by the scripts that build a dev tool from the Go module proxy into .cache/tools
# (tools/deploy/install-tools.sh, tools/otlp-sink/install.sh, tools/monitoring/install-promtool.sh),
# with the name their messages start with as $1: sets `root` (the repository) and `out`
# (.cache/tools, created), and stops with where to get Go when it is missing.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/.cache/tools"
mkdir -p "$out"
command -v go >/dev/null || { echo "$1: Go is required (https://go.dev/dl, or the distro's golang package)" >&2; exit 1; }

# go_tools_current STAMP_FILE STAMP BINARY...: every binary is in $out and was built from STAMP.
go_tools_current() {
  local stamp_file="$1" stamp="$2" bin
  shift 2
  for bin in "$@"; do [[ -x "$out/$bin" ]] || return 1; done
  [[ "$(cat "$out/$stamp_file" 2>/dev/null)" == "$stamp" ]]
}
