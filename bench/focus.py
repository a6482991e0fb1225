"""`python -m bench.focus [--rows N]`: a month of a large account's cloud bill, end to end.

A seeded FOCUS 1.0 export (N rows, default 1,000,000: 40 projects, 30 days, hourly charges
of many resources, credits among them, amounts of up to 9 decimals) written as CSV and as
typed Parquet (timestamps, float amounts, Tags a map). For each: a collector at its
defaults on the embedded broker, then `outcomes import focus FILE` as a user runs it,
timed from its start until the collector's /metrics shows every project's exact cost —
beside, in the same run, pyarrow reading the same file and summing its cost per tag (the
floor), twice: as a program of its own (`python -c …`, started and timed as the import is:
Python and pyarrow loading included) and in a process where pyarrow has run already (its
kernels alone). All are the best of three, modules byte-compiled as from a user's second
run on. The import's CPU (user + system) against the floor's, and its peak memory at a
fifth of the rows and at all of them (streamed: it should not grow with the file).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import table, write
from collector.embedded import free_port
from tests.support.brokers import running_broker
from tests.support.live import scrape, total, value, wait_until
from tests.support.processes import start_collect_process

COLUMNS = (
    "ProviderName", "BillingAccountId", "SubAccountId", "ResourceId", "RegionId",
    "ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "ChargeCategory",
    "ChargeClass", "ChargeDescription", "ServiceName", "ServiceCategory", "SkuId",
    "SkuPriceId", "BillingCurrency", "BilledCost", "EffectiveCost", "Tags",
)  # fmt: skip
TAG = "outcomes-project"
ROUNDS = 3
PARTITIONS = 6
SETTLE_S = 8.0
"""More than the collector's session timeout (6 s here): its second worker has joined."""


def write_bill(path: Path, rows: int, seed: int = 5) -> dict[str, Decimal]:
    """The bill as CSV, and each project's exact EffectiveCost sum."""
    rng = random.Random(seed)
    expected: dict[str, Decimal] = defaultdict(Decimal)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for number in range(rows):
            project = f"project-{number % 40:02d}"
            day, hour = 1 + number % 30, number % 24
            amount = Decimal(rng.randrange(-50_000, 9_000_000)) / 10**9
            start = f"2026-11-{day:02d}T{hour:02d}:00:00Z"
            end = f"2026-11-{day:02d}T{hour:02d}:59:59Z"
            writer.writerow((
                "AWS", "123456789012", f"acct-{number % 7}", f"i-{number:08d}", "eu-west-1",
                start, end, "2026-11-01T00:00:00Z", "Credit" if amount < 0 else "Usage", "",
                "usage", "Amazon EC2", "Compute", "SKU", "SKU-P", "USD", str(amount),
                str(amount), json.dumps({TAG: project}),
            ))  # fmt: skip
            expected[project] += amount
    return dict(expected)


def as_parquet(source: Path, path: Path) -> None:
    """The CSV as a provider's typed Parquet export: times as UTC timestamps, amounts as
    float64, Tags a map of text to text."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv
    from pyarrow import parquet

    text = pacsv.read_csv(
        source,
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(COLUMNS, pa.string())),
    )
    columns: dict[str, Any] = {name: text[name] for name in COLUMNS}
    for name in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart"):
        columns[name] = pc.strptime(text[name], "%Y-%m-%dT%H:%M:%SZ", "us").cast(
            pa.timestamp("us", "UTC")
        )
    for name in ("BilledCost", "EffectiveCost"):
        columns[name] = text[name].cast(pa.float64())
    values = pc.utf8_slice_codeunits(text["Tags"].combine_chunks(), len(TAG) + 6, -2)
    offsets = pa.array(range(0, len(values) + 1), pa.int32())
    keys = pa.array([TAG] * len(values), pa.string())
    columns["Tags"] = pa.MapArray.from_arrays(offsets, keys, values)
    parquet.write_table(pa.table(columns), path, row_group_size=131_072)


READ_AND_SUM = """
from pyarrow import csv, parquet
if PATH.endswith(".parquet"):
    read = parquet.read_table(PATH)
    tags = read["Tags"].combine_chunks().items  # the one tag value per row
    read = read.drop_columns("Tags").append_column("Tags", tags)
else:
    read = csv.read_csv(PATH)
read.group_by("Tags").aggregate([("EffectiveCost", "sum")])
"""
"""The floor: pyarrow reads the file and sums EffectiveCost per tag."""


def floor(path: Path) -> tuple[float, float]:
    """(CPU s, wall s) of the floor in this process, where pyarrow has run before."""
    code = compile(READ_AND_SUM, "floor", "exec")
    cpu, wall = time.process_time(), time.perf_counter()
    exec(code, {"PATH": str(path)})
    return time.process_time() - cpu, time.perf_counter() - wall


def floor_process(path: Path) -> tuple[float, float]:
    """(CPU s, wall s) of the floor as a program of its own, from its start to its end."""
    command = [sys.executable, "-c", f"import sys; PATH = sys.argv[1]\n{READ_AND_SUM}", str(path)]
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    wall = time.perf_counter()
    process = subprocess.Popen(command, env=environment)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - wall
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"the floor failed: exit {process.returncode}")
    return usage.ru_utime + usage.ru_stime, wall


def importer(*arguments: str) -> Callable[[], dict[str, float]]:
    """`outcomes import focus` started as its own process; what it used, once it ended: CPU
    seconds (user + system) and peak memory (MiB, its VmHWM: `ru_maxrss` would count the
    memory of this process it was forked from)."""
    command = [sys.executable, "-m", "outcomes", "import", "focus", "--project-tag", TAG,
               *arguments]  # fmt: skip
    # modules byte-compiled as a user's second run finds them (not compiled at every start)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment
    )
    peak = [0]

    def watch() -> None:
        status = Path(f"/proc/{process.pid}/status")
        while process.returncode is None:
            try:
                lines = status.read_text().splitlines()
            except OSError:
                return
            for line in lines:
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    def used() -> dict[str, float]:
        assert process.stderr is not None
        said = process.stderr.read().decode()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        watcher.join()
        if process.returncode != 0:
            raise RuntimeError(f"import failed: {said[-2000:]}")
        return {"cpu_s": usage.ru_utime + usage.ru_stime, "peak_mib": peak[0] / 1024}

    return used


def end_to_end(
    path: Path, expected: dict[str, Decimal], broker: Any, state: Path
) -> dict[str, float]:
    """Seconds from the import's start until a collector at its defaults shows each
    project's exact cost, and the import's CPU and peak memory."""
    topic, port = f"bills-{uuid.uuid4().hex[:6]}", free_port()
    broker.create_topics({topic: PARTITIONS})  # as in production: there before the collector
    collector = start_collect_process(
        broker, topic, f"g-{topic}", str(state / f"{topic}.db"), port, workers="auto"
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        wait_until(lambda: _settled(url), timeout_s=120)
        time.sleep(SETTLE_S)  # both workers in the group: a running collector, as at night
        wait_until(lambda: _settled(url), timeout_s=120)
        started = time.perf_counter()
        used = importer(str(path), "--bootstrap-servers", broker.bootstrap_servers,
                        "--topic", topic)  # fmt: skip
        figures = used()
        imported_s = time.perf_counter() - started
        exact = {project: float(cost) for project, cost in expected.items()}
        wait_until(lambda: _costs(url, exact) == exact, timeout_s=300, interval_s=0.05)
        shown_s = time.perf_counter() - started
        return {"end_to_end_s": shown_s, "import_s": imported_s, **figures}
    finally:
        collector.terminate()
        collector.wait(timeout=30)


def _settled(url: str) -> bool:
    try:
        series = scrape(url)
    except (OSError, AssertionError):  # not listening yet
        return False
    ready = value(series, "outcomes_collector_ready")
    return ready == 1 and total(series, "outcomes_collector_partitions_held") == PARTITIONS


def _costs(url: str, exact: dict[str, float]) -> dict[str, float | None]:
    series = scrape(url)
    return {
        project: value(series, "outcomes_project_lifetime_cost", project=project, currency="USD")
        for project in exact
    }


def dry_peak_mib(path: Path) -> float:
    return importer(str(path), "--dry-run")()["peak_mib"]


def main(rows: int) -> dict[str, Any]:
    result: dict[str, Any] = {"rows": rows}
    with tempfile.TemporaryDirectory() as folder, running_broker("embedded") as broker:
        work = Path(folder)
        small, large = work / "small.csv", work / "bill.csv"
        write_bill(small, rows // 5)
        expected = write_bill(large, rows)
        as_parquet(small, work / "small.parquet")
        as_parquet(large, work / "bill.parquet")
        dry_peak_mib(small)  # the first run byte-compiles the modules
        for kind in ("csv", "parquet"):
            path = large.with_suffix(f".{kind}")
            runs = [end_to_end(path, expected, broker, work) for _ in range(ROUNDS)]
            measured = min(runs, key=lambda run: run["end_to_end_s"])
            floors = [floor(path) for _ in range(ROUNDS)]
            cpu_floor, wall_floor = min(f[0] for f in floors), min(f[1] for f in floors)
            programs = [floor_process(path) for _ in range(ROUNDS)]
            cpu_program, wall_program = min(f[0] for f in programs), min(f[1] for f in programs)
            result[kind] = {
                **measured,
                "bytes": path.stat().st_size,
                "floor_cpu_s": cpu_floor,
                "floor_wall_s": wall_floor,
                "cpu_ratio": measured["cpu_s"] / cpu_floor,
                "end_to_end_ratio": measured["end_to_end_s"] / wall_floor,
                "floor_program_cpu_s": cpu_program,
                "floor_program_wall_s": wall_program,
                "program_cpu_ratio": measured["cpu_s"] / cpu_program,
                "program_end_to_end_ratio": measured["end_to_end_s"] / wall_program,
                "peak_mib_fifth": dry_peak_mib(small.with_suffix(f".{kind}")),
                "peak_mib_dry": dry_peak_mib(path),
            }
    for kind in ("csv", "parquet"):
        found = result[kind]
        table(
            f"{rows:,} FOCUS rows as {kind} ({found['bytes'] / 2**20:,.0f} MiB), one statement,"
            " 40 projects",
            [
                ("import until the collector shows every exact cost",
                 f"{found['end_to_end_s']:.2f} s wall (the import ran {found['import_s']:.2f} s)"),
                ("floor: pyarrow reads and sums per tag, as a program",
                 f"{found['floor_program_wall_s']:.2f} s wall,"
                 f" {found['floor_program_cpu_s']:.2f} s CPU"),
                ("end to end / floor as a program (wall)",
                 f"{found['program_end_to_end_ratio']:.1f}x"),
                ("floor in a process where pyarrow ran before",
                 f"{found['floor_wall_s']:.2f} s wall, {found['floor_cpu_s']:.2f} s CPU"),
                ("end to end / floor in that process (wall)", f"{found['end_to_end_ratio']:.1f}x"),
                ("import process CPU (user + system)", f"{found['cpu_s']:.2f} s"),
                ("import CPU / floor CPU: as a program, warm",
                 f"{found['program_cpu_ratio']:.1f}x, {found['cpu_ratio']:.1f}x"),
                ("import peak memory: a fifth of the rows, all of them (dry run)",
                 f"{found['peak_mib_fifth']:.0f} MiB, {found['peak_mib_dry']:.0f} MiB"),
            ],
        )  # fmt: skip
    write("focus", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    arguments = parser.parse_args()
    main(arguments.rows)
