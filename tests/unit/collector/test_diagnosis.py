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


def test_explain_adds_the_logged_reason_to_a_bootstrap_timeout() -> None:
    logging.getLogger("kafka.net.manager").warning(
        "Bootstrap connection to %s failed: %s (backoff %.2f secs)",
        "bootstrap-0",
        "KafkaConnectionError: [Errno 111] Connection refused",
        0.1,
    )
    text = explain(TimeoutError("Unable to bootstrap from ['127.0.0.1:1']"))
    assert text.startswith("Unable to bootstrap from ['127.0.0.1:1'] (last connection failure:")
    assert "Connection refused" in text
    assert BOOTSTRAP_FAILURES.recent() is not None
    assert explain(ValueError("other")) == "other"
