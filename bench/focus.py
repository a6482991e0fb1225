"""`python -m bench.focus [ROWS]`: a month of a cloud bill through `outcomes import focus`.

A seeded FOCUS 1.0 CSV (ROWS rows, default 200,000: 40 projects, 30 days, hourly charges
of many resources, credits and corrections) is read and summed into statements by the
importer (dry run: the same work without the broker), timed as CPU seconds of this
process, beside the floor of reading the same file with pyarrow and summing per project
(each the best of three rounds: pyarrow's first call in a process costs 3x its next).
Then the exactness: each project's statement total against the exact decimal sum of its
rows, and how many events the statement takes against one per row.
"""

from __future__ import annotations

import csv
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from rich.console import Console

from outcomes.importers.focus.run import Options, import_focus

COLUMNS = (
    "ProviderName", "BillingAccountId", "SubAccountId", "ResourceId", "RegionId",
    "ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "ChargeCategory",
    "ChargeClass", "ChargeDescription", "ServiceName", "ServiceCategory", "SkuId",
    "SkuPriceId", "BillingCurrency", "BilledCost", "EffectiveCost", "Tags",
)  # fmt: skip


def write_bill(path: Path, rows: int, seed: int = 5) -> dict[str, Decimal]:
    """The bill, and each project's exact EffectiveCost sum."""
    rng = random.Random(seed)
    expected: dict[str, Decimal] = defaultdict(Decimal)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for number in range(rows):
            project = f"project-{number % 40:02d}"
            day, hour = 1 + number % 30, number % 24
            amount = Decimal(rng.randrange(-50_000, 9_000_000)) / 10**10
            start = f"2026-11-{day:02d}T{hour:02d}:00:00Z"
            writer.writerow((
                "AWS", "123456789012", f"acct-{number % 7}", f"i-{number:08d}", "eu-west-1",
                start, start.replace(f"T{hour:02d}", f"T{hour:02d}"), "2026-11-01T00:00:00Z",
                "Credit" if amount < 0 else "Usage", "", "usage", "Amazon EC2", "Compute",
                "SKU", "SKU-P", "USD", str(amount), str(amount),
                json.dumps({"outcomes-project": project}),
            ))  # fmt: skip
            expected[project] += amount
    return dict(expected)


ROUNDS = 3


def floor_s(path: Path) -> float:
    """CPU seconds pyarrow takes to read the file and sum EffectiveCost per tag string."""
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv

    started = time.process_time()
    table = pacsv.read_csv(path)
    table.group_by("Tags").aggregate([("EffectiveCost", "sum")])
    pc.sum(table["EffectiveCost"])
    return time.process_time() - started


def main(rows: int = 200_000) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bill.csv"
        expected = write_bill(path, rows)
        options = Options("outcomes-project", "EffectiveCost", "USD", dry_run=True)
        console = Console(file=open("/dev/null", "w"))  # noqa: SIM115 - the bench's sink
        runs = []
        for _ in range(ROUNDS):  # the best of a few: what the code costs, not the machine
            started, wall = time.process_time(), time.perf_counter()
            result = import_focus(
                [path], options, bootstrap_servers="", topic="bench", console=console
            )
            runs.append((time.process_time() - started, time.perf_counter() - wall))
        cpu_s, wall_s = min(runs)
        arrow_s = min(floor_s(path) for _ in range(ROUNDS))  # warm: pyarrow's first call
    sent = result.statements[0]
    exact_total = sum(expected.values(), Decimal(0))
    print(f"{rows:,} FOCUS rows, {len(expected)} projects, 30 days, one statement")
    print(f"importer (dry run): {cpu_s:.2f} s CPU ({rows / cpu_s:,.0f} rows per CPU second),"
          f" {wall_s:.2f} s wall")  # fmt: skip
    print(f"pyarrow read + sum per project: {arrow_s:.2f} s CPU: the importer takes"
          f" {cpu_s / arrow_s:.1f}x that floor")  # fmt: skip
    print(f"events: {result.sent:,} statement events (one per project) instead of {rows:,}")
    print(f"exactness: statement total {sent.cost} against the exact decimal sum of the rows"
          f" {exact_total}: {sent.cost - exact_total} (each (project, day, category) line"
          " rounded once to 1e-9; one-per-row events rounded each row to 1e-6)")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
