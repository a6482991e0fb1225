"""Composition root of `outcomes collect`: wires settings, the embedded broker, the
declarations, the ingestion (one pipeline here, or worker processes each running one) and
the exporters (Prometheus `/metrics`, OTLP) into one running collector.

The only module of the service that imports both the collector core and the exporters.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import overload

from collector.config import Settings
from collector.declarations.registry import DeclarationRegistry
from collector.embedded import EmbeddedBroker
from collector.engine.engine import Clock, Engine
from collector.engine.formulas import exact
from collector.ingestion import Ingestion, Role, engine_settings
from collector.runtime import collector_version, engine_build, utc_now
from collector.state.open import open_store
from collector.state.store import StateStore
from collector.workers.pool import WorkerPool
from exporters.otlp import OtlpPusher
from exporters.otlp import factory as otlp_factory
from exporters.prometheus import MetricsServer, WebConfig
from schemas.snapshot import Readiness, Snapshot

log = logging.getLogger(__name__)


class LatestSnapshot:
    """The most recently published snapshot. Reference assignment is atomic, so the
    pipeline thread publishes and HTTP threads read without a lock."""

    def __init__(self) -> None:
        self._value: Snapshot | None = None
        self._source: Callable[[], Snapshot | None] | None = None

    def publish(self, snapshot: Snapshot) -> None:
        self._value = snapshot

    def follow(self, source: Callable[[], Snapshot | None]) -> None:
        """Take every snapshot from `source` from now on, built when read (a collector
        with workers merges theirs only when it is scraped or pushes)."""
        self._source = source

    def get(self) -> Snapshot | None:
        source = self._source
        return self._value if source is None else source()


class CollectorApp:
    """One collector: `start()` returns once the HTTP endpoint listens; ingestion runs on
    its own thread (which owns the Kafka consumer) until `stop()` — or, with `workers`
    above 1, in that many worker processes, each a full pipeline and a member of the
    consumer group (`collector.workers`), whose snapshots this process merges and serves."""

    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.latest = LatestSnapshot()
        self.broker: EmbeddedBroker | None = None
        self.bootstrap_servers = settings.bootstrap_servers
        self._stop = threading.Event()
        self.pool: WorkerPool | None = None
        self.ingestion: Ingestion | None = None
        host, port = settings.listen_address
        web_config = WebConfig.load(settings.web_config) if settings.web_config else None
        self.server = MetricsServer(self.exported, host, port, self._problems, web_config)
        self.declarations = DeclarationRegistry(
            settings.targets, exact(settings.default_hourly_rate)
        )
        self.otlp = build_pusher(settings, self.exported)
        self.engine = engine_build()
        """Its workers import the same modules, so they run the same build."""

    @property
    def failure(self) -> BaseException | None:
        return self.ingestion.failure if self.ingestion is not None else None

    @property
    def metrics_url(self) -> str:
        host = self.settings.listen_address[0]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"{self.server.scheme}://{shown}:{self.server.port}/metrics"

    def _problems(self) -> list[str]:
        if self.pool is not None:
            return self.pool.problems()
        if self.ingestion is not None:
            return self.ingestion.problems()
        return ["not started"]

    def exported(self) -> Snapshot | None:
        """The latest snapshot with the readiness of this moment (what /metrics and OTLP
        export: a pipeline stuck in a rebalance publishes nothing new meanwhile)."""
        snapshot = self.latest.get()
        if snapshot is None:
            return None
        source = self.pool or self.ingestion
        held, unheld_s = source.held() if source is not None else (0, 0.0)
        readiness = Readiness(not self._problems(), held, round(unheld_s, 3))
        health = replace(snapshot.health, readiness=readiness, engine=self.engine)
        return replace(snapshot, health=health)

    def start(self) -> None:
        if self.settings.embedded_broker:
            self.broker = EmbeddedBroker().start()
            self.broker.create_topics(
                {self.settings.topic: self.settings.partitions, self.settings.dead_letter_topic: 1}
            )
            self.bootstrap_servers = self.broker.bootstrap_servers
        self._reload_declarations()
        self.server.start()
        if self.otlp is not None:
            self.otlp.start()
        # the pipelines' settings: these, with the broker's address (embedded or given)
        settings = self.settings.model_copy(update={"bootstrap_servers": self.bootstrap_servers})
        if self.settings.workers > 1:
            pool = self.pool = WorkerPool(settings, embedded_broker=self.broker is not None)
            self.latest.follow(lambda: self._with_own_health(pool.snapshot()))  # built when read
            self._serve_stored(pool)
            pool.start()
        else:
            self.ingestion = Ingestion(
                settings,
                lambda: self.declarations.catalog,
                lambda snapshot: self.latest.publish(self._with_own_health(snapshot)),
                self.clock,
                Role(worker=False, embedded_broker=self.broker is not None),
            )
            self.ingestion.start()
        if self.settings.targets is not None:
            threading.Thread(target=self._watch_declarations, name="targets", daemon=True).start()
        log.info("collector serving %s (%s engine)", self.metrics_url, self.engine)

    def _serve_stored(self, pool: WorkerPool) -> None:
        """With workers and one SQLite file: load everything stored before they start, and
        serve it until they have joined (one pipeline preloads the same way). A store that
        does not open is left to the workers, which retry it and report why."""
        store: StateStore | None = None
        try:
            store = open_store(self.settings.state)
            if store.single_instance:  # shared state: each worker exports its partitions'
                state = store.load_all(seen=False)  # only deduplication needs those
                engine = Engine(
                    engine_settings(self.settings), self.clock, self.declarations.catalog
                )
                engine.restore(state)
                pool.serve_stored(engine.snapshot(), state.partitions)
        except Exception as error:  # noqa: BLE001 - the workers report it on /readyz
            log.warning("not serving the stored state before the workers join: %s", error)
        finally:
            if store is not None:
                store.close()

    def _reload_declarations(self) -> None:
        result = self.declarations.reload()
        if result.changed and self.ingestion is not None:
            self.ingestion.set_policy(result.catalog)

    def _watch_declarations(self) -> None:
        """Poll the declarations directory; a bad edit keeps the last good version."""
        while not self._stop.wait(self.settings.targets_poll_s):
            try:
                self._reload_declarations()
            except Exception:
                log.exception("reloading declarations failed")

    @overload
    def _with_own_health(self, snapshot: Snapshot) -> Snapshot: ...

    @overload
    def _with_own_health(self, snapshot: None) -> None: ...

    def _with_own_health(self, snapshot: Snapshot | None) -> Snapshot | None:
        """`snapshot` with this process's declaration files, reloads and OTLP pushes."""
        if snapshot is None:
            return None
        health = replace(
            snapshot.health,
            declaration_files=tuple(self.declarations.file_states()),
            declaration_reloads=tuple(sorted(self.declarations.reloads.items())),
            otlp_exports=tuple(sorted(self.otlp.results.items())) if self.otlp else (),
        )
        return replace(snapshot, health=health)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the current batch, commit, leave the group, close everything."""
        self._stop.set()
        if self.pool is not None:
            self.pool.stop(timeout_s)
        if self.ingestion is not None:
            self.ingestion.stop(timeout_s)
        self.server.shutdown()
        if self.otlp is not None:
            self.otlp.shutdown()  # one last push of the final state
        if self.broker is not None:
            self.broker.stop()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until ingestion stops; True if it has (workers run until `stop`: one
        that exits is started again)."""
        if self.pool is not None:
            return self.pool.wait(timeout_s)
        if self.ingestion is None:
            return True
        return self.ingestion.wait(timeout_s)


def build_pusher(settings: Settings, latest: Callable[[], Snapshot | None]) -> OtlpPusher | None:
    """The OTLP pusher when an endpoint is configured (flag, config or OTEL_* variables)."""
    if not otlp_factory.enabled(settings.otlp_endpoint):
        return None
    protocol = otlp_factory.protocol_of(settings.otlp_protocol)
    interval_s = (
        settings.otlp_interval_s
        or float(os.environ.get("OTEL_METRIC_EXPORT_INTERVAL", "30000")) / 1000
    )
    exporter = otlp_factory.build_exporter(settings.otlp_endpoint, protocol)
    resource = otlp_factory.resource(collector_version())
    log.info("pushing metrics over OTLP (%s) every %.0fs", protocol, interval_s)
    return OtlpPusher(latest, exporter, resource, interval_s=interval_s)
