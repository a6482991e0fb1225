"""The `/metrics` body written straight from a snapshot, text format 0.0.4 or OpenMetrics.

Output is byte-identical to prometheus_client's encoders over `families` (a unit test
holds both to that), but written directly: each family's sample lines are formatted
from a precompiled template, and the lines of a project are cached as long as the
engine hands out the same (unchanged, immutable) `ProjectSnapshot` object, so a
scrape re-formats only the projects that changed since the previous one.

A scrape may ask for some samples only (`/metrics?name[]=…`, as prometheus_client's
`restricted_registry` and node_exporter's `collect[]` allow): a health check or a
watcher polling one counter then costs nothing per project.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Final, cast

from prometheus_client.utils import floatToGoString

from exporters.catalog import (
    DELAY,
    GLOBAL_FAMILIES,
    OTLP_EXPORTS,
    PROJECT_FAMILIES,
    Family,
    Sample,
    delay_buckets,
    global_samples,
    project_samples,
)
from schemas.snapshot import ProjectSnapshot, Snapshot

OPENMETRICS_EOF: Final = "# EOF\n"
go_float = cast(Callable[[float], str], floatToGoString)
"""A sample value as prometheus_client writes it (`1.7934912e+09`, `+Inf`)."""


def escape(value: str) -> str:
    """A label value as both text formats quote it."""
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


@dataclass(frozen=True, slots=True)
class _Template:
    """One family's headers and sample-line format (labels sorted by name, as
    prometheus_client writes them)."""

    text_header: str
    openmetrics_header: str
    line: str
    order: tuple[int, ...]

    @classmethod
    def of(cls, family: Family) -> _Template:
        exposed = family.name
        kind = family.kind
        family_name = exposed.removesuffix("_total") if kind == "counter" else exposed
        help_text = family.help.replace("\\", r"\\").replace("\n", r"\n")
        text_header = f"# HELP {exposed} {help_text}\n# TYPE {exposed} {kind}\n"
        om_help = help_text.replace('"', r"\"")
        om_header = f"# HELP {family_name} {om_help}\n# TYPE {family_name} {kind}\n"
        order = tuple(sorted(range(len(family.labels)), key=family.labels.__getitem__))
        labels = ",".join(f'{family.labels[i]}="%s"' for i in order)
        line = f"{exposed}{{{labels}}} %s\n" if labels else f"{exposed} %s\n"
        return cls(text_header, om_header, line, order)

    def header(self, openmetrics: bool) -> str:
        return self.openmetrics_header if openmetrics else self.text_header

    def lines(self, samples: list[Sample]) -> str:
        line, order = self.line, self.order
        return "".join(
            line % (*[escape(labels[i]) for i in order], go_float(value))
            for labels, value in samples
        )


_PROJECT_TEMPLATES: Final = tuple(_Template.of(family) for family in PROJECT_FAMILIES)
_GLOBAL_TEMPLATES: Final = {
    family: _Template.of(family) for family in (*GLOBAL_FAMILIES, DELAY, OTLP_EXPORTS)
}


@dataclass(frozen=True, slots=True)
class _Rendered:
    project: ProjectSnapshot
    currency: str
    chunks: tuple[str, ...]
    """One string of sample lines per entry of `PROJECT_FAMILIES`."""


class Renderer:
    """Renders snapshots; safe to call from several scrape threads at once (a race
    only costs a project being formatted twice)."""

    def __init__(self) -> None:
        self._cache: dict[str, _Rendered] = {}

    def render(
        self,
        snapshot: Snapshot | None,
        openmetrics: bool = False,
        names: Collection[str] | None = None,
    ) -> bytes:
        """The exposition of `snapshot`; with `names`, only the samples of those names
        (a counter's is `…_total`, the histogram's `…_bucket`, `…_sum`, `…_count`), and
        only the families that have one, as prometheus_client's `restricted_registry`."""
        if snapshot is None:
            return OPENMETRICS_EOF.encode() if openmetrics else b""
        if names is not None:
            return self._selected(snapshot, openmetrics, frozenset(names))
        return self._all(snapshot, openmetrics)

    def _selected(self, snapshot: Snapshot, openmetrics: bool, names: frozenset[str]) -> bytes:
        full = self._all(snapshot, openmetrics) if _PROJECT_NAMES & names else b""
        parts: list[str] = []
        if full:  # project samples asked for: filter the (cached) whole, line by line
            parts.extend(_filtered(full.decode(), names))
        else:  # portfolio and collector health only: nothing per project
            parts.extend(_filtered(self._global_text(snapshot, openmetrics), names))
        if openmetrics and not full:
            parts.append(OPENMETRICS_EOF)
        return "".join(parts).encode()

    def _all(self, snapshot: Snapshot, openmetrics: bool) -> bytes:
        previous, current = self._cache, {}
        columns = []
        currency = snapshot.currency
        for project in snapshot.projects:
            hit = previous.get(project.name)
            if hit is None or hit.project is not project or hit.currency != currency:
                samples = project_samples(project, currency)
                chunks = tuple(
                    template.lines(family_samples)
                    for template, family_samples in zip(_PROJECT_TEMPLATES, samples, strict=True)
                )
                hit = _Rendered(project, currency, chunks)
            current[project.name] = hit
            columns.append(hit.chunks)
        self._cache = current
        parts: list[str] = []
        for index, template in enumerate(_PROJECT_TEMPLATES):
            parts.append(template.header(openmetrics))
            parts.extend(chunks[index] for chunks in columns)
        parts.append(self._global_text(snapshot, openmetrics))
        if openmetrics:
            parts.append(OPENMETRICS_EOF)
        return "".join(parts).encode()

    @staticmethod
    def _global_text(snapshot: Snapshot, openmetrics: bool) -> str:
        parts: list[str] = []
        for family, family_samples in global_samples(snapshot):
            if family is DELAY:
                parts.append(_histogram(snapshot, openmetrics))
                continue
            template = _GLOBAL_TEMPLATES[family]
            parts.append(template.header(openmetrics))
            parts.append(template.lines(family_samples))
        return "".join(parts)


def _sample_names(family: Family) -> frozenset[str]:
    if family is DELAY:
        return frozenset(f"{family.name}_{suffix}" for suffix in ("bucket", "count", "sum"))
    return frozenset({family.name})


_PROJECT_NAMES: Final = frozenset().union(*map(_sample_names, PROJECT_FAMILIES))


def _filtered(text: str, names: frozenset[str]) -> list[str]:
    """The families of an exposition that have a sample named in `names`, with only those
    samples (headers kept for them, `# EOF` kept)."""
    kept: list[str] = []
    header: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("#"):
            if line.startswith("# EOF"):
                kept.append(line)
            elif line.startswith("# HELP"):
                header = [line]
            else:
                header.append(line)
            continue
        end = line.find("{")
        name = line[: end if end >= 0 else line.find(" ")]
        if name in names:
            kept.extend(header)
            header = []
            kept.append(line)
    return kept


def _histogram(snapshot: Snapshot, openmetrics: bool) -> str:
    buckets, total = delay_buckets(snapshot)
    name = DELAY.name
    lines = [_GLOBAL_TEMPLATES[DELAY].header(openmetrics)]
    lines.extend(f'{name}_bucket{{le="{le}"}} {go_float(count)}\n' for le, count in buckets)
    lines.append(f"{name}_count {go_float(buckets[-1][1])}\n")
    lines.append(f"{name}_sum {go_float(total)}\n")
    return "".join(lines)
