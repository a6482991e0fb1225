"""A second, independent implementation of docs/REFERENCE.md#formulas (targets, statuses, portfolio).

Written from the design text with plain dicts and Fractions, sharing no code with the
collector, so tests can check the collector's numbers against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

GRACE = timedelta(days=7)


def q(x: Any) -> Fraction:
    return Fraction(Decimal(repr(float(x))))


def period_bounds(moment: datetime, kind: str) -> tuple[datetime, datetime]:
    m = moment.astimezone(UTC)
    first = m.month if kind == "month" else 3 * ((m.month - 1) // 3) + 1
    start = datetime(m.year, first, 1, tzinfo=UTC)
    months = 1 if kind == "month" else 3
    year, month = divmod(first - 1 + months, 12)
    return start, datetime(m.year + year, month + 1, 1, tzinfo=UTC)


@dataclass
class Verdicts:
    accepted: list[dict[str, Any]]
    rejected: int


def admit(events: list[dict[str, Any]], kinds: dict[str, str], now: datetime) -> Verdicts:
    """Events counted (too_late / future / duplicates removed), in arrival order. A
    duplicate is the same (source, id) for the same project."""
    seen, accepted, rejected = set(), [], 0
    for event in events:
        project = event["data"]["project"]
        _, end = period_bounds(event["time"], kinds.get(project, "month"))
        if event["time"] > now + timedelta(minutes=5) or end + GRACE <= now or mistimed(event):
            rejected += 1
            continue
        if (project, event["source"], event["id"]) in seen:
            continue
        seen.add((project, event["source"], event["id"]))
        accepted.append(event)
    return Verdicts(accepted, rejected)


def mistimed(event: dict[str, Any]) -> bool:
    """An availability event's time must be its window's end."""
    if event["type"] != "outcomes.availability.observed":
        return False
    end: datetime = _time(event["data"]["window_end"])
    return bool(end != event["time"])


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def micros(x: Any) -> int:
    """A number as the engine holds it: millionths, rounded half to even."""
    return round(q(x) * 10**6)


def rate_on(spec: dict[str, Any], moment: datetime, default: Fraction) -> Fraction:
    """The hourly rate in force on the UTC day of `moment` (a dated list: the latest entry
    since on or before that day; the first entry also covers earlier days)."""
    rates = spec.get("hourlyRate")
    if rates is None:
        return default
    if not isinstance(rates, list):
        return q(rates)
    ordered = sorted(rates, key=lambda r: r["since"])
    found = ordered[0]
    for entry in ordered:
        if entry["since"] <= moment.astimezone(UTC).date():
            found = entry
    return q(found["value"])


def window_pieces(
    windows: list[dict[str, Any]],
) -> dict[tuple[str, str], list[tuple[int, int, int]]]:
    """(month start ISO, service) -> [(start µs, end µs, downtime µs)]: a re-sent window
    (same service, start, end) replaces the earlier; a window crossing a month boundary
    is split pro rata, the earlier month rounded down."""
    latest: dict[tuple[str, int, int], int] = {}
    for w in windows:
        key = (w["service"], us(w["start"]), us(w["end"]))
        latest[key] = micros(w["downtime_s"])
    out: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    for (service, start, end), down in latest.items():
        month_start, month_end = period_bounds(EPOCH + timedelta(microseconds=start), "month")
        cut = us(month_end)
        parts = [(month_start, start, end, down)]
        if end > cut:
            early = down * (cut - start) // (end - start)
            parts = [(month_start, start, cut, early), (month_end, cut, end, down - early)]
        for month, a, b, d in parts:
            out.setdefault((month.isoformat(), service), []).append((a, b, d))
    return out


def union_totals(pieces: list[tuple[int, int, int]]) -> tuple[int, int]:
    """(observed, downtime) µs: overlapping pieces are one group; a group observes the
    length of its union and min(Σ downtime, that length)."""
    observed = downtime = 0
    group: list[int] | None = None
    for start, end, down in sorted(pieces):
        if group is not None and start < group[1]:
            group[1] = max(group[1], end)
            group[2] += down
            continue
        if group is not None:
            observed += group[1] - group[0]
            downtime += min(group[2], group[1] - group[0])
        group = [start, end, down]
    if group is not None:
        observed += group[1] - group[0]
        downtime += min(group[2], group[1] - group[0])
    return observed, downtime


def _time(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def realized(
    events: list[dict[str, Any]],
    spec: dict[str, Any],
    now: datetime,
    default_rate: Fraction,
    verdicts: dict[int, tuple[str, Fraction]] | None = None,
) -> dict[str, Any]:
    """`events`: one project's accepted events in arrival order; `verdicts`: id() of a run
    event -> (its verdict, the review's effort s) (`Reviews.verdicts`)."""
    verdicts = verdicts or {}
    start, end = period_bounds(now, spec.get("period", "month"))
    inside = [e for e in events if start <= e["time"] < end]
    runs = [e for e in inside if e["type"] == "outcomes.run.finished"]
    services = spec.get("services") or None
    cost = sum(
        (q(e["data"]["amount"]) for e in inside if e["type"] == "outcomes.cost.incurred"),
        Fraction(0),
    )
    cost += sum((q(r["data"]["cost"]) for r in runs), Fraction(0))
    savings = sum(
        (q(e["data"]["amount"]) for e in inside if e["type"] == "outcomes.savings.realized"),
        Fraction(0),
    )
    value, saved = savings, Fraction(0)
    by_verdict = dict.fromkeys(VERDICTS, 0)
    forfeited = review_effort = Fraction(0)
    for run in runs:
        data = run["data"]
        kept = data["outcome"] == "succeeded"
        verdict, effort = verdicts.get(id(run), (None, Fraction(0)))
        if verdict is not None:
            by_verdict[verdict] += 1
            review_effort += effort
            if kept and verdict in ("rejected", "escalated"):
                kept = False
                forfeited += q(data["manual_duration_s"])
        one = q(data["manual_duration_s"]) if kept else Fraction(0)
        one -= q(data["human_effort_s"]) + effort
        saved += one
        value += one / 3600 * rate_on(spec, run["time"], default_rate)
    reviewed = sum(by_verdict.values())
    windows = [
        {"service": e["data"]["service"], "start": _time(e["data"]["window_start"]), "end": e["time"],
         "downtime_s": e["data"]["downtime_s"]}
        for e in events
        if e["type"] == "outcomes.availability.observed"
        and (services is None or e["data"]["service"] in services)
    ]  # fmt: skip
    observed = down = 0
    for (month, _), pieces in window_pieces(windows).items():
        if start <= datetime.fromisoformat(month) < end:
            o, d = union_totals(pieces)
            observed, down = observed + o, down + d
    ok = sum(1 for r in runs if r["data"]["outcome"] == "succeeded")
    bad = sum(1 for r in runs if r["data"]["outcome"] == "failed")
    return {
        "f": min(Fraction(1), Fraction(int((now - start) / timedelta(microseconds=1)), int((end - start) / timedelta(microseconds=1)))),
        "savings": savings, "time_saved": saved, "cost": cost, "value": value,
        "roi": (value - cost) / cost if cost > 0 else None,
        "uptime": 1 - Fraction(down, observed) if observed else None,
        "observed": Fraction(observed, 10**6),
        "success_rate": Fraction(ok, ok + bad) if ok + bad else None, "decided_runs": ok + bad,
        "reviews": by_verdict, "reviewed": reviewed, "forfeited": forfeited,
        "review_effort": review_effort,
        "acceptance_rate": (
            Fraction(by_verdict["accepted"] + by_verdict["edited"], reviewed) if reviewed else None
        ),
        "review_coverage": Fraction(reviewed, len(runs)) if runs else None,
    }  # fmt: skip


def _status(attainment: Fraction | None, guarded: bool) -> str:
    if guarded or attainment is None:
        return "insufficient_data"
    return "met" if attainment >= 1 else "at_risk" if attainment >= Fraction(4, 5) else "off_target"


def targets(spec: dict[str, Any], r: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """target -> (objective, projected, attainment, status), all exact."""
    objectives, guards = spec.get("objectives", {}), spec.get("guards", {})
    min_elapsed = q(guards.get("minElapsed", 0.1))
    out: dict[str, tuple[Any, ...]] = {}
    for name, key, scale in (("savings", "savings", 1), ("time_saved", "timeSavedHours", 3600)):
        if key in objectives:
            objective = q(objectives[key]) * scale
            projected = r[name] / r["f"] if r["f"] else None
            attainment = projected / objective if projected is not None else None
            early = r["f"] < min_elapsed
            out[name] = (
                objective,
                projected,
                None if early else attainment,
                _status(attainment, early),
            )
    if "roi" in objectives:
        objective = q(objectives["roi"])
        guarded = r["cost"] <= 0 or r["f"] < min_elapsed
        if objective == 0:  # break-even: met when roi >= 0, no attainment ratio
            status = (
                "insufficient_data"
                if guarded or r["roi"] is None
                else "met"
                if r["roi"] >= 0
                else "off_target"
            )
            out["roi"] = (objective, r["roi"], None, status)
        else:
            attainment = r["roi"] / objective if r["roi"] is not None else None
            out["roi"] = (
                objective,
                r["roi"],
                None if guarded else attainment,
                _status(attainment, guarded),
            )
    for name, key, guarded in (
        ("uptime", "uptime", r["observed"] < q(guards.get("minObservedHours", 1)) * 3600),
        ("success_rate", "successRate", r["decided_runs"] < guards.get("minRuns", 20)),
        ("acceptance_rate", "acceptanceRate", r["reviewed"] < guards.get("minReviews", 20)),
    ):
        if key in objectives:
            objective, value = q(objectives[key]), r[name]
            attainment = (
                None
                if value is None
                else Fraction(10)
                if value == 1
                else min(Fraction(10), (1 - objective) / (1 - value))
            )
            out[name] = (
                objective,
                value,
                None if guarded else attainment,
                _status(attainment, guarded),
            )
    return out


def project_status(spec: dict[str, Any], judged: dict[str, tuple[Any, ...]]) -> str:
    if not spec.get("objectives"):
        return "unscoped"
    statuses = {t[3] for t in judged.values()}
    for status in ("off_target", "at_risk", "met"):
        if status in statuses:
            return status
    return "insufficient_data"


VERDICTS = ("accepted", "edited", "rejected", "escalated")


@dataclass
class ReviewedRun:
    event: dict[str, Any]
    forget_at: datetime
    verdict: tuple[datetime, int, str, Fraction] | None = None
    """(given at, arrival, verdict, effort s) of the review that counts."""


@dataclass
class Reviews:
    """Human review (docs/REFERENCE.md#human-review), written from the text: a review refers to
    the run of its project with its id while that run's quarter accepts events; the review
    given last (then: arrived last) is the run's verdict; one whose run has not come waits
    until its own period (by the project's period kind when it arrived) accepts no more."""

    runs: dict[tuple[str, str], ReviewedRun] = field(default_factory=dict)
    pending: dict[tuple[str, str], tuple[datetime, int, str, Fraction, datetime]] = field(
        default_factory=dict
    )
    """The review given last of those waiting for their run, and until when it waits."""
    remembered: list[ReviewedRun] = field(default_factory=list)
    """Every run ever remembered: a forgotten run's period keeps its verdict."""
    arrivals: int = 0

    def apply(self, event: dict[str, Any], kind: str) -> None:
        """An accepted run or review (`kind`: its project's period kind now)."""
        data = event["data"]
        self.arrivals += 1
        if event["type"] == "outcomes.run.finished":
            key = (data["project"], event["id"])
            if key in self.runs:
                return  # an id names one run: the first one remembered
            _, quarter_end = period_bounds(event["time"], "quarter")
            run = self.runs[key] = ReviewedRun(event, quarter_end + GRACE)
            self.remembered.append(run)
            waiting = self.pending.pop(key, None)
            if waiting is not None:
                self._give(run, waiting[:4])
            return
        key = (data["project"], data["subject"])
        review = (event["time"], self.arrivals, data["verdict"], q(data.get("human_effort_s", 0)))
        reviewed = self.runs.get(key)
        if reviewed is not None:
            self._give(reviewed, review)
            return
        _, end = period_bounds(event["time"], kind)
        known = self.pending.get(key)
        if known is None or review[:2] >= known[:2]:
            self.pending[key] = (*review, end + GRACE)

    def refuses(self, event: dict[str, Any]) -> bool:
        """A review of a run another project holds (and its own does not) is invalid."""
        if event["type"] != "outcomes.review.recorded":
            return False
        project, subject = event["data"]["project"], event["data"]["subject"]
        if (project, subject) in self.runs:
            return False
        return any(name != project and run_id == subject for name, run_id in self.runs)

    @staticmethod
    def _give(run: ReviewedRun, review: tuple[datetime, int, str, Fraction]) -> None:
        if run.verdict is None or review[:2] >= run.verdict[:2]:
            run.verdict = review

    def forget(self, now: datetime) -> int:
        """What the collector forgets at its maintenance: runs whose quarter is closed,
        pending reviews whose period is; how many of those (dead-lettered `unmatched`)."""
        self.runs = {k: r for k, r in self.runs.items() if r.forget_at > now}
        waiting = len(self.pending)
        self.pending = {k: p for k, p in self.pending.items() if p[4] > now}
        return waiting - len(self.pending)

    def verdicts(self) -> dict[int, tuple[str, Fraction]]:
        """id() of each run event given a verdict -> (verdict, review effort s), forgotten
        runs included (their periods keep the verdict)."""
        return {id(r.event): r.verdict[2:] for r in self.remembered if r.verdict}

    def pending_count(self, project: str) -> int:
        return sum(1 for (name, _) in self.pending if name == project)
