"""The partitions one pipeline holds: claimed in the store (fenced by generation), their
state loaded into the engine, and where each resumes.

Called on the pipeline's thread only: rebalance callbacks (`assign`, `revoke`) run
inside the source's `poll` on that thread."""

from __future__ import annotations

import logging
from typing import Protocol

from kafka.partitioner.default import murmur2

from collector.engine.engine import Engine
from collector.pipeline.status import Durable, PipelineStatus
from collector.source.records import SourceRecord
from collector.state.model import LoadedState, TopicPartitionKey
from collector.state.store import Fence, StateStore

log = logging.getLogger(__name__)


class Source(Protocol):
    @property
    def assigned(self) -> frozenset[TopicPartitionKey]: ...

    @property
    def settled(self) -> bool: ...

    def poll(self, timeout_s: float) -> list[SourceRecord]: ...

    def commit_async(self, offsets: dict[TopicPartitionKey, int]) -> None: ...

    def lag(self, next_offsets: dict[TopicPartitionKey, int]) -> list[tuple[str, int, int]]: ...

    def seek(self, partition: int, offset: int | None) -> None: ...

    def pause(self, partitions: list[int]) -> None: ...

    def partition_count(self) -> int | None: ...

    def probe(self, timeout_s: float = 2.0) -> None: ...


def partition_of(project: str, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for key = project."""
    digest: int = murmur2(project.encode())
    return (digest & 0x7FFFFFFF) % partitions


class Partitions:
    def __init__(
        self,
        engine: Engine,
        store: StateStore,
        status: PipelineStatus,
        durable: Durable,
        *,
        owner: str,
        trust_stored_offsets: bool,
    ) -> None:
        self.engine = engine
        self.store = store
        self.status = status
        self.durable = durable
        self.owner = owner
        self.trust_stored_offsets = trust_stored_offsets
        self.source: Source | None = None
        """The consumer, once the pipeline runs."""
        self.next_offsets: dict[TopicPartitionKey, int] = {}
        """(topic, partition) -> next offset to consume; mirrors the store after each commit."""
        self.fence: Fence = {}
        self._preloaded: LoadedState | None = None
        """What `preload` exported, until the first assignment takes over from it."""

    def preload(self) -> int:
        """Load everything stored into the engine before the group join (a single-instance
        store); nothing is written before the first assignment, which keeps this state.
        Returns the number of projects."""
        state = self.durable(self.store.load_all)
        self.engine.restore(state)
        self._preloaded = state
        return len(state.projects)

    def assign(self, topic: str, partitions: list[int]) -> dict[int, int | None]:
        """Claim `partitions`, load their state; returns where to resume each."""
        fence = self.durable(lambda: self.store.claim(topic, partitions, self.owner))
        preloaded, self._preloaded = self._preloaded, None
        self.status.preloaded = False
        if preloaded is not None:  # the engine holds it already: keep what was assigned
            state = preloaded
            self.engine.release(state.partitions - set(partitions))
        else:
            state = self.durable(lambda: self.store.load(topic, partitions))
            self.engine.release(partitions)
            self.engine.adopt(state, partitions)
        self.fence.update(fence)
        resume: dict[int, int | None] = {}
        for partition in partitions:
            stored = state.offsets.get((topic, partition))
            resume[partition] = stored if self.trust_stored_offsets else None
            if resume[partition] is not None:
                self.next_offsets[(topic, partition)] = stored  # type: ignore[assignment]
        self.status.loaded = True
        log.info(
            "loaded state of partitions %s (generation %s)", partitions, sorted(set(fence.values()))
        )
        return resume

    def revoke(self, topic: str, partitions: list[int]) -> None:
        """Stop exporting `partitions`; everything applied was committed already."""
        self.engine.release(partitions)
        for partition in partitions:
            self.fence.pop((topic, partition), None)
            self.next_offsets.pop((topic, partition), None)

    def recover_from_fence(
        self, lost: list[TopicPartitionKey], touched: list[TopicPartitionKey]
    ) -> None:
        """Another instance owns `lost`: drop them; reload the rest of the batch's partitions.

        The batch was not written, so the in-memory state of every partition it touched
        is ahead of the store: those partitions are reloaded and re-consumed.
        """
        log.warning("fenced off partitions %s: another collector owns them now", lost)
        self.engine.take_changes()  # discard the unwritten batch
        for topic, partition in lost:
            self.revoke(topic, [partition])
        if self.source is not None:
            self.source.pause([partition for _, partition in lost])
        for topic, partition in touched:
            if (topic, partition) in lost:
                continue
            state = self._reload(topic, partition)
            self.engine.release([partition])
            self.engine.adopt(state, [partition])
            if self.source is not None:
                self.source.seek(partition, state.offsets.get((topic, partition)))

    def _reload(self, topic: str, partition: int) -> LoadedState:
        return self.durable(lambda: self.store.load(topic, [partition]))

    def owns_declared(self, project: str) -> bool:
        """Whether this pipeline exports a declared project that has no events yet: the
        one holding the partition its events would land on."""
        count = self.source.partition_count() if self.source is not None else None
        if not count or self.source is None:
            return True
        owned = {partition for _, partition in self.source.assigned}
        return partition_of(project, count) in owned
