"""Collector settings: flags > `OUTCOMES_*` environment > config file > defaults.

Every `outcomes collect` flag is also an environment variable (`--group-id` ->
`OUTCOMES_GROUP_ID`) and a config file key (`group_id` or `group-id`, YAML).
"""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from collector.runtime import available_cpus
from collector.source.security import KafkaSecurity

WORKERS_AUTO_MAX = 64
"""`workers: auto` on a larger machine: the most workers the setting allows."""


class ConfigError(Exception):
    """A config file or setting is invalid; the message names the file and field."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OUTCOMES_", extra="forbid", frozen=True)

    bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = "outcomes.events"
    group_id: str = "outcomes-collector"
    targets: Path | None = None
    web_config: Path | None = Field(
        default=None, description="TLS/auth for /metrics (exporter-toolkit web-config format)."
    )
    state: str = "outcomes-state.db"
    listen: str = "0.0.0.0:9470"
    embedded_broker: bool = False
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    default_hourly_rate: float = Field(default=100.0, ge=0)
    grace: timedelta = timedelta(days=7)
    max_event_bytes: int = Field(default=1_048_576, gt=0)
    partitions: int = Field(default=6, gt=0, description="Partitions of an embedded topic.")
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    heartbeat_interval_ms: int = Field(default=2_000, ge=100)
    max_poll_records: int = Field(
        default=10_000,
        gt=0,
        description="Records per poll: one state transaction per batch (as many as the tuned "
        "kafka-python consumer the benchmarks compare with: a batch's commit writes each "
        "project it touched once, so larger batches write less per event).",
    )
    consumer_process: bool = Field(
        default=True,
        description="Run the Kafka consumer in a child process (fetching and record decoding "
        "on a second core); false keeps it on the ingest thread.",
    )
    workers: int = Field(
        default="auto",
        validate_default=True,
        ge=1,
        le=WORKERS_AUTO_MAX,
        description="Worker processes, each a full pipeline (consumer on its own thread, "
        "engine, state, dead letters) and a member of the consumer group; the collector "
        "merges their numbers into one /metrics. `auto` (the default): the CPUs this process "
        "may use (its affinity and cgroup CPU limit; with the embedded broker at most its "
        "topic's partitions); 1 runs one pipeline in this process, its consumer in a child "
        "process. More workers than the topic's partitions stand idle.",
    )
    source: Literal["kafka-python", "confluent"] = Field(
        default="kafka-python",
        description="The Kafka client: kafka-python, or confluent (confluent-kafka, extra "
        "`fast`; librdkafka parses record batches in C, for replays and big backfills). Same "
        "contract either way: offsets from the state store, one transaction per batch.",
    )
    leave_group: Literal["always", "assigned"] = Field(
        default="always",
        description="When a consumer holding partitions leaves the group on its way out: "
        "always (also when its collector was killed; the partitions move at once), or "
        "assigned: only a single pipeline's, on a clean shutdown (for Tansu 0.6, which can "
        "wedge a group when a member leaves mid-rebalance; the workers of a collector stop "
        "together, so theirs never leave; the embedded broker always uses it).",
    )
    publish_interval_s: float = Field(default=0.2, gt=0)
    max_automations_per_project: int = Field(default=200, gt=0)
    max_services_per_project: int = Field(default=50, gt=0)
    max_projects: int = Field(default=10_000, gt=0, description="Undeclared, per instance.")
    targets_poll_s: float = Field(default=2.0, gt=0, description="Declaration reload check.")
    otlp_endpoint: str | None = Field(
        default=None, description="OTLP endpoint; or the standard OTEL_EXPORTER_OTLP_* vars."
    )
    otlp_protocol: str | None = Field(default=None, pattern=r"^(http/protobuf|grpc)$")
    otlp_interval_s: float | None = Field(
        default=None,
        gt=0,
        description="Push interval (default OTEL_METRIC_EXPORT_INTERVAL or 30 s).",
    )
    kafka_security_protocol: str = Field(
        default="PLAINTEXT", pattern=r"^(PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)$"
    )
    kafka_sasl_mechanism: str | None = Field(
        default=None, pattern=r"^(PLAIN|SCRAM-SHA-256|SCRAM-SHA-512)$"
    )
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_check_hostname: bool = True
    log_level: str = "INFO"

    @field_validator("workers", mode="before")
    @classmethod
    def _auto_workers(cls, value: object, info: ValidationInfo) -> object:
        if not (isinstance(value, str) and value.strip().lower() == "auto"):
            return value
        workers = min(available_cpus(), WORKERS_AUTO_MAX)
        if info.data.get("embedded_broker"):  # its topic is made here: more would stand idle
            workers = min(workers, info.data.get("partitions", workers))
        return workers

    @field_validator("source")
    @classmethod
    def _check_source(cls, value: str) -> str:
        if value == "confluent" and importlib.util.find_spec("confluent_kafka") is None:
            raise ValueError(
                "confluent needs confluent-kafka: pip install 'outcome-telemetry-collector[fast]'"
            )
        return value

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("must be HOST:PORT, e.g. 0.0.0.0:9470")
        return value

    def kafka_security(self) -> KafkaSecurity:
        """Raises ValueError (with the field) when the combination is inconsistent."""
        return KafkaSecurity(
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
            ssl_cafile=self.kafka_ssl_cafile,
            ssl_certfile=self.kafka_ssl_certfile,
            ssl_keyfile=self.kafka_ssl_keyfile,
            ssl_check_hostname=self.kafka_ssl_check_hostname,
        )

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.topic}.dlq"

    @property
    def listen_address(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def read_config_file(path: Path) -> dict[str, Any]:
    """The YAML mapping in `path`, keys normalised to underscores."""
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: {error}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: must be a mapping of setting: value")
    return {str(key).replace("-", "_"): value for key, value in document.items()}


def load_settings(flags: dict[str, Any], config_file: Path | None = None) -> Settings:
    """Merge defaults < config file < environment < flags (None flags are ignored)."""
    from_file = read_config_file(config_file) if config_file else {}
    given = {key: value for key, value in flags.items() if value is not None}
    try:
        with_env = Settings(**given)  # environment applies under explicit flags
        env_keys = with_env.model_fields_set - set(given)
        merged = {**from_file, **with_env.model_dump(include=env_keys), **given}
        settings = Settings(**merged)
        settings.kafka_security()
        return settings
    except ValidationError as error:
        where = f"{config_file}: " if config_file else ""
        if error.title == "KafkaSecurity":
            raise ConfigError(f"{where}kafka security: {_problems(error)}") from None
        raise ConfigError(f"{where}{_problems(error)}") from None


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(settings)'}: {e['msg']}" for e in error.errors()
    )
