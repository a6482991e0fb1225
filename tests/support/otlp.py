"""A local OTLP/HTTP metrics receiver that decodes the protobuf (opentelemetry-proto)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import NumberDataPoint

from tests.support.live import Series


def _attributes(values: list[KeyValue]) -> frozenset[tuple[str, str]]:
    return frozenset((kv.key, kv.value.string_value) for kv in values)


def _le(bound: float) -> str:
    return repr(float(bound))


def _number(point: NumberDataPoint) -> float:
    return float(point.as_int if point.WhichOneof("value") == "as_int" else point.as_double)


def to_series(request: ExportMetricsServiceRequest) -> Series:
    """The request as Prometheus would name it: counters get `_total`, histograms buckets."""
    series: Series = {}
    for resource_metrics in request.resource_metrics:
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                if kind == "sum":
                    for p in metric.sum.data_points:
                        series[(metric.name + "_total", _attributes(list(p.attributes)))] = _number(
                            p
                        )
                elif kind == "gauge":
                    for p in metric.gauge.data_points:
                        series[(metric.name, _attributes(list(p.attributes)))] = _number(p)
                elif kind == "histogram":
                    for h in metric.histogram.data_points:
                        running = 0
                        for bound, count in zip(
                            [*h.explicit_bounds, float("inf")], h.bucket_counts, strict=True
                        ):
                            running += count
                            le = "+Inf" if bound == float("inf") else _le(bound)
                            series[(metric.name + "_bucket", frozenset({("le", le)}))] = float(
                                running
                            )
                        series[(metric.name + "_count", frozenset())] = float(h.count)
                        series[(metric.name + "_sum", frozenset())] = h.sum
    return series


class OtlpReceiver:
    def __init__(self, status: int = 200) -> None:
        self.requests: list[ExportMetricsServiceRequest] = []
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.status == 200 and self.path == "/v1/metrics":
                    request = ExportMetricsServiceRequest()
                    request.ParseFromString(body)
                    receiver.requests.append(request)
                payload = ExportMetricsServiceResponse().SerializeToString()
                self.send_response(receiver.status if self.path == "/v1/metrics" else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
