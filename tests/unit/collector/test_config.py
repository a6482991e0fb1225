from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from collector.config import ConfigError, load_settings
from outcomes.cli import build_parser, collect_settings


def test_defaults_match_the_design() -> None:
    settings = load_settings({})
    assert settings.topic == "outcomes.events"
    assert settings.dead_letter_topic == "outcomes.events.dlq"
    assert settings.currency == "USD"
    assert settings.default_hourly_rate == 100.0
    assert settings.grace == timedelta(days=7)


def test_flags_beat_environment_beat_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text("topic: from-file\ngroup-id: file-group\nstate: file.db\ncurrency: EUR\n")
    monkeypatch.setenv("OUTCOMES_GROUP_ID", "env-group")
    monkeypatch.setenv("OUTCOMES_STATE", "env.db")
    args = build_parser().parse_args(
        ["collect", "--config", str(config), "--state", "flag.db", "--embedded-broker"]
    )
    settings = collect_settings(args)
    assert settings.topic == "from-file"
    assert settings.group_id == "env-group"
    assert settings.state == "flag.db"
    assert settings.currency == "EUR"
    assert settings.embedded_broker is True


def test_unset_flags_do_not_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTCOMES_EMBEDDED_BROKER", "true")
    settings = collect_settings(build_parser().parse_args(["collect"]))
    assert settings.embedded_broker is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("topik: typo\n", "topik: Extra inputs are not permitted"),
        ("listen: nowhere\n", "listen: Value error, must be HOST:PORT"),
        ("currency: euro\n", "currency: String should match pattern"),
        ("- a list\n", "must be a mapping"),
        ("topic: [unclosed\n", "collector.yaml"),
    ],
)
def test_bad_config_files_name_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match="collector.yaml") as caught:
        load_settings({}, config)
    assert message in str(caught.value)


def test_sasl_scram_over_tls_maps_to_kafka_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config = tmp_path / "collector.yaml"
    config.write_text(
        f"kafka_security_protocol: SASL_SSL\nkafka_sasl_mechanism: SCRAM-SHA-512\n"
        f"kafka_sasl_username: collector\nkafka_ssl_cafile: {ca}\n"
    )
    monkeypatch.setenv("OUTCOMES_KAFKA_SASL_PASSWORD", "s3cr3t-pass")
    settings = load_settings({}, config)
    assert settings.kafka_security().client_options() == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "collector",
        "sasl_plain_password": "s3cr3t-pass",
        "ssl_check_hostname": True,
        "ssl_cafile": str(ca),
    }
    assert "s3cr3t-pass" not in repr(settings)
    assert "s3cr3t-pass" not in str(settings.model_dump())


def test_plaintext_sends_no_credentials() -> None:
    assert load_settings({}).kafka_security().client_options() == {"security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "kafka_security_protocol: SASL_PLAINTEXT\n",
            "needs sasl_mechanism, sasl_username, sasl_password",
        ),
        (
            "kafka_security_protocol: SSL\nkafka_ssl_cafile: /nope/ca.pem\n",
            "ssl_cafile: /nope/ca.pem does not exist",
        ),
        ("kafka_sasl_mechanism: GSSAPI\n", "kafka_sasl_mechanism: String should match pattern"),
    ],
)
def test_inconsistent_security_is_refused(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match="collector.yaml") as caught:
        load_settings({}, config)
    assert message in str(caught.value)
