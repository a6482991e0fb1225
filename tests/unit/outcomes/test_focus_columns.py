"""The column path (pyarrow batches) against the row path on the same files: the same
statements, counts, reasons and rejected rows, whatever mix of rows a bill holds."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bench.focus import COLUMNS
from outcomes.importers.focus import run
from outcomes.importers.focus.run import ImportResult, Options, import_focus

ODD = {
    "Tags": ['{"app": "BrightPath"}', "", "NULL", '{"app": "Bad Name!"}', "{not json"],
    "BillingCurrency": ["EUR", " USD ", "NULL"],
    "EffectiveCost": ["0", "NULL", "abc", "1e400", " 2.5 ", "-0.0000000001", "NaN"],
    "ChargePeriodStart": ["2024-09-24 14:00:00", "yesterday", "", "2099-01-01T00:00:00Z"],
    "BillingPeriodStart": ["2026-10-01T00:00:00Z", "NULL"],
    "BillingAccountId": ["", "NULL", " 42 "],
    "SubAccountId": ["NULL", "null", " s-1 ", ""],
    "ServiceCategory": ["Business Applications", "Other", ""],
    "ChargeCategory": ["Tax", "Credit"],
}  # fmt: skip


def bill(rng: random.Random, rows: int) -> Iterator[dict[str, str]]:
    for number in range(rows):
        day, project = 1 + number % 28, rng.choice(("alpha", "beta", "gamma"))
        start = f"2026-11-{day:02d}T{number % 24:02d}:00:00Z"
        row = {
            "ProviderName": rng.choice(("AWS", "")), "BillingAccountId": "1234",
            "SubAccountId": f"a{number % 3}", "ResourceId": f"r-{rng.randrange(rows // 2)}",
            "RegionId": "eu", "ChargePeriodStart": start, "ChargePeriodEnd": start,
            "BillingPeriodStart": "2026-11-01T00:00:00Z", "ChargeCategory": "Usage",
            "ChargeClass": "", "ChargeDescription": "d", "ServiceName": "s",
            "ServiceCategory": "Compute", "SkuId": "k", "SkuPriceId": "p",
            "BillingCurrency": "USD", "BilledCost": "1", "Tags": f'{{"app": "{project}"}}',
            "EffectiveCost": str(rng.randrange(-10**6, 10**9) / 10**7),
        }  # fmt: skip
        if rng.random() < 0.3:  # one odd cell
            name = rng.choice(sorted(ODD))
            row[name] = rng.choice(ODD[name])
        yield row


def imported(paths: list[Path], *, columns: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    if not columns:
        monkeypatch.setattr(run, "columnar", lambda path, progress: None)
    rejects = io.StringIO()
    options = Options("app", "EffectiveCost", "USD", dry_run=True)
    result: ImportResult = import_focus(
        paths, options, bootstrap_servers="", topic="t",
        console=Console(file=io.StringIO()), rejects=rejects,
    )  # fmt: skip
    monkeypatch.undo()
    return (
        result.read, result.repeated, dict(result.skipped), result.projects, dict(result.notes),
        [(s.statement, s.version, s.cost) for s in result.statements],
        {k: dict(v) for k, v in result.withheld.items()}, sorted(rejects.getvalue().splitlines()),
    )  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
def test_the_column_path_counts_what_the_row_path_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    paths = []
    for part in range(2):  # two overlapping parts: repeated rows count once
        path = tmp_path / f"part-{part}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, COLUMNS)
            writer.writeheader()
            writer.writerows(bill(random.Random(seed * 10 + part % 1), 3000))
        paths.append(path)
    by_rows = imported(paths, columns=False, monkeypatch=monkeypatch)
    by_columns = imported(paths, columns=True, monkeypatch=monkeypatch)
    assert by_columns == by_rows
    assert by_rows[1] > 0 and by_rows[2]  # repeated rows and skipped ones were there
    del rng
