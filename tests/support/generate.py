"""Random but valid outcome events (as structured CloudEvent dicts) for live tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from collector.engine.periods import PeriodKind, period_containing
from schemas.binding import KafkaRecord, format_time, to_binary, to_structured
from schemas.envelope import parse_event

PROJECTS = ("ticket-triage", "patch-rollout", "cost-optimizer", "disk-cleanup", "failover-bot")


def recent_time(rng: random.Random) -> datetime:
    """A moment in the last 10 minutes, but never before the current month began."""
    now = datetime.now(UTC)
    start = period_containing(now, PeriodKind.MONTH).start
    return max(start, now - timedelta(seconds=rng.uniform(1, 600)))


def random_document(rng: random.Random, index: int) -> dict[str, Any]:
    project = rng.choice(PROJECTS)
    moment = recent_time(rng)
    kind = rng.random()
    data: dict[str, Any]
    if kind < 0.6:
        data = {
            "project": project,
            "automation": rng.choice(("fix", "check", "notify")),
            "outcome": rng.choice(("succeeded", "succeeded", "succeeded", "failed", "cancelled")),
            "duration_s": round(rng.uniform(0, 900), 3),
            "manual_duration_s": round(rng.uniform(0, 7200), 3),
            "human_effort_s": rng.choice((0.0, round(rng.uniform(0, 600), 3))),
            "cost": round(rng.uniform(0, 5), 4),
        }
        event_type = "outcomes.run.finished"
    elif kind < 0.7:
        data = {
            "project": project,
            "amount": round(rng.uniform(0.01, 900), 2),
            "category": "compute",
        }
        event_type = "outcomes.cost.incurred"
    elif kind < 0.8:
        data = {
            "project": project,
            "amount": round(rng.uniform(0.01, 900), 2),
            "category": rng.choice(("cloud", "labour")),
            "basis": "test",
        }
        event_type = "outcomes.savings.realized"
    elif kind < 0.85:
        # self-contained incidents: left open, resolved with their start, or resolved with
        # the start unknown (pending): each state must survive a crash as it was
        shape = rng.choice(("open", "resolved", "pending"))
        data = {
            "project": project,
            "service": rng.choice(("api", "db")),
            "incident": f"inc-{index}",
        }
        if shape == "resolved":
            data["started_at"] = format_time(moment - timedelta(seconds=rng.randint(1, 300)))
        event_type = "outcomes.incident.opened" if shape == "open" else "outcomes.incident.resolved"
    else:
        length = timedelta(seconds=rng.randint(60, 3600))
        data = {
            "project": project,
            "service": rng.choice(("api", "db")),
            "window_start": format_time(moment - length),
            "window_end": format_time(moment),
            "downtime_s": rng.choice((0.0, round(rng.uniform(0, length.total_seconds()), 3))),
        }
        event_type = "outcomes.availability.observed"
    return {
        "specversion": "1.0",
        "id": f"evt-{index}",
        "source": f"tests/{rng.choice(('a', 'b'))}",
        "type": event_type,
        "time": format_time(moment),
        "data": data,
    }


def to_record(document: dict[str, Any], rng: random.Random) -> KafkaRecord:
    attributes = {k: v for k, v in document.items() if k != "data"}
    event = parse_event(attributes, document["data"])
    return to_binary(event) if rng.random() < 0.5 else to_structured(event)


def mixed_stream(
    seed: int, distinct: int, duplicates: int, malformed: int
) -> tuple[list[dict[str, Any]], list[KafkaRecord]]:
    """`distinct` random events (half binary, half structured), `duplicates` copies of
    some of them and `malformed` broken records, shuffled; with the events' documents
    (what the expected totals are computed from)."""
    documents, pairs = mixed_pairs(seed, distinct, duplicates, malformed)
    return documents, [record for record, _ in pairs]


def mixed_pairs(
    seed: int, distinct: int, duplicates: int, malformed: int
) -> tuple[list[dict[str, Any]], list[tuple[KafkaRecord, dict[str, Any] | None]]]:
    """`mixed_stream` with each record's document (None for a broken one), so that what
    any prefix of the stream implies can be computed."""
    rng = random.Random(seed)
    documents = [random_document(rng, i) for i in range(distinct)]
    pairs: list[tuple[KafkaRecord, dict[str, Any] | None]] = [
        (to_record(d, rng), d) for d in documents
    ]
    pairs += [(to_record(d, rng), d) for d in rng.sample(documents, duplicates)]
    pairs += [
        (KafkaRecord(b"ticket-triage", [], b"{broken %d" % i), None) for i in range(malformed)
    ]
    rng.shuffle(pairs)
    return documents, pairs
