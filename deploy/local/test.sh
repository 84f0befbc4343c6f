#!/usr/bin/env bash
# Every test of the project, as CI runs them (.ci/run calls this script):
#   1. PostgreSQL and nats-server, found or started exactly as up.sh does; DATABASE_URL defaults
#      to postgres://postgres@127.0.0.1:5432/postgres (the tests create a database each);
#   2. Debian's chromium and chromium-driver for the browser tests;
#   3. the deployment checks (docker-compose.yml, Kubernetes manifests, NATS and PostgreSQL
#      configuration): deploy/check/;
#   4. cargo fmt --check, clippy with -D warnings, and the test suite (cargo-nextest when
#      installed, cargo test otherwise).
# Set KANSRIJK_SKIP_RUST=1 to run only 1-3 (the deployment checks).
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
started=$SECONDS

ensure_postgres postgres
ensure_nats

# Browser tests drive Debian's Chromium through chromedriver (issue 8). (On Ubuntu the chromium
# package installs a snap, which does not work in containers; use Debian or install Chromium and
# chromedriver by other means.)
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if have_apt; then
    apt_install chromium chromium-driver \
      || die "installing chromium and chromium-driver failed; the browser tests need them"
  else
    warn "##################################################################"
    warn "# apt-get is unavailable: chromium/chromedriver NOT installed.    #"
    warn "# Browser tests will fail or skip on this machine.                #"
    warn "##################################################################"
  fi
fi
if command -v chromium >/dev/null 2>&1; then CHROMIUM_BIN="$(command -v chromium)"; export CHROMIUM_BIN; fi
if command -v chromedriver >/dev/null 2>&1; then CHROMEDRIVER_BIN="$(command -v chromedriver)"; export CHROMEDRIVER_BIN; fi

# The accessibility checks of the browser tests run axe-core, installed from npm (package-lock.json).
if ! command -v npm >/dev/null 2>&1; then
  if have_apt; then
    apt_install nodejs npm || die "installing nodejs and npm failed; the browser tests need axe-core"
  else
    warn "npm is unavailable: axe-core NOT installed; the browser tests will fail"
  fi
fi
if command -v npm >/dev/null 2>&1 && [ ! -f services/web/tests/node_modules/axe-core/axe.min.js ]; then
  log "axe-core for the browser tests (npm ci in services/web/tests)"
  (cd services/web/tests && npm ci --no-audit --no-fund --loglevel=error) \
    || die "npm ci in services/web/tests failed"
fi

log "deployment checks (deploy/check)"
bash deploy/check/run.sh

if [ "${KANSRIJK_SKIP_RUST:-0}" = 1 ]; then
  log "KANSRIJK_SKIP_RUST=1: Rust checks skipped"
  exit 0
fi

ensure_rust
if [ "${CI:-}" = true ]; then
  # A fresh clone builds everything once: incremental state would only cost time and disk.
  export CARGO_INCREMENTAL=0
fi
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# fmt and clippy failures do not stop the run: the test suite still runs, and the summary at the
# end names every step that failed.
failed=()

# Dependency checks (issue 17 item 18, deny.toml): cargo-deny from crates.io, installed into
# $CARGO_HOME/bin once and reused. Licenses, bans and sources are checked on every run (cargo
# metadata downloads the crates of every platform from crates.io).
# Advisories need the RustSec database, fetched from its Git repository, which CI cannot reach:
# they are checked (and a new advisory fails the run) only against a local copy in
# $CARGO_HOME/advisory-dbs (deny.toml's db-path); without one the run says so loudly.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
if ! cargo deny --version >/dev/null 2>&1; then
  log "installing cargo-deny (cargo install cargo-deny --locked, once; takes minutes)"
  cargo install cargo-deny --locked --root "$CARGO_HOME" || warn "installing cargo-deny failed"
fi
if cargo deny --version >/dev/null 2>&1; then
  log "cargo deny check bans licenses sources"
  cargo deny check --hide-inclusion-graph bans licenses sources || failed+=("cargo deny check bans licenses sources")
  advisory_db="$CARGO_HOME/advisory-dbs"
  if compgen -G "$advisory_db/*/crates" >/dev/null 2>&1; then
    log "cargo deny --offline check advisories (local database $advisory_db, not fetched)"
    cargo deny --offline check advisories || failed+=("cargo deny check advisories")
  else
    warn "##################################################################"
    warn "# No RustSec advisory database in $advisory_db:"
    warn "# advisories NOT checked (see docs/operations.md, Dependency checks)."
    warn "##################################################################"
  fi
else
  failed+=("cargo deny (not installed)")
fi
log "cargo fmt --all --check"
cargo fmt --all --check || failed+=("cargo fmt --all --check")

log "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings || failed+=("cargo clippy")

if cargo nextest --version >/dev/null 2>&1; then
  log "cargo nextest run --workspace (PostgreSQL ${DATABASE_URL%%\?*} NATS $NATS_URL)"
  cargo nextest run --workspace --no-fail-fast || failed+=("cargo nextest run")
else
  warn "cargo-nextest is not installed: falling back to cargo test (cargo install cargo-nextest --locked for faster runs)"
  cargo test --workspace --no-fail-fast || failed+=("cargo test")
fi
if [ "${#failed[@]}" -gt 0 ]; then
  printf '\033[31mFAILED after %s s: %s\033[0m\n' "$((SECONDS - started))" "$(IFS=';'; echo "${failed[*]}")" >&2
  exit 1
fi
log "all checks and tests passed in $((SECONDS - started)) s"
