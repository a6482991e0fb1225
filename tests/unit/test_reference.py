"""docs/REFERENCE.md defines everything a user sees: every event field, declaration field,
metric and recording rule the code knows, and every anchor the dashboards link to; no user
document cites a design document that is not in the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from collector.declarations.declaration import Guards, Metadata, Objectives, Spec
from outcomes.gateway.access import GatewayMetrics
from outcomes.gateway.hooks import HookMetrics
from outcomes.gateway.otlp import OtlpMetrics
from schemas.events import DATA_MODELS, EventType

ROOT = Path(__file__).parents[2]
REFERENCE = (ROOT / "docs" / "REFERENCE.md").read_text()


def test_every_event_type_and_field_is_defined() -> None:
    for event_type, model in DATA_MODELS.items():
        assert event_type.value.rsplit(".", 1)[-1] in REFERENCE
        for field in model.model_fields:
            assert f"`{field}`" in REFERENCE, (event_type.value, field)
    assert {t.value for t in EventType} <= set(re.findall(r"outcomes\.[a-z]+\.[a-z]+", REFERENCE))


def test_every_declaration_field_is_defined() -> None:
    for model in (Spec, Objectives, Guards, Metadata):
        for field in model.model_fields:
            assert re.search(rf"\b{field}:", REFERENCE), (model.__name__, field)


def test_every_metric_and_recording_rule_is_defined() -> None:
    golden = (ROOT / "tests/unit/exporters/golden/metrics.txt").read_text()
    names = set(re.findall(r"^# TYPE (\S+) ", golden, re.M))
    registry = CollectorRegistry()
    GatewayMetrics(registry)
    HookMetrics(registry)
    OtlpMetrics(registry)
    names |= {f"{family.name}_total" for family in registry.collect()}
    rules = yaml.safe_load((ROOT / "deploy/prometheus/rules/outcomes-recording.yml").read_text())
    names |= {rule["record"] for group in rules["groups"] for rule in group["rules"]}
    kinds = ("uptime", "success", "acceptance")
    burn = {
        name for name in names if name.startswith(tuple(f"outcomes:{k}_burn_rate:" for k in kinds))
    }
    undefined = sorted(n for n in names - burn if f"`{n}`" not in REFERENCE)
    assert undefined == []
    for kind in kinds:
        assert f"`outcomes:{kind}_burn_rate:rate5m` … `rate3d`" in REFERENCE


def test_the_dashboards_link_to_sections_that_exist() -> None:
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", REFERENCE, re.M)
    }
    for board in (ROOT / "deploy/grafana/dashboards").glob("*.json"):
        linked = set(
            re.findall(r"REFERENCE\.md#([a-z0-9-]+)", json.dumps(json.loads(board.read_text())))
        )
        assert linked <= anchors, (board.name, linked - anchors)


def test_attainment_is_defined_with_examples() -> None:
    section = REFERENCE.split("## Attainment", 1)[1].split("\n## ", 1)[0]
    assert "error budget" in section and "Examples" in section
    assert "(1 − objective) / (1 − realized)" in section


def test_user_documents_never_cite_a_document_outside_the_repository() -> None:
    documents = [
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "deploy").rglob("*.y*ml"),
    ]
    for path in documents:
        assert "DESIGN" not in path.read_text(), path


def test_every_declaration_in_the_docs_is_valid(tmp_path: Path) -> None:
    """The Integration, PriceBook and Project examples users copy from the docs load."""
    from collector.declarations.loader import load_file

    checked = 0
    for document in sorted((ROOT / "docs").glob("*.md")):
        blocks = re.findall(r"```yaml\n(.*?)```", document.read_text(), re.S)
        for index, block in enumerate(blocks):
            if not re.search(r"^kind: (Integration|PriceBook|Project)$", block, re.M):
                continue
            path = tmp_path / f"{document.stem}-{index}.yaml"
            path.write_text(block)
            found, errors = load_file(path)
            assert errors == [], (document.name, index, [str(e) for e in errors])
            checked += len(found)
    assert checked >= 5
