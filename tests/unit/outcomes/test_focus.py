"""FOCUS rows -> charges of statements: the project from its tag, the chosen cost column
exact, the category table, the statement from provider, billing account and period, credits
negative, everything else a reason.

Rows follow the FOCUS 1.0 column set (FinOps-Open-Cost-and-Usage-Spec, specification/columns:
BilledCost, EffectiveCost, BillingCurrency, ChargePeriodStart/End, ChargeCategory,
ChargeClass, ServiceCategory, ServiceName, ResourceId, SubAccountId, SkuPriceId, Tags)."""

from __future__ import annotations

import csv
import gzip
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from outcomes.importers.focus.files import FocusFileError, kind_of, rows
from outcomes.importers.focus.mapping import (
    Charge,
    Skip,
    Skipped,
    category_of,
    tags_of,
    to_charge,
)


def row(**overrides: Any) -> dict[str, Any]:
    base = {
        "BillingAccountId": "123456789012", "SubAccountId": "210987654321",
        "ResourceId": "arn:aws:ec2:eu-west-1:210987654321:instance/i-0abc", "RegionId": "eu-west-1",
        "ChargePeriodStart": "2026-11-03T00:00:00Z", "ChargePeriodEnd": "2026-11-04T00:00:00Z",
        "BillingPeriodStart": "2026-11-01T00:00:00Z", "ChargeCategory": "Usage",
        "ChargeClass": "", "ChargeDescription": "t3.medium on demand", "ServiceName": "Amazon EC2",
        "ServiceCategory": "Compute", "SkuId": "SKU1", "SkuPriceId": "SKU1-P",
        "BillingCurrency": "USD", "BilledCost": "1.2500", "EffectiveCost": "0.98765432",
        "Tags": '{"outcomes-project": "patch-rollout", "env": "prod"}',
    }  # fmt: skip
    return {**base, **overrides}


def convert(data: dict[str, Any], column: str = "EffectiveCost") -> Charge | Skipped:
    return to_charge(data, project_tag="outcomes-project", cost_column=column, currency="USD")


def test_a_tagged_row_is_an_exact_charge_of_its_project_in_its_statement() -> None:
    charge = convert(row(ProviderName="AWS"))
    assert charge == Charge(
        "AWS/123456789012/2026-11-01",
        "patch-rollout",
        date(2026, 11, 3),
        "compute",
        Decimal("0.98765432"),
    )
    billed = convert(row(EffectiveCost="0.1234567891234"), "BilledCost")
    assert isinstance(billed, Charge) and billed.amount == Decimal("1.2500")
    exact = convert(row(EffectiveCost="0.1234567891234"))
    assert isinstance(exact, Charge) and exact.amount == Decimal("0.1234567891234")
    unnamed = convert(row())  # FOCUS 1.0 has ProviderName; an export without it still imports
    assert isinstance(unnamed, Charge) and unnamed.statement == "unknown/123456789012/2026-11-01"


def test_credits_and_corrections_subtract() -> None:
    credit = convert(row(ChargeCategory="Credit", EffectiveCost="-3.5"))
    correction = convert(row(ChargeClass="Correction", EffectiveCost="-0.25"))
    assert isinstance(credit, Charge) and credit.amount == Decimal("-3.5")
    assert isinstance(correction, Charge) and correction.amount == Decimal("-0.25")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"Tags": '{"env": "prod"}'}, Skip.NO_TAG),
        ({"Tags": ""}, Skip.NO_TAG),
        ({"BillingCurrency": "EUR"}, Skip.CURRENCY),
        ({"Tags": '{"outcomes-project": "Patch#Rollout!"}'}, Skip.INVALID),
        ({"EffectiveCost": "abc"}, Skip.INVALID),
        ({"ChargePeriodStart": "yesterday"}, Skip.INVALID),
        ({"ChargePeriodStart": "NULL"}, Skip.INVALID),
        ({"Tags": '{"outcomes-project": "NULL"}'}, Skip.NO_TAG),
        ({"EffectiveCost": "0"}, Skip.ZERO),
        ({"EffectiveCost": "NaN"}, Skip.INVALID),
        ({"EffectiveCost": "1e15"}, Skip.INVALID),
        ({"BillingPeriodStart": ""}, Skip.INVALID),
        ({"BillingAccountId": "NULL"}, Skip.INVALID),
    ],
)
def test_every_other_row_has_a_reason(overrides: dict[str, Any], reason: Skip) -> None:
    skipped = convert(row(**overrides))
    assert isinstance(skipped, Skipped) and skipped.reason is reason, skipped


def test_the_category_table() -> None:
    assert category_of(row(ChargeCategory="Tax", ServiceCategory="Compute")) == "other"
    assert category_of(row(ServiceCategory="Business Applications")) == "licence"
    assert category_of(row(ServiceCategory="Other")) == "other"
    assert category_of(row(ServiceCategory="")) == "other"
    assert category_of(row(ServiceCategory="Databases")) == "compute"


def test_tags_and_times_as_providers_write_them() -> None:
    assert tags_of([("outcomes-project", "a"), ("env", "b")]) == {
        "outcomes-project": "a",
        "env": "b",
    }
    assert tags_of("not json") == {}
    azure = convert(row(ChargePeriodStart="2026-11-03T23:30:00.0000000-02:00"))
    assert isinstance(azure, Charge) and azure.day == date(2026, 11, 4)  # the UTC day


def test_files_are_recognised_by_their_bytes_and_streamed(tmp_path: Path) -> None:
    plain = tmp_path / "export.parquet"  # the name lies: it is CSV
    with plain.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(row()))
        writer.writeheader()
        writer.writerow(row(Tags='{"outcomes-project": "patch-rollout"}'))
    packed = tmp_path / "export.csv"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert (kind_of(plain), kind_of(packed)) == ("csv", "gzip")
    for path in (plain, packed):
        (found,) = list(rows(path))
        assert tags_of(found["Tags"]) == {"outcomes-project": "patch-rollout"}
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(FocusFileError, match="not a FOCUS export, no column ChargePeriodStart"):
        list(rows(tmp_path / "other.csv"))


def test_real_exports_as_they_come_camel_case_tags_naive_times_and_null() -> None:
    """After the FinOps Foundation's FOCUS-1.0 sample: CamelCase tag values, timestamps
    written `2024-09-24 14:00:00` (no zone: FOCUS times are UTC) and `NULL` for nothing."""
    from collections import Counter

    from outcomes.importers.focus.mapping import UTC_ASSUMED, TagMap, normalise

    assert normalise("BrightPathMatrix") == "bright-path-matrix"
    assert normalise("Data Lake  Ingest") == "data-lake-ingest"
    assert normalise("APIGateway") == "api-gateway"
    notes: Counter[str] = Counter()
    charge = to_charge(
        row(Tags='{"outcomes-project": "BrightPathMatrix"}', ChargePeriodStart="2026-11-03 23:00:00",
            SubAccountId="NULL", BillingPeriodStart="2026-11-01 00:00:00"),
        project_tag="outcomes-project", cost_column="EffectiveCost", currency="USD", notes=notes,
    )  # fmt: skip
    assert isinstance(charge, Charge)
    assert charge.project == "bright-path-matrix"
    assert (charge.day, charge.statement) == (date(2026, 11, 3), "unknown/123456789012/2026-11-01")
    assert notes[UTC_ASSUMED] == 1
    mapped = TagMap((("BrightPath*", "patch-rollout"),))
    routed = to_charge(
        row(Tags='{"outcomes-project": "BrightPathMatrix"}'), project_tag="outcomes-project",
        cost_column="EffectiveCost", currency="USD", tag_map=mapped,
    )  # fmt: skip
    assert isinstance(routed, Charge) and routed.project == "patch-rollout"
