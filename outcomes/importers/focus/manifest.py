"""The statements' manifest: per statement, every project an import ever sent it to.

It lives on the broker, beside the events, so that imports from any machine agree: the
topic `<events topic>.statements` (one partition, compacted), one record per statement
keyed by its name. An import reads it whole before sending (a few records per billing
account and month) and writes each statement's record before the statement's events, so
a project is listed before it can have cost in the statement.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable
from typing import Final

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from outcomes.importers.focus.statements import known_projects
from outcomes.sdk.delivery import KafkaSender
from schemas.binding import KafkaRecord

READ_TIMEOUT_S: Final = 30.0


class ManifestError(Exception):
    """The manifest could not be read or written: nothing is sent."""


def manifest_topic(topic: str) -> str:
    return f"{topic}.statements"


def ensure_topic(bootstrap_servers: str, topic: str) -> None:
    """Create the manifest topic (compacted; replicated up to 3 times) if it is missing."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers.split(","))
    except KafkaError as error:
        raise ManifestError(f"{topic}: {error}") from error
    try:
        if topic in admin.list_topics():
            return
        brokers = len(admin.describe_cluster().get("brokers", [])) or 1
        wanted = NewTopic(topic, 1, min(3, brokers), topic_configs={"cleanup.policy": "compact"})
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics([wanted])
    except KafkaError as error:
        raise ManifestError(f"creating {topic}: {error}") from error
    finally:
        admin.close()


def read_manifest(bootstrap_servers: str, topic: str) -> dict[str, set[str]]:
    """Statement -> the projects its records list (the latest record of each wins)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers.split(","), group_id=None, enable_auto_commit=False
    )
    try:
        deadline = time.monotonic() + READ_TIMEOUT_S
        partitions = None
        while partitions is None and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if partitions is None:
                time.sleep(0.2)
        if not partitions:
            raise ManifestError(f"{topic}: no partitions found")
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        ends = consumer.end_offsets(assigned)
        found: dict[str, set[str]] = {}
        while any(consumer.position(tp) < ends[tp] for tp in assigned):
            if time.monotonic() > deadline:
                raise ManifestError(f"{topic}: not read whole in {READ_TIMEOUT_S:.0f} s")
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.key is not None:
                        found[record.key.decode("utf-8", "replace")] = known_projects(record.value)
        return found
    except KafkaError as error:
        raise ManifestError(f"reading {topic}: {error}") from error
    finally:
        consumer.close()


def write_manifest(
    sender: KafkaSender, topic: str, statement: str, projects: Iterable[str], version: str
) -> None:
    value = {"statement": statement, "projects": sorted(set(projects)), "version": version}
    record = KafkaRecord(statement.encode(), [], json.dumps(value).encode())
    sender.send_batch(topic, [record])
