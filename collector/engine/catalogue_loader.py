"""The public price catalogue, loaded when it is first needed (collector.engine.catalogue
imports genai-prices, whose snapshot takes ~0.3 s to load)."""

from __future__ import annotations

from collector.engine.pricing import Catalogue


class CatalogueOnDemand:
    """The public price catalogue (collector.engine.catalogue) when `enabled`, built on
    the first call it must price: loading genai-prices' snapshot takes ~0.3 s, so a
    collector that sees no AI events never pays it."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._catalogue: Catalogue | None = None

    def __call__(self) -> Catalogue | None:
        if self._catalogue is None and self._enabled:
            from collector.engine.catalogue import PriceCatalogue  # noqa: PLC0415

            self._catalogue = PriceCatalogue()
        return self._catalogue
