"""Alert rules with absolute links for your deployment.

Every alert carries `runbook_url` (a section of docs/OPERATIONS.md) and `dashboard` (a
Grafana board) as absolute URLs, so they are clickable in Alertmanager, Slack or a pager.
The committed rules/outcomes-alerts.yml uses the defaults below; render your own with

    python deploy/prometheus/render_rules.py --docs-url https://git.example.com/outcomes/docs \\
        --grafana-url https://grafana.example.com --out /etc/prometheus/rules

which writes both rule files with your bases. Only the link bases change.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

HERE = Path(__file__).parent
RULES = HERE / "rules"
DOCS_URL: Final = "https://github.com/outcome-telemetry/collector/blob/main/docs"
"""Default base of runbook links: the docs folder of the repository, as published."""
GRAFANA_URL: Final = "http://localhost:3000"
"""Default base of dashboard links: the Grafana of deploy/docker-compose.yml."""


def render(docs_url: str = DOCS_URL, grafana_url: str = GRAFANA_URL) -> dict[str, str]:
    """File name -> text of each rule file, its links on the given bases."""
    docs, grafana = docs_url.rstrip("/"), grafana_url.rstrip("/")
    rendered = {}
    for path in sorted(RULES.glob("*.yml")):
        text = path.read_text()
        text = text.replace(f"runbook_url: {DOCS_URL}/", f"runbook_url: {docs}/")
        text = text.replace(f"dashboard: {GRAFANA_URL}/", f"dashboard: {grafana}/")
        rendered[path.name] = text
    return rendered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs-url", default=DOCS_URL, help=f"runbook base (default {DOCS_URL})")
    parser.add_argument(
        "--grafana-url", default=GRAFANA_URL, help=f"dashboard base (default {GRAFANA_URL})"
    )
    parser.add_argument("--out", type=Path, required=True, help="directory to write the rules to")
    args = parser.parse_args(argv)
    for bad in (args.docs_url, args.grafana_url):
        if not bad.startswith(("http://", "https://")):
            parser.error(f"{bad!r}: give an absolute http(s) URL")
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in render(args.docs_url, args.grafana_url).items():
        (args.out / name).write_text(text)
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
