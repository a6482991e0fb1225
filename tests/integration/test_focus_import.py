"""A random FOCUS export split over a CSV, a gzip'd CSV and a Parquet file, imported with
`outcomes import focus` into a live collector (both brokers): each project's cost is the
exact sum of its EffectiveCost rows (credits and corrections included), untagged and
foreign-currency rows are counted and in the rejects file, a second import changes nothing,
and the provider's refreshed export (amounts changed, a project's rows gone, new rows),
delivered as an AWS Data Exports folder beside the first delivery, restates every project
exactly. Rows follow the FOCUS 1.0 columns
(FinOps-Open-Cost-and-Usage-Spec)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from collector.app import CollectorApp
from tests.integration.test_producers import outcomes
from tests.support.brokers import Broker
from tests.support.live import Series, scrape, total, value, wait_until

PROJECTS = ("patch-rollout", "cost-optimizer", "ticket-triage")
COLUMNS = (
    "BillingAccountId", "SubAccountId", "ResourceId", "RegionId", "ChargePeriodStart",
    "ChargePeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription",
    "ServiceName", "ServiceCategory", "SkuId", "SkuPriceId", "BillingCurrency", "BilledCost",
    "EffectiveCost", "Tags",
)  # fmt: skip


def _export(rng: random.Random, now: datetime) -> tuple[list[dict[str, Any]], dict[str, Decimal]]:
    """Rows of the current month so far (or the month just closed, in its first hours), and
    each project's expected cost: the exact sum of its EffectiveCost rows."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if now - start < timedelta(hours=2):
        start = (start - timedelta(days=1)).replace(day=1)
    span_h = max(1, int((now - start).total_seconds() // 3600) - 1)
    rows, expected = [], {p: Decimal(0) for p in PROJECTS}
    for number in range(240):
        hour = start + timedelta(hours=rng.randrange(span_h))
        project = rng.choice(PROJECTS)
        effective = Decimal(rng.randrange(1, 5_000_000)) / 10**6
        category, charge_class, tags = "Usage", "", {"outcomes-project": project, "env": "prod"}
        roll = rng.random()
        if roll < 0.08:
            category, effective = "Credit", -effective  # a credit
        elif roll < 0.14:
            charge_class = "Correction"  # a correction
            effective = (-effective / 2).quantize(Decimal("0.000001"))
        elif roll < 0.22:
            tags = {"env": "dev"}  # untagged for our key
        rows.append({
            "BillingAccountId": "123456789012", "SubAccountId": f"acct-{number % 5}",
            "ResourceId": f"i-{number:05d}", "RegionId": "eu-west-1",
            "ChargePeriodStart": hour.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ChargePeriodEnd": (hour + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "BillingPeriodStart": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ChargeCategory": category, "ChargeClass": charge_class,
            "ChargeDescription": "usage", "ServiceName": rng.choice(["Amazon EC2", "Amazon S3"]),
            "ServiceCategory": rng.choice(["Compute", "Storage", "Business Applications"]),
            "SkuId": "SKU", "SkuPriceId": "SKU-P", "BillingCurrency": "USD",
            "BilledCost": str(effective * 2), "EffectiveCost": str(effective),
            "Tags": json.dumps(tags),
        })  # fmt: skip
        if "outcomes-project" in tags:
            expected[project] += effective
    foreign = dict(rows[0], BillingCurrency="EUR", ResourceId="i-eur", EffectiveCost="9.5")
    foreign["Tags"] = json.dumps({"outcomes-project": "patch-rollout"})
    rows.append(foreign)
    rng.shuffle(rows)
    return rows, expected


def _csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _parquet(rows: list[dict[str, Any]], path: Path) -> None:
    """Parquet as the providers write it: timestamps, decimals and a map of tags."""
    columns: dict[str, Any] = {name: [row[name] for row in rows] for name in COLUMNS}
    for name in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart"):
        columns[name] = pa.array(
            [datetime.fromisoformat(v.replace("Z", "+00:00")) for v in columns[name]],
            pa.timestamp("us", tz="UTC"),
        )
    for name in ("BilledCost", "EffectiveCost"):
        columns[name] = pa.array([Decimal(v) for v in columns[name]], pa.decimal128(18, 8))
    columns["Tags"] = pa.array(
        [list(json.loads(v).items()) for v in columns["Tags"]], pa.map_(pa.string(), pa.string())
    )
    pq.write_table(pa.table(columns), path)


def _aws_delivery(
    bucket: Path, delivery: str, parts: list[list[dict[str, Any]]], when_s: float
) -> None:
    """One delivery of an AWS Data Exports export (after AWS's "Understanding export
    delivery"): gzip'd CSV parts below `data/BILLING_PERIOD=YYYY-MM/<delivery>/` and a
    manifest below `metadata/…/<delivery>/` listing their S3 URIs, written once every part
    is there, with the file time a bucket sync gives it."""
    export = bucket / "exports" / "focus-daily"
    period = f"BILLING_PERIOD={parts[0][0]['BillingPeriodStart'][:7]}"
    data, metadata = export / "data" / period / delivery, export / "metadata" / period / delivery
    data.mkdir(parents=True)
    metadata.mkdir(parents=True)
    uris = []
    for number, part in enumerate(parts, 1):
        name = f"focus-daily-{number:05d}.csv.gz"
        (data / name).write_bytes(gzip.compress(_csv(part)))
        uris.append(f"s3://billing/exports/focus-daily/data/{period}/{delivery}/{name}")
    manifest = metadata / "focus-daily-Manifest.json"
    manifest.write_text(json.dumps({"exportName": "focus-daily", "dataFiles": uris}))
    os.utime(manifest, (when_s, when_s))


def _costs(app: CollectorApp) -> dict[str, float | None]:
    series = scrape(app.metrics_url)
    return {
        project: value(series, "outcomes_project_lifetime_cost", project=project, currency="USD")
        for project in PROJECTS
    }


def _versions(series: Series) -> set[str]:
    """The statement versions the projects' cost rests on."""
    return {
        dict(labels)["version"]
        for name, labels in series
        if name == "outcomes_cost_statement_issued_timestamp_seconds"
    }


def _refreshed(
    rows: list[dict[str, Any]], rng: random.Random
) -> tuple[list[dict[str, Any]], dict[str, Decimal]]:
    """The provider's next version of the month so far: ticket-triage's resources gone,
    every other amount recalculated, a few rows new."""
    kept: list[dict[str, Any]] = []
    expected = {p: Decimal(0) for p in PROJECTS}
    for row in rows:
        project = json.loads(row["Tags"]).get("outcomes-project")
        if project == "ticket-triage":
            continue
        amount = (Decimal(row["EffectiveCost"]) * Decimal("1.07")).quantize(Decimal("1e-8"))
        changed = dict(row, EffectiveCost=str(amount))
        kept.append(changed)
        if project is not None and row["BillingCurrency"] == "USD":
            expected[project] += amount
    for number in range(5):
        new = dict(kept[number], ResourceId=f"i-new-{number}", EffectiveCost="0.000000007")
        new["Tags"] = json.dumps({"outcomes-project": "cost-optimizer"})
        if new["BillingCurrency"] == "USD":
            expected["cost-optimizer"] += Decimal("0.000000007")
        kept.append(new)
    rng.shuffle(kept)
    return kept, expected


def test_focus_exports_give_each_project_its_exact_cost_and_restate_it(
    broker: Broker, topic: str, tmp_path: Path, start_collector: Callable[..., CollectorApp]
) -> None:
    rows, expected = _export(random.Random(21), datetime.now(UTC))
    thirds = [rows[:80], rows[80:160], rows[160:]]
    files = [tmp_path / "export-1.csv", tmp_path / "export-2.csv.gz", tmp_path / "export-3.parquet"]
    files[0].write_bytes(_csv(thirds[0]))
    files[1].write_bytes(gzip.compress(_csv(thirds[1])))
    _parquet(thirds[2], files[2])
    untagged = sum(1 for row in rows if "outcomes-project" not in json.loads(row["Tags"]))
    app = start_collector()
    command = ["import", "focus", "--project-tag", "outcomes-project",
               "--bootstrap-servers", broker.bootstrap_servers, "--topic", topic]  # fmt: skip

    dry = outcomes(*command, *map(str, files), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "nothing sent" in " ".join(dry.stderr.split())
    rejects = tmp_path / "rejects.csv"
    imported = outcomes(*command, *map(str, files), "--rejects", str(rejects))
    assert imported.returncode == 0, imported.stderr
    said = " ".join(imported.stderr.split())
    assert f"{len(rows):,} rows read into 1 statements, 3 statement events sent" in said
    assert f"{untagged:,} rows skipped: no_tag" in said
    assert "1 rows skipped: currency" in said
    with rejects.open() as handle:
        reasons = [line["reason"] for line in csv.DictReader(handle)]
    assert sorted(reasons) == sorted(["no_tag"] * untagged + ["currency"])

    exact = {project: float(cost) for project, cost in expected.items()}
    wait_until(lambda: _costs(app) == exact, timeout_s=60)
    series = scrape(app.metrics_url)
    for project, cost in expected.items():
        net = total(series, "outcomes_cost_total", project=project) - total(
            series, "outcomes_cost_credits_total", project=project
        )
        assert abs(net - float(cost)) < 1e-6, project
    assert total(series, "outcomes_cost_credits_total") > 0
    (first,) = _versions(series)
    assert first[:12] in said

    again = outcomes(*command, *map(str, files))  # the same files: nothing changes
    assert again.returncode == 0, again.stderr

    def duplicates() -> bool:
        found = scrape(app.metrics_url)
        return total(found, "outcomes_collector_events_total", result="duplicate") == 3

    wait_until(duplicates, timeout_s=60)
    assert _costs(app) == exact

    # the provider rewrites the month so far, delivered as AWS Data Exports do in "create
    # new" mode: the first delivery stays in the bucket beside the refreshed one, two parts
    refreshed, restated = _refreshed(rows, random.Random(22))
    bucket = tmp_path / "bucket"
    _aws_delivery(bucket, "20260101T0000Z-first", [rows], when_s=1.9e9)
    _aws_delivery(bucket, "20260102T0000Z-second", [refreshed[:100], refreshed[100:]], when_s=2e9)
    third = outcomes(*command, str(bucket))
    assert third.returncode == 0, third.stderr
    assert "1 earlier delivery of the same period left out" in " ".join(third.stderr.split())
    assert "ticket-triage" in " ".join(third.stderr.split())  # no longer mentioned: cost now 0
    wanted = {project: float(cost) for project, cost in restated.items()}
    assert wanted["ticket-triage"] == 0.0
    wait_until(lambda: _costs(app) == wanted, timeout_s=60)
    versions = _versions(scrape(app.metrics_url))
    assert len(versions) == 1 and versions != {first}
