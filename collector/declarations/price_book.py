"""`kind: PriceBook` documents (docs/REFERENCE.md#price-books): what model calls cost in
the reporting currency, per million tokens, with dated versions. Validated with pydantic;
turned into the engine's immutable `PriceList`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from collector.declarations.declaration import Name, Strict
from collector.engine.formulas import exact
from collector.engine.pricing import PriceList, PriceRule, TokenPrice

Glob = Annotated[str, StringConstraints(min_length=1, max_length=256)]
PerMillion = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Price(Strict):
    """One model's prices per million tokens, in force from `since` (00:00 UTC)."""

    provider: Glob = Field(description="A glob over gen_ai.provider.name: openai, aws.bedrock, …")
    model: Glob = Field(description="A glob over the model name: gpt-4o-mini*")
    since: date = date(1970, 1, 1)
    input: PerMillion
    output: PerMillion
    cacheRead: PerMillion | None = None  # noqa: N815
    """Default: the input price."""
    cacheWrite: PerMillion | None = None  # noqa: N815
    """Default: the input price."""

    def token_price(self) -> TokenPrice:
        read = self.input if self.cacheRead is None else self.cacheRead
        write = self.input if self.cacheWrite is None else self.cacheWrite
        return TokenPrice(exact(self.input), exact(self.output), exact(read), exact(write))


class PriceBookSpec(Strict):
    prices: Annotated[list[Price], Field(min_length=1)]

    @model_validator(mode="after")
    def _distinct_versions(self) -> PriceBookSpec:
        seen: dict[tuple[str, str, date], int] = {}
        for position, price in enumerate(self.prices):
            key = (price.provider, price.model, price.since)
            if key in seen:
                raise ValueError(
                    f"prices[{position}]: {price.provider} {price.model} since {price.since}"
                    f" is already priced by prices[{seen[key]}]"
                )
            seen[key] = position
        return self


class Metadata(Strict):
    name: Name


class PriceBookDeclaration(Strict):
    apiVersion: Literal["outcomes/v1"]  # noqa: N815
    kind: Literal["PriceBook"]
    metadata: Metadata
    spec: PriceBookSpec

    @property
    def name(self) -> str:
        return self.metadata.name


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def price_list(books: list[PriceBookDeclaration]) -> PriceList:
    """The rules of `books` in order: entries with the same provider and model globs are
    dated versions of one rule (placed where its first entry is)."""
    versions: dict[tuple[str, str], list[tuple[float, TokenPrice]]] = {}
    owners: dict[tuple[str, str], str] = {}
    for book in books:
        for price in book.spec.prices:
            key = (price.provider, price.model)
            versions.setdefault(key, []).append((_midnight(price.since), price.token_price()))
            owners.setdefault(key, book.name)
    return PriceList(
        tuple(
            PriceRule(provider, model, tuple(sorted(dated, reverse=True, key=_since)), owners[key])
            for key, dated in versions.items()
            for provider, model in (key,)
        )
    )


def _since(version: tuple[float, TokenPrice]) -> float:
    return version[0]
