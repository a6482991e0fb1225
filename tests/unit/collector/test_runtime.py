"""The log level a fetcher process inherits says no more than its parent; the CPUs
`workers: auto` counts; the engine build the collector says it runs."""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.engine.engine import Engine
from collector.runtime import available_cpus, effective_log_level, engine_build


@pytest.fixture
def root_level() -> Iterator[None]:
    root = logging.getLogger()
    level, disabled = root.level, logging.root.manager.disable
    yield
    root.setLevel(level)
    logging.disable(disabled)


@pytest.mark.usefixtures("root_level")
def test_the_child_logs_at_the_parents_level() -> None:
    logging.getLogger().setLevel(logging.WARNING)
    assert effective_log_level() == logging.WARNING


@pytest.mark.usefixtures("root_level")
def test_logging_disabled_in_the_parent_stays_disabled_in_the_child() -> None:
    logging.getLogger().setLevel(logging.INFO)
    logging.disable(logging.ERROR)
    assert effective_log_level() > logging.ERROR


def cgroups(tmp_path: Path, membership: str, limits: dict[str, str]) -> tuple[Path, Path]:
    """A cgroup v2 tree with `cpu.max` files, and a /proc/self/cgroup naming a group in it."""
    root = tmp_path / "cgroup"
    for group, limit in limits.items():
        directory = root / group
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "cpu.max").write_text(limit + "\n")
    proc = tmp_path / "self-cgroup"
    proc.write_text(membership)
    return root, proc


def test_auto_workers_count_the_cpus_a_container_may_use(tmp_path: Path) -> None:
    affinity = len(os.sched_getaffinity(0))
    unlimited = cgroups(
        tmp_path / "a", "0::/pod/app\n", {"pod": "max 100000", "pod/app": "max 100000"}
    )
    assert available_cpus(*unlimited) == affinity
    # a pod's limit of half a CPU, set on the parent of the process's group: one worker
    pod = cgroups(tmp_path / "b", "0::/pod/app\n", {"pod": "50000 100000", "pod/app": "max 100000"})
    assert available_cpus(*pod) == 1
    # 1.5 CPUs: two workers (rounded up), never more than the CPUs it may run on
    half = cgroups(tmp_path / "c", "0::/app\n", {"app": "150000 100000"})
    assert available_cpus(*half) == min(2, affinity)
    # cgroup v1 only (no "0::" line), or no /proc/self/cgroup: the affinity alone
    v1 = cgroups(tmp_path / "d", "4:cpu:/app\n", {"app": "25000 100000"})
    assert available_cpus(*v1) == affinity
    assert available_cpus(tmp_path, tmp_path / "missing") == affinity


def test_the_engine_build_is_the_code_that_runs() -> None:
    """mypyc's methods are built-in functions, Python's are functions (`make compiled` /
    `make pure` decide which this checkout runs)."""
    assert engine_build() == ("pure" if inspect.isfunction(Engine.apply) else "compiled")
