"""`outcomes report --format html` in a real headless Chromium (Debian `chromium`, driven by
playwright): it renders offline without a console error or a single network request, its
numbers are the JSON report's, and it prints."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import ConsoleMessage, Request, sync_playwright

from schemas.events import EventType
from tests.support.engines import FixedClock
from tests.support.events import make_event
from tests.unit.outcomes.test_report import DECLARATION, QUARTERLY, ingest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AT = datetime.now(UTC).isoformat()
"""Both formats evaluated at one instant: projections move with time."""


def _report(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "outcomes", "report", "--state", str(tmp_path / "state.db"),
         "--targets", str(tmp_path / "projects"), "--period", "last:3", "--at", AT, *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _history(tmp_path: Path) -> None:
    """Three months of two declared projects (monthly and quarterly) and an undeclared one,
    each month sent during that month: met, off-target and unscoped rows, a trend."""
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects" / "itsm.yaml").write_text(DECLARATION)
    (tmp_path / "projects" / "patching.yaml").write_text(QUARTERLY)
    now = datetime.now(UTC)
    clock = FixedClock(now)
    for back in (2, 1, 0):
        month = (now.replace(day=1) - timedelta(days=back * 28)).replace(day=1, hour=1)
        clock.now = min(month + timedelta(days=1), now)
        events = [
            make_event(EventType.SAVINGS_REALIZED, time=month, project=project,
                       amount=float(300 + 250 * back + len(project)))
            for project in ("ticket-triage", "patching", "side-project")
        ]  # fmt: skip
        events += [
            make_event(time=month, manual_duration_s=1800.0 * (back + 1), cost=1.25),
            make_event(EventType.COST_INCURRED, time=month, project="patching", amount=120.5),
        ]
        ingest(tmp_path, clock, events)


PRINTABLE_A4_PX = round((210 - 2 * 12) / 25.4 * 96)
PRINTABLE_LETTER_PX = round((8.5 * 25.4 - 2 * 12) / 25.4 * 96)
"""The report's print style sets 12 mm page margins."""
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('table, .cards, .trend, svg, h1, h2, p')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 0.5 || el.scrollWidth > el.clientWidth + 1)
      out.push(`${el.tagName}#${el.id}: ${Math.round(box.right)} > ${width}`);
  }
  if (document.documentElement.scrollWidth > width) out.push(`page ${document.documentElement.scrollWidth}`);
  return out;
}"""


def test_the_html_report_renders_offline_and_shows_the_json_numbers(tmp_path: Path) -> None:
    _history(tmp_path)
    as_json = _report(tmp_path, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    expected = json.loads(as_json.stdout)
    page_file = tmp_path / "report.html"
    written = _report(tmp_path, "--format", "html", "--output", str(page_file))
    assert written.returncode == 0, written.stderr

    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                problems.append(f"{message.type}: {message.text}")

        def on_request(request: Request) -> None:
            if not request.url.startswith("file://"):
                requests.append(request.url)

        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("request", on_request)
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        cells = page.eval_on_selector_all(
            "#periods tr[data-project] td[data-field]",
            "cells => cells.map(c => [c.parentElement.dataset.project,"
            " c.parentElement.dataset.period, c.dataset.field, c.dataset.value, c.innerText])",
        )
        targets = page.eval_on_selector_all(
            "#status tr[data-target] td[data-field]",
            "cells => cells.map(c => [c.parentElement.dataset.project,"
            " c.parentElement.dataset.target, c.dataset.field, c.dataset.value])",
        )
        portfolio = page.eval_on_selector_all(
            "[data-portfolio]", "cards => cards.map(c => [c.dataset.portfolio, c.dataset.value])"
        )
        charts = page.locator("svg").count()
        currency = page.locator("[data-field=currency]").inner_text()
        page.emulate_media(media="print")
        printed = page.pdf(format="A4")
        # portrait A4 and Letter, less the page margins, in CSS pixels: nothing may stick out
        widths = {}
        for paper, width in (("A4", PRINTABLE_A4_PX), ("Letter", PRINTABLE_LETTER_PX)):
            page.set_viewport_size({"width": width, "height": 1100})
            widths[paper] = page.evaluate(OVERFLOW)
        browser.close()

    assert problems == [] and requests == []
    assert currency == expected["currency"] == "USD"
    rows = {(row["project"], row["period"]): row for row in expected["projects"]}
    assert {(project, period) for project, period, *_ in cells} == set(rows)
    for project, period, field, raw, text in cells:
        want: Any = rows[(project, period)][field]
        assert (None if raw == "" else float(raw)) == want, (project, period, field)
        if field in ("value", "cost", "savings", "net_value"):
            assert text == f"{want:,.2f}"
    latest = {row["project"]: row for row in expected["projects"]}
    judged = {(p, t["target"]): t for p, row in latest.items() for t in row["targets"]}
    assert {(project, target) for project, target, *_ in targets} == set(judged)
    for project, target, field, raw in targets:
        source = latest[project] if field in ("value", "cost", "roi") else judged[(project, target)]
        assert (None if raw == "" else float(raw)) == source[field], (project, target, field)
    for field, raw in portfolio:
        shown: Any = expected["portfolio"]
        for part in field.split("."):  # by_kind.month.value: never months added to quarters
            shown = shown[part]
        assert (None if raw == "" else float(raw)) == shown, field
    kinds = {field.split(".")[1] for field, _ in portfolio if field.startswith("by_kind.")}
    assert kinds == {row["period_kind"] for row in expected["projects"]}
    assert charts >= 3  # a value/cost chart per project, attainment charts for declared ones
    assert printed[:4] == b"%PDF" and len(printed) > 10_000
    assert widths == {"A4": [], "Letter": []}, widths
