"""Connection failures named on /readyz: what kafka-python only logs."""

from __future__ import annotations

import logging

from collector.source.diagnosis import BOOTSTRAP_FAILURES, BootstrapFailures, explain


def test_a_severe_failure_is_kept_over_the_disconnects_that_follow_it() -> None:
    failures = BootstrapFailures()
    failures.note("Bootstrap connection to bootstrap-0 failed: KafkaConnectionError: reset")
    failures.note(
        "<KafkaTCPTransport [127.0.0.1:9092<-5]>: Abort ([Error 58] SaslAuthenticationFailedError:"
        " Authentication failed during authentication due to invalid credentials with SASL"
        " mechanism SCRAM-SHA-256)"
    )
    failures.note("Bootstrap connection to bootstrap-0 failed: KafkaConnectionError: reset")
    recent = failures.recent()
    assert recent is not None and recent.startswith("[Error 58] SaslAuthenticationFailedError")
    assert "SCRAM-SHA-256" in recent


def test_unrelated_records_are_ignored_and_nothing_is_invented() -> None:
    failures = BootstrapFailures()
    failures.note("Updated metadata: ClusterMetadata(brokers: 1)")
    assert failures.recent() is None


def test_explain_adds_the_recent_reason_to_a_bootstrap_timeout() -> None:
    failures = BootstrapFailures()
    failures.note("Bootstrap connection to bootstrap-0 failed: [Errno 111] Connection refused")
    text = explain(TimeoutError("Unable to bootstrap from ['127.0.0.1:1']"), failures)
    assert text == (
        "Unable to bootstrap from ['127.0.0.1:1'] (last connection failure:"
        " [Errno 111] Connection refused)"
    )
    assert explain(ValueError("other"), failures) == "other"
    assert explain(TimeoutError("Unable to bootstrap"), BootstrapFailures()) == (
        "Unable to bootstrap"
    )


def test_a_sasl_client_told_only_of_disconnects_is_told_what_to_check() -> None:
    failures = BootstrapFailures()
    failures.note(
        "Bootstrap connection to bootstrap-0 failed: KafkaConnectionError: socket disconnected"
        " (backoff 0.21 secs)"
    )
    timeout = TimeoutError("Unable to bootstrap from ['127.0.0.1:9093']")
    told = explain(timeout, failures, sasl_mechanism="SCRAM-SHA-256")
    assert told.startswith(
        "Unable to bootstrap from ['127.0.0.1:9093'] (last connection failure:"
        " KafkaConnectionError: socket disconnected); a broker closes the connection when SASL"
        " SCRAM-SHA-256 authentication fails"
    )
    assert "authentication" not in explain(timeout, failures)  # no SASL: no such guess
    refused = BootstrapFailures()
    refused.note("Bootstrap connection to bootstrap-0 failed: [Errno 111] Connection refused")
    assert "authentication" not in explain(timeout, refused, sasl_mechanism="PLAIN")
    failures.note(
        "<KafkaTCPTransport [127.0.0.1:9093<-5]>: Abort ([Error 58] SaslAuthenticationFailedError:"
        " Authentication failed during authentication due to invalid credentials with SASL"
        " mechanism SCRAM-SHA-256)"
    )
    named = explain(timeout, failures, sasl_mechanism="SCRAM-SHA-256")
    assert "Authentication failed during authentication" in named
    assert "a broker closes the connection" not in named  # the broker's own answer is named


def test_kafka_python_log_records_reach_the_process_wide_watcher() -> None:
    marker = "SSLError: certificate verify failed (test marker 7f3a)"
    logging.getLogger("kafka.net.connection").error("Connection lost: %s", marker)
    recent = BOOTSTRAP_FAILURES.recent()
    assert recent is not None and "test marker 7f3a" in recent
