"""One FOCUS cost row -> one charge of a project in a statement, or the reason it is none.

A statement is what a provider says about one (ProviderName, BillingAccountId,
BillingPeriodStart): the importer sums its charges per project, day and category
(`outcomes.importers.focus.statements`). FOCUS rows carry no row id and two rows may
agree in every column but the amount: each row counts, as on the provider's invoice.
Corrections and credits arrive as their own rows with negative costs, and subtract.
Amounts stay exact decimals.

Category table (documented in docs/INTEGRATIONS.md):

| FOCUS                                   | cost category |
|-----------------------------------------|---------------|
| ChargeCategory `Tax`                    | other         |
| ServiceCategory `Business Applications` | licence       |
| ServiceCategory `Other` or empty        | other         |
| any other ServiceCategory               | compute       |
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final

from schemas.names import NAME_PATTERN

SOURCE: Final = "outcomes-import/focus"
COST_COLUMNS: Final = ("EffectiveCost", "BilledCost")
DECIDING: Final = (
    "ProviderName", "BillingAccountId", "BillingPeriodStart", "ChargePeriodStart",
    "ChargeCategory", "ServiceCategory", "BillingCurrency", "Tags", *COST_COLUMNS,
)  # fmt: skip
"""The columns a charge is made of: the only ones the import reads (those of them a file
has; `files` says which it must have). A rejected row is written with them and its number
in the file, which finds it in the export."""
NEEDED: Final = DECIDING
SHARED: Final = (
    "ChargePeriodStart", "ProviderName", "BillingAccountId", "BillingPeriodStart",
    "ChargeCategory", "ServiceCategory", "BillingCurrency",
)  # fmt: skip
"""The columns besides Tags whose values rows of a bill share, and that decide a charge's
statement line and whether it is plain (the column path combines them)."""
MAX_ROW_AMOUNT: Final = Decimal(10) ** 12
"""A row's amount beyond this is refused `invalid` (a misread column, not a bill)."""
_NAME: Final = re.compile(NAME_PATTERN)
_FRACTION: Final = re.compile(r"(\.\d{6})\d+")
_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS: Final = re.compile(r"[\s/]+")
NULLS: Final = frozenset({"NULL", "null", "None"})
"""How exports write a missing value in CSV (the FinOps sample writes `NULL`)."""
UTC_ASSUMED: Final = "utc_assumed"
"""A note: a timestamp without a zone was taken as UTC (FOCUS times are UTC)."""


def normalise(value: str) -> str:
    """A tag value as a project name: CamelCase boundaries and spaces become `-`, all
    lowercase (`BrightPathMatrix` -> `bright-path-matrix`, `Data Lake` -> `data-lake`)."""
    spaced = _SEPARATORS.sub("-", _CAMEL.sub("-", value.strip()))
    return re.sub(r"-{2,}", "-", spaced).strip("-").lower()


@dataclass(frozen=True)
class TagMap:
    """`--tag-map FILE`: tag value (glob) -> project, first match wins; values it does not
    map are normalised (`normalise`)."""

    entries: tuple[tuple[str, str], ...] = ()

    def project(self, value: str) -> str:
        for pattern, project in self.entries:
            if fnmatch.fnmatchcase(value, pattern):
                return project
        return normalise(value)


class Skip(StrEnum):
    """Why a row sends nothing. All but `zero_cost` go to the rejects file."""

    NO_TAG = "no_tag"
    CURRENCY = "currency"
    INVALID = "invalid"
    TOO_LATE = "too_late"
    """In a period closed longer than the grace window ago (import it with --backfill)."""
    FUTURE = "future"
    ZERO = "zero_cost"


@dataclass(frozen=True, slots=True)
class Skipped:
    reason: Skip
    detail: str
    project: str | None = None


def category_of(row: dict[str, Any]) -> str:
    return _category(_hashable(row.get("ChargeCategory")), _hashable(row.get("ServiceCategory")))


@lru_cache(maxsize=1024)
def _category(charge_category: Any, service_category: Any) -> str:
    """A bill has few (ChargeCategory, ServiceCategory) pairs: each is worked out once."""
    if _text(charge_category).lower() == "tax":
        return "other"
    service = _text(service_category)
    if service == "Business Applications":
        return "licence"
    if service in ("", "Other"):
        return "other"
    return "compute"


def tags_of(raw: Any) -> dict[str, Any]:
    """FOCUS `Tags`: a JSON object in CSV, a map (list of pairs) or struct in Parquet."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list):  # a Parquet map: (key, value) pairs; anything else is no tag
        pairs = [_pair(item) for item in raw]
        return {pair[0]: pair[1] for pair in pairs if pair is not None}
    try:
        parsed = json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _pair(item: Any) -> tuple[str, Any] | None:
    if isinstance(item, list | tuple) and len(item) == 2:
        return str(item[0]), item[1]
    if isinstance(item, dict) and set(item) == {"key", "value"}:
        return str(item["key"]), item["value"]
    return None


@dataclass(frozen=True, slots=True)
class Charge:
    """One row as the statement counts it."""

    statement: str
    """`ProviderName/BillingAccountId/BillingPeriodStart date`."""
    project: str
    day: date
    """The charge day (ChargePeriodStart, UTC)."""
    category: str
    amount: Decimal


def to_charge(
    row: dict[str, Any],
    *,
    project_tag: str,
    cost_column: str,
    currency: str,
    tag_map: TagMap | None = None,
    notes: Counter[str] | None = None,
) -> Charge | Skipped:
    """The charge of `row`, or why there is none (`notes`: counts what was assumed)."""
    project = _project(row, project_tag, tag_map or TagMap())
    if isinstance(project, Skipped):
        return project
    billing = row.get("BillingCurrency")
    if billing != currency and _text(billing) != currency:
        return Skipped(
            Skip.CURRENCY, f"BillingCurrency {_text(billing)!r} is not {currency!r}", project
        )
    try:
        amount = _amount(row.get(cost_column), cost_column)
        day, assumed = _charge_day(_hashable(row.get("ChargePeriodStart")))
        statement = _statement(row)
    except ValueError as error:
        return Skipped(Skip.INVALID, str(error), project)
    if amount == 0:
        return Skipped(Skip.ZERO, f"{cost_column} is 0", project)
    if assumed and notes is not None:
        notes[UTC_ASSUMED] += 1
    return Charge(statement, project, day, category_of(row), amount)


def _statement(row: dict[str, Any]) -> str:
    get = row.get
    return _statement_of(
        _hashable(get("ProviderName")),
        _hashable(get("BillingAccountId")),
        _hashable(get("BillingPeriodStart")),
    )


@lru_cache(maxsize=1024)
def _statement_of(provider_name: Any, account_id: Any, period_start: Any) -> str:
    """A bill has few statements: each is worked out once."""
    provider, account = _text(provider_name), _text(account_id)
    if not account:
        raise ValueError("BillingAccountId is empty")
    start, _ = _timestamp(period_start, "BillingPeriodStart")
    return f"{provider[:64] or 'unknown'}/{account[:160]}/{start.date().isoformat()}"


def _hashable(value: Any) -> Any:
    """`value` as a cache key (a CSV cell, the common case, as it is)."""
    if type(value) is str:
        return value
    try:
        hash(value)
    except TypeError:
        return str(value)
    return value


def _project(row: dict[str, Any], project_tag: str, tag_map: TagMap) -> str | Skipped:
    tags = row.get("Tags")
    if type(tags) is str:  # CSV: the same few tag sets on most rows
        return _project_of(tags, project_tag, tag_map)
    return _project_of_tags(tags, project_tag, tag_map)


@lru_cache(maxsize=65_536)
def _project_of(tags: str, project_tag: str, tag_map: TagMap) -> str | Skipped:
    return _project_of_tags(tags, project_tag, tag_map)


def _project_of_tags(tags: Any, project_tag: str, tag_map: TagMap) -> str | Skipped:
    value = tags_of(tags).get(project_tag)
    if value is None or _text(value) == "":
        return Skipped(Skip.NO_TAG, f"no tag {project_tag!r}")
    project = tag_map.project(str(value))
    if not _NAME.match(project):
        return Skipped(Skip.INVALID, f"tag {project_tag}={value!r} is not a project name"
                       f" ({project!r} after mapping; lowercase a-z 0-9 . _ -, 1 to 63"
                       " characters): map it with --tag-map", project)  # fmt: skip
    return project


def _amount(value: Any, cost_column: str) -> Decimal:
    try:  # a CSV cell as it is (Decimal ignores the spaces around it)
        amount = Decimal(value if type(value) is str else _text(value))
    except InvalidOperation:
        raise ValueError(f"{cost_column} {_text(value)!r} is not a number") from None
    if not amount.is_finite() or abs(amount) >= MAX_ROW_AMOUNT:
        raise ValueError(f"{cost_column} {_text(value)!r} is not an amount")
    return amount


def _text(value: Any) -> str:
    if type(value) is str:  # CSV: every cell (the common case first)
        text = value.strip()
        return "" if text in NULLS else text
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value).strip()
    return "" if text in NULLS else text


@lru_cache(maxsize=8192)
def _charge_day(value: Any) -> tuple[date, bool]:
    """Charges start on the hour or the day: a month has a few hundred distinct values."""
    moment, assumed = _timestamp(value, "ChargePeriodStart")
    return moment.date(), assumed


def _timestamp(value: Any, column: str) -> tuple[datetime, bool]:
    """A FOCUS time as written by the providers, in UTC: `2026-08-01T00:00:00Z`, with up to
    7 fractional digits (Azure), a datetime (Parquet), or without a zone (the FinOps
    sample's `2024-09-24 14:00:00`): FOCUS times are UTC, so a missing zone is UTC (and
    said: the second value)."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = _text(value)
        if not text:
            raise ValueError(f"{column} is empty")
        text = _FRACTION.sub(r"\1", text.replace("Z", "+00:00").replace(" ", "T"))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{column} {value!r} is not a timestamp") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC), True
    try:
        return moment.astimezone(UTC), False
    except OverflowError:
        raise ValueError(f"{column} {value!r} is out of range") from None
