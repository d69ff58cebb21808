#!/bin/sh
# Runs `acereason <command> ...` and adds what the image decides for the services:
#   - `--metrics-port $ACEREASON_METRICS_PORT` (the healthcheck and Prometheus read it),
#   - `--execution-provider $ACEREASON_EXECUTION_PROVIDER` for actors (the learner takes it from
#     its run file: engine.execution_provider).
#   - for the operator commands (status, pause, resume, stage, checkpoint, passrates): the run's
#     addresses from ACEREASON_NATS / ACEREASON_RUN / ACEREASON_LEARNER, and the operator's
#     credentials and certificate from ACEREASON_TLS_DIR (credentials.json, ca.pem, client.pem,
#     client-key.pem as `acereason certs --bundles` writes them).
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
  status|pause|resume|stage|checkpoint|passrates)
    for pair in "--nats:${ACEREASON_NATS:-}" "--run:${ACEREASON_RUN:-}" "--learner:${ACEREASON_LEARNER:-}"; do
      flag="${pair%%:*}"; value="${pair#*:}"
      if [ -n "$value" ] && ! has_flag "$flag" "$@"; then set -- "$@" "$flag" "$value"; fi
    done
    dir="${ACEREASON_TLS_DIR:-}"
    if [ -n "$dir" ] && ! has_flag --creds "$@" && ! has_flag --user "$@"; then
      [ -f "$dir/credentials.json" ] && set -- "$@" --creds "$dir/credentials.json"
      [ -f "$dir/ca.pem" ] && set -- "$@" --tls-ca "$dir/ca.pem"
      [ -f "$dir/client.pem" ] && set -- "$@" --tls-cert "$dir/client.pem" --tls-key "$dir/client-key.pem"
    fi
    ;;
esac
# shellcheck disable=SC2086
exec $cli "$@"
