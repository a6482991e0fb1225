"""One pipeline's body: the ingest thread that owns the Kafka consumer.

`Ingestion` opens the state store, builds the engine and the pipeline, connects the
dead-letter producer and the source (retrying each while it is unreachable, with the
reason on `/readyz`), and runs the pipeline until `stop()`. The collector runs one
(`workers: 1`) or each of its worker processes runs one (`collector.workers`); neither
knows about the other.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from collector.config import Settings
from collector.declarations.catalog import Catalog
from collector.engine.engine import Clock, Engine
from collector.engine.settings import EngineSettings
from collector.integrations.deliver import receive_cdevent
from collector.integrations.model import Translation
from collector.pipeline import Durable, Pipeline, PipelineSettings, PipelineStatus
from collector.pipeline.status import Holding
from collector.retry import retry_until
from collector.runtime import collector_version
from collector.source.dead_letters import DeadLetterProducer
from collector.source.diagnosis import explain
from collector.source.kafka import ConsumerSettings
from collector.source.open import FetchingSource, open_source
from collector.source.process import ProcessSource
from collector.source.records import SourceRecord
from collector.state.open import open_store
from collector.state.store import UnusableStoreError
from schemas.snapshot import HealthSnapshot, Snapshot

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Role:
    """Where this ingestion runs. `worker`: one of a collector's worker processes (it
    exports only what its partitions hold, consumes on its own thread, and vanishes rather
    than leaving the group when the workers stop together). `embedded_broker`: the broker
    starts empty, so stored offsets are not trusted (and Tansu needs `leave_group:
    assigned`)."""

    worker: bool = False
    embedded_broker: bool = False


def engine_settings(settings: Settings) -> EngineSettings:
    return EngineSettings(
        currency=settings.currency,
        grace=settings.grace,
        max_automations_per_project=settings.max_automations_per_project,
        max_services_per_project=settings.max_services_per_project,
        max_projects=settings.max_projects,
        version=collector_version(),
    )


class Ingestion:
    """`start()` runs the ingest thread; `stop()` finishes the current batch, commits,
    leaves the group (or vanishes, see `Role`) and closes everything.

    `policy`: the declarations in force, read when the engine is built; `set_policy` hands
    a reloaded catalog to the running engine. `publish` is called on the ingest thread
    with each snapshot."""

    def __init__(
        self,
        settings: Settings,
        policy: Callable[[], Catalog],
        publish: Callable[[Snapshot], None],
        clock: Clock,
        role: Role = Role(),
    ) -> None:
        self.settings = settings
        self.role = role
        self.status = PipelineStatus()
        self.holding = Holding(settings.session_timeout_ms)
        """Since when the pipeline has held no partition (/readyz past its bound)."""
        self.failure: BaseException | None = None
        self._policy = policy
        self._publish = publish
        self._clock = clock
        self._engine: Engine | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until ingestion stops; True if it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def set_policy(self, catalog: Catalog) -> None:
        if self._engine is not None:
            self._engine.policy = catalog

    def partition_health(self) -> dict[int, HealthSnapshot]:
        """The health counters of each partition this ingestion holds."""
        engine = self._engine
        return engine.partition_health() if engine is not None else {}

    def problems(self) -> list[str]:
        if self.failure is not None:
            return [f"collector failed: {self.failure}"]
        problems = self.status.problems()
        state = "serving the stored numbers" if self.status.preloaded else "joining the group"
        unsettled = self.holding.problem(bool(self.status.assigned), f"the pipeline {state}")
        return problems if unsettled is None else [*problems, unsettled]

    def held(self) -> tuple[int, float]:
        """(partitions the pipeline holds, seconds since it last held one)."""
        held = len(self.status.assigned)
        return held, self.holding.unheld_s(held > 0)

    def _run(self) -> None:
        try:
            self._ingest()
        except BaseException as error:
            self.failure = error
            log.exception("ingestion stopped")
            raise

    def _retry(self, make: Callable[[], T], what: str = "broker") -> T | None:
        mechanism = self.settings.kafka_security().sasl_mechanism

        def report(problem: str | None) -> None:
            if what == "broker":
                self.status.broker_error = problem
            else:
                self.status.store_error = problem

        return retry_until(
            self._stop, make, report, what=what,
            explain=lambda error: explain(error, sasl_mechanism=mechanism),
            fatal=(UnusableStoreError,),
        )  # fmt: skip

    def _ingest(self) -> None:
        settings = self.settings
        store = self._retry(lambda: open_store(settings.state), "store")
        if store is None:
            return
        status = PipelineStatus(broker_error=self.status.broker_error)
        pipeline_settings = self._pipeline_settings()
        durable = Durable(status, pipeline_settings.max_backoff_s)
        engine = Engine(
            engine_settings(settings), self._clock, self._policy(),
            archive=lambda project, key: durable(lambda: store.load_period(project, key)),
        )  # fmt: skip
        self._engine = engine
        engine.policy = self._policy()  # a reload may have raced the line above
        pipeline = Pipeline(
            engine, store, None, publish=self._publish, settings=pipeline_settings,
            translate=self._translate, status=status,
        )  # fmt: skip
        self.status = status
        if store.single_instance and not self.role.worker:
            pipeline.preload()  # a worker exports only what its partitions hold
        dead_letters = self._retry(
            lambda: DeadLetterProducer(
                settings.bootstrap_servers,
                settings.dead_letter_topic,
                security=settings.kafka_security().client_options(),
                group=settings.group_id,
            )
        )
        if dead_letters is None:
            store.close()
            return
        pipeline.dead_letters = dead_letters
        source = self._retry(lambda: self._source(pipeline))
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
        integrations = self._policy().integrations.values()
        return receive_cdevent(integrations, headers, record.value or b"")

    def _source(self, pipeline: Pipeline) -> FetchingSource | ProcessSource:
        settings = self._consumer_settings()
        if self.settings.consumer_process and not self.role.worker:
            return ProcessSource(settings, pipeline.assign, pipeline.revoke)
        return open_source(settings, pipeline.assign, pipeline.revoke)

    def _leaves_group(self) -> bool:
        """Whether the consumer leaves the group on its way out, or vanishes (the broker
        drops it when its session expires). The workers of one collector stop together: on
        a broker that must not see a member leave while the group rebalances (Tansu 0.6,
        `leave_group: assigned`), the leave of one would start a rebalance that the others
        leave during, wedging the group for whoever joins next; so they vanish there."""
        return not self.role.worker or self._consumer_settings().leave_group == "always"

    def _consumer_settings(self) -> ConsumerSettings:
        s = self.settings
        return ConsumerSettings(
            bootstrap_servers=s.bootstrap_servers,
            topic=s.topic,
            group_id=s.group_id,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
            max_poll_records=s.max_poll_records,
            client=s.source,
            # the embedded broker (Tansu 0.6) mishandles a LeaveGroup during a rebalance
            leave_group="assigned" if self.role.embedded_broker else s.leave_group,
            security=tuple(s.kafka_security().client_options().items()),
        )

    def _pipeline_settings(self) -> PipelineSettings:
        return PipelineSettings(
            max_event_bytes=self.settings.max_event_bytes,
            publish_interval_s=self.settings.publish_interval_s,
            trust_stored_offsets=not self.role.embedded_broker,
            owner=f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        )
