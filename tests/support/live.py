"""Helpers for tests against running collectors: waiting, scraping, producing."""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from kafka import KafkaConsumer, KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from schemas.binding import KafkaRecord

T = TypeVar("T")
Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def wait_until(
    check: Callable[[], T | None], timeout_s: float = 60.0, interval_s: float = 0.2
) -> T:
    """Call `check` until it returns something truthy; fail with the last value."""
    deadline = time.monotonic() + timeout_s
    last = check()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s (last: {last!r})")
        time.sleep(interval_s)
        last = check()
    return last


def as_bytes(data: str | bytes) -> bytes:
    return data if isinstance(data, bytes) else data.encode()


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (OSError, http.client.HTTPException) as error:
        # a process killed mid-answer (IncompleteRead, RemoteDisconnected) is unreachable
        return 0, str(error)


def scrape(url: str) -> Series:
    status, text = http_get(url)
    assert status == 200, text
    return parse_series(text)


def parse_series(text: str) -> Series:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float | None:
    return series.get((name, frozenset(labels.items())))


def total(series: Series, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in series.items() if n == name and wanted <= ls)


def counted(metrics_url: str, expected: int) -> Callable[[], bool]:
    """For `wait_until`: the collector at `metrics_url` has counted `expected` events."""
    return lambda: total(scrape(metrics_url), "outcomes_collector_events_total") >= expected


def produce(bootstrap: str, topic: str, records: Iterable[KafkaRecord]) -> int:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    futures = [producer.send(topic, key=r.key, value=r.value, headers=r.headers) for r in records]
    producer.flush()
    for future in futures:
        future.get(timeout=30)
    producer.close()
    return len(futures)


def consume_all(bootstrap: str, topic: str, expected: int, timeout_s: float = 30.0) -> list[Any]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=1000,
    )
    messages: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(messages) < expected and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            messages.extend(batch)
    consumer.close()
    return messages
