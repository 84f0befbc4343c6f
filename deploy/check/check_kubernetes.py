#!/usr/bin/env python3
"""Validates deploy/kubernetes without a cluster.

1. Renders the kustomization (a small kustomize: resources, namespace, images) and validates
   every built-in object against the Kubernetes OpenAPI schemas shipped in the PyPI package
   kubernetes-validate (strict: unknown fields fail). Custom resources (CloudNativePG,
   cert-manager) have no schema there and get the structural checks below.
2. Checks what the schemas cannot: every container has resources and (in Deployments) liveness
   and readiness probes on /livez and /readyz; every Deployment has a PodDisruptionBudget and a
   NetworkPolicy that select its pods, behind a default-deny policy; secrets only by reference;
   TLS to PostgreSQL and NATS; the CloudNativePG cluster has 3 instances with synchronous
   replication and bounded backup retention.
3. Checks the NATS Helm values: a 3-node JetStream cluster with file storage, TLS, an explicit
   fsync policy, and least-privilege permissions (only the gateway sends commands and queries,
   only the owning service publishes its events, each service takes only its own commands).
"""
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/kubernetes"
K8S_VERSION = "1.33.0"
errors = []
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "ClusterIssuer", "CustomResourceDefinition"}


def err(msg):
    errors.append(msg)


# ------------------------------------------------------------------ rendering

def render(directory):
    kust = yaml.safe_load((directory / "kustomization.yaml").read_text())
    objects = []
    for res in kust.get("resources", []):
        path = directory / res
        if path.is_dir():
            objects.extend(render(path))
        else:
            objects.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    ns = kust.get("namespace")
    for o in objects:
        if ns and o.get("kind") not in CLUSTER_SCOPED:
            o.setdefault("metadata", {})["namespace"] = ns
    for image in kust.get("images", []):
        for c in all_containers(objects):
            if c.get("image") == image["name"]:
                c["image"] = f"{image.get('newName', image['name'])}:{image.get('newTag', 'latest')}"
    return objects


def pod_spec(o):
    kind = o.get("kind")
    spec = o.get("spec", {})
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return spec.get("template", {}).get("spec", {})
    if kind == "CronJob":
        return spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})
    return None


def all_containers(objects):
    for o in objects:
        ps = pod_spec(o)
        if ps:
            yield from ps.get("containers", [])
            yield from ps.get("initContainers", [])


def pod_labels(o):
    if o["kind"] == "CronJob":
        return o["spec"]["jobTemplate"]["spec"]["template"]["metadata"].get("labels", {})
    return o["spec"]["template"]["metadata"].get("labels", {})


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


# ------------------------------------------------------------------ checks

def schema_validate(objects):
    try:
        import kubernetes_validate as kv
    except ImportError:
        err("kubernetes-validate is not installed (pip install kubernetes-validate)")
        return 0, []
    checked, custom = 0, []
    for o in objects:
        name = f"{o.get('kind')}/{o.get('metadata', {}).get('name')}"
        try:
            kv.validate(o, K8S_VERSION, strict=True)
            checked += 1
        except kv.SchemaNotFoundError:
            custom.append(name)
        except kv.ValidationError as e:
            err(f"{name}: schema: {e.message} at {'/'.join(str(p) for p in e.path)}")
        except kv.InvalidSchemaError as e:
            err(f"{name}: {e}")
    return checked, custom


def check_objects(objects):
    for o in objects:
        for field in ("apiVersion", "kind"):
            if not o.get(field):
                err(f"object without {field}: {o.get('metadata')}")
        if not o.get("metadata", {}).get("name"):
            err(f"{o.get('kind')} without metadata.name")
        if o.get("kind") == "Secret":
            err(f"Secret/{o['metadata']['name']}: secrets are referenced, never committed")

    deployments = [o for o in objects if o["kind"] == "Deployment"]
    pdbs = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    if not any(p["spec"].get("podSelector") == {} and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
               and not p["spec"].get("ingress") and not p["spec"].get("egress") for p in policies):
        err("no default-deny NetworkPolicy (podSelector {} with Ingress and Egress, no rules)")
    if len(deployments) < 6:
        err(f"expected a Deployment per service (6), found {len(deployments)}")

    for o in objects:
        ps = pod_spec(o)
        if ps is None:
            continue
        name = f"{o['kind']}/{o['metadata']['name']}"
        if ps.get("automountServiceAccountToken") is not False:
            err(f"{name}: mounts a service account token it does not need")
        psc = ps.get("securityContext", {})
        if not psc.get("runAsNonRoot"):
            err(f"{name}: pod not runAsNonRoot")
        for c in ps.get("containers", []):
            cname = f"{name}[{c['name']}]"
            res = c.get("resources", {})
            if not res.get("requests", {}).get("cpu") or not res.get("requests", {}).get("memory"):
                err(f"{cname}: no cpu/memory requests")
            if not res.get("limits", {}).get("memory"):
                err(f"{cname}: no memory limit")
            sc = c.get("securityContext", {})
            if not sc.get("readOnlyRootFilesystem") or sc.get("allowPrivilegeEscalation") is not False:
                err(f"{cname}: needs readOnlyRootFilesystem and allowPrivilegeEscalation: false")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                err(f"{cname}: capabilities not dropped")
            if o["kind"] == "Deployment":
                live = c.get("livenessProbe", {}).get("httpGet", {}).get("path")
                ready = c.get("readinessProbe", {}).get("httpGet", {}).get("path")
                if live != "/livez":
                    err(f"{cname}: liveness probe must be GET /livez (is {live})")
                if ready != "/readyz":
                    err(f"{cname}: readiness probe must be GET /readyz (is {ready})")
            env = {e["name"]: e for e in c.get("env", [])}
            for ename, e in env.items():
                if re.search(r"PASSWORD|SECRET|_KEYS?$|TOKEN", ename) and "value" in e:
                    err(f"{cname}: {ename} has a literal value; secrets only by secretKeyRef")
            if "KANSRIJK_DEV_ISSUER" in env:
                err(f"{cname}: the development issuer must never be enabled in Kubernetes")
            db = env.get("DATABASE_URL", {}).get("value", "")
            if db and "sslmode=verify-full" not in db:
                err(f"{cname}: DATABASE_URL without sslmode=verify-full")
            nats = env.get("NATS_URL", {}).get("value", "")
            if nats and not nats.startswith("tls://"):
                err(f"{cname}: NATS_URL is not tls://")
        if o["kind"] in ("Deployment", "CronJob"):
            labels = pod_labels(o)
            if o["kind"] == "Deployment" and not any(selects(p["spec"].get("selector"), labels) for p in pdbs):
                err(f"{name}: no PodDisruptionBudget selects its pods")
            if not any(selects(p["spec"].get("podSelector"), labels) for p in policies):
                err(f"{name}: no NetworkPolicy of its own selects its pods")

    config = next((o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "kansrijk-config"), None)
    if not config:
        err("ConfigMap kansrijk-config missing")
    else:
        if config["data"].get("KANSRIJK_STREAM_REPLICAS") != "3":
            err("KANSRIJK_STREAM_REPLICAS must be 3 (R3 events stream)")
        if config["data"].get("KANSRIJK_ENV") != "production":
            err("KANSRIJK_ENV must be production")

    pg = [o for o in objects if o["kind"] == "Cluster" and o["apiVersion"].startswith("postgresql.cnpg.io/")]
    if len(pg) != 1:
        err(f"expected one CloudNativePG Cluster, found {len(pg)}")
    for c in pg:
        spec = c["spec"]
        if spec.get("instances") != 3:
            err("CloudNativePG: instances must be 3")
        sync = spec.get("postgresql", {}).get("synchronous", {})
        if sync.get("number", 0) < 1 or sync.get("method") not in ("any", "first"):
            err("CloudNativePG: synchronous replication not configured")
        if sync.get("dataDurability") != "required":
            err("CloudNativePG: dataDurability must be required (acknowledged means replicated)")
        hba = " ".join(spec.get("postgresql", {}).get("pg_hba", []))
        if "hostssl" not in hba:
            err("CloudNativePG: pg_hba must require TLS (hostssl)")
        if not spec.get("backup", {}).get("retentionPolicy"):
            err("CloudNativePG: backup retention must be bounded (erasure reaches backups only when they expire)")
        for role in spec.get("managed", {}).get("roles", []):
            if "passwordSecret" not in role:
                err(f"CloudNativePG: role {role['name']} without passwordSecret")
    for kind in ("Certificate",):
        if not any(o["kind"] == kind for o in objects):
            err(f"no {kind}: NATS TLS certificates missing")
    if not any(o["kind"] == "CronJob" and "reconcile" in o["metadata"]["name"] for o in objects):
        err("no reconcile CronJob")


# ------------------------------------------------------------------ NATS

def covers(pattern, subject):
    """Whether NATS subject `pattern` (with * and >) matches every subject `subject` could be."""
    p, s = pattern.split("."), subject.split(".")
    for i, tok in enumerate(p):
        if tok == ">":
            return len(s) > i
        if i >= len(s):
            return False
        if tok != "*" and tok != s[i]:
            return False
    return len(p) == len(s)


def may(user, action, subject):
    perms = user.get("permissions", {}).get(action, {})
    allow = perms.get("allow", [">"]) if perms else [">"]
    deny = perms.get("deny", []) if perms else []
    return any(covers(a, subject) for a in allow) and not any(covers(d, subject) for d in deny)


def check_nats():
    values = yaml.safe_load((K8S / "nats/values.yaml").read_text())
    cfg = values["config"]
    if not cfg.get("cluster", {}).get("enabled") or cfg["cluster"].get("replicas") != 3:
        err("NATS: cluster of 3 replicas required")
    js = cfg.get("jetstream", {})
    if not js.get("enabled") or not js.get("fileStore", {}).get("enabled"):
        err("NATS: JetStream with file storage required")
    if "sync_interval" not in js.get("merge", {}):
        err("NATS: the fsync policy (jetstream sync_interval) must be chosen explicitly")
    if not cfg.get("nats", {}).get("tls", {}).get("enabled") or not cfg["cluster"].get("tls", {}).get("enabled"):
        err("NATS: TLS required for clients and routes")
    users = {u["user"]: u for u in cfg["merge"]["accounts"]["KANSRIJK"]["users"]}
    services = {"gateway": None, "privacy": "privacy", "vve": "vve", "overdracht": "overdracht",
                "casework": "casework", "views": None}
    for name in services:
        if name not in users:
            err(f"NATS: no user {name}")
    for name, u in users.items():
        if not str(u.get("password", "")).startswith("<< $"):
            err(f"NATS: user {name}'s password must come from the environment")
    # Commands and queries: only the gateway sends them, except a few named, documented
    # service-to-service requests.
    query_exceptions = {("privacy", "kansrijk.qry.vve.inzage")}
    command_exceptions = {
        ("overdracht", "kansrijk.cmd.privacy.betrokkene-wissen"),
        ("overdracht", "kansrijk.cmd.privacy.bewaartermijn-registreren"),
        ("casework", "kansrijk.cmd.privacy.bewaarplicht-opleggen"),
        ("casework", "kansrijk.cmd.privacy.bewaartermijn-registreren"),
        ("vve", "kansrijk.cmd.privacy.bewaartermijn-registreren"),
    }
    for name, u in users.items():
        for subj in ("kansrijk.cmd.vve.x", "kansrijk.cmd.privacy.x", "kansrijk.cmd.casework.x", "kansrijk.cmd.overdracht.x",
                     "kansrijk.cmd.privacy.betrokkene-wissen", "kansrijk.cmd.privacy.bewaarplicht-opleggen",
                     "kansrijk.cmd.privacy.bewaarplicht-opheffen", "kansrijk.cmd.privacy.bewaartermijn-registreren"):
            if may(u, "publish", subj) and name != "gateway" and (name, subj) not in command_exceptions:
                err(f"NATS: {name} may send command {subj}; only the gateway may")
        for subj in ("kansrijk.qry.vve.inzage", "kansrijk.qry.vve.werklijst", "kansrijk.qry.casework.casus",
                     "kansrijk.qry.registry.vve-locatie", "kansrijk.qry.privacy.toegangslog"):
            if may(u, "publish", subj) and name != "gateway" and (name, subj) not in query_exceptions:
                err(f"NATS: {name} may send query {subj}; only the gateway may")
    if not may(users["gateway"], "publish", "kansrijk.cmd.vve.kind-inschrijven"):
        err("NATS: the gateway cannot send commands")
    # Events: only the owner publishes (ops may republish from PostgreSQL).
    owners = ["privacy", "vve", "overdracht", "casework"]
    for name, u in users.items():
        for owner in owners:
            subj = f"kansrijk.evt.{owner}.stream"
            if may(u, "publish", subj) and name not in (owner, "ops"):
                err(f"NATS: {name} may publish {owner}'s events")
        if name in owners and not may(u, "publish", f"kansrijk.evt.{name}.stream"):
            err(f"NATS: {name} cannot publish its own events")
        if name not in ("ops",) and may(u, "publish", "$JS.API.STREAM.DELETE.KANSRIJK_EVENTS"):
            err(f"NATS: {name} may delete the events stream")
    # Replies: each user reads only its own inbox (issue 17: `_INBOX.>` let any user read every
    # reply on the bus, subject keys included).
    for name, u in users.items():
        for other in users:
            probe = f"_INBOX_{other}.x" if other != "*" else "_INBOX.x"
            if may(u, "subscribe", probe) and other != name:
                err(f"NATS: {name} may read {other}'s replies")
        if may(u, "subscribe", "_INBOX.x"):
            err(f"NATS: {name} may read every reply (_INBOX.>)")
        if not may(u, "subscribe", f"_INBOX_{name}.x"):
            err(f"NATS: {name} cannot read its own replies (_INBOX_{name}.>)")
    if may(users["gateway"], "publish", "kansrijk.qry.vve.inzage"):
        err("NATS: the gateway may call a service's subject-access endpoint")
    # Each service takes only its own commands.
    for name, u in users.items():
        for owner in owners:
            subj = f"kansrijk.cmd.{owner}.x"
            if may(u, "subscribe", subj) and name != owner:
                err(f"NATS: {name} may receive {owner}'s commands")
    return len(users)


def main():
    objects = render(K8S)
    checked, custom = schema_validate(objects)
    check_objects(objects)
    n_users = check_nats()
    if errors:
        for e in errors:
            print(f"deploy/kubernetes: {e}", file=sys.stderr)
        return 1
    print(f"ok: deploy/kubernetes ({len(objects)} objects; {checked} validated against the Kubernetes "
          f"{K8S_VERSION} schemas, custom resources checked structurally: {', '.join(custom)}); "
          f"NATS values ({n_users} users, least privilege)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
