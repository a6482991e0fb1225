"""What a set of valid declarations cannot do: the warnings of `outcomes targets check`.

A declaration can validate and still leave a project unable to become ready to be judged
(docs/REFERENCE.md#readiness) — no sponsor, no measurable objective, time valued at the
default hourly rate, a pilot without a start or a review date — or do nothing at all (a
decision for a project no declaration names). These are warnings: the files load.
"""

from __future__ import annotations

from dataclasses import dataclass

from collector.declarations.decision import DecisionDeclaration, latest
from collector.declarations.declaration import ProjectDeclaration
from collector.declarations.loader import Located


@dataclass(frozen=True, slots=True)
class Advice:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: warning: {self.message}"


def advice(found: list[Located]) -> list[Advice]:
    """Warnings about `found` (every declaration of the files checked), in file order."""
    projects = {
        item.declaration.name for item in found if isinstance(item.declaration, ProjectDeclaration)
    }
    decisions = [d for d in (i.declaration for i in found) if isinstance(d, DecisionDeclaration)]
    reviewed = {
        project for project, decision in latest(decisions).items() if decision.spec.reviewBy
    }
    warnings: list[Advice] = []
    for item in found:
        declaration, here = item.declaration, (str(item.file), item.line)
        if isinstance(declaration, ProjectDeclaration):
            warnings += [Advice(*here, m) for m in _project(declaration, reviewed)]
        elif (
            isinstance(declaration, DecisionDeclaration)
            and declaration.spec.project not in projects
        ):
            warnings.append(
                Advice(
                    *here,
                    f"decision {declaration.name}: no Project declares"
                    f" {declaration.spec.project}, so it has no effect",
                )
            )
    return warnings


def _project(declaration: ProjectDeclaration, reviewed: set[str]) -> list[str]:
    """Why this project cannot become ready to be judged, as declared."""
    name, spec = declaration.name, declaration.spec
    wanted = spec.objectives
    found = []
    if spec.owner is None:
        found.append("no owner: the owner readiness check cannot pass")
    if spec.sponsor is None:
        found.append("no sponsor: the sponsor readiness check cannot pass")
    if wanted.is_empty():
        found.append("no measurable objective: the objectives readiness check cannot pass")
    if spec.hourlyRate is None and (wanted.timeSavedHours is not None or wanted.roi is not None):
        found.append(
            "its targets value time saved but no hourlyRate is declared: valued at the"
            " default rate, the baseline readiness check cannot pass"
        )
    if spec.stage == "pilot":
        if spec.stageSince is None:
            found.append("a pilot without stageSince: the scope readiness check cannot pass")
        if name not in reviewed:
            found.append(
                "a pilot whose decision in force has no reviewBy (or no Decision at all): the"
                " scope readiness check cannot pass"
            )
    return [f"project {name}: {message}" for message in found]
