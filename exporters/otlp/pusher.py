"""Pushes the latest snapshot to an OTLP endpoint on its own thread.

Never touches ingestion: it only reads immutable snapshots. A failed push (endpoint
down, slow, 5xx) is retried at the next interval, backing off up to `max_backoff_s`; the
OTLP exporter itself retries retryable responses within its timeout. An outage is logged
once when it begins and once when it ends (the exporter's own per-attempt warnings are
silenced); a collector shutting down during an outage does not try again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult
from opentelemetry.sdk.resources import Resource

from exporters.otlp.translate import metrics_data
from schemas.snapshot import Snapshot

log = logging.getLogger(__name__)


class OtlpPusher:
    def __init__(
        self,
        latest: Callable[[], Snapshot | None],
        exporter: MetricExporter,
        resource: Resource,
        *,
        interval_s: float = 30.0,
        timeout_s: float = 10.0,
        max_backoff_s: float = 300.0,
    ) -> None:
        self._latest = latest
        self._exporter = exporter
        self._resource = resource
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._max_backoff_s = max_backoff_s
        self.results: Counter[str] = Counter()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._flushed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="otlp-push", daemon=True)
        self._down = False
        # the SDK exporters log each failed attempt and retry; the outage is said here once
        logging.getLogger("opentelemetry.exporter.otlp").setLevel(logging.ERROR)

    def start(self) -> None:
        self._thread.start()

    def push_once(self) -> bool:
        """Export the latest snapshot now; True on success."""
        snapshot = self._latest()
        if snapshot is None:
            return True
        data = metrics_data(snapshot, self._resource, time.time_ns())
        reason = "the endpoint refused or did not answer"
        try:
            result = self._exporter.export(data, timeout_millis=self._timeout_s * 1000)
        except Exception as error:  # noqa: BLE001 - an exporter failure must never spread
            reason = str(error) or type(error).__name__
            result = MetricExportResult.FAILURE
        ok = result is MetricExportResult.SUCCESS
        self.results["success" if ok else "failure"] += 1
        if ok and self._down:
            log.info("OTLP endpoint reachable again: metrics pushed")
        elif not ok and not self._down:
            log.warning(
                "OTLP export failed (%s); retrying every %.0f s, backing off up to %.0f s,"
                " until it answers (said once per outage)",
                reason, self._interval_s, self._max_backoff_s,
            )  # fmt: skip
        self._down = not ok
        return ok

    def force_flush(self, timeout_s: float = 30.0) -> bool:
        """Push now (from the pusher's thread) and wait for the attempt to finish."""
        with self._flushed:
            before = sum(self.results.values())
            self._wake.set()
            return self._flushed.wait_for(lambda: sum(self.results.values()) > before, timeout_s)

    def shutdown(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(self._timeout_s + 5)
        self._exporter.shutdown()

    def _run(self) -> None:
        delay_s = self._interval_s
        while True:
            self._wake.wait(delay_s)
            self._wake.clear()
            if self._stop.is_set() and self._down:
                return  # shutting down during an outage: no last attempt
            ok = self.push_once()
            with self._flushed:
                self._flushed.notify_all()
            if self._stop.is_set():
                return
            if ok:
                delay_s = self._interval_s
            else:
                delay_s = min(self._max_backoff_s, max(delay_s, self._interval_s) * 2)
