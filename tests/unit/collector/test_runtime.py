"""The log level a fetcher process inherits says no more than its parent."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from collector.runtime import effective_log_level


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
