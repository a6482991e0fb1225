"""The confluent-kafka source's settings: kafka-python's transport options in librdkafka's
names, and a clear error when the extra is missing; its records as the pipeline takes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from confluent_kafka import TIMESTAMP_CREATE_TIME, KafkaError, Message

from collector.config import Settings
from collector.source.client_records import message_fields, records_of_messages
from collector.source.confluent import librdkafka_security
from collector.source.records import SourceRecord
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


def test_records_from_librdkafka_carry_their_size_and_fields_as_kafka_pythons() -> None:
    """`message_fields` on real confluent-kafka messages: what the pipeline gets is laid out
    as kafka-python's rows (`kafka.fields_of`), and the size counts key, value and each
    header's name (UTF-8 bytes) and value, as the too_large limit does."""
    headers: list[tuple[str, str | bytes | None]] = [
        ("ce_id", b"b1-3"), ("ce_tìme", b"2026-12-06T18:44:38Z"), ("empty", None),
    ]  # fmt: skip
    full = Message(
        topic="events", partition=2, offset=41, key=b"ticket-triage", value=b'{"a":1}',
        headers=headers, timestamp=(TIMESTAMP_CREATE_TIME, 1_700_000_000_123),
    )  # fmt: skip
    bare = Message(topic="events", partition=2, offset=42, value=b"{}")
    assert message_fields(full) == (
        41, b"ticket-triage", headers, b'{"a":1}', 1_700_000_000_123,
        13 + 7 + len("ce_id") + 4 + len("ce_tìme".encode()) + 20 + len("empty"),
    )  # fmt: skip
    assert message_fields(bare) == (42, None, [], b"{}", 0, 2)
    record = SourceRecord("events", 2, *message_fields(full))
    assert record.size == SourceRecord("events", 2, *message_fields(full)[:5]).size


def test_a_consume_call_becomes_records_in_order_with_errors_apart() -> None:
    """`records_of_messages` (what `ConfluentSource.poll` hands the pipeline): each record
    as `message_fields` lays it out, in the order consumed; messages with an error apart
    for the source to judge; partitions held back for a seek left out."""
    headers: list[tuple[str, str | bytes | None]] = [("ce_id", b"b1-3"), ("ce_tìme", b"x")]
    messages = [
        Message(topic="events", partition=2, offset=7, key=b"k", value=b"{}", headers=headers,
                timestamp=(TIMESTAMP_CREATE_TIME, 1_700_000_000_123)),
        Message(topic="events", partition=0, offset=3, error=KafkaError(KafkaError._PARTITION_EOF)),
        Message(topic="events", partition=5, offset=1, value=b"{}"),
        Message(topic="events", partition=1, offset=9, value=b"[]"),
    ]  # fmt: skip
    records, errors = records_of_messages("events", messages, {5: None})
    assert records == [
        SourceRecord("events", 2, *message_fields(messages[0])),
        SourceRecord("events", 1, *message_fields(messages[3])),
    ]
    assert records[0].size == 1 + 2 + len("ce_id") + 4 + len("ce_tìme".encode()) + 1
    assert [message.offset() for message in errors] == [3]
