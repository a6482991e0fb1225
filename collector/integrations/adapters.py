"""The adapter of each integration type: native delivery -> facts (see `model`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from collector.integrations import (
    alertmanager,
    awx,
    cdevents,
    github,
    gitlab,
    jenkins,
    pagerduty,
    tekton,
)
from collector.integrations.model import Ignored, IncidentFacts, RunFacts

Adapter = Callable[[Mapping[str, str], Any], RunFacts | IncidentFacts | Ignored]
ADAPTERS: dict[str, Adapter] = {
    "github": github.facts,
    "gitlab": gitlab.facts,
    "jenkins": jenkins.facts,
    "awx": awx.facts,
    "tekton": tekton.facts,
    "cdevents": cdevents.facts,
    "alertmanager": alertmanager.facts,
    "pagerduty": pagerduty.facts,
}
"""Run sources, incident sources (alertmanager, pagerduty) and CDEvents (both)."""
