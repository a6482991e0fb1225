"""Composition root: wires settings, broker, store, engine, source, dead letters,
pipeline and the Prometheus exporter into one running collector.

The only module (with the CLI and the demo) allowed to import both the collector
core and the exporters.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, TypeVar, overload

from collector.config import Settings
from collector.declarations.registry import DeclarationRegistry
from collector.embedded import EmbeddedBroker
from collector.engine.engine import Clock, Engine, EngineSettings
from collector.engine.formulas import exact
from collector.integrations.deliver import receive_cdevent
from collector.integrations.model import Translation
from collector.pipeline import Pipeline, PipelineSettings, PipelineStatus
from collector.runtime import collector_version, utc_now
from collector.source.dead_letters import DeadLetterProducer
from collector.source.diagnosis import explain
from collector.source.kafka import ConsumerSettings
from collector.source.open import FetchingSource, open_source
from collector.source.process import ProcessSource
from collector.source.records import SourceRecord
from collector.state.open import open_store
from collector.state.store import StateStore
from collector.workers.pool import WorkerPool
from exporters.otlp import OtlpPusher
from exporters.otlp import factory as otlp_factory
from exporters.prometheus import MetricsServer, WebConfig
from schemas.snapshot import HealthSnapshot, Snapshot

log = logging.getLogger(__name__)
T = TypeVar("T")


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


class WorkerRole(Protocol):
    """A `CollectorApp` that runs as one worker of a collector (`--workers N`,
    `collector.workers`): the collector serves HTTP, pushes OTLP and runs the embedded
    broker; the worker ingests and hands it its snapshots."""

    @property
    def embedded_broker(self) -> bool:
        """The collector runs the embedded broker (it starts empty: stored offsets are
        not trusted)."""
        ...

    def publish(self, snapshot: Snapshot, partitions: dict[int, HealthSnapshot]) -> None:
        """`partitions`: the health counters of each partition the worker holds."""
        ...


class CollectorApp:
    """One collector: `start()` returns once the HTTP endpoint listens; ingestion runs on
    its own thread (which owns the Kafka consumer) until `stop()` — or, with `workers`
    above 1, in that many worker processes, each a full pipeline and a member of the
    consumer group (`collector.workers`), whose snapshots this process merges and serves.

    `worker`: this app is one such worker (no HTTP endpoint of its own)."""

    def __init__(
        self, settings: Settings, clock: Clock = utc_now, *, worker: WorkerRole | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.worker = worker
        self.latest = LatestSnapshot()
        self.status = PipelineStatus()
        self.broker: EmbeddedBroker | None = None
        self.bootstrap_servers = settings.bootstrap_servers
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.pool: WorkerPool | None = None
        self.server: MetricsServer | None = None
        if worker is None:
            host, port = settings.listen_address
            web_config = WebConfig.load(settings.web_config) if settings.web_config else None
            self.server = MetricsServer(self.latest.get, host, port, self._problems, web_config)
        self.pipeline: Pipeline | None = None
        self.failure: BaseException | None = None
        self.declarations = DeclarationRegistry(
            settings.targets, exact(settings.default_hourly_rate)
        )
        self.engine: Engine | None = None
        self.otlp = build_pusher(settings, self.latest.get) if worker is None else None

    @property
    def metrics_url(self) -> str:
        if self.server is None:
            raise RuntimeError("a worker serves no HTTP endpoint")
        host = self.settings.listen_address[0]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"{self.server.scheme}://{shown}:{self.server.port}/metrics"

    def _problems(self) -> list[str]:
        if self.pool is not None:
            return self.pool.problems()
        if self.failure is not None:
            return [f"collector failed: {self.failure}"]
        return self.status.problems()

    def start(self) -> None:
        if self.settings.embedded_broker and self.worker is None:
            self.broker = EmbeddedBroker().start()
            self.broker.create_topics(
                {self.settings.topic: self.settings.partitions, self.settings.dead_letter_topic: 1}
            )
            self.bootstrap_servers = self.broker.bootstrap_servers
        self._reload_declarations()
        if self.server is not None:
            self.server.start()
        if self.otlp is not None:
            self.otlp.start()
        if self.settings.workers > 1 and self.worker is None:
            pool = self.pool = WorkerPool(
                # the workers' settings: these, with the broker's address (embedded or given)
                self.settings.model_copy(update={"bootstrap_servers": self.bootstrap_servers}),
                embedded_broker=self.broker is not None,
            )
            self.latest.follow(lambda: self._with_own_health(pool.snapshot()))  # built when read
            self._serve_stored(pool)
            pool.start()
        else:
            self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
            self._thread.start()
        if self.settings.targets is not None:
            threading.Thread(target=self._watch_declarations, name="targets", daemon=True).start()
        if self.server is not None:
            log.info("collector serving %s", self.metrics_url)

    def _serve_stored(self, pool: WorkerPool) -> None:
        """With workers and one SQLite file: load everything stored before they start, and
        serve it until they have joined (one pipeline preloads the same way). A store that
        does not open is left to the workers, which retry it and report why."""
        store: StateStore | None = None
        try:
            store = open_store(self.settings.state)
            if store.single_instance:  # shared state: each worker exports its partitions'
                state = store.load_all(seen=False)  # only deduplication needs those
                engine = Engine(self._engine_settings(), self.clock, self.declarations.catalog)
                engine.restore(state)
                pool.serve_stored(engine.snapshot(), state.partitions)
        except Exception as error:  # noqa: BLE001 - the workers report it on /readyz
            log.warning("not serving the stored state before the workers join: %s", error)
        finally:
            if store is not None:
                store.close()

    def _reload_declarations(self) -> None:
        result = self.declarations.reload()
        if result.changed and self.engine is not None:
            self.engine.policy = result.catalog

    def _watch_declarations(self) -> None:
        """Poll the declarations directory; a bad edit keeps the last good version."""
        while not self._stop.wait(self.settings.targets_poll_s):
            try:
                self._reload_declarations()
            except Exception:
                log.exception("reloading declarations failed")

    def _publish(self, snapshot: Snapshot) -> None:
        if self.worker is not None:  # the collector adds its declarations and OTLP
            engine = self.engine
            self.worker.publish(snapshot, engine.partition_health() if engine else {})
            return
        self.latest.publish(self._with_own_health(snapshot))

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
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self.server is not None:
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
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._ingest()
        except BaseException as error:
            self.failure = error
            log.exception("ingestion stopped")
            raise

    def _ingest(self) -> None:
        settings = self.settings
        store = _retry_until(self._stop, self.status, lambda: open_store(settings.state), "store")
        if store is None:
            return
        engine = Engine(self._engine_settings(), self.clock, self.declarations.catalog)
        self.engine = engine
        engine.policy = self.declarations.catalog  # a reload may have raced the line above
        pipeline = Pipeline(
            engine, store, None, publish=self._publish, settings=self._pipeline_settings()
        )
        pipeline.status.broker_error = self.status.broker_error
        pipeline.translate = self._translate
        self.pipeline, self.status = pipeline, pipeline.status
        if store.single_instance and self.worker is None:
            pipeline.preload()  # a worker exports only what its partitions hold
        sasl_mechanism = settings.kafka_security().sasl_mechanism
        dead_letters = _retry_until(
            self._stop,
            self.status,
            lambda: DeadLetterProducer(
                self.bootstrap_servers,
                settings.dead_letter_topic,
                security=settings.kafka_security().client_options(),
                group=settings.group_id,
            ),
            sasl_mechanism=sasl_mechanism,
        )
        if dead_letters is None:
            store.close()
            return
        pipeline.dead_letters = dead_letters
        source = _retry_until(
            self._stop, self.status, lambda: self._source(pipeline), sasl_mechanism=sasl_mechanism
        )
        if source is None:
            dead_letters.close()
            store.close()
            return
        try:
            pipeline.run(source, self._stop)
        finally:
            if self._leaves_group():
                source.close()
            dead_letters.close()
            store.close()
            log.info("ingestion stopped cleanly")

    def _translate(self, record: SourceRecord) -> Translation | None:
        """CDEvents on the topic, by the `cdevents` integrations in force now."""
        headers = {name: (raw or b"").decode("utf-8", "replace") for name, raw in record.headers}
        integrations = self.declarations.catalog.integrations.values()
        return receive_cdevent(integrations, headers, record.value or b"")

    def _source(self, pipeline: Pipeline) -> FetchingSource | ProcessSource:
        settings = self._consumer_settings()
        if self.settings.consumer_process and self.worker is None:
            return ProcessSource(settings, pipeline.assign, pipeline.revoke)
        return open_source(settings, pipeline.assign, pipeline.revoke)

    def _leaves_group(self) -> bool:
        """Whether the consumer leaves the group on its way out, or vanishes (the broker
        drops it when its session expires). The workers of one collector stop together: on
        a broker that must not see a member leave while the group rebalances (Tansu 0.6,
        `leave_group: assigned`), the leave of one would start a rebalance that the others
        leave during, wedging the group for whoever joins next; so they vanish there."""
        return self.worker is None or self._consumer_settings().leave_group == "always"

    @property
    def _embedded_broker(self) -> bool:
        return self.broker is not None or (self.worker is not None and self.worker.embedded_broker)

    def _engine_settings(self) -> EngineSettings:
        s = self.settings
        return EngineSettings(
            currency=s.currency,
            grace=s.grace,
            max_automations_per_project=s.max_automations_per_project,
            max_services_per_project=s.max_services_per_project,
            max_projects=s.max_projects,
            version=collector_version(),
        )

    def _consumer_settings(self) -> ConsumerSettings:
        s = self.settings
        return ConsumerSettings(
            bootstrap_servers=self.bootstrap_servers,
            topic=s.topic,
            group_id=s.group_id,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
            max_poll_records=s.max_poll_records,
            client=s.source,
            # the embedded broker (Tansu 0.6) mishandles a LeaveGroup during a rebalance
            leave_group="assigned" if self._embedded_broker else s.leave_group,
            security=tuple(s.kafka_security().client_options().items()),
        )

    def _pipeline_settings(self) -> PipelineSettings:
        return PipelineSettings(
            max_event_bytes=self.settings.max_event_bytes,
            publish_interval_s=self.settings.publish_interval_s,
            trust_stored_offsets=not self._embedded_broker,
            owner=f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        )


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


def _retry_until(
    stop: threading.Event,
    status: PipelineStatus,
    make: Callable[[], T],
    what: str = "broker",
    max_backoff_s: float = 10.0,
    *,
    sasl_mechanism: str | None = None,
) -> T | None:
    """Call `make` until it succeeds (broker or database not reachable yet) or `stop`.
    `sasl_mechanism`: the broker clients', for what their failures say (`explain`)."""
    backoff_s = 0.2
    while not stop.is_set():
        try:
            made = make()
        except Exception as error:  # noqa: BLE001 - connection failures are transient
            problem = explain(error, sasl_mechanism=sasl_mechanism)
            # kafka-python's clients leave their wake-up socket pair in reference cycles when
            # their constructor gives up (wrong credentials, say): reclaim them now, or a
            # long outage would pile up file descriptors between rare full collections
            gc.collect()
            _note(status, what, problem)
            log.warning("cannot reach the %s yet (%s); retrying in %.1fs", what, problem, backoff_s)
            stop.wait(backoff_s)
            backoff_s = min(max_backoff_s, backoff_s * 2)
            continue
        _note(status, what, None)
        return made
    return None


def _note(status: PipelineStatus, what: str, problem: str | None) -> None:
    if what == "broker":
        status.broker_error = problem
    else:
        status.store_error = problem
