"""A second, independent implementation of DESIGN §5 (targets, statuses, portfolio).

Written from the design text with plain dicts and Fractions, sharing no code with the
collector, so tests can check the collector's numbers against it.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """Events counted (too_late / future / duplicates removed), in any order."""
    seen, accepted, rejected = set(), [], 0
    for event in events:
        kind = kinds.get(event["data"]["project"], "month")
        _, end = period_bounds(event["time"], kind)
        if event["time"] > now + timedelta(minutes=5) or end + GRACE <= now:
            rejected += 1
            continue
        if (event["source"], event["id"]) in seen:
            continue
        seen.add((event["source"], event["id"]))
        accepted.append(event)
    return Verdicts(accepted, rejected)


def realized(
    events: list[dict[str, Any]], spec: dict[str, Any], now: datetime, default_rate: Fraction
) -> dict[str, Any]:
    start, end = period_bounds(now, spec.get("period", "month"))
    inside = [e for e in events if start <= e["time"] < end]
    runs = [e["data"] for e in inside if e["type"] == "outcomes.run.finished"]
    services = spec.get("services") or None
    windows = [
        e["data"] for e in inside
        if e["type"] == "outcomes.availability.observed" and (services is None or e["data"]["service"] in services)
    ]  # fmt: skip
    cost = sum(
        (q(e["data"]["amount"]) for e in inside if e["type"] == "outcomes.cost.incurred"),
        Fraction(0),
    )
    cost += sum((q(r["cost"]) for r in runs), Fraction(0))
    savings = sum(
        (q(e["data"]["amount"]) for e in inside if e["type"] == "outcomes.savings.realized"),
        Fraction(0),
    )
    saved = sum(
        (q(r["manual_duration_s"]) for r in runs if r["outcome"] == "succeeded"), Fraction(0)
    )
    saved -= sum((q(r["human_effort_s"]) for r in runs), Fraction(0))
    rate = q(spec["hourlyRate"]) if "hourlyRate" in spec else default_rate
    value = savings + saved / 3600 * rate
    observed = sum((Fraction(w["length_us"], 10**6) for w in windows), Fraction(0))
    down = sum((q(w["downtime_s"]) for w in windows), Fraction(0))
    ok = sum(1 for r in runs if r["outcome"] == "succeeded")
    bad = sum(1 for r in runs if r["outcome"] == "failed")
    return {
        "f": min(Fraction(1), Fraction(int((now - start) / timedelta(microseconds=1)), int((end - start) / timedelta(microseconds=1)))),
        "savings": savings, "time_saved": saved, "cost": cost, "value": value,
        "roi": (value - cost) / cost if cost else None,
        "uptime": 1 - down / observed if observed else None, "observed": observed,
        "success_rate": Fraction(ok, ok + bad) if ok + bad else None, "decided_runs": ok + bad,
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
        attainment = r["roi"] / objective if r["roi"] is not None else None
        guarded = r["cost"] <= 0 or r["f"] < min_elapsed
        out["roi"] = (
            objective,
            r["roi"],
            None if guarded else attainment,
            _status(attainment, guarded),
        )
    for name, key, guarded in (
        ("uptime", "uptime", r["observed"] < q(guards.get("minObservedHours", 1)) * 3600),
        ("success_rate", "successRate", r["decided_runs"] < guards.get("minRuns", 20)),
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
