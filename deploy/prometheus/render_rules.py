"""Alert rules with absolute links for your deployment.

Every alert carries `runbook_url` (a section of docs/OPERATIONS.md) and `dashboard` (a
Grafana board) as absolute URLs, so they are clickable in Alertmanager, Slack or a pager.
The bases come from one setting, deploy/site.yaml: change it and run `make site` to
rewrite the committed rules (and the boards). Or render copies elsewhere with

    python deploy/prometheus/render_rules.py --docs-url https://git.example.com/outcomes/docs \\
        --grafana-url https://grafana.example.com --out /etc/prometheus/rules

which writes both rule files with those bases. Only the link bases change.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Final

import yaml

HERE = Path(__file__).parent
RULES = HERE / "rules"
LINKS = HERE.parent / "site.yaml"
RUNBOOK: Final = re.compile(r"(runbook_url: )(\S+?)(/OPERATIONS\.md#)")
BOARD: Final = re.compile(r"(dashboard: )(\S+?)(/d/outcomes-)")


def links() -> tuple[str, str]:
    """(docs base, Grafana base) of deploy/site.yaml."""
    setting = yaml.safe_load(LINKS.read_text())
    return str(setting["docs_url"]).rstrip("/"), str(setting["grafana_url"]).rstrip("/")


DOCS_URL, GRAFANA_URL = links()
"""The bases the committed rules carry (deploy/site.yaml)."""


def render(docs_url: str = DOCS_URL, grafana_url: str = GRAFANA_URL) -> dict[str, str]:
    """File name -> text of each rule file, its links on the given bases (whatever bases
    the files carry now)."""
    docs, grafana = docs_url.rstrip("/"), grafana_url.rstrip("/")
    rendered = {}
    for path in sorted(RULES.glob("*.yml")):
        rendered[path.name] = relinked(path.read_text(), docs, grafana)
    return rendered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs-url", default=DOCS_URL, help=f"runbook base (default {DOCS_URL})")
    parser.add_argument(
        "--grafana-url", default=GRAFANA_URL, help=f"dashboard base (default {GRAFANA_URL})"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=RULES,
        help="directory to write the rules to (default: the committed ones, rules/)",
    )
    args = parser.parse_args(argv)
    for bad in (args.docs_url, args.grafana_url):
        if not bad.startswith(("http://", "https://")):
            parser.error(f"{bad!r}: give an absolute http(s) URL")
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in render(args.docs_url, args.grafana_url).items():
        (args.out / name).write_text(text)
        print(args.out / name)
    if args.out.resolve() == RULES.resolve():  # the committed rules: their tests expect the links
        tests = HERE / "tests" / "alerts_test.yml"
        tests.write_text(relinked(tests.read_text(), args.docs_url, args.grafana_url))
        print(tests)
    return 0


def relinked(text: str, docs_url: str, grafana_url: str) -> str:
    docs, grafana = docs_url.rstrip("/"), grafana_url.rstrip("/")
    text = RUNBOOK.sub(lambda m: f"{m.group(1)}{docs}{m.group(3)}", text)
    return BOARD.sub(lambda m: f"{m.group(1)}{grafana}{m.group(3)}", text)


if __name__ == "__main__":
    sys.exit(main())
