#!/usr/bin/env bash
# The deployment checks, run by deploy/local/test.sh (and so by CI). No Docker engine and no
# Kubernetes cluster are needed:
#   - docker-compose.yml: parsed and checked (health checks, start order, one image, NATS cluster)
#   - deploy/kubernetes: rendered and validated against the Kubernetes schemas of the PyPI package
#     kubernetes-validate, plus structural and least-privilege checks (check_kubernetes.py)
#   - deploy/nats/accounts.conf is what the Helm values say (gen_nats_accounts.py --check)
#   - the release build has no development issuer and no rsa (cargo tree --no-default-features)
#   - the compose NATS configuration is accepted by a real nats-server (-t)
#   - the shell scripts parse (and pass shellcheck when it is installed)
# Python packages go into a virtualenv (KANSRIJK_VENV, default ~/.cache/kansrijk/venv), from PyPI.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"
cd "$REPO_ROOT"

venv="${KANSRIJK_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kansrijk/venv}"
py="$venv/bin/python"
if ! "$py" -c 'import yaml, kubernetes_validate' 2>/dev/null; then
  log "Python virtualenv for the deployment checks ($venv)"
  mkdir -p "$(dirname "$venv")"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    apt_install python3-venv || die "python3 -m venv is unavailable (apt-get install python3-venv)"
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check pyyaml kubernetes-validate \
    || die "pip could not install pyyaml and kubernetes-validate from PyPI"
fi

"$py" deploy/check/gen_nats_accounts.py --check
"$py" deploy/check/check_compose.py

# The release build (the Dockerfile's --no-default-features) has no development issuer: neither
# the gateway's dev-issuer feature nor the `rsa` crate (RUSTSEC-2023-0071) is in its tree.
if command -v cargo >/dev/null 2>&1; then
  tree() { cargo tree --locked -q -e normal -f '{p} [{f}]' --prefix none -p kansrijk-cli "$@"; }
  release_tree="$(tree --no-default-features)" || die "cargo tree of the release build failed"
  if grep -qE '^rsa v' <<<"$release_tree"; then
    die "the release build (kansrijk-cli --no-default-features) depends on rsa"
  fi
  if grep -E '^kansrijk-gateway v' <<<"$release_tree" | grep -q 'dev-issuer'; then
    die "the release build (kansrijk-cli --no-default-features) enables the development issuer"
  fi
  # The check sees what it looks for: the local build (default features) has both.
  local_tree="$(tree)" || die "cargo tree of the local build failed"
  if ! grep -qE '^rsa v' <<<"$local_tree" \
    || ! grep -E '^kansrijk-gateway v' <<<"$local_tree" | grep -q 'dev-issuer'; then
    die "the release-build check is blind: the local build shows no dev-issuer and no rsa either"
  fi
  echo "ok: the release build has no development issuer and no rsa"
else
  warn "cargo not installed: the release build's dependencies were not checked"
fi
"$py" deploy/check/check_kubernetes.py
# The real kustomize, where kubectl is installed (it is not a package of the registries CI reaches).
if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  n="$(kubectl kustomize deploy/kubernetes | grep -c '^kind:')" || die "kubectl kustomize rejects deploy/kubernetes"
  echo "ok: kubectl kustomize renders deploy/kubernetes ($n objects)"
fi

# A real nats-server parses the compose cluster configuration with its generated accounts. Debian's
# nats-server may predate settings of the current release (sync_interval came with 2.10): those
# lines are left out for this parse only, and named.
if bin="$(nats_bin)"; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  cp deploy/nats/accounts.conf "$tmp/"
  version="$("$bin" --version | sed -E 's/.*v([0-9]+\.[0-9]+).*/\1/')"
  if [ "$(printf '%s\n2.10\n' "$version" | sort -V | head -n1)" != 2.10 ]; then
    grep -v 'sync_interval' deploy/nats/cluster.conf >"$tmp/cluster.conf"
    note=" (nats-server $version: without sync_interval, which it predates)"
  else
    cp deploy/nats/cluster.conf "$tmp/cluster.conf"
    note=""
  fi
  (
    export NATS_SERVER_NAME=check NATS_ROUTES='[nats://127.0.0.1:6222]'
    for u in SYS GATEWAY PRIVACY VVE OVERDRACHT CASEWORK VIEWS OPS; do export "NATS_${u}_PASSWORD=check"; done
    "$bin" -c "$tmp/cluster.conf" -t >/dev/null 2>&1
  ) || die "nats-server rejects deploy/nats/cluster.conf"
  echo "ok: deploy/nats/cluster.conf parses in nats-server$note"
else
  warn "nats-server not installed: the NATS configuration was not parsed by a real server"
fi

for f in deploy/local/*.sh deploy/check/*.sh .ci/run; do bash -n "$f"; done
if command -v shellcheck >/dev/null 2>&1; then
  shellcheck -x deploy/local/*.sh deploy/check/*.sh .ci/run
  echo "ok: shellcheck"
else
  echo "ok: shell scripts parse (shellcheck not installed)"
fi
