"""What an engine is told at start: the reporting currency, the time rules and the
cardinality limits (docs/REFERENCE.md#configuration sets them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class EngineSettings:
    currency: str = "USD"
    grace: timedelta = timedelta(days=7)
    future_tolerance: timedelta = timedelta(minutes=5)
    max_automations_per_project: int = 200
    max_services_per_project: int = 50
    max_models_per_project: int = 50
    """Models beyond this many per project count under `other` (AI usage)."""
    price_catalogue: bool = True
    """Price model calls with the public catalogue when the reporting currency is USD."""
    max_projects: int = 10_000
    """Undeclared projects beyond this many (per instance) fold into project `other`."""
    refresh_s: float = 5.0
    """How stale a project's projections may get without new events (they move with time)."""
    version: str = "0.0.0"
