"""Whether a project can be judged at all: the readiness checks (docs/REFERENCE.md#readiness).

A project is ready when it has an owner and a sponsor, at least one measurable objective, a
baseline for the time it values (a declared hourly rate; runs that report the manual time
they replace when time saved is an objective), recent data for each objective (an event of
each input within `READINESS_WINDOW_S`) and, as a pilot, a scope (since when, and a
decision with a date to review it by). Each check that fails says why, in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from collector.engine.aggregates import LifetimeCounters
from collector.engine.policy import UNKNOWN, Objectives, ProjectProfile

READINESS_CHECKS: Final = ("owner", "sponsor", "objectives", "baseline", "data", "scope")
READINESS_WINDOW_S: Final = 7 * 86400.0
"""How recent each objective's inputs must be (7 days)."""

_INPUT_WORDS: Final = {
    "runs": "runs",
    "savings": "savings",
    "cost": "cost",
    "availability": "availability windows",
    "reviews": "reviews",
}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool
    reason: str = ""
    """Why it failed, in words ("no savings reported in 7 days"); empty when it passed."""


def needed_inputs(objectives: Objectives, uptime_from: str) -> tuple[tuple[str, ...], ...]:
    """Per objective, the inputs any one of which feeds it (its data must be recent)."""
    needed: list[tuple[str, ...]] = []
    if objectives.savings is not None:
        needed.append(("savings",))
    if objectives.time_saved_s is not None or objectives.success_rate is not None:
        needed.append(("runs",))
    if objectives.roi is not None:
        needed += [("runs", "savings"), ("cost", "runs")]
    if objectives.uptime is not None and uptime_from == "windows":
        needed.append(("availability",))  # on the incidents basis no incident is news too
    if objectives.acceptance_rate is not None:
        needed.append(("reviews",))
    return tuple(dict.fromkeys(needed))


def values_time(objectives: Objectives) -> bool:
    """Whether the project's targets rest on time saved valued at an hourly rate."""
    return objectives.time_saved_s is not None or objectives.roi is not None


def readiness(
    profile: ProjectProfile, counters: LifetimeCounters, now_s: float
) -> tuple[Check, ...]:
    """Every check of `READINESS_CHECKS`, in that order."""
    objectives = profile.objectives
    return (
        Check("owner", *_failed_if(profile.owner == UNKNOWN, "no owner declared")),
        Check("sponsor", *_failed_if(profile.sponsor == UNKNOWN, "no sponsor declared")),
        Check(
            "objectives",
            *_failed_if(objectives.is_empty(), "no measurable objective declared"),
        ),
        Check("baseline", *_baseline(profile, counters)),
        Check("data", *_data(profile, counters, now_s)),
        Check("scope", *_scope(profile)),
    )


def _failed_if(failed: bool, reason: str) -> tuple[bool, str]:
    return (False, reason) if failed else (True, "")


def _baseline(profile: ProjectProfile, counters: LifetimeCounters) -> tuple[bool, str]:
    reasons = []
    valued = values_time(profile.objectives) or counters.manual_avoided_us > 0
    if valued and not profile.rate_declared:
        reasons.append("time saved valued at the default rate")
    if profile.objectives.time_saved_s is not None and counters.manual_avoided_us <= 0:
        reasons.append("no run reported the manual time it replaces (manual_duration_s)")
    return not reasons, "; ".join(reasons)


def _data(profile: ProjectProfile, counters: LifetimeCounters, now_s: float) -> tuple[bool, str]:
    latest = counters.latest_input_s
    since = now_s - READINESS_WINDOW_S
    days = f"{READINESS_WINDOW_S / 86400:g} days"
    needed = needed_inputs(profile.objectives, profile.uptime_from)
    if not needed:  # nothing declared to judge: any recent event is data
        recent = any(moment >= since for moment in latest.values())
        return _failed_if(not recent, f"no events reported in {days}")
    missing = [
        " or ".join(_INPUT_WORDS[name] for name in inputs)
        for inputs in needed
        if not any(latest.get(name, float("-inf")) >= since for name in inputs)
    ]
    return _failed_if(bool(missing), f"no {', no '.join(missing)} reported in {days}")


def _scope(profile: ProjectProfile) -> tuple[bool, str]:
    if profile.stage != "pilot":
        return True, ""
    reasons = []
    if profile.stage_since_s is None:
        reasons.append("a pilot without stageSince")
    if profile.review_due_s is None:
        reasons.append("a pilot without a decision to review it by a date")
    return not reasons, "; ".join(reasons)
