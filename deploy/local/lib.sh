# shellcheck shell=bash
# Shared by up.sh, test.sh, services.sh and down.sh: finds or starts PostgreSQL and nats-server on
# loopback, installs what is missing from the OS packages (Debian/Ubuntu), and checks the Rust
# toolchain. Sourced, not run.
#
# Environment (all optional):
#   KANSRIJK_STATE_DIR   project-local state (default: <repo>/.kansrijk): our own PostgreSQL data,
#                        JetStream store, logs, pid files
#   KANSRIJK_PG_PORT     PostgreSQL port to use or to start ours on (default: 5432, else a free one)
#   KANSRIJK_NATS_PORT   NATS port to use or to start ours on (default: 4222, else a free one)
#   DATABASE_URL         when set, used as is: no PostgreSQL is looked for or started
#   KANSRIJK_NO_INSTALL  when 1, never call apt-get (fail instead)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE_DIR="${KANSRIJK_STATE_DIR:-$REPO_ROOT/.kansrijk}"
PG_HOST=127.0.0.1
NATS_HOST=127.0.0.1

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf '\033[33mWARNING: %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

# Runs a command as root: directly, or through sudo (non-interactively when there is no terminal).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    if [ -t 0 ]; then sudo "$@"; else sudo -n "$@"; fi
  else
    return 1
  fi
}

have_apt() { command -v apt-get >/dev/null 2>&1 && [ "${KANSRIJK_NO_INSTALL:-0}" != 1 ]; }

_APT_UPDATED=0
# apt_install PKG...: installs Debian/Ubuntu packages; returns non-zero when that is impossible.
apt_install() {
  have_apt || { warn "apt-get is not available (or KANSRIJK_NO_INSTALL=1): cannot install $*"; return 1; }
  if [ "$_APT_UPDATED" = 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || { warn "apt-get update failed (root or sudo needed)"; return 1; }
    _APT_UPDATED=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# port_open HOST PORT: something accepts TCP connections there.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# free_port FROM: the first port at or above FROM that nothing listens on.
free_port() {
  local p="$1"
  while port_open 127.0.0.1 "$p"; do p=$((p + 1)); done
  echo "$p"
}

# ---------------------------------------------------------------- PostgreSQL

pg_bin_dir() {
  local d
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"; return 0
  fi
  # Debian keeps the server binaries off the PATH, one directory per major version.
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

# pg_login PORT: the postgres role can log in over TCP without a password (trust, as locally).
pg_login() {
  command -v psql >/dev/null 2>&1 || return 1
  PGCONNECT_TIMEOUT=3 psql -X -w -h "$PG_HOST" -p "$1" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

# The unprivileged user our own PostgreSQL runs as when we are root (initdb refuses root).
pg_run_user() {
  if id postgres >/dev/null 2>&1; then echo postgres; else echo nobody; fi
}

pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$(pg_run_user)" -- "$@"; else "$@"; fi
}

# Starts (initialising when new) our own PostgreSQL in $STATE_DIR/postgres on port $1.
start_own_postgres() {
  local port="$1" bin data
  bin="$(pg_bin_dir)" || die "PostgreSQL server binaries not found"
  data="$STATE_DIR/postgres"
  mkdir -p "$STATE_DIR"
  if [ ! -s "$data/PG_VERSION" ]; then
    log "initialising PostgreSQL in $data (trust authentication on loopback only)"
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown "$(pg_run_user)" "$data"
    chmod 700 "$data"
    pg_as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C >"$STATE_DIR/initdb.log" 2>&1 \
      || { cat "$STATE_DIR/initdb.log" >&2; die "initdb failed"; }
  fi
  log "starting our own PostgreSQL on $PG_HOST:$port (data: $data)"
  pg_as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-c listen_addresses=$PG_HOST -p $port -k $data" start >/dev/null \
    || { tail -n 20 "$data/server.log" >&2; die "PostgreSQL did not start"; }
  echo "$port" >"$STATE_DIR/postgres.port"
}

# ensure_postgres DB: exports DATABASE_URL (for database DB) and PG_PORT.
ensure_postgres() {
  local db="$1" port own_port=""
  if [ -n "${DATABASE_URL:-}" ]; then
    log "PostgreSQL: using DATABASE_URL from the environment"
    # The port of the URL (postgres://user@host:PORT/db), 5432 when it names none.
    port="$(printf '%s' "$DATABASE_URL" | sed -nE 's#^[a-z]+://([^@/]*@)?[^:/]+:([0-9]+).*#\2#p')"
    export PG_PORT="${port:-5432}"
    return 0
  fi
  if ! command -v psql >/dev/null 2>&1 || ! pg_bin_dir >/dev/null; then
    apt_install postgresql postgresql-client || true
  fi
  command -v psql >/dev/null 2>&1 || die "psql is missing and could not be installed (apt-get as root or with sudo)"
  [ -f "$STATE_DIR/postgres.port" ] && own_port="$(cat "$STATE_DIR/postgres.port")"
  port="${KANSRIJK_PG_PORT:-${own_port:-5432}}"
  if port_open "$PG_HOST" "$port"; then
    if pg_login "$port"; then
      log "PostgreSQL: using the one answering on $PG_HOST:$port"
    else
      warn "a PostgreSQL on $PG_HOST:$port does not let role postgres in without a password; starting our own elsewhere (or set DATABASE_URL)"
      port="$(free_port 5433)"
      start_own_postgres "$port"
    fi
  else
    pg_bin_dir >/dev/null || die "no PostgreSQL answers on $PG_HOST:$port and the server binaries are missing (install postgresql)"
    start_own_postgres "$port"
  fi
  pg_login "$port" || die "cannot log in to PostgreSQL on $PG_HOST:$port as postgres"
  PG_PORT="$port"
  export PG_PORT
  export DATABASE_URL="postgres://postgres@$PG_HOST:$port/$db"
}

# ---------------------------------------------------------------- NATS

nats_bin() {
  if command -v nats-server >/dev/null 2>&1; then command -v nats-server; return 0; fi
  [ -x /usr/sbin/nats-server ] && { echo /usr/sbin/nats-server; return 0; }
  return 1
}

# nats_jetstream PORT: a NATS server answers there with JetStream enabled (from its INFO line).
nats_jetstream() {
  local info
  # The server greets every connection with one INFO line; read it and hang up.
  info="$(timeout 3 bash -c "exec 3<>/dev/tcp/$NATS_HOST/$1 && IFS= read -r line <&3 && printf '%s' \"\$line\"" 2>/dev/null)" || true
  [[ "$info" == INFO* ]] && [[ "$info" == *'"jetstream":true'* ]]
}

start_own_nats() {
  local port="$1" bin
  bin="$(nats_bin)" || die "nats-server not found"
  mkdir -p "$STATE_DIR/nats"
  log "starting our own nats-server with JetStream on $NATS_HOST:$port (store: $STATE_DIR/nats)"
  # setsid + nohup: it outlives this script, as pg_ctl's server does; down.sh stops both.
  setsid nohup "$bin" -a "$NATS_HOST" -p "$port" -js -sd "$STATE_DIR/nats" \
    -l "$STATE_DIR/nats.log" -P "$STATE_DIR/nats.pid" </dev/null >/dev/null 2>&1 &
  local _
  for _ in $(seq 1 50); do
    nats_jetstream "$port" && { echo "$port" >"$STATE_DIR/nats.port"; return 0; }
    sleep 0.2
  done
  tail -n 20 "$STATE_DIR/nats.log" >&2 || true
  die "nats-server did not start"
}

# ensure_nats: the nats-server binary is installed (tests start their own servers with it), and
# a JetStream-enabled server answers; exports NATS_URL and NATS_PORT.
ensure_nats() {
  local port own_port=""
  nats_bin >/dev/null || apt_install nats-server || true
  nats_bin >/dev/null || die "nats-server is missing and could not be installed (apt-get install nats-server)"
  [ -f "$STATE_DIR/nats.port" ] && own_port="$(cat "$STATE_DIR/nats.port")"
  port="${KANSRIJK_NATS_PORT:-${own_port:-4222}}"
  if port_open "$NATS_HOST" "$port"; then
    if nats_jetstream "$port"; then
      log "NATS: using the one answering on $NATS_HOST:$port (JetStream enabled)"
    else
      warn "the server on $NATS_HOST:$port is not a NATS server with JetStream; starting our own elsewhere"
      port="$(free_port 4223)"
      start_own_nats "$port"
    fi
  else
    start_own_nats "$port"
  fi
  NATS_PORT="$port"
  export NATS_PORT
  export NATS_URL="nats://$NATS_HOST:$port"
  NATS_SERVER_BIN="$(nats_bin)"
  export NATS_SERVER_BIN
}

# ---------------------------------------------------------------- Rust

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if command -v cargo >/dev/null 2>&1; then
    log "Rust: $(cargo --version)"
    return 0
  fi
  # The distributions' own rustc is too old for this workspace (rust-version in Cargo.toml), so
  # the toolchain comes from rustup, which downloads it. Where downloads outside the package
  # registries are blocked, this fails: install Rust by other means and run again.
  log "cargo not found: installing the Rust toolchain with rustup"
  command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates || true
  if command -v curl >/dev/null 2>&1 \
    && curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy; then
    export PATH="$HOME/.cargo/bin:$PATH"
    return 0
  fi
  die "no Rust toolchain, and rustup could not download one (no network access to it?). Install Rust (https://rustup.rs) and run again."
}
