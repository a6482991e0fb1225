"""`outcomes emit` and `outcomes targets check` as a user types them (no broker needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[3] / "deploy" / "examples" / "projects"


def outcomes(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "outcomes", *args],
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_a_run_without_effort_or_cost_means_none() -> None:
    result = outcomes("emit", "run", "--project", "p", "--automation", "a", "--outcome",
                      "succeeded", "--manual-duration-s", "60", "--dry-run")  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)["data"]
    assert (data["human_effort_s"], data["cost"]) == (0.0, 0.0)


def test_help_shows_choices_units_defaults_and_what_is_required() -> None:
    text = " ".join(outcomes("emit", "run", "--help").stdout.split())
    assert "--outcome {succeeded,failed,cancelled} required" in text
    assert "--manual-duration-s MANUAL_DURATION_S Time a person would need" in text
    assert "baseline); seconds; required" in text
    assert "reporting currency; default 0" in text
    cost = " ".join(outcomes("emit", "cost", "--help").stdout.split())
    assert "--category {compute,licence,labour,services,other} required" in cost


def test_targets_check_takes_files_and_directories(tmp_path: Path) -> None:
    single = outcomes("targets", "check", str(EXAMPLES / "itsm.yaml"))
    assert single.returncode == 0 and single.stdout.startswith("ok: "), single.stderr
    both = outcomes("targets", "check", str(EXAMPLES / "itsm.yaml"), str(EXAMPLES))
    assert both.returncode == 0, both.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: outcomes/v1\nkind: Project\nmetadata: {name: x}\nspec: []\n")
    refused = outcomes("targets", "check", str(bad))
    assert refused.returncode == 1 and f"{bad}:4: spec: Input should be" in refused.stderr
    missing = outcomes("targets", "check", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr


def test_workers_is_a_flag_a_variable_and_a_config_key_and_must_be_positive(
    tmp_path: Path,
) -> None:
    from collector.config import ConfigError, load_settings
    from outcomes.cli import build_parser, collect_settings

    args = build_parser().parse_args(["collect", "--workers", "3"])
    assert collect_settings(args).workers == 3
    config = tmp_path / "collector.yaml"
    config.write_text("workers: 2\n")
    assert load_settings({}, config).workers == 2
    result = outcomes("collect", "--workers", "0")
    assert result.returncode == 2
    assert "workers: Input should be greater than or equal to 1" in result.stderr
    with pytest.raises(ConfigError, match="workers: Input should be less than or equal to 64"):
        load_settings({"workers": 65})


def test_auto_workers_are_the_cpus_the_collector_may_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collector.config import ConfigError, load_settings
    from collector.runtime import available_cpus
    from outcomes.cli import build_parser, collect_settings

    cpus = available_cpus()
    args = build_parser().parse_args(["collect", "--workers", "auto"])
    assert collect_settings(args).workers == cpus
    config = tmp_path / "collector.yaml"
    config.write_text("workers: auto\n")
    assert load_settings({}, config).workers == cpus
    monkeypatch.setenv("OUTCOMES_WORKERS", "AUTO")
    assert load_settings({}).workers == cpus
    with pytest.raises(ConfigError, match="workers: Input should be a valid integer"):
        load_settings({"workers": "many"})


def test_auto_is_the_default_and_the_embedded_broker_caps_it_at_its_partitions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from collector import config
    from collector.config import load_settings

    monkeypatch.delenv("OUTCOMES_WORKERS", raising=False)
    monkeypatch.setattr(config, "available_cpus", lambda: 8)
    assert load_settings({}).workers == 8
    assert load_settings({"embedded_broker": True}).workers == 6  # its topic's partitions
    assert load_settings({"embedded_broker": True, "partitions": 12}).workers == 8
    assert load_settings({"embedded_broker": True, "workers": 7}).workers == 7  # as asked
    monkeypatch.setattr(config, "available_cpus", lambda: 200)
    assert load_settings({}).workers == config.WORKERS_AUTO_MAX


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["cost", "--amount", "5", "--category", "compute", "--currency", "EUR"],
         "currency: data.currency 'EUR' differs from the reporting currency 'USD'"),
        (["run", "--automation", "a", "--outcome", "succeeded", "--manual-duration-s", "60",
          "--time", "2025-01-01T00:00:00Z"], "too_late: time 2025-01-01"),
        (["run", "--automation", "a", "--outcome", "succeeded", "--manual-duration-s", "60",
          "--time", "2099-06-01T00:00:00Z"], "future: time 2099-06-01"),
    ],
)  # fmt: skip
def test_emit_refuses_what_the_collector_would_refuse_and_sends_nothing(
    flags: list[str], said: str
) -> None:
    """No broker is given: a refused event never gets as far as connecting."""
    kind, *rest = flags
    result = outcomes("emit", kind, "--project", "p", *rest, "--bootstrap-servers", "127.0.0.1:9")
    assert result.returncode == 2
    assert said in result.stderr and "nothing was sent" in result.stderr, result.stderr
    if "too_late" in said:
        assert "--backfill" in result.stderr
