"""The catalog of metric families: snapshot -> samples, once for every exporter. Pure.

Every family is described once (`Family`: exposed name, type, help, label names; the
names are the documented, stable ones of docs/REFERENCE.md) and its samples are produced
once per project (`project_samples`) or for the whole snapshot (`global_samples`). The
exporters read it: `exporters.prometheus` (prometheus_client objects for custom
registries, and `Renderer`, which writes the text formats directly, caching unchanged
projects) and `exporters.otlp` (the OTLP data model).

Counter names are written as exposed (`…_total`); prometheus_client keeps the family
name without the suffix and adds it back to the samples. An undefined value (None in
the snapshot) produces no sample at all, never 0 or NaN.
"""

from exporters.catalog.families import (
    DELAY,
    GLOBAL_FAMILIES,
    OTLP_EXPORTS,
    PROJECT_FAMILIES,
    Family,
)
from exporters.catalog.samples import (
    Sample,
    delay_buckets,
    global_samples,
    project_samples,
    samples,
)

__all__ = [
    "DELAY",
    "GLOBAL_FAMILIES",
    "OTLP_EXPORTS",
    "PROJECT_FAMILIES",
    "Family",
    "Sample",
    "delay_buckets",
    "global_samples",
    "project_samples",
    "samples",
]
