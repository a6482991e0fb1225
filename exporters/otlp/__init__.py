"""OTLP metrics exporter: the `/metrics` set pushed with opentelemetry-sdk's OTLP exporter."""

from exporters.otlp.pusher import OtlpPusher
from exporters.otlp.translate import metrics_data

__all__ = ["OtlpPusher", "metrics_data"]
