"""One delivery, start to end: raw body -> JSON -> the tool's facts -> the rules' events."""

from __future__ import annotations

import json
from collections.abc import Mapping

from collector.integrations.adapters import ADAPTERS
from collector.integrations.declaration import IntegrationDeclaration
from collector.integrations.model import Ignored, MalformedError, Translation
from collector.integrations.translate import translate

SECRET_HEADERS = frozenset(
    {"authorization", "cookie", "x-hub-signature", "x-hub-signature-256", "x-gitlab-token",
     "x-pagerduty-signature", "webhook-signature", "proxy-authorization"}
)  # fmt: skip
"""Never copied anywhere (dead letters keep the other headers for a replay)."""


def receive(
    declaration: IntegrationDeclaration, headers: Mapping[str, str], body: bytes
) -> Translation:
    """Translate an authenticated delivery; MalformedError when it is not the tool's JSON.

    `headers` have lowercase names."""
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise MalformedError(f"body is not JSON: {error}") from None
    adapter = ADAPTERS.get(declaration.spec.type)
    if adapter is None:
        kind = declaration.spec.type
        return Ignored(f"{kind} deliveries are not translated by this version")
    try:
        facts = adapter(headers, payload)
    except (TypeError, AttributeError) as error:  # a shape no tool sends
        raise MalformedError(f"unexpected {declaration.spec.type} payload: {error}") from None
    return translate(declaration, facts)


def replayable_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The request headers worth keeping with a dead letter: all but credentials."""
    return [(name, value) for name, value in headers.items() if name not in SECRET_HEADERS]
