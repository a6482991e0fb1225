"""Building the OTLP exporter from settings and the standard OTEL_* environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlparse

from opentelemetry.sdk.metrics.export import MetricExporter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource

DEFAULT_SERVICE_NAME = "outcomes-collector"
PROTOCOLS = ("http/protobuf", "grpc")


class OtlpConfigError(Exception):
    pass


def enabled(endpoint: str | None, environ: Mapping[str, str] = os.environ) -> bool:
    return bool(
        endpoint
        or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
    )


def protocol_of(configured: str | None, environ: Mapping[str, str] = os.environ) -> str:
    protocol = (
        configured
        or environ.get("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if protocol not in PROTOCOLS:
        raise OtlpConfigError(f"OTLP protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    return protocol


def build_exporter(endpoint: str | None, protocol: str, timeout_s: float = 10.0) -> MetricExporter:
    """The SDK's OTLP metric exporter; None endpoint = the OTEL_* variables decide."""
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                OTLPMetricExporter as GrpcExporter,
            )
        except ImportError:
            raise OtlpConfigError(
                "OTLP over gRPC needs the 'grpc' extra: pip install"
                " 'outcome-telemetry-collector[grpc]'"
            ) from None
        exporter: MetricExporter = GrpcExporter(endpoint=endpoint, timeout=timeout_s)
        return exporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    if endpoint and urlparse(endpoint).path in ("", "/"):
        endpoint = endpoint.rstrip("/") + "/v1/metrics"
    return OTLPMetricExporter(endpoint=endpoint, timeout=timeout_s)


def resource(version: str, environ: Mapping[str, str] = os.environ) -> Resource:
    """service.name/version plus OTEL_RESOURCE_ATTRIBUTES; OTEL_SERVICE_NAME wins."""
    attributes: dict[str, str] = {SERVICE_VERSION: version}
    named_by_env = environ.get("OTEL_SERVICE_NAME") or "service.name=" in environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    if not named_by_env:
        attributes[SERVICE_NAME] = DEFAULT_SERVICE_NAME
    return Resource.create(attributes)
