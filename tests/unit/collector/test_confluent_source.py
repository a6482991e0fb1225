"""The confluent-kafka source's settings: kafka-python's transport options in librdkafka's
names, and a clear error when the extra is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.config import Settings
from collector.source.confluent import librdkafka_security
from collector.source.security import KafkaSecurity


def test_sasl_over_tls_in_librdkafka_names(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("certificate")
    security = KafkaSecurity(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="collector",
        sasl_password="s3cret",
        ssl_cafile=ca,
        ssl_check_hostname=False,
    )
    config = librdkafka_security(tuple(security.client_options().items()))
    assert config == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "collector",
        "sasl.password": "s3cret",
        "ssl.ca.location": str(ca),
        "ssl.endpoint.identification.algorithm": "none",
    }


def test_a_setting_without_an_equivalent_is_refused() -> None:
    with pytest.raises(ValueError, match="no librdkafka equivalent for the Kafka setting"):
        librdkafka_security((("sasl_kerberos_service_name", "kafka"),))


def test_the_source_is_kafka_python_unless_confluent_is_chosen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().source == "kafka-python"
    monkeypatch.setenv("OUTCOMES_SOURCE", "confluent")
    assert Settings().source == "confluent"
    monkeypatch.setenv("OUTCOMES_SOURCE", "librdkafka")
    with pytest.raises(ValueError, match="source"):
        Settings()


def test_confluent_without_the_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("collector.config.importlib.util.find_spec", lambda name: None)
    monkeypatch.setenv("OUTCOMES_SOURCE", "confluent")
    with pytest.raises(ValueError, match=r"pip install 'outcome-telemetry-collector\[fast\]'"):
        Settings()
