"""The adapter of each integration type: native delivery -> facts (see `model`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from collector.integrations import awx, cdevents, github, gitlab, jenkins, tekton
from collector.integrations.model import Ignored, RunFacts

Adapter = Callable[[Mapping[str, str], Any], RunFacts | Ignored]
ADAPTERS: dict[str, Adapter] = {
    "github": github.facts,
    "gitlab": gitlab.facts,
    "jenkins": jenkins.facts,
    "awx": awx.facts,
    "tekton": tekton.facts,
    "cdevents": cdevents.facts,
}
"""Run sources. Incident sources (alertmanager, pagerduty) come with uptime from incidents."""
