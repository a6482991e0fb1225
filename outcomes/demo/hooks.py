"""The demo's tools that need no SDK: GitHub Actions and Ansible AWX send their own webhooks
to the gateway, signed their way, and the Integration rules turn them into runs.

Payload shapes follow the tools' public samples (see docs/INTEGRATIONS.md); now and then a
delivery is sent twice (a redelivery: counted once) or comes from a repository no rule
maps (kept in the dead-letter topic).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import logging
import random
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from schemas.binding import format_time

log = logging.getLogger(__name__)

INTEGRATIONS = """\
apiVersion: outcomes/v1
kind: Integration
metadata: {name: github-ci}
spec:
  type: github
  secret: {file: SECRET_FILE}
  rules:
    - match: {repository: "octo-org/*"}
      project: release-automation
      automation: "ci-{workflow}"
      manualDurationS: 1800
      cost: 0.02
      costPerHour: 0.48
---
apiVersion: outcomes/v1
kind: Integration
metadata: {name: awx}
spec:
  type: awx
  secret: {file: SECRET_FILE}
  rules:
    - match: {project: "Platform*"}
      project: release-automation
      automation: "{playbook}"
      manualDurationS: 2700
      humanEffortS: 120
---
apiVersion: outcomes/v1
kind: Integration
metadata: {name: ai-agents}
spec:
  type: otlp
  secret: {file: SECRET_FILE}
  rules:
    - match: {resource.service.name: "incident-copilot"}
      project: incident-copilot
      manualDurationS: 90
    - match: {resource.service.name: "remediation-planner"}
      project: incident-autoremediation
"""
Delivery = tuple[str, bytes, dict[str, str]]
"""(integration, body, headers)"""


def write_integrations(directory: Path) -> str:
    """Integration documents for the demo in `directory`; returns their shared secret."""
    secret = secrets.token_hex(16)
    directory.mkdir(parents=True, exist_ok=True)
    secret_file = directory.parent / "webhook-secret"
    secret_file.write_text(secret)
    text = INTEGRATIONS.replace("SECRET_FILE", str(secret_file))
    (directory / "integrations.yaml").write_text(text)
    return secret


class ToolFleet:
    """Makes the deliveries a small GitHub organization and an AWX would send."""

    def __init__(self, secret: str, clock: Callable[[], datetime], seed: int = 11) -> None:
        self._secret = secret.encode()
        self._clock = clock
        self._random = random.Random(seed)
        self._ids = itertools.count(4_200_000)
        self._last: Delivery | None = None

    def next(self) -> Delivery:
        roll = self._random.random()
        if roll < 0.05 and self._last is not None:
            return self._last  # a redelivery
        made = self._github("someone/sandbox") if roll < 0.08 else None
        made = made or (self._github("octo-org/storefront") if roll < 0.7 else self._awx())
        self._last = made
        return made

    def _github(self, repository: str) -> Delivery:
        now = self._clock()
        took = timedelta(seconds=self._random.uniform(90, 900))
        run = {
            "id": next(self._ids), "name": self._random.choice(["deploy", "test", "release"]),
            "run_number": self._random.randrange(1, 999), "run_attempt": 1,
            "event": "push", "status": "completed", "head_branch": "main",
            "conclusion": "success" if self._random.random() < 0.9 else "failure",
            "created_at": format_time(now - took), "run_started_at": format_time(now - took),
            "updated_at": format_time(now),
            "html_url": f"https://github.com/{repository}/actions/runs/1",
        }  # fmt: skip
        body = json.dumps({"action": "completed", "workflow_run": run,
                           "repository": {"full_name": repository}}).encode()  # fmt: skip
        signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        headers = {"X-GitHub-Event": "workflow_run", "X-Hub-Signature-256": f"sha256={signature}"}
        return "github-ci", body, headers

    def _awx(self) -> Delivery:
        now = self._clock()
        job = next(self._ids)
        body = json.dumps({
            "id": job, "name": "Patch Linux fleet", "url": f"https://awx.example/#/jobs/playbook/{job}",
            "created_by": "scheduler",
            "started": format_time(now - timedelta(seconds=self._random.uniform(300, 1500))),
            "finished": format_time(now),
            "status": "successful" if self._random.random() < 0.85 else "failed",
            "inventory": "prod-linux", "project": "Platform Ops", "playbook": "patch.yml",
            "limit": "", "extra_vars": "{}",
        }).encode()  # fmt: skip
        token = base64.b64encode(b"awx:" + self._secret).decode()
        return "awx", body, {"Authorization": f"Basic {token}"}


def post(gateway: str, delivery: Delivery) -> dict[str, Any]:
    name, body, headers = delivery
    request = urllib.request.Request(
        f"{gateway}/v1/hooks/{name}",
        data=body,
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except (urllib.error.URLError, OSError, ValueError) as error:
        return {"result": "error", "detail": str(error)}


def send_deliveries(
    gateway: str, fleet: ToolFleet, stop: threading.Event, interval_s: float = 2.0
) -> None:
    """Post a delivery every `interval_s` until `stop` (the demo's background thread)."""
    while not stop.wait(interval_s):
        answer = post(gateway, fleet.next())
        if answer.get("result") == "error":
            log.debug("webhook not delivered: %s", answer.get("detail"))
