"""Human review (docs/REFERENCE.md#human-review): runs remembered for their verdicts, and
reviews waiting for a run that has not arrived yet.

A run has at most one verdict; a later review replaces the earlier one exactly. A verdict
changes its run's month: `rejected` or `escalated` forfeits the manual time of a succeeded
run (a person did the work anyway) and the review's effort counts as human effort. Both
come off the time saved of the run's day, so it is valued at the rate in force then.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from collector.engine.aggregates import LifetimeCounters, PeriodTotals
from schemas.binding import STRUCTURED_CONTENT_TYPE, KafkaRecord
from schemas.events import VERDICTS

FORFEITING: Final = frozenset({"rejected", "escalated"})
ACCEPTING: Final = frozenset({"accepted", "edited"})
STRUCTURED: Final = ("content-type", STRUCTURED_CONTENT_TYPE.encode())


class RunMemo(NamedTuple):
    """What a verdict needs of one run, remembered while its period accepts events. A
    tuple, which the engine makes without `__new__`: one is made per run, and a slotted
    dataclass cost three times as much. Its verdict is kept beside it."""

    month: str
    """Key of the calendar month of its event time (where its review applies)."""
    day: int
    """Epoch day of its event time (the day whose time saved a verdict changes)."""
    outcome: str
    manual_us: int
    forget_after_s: float


class Verdict(NamedTuple):
    """A run's current verdict: the review given last (by its event time)."""

    verdict: str
    effort_us: int
    """The review's effort."""
    reviewed_s: float
    """Event time of the review that gave the verdict (a review given earlier replaces
    nothing, whatever order they arrive in)."""

    def effect(self, memo: RunMemo) -> tuple[int, int]:
        """(manual time forfeited, review effort) this verdict takes off `memo`'s run."""
        forfeited = memo.manual_us if memo.outcome == "succeeded" else 0
        return (forfeited if self.verdict in FORFEITING else 0), self.effort_us


@dataclass(frozen=True, slots=True)
class PendingReview:
    """A review whose run has not arrived; dead-lettered `unmatched` once no run of its
    period can arrive any more (`forget_after_s`)."""

    verdict: str
    effort_us: int
    reviewed_s: float
    forget_after_s: float
    event: dict[str, Any]
    """The review event as a structured CloudEvent (for its dead letter)."""

    def dead_letter(self) -> tuple[KafkaRecord, str]:
        """The review as a structured CloudEvent record, and why its run never counted."""
        data = self.event.get("data", {})
        value = json.dumps(self.event, separators=(",", ":")).encode()
        record = KafkaRecord(str(data.get("project", "")).encode(), [STRUCTURED], value)
        why = (
            f"no run {data.get('subject')!r} of project {data.get('project')!r} arrived"
            " while its period accepted events"
        )
        return record, why


@dataclass
class ReviewBook:
    """One project's remembered runs and pending reviews."""

    runs: dict[str, RunMemo] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    """Run id -> the verdict of a remembered run that has one."""
    pending: dict[str, PendingReview] = field(default_factory=dict)

    def remember(self, run_id: str, memo: RunMemo) -> tuple[bool, PendingReview | None]:
        """Remember a run: (whether it is now the run of `run_id`, the review that was
        waiting for it). A run id names one run: another run with the same id (from another
        source) is not the subject of reviews while the first is remembered."""
        if run_id in self.runs:
            return False, None
        self.runs[run_id] = memo
        pending = self.pending
        return True, pending.pop(run_id, None) if pending else None

    def forget_before(self, moment_s: float) -> list[PendingReview]:
        """Forget runs whose period no longer accepts events; the pending reviews that
        expired (unmatched)."""
        self.runs = {k: memo for k, memo in self.runs.items() if memo.forget_after_s > moment_s}
        if self.verdicts:
            self.verdicts = {k: v for k, v in self.verdicts.items() if k in self.runs}
        expired = [p for p in self.pending.values() if p.forget_after_s <= moment_s]
        if expired:
            self.pending = {k: p for k, p in self.pending.items() if p.forget_after_s > moment_s}
        return expired

    def holds(self, run_id: str) -> bool:
        return run_id in self.pending or run_id in self.runs

    def review_row(self, run_id: str) -> tuple[dict[str, Any], float]:
        """What the store keeps of `run_id`'s verdict, applied or pending, and until when."""
        waiting = self.pending.get(run_id)
        if waiting is not None:
            return {
                "pending": True,
                "verdict": waiting.verdict,
                "effort_us": waiting.effort_us,
                "reviewed_s": waiting.reviewed_s,
                "event": waiting.event,
            }, waiting.forget_after_s
        given = self.verdicts.get(run_id)
        return {
            "pending": False,
            "verdict": None if given is None else given.verdict,
            "effort_us": 0 if given is None else given.effort_us,
            "reviewed_s": 0.0 if given is None else given.reviewed_s,
        }, self.runs[run_id].forget_after_s

    def restore(self, run_id: str, row: dict[str, Any], forget_after_s: float) -> None:
        """A stored verdict (its effect is in the stored months already) or pending review."""
        if row["pending"]:
            self.pending[run_id] = PendingReview(
                row["verdict"], row["effort_us"], row["reviewed_s"], forget_after_s, row["event"]
            )
            return
        if run_id in self.runs and row["verdict"] is not None:
            self.verdicts[run_id] = Verdict(row["verdict"], row["effort_us"], row["reviewed_s"])

    def wait(self, run_id: str, review: PendingReview) -> None:
        """Keep a review until its run arrives (the one given last, of several)."""
        known = self.pending.get(run_id)
        if known is None or review.reviewed_s >= known.reviewed_s:
            self.pending[run_id] = review


def apply_verdict(
    book: ReviewBook,
    run_id: str,
    review: PendingReview,
    totals: PeriodTotals,
    counters: LifetimeCounters,
) -> bool:
    """Give the remembered run `run_id` the verdict of `review` unless it has one given
    later; the previous one's effect is taken back exactly. Whether anything changed."""
    memo = book.runs[run_id]
    known = book.verdicts.get(run_id)
    if known is not None and review.reviewed_s < known.reviewed_s:
        return False
    given = book.verdicts[run_id] = Verdict(review.verdict, review.effort_us, review.reviewed_s)
    old_forfeited, old_effort = (0, 0) if known is None else known.effect(memo)
    if known is not None:
        totals.reviews[known.verdict] -= 1
    forfeited, effort = given.effect(memo)
    totals.reviews[given.verdict] += 1
    d_forfeited, d_effort = forfeited - old_forfeited, effort - old_effort
    totals.forfeited_us += d_forfeited
    totals.review_effort_us += d_effort
    totals.saved_by_day_us[memo.day] -= d_forfeited + d_effort
    counters.saved_by_day_us[memo.day] -= d_forfeited + d_effort
    counters.forfeited_us += d_forfeited
    counters.review_effort_us += d_effort
    return True


def acceptance(reviews: Iterable[tuple[str, int]]) -> tuple[int, int]:
    """(accepted or edited, reviewed) runs of a period's verdict counts."""
    counts = dict(reviews)
    reviewed = sum(counts.get(verdict, 0) for verdict in VERDICTS)
    return sum(counts.get(verdict, 0) for verdict in ACCEPTING), reviewed
