"""Model calls priced and counted by the engine: provider cost, price books (dated, first
match), the genai-prices catalogue, unpriced calls; AI cost inside the project's cost;
money exact to a billionth and state from before billionths read as the same amounts."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from genai_prices import Usage, calc_price

from collector.declarations.registry import DeclarationRegistry
from collector.engine.catalogue import PriceCatalogue
from collector.engine.engine import Engine
from collector.engine.settings import EngineSettings
from collector.engine.units import money_of_decimal
from collector.state.model import PeriodRow, ProjectRow, StateChanges
from collector.state.schema import SCHEMA_VERSION
from collector.state.sqlite import SqliteStore
from schemas.events import AiUsage, EventType
from schemas.snapshot import ProjectSnapshot
from tests.support.engines import FixedClock, feed, new_engine
from tests.support.events import NOW, make_event

BOOK = """\
apiVersion: outcomes/v1
kind: PriceBook
metadata: {name: negotiated}
spec:
  prices:
    - {provider: openai, model: "gpt-4o-mini*", since: 2026-11-10, input: 0.10, output: 0.40}
    - {provider: openai, model: "gpt-4o-mini*", input: 0.15, output: 0.60, cacheRead: 0.075}
    - {provider: "*", model: "in-house-*", input: 1, output: 2}
"""


def usage(**data: Any) -> Any:
    return make_event(EventType.AI_USAGE, **data)


def project(engine: Engine, name: str = "ticket-triage") -> ProjectSnapshot:
    return next(p for p in engine.snapshot().projects if p.name == name)


def with_book(tmp_path: Path, text: str = BOOK, **settings: Any) -> Engine:
    (tmp_path / "prices.yaml").write_text(text)
    registry = DeclarationRegistry(tmp_path)
    result = registry.reload()
    assert result.errors == ()
    return Engine(EngineSettings(**settings), FixedClock(), result.catalog)


def test_a_call_costs_a_fraction_of_a_micro_unit_exactly(tmp_path: Path) -> None:
    engine = with_book(tmp_path)
    # 42 × 0.15 + 17 × 0.60 per 1M tokens = 0.0000165: kept to six decimals it would be
    # 0.000017 (+3 %); a thousand calls must sum to exactly 0.0165
    feed(engine, [usage(time=NOW.replace(day=2)) for _ in range(1000)])
    snap = project(engine)
    assert snap.counters.ai_cost == (("openai", "gpt-4o-mini-2024-07-18", "price_book", 0.0165),)
    assert snap.counters.cost == (("ai", 0.0165),)
    assert snap.counters.ai_calls == (("openai", "gpt-4o-mini-2024-07-18", 1000),)
    assert dict(((t, n) for _, _, _, t, n in snap.counters.ai_tokens)) == {
        "input": 42_000,
        "output": 17_000,
    }


def test_dated_versions_first_match_and_cached_tokens(tmp_path: Path) -> None:
    engine = with_book(tmp_path)
    before, after = NOW.replace(day=9), NOW.replace(day=10)
    feed(
        engine,
        [
            usage(time=before, input_tokens=1_000_000, output_tokens=0, cache_read_tokens=400_000),
            usage(time=after, input_tokens=1_000_000, output_tokens=1_000_000),
            usage(model="in-house-7b", provider="vllm", input_tokens=1_000_000, output_tokens=0),
        ],
    )
    costs = {model: cost for _, model, _, cost in project(engine).counters.ai_cost}
    # before Nov 10: 600k × 0.15 + 400k × 0.075 per 1M; from Nov 10: 0.10 + 0.40
    assert costs["gpt-4o-mini-2024-07-18"] == pytest.approx(0.09 + 0.03 + 0.10 + 0.40, abs=1e-12)
    assert costs["in-house-7b"] == 1.0


def test_the_providers_cost_wins_and_another_currency_is_refused(tmp_path: Path) -> None:
    engine = with_book(tmp_path)
    assert feed(engine, [usage(cost=0.25), usage(cost=0.25, currency="EUR")]) == [
        "accepted",
        "currency",
    ]
    snap = project(engine)
    assert snap.counters.ai_cost == (("openai", "gpt-4o-mini-2024-07-18", "provider", 0.25),)


def test_unpriced_calls_count_their_tokens_and_no_cost() -> None:
    engine = new_engine()
    feed(engine, [usage(provider="vllm", model="in-house-7b"), usage(provider="x", model="y")])
    snap = project(engine)
    assert snap.counters.ai_unpriced == (("vllm", "in-house-7b", 1), ("x", "y", 1))
    assert snap.counters.ai_cost == ()
    assert snap.counters.cost == ()
    assert snap.period.ai_calls == 2
    assert snap.period.ai_unpriced_calls == 2
    assert snap.period.ai_cost == 0.0


def test_the_catalogue_prices_usd_and_nothing_else() -> None:
    engine = new_engine()
    feed(engine, [usage()])
    expected = calc_price(
        Usage(input_tokens=42, output_tokens=17),
        model_ref="gpt-4o-mini-2024-07-18",
        provider_id="openai",
        genai_request_timestamp=NOW,
    ).total_price
    assert project(engine).counters.ai_cost == (
        ("openai", "gpt-4o-mini-2024-07-18", "catalogue", float(expected)),
    )
    euros = new_engine(currency="EUR")
    feed(euros, [usage()])
    assert project(euros).counters.ai_unpriced == (("openai", "gpt-4o-mini-2024-07-18", 1),)


@pytest.mark.parametrize(
    ("provider", "model", "tokens"),
    [
        ("openai", "gpt-4o-mini-2024-07-18", (1234, 567, 200, 0)),
        ("openai", "gpt-4o", (1_000_000, 10, 0, 0)),
        ("anthropic", "claude-3-5-haiku-20241022", (5000, 700, 1000, 2000)),
        ("aws.bedrock", "anthropic.claude-3-haiku-20240307-v1:0", (900, 90, 0, 0)),
        ("gcp.vertex_ai", "gemini-1.5-pro", (300_000, 1000, 0, 0)),
    ],
)
def test_the_catalogue_agrees_with_the_package(
    provider: str, model: str, tokens: tuple[int, int, int, int]
) -> None:
    """Our cached per-token path gives the package's own calculation to the billionth."""
    inputs, outputs, read, write = tokens
    call = AiUsage(
        project="p",
        automation="a",
        provider=provider,
        model=model,
        operation="chat",
        input_tokens=inputs,
        output_tokens=outputs,
        cache_read_tokens=read,
        cache_write_tokens=write,
    )
    moment = datetime(2026, 11, 2, tzinfo=UTC)
    ours = PriceCatalogue()(call, moment.timestamp())
    package = calc_price(
        Usage(
            input_tokens=inputs,
            output_tokens=outputs,
            cache_read_tokens=read,
            cache_write_tokens=write,
        ),
        model_ref=model,
        provider_id={"aws.bedrock": "aws", "gcp.vertex_ai": "google"}.get(provider, provider),
        genai_request_timestamp=moment,
    ).total_price
    assert ours == money_of_decimal(Decimal(package))


def test_models_beyond_the_limit_fold_into_other() -> None:
    engine = new_engine(max_models_per_project=2)
    feed(engine, [usage(model=f"m{i}", provider="vllm") for i in range(4)])
    calls = project(engine).counters.ai_calls
    assert calls == (("vllm", "m0", 1), ("vllm", "m1", 1), ("vllm", "other", 2))


def test_ai_cost_is_part_of_the_projects_cost_and_cost_per_success(tmp_path: Path) -> None:
    engine = with_book(tmp_path)
    feed(
        engine,
        [
            usage(input_tokens=1_000_000, output_tokens=1_000_000, time=NOW.replace(day=12)),
            make_event(cost=0.5),
            make_event(cost=0.0),
            make_event(outcome="failed", cost=0.0),
        ],
    )
    period = project(engine).period
    assert period.ai_cost == 0.5
    assert period.cost == 1.0
    assert period.cost_per_success == 0.5


def test_usage_round_trips_through_the_store(tmp_path: Path) -> None:
    engine = with_book(tmp_path)
    feed(engine, [usage(), usage(provider="vllm", model="m"), usage(cost=0.001)])
    before = project(engine)
    store = SqliteStore(tmp_path / "state.db")
    store.commit(engine.take_changes(), {}, {})
    restored = Engine(EngineSettings(), FixedClock(), engine.policy)
    restored.restore(store.load_all())
    after = project(restored)
    assert after.counters == before.counters
    assert after.period == before.period


def test_state_from_before_billionths_reads_the_same_amounts(tmp_path: Path) -> None:
    """A version-3 state (money in millionths, `cost_u`) is read as the same numbers and
    stays so when written back."""
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    month = "2026-11"
    counters = {
        "runs": [["classify", "succeeded", 2]],
        "manual_avoided_us": 1_800_000_000,
        "human_effort_us": 0,
        "cost_u": {"run": 1_250_000, "licence": 100_000_000},
        "credit_u": {"licence": 20_000_000},
        "savings_u": {"cloud": 250_000_001},
        "downtime_us": {},
        "observed_us": {},
        "saved_by_day_us": {},
        "first_event_s": NOW.timestamp(),
        "last_event_s": NOW.timestamp(),
    }
    start = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    totals = {
        "runs": {"succeeded": 2},
        "manual_succeeded_us": 1_800_000_000,
        "human_effort_us": 0,
        "runs_with_effort": 0,
        "cost_u": {"run": 1_250_000, "licence": 100_000_000},
        "savings_u": {"cloud": 250_000_001},
        "downtime_us": {},
        "observed_us": {},
    }
    end = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    store.commit(
        StateChanges(
            projects=(ProjectRow("ticket-triage", 0, counters),),
            periods=(PeriodRow("ticket-triage", month, "month", start, end, totals),),
        ),
        {},
        {},
    )
    store.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    db.commit()
    db.close()

    def load() -> ProjectSnapshot:
        engine = new_engine()
        reopened = SqliteStore(path)
        engine.restore(reopened.load_all())
        reopened.close()
        return project(engine)

    old = load()
    assert old.counters.runs == (("classify", "succeeded", 2),)  # rows, as written then
    assert old.counters.cost == (("licence", 100.0), ("run", 1.25))
    assert old.counters.credits == (("licence", 20.0),)
    assert old.counters.savings == (("cloud", 250.000001),)
    assert old.period.cost == 101.25
    assert old.period.savings == 250.000001
    version = sqlite3.connect(path).execute("SELECT value FROM meta WHERE key='schema_version'")
    assert version.fetchone()[0] == str(SCHEMA_VERSION)
    # a new event rewrites the rows in billionths: the old amounts are unchanged
    engine = new_engine()
    store = SqliteStore(path)
    engine.restore(store.load_all())
    feed(engine, [make_event(cost=0.000000001)])
    store.commit(engine.take_changes(), {}, {})
    store.close()
    assert load().counters.cost == (("licence", 100.0), ("run", 1.250000001))
    assert load().counters.runs == (("classify", "succeeded", 3),)


def test_a_dated_snapshot_is_priced_by_its_models_entry(tmp_path: Path) -> None:
    book = BOOK.replace('model: "in-house-*"', "model: claude-3-5-haiku")
    engine = with_book(tmp_path, book)
    feed(
        engine,
        [
            usage(provider="anthropic", model="claude-3-5-haiku-20241022",
                  input_tokens=1_000_000, output_tokens=0),
            usage(provider="anthropic", model="claude-3-5-haiku-latest",
                  input_tokens=1_000_000, output_tokens=0),
        ],
    )  # fmt: skip
    costs = {(m, src): c for _, m, src, c in project(engine).counters.ai_cost}
    assert costs[("claude-3-5-haiku-20241022", "price_book")] == 1.0
    assert ("claude-3-5-haiku-latest", "price_book") not in costs
