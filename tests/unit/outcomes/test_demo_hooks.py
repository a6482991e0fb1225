"""The demo's simulated GitHub and AWX deliveries pass the same authentication and rules
as real ones: runs for mapped repositories, the sandbox repository unmapped."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from collector.declarations.registry import DeclarationRegistry
from collector.integrations.auth import authentic
from collector.integrations.deliver import receive
from collector.integrations.model import Accepted, Unmapped
from outcomes.demo.hooks import ToolFleet, write_integrations
from schemas.events import RunFinished


def test_every_demo_delivery_is_signed_and_mapped_or_kept(tmp_path: Path) -> None:
    secret = write_integrations(tmp_path / "integrations")
    catalog = DeclarationRegistry(tmp_path / "integrations").reload().catalog
    assert set(catalog.integrations) == {"github-ci", "awx", "ai-agents"}
    fleet = ToolFleet(secret, lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))
    results: Counter[str] = Counter()
    automations: set[str] = set()
    for _ in range(300):
        name, body, headers = fleet.next()
        lowered = {key.lower(): value for key, value in headers.items()}
        integration = catalog.integrations[name]
        assert authentic(integration.spec.type, lowered, body, secret.encode())
        result = receive(integration, lowered, body)
        assert isinstance(result, Accepted | Unmapped), result
        results[type(result).__name__] += 1
        if isinstance(result, Accepted):
            data = result.events[0].data
            assert isinstance(data, RunFinished) and data.project == "release-automation"
            automations.add(data.automation)
    assert results["Accepted"] > 250 and results["Unmapped"] > 0
    assert {"ci-deploy", "ci-test", "ci-release", "patch.yml"} <= automations
