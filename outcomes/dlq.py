"""`outcomes dlq tail|replay`: read the dead-letter topic; replay its letters once.

`tail` lists dead letters (newest last) as a table or JSON lines, filtered by reason and
time. `replay` sends each matching letter through the same path again: a webhook delivery
(header `outcomes_integration`) through its integration's current rules, and a record the
collector rejected back to its original topic unchanged (the collector validates it
again). Offsets are committed in a consumer group per reason, so a letter is replayed once.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from rich.console import Console
from rich.table import Table

from collector.declarations.registry import DeclarationRegistry
from collector.integrations.deliver import receive
from collector.integrations.model import Accepted, Ignored, MalformedError
from collector.integrations.otlp import receive_otlp
from outcomes.sdk.delivery import KafkaSender
from schemas.binding import to_binary
from schemas.dead_letter import ORIGINAL_TOPIC, DeadLetter


def read(consumer: KafkaConsumer, topic: str, timeout_s: float = 10.0) -> Iterator[DeadLetter]:
    """Every letter from the consumer's position to the end offsets found at the start."""
    partitions = [
        TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
    ]
    if not partitions:
        return
    consumer.assign(partitions)
    ends = consumer.end_offsets(partitions)
    grouped = consumer.config.get("group_id") is not None
    for tp in partitions:  # a group's committed offset, else the beginning
        committed = consumer.committed(tp) if grouped else None
        if committed is None:
            consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, committed)
    while any(consumer.position(tp) < ends[tp] for tp in partitions):
        batches = consumer.poll(timeout_ms=int(timeout_s * 1000))
        if not batches:
            break
        for records in batches.values():
            for record in records:
                if record.offset < ends[TopicPartition(topic, record.partition)]:
                    yield DeadLetter(
                        record.partition, record.offset,
                        datetime.fromtimestamp(record.timestamp / 1000, UTC),
                        record.key, record.value, list(record.headers or []),
                    )  # fmt: skip


def matches(
    letter: DeadLetter, reason: str | None, since: datetime | None, group: str | None = None
) -> bool:
    """`group`: only letters a collector of this consumer group wrote."""
    return (
        (reason is None or letter.reason == reason)
        and (since is None or letter.time >= since)
        and (group is None or letter.header("outcomes_consumer_group") == group)
    )


def tail(args: Any) -> int:
    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap_servers, enable_auto_commit=False)
    try:
        letters = [
            letter for letter in read(consumer, f"{args.topic}.dlq")
            if matches(letter, args.reason, args.since, args.group)
        ][-args.limit :]  # fmt: skip
    finally:
        consumer.close()
    if args.json:
        for letter in letters:
            print(json.dumps(letter.as_json()))
        return 0

    table = Table(title=f"{args.topic}.dlq: {len(letters)} dead letters")
    columns = ("time", "where", "reason", "project", "type", "id", "source", "from", "detail")
    for column in columns:
        table.add_column(column, overflow="fold")
    for letter in letters:
        detail = (letter.header("outcomes_error_detail") or "")[:200]
        when = letter.time.strftime("%Y-%m-%d %H:%M:%S")
        where = f"{letter.partition}:{letter.offset}"
        origin = letter.integration or letter.header("outcomes_consumer_group") or ""
        named = letter.identity()
        kind = (named["type"] or "?").removeprefix("outcomes.")
        table.add_row(when, where, letter.reason, named["project"] or "?", kind,
                      named["id"] or "?", named["source"] or "?", origin, detail)  # fmt: skip
    # in a pipe, lines are not cut to a terminal's width
    console = Console() if sys.stdout.isatty() else Console(width=400, soft_wrap=True)
    console.print(table)
    return 0


def replay(args: Any) -> int:
    """Replay matching letters once; exit 1 when some are still not mapped."""
    catalog = DeclarationRegistry(args.targets).reload().catalog if args.targets else None
    group = f"outcomes-dlq-replay-{args.reason or 'all'}"
    consumer = KafkaConsumer(
        bootstrap_servers=args.bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    sender = None if args.dry_run else KafkaSender(args.bootstrap_servers)
    counts: Counter[str] = Counter()
    done: dict[TopicPartition, int] = {}
    try:
        for letter in read(consumer, f"{args.topic}.dlq"):
            if matches(letter, args.reason, args.since, args.group):
                counts[_replay_one(letter, args, catalog, sender)] += 1
            done[TopicPartition(f"{args.topic}.dlq", letter.partition)] = letter.offset + 1
        if sender is not None and done:
            consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in done.items()})
    finally:
        consumer.close()
        if sender is not None:
            sender.close()
    verb = "would replay" if args.dry_run else "replayed"
    print(f"{verb} {counts['replayed']}; still unmapped or invalid {counts['unmapped']};"
          f" ignored {counts['ignored']} (group {group})")  # fmt: skip
    return 1 if counts["unmapped"] else 0


def _replay_one(letter: DeadLetter, args: Any, catalog: Any, sender: KafkaSender | None) -> str:
    name = letter.integration
    if name is None:  # a record the collector rejected: back to its topic, validated again
        if sender is not None:
            sender.send_batch(letter.header(ORIGINAL_TOPIC) or args.topic, [letter.original()])
        return "replayed"
    integration = catalog.integrations.get(name) if catalog is not None else None
    if integration is None:
        print(f"{letter.partition}:{letter.offset}: integration {name!r} is not declared"
              " (give --targets)", file=sys.stderr)  # fmt: skip
        return "unmapped"
    try:
        if integration.spec.type == "otlp":
            result = receive_otlp(integration, letter.value or b"", args.currency)
        else:
            result = receive(integration, letter.http_headers(), letter.value or b"")
    except MalformedError as error:
        print(f"{letter.partition}:{letter.offset}: {error}", file=sys.stderr)
        return "unmapped"
    if isinstance(result, Ignored):
        return "ignored"
    if not isinstance(result, Accepted):
        print(f"{letter.partition}:{letter.offset}: {result.detail}", file=sys.stderr)
        return "unmapped"
    if sender is not None:
        sender.send_batch(args.topic, [to_binary(event) for event in result.events])
    return "replayed"
