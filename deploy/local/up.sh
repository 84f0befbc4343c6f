#!/usr/bin/env bash
# Kansrijk on this machine, from a fresh Debian/Ubuntu install to a running system:
#   PostgreSQL and nats-server (installed from the OS packages when missing; the ones answering on
#   127.0.0.1:5432 / 4222 are used, otherwise ours are started on loopback with their data in
#   .kansrijk/), the Rust toolchain, the build, and finally `kansrijk up`, which migrates, runs
#   every service, loads the demo data and prints the web address. Ctrl-c stops the services;
#   `bash deploy/local/down.sh` stops a PostgreSQL or NATS that this script started.
# Arguments are passed to `kansrijk up` (see `kansrijk up --help`). KANSRIJK_PROFILE=release builds
# optimised binaries (slower to build).
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ensure_postgres kansrijk
ensure_nats
ensure_rust

profile="${KANSRIJK_PROFILE:-dev}"
log "building the kansrijk binary (profile $profile)"
cargo build --profile "$profile" -p kansrijk-cli --bin kansrijk
target_dir="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
[ "$profile" = dev ] && out=debug || out="$profile"

log "kansrijk up (PostgreSQL on port $PG_PORT, NATS on port ${NATS_PORT})"
exec "$target_dir/$out/kansrijk" up --state-dir "$STATE_DIR" "$@"
