#!/usr/bin/env bash
# Stops the PostgreSQL and nats-server that up.sh/test.sh started in .kansrijk/ (never a server
# they found running). Data stays; `rm -rf .kansrijk` removes it.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ -s "$STATE_DIR/postgres/postmaster.pid" ]; then
  log "stopping our PostgreSQL ($STATE_DIR/postgres)"
  pg_as_owner "$(pg_bin_dir)/pg_ctl" -D "$STATE_DIR/postgres" -m fast -w stop || true
fi
if [ -s "$STATE_DIR/nats.pid" ]; then
  pid="$(cat "$STATE_DIR/nats.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping our nats-server (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$STATE_DIR/nats.pid"
fi
