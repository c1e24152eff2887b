"""The deployment files under infra/ hold together, checked offline and without any server.

Every Kubernetes manifest must pass the Kubernetes JSON schemas in strict mode (unknown or
misspelt fields fail), KEDA ScaledObjects must have the fields KEDA documents, and the manifests,
the compose file and the Dockerfile must run exactly the processes the `linli` command has, with
settings that services/common/settings.py understands.
"""

from __future__ import annotations

import copy
import functools
import inspect
import ipaddress
import os
import re
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version
from pydantic import AliasChoices, ValidationError

from services.common import commands
from services.common import worker as service_worker
from services.common.settings import QUEUED_SERVICES, Settings, weak_secret_reason

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
K8S = INFRA / "k8s"
COMPOSE = INFRA / "docker-compose.yml"
DOCKERFILE = INFRA / "Dockerfile"

# The oldest Kubernetes the manifests promise to work on, and the newest schemas bundled.
K8S_VERSIONS = ("1.29", latest_version())
KEDA_API = "keda.sh/v1alpha1"

# Where commands wait for a worker, if the code sends them over Redis streams.
command_stream = getattr(commands, "stream_key", None)

# Environment names that are not Settings fields, and who reads them.
FOREIGN_ENV = {
    "FORWARDED_ALLOW_IPS": "uvicorn: which proxies' X-Forwarded-* headers to trust",
    "REDIS_ADDRESS": "KEDA's redis scaler (host:port, it cannot read a URL)",
    "REDIS_PASSWORD": "KEDA's redis scaler",
}

Doc = dict[str, Any]


# ---------------------------------------------------------------- loading


def load_all(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def manifest_files() -> list[Path]:
    """Every manifest, the examples (shown to operators, never applied) included."""
    return sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")


EXAMPLES = K8S / "examples"


@functools.cache
def manifests() -> list[tuple[Path, Doc]]:
    """Every manifest, parsed once per run: a test that alters one works on a deep copy."""
    return [(path, doc) for path in manifest_files() for doc in load_all(path)]


def of_kind(kind: str) -> list[Doc]:
    return [doc for _, doc in manifests() if doc["kind"] == kind]


def named(kind: str, name: str) -> Doc:
    found = [doc for doc in of_kind(kind) if doc["metadata"].get("name") == name]
    assert len(found) == 1, f"expected one {kind} named {name!r}, found {len(found)}"
    return found[0]


def pod_spec(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Doc) -> list[Doc]:
    return list(pod_spec(workload)["containers"])


def config_data() -> dict[str, str]:
    data: dict[str, str] = named("ConfigMap", "linli-config")["data"]
    return data


def secret_data() -> dict[str, str]:
    data: dict[str, str] = named("Secret", "linli-secrets")["stringData"]
    return data


def env_sources(container: Doc) -> dict[str, str]:
    """Every environment variable a container gets, from its ConfigMaps, Secrets and env."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(named("ConfigMap", source["configMapRef"]["name"])["data"])
        if "secretRef" in source:
            env.update(named("Secret", source["secretRef"]["name"])["stringData"])
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", "")
    return env


def settings_env_names() -> set[str]:
    """The environment names services/common/settings.py reads."""
    names: set[str] = set()
    prefix = Settings.model_config.get("env_prefix", "")
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        if choices:
            names.update(str(choice) for choice in choices)
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings as a process started with exactly this environment would read them."""
    for key in [k for k in os.environ if k.startswith("LINLI_")]:
        monkeypatch.delenv(key)
    for key in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings()


def job_completion_wait() -> int:
    """How long arq waits for running jobs on shutdown, as services/common/worker.py sets it.

    Read from the source, not from a built worker: building one needs live connections.
    """
    source = inspect.getsource(service_worker)
    found = re.findall(r"[\"']job_completion_wait[\"']\s*:\s*(\d+)", source)
    assert len(found) == 1, "the worker no longer sets job_completion_wait: revisit the grace periods"
    return int(found[0])


# ---------------------------------------------------------------- Kubernetes schemas


def schema_problems(doc: Doc) -> list[str]:
    """Why the Kubernetes schemas reject a manifest, for each version we support (empty: valid)."""
    problems = []
    for version in K8S_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(part) for part in exc.path) or "(top)"
            problems.append(f"k8s {version}: {where}: {exc.message}")
    return problems


KUBERNETES_MANIFESTS = [
    pytest.param(doc, id=f"{path.relative_to(K8S)}:{doc['kind']}/{doc['metadata'].get('name')}")
    for path, doc in manifests()
    if doc["apiVersion"] != KEDA_API
]


@pytest.mark.parametrize("doc", KUBERNETES_MANIFESTS)
def test_every_manifest_passes_the_kubernetes_schemas(doc: Doc) -> None:
    assert schema_problems(doc) == []


def test_a_misspelt_or_mistyped_manifest_is_rejected() -> None:
    gateway = named("Deployment", "gateway")
    assert schema_problems(gateway) == []

    misspelt = copy.deepcopy(gateway)
    container = misspelt["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    assert any("readinesProbe" in p for p in schema_problems(misspelt))

    mistyped = copy.deepcopy(gateway)
    mistyped["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = "30"
    assert schema_problems(mistyped)

    unknown_kind = {"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "x"}}
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(unknown_kind, K8S_VERSIONS[0], strict=True)


def test_only_kubernetes_and_keda_kinds_are_used() -> None:
    for path, doc in manifests():
        if doc["apiVersion"] == KEDA_API:
            assert doc["kind"] == "ScaledObject", path
        else:
            assert "keda" not in doc["apiVersion"], path


def test_each_kustomization_lists_every_manifest_beside_it() -> None:
    listed: set[Path] = set()
    for kustomization in sorted(K8S.rglob("kustomization.yaml")):
        spec = load_all(kustomization)[0]
        assert spec["kind"] == "Kustomization"
        here = kustomization.parent
        resources = [here / name for name in spec["resources"]]
        assert all(r.is_file() for r in resources), kustomization
        assert {r.name for r in resources} == {p.name for p in here.glob("*.yaml")} - {kustomization.name}
        listed.update(resources)
    examples = set(EXAMPLES.rglob("*.yaml"))
    assert examples and not any(EXAMPLES in r.parents for r in listed)
    assert listed == set(manifest_files()) - examples


def test_everything_lives_in_the_linli_namespace() -> None:
    [namespace] = of_kind("Namespace")
    name = namespace["metadata"]["name"]
    for path, doc in manifests():
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == name, f"{path}: {doc['kind']}"


# ---------------------------------------------------------------- settings and secrets


def test_the_configmap_and_secret_hold_settings_linli_understands(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**config_data(), **secret_data()}
    unknown = set(env) - settings_env_names() - set(FOREIGN_ENV)
    assert not unknown, f"no setting reads {sorted(unknown)}"

    linli_env = {k: v for k, v in env.items() if k not in FOREIGN_ENV}
    # The example's placeholder secret is refused: a copy applied unedited cannot start.
    with pytest.raises(ValidationError, match="LINLI_SECRET"):
        settings_from(linli_env, monkeypatch)

    real = {**linli_env, "LINLI_SECRET": secrets.token_urlsafe(48)}
    settings = settings_from(real, monkeypatch)
    assert settings.production
    assert settings.host == "0.0.0.0"
    assert settings.database_url and settings.database_url.startswith("postgresql://")
    assert settings.redis_url and settings.redis_url.startswith(("redis://", "rediss://"))


def test_the_committed_secret_holds_placeholders_only_and_is_never_applied() -> None:
    secret = named("Secret", "linli-secrets")
    # `kubectl apply -k` must not overwrite the real Secret an operator made with placeholders.
    applied = [
        doc
        for path, doc in manifests()
        if EXAMPLES not in path.parents and (doc["kind"] == "Secret" or "stringData" in doc)
    ]
    assert applied == []
    assert "data" not in secret, "base64 `data` would hide real values; use stringData placeholders"
    for key, value in secret["stringData"].items():
        assert "REPLACE-ME" in value, f"{key} looks like a real value"
    assert {"LINLI_SECRET", "DATABASE_URL", "REDIS_URL"} <= set(secret["stringData"])


# ---------------------------------------------------------------- workloads


def workloads() -> list[Doc]:
    return of_kind("Deployment") + of_kind("Job")


def test_the_workloads_run_exactly_the_linli_processes() -> None:
    args = {doc["metadata"]["name"]: containers(doc)[0]["args"] for doc in workloads()}
    expected = {"gateway": ["gateway"], "migrate": ["migrate"]}
    expected |= {f"worker-{service}": ["worker", service] for service in QUEUED_SERVICES}
    assert args == expected


def test_every_container_runs_the_one_image_with_its_settings() -> None:
    images = set()
    for workload in workloads():
        for container in containers(workload):
            images.add(container["image"])
            sources = container["envFrom"]
            assert {"configMapRef": {"name": "linli-config"}} in sources
            assert {"secretRef": {"name": "linli-secrets"}} in sources
    [image] = images
    name, _, tag = image.rpartition(":")
    assert name and tag and tag != "latest", image
    kustomized = load_all(K8S / "kustomization.yaml")[0]["images"]
    assert [entry["name"] for entry in kustomized] == [name]


def test_pods_meet_the_restricted_pod_security_standard() -> None:
    uid = dockerfile_user()
    for workload in workloads():
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == uid
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in containers(workload):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            # A read-only root needs a writable /tmp.
            if context.get("readOnlyRootFilesystem"):
                mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                volumes = {v["name"]: v for v in spec["volumes"]}
                assert "emptyDir" in volumes[mounts["/tmp"]]


def test_the_gateway_is_probed_served_and_autoscaled() -> None:
    gateway = named("Deployment", "gateway")
    [container] = containers(gateway)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e["value"] for e in container["env"]}
    # /metrics on its own port (issue 16): the public port, which the ingress routes, has none.
    assert ports == {"http": int(config_data()["LINLI_PORT"]), "metrics": int(env["LINLI_METRICS_PORT"])}

    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}

    labels = gateway["spec"]["template"]["metadata"]["labels"]
    assert gateway["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = named("Service", "gateway")
    assert service["spec"]["selector"].items() <= labels.items()
    [service_port] = service["spec"]["ports"]
    assert service_port["targetPort"] in ports

    assert service_port["targetPort"] == "http"  # never the metrics port
    [rule] = named("Ingress", "gateway")["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert path["backend"]["service"] == {"name": "gateway", "port": {"name": service_port["name"]}}

    budget = named("PodDisruptionBudget", "gateway")
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()

    hpa = named("HorizontalPodAutoscaler", "gateway")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "gateway"}
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    # CPU utilisation is measured against requests; without them the HPA cannot act.
    assert container["resources"]["requests"]["cpu"]


def test_workers_get_the_time_arq_takes_to_finish_running_jobs() -> None:
    wait = job_completion_wait()
    assert wait > 0
    for service in QUEUED_SERVICES:
        grace = pod_spec(named("Deployment", f"worker-{service}"))["terminationGracePeriodSeconds"]
        # arq waits `wait` seconds, then cancels what is left and closes its pools: a little margin.
        assert wait <= grace <= wait + 10, service


def test_workers_are_probed_kept_through_drains_and_finished_migrations_go() -> None:
    for service in QUEUED_SERVICES:
        worker = named("Deployment", f"worker-{service}")
        [container] = containers(worker)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        env = {e["name"]: e["value"] for e in container["env"]}
        assert ports == {"metrics": int(env["LINLI_METRICS_PORT"])}  # services/common/health.py
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
        budget = named("PodDisruptionBudget", f"worker-{service}")
        labels = worker["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["minAvailable"] == 1
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert named("Job", "migrate")["spec"]["ttlSecondsAfterFinished"] > 0
    policies = {doc["metadata"]["name"]: doc["spec"] for doc in of_kind("NetworkPolicy")}
    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_autoscaled_deployments_leave_the_replica_count_to_the_autoscaler() -> None:
    targets = {hpa["spec"]["scaleTargetRef"]["name"] for hpa in of_kind("HorizontalPodAutoscaler")}
    targets |= {so["spec"]["scaleTargetRef"]["name"] for so in of_kind("ScaledObject")}
    assert targets == {doc["metadata"]["name"] for doc in of_kind("Deployment")}
    for deployment in of_kind("Deployment"):
        assert "replicas" not in deployment["spec"], deployment["metadata"]["name"]


# ---------------------------------------------------------------- KEDA

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_COUNT = {"type": "integer", "minimum": 0}

# The ScaledObject fields of KEDA's reference (keda.sh/docs/2.x/reference/scaledobject-spec).
SCALED_OBJECT_SCHEMA: Doc = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": KEDA_API},
        "kind": {"const": "ScaledObject"},
        "metadata": {
            "type": "object",
            "required": ["name", "namespace"],
            "properties": {
                "name": {"type": "string"},
                "namespace": {"type": "string"},
                "labels": _STRING_MAP,
            },
        },
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "additionalProperties": False,
            "properties": {
                "scaleTargetRef": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "name": {"type": "string", "minLength": 1},
                        "envSourceContainerName": {"type": "string"},
                    },
                },
                "pollingInterval": {"type": "integer", "minimum": 1},
                "cooldownPeriod": _COUNT,
                "initialCooldownPeriod": _COUNT,
                "idleReplicaCount": _COUNT,
                "minReplicaCount": _COUNT,
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "fallback": {
                    "type": "object",
                    "required": ["failureThreshold", "replicas"],
                    "additionalProperties": False,
                    "properties": {
                        "failureThreshold": {"type": "integer", "minimum": 1},
                        "replicas": _COUNT,
                        "behavior": {
                            "enum": [
                                "static",
                                "currentReplicas",
                                "currentReplicasIfHigher",
                                "currentReplicasIfLower",
                            ]
                        },
                    },
                },
                "advanced": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "restoreToOriginalReplicaCount": {"type": "boolean"},
                        "horizontalPodAutoscalerConfig": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {"name": {"type": "string"}, "behavior": {"type": "object"}},
                        },
                        "scalingModifiers": {
                            "type": "object",
                            "required": ["target", "formula"],
                            "additionalProperties": False,
                            "properties": {
                                "target": {"type": "string"},
                                "activationTarget": {"type": "string"},
                                "metricType": {"enum": ["AverageValue", "Value"]},
                                "formula": {"type": "string"},
                            },
                        },
                    },
                },
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["type", "metadata"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"type": "string"},
                            "name": {"type": "string"},
                            # KEDA's trigger metadata is map[string]string: a bare 50 is refused.
                            "metadata": _STRING_MAP,
                            "useCachedMetrics": {"type": "boolean"},
                            "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                            "authenticationRef": {
                                "type": "object",
                                "required": ["name"],
                                "additionalProperties": False,
                                "properties": {
                                    "name": {"type": "string"},
                                    "kind": {
                                        "enum": ["TriggerAuthentication", "ClusterTriggerAuthentication"]
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

_CONNECTION_KEYS = {
    "address",
    "host",
    "port",
    "addressFromEnv",
    "hostFromEnv",
    "portFromEnv",
    "usernameFromEnv",
    "passwordFromEnv",
    "enableTLS",
    "unsafeSsl",
    "databaseIndex",
}


# The parameters of the two Redis triggers used, as KEDA documents them
# (keda.sh/docs/2.x/scalers/redis-lists and .../redis-streams): required, then optional.
@dataclass(frozen=True)
class TriggerSpec:
    required: frozenset[str]
    optional: frozenset[str]
    numbers: frozenset[str]


TRIGGERS = {
    "redis": TriggerSpec(
        required=frozenset({"listName", "listLength"}),
        optional=frozenset(_CONNECTION_KEYS | {"activationListLength"}),
        numbers=frozenset({"listLength", "activationListLength", "databaseIndex"}),
    ),
    "redis-streams": TriggerSpec(
        required=frozenset({"stream"}),
        optional=frozenset(
            _CONNECTION_KEYS
            | {"consumerGroup", "pendingEntriesCount", "streamLength", "lagCount", "activationLagCount"}
        ),
        numbers=frozenset(
            {"pendingEntriesCount", "streamLength", "lagCount", "activationLagCount", "databaseIndex"}
        ),
    ),
}


def trigger_problems(trigger: Doc) -> list[str]:
    kind, meta = trigger["type"], trigger["metadata"]
    spec = TRIGGERS.get(kind)
    if spec is None:
        return [f"unexpected trigger type {kind}"]
    problems = [
        f"{kind} trigger has no parameter {key!r}"
        for key in sorted(set(meta) - spec.required - spec.optional)
    ]
    problems += [f"{kind} trigger needs {key!r}" for key in sorted(spec.required - set(meta))]
    where = [k for k in ("address", "addressFromEnv", "host", "hostFromEnv") if k in meta]
    if len(where) != 1:
        problems.append(f"{kind} trigger needs exactly one of address/host(FromEnv), has {where}")
    problems += [
        f"{key} must be a whole number, is {meta[key]!r}"
        for key in sorted(spec.numbers & set(meta))
        if not meta[key].isdigit()
    ]
    problems += [
        f"{key} must be 'true' or 'false'"
        for key in ("enableTLS", "unsafeSsl")
        if key in meta and meta[key] not in ("true", "false")
    ]
    if kind == "redis-streams":
        # consumerGroup switches the scaler to pending entries (or lag); streamLength needs none.
        if "streamLength" in meta and "consumerGroup" in meta:
            problems.append("streamLength is only used without consumerGroup")
        if "lagCount" in meta and "activationLagCount" not in meta:
            problems.append("lagCount needs activationLagCount")
    return problems


def keda_problems(scaled: Doc) -> list[str]:
    """Why KEDA would refuse a ScaledObject, or scale it on the wrong thing (empty: fine)."""
    validator = jsonschema.Draft202012Validator(SCALED_OBJECT_SCHEMA)
    problems = [
        f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(scaled)
    ]
    if problems:
        return problems
    spec = scaled["spec"]
    if spec.get("minReplicaCount", 0) > spec.get("maxReplicaCount", 100):
        problems.append("minReplicaCount exceeds maxReplicaCount")
    names = [t.get("name") for t in spec["triggers"]]
    if len(set(names)) != len(names):
        problems.append(f"trigger names must differ: {names}")
    behavior = spec.get("advanced", {}).get("horizontalPodAutoscalerConfig", {}).get("behavior")
    if behavior is not None:  # KEDA copies it into the HPA it makes: check it as one.
        hpa = {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "keda-hpa"},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "x"},
                "maxReplicas": 1,
                "behavior": behavior,
            },
        }
        problems += schema_problems(hpa)
    for trigger in spec["triggers"]:
        problems += trigger_problems(trigger)
    return problems


def test_scaled_objects_have_the_fields_keda_documents() -> None:
    for scaled in of_kind("ScaledObject"):
        assert keda_problems(scaled) == [], scaled["metadata"]["name"]


def test_a_broken_scaled_object_is_rejected() -> None:
    good = named("ScaledObject", "worker-notify")
    breakages = {
        "a number where KEDA wants a string": ("listLength", 50),
        "a misspelt parameter": ("listname", "linli:queue:notify"),
    }
    for why, (key, value) in breakages.items():
        broken = copy.deepcopy(good)
        redis = next(t for t in broken["spec"]["triggers"] if t["type"] == "redis")
        redis["metadata"][key] = value
        assert keda_problems(broken), why
    grouped = copy.deepcopy(good)
    streams = next(t for t in grouped["spec"]["triggers"] if t["type"] == "redis-streams")
    streams["metadata"]["consumerGroup"] = "workers"
    assert keda_problems(grouped), "streamLength with a consumer group"
    no_target = copy.deepcopy(good)
    del no_target["spec"]["scaleTargetRef"]
    assert keda_problems(no_target)
    bad_behavior = copy.deepcopy(good)
    bad_behavior["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"] = {"scaleDwn": {}}
    assert keda_problems(bad_behavior)


def test_each_worker_scales_on_the_work_waiting_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    config = config_data()
    settings = settings_from({"LINLI_NAMESPACE": config["LINLI_NAMESPACE"]}, monkeypatch)
    redis_url = urlsplit(secret_data()["REDIS_URL"])

    scaled = {so["spec"]["scaleTargetRef"]["name"]: so for so in of_kind("ScaledObject")}
    assert set(scaled) == {f"worker-{service}" for service in QUEUED_SERVICES}
    for service in QUEUED_SERVICES:
        so = scaled[f"worker-{service}"]
        # Never zero: see the comment in keda/scaledobjects.yaml.
        assert so["spec"]["minReplicaCount"] >= 1
        triggers = {t["type"]: t["metadata"] for t in so["spec"]["triggers"]}
        assert triggers["redis"]["listName"] == settings.queue(service)
        # Commands travel on a Redis stream where the code has one (services/common/commands.py).
        if command_stream is not None:
            assert triggers["redis-streams"]["stream"] == command_stream(settings, service)

        # KEDA reads these from the target's first container: they must be there, and agree
        # with the URL the worker itself uses.
        assert "envSourceContainerName" not in so["spec"]["scaleTargetRef"]
        env = env_sources(containers(named("Deployment", f"worker-{service}"))[0])
        for meta in triggers.values():
            assert env[meta["addressFromEnv"]] == f"{redis_url.hostname}:{redis_url.port or 6379}"
            assert env[meta["passwordFromEnv"]] == redis_url.password
            assert meta["databaseIndex"] == (redis_url.path.lstrip("/") or "0")
            assert meta["enableTLS"] == ("true" if redis_url.scheme == "rediss" else "false")


# ---------------------------------------------------------------- docker compose


def compose() -> Doc:
    [doc] = load_all(COMPOSE)
    return doc


APP_SERVICES = {"migrate": ["migrate"], "gateway": ["gateway"]} | {
    f"worker-{service}": ["worker", service] for service in QUEUED_SERVICES
}


# Keys of the Compose Specification (compose-spec.io) that a service here may use; a misspelt
# key is otherwise silently ignored by older Compose versions.
COMPOSE_SERVICE_KEYS = {
    "build",
    "command",
    "depends_on",
    "deploy",
    "entrypoint",
    "environment",
    "env_file",
    "expose",
    "healthcheck",
    "image",
    "init",
    "labels",
    "networks",
    "ports",
    "restart",
    "stop_grace_period",
    "stop_signal",
    "user",
    "volumes",
    "working_dir",
}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
DEPENDS_ON_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
RESTART_POLICIES = {"no", "always", "on-failure", "unless-stopped"}
DURATION = re.compile(r"^(\d+(\.\d+)?(us|ms|s|m|h))+$")


def compose_problems(doc: Doc) -> list[str]:
    """Keys and values Compose would reject or ignore (empty: fine)."""
    problems = [
        f"top-level {key!r}"
        for key in set(doc) - {"name", "services", "volumes", "networks"}
        if not key.startswith("x-")
    ]
    for name, service in doc["services"].items():
        problems += [f"{name}: unknown key {key!r}" for key in sorted(set(service) - COMPOSE_SERVICE_KEYS)]
        if service.get("restart", "no") not in RESTART_POLICIES:
            problems.append(f"{name}: restart {service['restart']!r}")
        for other, rule in service.get("depends_on", {}).items():
            if other not in doc["services"]:
                problems.append(f"{name}: depends on unknown {other!r}")
            if rule.get("condition") not in DEPENDS_ON_CONDITIONS:
                problems.append(f"{name}: condition {rule.get('condition')!r}")
        check = service.get("healthcheck", {})
        problems += [f"{name}: healthcheck key {key!r}" for key in sorted(set(check) - HEALTHCHECK_KEYS)]
        durations = {k: check[k] for k in ("interval", "timeout", "start_period") if k in check}
        if "stop_grace_period" in service:
            durations["stop_grace_period"] = service["stop_grace_period"]
        problems += [
            f"{name}: {key} {value!r} is no duration"
            for key, value in durations.items()
            if not DURATION.match(str(value))
        ]
        if not isinstance(service.get("command", []), list):
            problems.append(f"{name}: command must be a list (exec form)")
    return problems


def test_compose_uses_only_keys_compose_knows() -> None:
    doc = compose()
    assert compose_problems(doc) == []
    broken = copy.deepcopy(doc)
    broken["services"]["gateway"]["healthchek"] = broken["services"]["gateway"].pop("healthcheck")
    broken["services"]["proxy"]["depends_on"]["gateway"]["condition"] = "service_healty"
    broken["services"]["redis"]["healthcheck"]["interval"] = "5 seconds"
    assert len(compose_problems(broken)) == 3


def test_compose_runs_every_process_from_one_image() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "proxy", *APP_SERVICES}
    images = set()
    for name, command in APP_SERVICES.items():
        service = services[name]
        assert service["command"] == command, name
        images.add(service["image"])
        build = service["build"]
        assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    assert len(images) == 1
    assert services["gateway"]["deploy"]["replicas"] == 2
    assert "ports" not in services["gateway"], "only the proxy is published"
    assert services["proxy"]["ports"]


def test_compose_starts_things_in_order() -> None:
    services = compose()["services"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    for name in set(APP_SERVICES) - {"migrate"}:
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name
    assert services["proxy"]["depends_on"] == {"gateway": {"condition": "service_healthy"}}
    # Everything that is waited on as healthy has a health check.
    for name in ("postgres", "redis", "gateway"):
        assert services[name]["healthcheck"]["test"], name
    assert any("/readyz" in part for part in services["gateway"]["healthcheck"]["test"])
    # valkey-cli exits 0 on an error reply such as NOAUTH, so the check must look for PONG.
    assert "PONG" in " ".join(services["redis"]["healthcheck"]["test"])


def test_compose_keeps_data_and_settings_straight() -> None:
    doc = compose()
    services = doc["services"]
    redis_command = services["redis"]["command"]
    assert redis_command[redis_command.index("--appendonly") + 1] == "yes"
    for name, mount in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        volume = next(v.split(":")[0] for v in services[name]["volumes"] if v.endswith(mount))
        assert volume in doc["volumes"], name

    env = services["gateway"]["environment"]
    assert set(env) - settings_env_names() <= set(FOREIGN_ENV)
    assert env["LINLI_ENV"] == "production"
    assert env["LINLI_HOST"] == "0.0.0.0"
    for name in APP_SERVICES:
        assert services[name]["environment"] == env, name
        # arq's wait for running jobs must fit before Docker's SIGKILL.
        grace = int(services[name]["stop_grace_period"].removesuffix("s"))
        assert grace >= job_completion_wait(), name

    caddyfile = next(v for v in services["proxy"]["volumes"] if v.endswith("/etc/caddy/Caddyfile:ro"))
    text = (COMPOSE.parent / caddyfile.split(":")[0]).read_text(encoding="utf-8")
    assert re.search(r"name\s+gateway\b", text) and re.search(rf"port\s+{env['LINLI_PORT']}\b", text)
    assert re.search(r"^\s*respond\s+/metrics\*\s+404\s*$", text, re.MULTILINE), "no public /metrics"


def test_compose_secrets_come_from_the_environment_not_the_file() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for variable in ("LINLI_SECRET", "POSTGRES_PASSWORD", "REDIS_PASSWORD"):
        assert f"${{{variable}:?" in text, f"{variable} must be required from infra/.env"
    example = (INFRA / "env.example").read_text(encoding="utf-8")
    assert all(f"{v}=" in example for v in ("LINLI_SECRET", "POSTGRES_PASSWORD", "REDIS_PASSWORD"))
    # An env.example copied without putting a real secret in it is refused at start-up.
    placeholder = re.search(r"^LINLI_SECRET=(.*)$", example, re.MULTILINE)
    assert placeholder and weak_secret_reason(placeholder.group(1).strip())
    assert ".env" in (INFRA / ".gitignore").read_text(encoding="utf-8").split()


# ---------------------------------------------------------------- Dockerfile


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.partition(" ") for line in lines if line and not line.startswith("#"))
    ]


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    start = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[start:]


def dockerfile_user() -> int:
    [user] = [rest for word, rest in final_stage() if word == "USER"]
    uid = int(user.split(":")[0])
    assert uid != 0
    return uid


def test_the_image_runs_linli_as_a_non_root_user() -> None:
    stage = final_stage()
    assert stage[0] == ("FROM", "python:3.11-slim")
    assert all(
        rest.split()[0] == "python:3.11-slim" for word, rest in dockerfile_instructions() if word == "FROM"
    )
    assert dockerfile_user() > 0
    assert ("ENTRYPOINT", '["linli"]') in stage
    env = " ".join(rest for word, rest in stage if word == "ENV")
    assert "LINLI_HOST=0.0.0.0" in env
    assert 'linli = "services.cli:main"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    ignore = [
        line.strip()
        for line in (INFRA / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignore[0] == "*", "an allow-list: only what is named below reaches the build"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for word, rest in dockerfile_instructions():
        if word == "COPY" and not rest.startswith("--from"):
            *sources, _ = shlex.split(rest)
            for source in sources:
                assert source.rstrip("/") in allowed, f"{source} is ignored by Dockerfile.dockerignore"
                assert (ROOT / source).exists(), source


def test_env_example_lists_every_setting_linli_reads() -> None:
    listed = (INFRA / "env.example").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names = alias.choices if isinstance(alias, AliasChoices) else [f"LINLI_{name.upper()}"]
        assert any(re.search(rf"^#? ?{n}=", listed, re.MULTILINE) for n in names), f"{names[0]} missing"


def test_the_gateway_trusts_forwarded_addresses_only_from_the_ingress() -> None:
    # "*" would let any client choose the address the per-address limits and the audit record.
    trusted = config_data()["FORWARDED_ALLOW_IPS"]
    assert trusted != "*"
    for entry in trusted.split(","):
        network = ipaddress.ip_network(entry.strip())
        assert network.prefixlen > 0, f"{entry} trusts every address"
