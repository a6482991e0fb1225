"""The column path (pyarrow batches) against the row path on the same files: the same
statements, counts, reasons and rejected rows, whatever mix of rows a bill holds."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest
from rich.console import Console

from bench.focus import COLUMNS
from outcomes.importers.focus import ahead
from outcomes.importers.focus.reading import ImportResult, Options
from outcomes.importers.focus.run import import_focus

ODD = {
    "Tags": ['{"app": "BrightPath"}', "", "NULL", '{"app": "Bad Name!"}', "{not json"],
    "BillingCurrency": ["EUR", " USD ", "NULL"],
    "EffectiveCost": ["0", "NULL", "abc", "1e400", " 2.5 ", "-0.0000000001", "NaN", "+.5", "5.",
                      "-0", "1E5", "1_000", "\u0661\u0662", "999999999999.5", "1000000000000",
                      "0.1234567890123456789012345", "0.000000000000000001"],
    "ChargePeriodStart": ["2024-09-24 14:00:00", "yesterday", "", "2099-01-01T00:00:00Z"],
    "BillingPeriodStart": ["2026-10-01T00:00:00Z", "NULL"],
    "BillingAccountId": ["", "NULL", " 42 ", "a\x1fb"],
    "ProviderName": ["Amazon\x1fWeb", "NULL"],
    "SubAccountId": ["NULL", "null", " s-1 ", ""],
    "ServiceCategory": ["Business Applications", "Other", ""],
    "ChargeCategory": ["Tax", "Credit"],
}  # fmt: skip


def bill(
    rng: random.Random, rows: int, odd: dict[str, list[str]] | None = None
) -> Iterator[dict[str, str]]:
    odd = ODD if odd is None else odd
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
            name = rng.choice(sorted(odd))
            row[name] = rng.choice(odd[name])
        yield row


def imported(paths: list[Path], *, columns: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    if not columns:
        monkeypatch.setattr(ahead, "columnar", lambda path, progress: None)
    rejects = io.StringIO()
    options = Options("app", "EffectiveCost", "USD", dry_run=True)
    result: ImportResult = import_focus(
        paths, options, bootstrap_servers="", topic="t",
        console=Console(file=io.StringIO()), rejects=rejects,
    )  # fmt: skip
    monkeypatch.undo()
    return (
        result.read, dict(result.skipped), result.projects, dict(result.notes),
        [(s.statement, s.version, s.cost) for s in result.statements],
        {k: dict(v) for k, v in result.withheld.items()}, sorted(rejects.getvalue().splitlines()),
    )  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
def test_the_column_path_counts_what_the_row_path_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    paths = []
    for part in range(2):  # two parts with rows alike: each row counts
        path = tmp_path / f"part-{part}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, COLUMNS)
            writer.writeheader()
            writer.writerows(bill(random.Random(seed * 10 + part % 1), 3000))
        paths.append(path)
    by_rows = imported(paths, columns=False, monkeypatch=monkeypatch)
    by_columns = imported(paths, columns=True, monkeypatch=monkeypatch)
    assert by_columns == by_rows
    assert by_rows[1]  # skipped rows were there
    del rng


@pytest.mark.parametrize("seed", range(3))
def test_amounts_arrow_reads_exactly_are_read_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Exponents, signs, a bare point, 10^12 and more (refused by the row path) in every
    batch: Arrow's cast reads each of them exactly, so no batch falls back to the pattern,
    and the counts are the row path's."""
    readable = ["1E5", "+.5", "5.", "-0", "0", "1e-3", "999999999999.5", "1000000000000",
                "-1000000000000", "0.000000000000000001", "-2.5E+3"]  # fmt: skip
    path = tmp_path / "bill.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(bill(random.Random(seed), 3000, odd={"EffectiveCost": readable}))
    by_rows = imported([path], columns=False, monkeypatch=monkeypatch)

    def refused(*_: object, **__: object) -> None:
        raise AssertionError("the pattern was needed")

    monkeypatch.setattr(pc, "match_substring_regex", refused)
    by_columns = imported([path], columns=True, monkeypatch=monkeypatch)
    assert by_columns == by_rows
    assert by_rows[1]["invalid"] and by_rows[1]["zero_cost"]  # 10^12: refused; 0: zero


def typed(rows: list[dict[str, str]], rng: random.Random, cost: Any) -> Any:
    """The rows as a typed Parquet export writes them: times as UTC timestamps, Tags a map
    (some with the key twice), the amount as `cost` (float64 or a decimal)."""
    import pyarrow as pa

    def moment(text: str) -> datetime | None:
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            return None

    def tags(text: str) -> list[tuple[str, str]] | None:
        try:
            found = json.loads(text)
        except ValueError:
            return None
        pairs = [(k, str(v)) for k, v in found.items()] if isinstance(found, dict) else None
        if pairs and rng.random() < 0.05:
            pairs.insert(0, ("app", "Shadowed"))  # the last pair of a key counts
        return pairs

    def amount(text: str) -> Any:
        try:
            number = Decimal(text)
        except ArithmeticError:
            return None
        if not number.is_finite() or abs(number) >= 10**9 or number != round(number, 10):
            return None  # beyond the decimal(20, 10) column
        return float(number) if pa.types.is_floating(cost) else number

    columns: dict[str, Any] = {
        name: pa.array([row[name] or None for row in rows], pa.string())
        for name in COLUMNS
        if name not in ("ChargePeriodStart", "BillingPeriodStart", "Tags", "EffectiveCost")
    }
    for name in ("ChargePeriodStart", "BillingPeriodStart"):
        columns[name] = pa.array([moment(row[name]) for row in rows], pa.timestamp("us", "UTC"))
    columns["Tags"] = pa.array([tags(row["Tags"]) for row in rows],
                               pa.map_(pa.string(), pa.string()))  # fmt: skip
    columns["EffectiveCost"] = pa.array([amount(row["EffectiveCost"]) for row in rows], cost)
    return pa.table(columns)


@pytest.mark.parametrize("cost", ["float64", "decimal", "text"])
@pytest.mark.parametrize("seed", range(3))
def test_parquet_columns_count_what_its_rows_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, cost: str
) -> None:
    import pyarrow as pa
    from pyarrow import parquet

    rng = random.Random(seed)
    rows = list(bill(rng, 4000))
    if cost == "text":  # every cell text, Tags JSON: an export written like its CSV
        table = pa.table({name: pa.array([row[name] for row in rows]) for name in COLUMNS})
    else:
        table = typed(rows, rng, pa.float64() if cost == "float64" else pa.decimal128(20, 10))
    path = tmp_path / "bill.parquet"
    parquet.write_table(table, path, row_group_size=1500)
    by_rows = imported([path], columns=False, monkeypatch=monkeypatch)
    by_columns = imported([path], columns=True, monkeypatch=monkeypatch)
    assert by_columns == by_rows
    assert by_rows[1] and by_rows[4]  # skipped rows and statements were there


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    path = tmp_path / "bill.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(bill(random.Random(1), 500))
    (tmp_path / "link.csv").symlink_to(path)
    options = Options("app", "EffectiveCost", "USD", dry_run=True)
    console = Console(file=io.StringIO())
    once = import_focus([path], options, bootstrap_servers="", topic="t", console=console)
    twice = import_focus(
        [path, tmp_path / "link.csv", path], options, bootstrap_servers="", topic="t",
        console=console,
    )  # fmt: skip
    assert (twice.read, twice.projects) == (once.read, once.projects)
    assert twice.same_files == [(tmp_path / "link.csv", path), (path, path)]


def test_rows_alike_but_for_their_amount_each_count(tmp_path: Path) -> None:
    """FOCUS has no row id: two rows agreeing in every other column are two charges (a
    provider splits usage so), and the cost is the exact sum of the file, as invoiced."""
    rows = [dict(row, EffectiveCost="1.5", Tags='{"app": "alpha"}', BillingCurrency="USD",
                 ChargePeriodStart="2026-11-02T00:00:00Z", BillingAccountId="1234",
                 BillingPeriodStart="2026-11-01T00:00:00Z")
            for row in bill(random.Random(3), 200)]  # fmt: skip
    twin = dict(rows[0], EffectiveCost="0.000000001")
    path = tmp_path / "bill.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows([*rows, twin, rows[0]])
    options = Options("app", "EffectiveCost", "USD", dry_run=True)
    once = import_focus([path], options, bootstrap_servers="", topic="t",
                        console=Console(file=io.StringIO()))  # fmt: skip
    assert once.read == 202
    assert once.projects == {"alpha": [202, Decimal("301.500000001")]}


FOCUS_1_2 = (
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId",
    "CapacityReservationStatus", "ChargeCategory", "ChargeClass", "ChargeDescription",
    "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory",
    "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus", "CommitmentDiscountType", "CommitmentDiscountUnit",
    "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice", "EffectiveCost",
    "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory", "PricingCurrency",
    "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName",
    "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId",
    "SubAccountName", "SubAccountType", "Tags", "x_BillingProfileId", "x_CostCenter",
)  # fmt: skip
"""The columns of a FOCUS 1.2 export, as Microsoft's FocusCost 1.2-preview lists them (the
`x_` ones are the provider's own): the import reads the ten it needs, whatever else is
there, in any order."""


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_focus_1_2_export_imports_as_a_1_0_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    import pyarrow as pa
    from pyarrow import parquet

    rows = list(bill(random.Random(7), 1500))
    wide = [{name: row.get(name, f"{name.lower()}-{n % 5}") for name in reversed(FOCUS_1_2)}
            for n, row in enumerate(rows)]  # fmt: skip
    narrow, path = tmp_path / "focus-1.0.csv", tmp_path / f"focus-1.2.{kind}"
    with narrow.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    if kind == "csv":
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, list(reversed(FOCUS_1_2)))
            writer.writeheader()
            writer.writerows(wide)
    else:
        names = list(reversed(FOCUS_1_2))
        parquet.write_table(
            pa.table({name: pa.array([row[name] for row in wide]) for name in names}), path
        )
    expected = imported([narrow], columns=False, monkeypatch=monkeypatch)
    for columns in (False, True):
        found = imported([path], columns=columns, monkeypatch=monkeypatch)
        # rows read, reasons, projects, notes, statements, withheld: all but the rejects file
        assert found[:6] == expected[:6]
