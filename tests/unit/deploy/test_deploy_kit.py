"""The container and Kubernetes kit, checked structurally: no container engine runs on
these machines, so each file is parsed and cross-checked against the code it deploys."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from collector.config import Settings, load_settings
from collector.declarations.registry import DeclarationRegistry
from outcomes.cli import build_parser
from tests.support.tools import DEPLOY

ROOT = DEPLOY.parent
DEFAULT_PORT = Settings().listen_address[1]


def yaml_documents(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def test_dockerfile_builds_from_files_that_exist_and_runs_as_non_root() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for source in line.split():
            assert (ROOT / source).exists(), source
    assert f"EXPOSE {DEFAULT_PORT}" in text
    assert f"127.0.0.1:{DEFAULT_PORT}/healthz" in text
    assert re.search(r"^USER 10001$", text, re.M)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert 'ENTRYPOINT ["outcomes"]' in text and "outcomes" in scripts
    command = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert command is not None
    build_parser().parse_args(yaml.safe_load(command.group(1)))


def test_compose_references_files_that_exist_and_agrees_with_the_code() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    for name, service in services.items():
        for volume in service.get("volumes", []):
            host = volume.split(":", 1)[0]
            assert (DEPLOY / host).exists(), (name, host)
        if "build" in service:
            assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).exists()
    settings = load_settings({}, DEPLOY / "collector.yaml")
    assert settings.listen_address[1] == DEFAULT_PORT
    assert settings.bootstrap_servers == "kafka:9092"
    assert settings.state.startswith("postgresql://") and "@postgres:5432/" in settings.state
    topics = services["kafka-topics"]["command"][0]
    assert (
        f"--topic {settings.topic} " in topics
        and f"--topic {settings.dead_letter_topic} " in topics
    )
    collectors = [
        n for n, s in services.items() if s.get("image") == "outcomes-collector:local" or "<<" in s
    ]
    assert {"collector-1", "collector-2"} <= set(services) and collectors
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == [f"collector-1:{DEFAULT_PORT}", f"collector-2:{DEFAULT_PORT}"]
    assert prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "alertmanager:9093"
    ]
    datasource = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/outcomes.yml").read_text())
    grafana_mounts = dict(v.split(":")[:2] for v in services["grafana"]["volumes"])
    assert grafana_mounts["./grafana/dashboards"] == provider["providers"][0]["options"]["path"]


def _kubernetes() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for document in yaml_documents(path):
            if document["kind"] == "Kustomization":
                continue
            found[f"{document['kind']}/{document['metadata']['name']}"] = document
    return found


def test_kubernetes_manifests_agree_with_the_code(tmp_path: Path) -> None:
    objects = _kubernetes()
    deployment = objects["Deployment/outcomes-collector"]
    assert deployment["spec"]["replicas"] >= 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    build_parser().parse_args(container["args"])
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["ports"][0]["containerPort"] == DEFAULT_PORT
    for variable in container["env"]:
        assert variable["name"].removeprefix("OUTCOMES_").lower() in Settings.model_fields
    config = tmp_path / "collector.yaml"
    config.write_text(objects["ConfigMap/outcomes-collector-config"]["data"]["collector.yaml"])
    assert load_settings({}, config).listen_address[1] == DEFAULT_PORT
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["projects"] == container["args"][container["args"].index("--targets") + 1]
    assert objects["Service/outcomes-collector"]["spec"]["ports"][0]["port"] == DEFAULT_PORT
    monitor = objects["PodMonitor/outcomes-collector"]["spec"]["podMetricsEndpoints"][0]
    assert (monitor["port"], monitor["path"]) == ("metrics", "/metrics")


def test_generated_kubernetes_objects_are_current_and_valid(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("render", DEPLOY / "kubernetes" / "render.py")
    assert spec is not None and spec.loader is not None
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    for name, text in render.render().items():
        assert (DEPLOY / "kubernetes" / name).read_text() == text, f"run `make k8s` ({name})"
    objects = _kubernetes()
    for name, text in objects["ConfigMap/outcomes-projects"]["data"].items():
        (tmp_path / name).write_text(text)
    result = DeclarationRegistry(tmp_path).reload()
    assert result.errors == () and len(list(result.catalog.declared_projects())) >= 5
    kustomization = yaml.safe_load((DEPLOY / "kubernetes" / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (DEPLOY / "kubernetes" / resource).exists()


def test_the_focus_import_cronjob_runs_a_command_the_cli_knows() -> None:
    objects = _kubernetes()
    job = objects["CronJob/outcomes-focus-import"]["spec"]["jobTemplate"]["spec"]["template"]
    spec = job["spec"]
    (container,) = spec["containers"]
    args = build_parser().parse_args(container["args"])
    assert (args.command, args.source, args.project_tag) == (
        "import",
        "focus",
        "outcomes-project",
    )
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert [str(path) for path in args.files] == [mounts["exports"]]
    assert str(args.config) == mounts["config"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert f"ConfigMap/{volumes['config']['configMap']['name']}" in objects
    (fetch,) = spec["initContainers"]
    assert {m["mountPath"] for m in fetch["volumeMounts"]} == {mounts["exports"]}
    assert "--backfill" not in container["args"]  # nightly: only what the grace window accepts
