#!/usr/bin/env python3
"""Checks docker-compose.yml without a Docker engine (there is none in CI): it parses, every
long-running service has a health check, every `depends_on` names an existing service with a
valid condition, a `service_healthy` condition points at a service with a health check, the
NATS cluster has three JetStream nodes on a current release, every Kansrijk service runs from the
one image with `serve <service>`, and the files it mounts exist; no key is committed (the keys are
generated on first start by a one-shot service into a volume and read from files there), and the
Dockerfile builds the release binary without the development issuer.
"""
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
KANSRIJK_SERVICES = {"privacy", "vve-reach", "handover", "casework", "views", "gateway"}
errors = []


def err(msg):
    errors.append(msg)


def main():
    doc = yaml.safe_load(COMPOSE.read_text())
    services = doc.get("services") or {}
    if not services:
        err("no services")
    for name, svc in services.items():
        one_shot = svc.get("restart") == "no"
        hc = svc.get("healthcheck")
        if not one_shot:
            if not hc or not hc.get("test"):
                err(f"{name}: no healthcheck (every long-running service needs one)")
            elif hc.get("disable"):
                err(f"{name}: healthcheck disabled")
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            err(f"{name}: depends_on without conditions (use the long form with a condition)")
            deps = {d: {} for d in deps}
        for dep, spec in deps.items():
            if dep not in services:
                err(f"{name}: depends on unknown service {dep}")
                continue
            cond = (spec or {}).get("condition")
            if cond not in ("service_healthy", "service_completed_successfully", "service_started"):
                err(f"{name}: depends_on {dep} has no valid condition ({cond!r})")
            if cond == "service_healthy" and not (services[dep].get("healthcheck") or {}).get("test"):
                err(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
            if cond == "service_completed_successfully" and services[dep].get("restart") != "no":
                err(f"{name}: waits for {dep} to complete, but {dep} restarts")
            dep_profiles = set(services[dep].get("profiles") or [])
            own_profiles = set(svc.get("profiles") or [])
            if dep_profiles and not dep_profiles & own_profiles:
                err(f"{name}: depends on {dep}, which only runs in profiles {sorted(dep_profiles)}")
        for vol in svc.get("volumes") or []:
            src = vol.split(":")[0] if isinstance(vol, str) else vol.get("source", "")
            if src.startswith("./") and not (ROOT / src).exists():
                err(f"{name}: mounts {src}, which does not exist")
    # Start-order cycles.
    def visit(n, stack):
        if n in stack:
            err(f"depends_on cycle: {' -> '.join(stack + [n])}")
            return
        for d in (services.get(n, {}).get("depends_on") or {}):
            visit(d, stack + [n])
    for n in services:
        visit(n, [])

    nats = {n: s for n, s in services.items() if str(s.get("image", "")).startswith("nats:")}
    if len(nats) != 3:
        err(f"expected a 3-node NATS cluster, found {len(nats)} nats services")
    for n, s in nats.items():
        m = re.match(r"nats:(\d+)\.(\d+)", s["image"])
        if not m or (int(m.group(1)), int(m.group(2))) < (2, 12):
            err(f"{n}: NATS image {s['image']} is not 2.12 or newer")
    cluster_conf = (ROOT / "deploy/nats/cluster.conf").read_text()
    for needle in ("jetstream", "cluster", "include ./accounts.conf", "sync_interval"):
        if needle not in cluster_conf:
            err(f"deploy/nats/cluster.conf lacks {needle!r}")

    images = set()
    for name in KANSRIJK_SERVICES:
        s = services.get(name)
        if not s:
            err(f"service {name} missing")
            continue
        images.add(s.get("image"))
        if s.get("command") != ["serve", name]:
            err(f"{name}: command must be ['serve', '{name}'], is {s.get('command')}")
        env = s.get("environment") or {}
        for var in ("DATABASE_URL", "NATS_URL"):
            if var not in env:
                err(f"{name}: {var} not set")
        if env.get("KANSRIJK_DEV_ISSUER"):
            err(f"{name}: the development issuer must not be enabled in docker-compose (Keycloak is the issuer)")
    if len(images) != 1:
        err(f"Kansrijk services must share one image, found {images}")
    built = [n for n, s in services.items() if s.get("build")]
    if not built:
        err("no service builds the image (build: .)")
    if not (ROOT / "Dockerfile").exists():
        err("Dockerfile missing")
    else:
        dockerfile = (ROOT / "Dockerfile").read_text()
        if len(re.findall(r"^FROM ", dockerfile, re.M)) < 2:
            err("Dockerfile is not multi-stage")
        builds = re.findall(r"cargo build[^\n]*", dockerfile)
        if not builds or any("--no-default-features" not in b for b in builds):
            err("Dockerfile: the release build must pass --no-default-features (no development issuer, no rsa)")

    if "postgres" not in services or not str(services["postgres"].get("image", "")).startswith("postgres:17"):
        err("PostgreSQL 17 service missing")
    kc = services.get("keycloak")
    if not kc:
        err("keycloak missing")
    check_secrets(services)
    check_realm()
    obs = [n for n, s in services.items() if "observability" in (s.get("profiles") or [])]
    for want in ("prometheus", "grafana"):
        if want not in obs:
            err(f"{want} should run in the observability profile")

    if errors:
        for e in errors:
            print(f"docker-compose.yml: {e}", file=sys.stderr)
        return 1
    print(f"ok: docker-compose.yml ({len(services)} services, all long-running ones with health checks)")
    return 0


# The keys each service reads, as files from the generated volume.
SECRET_FILES = {
    "privacy": {"KANSRIJK_MASTER_KEYS", "KANSRIJK_PSEUDONYM_KEY"},
    "gateway": {"KANSRIJK_WEB_SESSION_KEY"},
}
# The values docker-compose.yml used to commit (also in services/runtime/src/config.rs DEMO_SECRETS).
FORMER_DEMO_KEYS = (
    "riDWUwAH8SE5y/fZ+pVqT/o+a8nryAnd822AwtZbQLI=",
    "PgaEfyVLHPvJXGWZNny2rClwQ5mxKyrOr1AUfvlvSDM=",
    "o+Oedk1aYApwZQtnblp/cSPPkKS9HtSwGgwnijM+xNBQzAiY5vy5nIb+MfXhOmzU",
)


def check_secrets(services):
    text = COMPOSE.read_text()
    for v in FORMER_DEMO_KEYS:
        if v in text:
            err(f"a former demo key is committed again ({v[:8]}...)")
    runtime = (ROOT / "services/runtime/src/config.rs").read_text()
    for v in FORMER_DEMO_KEYS:
        if v not in runtime:
            err(f"services/runtime/src/config.rs DEMO_SECRETS lacks the former compose key {v[:8]}...")
    # Anything that looks like a key (32+ bytes of base64) in the file is a committed secret.
    for m in re.finditer(r"(?<![A-Za-z0-9+/_.-])[A-Za-z0-9+/]{40,}={0,2}", text):
        err(f"something key-like is committed: {m.group(0)[:8]}...")
    generators = {
        n for n, s in services.items()
        if s.get("restart") == "no" and any(
            isinstance(v, str) and v.split(":")[0] == "secrets" for v in s.get("volumes") or []
        ) and "urandom" in str(s.get("command"))
    }
    if "secrets" not in generators:
        err("no one-shot service `secrets` generates the keys into the volume `secrets` (from /dev/urandom)")
    if "secrets" not in (yaml.safe_load(text).get("volumes") or {}):
        err("the volume `secrets` is not declared")
    for name, svc in services.items():
        env = svc.get("environment") or {}
        for var, value in env.items():
            if re.search(r"(_KEY|_KEYS|_SECRET)$", var):
                err(f"{name}: {var} is set in the file (a committed secret): use {var}_FILE")
    for name, wanted in SECRET_FILES.items():
        svc = services.get(name) or {}
        env = svc.get("environment") or {}
        mounts = {}
        for v in svc.get("volumes") or []:
            if isinstance(v, str) and v.split(":")[0] == "secrets":
                mounts[v.split(":")[1]] = v
        for var in wanted:
            path = env.get(f"{var}_FILE")
            if not path:
                err(f"{name}: {var}_FILE not set (the generated key)")
            elif not any(str(path).startswith(m.rstrip("/") + "/") for m in mounts):
                err(f"{name}: {var}_FILE={path} is not in the mounted volume `secrets`")
        if mounts and not all(v.endswith(":ro") for v in mounts.values()):
            err(f"{name}: mounts the volume `secrets` writable (read-only is enough)")
        dep = (svc.get("depends_on") or {}).get("secrets") or {}
        if dep.get("condition") != "service_completed_successfully":
            err(f"{name}: does not wait for `secrets` to complete")


def check_realm():
    import json
    realm = json.loads((ROOT / "deploy/keycloak/realm-kansrijk.json").read_text())
    types = set()
    for u in realm.get("users", []):
        a = u.get("attributes", {})
        for k in ("organisation_id", "organisation_type", "role", "municipality", "purpose"):
            if not a.get(k):
                err(f"realm: user {u.get('username')} lacks attribute {k}")
        if a.get("municipality") != ["0546"]:
            err(f"realm: user {u.get('username')} is not in Leiden (0546)")
        types.update(a.get("organisation_type", []))
    want = {"jgz", "kinderopvang", "basisschool", "voortgezet-onderwijs", "jeugdteam", "gemeente", "privacyfunctionaris"}
    if types != want:
        err(f"realm: organisation types {sorted(types)} differ from {sorted(want)}")
    claims = {m["config"].get("claim.name") for c in realm.get("clients", []) for m in c.get("protocolMappers", [])}
    for c in ("organisation", "organisation_type", "role", "municipality", "purpose"):
        if c not in claims:
            err(f"realm: no mapper puts claim {c} in tokens")


if __name__ == "__main__":
    sys.exit(main())
