"""Grafana dashboards as code (grafana-foundation-sdk): portfolio, team, project, collector.

`make dashboards` (python deploy/grafana/dashboards.py) rewrites deploy/grafana/dashboards/*.json;
a test fails when the committed JSON differs from what this file generates. Every query uses
the `${datasource}` variable, so an import needs no edits; money is filtered by `${currency}`.

Written for leaders first: every panel says what it shows and how it is computed (with a
link to docs/REFERENCE.md), statuses are words in their colours, attainment and ROI are
coloured at a glance, monthly and quarterly projects are never summed together, and the
boards link portfolio -> team -> project and back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the boards beside this script

from boards.collector import collector
from boards.portfolio import portfolio
from boards.project import project
from boards.team import team
from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel
from grafana_foundation_sdk.models.dashboard import DashboardLinkType

OUT = Path(__file__).parent / "dashboards"


BOARDS: dict[str, Callable[[], dashboard.Dashboard]] = {
    "portfolio": portfolio,
    "team": team,
    "project": project,
    "collector": collector,
}


def _finish(board: DashboardModel) -> DashboardModel:
    """Links between the boards keep the time range and the variables."""
    for item in board.links or []:
        if item.type_val == DashboardLinkType.DASHBOARDS:
            item.include_vars = True
            item.keep_time = True
    return board


def render() -> dict[str, str]:
    encoder = JSONEncoder(sort_keys=True, indent=2)
    return {
        f"{name}.json": encoder.encode(_finish(make().build())) + "\n"
        for name, make in BOARDS.items()
    }


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(OUT / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
