"""Prometheus exporter: the snapshot as metric families, its text rendering, the HTTP endpoint."""

from exporters.prometheus.collector import SnapshotCollector
from exporters.prometheus.exposition import Renderer
from exporters.prometheus.families import families
from exporters.prometheus.server import MetricsServer, Readiness
from exporters.prometheus.webconfig import WebConfig, WebConfigError

__all__ = [
    "MetricsServer",
    "Readiness",
    "Renderer",
    "SnapshotCollector",
    "WebConfig",
    "WebConfigError",
    "families",
]
