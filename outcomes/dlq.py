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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

from collector.declarations.registry import DeclarationRegistry
from collector.integrations.deliver import receive
from collector.integrations.model import Accepted, Ignored, MalformedError
from outcomes.sdk.delivery import KafkaSender
from schemas.binding import KafkaRecord, to_binary

OURS = ("outcomes_", "http_")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    partition: int
    offset: int
    time: datetime
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    def header(self, name: str) -> str | None:
        found = next((raw for key, raw in self.headers if key == name), None)
        return None if found is None else found.decode("utf-8", "replace")

    @property
    def reason(self) -> str:
        return self.header("outcomes_error_reason") or "?"

    @property
    def integration(self) -> str | None:
        return self.header("outcomes_integration")

    def original(self) -> KafkaRecord:
        """The record as its producer sent it (our headers removed)."""
        kept = [(k, v) for k, v in self.headers if not k.startswith(OURS)]
        return KafkaRecord(self.key or b"", kept, self.value or b"")

    def http_headers(self) -> dict[str, str]:
        return {k[len("http_") :]: v.decode("utf-8", "replace") for k, v in self.headers
                if k.startswith("http_")}  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {
            "partition": self.partition, "offset": self.offset, "time": self.time.isoformat(),
            "reason": self.reason, "detail": self.header("outcomes_error_detail"),
            "integration": self.integration,
            "group": self.header("outcomes_consumer_group"),
            "original": {"topic": self.header("outcomes_original_topic"),
                         "partition": self.header("outcomes_original_partition"),
                         "offset": self.header("outcomes_original_offset")},
            "key": (self.key or b"").decode("utf-8", "replace"),
        }  # fmt: skip


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
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{args.topic}.dlq: {len(letters)} dead letters")
    for column in ("time", "where", "reason", "from", "detail"):
        table.add_column(column, overflow="fold")
    for letter in letters:
        detail = (letter.header("outcomes_error_detail") or "")[:200]
        when = letter.time.strftime("%Y-%m-%d %H:%M:%S")
        where = f"{letter.partition}:{letter.offset}"
        origin = letter.integration or letter.header("outcomes_consumer_group") or ""
        table.add_row(when, where, letter.reason, origin, detail)
    Console().print(table)
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
            sender.send_batch(
                letter.header("outcomes_original_topic") or args.topic, [letter.original()]
            )
        return "replayed"
    integration = catalog.integrations.get(name) if catalog is not None else None
    if integration is None:
        print(f"{letter.partition}:{letter.offset}: integration {name!r} is not declared"
              " (give --targets)", file=sys.stderr)  # fmt: skip
        return "unmapped"
    try:
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


def since_arg(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_parser(commands: Any) -> None:
    dlq = commands.add_parser("dlq", help="read or replay the dead-letter topic")
    verbs = dlq.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, text in (("tail", "list dead letters"), ("replay", "replay dead letters once")):
        parser = verbs.add_parser(verb, help=text, description=__doc__)
        parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
        parser.add_argument(
            "--topic", default="outcomes.events", help="events topic (DLQ: TOPIC.dlq)"
        )
        parser.add_argument("--reason", help="only this reason (unmapped, too_late, invalid, …)")
        parser.add_argument("--since", type=since_arg, help="only letters written since (RFC 3339)")
        parser.add_argument(
            "--group", help="only letters a collector of this consumer group refused"
        )
        if verb == "tail":
            parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")
            parser.add_argument("--limit", type=int, default=100, help="the newest N (default 100)")
        else:
            parser.add_argument("--targets", type=Path, help="declarations (for webhook letters)")
            parser.add_argument("--dry-run", action="store_true", help="report, send nothing")


def main(args: Any) -> int:
    return tail(args) if args.verb == "tail" else replay(args)
