from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from collector.cli import build_parser, collect_settings
from collector.config import ConfigError, load_settings


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
