"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from collector.runtime import engine_build
from tests.support.brokers import KINDS, STARTED
from tests.support.postgres import PostgresUnavailableError, fresh_schema, postgres_database

# `make test` draws the same examples every run (a red CI is the code's, reproducible);
# `make test-deep` (OUTCOMES_DEEP=1) draws new ones each run, the way fuzzing finds bugs.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("deep", derandomize=False)
settings.load_profile("deep" if os.environ.get("OUTCOMES_DEEP") else "repeatable")


ROOT = Path(__file__).resolve().parent.parent
COMPILED_PACKAGES = ("collector", "schemas")


def stale_compiled_modules() -> list[str]:
    """Modules `make compiled` built in this checkout whose source changed since: Python
    would run the old compiled code, not the source under test."""
    stale = []
    for package in COMPILED_PACKAGES:
        # a module's code is in its package's shared library (`native__mypyc`); its own
        # library only loads that one, and a rebuild leaves it as it was
        shared = [lib.stat().st_mtime for lib in (ROOT / package).glob("native__mypyc*.so")]
        for library in sorted((ROOT / package).rglob("*.cpython-*.so")):
            source = library.with_name(f"{library.name.split('.', 1)[0]}.py")
            built_s = max([library.stat().st_mtime, *shared])
            if source.exists() and source.stat().st_mtime > built_s:
                stale.append(str(source.relative_to(ROOT)))
    return stale


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("OUTCOMES_REQUIRE_COMPILED") and engine_build() != "compiled":
        pytest.exit(
            "OUTCOMES_REQUIRE_COMPILED is set and the engine runs its Python source: run"
            " `make compiled` first",
            returncode=4,
        )
    stale = stale_compiled_modules()
    if stale:
        pytest.exit(
            f"compiled modules older than their source ({', '.join(stale)}): run `make"
            " compiled` to rebuild them, or `make pure` to test the source alone",
            returncode=4,
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """DSN of the session's PostgreSQL database: a throwaway cluster started on first use
    (or `OUTCOMES_TEST_POSTGRES`). A machine without PostgreSQL fails, never skips."""
    try:
        with postgres_database() as dsn:
            yield dsn
    except PostgresUnavailableError as error:
        pytest.fail(f"PostgreSQL is required: {error}")


@pytest.fixture
def postgres_dsn(postgres_server: str) -> Iterator[str]:
    """A DSN whose search_path is a fresh schema of the session's database (dropped after)."""
    with fresh_schema(postgres_server) as dsn:
        yield dsn


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Which brokers the Kafka tests ran on, and how each fared (CI's evidence that the
    Apache Kafka variants ran rather than skipped)."""
    outcomes: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            kind = broker_of(getattr(report, "nodeid", ""))
            if kind is not None and (report.when == "call" or outcome != "passed"):
                counts = outcomes.setdefault(kind, {})
                counts[outcome] = counts.get(outcome, 0) + 1
    if not outcomes:
        return
    terminalreporter.section("Kafka integration tests per broker")
    for kind, counts in sorted(outcomes.items()):
        described = STARTED.get(kind, "not started")
        tally = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        terminalreporter.write_line(f"{kind}: {tally} — {described}")


def broker_of(nodeid: str) -> str | None:
    params = nodeid.rpartition("[")[2].rstrip("]").split("-") if "[" in nodeid else []
    joined = "-".join(params)
    for kind in KINDS:
        if joined == kind or joined.startswith(f"{kind}-") or f"-{kind}" in joined:
            return kind
    return None
