"""`outcomes report`: period results per project from the state store, for people.

`collect` reads the state with the engine's own evaluation (the same numbers as `/metrics`);
`text` renders a table, CSV, JSON or Markdown; `html` one self-contained page.
"""

from outcomes.report.collect import Report, ReportError, build_report, collect_rows

__all__ = ["Report", "ReportError", "build_report", "collect_rows"]
