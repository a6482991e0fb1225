"""Prometheus exporter: a custom collector over snapshots and the HTTP endpoint."""

from exporters.prometheus.collector import SnapshotCollector
from exporters.prometheus.families import families
from exporters.prometheus.server import MetricsServer, Readiness
from exporters.prometheus.webconfig import WebConfig, WebConfigError

__all__ = [
    "MetricsServer",
    "Readiness",
    "SnapshotCollector",
    "WebConfig",
    "WebConfigError",
    "families",
]
