"""deploy/kubernetes, offline: no cluster, no network, no kustomize needed.

The kustomization (namespace + resources only) is rendered in Python, every document is validated
against the Kubernetes JSON schemas bundled in the kubernetes-validate package (strict: unknown
fields fail), and then checked for what a schema cannot see: Secrets, ConfigMaps and volumes that
are referenced but not defined, a volume shared between pods, missing probes, securityContext,
PodDisruptionBudgets, NetworkPolicies that admit exactly the calls of docs/architecture.md (and of
the services' mutual TLS, internal_tls.CALLERS), each pod's metrics port reached by Prometheus and
by nothing else, the environment each service reads (parsed by the
services' own Settings), addresses that name the right Service and port, each pod's share of the
service certificates (ca.crt and the identity its entry point runs as; never the CA key) and its
exec probes. Deliberately broken copies must fail, so the checks can fail.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import copy
import functools
import http.server
import importlib
import io
import ipaddress
import json
import re
import shutil
import subprocess
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path, PurePosixPath
from unittest import mock

import grpc
import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from deploy.kubernetes import make_secrets
from services.common import healthcheck, internal_tls

REPO = Path(__file__).resolve().parents[3]
KDIR = REPO / "deploy" / "kubernetes"
# A version kubernetes-validate ships schemas for (1.25 to 1.37 in 1.37.0).
KUBE_VERSION = "1.30.0"
IMAGE_COMMANDS = {
    "api-gateway": "services.api_gateway",
    "orchestrator-api": "services.orchestrator",
    "orchestrator-worker": "services.orchestrator",
    "renderer-haproxy": "services.renderer",
    "renderer-nginx": "services.renderer",
    "health": "services.health",
}
REPLICAS = dict.fromkeys(IMAGE_COMMANDS, 2)
SECRETS = {**make_secrets.SECRETS, **make_secrets.OPERATOR_SECRETS}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"}
NOBODY = 65534
FAKE_DATABASE_URL = "postgresql://lbaas:secret@db.example:5432/lbaas?sslmode=require"

# What each service must be told in a cluster (its defaults are loopback addresses and ./.run).
REQUIRED_ENV = {
    "api-gateway": {
        "LBAAS_RUN_DIR",
        "LBAAS_API_HOST",
        "LBAAS_API_PORT",
        "LBAAS_ORCHESTRATOR_ADDR",
        "LBAAS_HEALTH_ADDR",
        "LBAAS_AUTH_STRATEGY",
        "LBAAS_TOKENS_FILE",
    },
    "orchestrator-api": {
        "LBAAS_RUN_DIR",
        "DATABASE_URL",
        "LBAAS_ORCHESTRATOR_ROLE",
        "LBAAS_ORCHESTRATOR_ADDR",
        "LBAAS_COMPUTE_DRIVER",
        "LBAAS_RENDERER_HAPROXY_ADDR",
        "LBAAS_RENDERER_NGINX_ADDR",
        "LBAAS_HEALTH_UDP_ADDRS",
        "LBAAS_HEARTBEAT_INTERVAL",
        "LBAAS_CERT_DRIVER",
        "LBAAS_CERT_KEY_FILE",
    },
    "orchestrator-worker": {
        "LBAAS_RUN_DIR",
        "DATABASE_URL",
        "LBAAS_ORCHESTRATOR_ROLE",
        "LBAAS_ORCHESTRATOR_WORKER_ADDR",
        "LBAAS_COMPUTE_DRIVER",
        "LBAAS_RENDERER_HAPROXY_ADDR",
        "LBAAS_RENDERER_NGINX_ADDR",
        "LBAAS_HEALTH_UDP_ADDRS",
        "LBAAS_HEARTBEAT_INTERVAL",
        "LBAAS_HEARTBEAT_KEY_FILE",
        "LBAAS_CERT_DRIVER",
        "LBAAS_CERT_KEY_FILE",
    },
    "renderer-haproxy": {"LBAAS_RENDERER_BACKEND", "LBAAS_RENDERER_HAPROXY_ADDR"},
    "renderer-nginx": {"LBAAS_RENDERER_BACKEND", "LBAAS_RENDERER_NGINX_ADDR"},
    "health": {
        "LBAAS_RUN_DIR",
        "DATABASE_URL",
        "LBAAS_HEALTH_ADDR",
        "LBAAS_HEALTH_UDP_ADDR",
        "LBAAS_ORCHESTRATOR_ADDR",
        "LBAAS_HEARTBEAT_KEY_FILE",
        "LBAAS_HEARTBEAT_INTERVAL",
    },
}
# Where each service's settings are read (REQUIRED_ENV names must occur there).
CONFIG_SOURCES = {
    "api-gateway": ["services/api_gateway/config.py", "services/api_gateway/auth.py"],
    "orchestrator-api": [
        "services/orchestrator/config.py",
        "services/orchestrator/certificates_config.py",
    ],
    "orchestrator-worker": [
        "services/orchestrator/config.py",
        "services/orchestrator/certificates_config.py",
    ],
    "renderer-haproxy": ["services/renderer/config.py"],
    "renderer-nginx": ["services/renderer/config.py"],
    "health": ["services/health/config.py"],
}
# (client, variable) -> the component the address must reach through a Service.
CLIENT_ADDRESSES = {
    ("api-gateway", "LBAAS_ORCHESTRATOR_ADDR"): "orchestrator-api",
    ("api-gateway", "LBAAS_HEALTH_ADDR"): "health",
    ("health", "LBAAS_ORCHESTRATOR_ADDR"): "orchestrator-api",
    ("orchestrator-api", "LBAAS_RENDERER_HAPROXY_ADDR"): "renderer-haproxy",
    ("orchestrator-api", "LBAAS_RENDERER_NGINX_ADDR"): "renderer-nginx",
    ("orchestrator-worker", "LBAAS_RENDERER_HAPROXY_ADDR"): "renderer-haproxy",
    ("orchestrator-worker", "LBAAS_RENDERER_NGINX_ADDR"): "renderer-nginx",
}
# (component, variable) -> protocol of the port it binds (host 0.0.0.0, port a containerPort).
BIND_ADDRESSES = {
    ("orchestrator-api", "LBAAS_ORCHESTRATOR_ADDR"): "TCP",
    ("orchestrator-worker", "LBAAS_ORCHESTRATOR_WORKER_ADDR"): "TCP",
    ("renderer-haproxy", "LBAAS_RENDERER_HAPROXY_ADDR"): "TCP",
    ("renderer-nginx", "LBAAS_RENDERER_NGINX_ADDR"): "TCP",
    ("health", "LBAAS_HEALTH_ADDR"): "TCP",
    ("health", "LBAAS_HEALTH_UDP_ADDR"): "UDP",
    # Every pod's /metrics (docs/operations.md).
    **{(component, "LBAAS_METRICS_ADDR"): "TCP" for component in IMAGE_COMMANDS},
}
# Where the site's Prometheus runs (site-network.yaml, metrics-from-prometheus): its namespace's
# and its pods' labels. Every pod's port `metrics` admits it, and nothing else.
PROMETHEUS = (
    {"kubernetes.io/metadata.name": "monitoring"},
    {"app.kubernetes.io/name": "prometheus"},
)
# The calls docs/architecture.md draws between pods: (from, to, port, protocol). The same calls as
# internal_tls.CALLERS admits between the pods' identities (check_calls_match_callers).
DRAWN_CALLS = {
    ("api-gateway", "orchestrator-api", 9890, "TCP"),
    ("api-gateway", "health", 9892, "TCP"),
    ("health", "orchestrator-api", 9890, "TCP"),
    ("orchestrator-api", "renderer-haproxy", 9891, "TCP"),
    ("orchestrator-api", "renderer-nginx", 9894, "TCP"),
    ("orchestrator-worker", "renderer-haproxy", 9891, "TCP"),
    ("orchestrator-worker", "renderer-nginx", 9894, "TCP"),
}
# The Secret of the service certificates, and the HTTP service (no gRPC port, HTTP probes).
INTERNAL_TLS = "lbaas-internal-tls"
HTTP_SERVICES = {"api-gateway"}
# The gRPC service each Deployment serves to other pods, on the port its bind variable names. The
# orchestrator-worker serves only grpc.health.v1 (its probes); no compute host runs in the cluster.
SERVED = {
    "orchestrator-api": (internal_tls.ORCHESTRATOR_SERVICE, "LBAAS_ORCHESTRATOR_ADDR"),
    "renderer-haproxy": (internal_tls.RENDERER_SERVICE, "LBAAS_RENDERER_HAPROXY_ADDR"),
    "renderer-nginx": (internal_tls.RENDERER_SERVICE, "LBAAS_RENDERER_NGINX_ADDR"),
    "health": (internal_tls.HEALTH_SERVICE, "LBAAS_HEALTH_ADDR"),
}
# Who talks to PostgreSQL (egress to the ipBlock on 5432).
DATABASE_CLIENTS = {"orchestrator-api", "orchestrator-worker", "health"}
# Compute drivers that run amphorae inside the orchestrator's own pod.
IN_POD_COMPUTE = {"local", "netns"}


# --- rendering --------------------------------------------------------------------------------


def render(directory: Path = KDIR) -> list[dict]:
    """What `kubectl kustomize` makes of a kustomization that only lists resources and sets a
    namespace (anything else is refused, so this stays what kustomize does)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    extra = set(kustomization) - {"apiVersion", "kind", "namespace", "resources"}
    if extra:
        raise ValueError(f"kustomization fields this renderer does not do: {sorted(extra)}")
    docs = [
        doc
        for name in kustomization["resources"]
        for doc in yaml.safe_load_all((directory / name).read_text())
        if doc is not None
    ]
    namespace = kustomization.get("namespace")
    if namespace:
        for doc in docs:
            if doc["kind"] == "Namespace":
                doc["metadata"]["name"] = namespace
            elif doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = namespace
            for subject in doc.get("subjects") or []:
                if subject.get("kind") == "ServiceAccount" and subject.get("namespace") in (
                    None,
                    "default",
                ):
                    subject["namespace"] = namespace
    return docs


@pytest.fixture(scope="module")
def rendered() -> list[dict]:
    return render()


@pytest.fixture
def docs(rendered: list[dict]) -> list[dict]:
    return copy.deepcopy(rendered)


# kubernetes-validate reads and parses the schema files (several MB) for every document: read each
# once (they are only read, never changed).
if not hasattr(kubernetes_validate.utils.schema_contents, "cache_info"):
    kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=None)(
        kubernetes_validate.utils.schema_contents
    )


def schema_errors(docs: list[dict]) -> list[str]:
    out = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as err:
            path = ".".join(str(p) for p in err.path)
            out.append(f"{kn(doc)}: {path}: {err.message}")
        except kubernetes_validate.SchemaNotFoundError as err:
            out.append(f"{kn(doc)}: {err.message}")
    return out


def kn(doc: dict) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


# --- a model of the rendered objects -----------------------------------------------------------


class Objects:
    def __init__(self, docs: list[dict]):
        self.docs = docs
        self.by_kind: dict[str, dict[str, dict]] = defaultdict(dict)
        for doc in docs:
            self.by_kind[doc["kind"]][doc["metadata"]["name"]] = doc

    def kind(self, kind: str) -> dict[str, dict]:
        return self.by_kind.get(kind, {})

    def workloads(self) -> dict[str, dict]:
        """Everything with a pod template: name -> object."""
        return {**self.kind("Deployment"), **self.kind("Job")}

    def pod_labels(self, name: str) -> dict[str, str]:
        return self.workloads()[name]["spec"]["template"]["metadata"].get("labels", {})

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        labels = {"kubernetes.io/metadata.name": namespace}
        labels.update(
            self.kind("Namespace").get(namespace, {}).get("metadata", {}).get("labels", {})
        )
        return labels

    def configmap_data(self, name: str) -> dict[str, str] | None:
        cm = self.kind("ConfigMap").get(name)
        return None if cm is None else dict(cm.get("data") or {})

    def secret_keys(self, name: str) -> set[str] | None:
        """Keys of a Secret defined here, made by the Job, or provided by the operator."""
        if name in self.kind("Secret"):
            secret = self.kind("Secret")[name]
            return set(secret.get("data") or {}) | set(secret.get("stringData") or {})
        if name in SECRETS:
            return set(SECRETS[name])
        return None

    def env(self, container: dict) -> dict[str, str]:
        """The container's environment as the kubelet builds it (Secret values as placeholders;
        DATABASE_URL as a plausible URL)."""
        out: dict[str, str] = {}
        for source in container.get("envFrom") or []:
            if "configMapRef" in source:
                out.update(self.configmap_data(source["configMapRef"]["name"]) or {})
        for var in container.get("env") or []:
            if "value" in var:
                out[var["name"]] = str(var["value"])
                continue
            ref = var.get("valueFrom", {})
            if "secretKeyRef" in ref:
                key = ref["secretKeyRef"]["key"]
                out[var["name"]] = FAKE_DATABASE_URL if key == "DATABASE_URL" else f"<{key}>"
            elif "configMapKeyRef" in ref:
                data = self.configmap_data(ref["configMapKeyRef"]["name"]) or {}
                out[var["name"]] = data.get(ref["configMapKeyRef"]["key"], "")
            else:
                out[var["name"]] = "<field>"
        return out


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def main_container(workload: dict) -> dict:
    return pod_spec(workload)["containers"][0]


def all_containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return [*(spec.get("initContainers") or []), *spec["containers"]]


def selector_matches(selector: dict | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels, matchExpressions); {} matches everything."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


# --- the services' mutual TLS, as the pods see it ----------------------------------------------


@functools.cache
def identity_rule(module: str) -> tuple[str, ...]:
    """How `python -m module` chooses its internal-TLS identity, read from its entry point
    (services/*/__main__.py): (CONSTANT,) for `InternalTLS.from_env(CONSTANT)`, or (flag, A, B)
    for `InternalTLS.from_env(name)` with `name = A if settings.flag else B` (the orchestrator's
    roles). An entry point written otherwise fails here rather than being guessed."""
    path = REPO.joinpath(*module.split("."), "__main__.py")
    tree = ast.parse(path.read_text())
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "InternalTLS.from_env"
    ]
    if len(calls) != 1 or len(calls[0].args) != 1 or not isinstance(calls[0].args[0], ast.Name):
        raise AssertionError(f"{path}: no single InternalTLS.from_env(NAME) names its identity")
    name = calls[0].args[0].id
    if name.isupper() and isinstance(getattr(internal_tls, name, None), str):
        return (name,)
    values = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == [name]
    ]
    if len(values) == 1 and isinstance(values[0], ast.IfExp):
        test, a, b = (ast.unparse(x) for x in (values[0].test, values[0].body, values[0].orelse))
        if test.startswith("settings.") and all(
            isinstance(getattr(internal_tls, x, None), str) for x in (a, b)
        ):
            return (test.removeprefix("settings."), a, b)
    raise AssertionError(f"{path}: cannot tell which identity {name!r} is")


def process_identity(module: str, env: dict[str, str]) -> str:
    """The identity `python -m module` runs as in env (the service's own Settings decide a role)."""
    rule = identity_rule(module)
    if len(rule) == 1:
        return getattr(internal_tls, rule[0])
    flag, if_true, if_false = rule
    settings = importlib.import_module(f"{module}.config").Settings.from_env(env)
    return getattr(internal_tls, if_true if getattr(settings, flag) else if_false)


def service_module(workload: dict) -> str | None:
    """`services.x` for a container started as `python -m services.x`, else None."""
    command = main_container(workload).get("command") or []
    if len(command) >= 2 and command[-2] == "-m" and command[-1].startswith("services."):
        return command[-1]
    return None


def secret_files(objs: Objects, spec: dict, container: dict) -> dict[str, tuple[str, str, int]]:
    """Path in the container -> (Secret, key, mode) of every Secret file it sees (secret and
    projected volumes; a volume without items holds every key of its Secret)."""
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    out = {}
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount["name"], {})
        if "secret" in volume:
            sources, default = [volume["secret"]], volume["secret"].get("defaultMode")
        elif "projected" in volume:
            sources = [s["secret"] for s in volume["projected"]["sources"] if "secret" in s]
            default = volume["projected"].get("defaultMode")
        else:
            continue
        base = PurePosixPath(mount["mountPath"], mount.get("subPath", ""))
        for source in sources:
            name = source.get("secretName") or source.get("name")
            items = source.get("items")
            if items is None:
                items = [{"key": k, "path": k} for k in sorted(objs.secret_keys(name) or ())]
            for item in items:
                path = str(base / item["path"])
                out[path] = (
                    name,
                    item["key"],
                    item.get("mode", 0o644 if default is None else default),
                )
    return out


def healthcheck_call(command: list[str]) -> dict | None:
    """What `python -m services.common.healthcheck ...` would probe, parsed by its own command
    line (probe replaced): address, server, identity, timeout; None for any other command."""
    if command[:3] != ["python", "-m", "services.common.healthcheck"]:
        return None
    seen: dict = {}

    def record(address, server, identity, timeout, service=""):
        seen.update(address=address, server=server, identity=identity, timeout=timeout)
        return True

    with mock.patch.object(healthcheck, "probe", record), contextlib.redirect_stderr(io.StringIO()):
        try:
            healthcheck.main(command[3:])
        except SystemExit:
            return None
    return seen


# --- semantic checks ---------------------------------------------------------------------------


def problems(docs: list[dict]) -> list[str]:
    """Everything a schema cannot see; [] when the manifests are sound."""
    objs = Objects(docs)
    out: list[str] = []
    for check in (
        check_components,
        check_references,
        check_volumes_not_shared,
        check_pods_secure,
        check_probes,
        check_internal_tls,
        check_services,
        check_disruption_budgets,
        check_environment,
        check_addresses,
        check_compute_driver,
        check_network_policies,
        check_calls_match_callers,
        check_metrics,
    ):
        out.extend(check(objs))
    return out


def check_components(objs: Objects) -> Iterator[str]:
    deployments = objs.kind("Deployment")
    if set(deployments) != set(IMAGE_COMMANDS):
        yield f"Deployments {sorted(deployments)}, expected {sorted(IMAGE_COMMANDS)}"
    for name, dep in deployments.items():
        if dep["spec"].get("replicas") != REPLICAS.get(name):
            yield f"{name}: replicas {dep['spec'].get('replicas')!r}, expected {REPLICAS.get(name)}"
        if not selector_matches(dep["spec"]["selector"], objs.pod_labels(name)):
            yield f"{name}: its selector does not match its pod template"
        command = main_container(dep).get("command") or []
        if command[-2:] != ["-m", IMAGE_COMMANDS.get(name)]:
            yield f"{name}: command {command}, expected python -m {IMAGE_COMMANDS.get(name)}"


def check_references(objs: Objects) -> Iterator[str]:
    """Every Secret, ConfigMap, key, volume and PVC a pod names exists (or is the Job's or the
    operator's Secret, with that key); every volume is mounted."""
    for name, workload in objs.workloads().items():
        spec = pod_spec(workload)
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        mounted = set()
        for container in all_containers(workload):
            where = f"{name}/{container['name']}"
            for mount in container.get("volumeMounts") or []:
                mounted.add(mount["name"])
                if mount["name"] not in volumes:
                    yield f"{where}: mounts volume {mount['name']!r}, which the pod does not define"
            for source in container.get("envFrom") or []:
                if (
                    "configMapRef" in source
                    and objs.configmap_data(source["configMapRef"]["name"]) is None
                ):
                    yield f"{where}: envFrom ConfigMap {source['configMapRef']['name']!r} undefined"
                if "secretRef" in source and objs.secret_keys(source["secretRef"]["name"]) is None:
                    yield f"{where}: envFrom Secret {source['secretRef']['name']!r} undefined"
            for var in container.get("env") or []:
                ref = var.get("valueFrom", {})
                if "secretKeyRef" in ref:
                    keys = objs.secret_keys(ref["secretKeyRef"]["name"])
                    if keys is None or ref["secretKeyRef"]["key"] not in keys:
                        yield (
                            f"{where}: {var['name']} from Secret {ref['secretKeyRef']['name']!r} "
                            f"key {ref['secretKeyRef']['key']!r}, which is not defined"
                        )
                if "configMapKeyRef" in ref:
                    data = objs.configmap_data(ref["configMapKeyRef"]["name"])
                    if data is None or ref["configMapKeyRef"]["key"] not in data:
                        yield f"{where}: {var['name']} from an undefined ConfigMap key"
        for vname, volume in volumes.items():
            if vname not in mounted:
                yield f"{name}: volume {vname!r} is mounted by no container"
            if "secret" in volume:
                secret = volume["secret"]["secretName"]
                keys = objs.secret_keys(secret)
                if keys is None:
                    yield f"{name}: volume {vname!r} uses Secret {secret!r}, which is not defined"
                    continue
                for item in volume["secret"].get("items") or []:
                    if item["key"] not in keys:
                        yield f"{name}: volume {vname!r}: Secret {secret!r} has no key {item['key']!r}"
            if "configMap" in volume and objs.configmap_data(volume["configMap"]["name"]) is None:
                yield f"{name}: volume {vname!r} uses an undefined ConfigMap"
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                if claim not in objs.kind("PersistentVolumeClaim"):
                    yield f"{name}: volume {vname!r} uses PVC {claim!r}, which is not defined"
    for binding in objs.kind("RoleBinding").values():
        if binding["roleRef"]["name"] not in objs.kind("Role"):
            yield f"RoleBinding {binding['metadata']['name']}: no Role {binding['roleRef']['name']}"
        for subject in binding.get("subjects") or []:
            if subject["kind"] == "ServiceAccount" and subject["name"] not in objs.kind(
                "ServiceAccount"
            ):
                yield f"RoleBinding {binding['metadata']['name']}: no ServiceAccount {subject['name']}"


def check_volumes_not_shared(objs: Objects) -> Iterator[str]:
    """State shared between pods lives in PostgreSQL: a PVC is mounted by one pod at most (one
    workload, one replica) unless it is ReadWriteMany."""
    users: dict[str, list[str]] = defaultdict(list)
    for name, workload in objs.workloads().items():
        replicas = workload["spec"].get("replicas", 1) if workload["kind"] == "Deployment" else 1
        for volume in pod_spec(workload).get("volumes") or []:
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                users[claim].extend([name] * (replicas if isinstance(replicas, int) else 2))
    for claim, pods in users.items():
        modes = objs.kind("PersistentVolumeClaim").get(claim, {}).get("spec", {}).get("accessModes")
        if len(pods) > 1 and "ReadWriteMany" not in (modes or []):
            yield f"PVC {claim!r} ({modes}) is mounted by {len(pods)} pods: {sorted(set(pods))}"


def check_pods_secure(objs: Objects) -> Iterator[str]:
    for name, workload in objs.workloads().items():
        spec = pod_spec(workload)
        pod = spec.get("securityContext") or {}
        if pod.get("fsGroup") is None:
            yield f"{name}: no fsGroup"
        if (
            workload["kind"] == "Deployment"
            and spec.get("automountServiceAccountToken") is not False
        ):
            yield f"{name}: mounts a service account token it does not use"
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        for container in all_containers(workload):
            where = f"{name}/{container['name']}"
            sc = {**pod, **(container.get("securityContext") or {})}
            if sc.get("runAsNonRoot") is not True:
                yield f"{where}: runAsNonRoot is not true"
            if sc.get("runAsUser") != NOBODY:
                yield f"{where}: runAsUser {sc.get('runAsUser')}, expected {NOBODY}"
            if sc.get("allowPrivilegeEscalation") is not False:
                yield f"{where}: allowPrivilegeEscalation is not false"
            if sc.get("readOnlyRootFilesystem") is not True:
                yield f"{where}: readOnlyRootFilesystem is not true"
            if (sc.get("capabilities") or {}).get("drop") != ["ALL"] or (
                sc.get("capabilities") or {}
            ).get("add"):
                yield f"{where}: capabilities are not drop [ALL]"
            if (sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
                yield f"{where}: seccompProfile is not RuntimeDefault"
            if sc.get("privileged"):
                yield f"{where}: privileged"
            if container in spec["containers"]:
                mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts") or []}
                if "emptyDir" not in volumes.get(mounts.get("/tmp", ""), {}):
                    yield f"{where}: read-only root filesystem and no emptyDir at /tmp"
        if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
            yield f"{name}: uses the host's namespaces"


def check_probes(objs: Objects) -> Iterator[str]:
    """The gateway: GET / on its port. The gRPC services: exec probes running the mutual-TLS
    health check on their own port, for and as the pod's identity (Kubernetes' grpc: probe cannot
    present a client certificate, so it fails against these ports)."""
    for name, dep in objs.kind("Deployment").items():
        for container in pod_spec(dep)["containers"]:
            where = f"{name}/{container['name']}"
            ports = {p["containerPort"] for p in container.get("ports") or []}
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                spec = container.get(probe)
                if not spec:
                    yield f"{where}: no {probe}"
                    continue
                if "grpc" in spec:
                    yield f"{where}: {probe} is a grpc: probe, which presents no client certificate"
                if name in HTTP_SERVICES:
                    handler = spec.get("httpGet") or {}
                    if handler.get("port") not in ports:
                        yield f"{where}: {probe} port {handler.get('port')} is not a containerPort"
                    if handler.get("path") != "/":
                        yield f"{where}: {probe} is not GET / (unauthenticated version discovery)"
                    continue
                yield from _check_exec_probe(objs, dep, f"{where}: {probe}", spec, ports)


def _check_exec_probe(
    objs: Objects, dep: dict, where: str, spec: dict, ports: set[int]
) -> Iterator[str]:
    call = healthcheck_call((spec.get("exec") or {}).get("command") or [])
    if call is None:
        yield f"{where} is not `python -m services.common.healthcheck ADDRESS IDENTITY`"
        return
    host, _, port = call["address"].rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        yield f"{where} probes {call['address']}, not the pod's own loopback"
    if not port.isdigit() or int(port) not in ports:
        yield f"{where} port {port} is not a containerPort"
    module = service_module(dep)
    try:
        identity = module and process_identity(module, objs.env(main_container(dep)))
    except ValueError as err:
        yield f"{where}: the service's Settings refuse its environment: {err}"
        return
    if call["server"] != identity:
        yield f"{where} expects the server {call['server']!r}; the pod serves as {identity!r}"
    if call["identity"] != identity:
        yield f"{where} presents the certificate of {call['identity']!r}, not {identity!r}"
    if spec.get("timeoutSeconds", 1) <= call["timeout"]:
        yield (
            f"{where} timeoutSeconds {spec.get('timeoutSeconds', 1)} leaves no time past the "
            f"check's own {call['timeout']} s (and Python's start)"
        )


def check_internal_tls(objs: Objects) -> Iterator[str]:
    """Each pod holds, of the service certificates, only ca.crt and the certificate and key of the
    identity its process runs as (derived from its entry point), where the process reads them
    (LBAAS_INTERNAL_TLS_DIR), readable by its user and by no other; never the service CA key."""
    for name, workload in objs.workloads().items():
        spec = pod_spec(workload)
        module = service_module(workload)
        try:
            identity = module and process_identity(module, objs.env(main_container(workload)))
        except ValueError as err:
            yield f"{name}: the service's Settings refuse its environment: {err}"
            continue
        wanted = {"ca.crt", f"{identity}.crt", f"{identity}.key"} if identity else set()
        pod_sc = spec.get("securityContext") or {}
        for container in all_containers(workload):
            where = f"{name}/{container['name']}"
            sc = {**pod_sc, **(container.get("securityContext") or {})}
            files = secret_files(objs, spec, container)
            for path, (secret, key, mode) in sorted(files.items()):
                if secret != INTERNAL_TLS:
                    continue
                if key == "ca.key":
                    yield f"{where}: mounts the service CA key ({path})"
                elif key not in wanted:
                    yield (
                        f"{where}: mounts {key} of Secret {INTERNAL_TLS!r}; it runs as "
                        f"{identity!r} and needs only {sorted(wanted)}"
                    )
                if key.endswith(".key") and mode & 0o007:
                    yield f"{where}: {path} is readable by every user (mode {mode:#o})"
                readable = (
                    mode & 0o004
                    or (pod_sc.get("fsGroup") is not None and mode & 0o040)
                    or (sc.get("runAsUser") == 0 and mode & 0o400)
                )
                if not readable:
                    yield f"{where}: {path} (mode {mode:#o}) is unreadable by the user it runs as"
            if identity is None or container not in spec["containers"]:
                continue
            directory = internal_tls.default_directory(objs.env(container))
            for key in sorted(wanted):
                path = str(PurePosixPath(directory, key))
                if files.get(path, ("", ""))[:2] != (INTERNAL_TLS, key):
                    yield (
                        f"{where}: runs as {identity!r} and reads {path}, which is not "
                        f"{key} of Secret {INTERNAL_TLS!r}"
                    )


def check_services(objs: Objects) -> Iterator[str]:
    deployments = objs.kind("Deployment")
    served = set()
    for sname, svc in objs.kind("Service").items():
        selector = svc["spec"].get("selector") or {}
        targets = [
            d
            for d in deployments
            if selector and selector_matches({"matchLabels": selector}, objs.pod_labels(d))
        ]
        if len(targets) != 1:
            yield f"Service {sname}: selects {targets}, expected one Deployment"
            continue
        served.add(targets[0])
        container_ports = {
            (p["containerPort"], p.get("protocol", "TCP")): p.get("name")
            for c in pod_spec(deployments[targets[0]])["containers"]
            for p in c.get("ports") or []
        }
        for port in svc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            proto = port.get("protocol", "TCP")
            ok = (target, proto) in container_ports or (
                isinstance(target, str) and (target in container_ports.values())
            )
            if not ok:
                yield f"Service {sname}: port {port['port']}/{proto} targets no containerPort"
    for name in deployments:
        if name not in served:
            yield f"{name}: no Service"


def check_disruption_budgets(objs: Objects) -> Iterator[str]:
    for name in objs.kind("Deployment"):
        budgets = [
            pdb
            for pdb in objs.kind("PodDisruptionBudget").values()
            if selector_matches(pdb["spec"]["selector"], objs.pod_labels(name))
        ]
        if len(budgets) != 1:
            yield f"{name}: {len(budgets)} PodDisruptionBudgets, expected one"
        elif budgets[0]["spec"].get("minAvailable") != 1:
            yield f"{name}: PodDisruptionBudget minAvailable is not 1"


@functools.cache
def known_variables() -> frozenset[str]:
    """Every environment variable the code reads: the names written in services/ (and the Job's
    script), plus the renderer addresses, whose names are built per backend."""
    from services.renderer.config import SUPPORTED_BACKENDS, address_variable

    names = {address_variable(b) for b in SUPPORTED_BACKENDS} | {"DATABASE_URL"}
    for path in [*(REPO / "services").rglob("*.py"), KDIR / "make_secrets.py"]:
        names.update(re.findall(r"\b(?:LBAAS|POD)_[A-Z0-9_]+\b", path.read_text()))
    return frozenset(names)


def check_environment(objs: Objects) -> Iterator[str]:
    known = known_variables()
    for name, workload in objs.workloads().items():
        for container in all_containers(workload):
            where = f"{name}/{container['name']}"
            env = objs.env(container)
            names = [v["name"] for v in container.get("env") or []]
            if len(names) != len(set(names)):
                yield f"{where}: a variable is set twice"
            for var in sorted(set(env) - known):
                yield f"{where}: {var} is read by no service"
            if container not in pod_spec(workload)["containers"] or name not in REQUIRED_ENV:
                continue
            for var in sorted(REQUIRED_ENV[name] - set(env)):
                yield f"{where}: {var} is not set"
            # Files named by *_FILE variables are keys of a Secret mounted at their directory.
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts") or []}
            volumes = {v["name"]: v for v in pod_spec(workload).get("volumes") or []}
            for var, value in env.items():
                if not var.endswith("_FILE"):
                    continue
                path = Path(value)
                volume = volumes.get(mounts.get(str(path.parent), ""), {})
                items = {i["path"] for i in volume.get("secret", {}).get("items") or []}
                if path.name not in items:
                    yield f"{where}: {var}={value} is not a file of a mounted Secret"
            run_dir = env.get("LBAAS_RUN_DIR")
            if run_dir and "emptyDir" not in volumes.get(mounts.get(run_dir, ""), {}):
                yield f"{where}: LBAAS_RUN_DIR {run_dir} is not a writable emptyDir of the pod"
    # The API and worker roles agree on the settings they share.
    api = objs.workloads().get("orchestrator-api")
    worker = objs.workloads().get("orchestrator-worker")
    if api and worker:
        a, w = objs.env(main_container(api)), objs.env(main_container(worker))
        for var in sorted(REQUIRED_ENV["orchestrator-api"] & REQUIRED_ENV["orchestrator-worker"]):
            if a.get(var) != w.get(var) and var != "LBAAS_ORCHESTRATOR_ROLE":
                yield f"orchestrator api and worker disagree on {var}: {a.get(var)} / {w.get(var)}"


def check_addresses(objs: Objects) -> Iterator[str]:
    services = objs.kind("Service")
    for (client, var), target in CLIENT_ADDRESSES.items():
        if client not in objs.workloads():
            continue
        value = objs.env(main_container(objs.workloads()[client])).get(var, "")
        host, _, port = value.rpartition(":")
        svc = services.get(host)
        if svc is None:
            yield f"{client}: {var}={value!r} names no Service"
            continue
        if target not in objs.workloads():
            yield f"{client}: {var}={value!r}: there is no {target} to reach"
            continue
        if not selector_matches({"matchLabels": svc["spec"]["selector"]}, objs.pod_labels(target)):
            yield f"{client}: {var}={value!r}: Service {host} does not select {target}"
        if not port.isdigit() or int(port) not in {p["port"] for p in svc["spec"]["ports"]}:
            yield f"{client}: {var}={value!r}: Service {host} has no port {port}"
    for (component, var), proto in BIND_ADDRESSES.items():
        if component not in objs.workloads():
            continue
        container = main_container(objs.workloads()[component])
        value = objs.env(container).get(var, "")
        host, _, port = value.rpartition(":")
        ports = {
            (p["containerPort"], p.get("protocol", "TCP")) for p in container.get("ports") or []
        }
        if host != "0.0.0.0" or not port.isdigit() or (int(port), proto) not in ports:
            yield f"{component}: {var}={value!r} does not bind a {proto} containerPort on 0.0.0.0"
    gateway = objs.workloads().get("api-gateway")
    if gateway:
        env = objs.env(main_container(gateway))
        ports = {p["containerPort"] for p in main_container(gateway).get("ports") or []}
        if env.get("LBAAS_API_HOST") != "0.0.0.0" or int(env.get("LBAAS_API_PORT", 0)) not in ports:
            yield "api-gateway: LBAAS_API_HOST/PORT do not bind its containerPort on 0.0.0.0"


def check_compute_driver(objs: Objects) -> Iterator[str]:
    """No amphora runs in the worker's pod: the compute driver is not one that starts agents
    in the orchestrator's own network namespace."""
    for name in ("orchestrator-api", "orchestrator-worker"):
        if name in objs.workloads():
            driver = objs.env(main_container(objs.workloads()[name])).get("LBAAS_COMPUTE_DRIVER")
            if driver is None or driver in IN_POD_COMPUTE:
                yield f"{name}: LBAAS_COMPUTE_DRIVER={driver!r} runs amphorae inside the pod"


# --- NetworkPolicies ---------------------------------------------------------------------------


class Network:
    """Evaluates the NetworkPolicies the way the API defines them: a pod selected by a policy of
    a direction is isolated in that direction and admits only what some rule allows."""

    def __init__(self, objs: Objects):
        self.objs = objs
        self.policies = list(objs.kind("NetworkPolicy").values())
        self.pods = {name: objs.pod_labels(name) for name in objs.workloads()}

    @staticmethod
    def _types(policy: dict) -> list[str]:
        spec = policy["spec"]
        return spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))

    def _selecting(self, pod: str, direction: str) -> list[dict]:
        return [
            p
            for p in self.policies
            if direction in self._types(p)
            and selector_matches(p["spec"]["podSelector"], self.pods[pod])
        ]

    @staticmethod
    def _port_ok(rule: dict, port: int, proto: str, port_name: str | None) -> bool:
        if not rule.get("ports"):
            return True
        for entry in rule["ports"]:
            if entry.get("protocol", "TCP") != proto:
                continue
            want = entry.get("port")
            if want is None or want == port or (port_name and want == port_name):
                return True
            if isinstance(want, int) and entry.get("endPort") and want <= port <= entry["endPort"]:
                return True
        return False

    def _peer_matches_pod(self, peer: dict, pod: str) -> bool:
        if "ipBlock" in peer:
            return True  # pod addresses are unknown here: assume any block may hold them
        namespace = self.objs.workloads()[pod]["metadata"].get("namespace", "")
        ns_labels = self.objs.namespace_labels(namespace)
        if "namespaceSelector" in peer and not selector_matches(
            peer["namespaceSelector"], ns_labels
        ):
            return False
        return selector_matches(peer.get("podSelector"), self.pods[pod])

    @staticmethod
    def _peer_matches_address(peer: dict, address: str) -> bool:
        block = peer.get("ipBlock")
        if not block:
            return False
        ip = ipaddress.ip_address(address)
        net = ipaddress.ip_network(block["cidr"])
        return (
            ip.version == net.version
            and ip in net
            and not any(ip in ipaddress.ip_network(e) for e in block.get("except") or [])
        )

    def _admits(
        self, pod: str, direction: str, peer_ok: Callable[[dict], bool], port, proto, pname
    ):
        key, peers = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        policies = self._selecting(pod, direction)
        if not policies:
            return True
        return any(
            (not rule.get(peers) or any(peer_ok(p) for p in rule[peers]))
            and self._port_ok(rule, port, proto, pname)
            for policy in policies
            for rule in policy["spec"].get(key) or []
        )

    def ports(self, pod: str) -> list[tuple[int, str, str | None]]:
        return [
            (p["containerPort"], p.get("protocol", "TCP"), p.get("name"))
            for c in pod_spec(self.objs.workloads()[pod])["containers"]
            for p in c.get("ports") or []
        ]

    def pod_calls(self) -> set[tuple[str, str, int, str]]:
        """(from, to, port, protocol) that the policies let through, between the pods here."""
        out = set()
        for dst in self.pods:
            for port, proto, pname in self.ports(dst):
                for src in self.pods:
                    if self._admits(
                        dst,
                        "Ingress",
                        lambda p, s=src: self._peer_matches_pod(p, s),
                        port,
                        proto,
                        pname,
                    ) and self._admits(
                        src,
                        "Egress",
                        lambda p, d=dst: self._peer_matches_pod(p, d),
                        port,
                        proto,
                        pname,
                    ):
                        out.add((src, dst, port, proto))
        return out

    def admits_from(self, address: str) -> set[tuple[str, int, str]]:
        """(pod, port, protocol) that a client outside the cluster at address may reach."""
        return {
            (dst, port, proto)
            for dst in self.pods
            for port, proto, pname in self.ports(dst)
            if self._admits(
                dst, "Ingress", lambda p: self._peer_matches_address(p, address), port, proto, pname
            )
        }

    def admits_from_pod(
        self, namespace_labels: dict[str, str], pod_labels: dict[str, str]
    ) -> set[tuple[str, int, str]]:
        """(pod, port, protocol) that a pod of another namespace, with these labels and those of
        its namespace, may reach (its address is in no ipBlock of these policies)."""

        def peer_ok(peer: dict) -> bool:
            if "namespaceSelector" not in peer:  # a podSelector alone: this namespace's pods
                return False
            return selector_matches(peer["namespaceSelector"], namespace_labels) and (
                selector_matches(peer.get("podSelector"), pod_labels)
            )

        return {
            (dst, port, proto)
            for dst in self.pods
            for port, proto, pname in self.ports(dst)
            if self._admits(dst, "Ingress", peer_ok, port, proto, pname)
        }

    def sends_to(self, src: str, address: str, port: int, proto: str = "TCP") -> bool:
        return self._admits(
            src, "Egress", lambda p: self._peer_matches_address(p, address), port, proto, None
        )

    def ip_blocks(self, policy_name: str) -> list[str]:
        spec = self.objs.kind("NetworkPolicy")[policy_name]["spec"]
        return [
            peer["ipBlock"]["cidr"]
            for rule in [*(spec.get("ingress") or []), *(spec.get("egress") or [])]
            for peer in rule.get("from", []) + rule.get("to", [])
            if "ipBlock" in peer
        ]


def check_network_policies(objs: Objects) -> Iterator[str]:
    net = Network(objs)
    default_deny = [
        p
        for p in net.policies
        if p["spec"]["podSelector"] == {}
        and set(Network._types(p)) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    if not default_deny:
        yield "no default-deny NetworkPolicy (ingress and egress) for the namespace"
    for name in objs.kind("Deployment"):
        own = [
            p
            for p in net.policies
            if p not in default_deny
            and selector_matches(p["spec"]["podSelector"], net.pods[name])
            and p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name")
            == name
        ]
        if not own:
            yield f"{name}: no NetworkPolicy of its own"
    calls = {c for c in net.pod_calls() if c[0] in objs.kind("Deployment")}
    for call in sorted(calls - DRAWN_CALLS):
        yield f"NetworkPolicies allow a call the architecture does not draw: {call}"
    for call in sorted(DRAWN_CALLS - calls):
        yield f"NetworkPolicies block a drawn call: {call}"
    # From outside: anyone reaches the gateway's API and nothing else but heartbeats.
    outsider = "203.0.113.7"  # TEST-NET-3: in no range of the manifests
    expected = {("api-gateway", 9876, "TCP")}
    if net.admits_from(outsider) != expected:
        yield f"an outside address reaches {sorted(net.admits_from(outsider))}, expected {expected}"
    heartbeat_blocks = (
        net.ip_blocks("health-heartbeat-from-amphorae")
        if ("health-heartbeat-from-amphorae" in objs.kind("NetworkPolicy"))
        else []
    )
    if not heartbeat_blocks:
        yield "no NetworkPolicy admits heartbeats from the amphora network"
    for cidr in heartbeat_blocks:
        amphora = str(next(ipaddress.ip_network(cidr).hosts()))
        if net.admits_from(amphora) != expected | {("health", 9893, "UDP")}:
            yield f"an amphora at {amphora} reaches {sorted(net.admits_from(amphora))}"
    # To outside: PostgreSQL from its clients only.
    db_blocks = (
        net.ip_blocks("postgresql-egress")
        if "postgresql-egress" in objs.kind("NetworkPolicy")
        else []
    )
    if not db_blocks:
        yield "no NetworkPolicy lets the database clients reach PostgreSQL"
    for cidr in db_blocks:
        db = str(next(ipaddress.ip_network(cidr).hosts()))
        for name in objs.kind("Deployment"):
            if net.sends_to(name, db, 5432) != (name in DATABASE_CLIENTS):
                yield f"{name}: egress to PostgreSQL {db}:5432 is {net.sends_to(name, db, 5432)}"
    for name in ("api-gateway", "renderer-haproxy", "renderer-nginx"):
        if name in net.pods and net.sends_to(name, outsider, 443):
            yield f"{name}: may send outside the cluster"


def callers_calls(objs: Objects) -> set[tuple[str, str, int, str]]:
    """(from, to, port, protocol) between the Deployments that the servers' mutual TLS admits:
    the caller's identity is among CALLERS of the service the callee serves (SERVED)."""
    identities = {}
    for name, dep in objs.kind("Deployment").items():
        module = service_module(dep)
        if module:
            identities[name] = process_identity(module, objs.env(main_container(dep)))
    out = set()
    for server, (service, var) in SERVED.items():
        if server not in objs.kind("Deployment"):
            continue
        port = objs.env(main_container(objs.kind("Deployment")[server])).get(var, "")
        for client, identity in identities.items():
            if identity in internal_tls.CALLERS[service]:
                out.add((client, server, int(port.rpartition(":")[2] or 0), "TCP"))
    return out


def check_calls_match_callers(objs: Objects) -> Iterator[str]:
    """The NetworkPolicies let through between pods exactly what the servers' CALLERS admit."""
    try:
        admitted = callers_calls(objs)
    except ValueError as err:
        yield f"a service's Settings refuse its environment: {err}"
        return
    network = {c for c in Network(objs).pod_calls() if c[0] in objs.kind("Deployment")}
    for call in sorted(network - admitted):
        yield f"NetworkPolicies let through {call}, which internal_tls.CALLERS refuses"
    for call in sorted(admitted - network):
        yield f"NetworkPolicies block {call}, which internal_tls.CALLERS admits"


def check_metrics(objs: Objects) -> Iterator[str]:
    """Each Deployment serves /metrics on its container port named `metrics` (the port of its
    LBAAS_METRICS_ADDR, announced in its pod annotations), which the site's Prometheus reaches
    and no other pod there does (no pod here either: check_network_policies)."""
    net = Network(objs)
    namespace, prometheus = PROMETHEUS
    reached = net.admits_from_pod(namespace, prometheus)
    others = net.admits_from_pod(namespace, {"app.kubernetes.io/name": "grafana"}) | (
        net.admits_from_pod({"kubernetes.io/metadata.name": "default"}, prometheus)
    )
    for name, dep in objs.kind("Deployment").items():
        container = main_container(dep)
        ports = [p for p in container.get("ports") or [] if p.get("name") == "metrics"]
        if len(ports) != 1 or ports[0].get("protocol", "TCP") != "TCP":
            yield f"{name}: no TCP containerPort named metrics"
            continue
        port = ports[0]["containerPort"]
        bound = objs.env(container).get("LBAAS_METRICS_ADDR", "").rpartition(":")[2]
        if bound != str(port):
            yield f"{name}: LBAAS_METRICS_ADDR port {bound!r} is not its metrics port {port}"
        notes = dep["spec"]["template"]["metadata"].get("annotations") or {}
        if notes.get("prometheus.io/scrape") != "true" or notes.get("prometheus.io/port") != str(
            port
        ):
            yield f"{name}: its pods do not announce port {port} to Prometheus"
        if (name, port, "TCP") not in reached:
            yield f"{name}: Prometheus cannot reach its metrics port {port}"
        if (name, port, "TCP") in others:
            yield f"{name}: a pod other than Prometheus reaches its metrics port {port}"


# --- the tests ---------------------------------------------------------------------------------


def test_kustomization_lists_every_manifest_and_only_what_render_does():
    kustomization = yaml.safe_load((KDIR / "kustomization.yaml").read_text())
    files = {p.name for p in KDIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)
    assert set(kustomization) <= {"apiVersion", "kind", "namespace", "resources"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
def test_render_is_what_kustomize_makes(rendered):
    out = subprocess.run(
        ["kubectl", "kustomize", str(KDIR)], capture_output=True, text=True, timeout=60
    )
    if out.returncode != 0:
        pytest.skip(f"kubectl kustomize failed: {out.stderr[:200]}")
    theirs = sorted(json.dumps(d, sort_keys=True) for d in yaml.safe_load_all(out.stdout) if d)
    ours = sorted(json.dumps(d, sort_keys=True) for d in rendered)
    assert ours == theirs


def test_every_document_passes_the_kubernetes_schema(rendered):
    assert len(rendered) > 30
    assert schema_errors(rendered) == []


def test_what_a_schema_cannot_see_holds(rendered):
    assert problems(rendered) == []


def test_network_policies_admit_exactly_the_drawn_calls(rendered):
    net = Network(Objects(rendered))
    calls = {c for c in net.pod_calls() if c[0] in IMAGE_COMMANDS}
    assert calls == DRAWN_CALLS
    # The secrets Job reaches the API server and no pod.
    assert not {c for c in net.pod_calls() if "lbaas-secrets" in c[:2]}
    assert net.sends_to("lbaas-secrets", "10.96.0.1", 443)
    assert net.sends_to("orchestrator-worker", "192.0.2.10", 9443)
    assert not net.sends_to("orchestrator-api", "192.0.2.10", 9443)


def test_each_service_parses_its_environment(rendered):
    """The services' own Settings read the environment each Deployment gives them."""
    from services.api_gateway.auth import AuthSettings
    from services.api_gateway.config import Settings as GatewaySettings
    from services.health.config import Settings as HealthSettings
    from services.orchestrator.certificates_config import CertificateSettings
    from services.orchestrator.config import Settings as OrchestratorSettings
    from services.renderer.config import Settings as RendererSettings

    objs = Objects(rendered)
    env = {name: objs.env(main_container(w)) for name, w in objs.workloads().items()}

    gateway = GatewaySettings.from_env(env["api-gateway"])
    assert (gateway.orchestrator_addr, gateway.health_addr) == (
        "orchestrator-api:9890",
        "health:9892",
    )
    assert AuthSettings.from_env(env["api-gateway"]).strategy == "tokens"

    for name, role, port in (
        ("orchestrator-api", "api", 9890),
        ("orchestrator-worker", "worker", 9896),
    ):
        settings = OrchestratorSettings.from_env(env[name])
        assert settings.role == role
        assert settings.bind_addr == f"0.0.0.0:{port}"
        assert settings.compute_driver == "noop"
        assert settings.renderer_address("haproxy") == "renderer-haproxy:9891"
        assert settings.renderer_address("nginx") == "renderer-nginx:9894"
        assert str(settings.run_dir) == "/var/lib/lbaas"
        certs = CertificateSettings.from_env(settings.run_dir, env[name])
        assert certs.key_file == Path("/etc/lbaas/cert-encryption/cert-encryption.key")

    for backend in ("haproxy", "nginx"):
        settings = RendererSettings.from_env(env[f"renderer-{backend}"])
        assert settings.backend == backend

    health = HealthSettings.from_env(env["health"])
    assert (health.grpc_addr, health.udp_addr) == ("0.0.0.0:9892", "0.0.0.0:9893")
    assert health.orchestrator_addr == "orchestrator-api:9890"

    # The identity each entry point picks in that environment, and where it reads the files.
    identities = {
        name: process_identity(service_module(w), env[name])
        for name, w in objs.kind("Deployment").items()
    }
    assert identities == {
        "api-gateway": internal_tls.GATEWAY,
        "orchestrator-api": internal_tls.ORCHESTRATOR,
        "orchestrator-worker": internal_tls.WORKER,
        "renderer-haproxy": internal_tls.RENDERER,
        "renderer-nginx": internal_tls.RENDERER,
        "health": internal_tls.HEALTH,
    }
    for name, identity in identities.items():
        tls = internal_tls.InternalTLS.from_env(identity, env[name])
        assert tls.directory == Path("/etc/lbaas/internal-tls"), name


def test_prometheus_reaches_every_metrics_port_and_only_those(rendered):
    net = Network(Objects(rendered))
    metrics_ports = {(name, 9100, "TCP") for name in IMAGE_COMMANDS}
    # And the REST API, which anyone reaches.
    assert net.admits_from_pod(*PROMETHEUS) == metrics_ports | {("api-gateway", 9876, "TCP")}
    grafana = ({"kubernetes.io/metadata.name": "monitoring"}, {"app.kubernetes.io/name": "grafana"})
    assert not net.admits_from_pod(*grafana) & metrics_ports


def test_required_variables_are_the_services_own():
    """REQUIRED_ENV names variables the services really read (a renamed variable fails here)."""
    from services.renderer.config import address_variable

    for component, names in REQUIRED_ENV.items():
        text = "".join((REPO / p).read_text() for p in CONFIG_SOURCES[component])
        built = {address_variable(b) for b in ("haproxy", "nginx", "f5-as3")}
        for name in names:
            assert name in text or name in built, (component, name)


def test_the_gateway_probe_path_needs_no_token(rendered, tmp_path):
    from fastapi.testclient import TestClient

    from services.api_gateway.bootstrap import bootstrap
    from services.api_gateway.config import Settings
    from tests.support.memory_orchestrator import MemoryOrchestrator

    gateway = Objects(rendered).workloads()["api-gateway"]
    paths = {
        main_container(gateway)[p]["httpGet"]["path"] for p in ("readinessProbe", "livenessProbe")
    }
    (tmp_path / "tokens.yaml").write_text("tokens: {}\n")
    app = bootstrap(
        Settings(tokens_file=tmp_path / "tokens.yaml"), orchestrator=MemoryOrchestrator()
    )
    with TestClient(app) as client:
        for path in paths:
            assert client.get(path).status_code == 200, path


def test_the_job_creates_exactly_the_secrets_the_pods_mount(rendered):
    objs = Objects(rendered)
    used = set()
    for workload in objs.workloads().values():
        for volume in pod_spec(workload).get("volumes") or []:
            if "secret" in volume:
                used.add(volume["secret"]["secretName"])
        for container in all_containers(workload):
            for var in container.get("env") or []:
                if "secretKeyRef" in var.get("valueFrom", {}):
                    used.add(var["valueFrom"]["secretKeyRef"]["name"])
    assert used == set(make_secrets.SECRETS) | set(make_secrets.OPERATOR_SECRETS)
    job = objs.kind("Job")["lbaas-secrets"]
    assert main_container(job)["command"] == [
        "python",
        "-m",
        "deploy.kubernetes.make_secrets",
        "--apply",
    ]
    assert pod_spec(job)["serviceAccountName"] == "lbaas-secrets"
    role = objs.kind("Role")["lbaas-secrets"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]}]
    binding = objs.kind("RoleBinding")["lbaas-secrets"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "lbaas-secrets", "namespace": "lbaas"}
    ]


def test_made_secrets_are_what_the_services_read(tmp_path):
    from cryptography import x509
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import serialization

    from services.api_gateway.auth import TokenStore
    from services.health.domain.envelope import parse_key_file
    from services.orchestrator.adapters.pki import FileCertificateAuthority

    objects = make_secrets.build("lbaas")
    assert schema_errors(objects) == []
    data = {
        o["metadata"]["name"]: {k: base64.b64decode(v) for k, v in o["data"].items()}
        for o in objects
    }
    assert {name: tuple(d) for name, d in data.items()} == make_secrets.SECRETS
    # The CA: what the init container copies is loaded, not replaced, and issues certificates.
    ca_dir = tmp_path / "ca"
    ca_dir.mkdir()
    for name, content in data["lbaas-ca"].items():
        (ca_dir / name).write_bytes(content)
    ca = FileCertificateAuthority(ca_dir)
    assert ca.ca_certificate_pem() == data["lbaas-ca"]["ca.crt"]
    cert = x509.load_pem_x509_certificate(data["lbaas-ca"]["ca.crt"])
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.controller_credentials().ca_pem == data["lbaas-ca"]["ca.crt"]
    # Heartbeat keys, tokens, the Fernet key.
    assert len(parse_key_file(data["lbaas-heartbeat"]["heartbeat.keys"].decode()).keys) == 1
    (tmp_path / "tokens.yaml").write_bytes(data["lbaas-tokens"]["tokens.yaml"])
    token = next(iter(yaml.safe_load(data["lbaas-tokens"]["tokens.yaml"])["tokens"]))
    assert TokenStore(tmp_path / "tokens.yaml").lookup(token).is_admin
    fernet = Fernet(data["lbaas-cert-encryption"]["cert-encryption.key"].strip())
    assert fernet.decrypt(fernet.encrypt(b"x")) == b"x"
    # The service certificates: every identity's, from one CA whose key is not there.
    tls = data[INTERNAL_TLS]
    assert "ca.key" not in tls
    service_ca = x509.load_pem_x509_certificate(tls["ca.crt"])
    for identity in internal_tls.IDENTITIES:
        cert = x509.load_pem_x509_certificate(tls[f"{identity}.crt"])
        cert.verify_directly_issued_by(service_ca)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert names.get_values_for_type(x509.DNSName) == [identity]
        key = serialization.load_pem_private_key(tls[f"{identity}.key"], password=None)
        assert key.public_key() == cert.public_key()
        assert key.public_key() != service_ca.public_key()
    # Fresh material each time.
    again = make_secrets.build("lbaas")
    assert again[0]["data"]["ca.key"] != objects[0]["data"]["ca.key"]


def test_a_kept_service_ca_issues_again_and_stays_off_the_secret(tmp_path, capsys):
    """--internal-tls-dir keeps the service CA key with the operator: running again keeps the CA
    and re-issues only what was deleted; --only prints just that Secret; the key is in neither."""
    pki = tmp_path / "pki"
    assert make_secrets.main(["--only", INTERNAL_TLS, "--internal-tls-dir", str(pki)]) == 0
    (first,) = yaml.safe_load_all(capsys.readouterr().out)
    assert first["metadata"]["name"] == INTERNAL_TLS
    assert set(first["data"]) == set(make_secrets.SECRETS[INTERNAL_TLS])
    assert (pki / "ca.key").exists() and "ca.key" not in first["data"]
    (pki / "health.crt").unlink()
    (pki / "health.key").unlink()
    (again,) = make_secrets.build("lbaas", only=[INTERNAL_TLS], internal_tls_dir=pki)
    changed = {k for k in first["data"] if first["data"][k] != again["data"][k]}
    assert changed == {"health.crt", "health.key"}
    with pytest.raises(ValueError, match="no such Secret"):
        make_secrets.build("lbaas", only=["lbaas-internal-tsl"])


def _serve_health(tls: internal_tls.InternalTLS) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_secure_port("127.0.0.1:0", tls.server_credentials())
    server.start()
    return server, port


def test_the_probes_and_drawn_calls_pass_with_what_each_pod_mounts(rendered, tmp_path, monkeypatch):
    """What a cluster would do with these manifests: the Secret as make_secrets makes it, each pod
    given only the files it mounts (under tmp_path), a server per gRPC pod holding its files; each
    pod's exec probe passes, and each drawn call gets through the handshake from the client pod's
    files. Another pod's probe fails: the probe checks who answers."""
    objs = Objects(rendered)
    (secret,) = make_secrets.build("lbaas", only=[INTERNAL_TLS])
    data = {k: base64.b64decode(v) for k, v in secret["data"].items()}
    pods: dict[str, internal_tls.InternalTLS] = {}
    for name, dep in objs.kind("Deployment").items():
        container = main_container(dep)
        for path, (secret_name, key, _) in secret_files(objs, pod_spec(dep), container).items():
            if secret_name == INTERNAL_TLS:
                target = tmp_path / name / path.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data[key])
        env = objs.env(container)
        directory = tmp_path / name / str(internal_tls.default_directory(env)).lstrip("/")
        pods[name] = internal_tls.InternalTLS(directory, process_identity(service_module(dep), env))
    servers = {name: _serve_health(pods[name]) for name in pods if name not in HTTP_SERVICES}
    try:
        for name, (_, port) in servers.items():
            command = main_container(objs.kind("Deployment")[name])["livenessProbe"]["exec"]
            argv = command["command"][3:]
            address = healthcheck_call(command["command"])["address"]
            argv = [f"127.0.0.1:{port}" if a == address else a for a in argv]
            monkeypatch.setenv("LBAAS_INTERNAL_TLS_DIR", str(pods[name].directory))
            assert healthcheck.main(argv) == 0, name
        for client, server, _, _ in sorted(DRAWN_CALLS):
            address = f"127.0.0.1:{servers[server][1]}"
            target = pods[server].identity
            with internal_tls.blocking_channel(address, target, pods[client]) as channel:
                answer = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=5
                )
            assert answer.status == health_pb2.HealthCheckResponse.SERVING, (client, server)
        # The worker's probe sent to orchestrator-api: the certificate names another service.
        monkeypatch.setenv("LBAAS_INTERNAL_TLS_DIR", str(pods["orchestrator-worker"].directory))
        port = servers["orchestrator-api"][1]
        assert healthcheck.main([f"127.0.0.1:{port}", internal_tls.WORKER, "--timeout", "2"]) == 1
    finally:
        for server, _ in servers.values():
            server.stop(None)


def test_the_network_policies_are_what_internal_tls_admits(rendered):
    """The pod-to-pod calls the services' CALLERS admit are the drawn calls (which the
    NetworkPolicies let through: test_network_policies_admit_exactly_the_drawn_calls)."""
    assert callers_calls(Objects(rendered)) == DRAWN_CALLS
    # Every service with callers is served by a Deployment here, but the compute host's.
    served = {service for service, _ in SERVED.values()}
    assert served == set(internal_tls.CALLERS) - {internal_tls.COMPUTE_SERVICE}


class _FakeApiServer(http.server.BaseHTTPRequestHandler):
    existing: set[str] = set()
    status: int | None = None
    seen: list[tuple[str, str, dict]] = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, self.headers["Authorization"], body))
        name = body["metadata"]["name"]
        code = self.status or (409 if name in self.existing else 201)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")
        self.existing.add(name)

    def log_message(self, *args):
        pass


@pytest.fixture
def api_server() -> Iterator[tuple[str, type[_FakeApiServer]]]:
    handler = type("Handler", (_FakeApiServer,), {"existing": set(), "status": None, "seen": []})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_apply_creates_missing_secrets_and_keeps_existing_ones(api_server):
    url, handler = api_server
    handler.existing.add("lbaas-ca")
    outcome = make_secrets.apply(make_secrets.build("ns1"), url, "t0ken", log=lambda _: None)
    assert outcome == {
        "lbaas-ca": "kept",
        "lbaas-heartbeat": "created",
        "lbaas-tokens": "created",
        "lbaas-cert-encryption": "created",
        "lbaas-internal-tls": "created",
    }
    assert {path for path, _, _ in handler.seen} == {"/api/v1/namespaces/ns1/secrets"}
    assert {auth for _, auth, _ in handler.seen} == {"Bearer t0ken"}
    # A second run changes nothing.
    again = make_secrets.apply(make_secrets.build("ns1"), url, "t0ken", log=lambda _: None)
    assert set(again.values()) == {"kept"}


def test_apply_fails_on_any_other_answer(api_server):
    url, handler = api_server
    handler.status = 403
    with pytest.raises(RuntimeError, match="HTTP 403"):
        make_secrets.apply(make_secrets.build("ns1"), url, "t0ken", log=lambda _: None)


def test_readme_says_no_cluster_was_run():
    text = (REPO / "deploy" / "README.md").read_text()
    assert "No cluster was run" in text
    for name in (
        "lbaas-database",
        "site-network.yaml",
        "LBAAS_HEALTH_UDP_ADDRS",
        "noop",
        "lbaas-internal-tls",
        "--internal-tls-dir",
    ):
        assert name in text, name


# --- broken copies must fail -------------------------------------------------------------------


def _deployment(docs: list[dict], name: str) -> dict:
    return next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def _container(docs: list[dict], name: str) -> dict:
    return main_container(_deployment(docs, name))


def _volume(docs: list[dict], deployment: str, volume: str) -> dict:
    return next(
        v for v in pod_spec(_deployment(docs, deployment))["volumes"] if v["name"] == volume
    )


def _drop_env(docs, deployment, var):
    c = _container(docs, deployment)
    c["env"] = [v for v in c["env"] if v["name"] != var]


def _set_env(docs, deployment, var, value):
    _drop_env(docs, deployment, var)
    _container(docs, deployment)["env"].append({"name": var, "value": value})


def _share_a_pvc(docs):
    """The old manifest's defect: one ReadWriteOnce claim mounted by several pods."""
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "lbaas-ca", "namespace": "lbaas"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        }
    )
    for name in ("orchestrator-api", "orchestrator-worker"):
        pod_spec(_deployment(docs, name))["volumes"].append(
            {"name": "ca-pvc", "persistentVolumeClaim": {"claimName": "lbaas-ca"}}
        )
        _container(docs, name)["volumeMounts"].append({"name": "ca-pvc", "mountPath": "/srv/ca"})


def _open_renderer(docs):
    policy = next(
        d
        for d in docs
        if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "renderer-haproxy"
    )
    del policy["spec"]["ingress"][0]["from"]


def _let_gateway_out(docs):
    policy = next(
        d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "api-gateway"
    )
    policy["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]})


def _drop_default_deny(docs):
    docs[:] = [d for d in docs if d["metadata"]["name"] != "default-deny"]


def _set_probe_arg(docs, deployment, probe, index, value):
    _container(docs, deployment)[probe]["exec"]["command"][index] = value


def _mount_the_whole_pki(docs):
    """A Secret made from the whole directory (`--from-file=internal-tls/`), mounted whole."""
    names = ["ca.crt", "ca.key", *make_secrets.SECRETS["lbaas-internal-tls"][1:]]
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "lbaas-internal-tls", "namespace": "lbaas"},
            "data": {n: "" for n in names},
        }
    )
    _volume(docs, "orchestrator-api", "internal-tls")["secret"].pop("items")


def _policy(docs, name):
    return next(d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == name)


def _let_health_call_a_renderer(docs):
    labels = {"app.kubernetes.io/name": "health", "app.kubernetes.io/part-of": "lbaas"}
    renderer = {"app.kubernetes.io/name": "renderer-haproxy", "app.kubernetes.io/part-of": "lbaas"}
    _policy(docs, "renderer-haproxy")["spec"]["ingress"][0]["from"].append(
        {"podSelector": {"matchLabels": labels}}
    )
    _policy(docs, "health")["spec"]["egress"].append(
        {"to": [{"podSelector": {"matchLabels": renderer}}], "ports": [{"port": 9891}]}
    )


def _remove(docs, kind, name):
    docs.remove(next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name))


# name -> (how to break a copy, what the failure must say).
BROKEN: dict[str, tuple[Callable[[list[dict]], object], str]] = {
    "replicas as a string": (
        lambda docs: _deployment(docs, "api-gateway")["spec"].update(replicas="two"),
        "spec.replicas: 'two' is not of type 'integer'",
    ),
    "an unknown field": (
        lambda docs: _container(docs, "health").update(livenesProbe={}),
        "'livenesProbe' was unexpected",
    ),
    "a missing Secret": (
        lambda docs: _volume(docs, "health", "heartbeat")["secret"].update(secretName="lbaas-keys"),
        "uses Secret 'lbaas-keys', which is not defined",
    ),
    "a missing Secret key": (
        lambda docs: _volume(docs, "orchestrator-api", "ca")["secret"].update(
            items=[{"key": "ca.pem", "path": "ca.crt"}, {"key": "ca.key", "path": "ca.key"}]
        ),
        "Secret 'lbaas-ca' has no key 'ca.pem'",
    ),
    "a missing ConfigMap": (
        lambda docs: _container(docs, "renderer-nginx")["envFrom"].append(
            {"configMapRef": {"name": "lbaas"}}
        ),
        "envFrom ConfigMap 'lbaas' undefined",
    ),
    "a volume never defined": (
        lambda docs: _container(docs, "api-gateway")["volumeMounts"].append(
            {"name": "secrets", "mountPath": "/etc/lbaas"}
        ),
        "mounts volume 'secrets', which the pod does not define",
    ),
    "a shared ReadWriteOnce volume": (
        _share_a_pvc,
        "PVC 'lbaas-ca' (['ReadWriteOnce']) is mounted by 4 pods",
    ),
    "no fsGroup": (
        lambda docs: pod_spec(_deployment(docs, "health"))["securityContext"].pop("fsGroup"),
        "health: no fsGroup",
    ),
    "a writable root filesystem": (
        lambda docs: _container(docs, "renderer-haproxy")["securityContext"].update(
            readOnlyRootFilesystem=False
        ),
        "renderer-haproxy/renderer: readOnlyRootFilesystem is not true",
    ),
    "a capability kept": (
        lambda docs: _container(docs, "orchestrator-worker")["securityContext"].update(
            capabilities={"drop": ["ALL"], "add": ["NET_ADMIN"]}
        ),
        "capabilities are not drop [ALL]",
    ),
    "root": (
        lambda docs: _container(docs, "health")["securityContext"].update(runAsUser=0),
        "runAsUser 0",
    ),
    "no liveness probe": (
        lambda docs: _container(docs, "renderer-nginx").pop("livenessProbe"),
        "renderer-nginx/renderer: no livenessProbe",
    ),
    "a probe on the wrong port": (
        lambda docs: _set_probe_arg(
            docs, "orchestrator-worker", "readinessProbe", 3, "127.0.0.1:9890"
        ),
        "readinessProbe port 9890 is not a containerPort",
    ),
    "a grpc: probe (no client certificate)": (
        lambda docs: _container(docs, "renderer-haproxy").update(
            livenessProbe={"grpc": {"port": 9891}, "periodSeconds": 20}
        ),
        "renderer-haproxy/renderer: livenessProbe is a grpc: probe",
    ),
    "a probe expecting another identity": (
        lambda docs: _set_probe_arg(docs, "orchestrator-worker", "startupProbe", 4, "orchestrator"),
        "startupProbe expects the server 'orchestrator'; the pod serves as 'orchestrator-worker'",
    ),
    "a probe without time for its check": (
        lambda docs: _container(docs, "health")["readinessProbe"].update(timeoutSeconds=1),
        "health/health: readinessProbe timeoutSeconds 1 leaves no time",
    ),
    "another identity's key": (
        lambda docs: _volume(docs, "health", "internal-tls")["secret"]["items"].append(
            {"key": "orchestrator.key", "path": "orchestrator.key"}
        ),
        "health/health: mounts orchestrator.key of Secret 'lbaas-internal-tls'",
    ),
    "the whole service PKI, CA key included": (
        _mount_the_whole_pki,
        "orchestrator-api/orchestrator: mounts the service CA key (/etc/lbaas/internal-tls/ca.key)",
    ),
    "the API role's certificate in the worker": (
        lambda docs: _volume(docs, "orchestrator-worker", "internal-tls")["secret"].update(
            items=[
                {"key": k, "path": k} for k in ("ca.crt", "orchestrator.crt", "orchestrator.key")
            ]
        ),
        "runs as 'orchestrator-worker' and reads /etc/lbaas/internal-tls/orchestrator-worker.key",
    ),
    "no LBAAS_INTERNAL_TLS_DIR": (
        lambda docs: _drop_env(docs, "renderer-nginx", "LBAAS_INTERNAL_TLS_DIR"),
        "runs as 'renderer' and reads /var/lib/lbaas/internal-tls/ca.crt",
    ),
    "a key every user may read": (
        lambda docs: _volume(docs, "api-gateway", "internal-tls")["secret"].update(
            defaultMode=0o444
        ),
        "/etc/lbaas/internal-tls/api-gateway.key is readable by every user (mode 0o444)",
    ),
    "a key its own user cannot read": (
        lambda docs: _volume(docs, "renderer-nginx", "internal-tls")["secret"].update(
            defaultMode=0o400
        ),
        "/etc/lbaas/internal-tls/renderer.key (mode 0o400) is unreadable by the user it runs as",
    ),
    "a network path CALLERS refuses": (
        _let_health_call_a_renderer,
        "let through ('health', 'renderer-haproxy', 9891, 'TCP'), which internal_tls.CALLERS refuses",
    ),
    "no PodDisruptionBudget": (
        lambda docs: _remove(docs, "PodDisruptionBudget", "health"),
        "health: 0 PodDisruptionBudgets",
    ),
    "the gateway without a health address": (
        lambda docs: _drop_env(docs, "api-gateway", "LBAAS_HEALTH_ADDR"),
        "LBAAS_HEALTH_ADDR is not set",
    ),
    "an address naming no Service": (
        lambda docs: _set_env(docs, "api-gateway", "LBAAS_ORCHESTRATOR_ADDR", "orchestrator:9890"),
        "LBAAS_ORCHESTRATOR_ADDR='orchestrator:9890' names no Service",
    ),
    "a bind address on loopback": (
        lambda docs: _set_env(
            docs, "renderer-nginx", "LBAAS_RENDERER_NGINX_ADDR", "127.0.0.1:9894"
        ),
        "does not bind a TCP containerPort on 0.0.0.0",
    ),
    "a misspelt variable": (
        lambda docs: _set_env(docs, "health", "LBAAS_HEALTH_STALE_AFTR", "5"),
        "LBAAS_HEALTH_STALE_AFTR is read by no service",
    ),
    "amphorae in the worker's pod": (
        lambda docs: _set_env(docs, "orchestrator-worker", "LBAAS_COMPUTE_DRIVER", "local"),
        "LBAAS_COMPUTE_DRIVER='local' runs amphorae inside the pod",
    ),
    "a renderer open to every pod": (_open_renderer, "('renderer-haproxy', 9891, 'TCP')"),
    "a gateway that may call anything": (
        _let_gateway_out,
        "allow a call the architecture does not draw: ('api-gateway', 'api-gateway', 9876, 'TCP')",
    ),
    "no default deny": (_drop_default_deny, "no default-deny NetworkPolicy"),
    "no metrics port": (
        lambda docs: _container(docs, "renderer-nginx").update(
            ports=[p for p in _container(docs, "renderer-nginx")["ports"] if p["name"] != "metrics"]
        ),
        "renderer-nginx: no TCP containerPort named metrics",
    ),
    "metrics on loopback": (
        lambda docs: _set_env(docs, "health", "LBAAS_METRICS_ADDR", "127.0.0.1:9100"),
        "health: LBAAS_METRICS_ADDR='127.0.0.1:9100' does not bind a TCP containerPort on 0.0.0.0",
    ),
    "metrics for any pod of the monitoring namespace": (
        lambda docs: _policy(docs, "metrics-from-prometheus")["spec"]["ingress"][0]["from"][0].pop(
            "podSelector"
        ),
        "orchestrator-worker: a pod other than Prometheus reaches its metrics port 9100",
    ),
    "metrics open to every pod": (
        lambda docs: _policy(docs, "metrics-from-prometheus")["spec"]["ingress"][0].pop("from"),
        "an outside address reaches [('api-gateway', 9100, 'TCP')",
    ),
}


@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_a_broken_copy_fails(docs, breakage):
    breaks, expected = BROKEN[breakage]
    breaks(docs)
    found = schema_errors(docs) + problems(docs)
    assert any(expected in line for line in found), found
