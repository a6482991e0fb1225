from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from outcomes.sdk import Emitter, MemorySender
from schemas.events import AiUsage, IncidentOpened, IncidentResolved, RunFinished


@pytest.fixture
def sender() -> MemorySender:
    return MemorySender()


@pytest.fixture
def emitter(sender: MemorySender) -> Iterator[Emitter]:
    with Emitter("unused:9092", source="tests/sdk", sender=lambda: sender) as instance:
        yield instance


def runs(sender: MemorySender) -> list[RunFinished]:
    return [e.data for e in sender.events() if isinstance(e.data, RunFinished)]


def test_run_outcome_follows_the_block(emitter: Emitter, sender: MemorySender) -> None:
    with emitter.run("disk-cleanup", "sweep", manual_duration_s=600, cost=0.02) as run:
        run.human_effort_s += 30
    with pytest.raises(RuntimeError), emitter.run("disk-cleanup", "sweep", manual_duration_s=600):
        raise RuntimeError("disk busy")
    with emitter.run("disk-cleanup", "sweep", manual_duration_s=600) as run:
        run.cancel()
    with (
        pytest.raises(KeyboardInterrupt),
        emitter.run("disk-cleanup", "sweep", manual_duration_s=1),
    ):
        raise KeyboardInterrupt
    assert emitter.flush(5)
    got = runs(sender)
    assert [r.outcome for r in got] == ["succeeded", "failed", "cancelled", "cancelled"]
    assert (got[0].human_effort_s, got[0].cost, got[0].manual_duration_s) == (30, 0.02, 600)
    assert all(r.duration_s is not None and r.duration_s >= 0 for r in got)
    assert {e.source for e in sender.events()} == {"tests/sdk"}
    assert len({e.id for e in sender.events()}) == 4
    assert all(r.key == b"disk-cleanup" for r in sender.records)
    assert all(dict(r.headers)["content-type"] == b"application/json" for r in sender.records)


def test_decorator_counts_each_call(emitter: Emitter, sender: MemorySender) -> None:
    @emitter.track("ticket-triage", "classify", manual_duration_s=900)
    def classify(ticket: int) -> str:
        if ticket < 0:
            raise ValueError("no such ticket")
        return "network"

    assert classify(1) == "network"
    with pytest.raises(ValueError, match="no such ticket"):
        classify(-1)
    assert classify.__name__ == "classify"
    emitter.flush(5)
    assert [r.outcome for r in runs(sender)] == ["succeeded", "failed"]


def test_emitters_for_cost_savings_availability(emitter: Emitter, sender: MemorySender) -> None:
    end = datetime(2026, 11, 15, 12, tzinfo=UTC)
    emitter.cost("ticket-triage", 120.0, "licence", "LLM API")
    emitter.savings("ticket-triage", 300.0, "labour", basis="tickets auto-closed")
    emitter.availability("ticket-triage", "servicedesk-api", end - timedelta(minutes=5), end, 12.0)
    emitter.flush(5)
    kinds = [e.type.value for e in sender.events()]
    assert kinds == [
        "outcomes.cost.incurred",
        "outcomes.savings.realized",
        "outcomes.availability.observed",
    ]
    assert sender.events()[2].time == end


def test_invalid_values_raise_at_once_when_strict(sender: MemorySender) -> None:
    from pydantic import ValidationError

    with Emitter("unused:9092", source="t", sender=lambda: sender, strict=True) as strict:
        with pytest.raises(ValidationError, match="amount"):
            strict.cost("ticket-triage", 0.0, "licence")
        with pytest.raises(ValueError, match="naive"):
            strict.availability(
                "p", "api", datetime(2026, 11, 15, 10), datetime(2026, 11, 15, 11), 0.0
            )


def test_telemetry_problems_never_raise_into_the_automation(
    emitter: Emitter, sender: MemorySender, caplog: pytest.LogCaptureFixture
) -> None:
    """Bad values: refused, counted, logged once per kind of problem; the call returns."""
    for _ in range(3):
        assert emitter.cost("ticket-triage", 0.0, "licence") is None
    with emitter.run("ticket-triage", "classify", manual_duration_s=-1.0):
        pass  # the run's event is refused at the block's end, the block is not disturbed
    assert emitter.refused == 4
    refusals = [r for r in caplog.records if "not sent" in r.getMessage()]
    assert len(refusals) == 2  # one per kind of problem, not one per event
    emitter.flush(5)
    assert sender.events() == []


def test_a_long_window_is_split_and_naive_times_are_utc(
    emitter: Emitter, sender: MemorySender, caplog: pytest.LogCaptureFixture
) -> None:
    start = datetime(2026, 11, 15, 9, 30)  # naive: taken as UTC, with a warning
    sent = emitter.availability(
        "ticket-triage", "api", start, start + timedelta(hours=2, minutes=30), 900.0
    )
    emitter.flush(5)
    windows = [e.data for e in sender.events()]
    assert [e.id for e in sent] == [e.id for e in sender.events()]
    assert [(w.window_start.hour, w.window_start.minute, w.window_length_s) for w in windows] == [  # type: ignore[union-attr]
        (9, 30, 3600.0), (10, 30, 3600.0), (11, 30, 1800.0),
    ]  # fmt: skip
    assert [w.downtime_s for w in windows] == [360.0, 360.0, 180.0]  # type: ignore[union-attr]
    assert windows[0].window_start.tzinfo is not None  # type: ignore[union-attr]
    assert any("taken as UTC" in r.getMessage() for r in caplog.records)


def test_delivery_is_retried_until_the_broker_answers() -> None:
    sender = MemorySender(failures=2)
    emitter = Emitter("x:1", source="s", sender=lambda: sender)
    emitter.cost("p", 1.0, "other")
    assert emitter.close(timeout_s=10)
    assert (len(sender.records), emitter.delivered, emitter.dropped) == (1, 1, 0)


def test_a_full_buffer_drops_and_counts_but_never_blocks(caplog: pytest.LogCaptureFixture) -> None:
    sender = MemorySender()
    sender.gate.clear()  # the broker hangs
    emitter = Emitter("x:1", source="s", sender=lambda: sender, buffer_events=3)
    results = [emitter.cost("p", 1.0, "other") for _ in range(5)]
    assert len(results) == 5
    assert emitter.dropped == 2
    assert "outcome event dropped: buffer of 3 full" in caplog.text
    assert not emitter.flush(timeout_s=0.2)
    sender.gate.set()
    assert emitter.close(timeout_s=5)
    assert len(sender.records) == 3


def test_an_incident_opens_with_the_block_and_resolves_at_its_end(
    emitter: Emitter, sender: MemorySender
) -> None:
    with emitter.incident("checkout", "api", "deploy-42", title="rollback", severity="high") as it:
        it.resolved_by = "automation"
    emitter.incident_resolved(
        "checkout", "api", "PD-7", started_at=datetime(2026, 11, 15, tzinfo=UTC)
    )
    emitter.flush(5)
    opened, resolved, other = sender.events()
    assert isinstance(opened.data, IncidentOpened) and isinstance(resolved.data, IncidentResolved)
    assert (opened.data.incident, opened.data.title, opened.data.severity) == (
        "deploy-42",
        "rollback",
        "high",
    )
    assert (resolved.data.started_at, resolved.data.resolved_by) == (opened.time, "automation")
    assert resolved.time >= opened.time
    assert isinstance(other.data, IncidentResolved) and other.data.resolved_by is None


def test_a_model_call_is_one_ai_usage_event(emitter: Emitter, sender: MemorySender) -> None:
    end = datetime(2026, 11, 15, 12, tzinfo=UTC)
    emitter.ai_usage(
        "ticket-triage", "triage-agent", provider="openai", model="gpt-4o-mini-2024-07-18",
        input_tokens=1200, output_tokens=90, cache_read_tokens=1000, time=end,
    )  # fmt: skip
    emitter.ai_usage("ticket-triage", "triage-agent", provider="openai", model="m",
                     input_tokens=5, output_tokens=2.5)  # type: ignore[arg-type]  # fmt: skip
    emitter.flush(5)
    (event,) = sender.events()
    assert (event.type.value, event.time) == ("outcomes.ai.usage", end)
    assert isinstance(event.data, AiUsage)
    assert event.data.model_dump(exclude_none=True) == {
        "project": "ticket-triage", "automation": "triage-agent", "provider": "openai",
        "model": "gpt-4o-mini-2024-07-18", "operation": "chat", "input_tokens": 1200,
        "output_tokens": 90, "cache_read_tokens": 1000,
    }  # fmt: skip
    assert emitter.refused == 1  # half a token is refused, logged, never raised
