"""The public price catalogue for USD: the `genai-prices` package (pydantic's; bundled,
dated prices of the major providers, updated with each release).

Looking a model up and resolving the price in force take ~0.1–0.7 ms in the package,
so both are cached per (provider, model, day). Plain per-token prices (the usual case)
are applied with the same formula as a price book; anything the formula cannot express
(tiered prices) is left to the package's own calculation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from genai_prices import Usage
from genai_prices.data_snapshot import get_snapshot

from collector.engine.pricing import TokenPrice
from collector.engine.units import money_of_decimal
from schemas.events import AiUsage

SECONDS_PER_DAY: Final = 86_400
PROVIDER_IDS: Final = {
    # OpenTelemetry `gen_ai.provider.name` -> the catalogue's provider id, where they differ
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "mistral_ai": "mistral",
    "x_ai": "x-ai",
}
_Found = TokenPrice | Any | None
"""A plain price, the package's price object (tiered), or None (not in the catalogue)."""


class PriceCatalogue:
    """Callable as `collector.engine.pricing.Catalogue`. Engine thread only."""

    def __init__(self) -> None:
        self._snapshot = get_snapshot()
        self._prices: dict[tuple[str, str, int], _Found] = {}

    def __call__(self, usage: AiUsage, moment_s: float) -> int | None:
        key = (usage.provider, usage.model, int(moment_s // SECONDS_PER_DAY))
        found = self._prices.get(key, self)
        if found is self:
            found = self._prices[key] = self._look_up(usage.provider, usage.model, key[2])
        if found is None:
            return None
        if isinstance(found, TokenPrice):
            read, write = usage.cache_read_tokens or 0, usage.cache_write_tokens or 0
            plain = found.cache_read >= 0 or not read
            if plain and (found.cache_write >= 0 or not write):
                return found.cost(usage)
            found = self._model_price(usage.provider, usage.model, key[2])
        total = found.calc_price(
            Usage(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_tokens or 0,
                cache_write_tokens=usage.cache_write_tokens or 0,
            )
        )["total_price"]
        return money_of_decimal(Decimal(total))

    def _model_price(self, provider: str, model: str, day: int) -> Any:
        provider_id = PROVIDER_IDS.get(provider, provider)
        try:
            _, info = self._snapshot.find_provider_model(model, None, provider_id, None)
        except LookupError:
            return None
        return info.get_prices(datetime.fromtimestamp(day * SECONDS_PER_DAY, tz=UTC))

    def _look_up(self, provider: str, model: str, day: int) -> _Found:
        price = self._model_price(provider, model, day)
        if price is None:
            return None
        values = price.__dict__
        plain = {name: values.get(f"{name}_mtok") for name in ("input", "output")}
        if not all(isinstance(value, Decimal) for value in plain.values()):
            return price  # tiered, or no per-token price: the package's calculation
        cached = {name: values.get(f"{name}_mtok") for name in ("cache_read", "cache_write")}
        if any(value is not None and not isinstance(value, Decimal) for value in cached.values()):
            return price
        # a cache price the catalogue does not give is marked -1: such tokens (rare) are
        # priced by the package, which knows how that provider bills them
        return TokenPrice(
            input=Fraction(plain["input"]),
            output=Fraction(plain["output"]),
            cache_read=Fraction(-1)
            if cached["cache_read"] is None
            else Fraction(cached["cache_read"]),
            cache_write=Fraction(-1)
            if cached["cache_write"] is None
            else Fraction(cached["cache_write"]),
        )
