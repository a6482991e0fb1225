"""One delivery, start to end: raw body -> JSON -> the tool's facts -> the rules' events."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from collector.integrations.adapters import ADAPTERS
from collector.integrations.declaration import IntegrationDeclaration
from collector.integrations.model import Ignored, Invalid, MalformedError, Translation, Unmapped
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

    `headers` have lowercase names. (`otlp` integrations: `otlp.receive_otlp`.)"""
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


CDEVENTS_PREFIX = "dev.cdevents."


def is_cdevent(headers: Mapping[str, str], payload: object) -> bool:
    """A CDEvent in any CloudEvents mode: binary (`ce_type`), structured or bare."""
    if headers.get("ce_type", headers.get("ce-type", "")).startswith(CDEVENTS_PREFIX):
        return True
    if not isinstance(payload, Mapping):
        return False
    context = payload.get("context")
    kind = context.get("type") if isinstance(context, Mapping) else payload.get("type")
    return isinstance(kind, str) and kind.startswith(CDEVENTS_PREFIX)


def receive_cdevent(
    integrations: Iterable[IntegrationDeclaration], headers: Mapping[str, str], body: bytes
) -> Translation | None:
    """A CDEvent from the collector's own topic through the `cdevents` integrations' rules
    (in name order; the first that maps it wins); None when the record is no CDEvent."""
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None
    if not is_cdevent(headers, payload):
        return None
    candidates = sorted(
        (i for i in integrations if i.spec.type == "cdevents"), key=lambda i: i.name
    )
    if not candidates:
        return Unmapped(why="a CDEvent, and no cdevents integration is declared")
    results = []
    for integration in candidates:
        try:
            result = receive(integration, headers, body)
        except MalformedError as error:
            return Invalid(f"malformed CDEvent: {error}")
        if not isinstance(result, Unmapped):
            return result
        results.append(result)
    return results[0]


def replayable_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The request headers worth keeping with a dead letter: all but credentials."""
    return [(name, value) for name, value in headers.items() if name not in SECRET_HEADERS]
