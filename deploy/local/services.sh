#!/usr/bin/env bash
# Only the infrastructure: finds or starts PostgreSQL and nats-server exactly as up.sh and test.sh
# do, and prints the environment to use them. `eval "$(bash deploy/local/services.sh)"`.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_postgres "${1:-kansrijk}"
ensure_nats
printf 'export DATABASE_URL=%q\nexport NATS_URL=%q\nexport NATS_SERVER_BIN=%q\n' \
  "$DATABASE_URL" "$NATS_URL" "$NATS_SERVER_BIN"
