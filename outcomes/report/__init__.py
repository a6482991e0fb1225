"""`outcomes report`: period results per project from the state store, for people.

`collect` reads the state with the engine's own evaluation (the same numbers as `/metrics`);
`words` says the figures as people read them, for every format: `text` (a terminal table),
`markdown`, `data` (JSON and CSV) and `html` (one self-contained page, `charts` in SVG).
"""

from outcomes.report.collect import Report, ReportError, build_report, collect_rows

__all__ = ["Report", "ReportError", "build_report", "collect_rows"]
