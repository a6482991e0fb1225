"""When the pipeline publishes a snapshot: soon after a small batch (fresh dashboards at
no cost), spaced under load so that building snapshots takes a bounded share of the
ingest thread, and never further apart than `max_interval_s`. The loop's poll waits no
longer than until the next one is due. Times are monotonic seconds."""

from __future__ import annotations

import time


class PublishPacing:
    def __init__(
        self,
        interval_s: float,
        eager_s: float,
        eager_batch: int,
        share: float,
        max_interval_s: float,
    ) -> None:
        self.interval_s = interval_s
        self.eager_s = eager_s
        """Under light load numbers go out this soon after the last publish."""
        self.eager_batch = eager_batch
        self.share = share
        """Under load snapshots take at most this share of the ingest thread ..."""
        self.max_interval_s = max_interval_s
        """... and are never further apart than this."""
        self._last_s = 0.0
        self._unpublished = False
        """Batches were applied since the last snapshot was published."""
        self._cost_s = 0.0
        """How long building and handing out the last snapshot took."""
        self._light_load = False
        """The last batch was small: its numbers go out `eager_s` after the last publish."""

    def applied(self, batch_size: int) -> None:
        """A batch of `batch_size` records was applied (and committed)."""
        self._unpublished = True
        self._light_load = batch_size <= self.eager_batch

    def due_s(self) -> float:
        """When the next snapshot is due."""
        if self._unpublished and self._light_load:
            return self._last_s + self.eager_s
        paced_s = min(self._cost_s / self.share, self.max_interval_s)
        return self._last_s + max(self.interval_s, paced_s)

    def poll_timeout_s(self, longest_s: float) -> float:
        """How long a poll may wait: until the next snapshot is due, at most `longest_s`."""
        return min(longest_s, max(self.due_s() - time.monotonic(), 0.0))

    def start(self, force: bool) -> float | None:
        """The time a publish starts now, or None when none is due (and not `force`d)."""
        now = time.monotonic()
        if not force and now < self.due_s():
            return None
        self._last_s = now
        self._unpublished = False
        return now

    def finished(self, started_s: float) -> None:
        self._cost_s = time.monotonic() - started_s
