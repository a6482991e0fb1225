"""The one backoff of the service: transient failures (broker or database unreachable)
are retried after a wait that doubles from `first_s` up to `max_s`, and starts again
from `first_s` after a success."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Backoff:
    """Waits that double: `next_s()` returns the wait before the next try."""

    def __init__(self, first_s: float = 0.1, max_s: float = 10.0) -> None:
        self.first_s = first_s
        self.max_s = max_s
        self._next_s = first_s

    def next_s(self) -> float:
        wait_s = self._next_s
        self._next_s = min(self.max_s, wait_s * 2)
        return wait_s

    def reset(self) -> None:
        self._next_s = self.first_s


def retry_until(
    stop: threading.Event,
    make: Callable[[], T],
    report: Callable[[str | None], None],
    *,
    what: str,
    explain: Callable[[Exception], str] = str,
    backoff: Backoff | None = None,
    fatal: tuple[type[Exception], ...] = (),
) -> T | None:
    """Call `make` until it succeeds, or None once `stop` is set. Each failure is a
    transient one (a broker or database not reachable yet): `report(explain(error))`, wait,
    try again; success reports None. Raises only what `fatal` names (retrying cannot help)
    and BaseException."""
    waits = backoff or Backoff(0.2, 10.0)
    while not stop.is_set():
        try:
            made = make()
        except fatal:
            raise
        except Exception as error:  # noqa: BLE001 - every other failure here is transient
            problem = explain(error)
            # kafka-python's clients leave their wake-up socket pair in reference cycles when
            # their constructor gives up (wrong credentials, say): reclaim them now, or a
            # long outage would pile up file descriptors between rare full collections
            gc.collect()
            report(problem)
            wait_s = waits.next_s()
            log.warning("cannot reach the %s yet (%s); retrying in %.1fs", what, problem, wait_s)
            stop.wait(wait_s)
            continue
        report(None)
        return made
    return None
