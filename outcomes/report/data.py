"""The report as data: JSON (every field) and CSV (one line per project, period and
target). Pure: a `Report` in, text out."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from outcomes.report.collect import Report
from outcomes.report.words import (
    baselines_text,
    rates_text,
    revisions_text,
    statements_text,
)


def render_json(report: Report) -> str:
    return json.dumps(report.as_json(), indent=2) + "\n"


def render_csv(report: Report) -> str:
    """One line per project, period and target (a project without targets gets one line)."""
    rows = report.rows
    out = io.StringIO()
    lists = ("runs", "reviews", "hourly_rates", "targets", "incidents", "statements",
             "readiness", "missing", "revisions", "objective_changes", "baselines")  # fmt: skip
    scalar = [k for k in rows[0] if k not in lists] if rows else []
    fields = [*scalar, "runs", "reviewed_runs", "incidents", "statements", "hourly_rates"]
    fields += ["baselines"]
    fields += ["missing", "revisions", "objective_changes"]
    fields += ["target", "unit"]
    fields += ["objective"]
    fields += ["projected", "attainment", "target_status"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        base = {k: _cell(row[k]) for k in scalar}
        base["runs"] = sum(row["runs"].values())
        base["reviewed_runs"] = sum(row.get("reviews", {}).values())
        base["incidents"] = len(row.get("incidents", ()))
        base["statements"] = statements_text(row)
        base["hourly_rates"] = rates_text(row["hourly_rates"])
        base["baselines"] = baselines_text(row, shown=len(row.get("baselines", ())))
        base["missing"] = "; ".join(row.get("missing", ()))
        base["revisions"] = revisions_text(row)
        base["objective_changes"] = "; ".join(row.get("objective_changes", ()))
        for target in row["targets"] or [{}]:
            writer.writerow(
                {
                    **base,
                    "target": target.get("target", ""),
                    "unit": target.get("unit", ""),
                    "objective": _cell(target.get("objective")),
                    "projected": _cell(target.get("projected")),
                    "attainment": _cell(target.get("attainment")),
                    "target_status": target.get("status", ""),
                }
            )
    return out.getvalue()


def _cell(value: Any) -> Any:
    return "" if value is None else value
