#!/bin/sh
# Runs `acereason <command> ...` and adds what the image decides for the services:
#   - `--metrics-port $ACEREASON_METRICS_PORT` (the healthcheck and Prometheus read it),
#   - `--execution-provider $ACEREASON_EXECUTION_PROVIDER` for actors (the learner takes it from
#     its run file: engine.execution_provider).
# Flags given explicitly win: nothing is added when the flag is already on the command line.
set -eu
cli="${ACEREASON_CLI:-node /app/packages/cli/dist/main.js}"
cmd="${1:-}"
has_flag() {
  flag="$1"; shift
  for a in "$@"; do
    case "$a" in "$flag"|"$flag"=*) return 0 ;; esac
  done
  return 1
}
case "$cmd" in
  run|actor|verifier)
    if [ -n "${ACEREASON_METRICS_PORT:-}" ] && ! has_flag --metrics-port "$@"; then
      set -- "$@" --metrics-port "$ACEREASON_METRICS_PORT"
    fi
    if [ "$cmd" = actor ] && [ -n "${ACEREASON_EXECUTION_PROVIDER:-}" ] && ! has_flag --execution-provider "$@"; then
      set -- "$@" --execution-provider "$ACEREASON_EXECUTION_PROVIDER"
    fi
    ;;
esac
# shellcheck disable=SC2086
exec $cli "$@"
