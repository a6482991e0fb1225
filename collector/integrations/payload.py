"""Reading tools' JSON: nested fields and the timestamp formats they use."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from collector.integrations.model import MalformedError

_GITLAB_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?: (UTC|[+-]\d{4}))?$")


def dig(payload: Any, path: str, required: bool = True) -> Any:
    """The value at dotted `path`; MalformedError when required and absent."""
    value = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            if required:
                raise MalformedError(f"{path}: missing")
            return None
    return value


def text(payload: Any, path: str, required: bool = True) -> str | None:
    value = dig(payload, path, required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedError(f"{path}: expected text, got {type(value).__name__}")
    return str(value)


def moment(payload: Any, path: str, required: bool = True) -> datetime | None:
    """A timestamp: RFC 3339 / ISO 8601 (`Z` or offset), GitLab's `2016-08-12 15:23:28
    UTC` or `… +0200`, or epoch milliseconds (Jenkins)."""
    value = dig(payload, path, required)
    if value is None:
        return None
    try:
        return parse_moment(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise MalformedError(f"{path}: not a timestamp: {value!r} ({error})") from None


def parse_moment(value: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    if not isinstance(value, str):
        raise TypeError(type(value).__name__)
    gitlab = _GITLAB_TIME.match(value.strip())
    if gitlab:
        day, clock, zone = gitlab.groups()
        offset = "+00:00" if zone in (None, "UTC") else f"{zone[:3]}:{zone[3:]}"
        value = f"{day}T{clock}{offset}"
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no timezone")
    return parsed.astimezone(UTC)


def seconds_between(start: datetime | None, end: datetime) -> float | None:
    if start is None:
        return None
    return max(0.0, (end - start).total_seconds())


def number(payload: Any, path: str) -> float | None:
    value = dig(payload, path, required=False)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedError(f"{path}: expected a number, got {type(value).__name__}")
    return float(value)
