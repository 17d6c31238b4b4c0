#!/bin/sh
# The container image's entrypoint (Dockerfile): runs one part of Neon by name,
# as `npm run start:<service>` does, but straight from the compiled build with
# no npm in between. `exec` makes node the process the init (tini) signals, so
# SIGTERM from `docker stop` drains and exits as it does outside a container.
#   docker-entrypoint.sh gateway|identity|channels|live|chat|notify|payments
#   docker-entrypoint.sh embedded            the whole platform in one process
#   docker-entrypoint.sh neon admin ...      the command line (`npm run neon`)
#   docker-entrypoint.sh healthcheck         the image's HEALTHCHECK
set -eu

cd "$(dirname "$0")/.."

# The healthcheck runs as a separate process that is not told which service
# the container runs, so the entrypoint leaves the name here for it.
state="${TMPDIR:-/tmp}/neon-service"

usage() {
  cat >&2 <<EOF
Usage: docker run <image> <name> [arguments]
  gateway, identity, channels, live, chat, notify, payments   one service (the distributed shape)
  embedded                                                    every service in one process
  neon <command>                                              the command line, e.g. neon admin grant <username>
EOF
}

healthcheck() {
  service=$(cat "$state" 2>/dev/null) || {
    echo "no service has started in this container" >&2
    exit 1
  }
  # The defaults are the config schemas' (tests/e2e/deploy-files.test.ts compares them).
  case "$service" in
    gateway | embedded) port="${GATEWAY_PORT:-8080}" ;;
    identity) port="${IDENTITY_PORT:-8101}" ;;
    channels) port="${CHANNELS_PORT:-8102}" ;;
    live) port="${LIVE_PORT:-8103}" ;;
    chat) port="${CHAT_PORT:-8104}" ;;
    notify) port="${NOTIFY_PORT:-8105}" ;;
    payments) port="${PAYMENTS_PORT:-8106}" ;;
    *)
      echo "no health check for $service" >&2
      exit 1
      ;;
  esac
  # Liveness, not readiness: /readyz also answers 503 while an engine is away
  # or a live replica is full, and an orchestrator would restart a replica
  # that would have recovered on its own.
  exec node -e "fetch('http://127.0.0.1:$port/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
}

name="${1:-}"
case "$name" in
  gateway | identity | channels | live | chat | notify | payments) entry="dist/$name.js" ;;
  embedded) entry="dist/start.js" ;;
  neon) entry="dist/neon.js" ;;
  healthcheck) healthcheck ;;
  "")
    echo "Name what to run." >&2
    usage
    exit 64
    ;;
  *)
    echo "Unknown service \"$name\"." >&2
    usage
    exit 64
    ;;
esac
shift

if [ "$name" != neon ]; then
  printf '%s\n' "$name" >"$state"
fi
exec node --enable-source-maps "$entry" "$@"
