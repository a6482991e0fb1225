"""One pipeline: poll -> decode -> dedup/aggregate -> dead-letter -> commit -> publish.

`loop` runs it; `partitions` holds what it owns (claims, state, offsets); `pacing` says
when it publishes; `decode` turns records into events; `status` is what `/readyz` hears.
"""

from collector.pipeline.loop import DeadLetters, Pipeline, PipelineSettings, Translator
from collector.pipeline.partitions import Partitions, Source, partition_of
from collector.pipeline.status import Durable, PipelineStatus

__all__ = [
    "DeadLetters",
    "Durable",
    "Partitions",
    "Pipeline",
    "PipelineSettings",
    "PipelineStatus",
    "Source",
    "Translator",
    "partition_of",
]
