"""FOCUS rows -> cost events: the project from its tag, the chosen cost column, the category
table, ids from the identifying columns only, credits negative, everything else a reason.

Rows follow the FOCUS 1.0 column set (FinOps-Open-Cost-and-Usage-Spec, specification/columns:
BilledCost, EffectiveCost, BillingCurrency, ChargePeriodStart/End, ChargeCategory,
ChargeClass, ServiceCategory, ServiceName, ResourceId, SubAccountId, SkuPriceId, Tags)."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from outcomes.importers.focus.files import FocusFileError, kind_of, rows
from outcomes.importers.focus.mapping import Skip, Skipped, category_of, event_id, tags_of, to_event
from schemas.envelope import OutcomeEvent
from schemas.events import CostIncurred


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


def convert(data: dict[str, Any], column: str = "EffectiveCost") -> OutcomeEvent | Skipped:
    return to_event(data, project_tag="outcomes-project", cost_column=column, currency="USD")


def test_a_tagged_row_is_a_cost_event_of_its_project() -> None:
    event = convert(row())
    assert isinstance(event, OutcomeEvent) and isinstance(event.data, CostIncurred)
    assert (event.project, event.data.amount, event.data.category) == (
        "patch-rollout",
        0.98765432,
        "compute",
    )
    assert event.time == datetime(2026, 11, 3, tzinfo=UTC)
    assert event.data.description == "Amazon EC2 / t3.medium on demand"
    billed = convert(row(), "BilledCost")
    assert isinstance(billed, OutcomeEvent) and billed.data.amount == 1.25  # type: ignore[union-attr]


def test_credits_and_corrections_subtract() -> None:
    credit = convert(row(ChargeCategory="Credit", EffectiveCost="-3.5"))
    correction = convert(row(ChargeClass="Correction", EffectiveCost="-0.25"))
    assert isinstance(credit, OutcomeEvent) and credit.data.amount == -3.5  # type: ignore[union-attr]
    assert isinstance(correction, OutcomeEvent) and correction.data.amount == -0.25  # type: ignore[union-attr]
    assert len({credit.id, correction.id, event_id(row())}) == 3


def test_the_id_is_the_rows_identity_not_its_amount_or_tags() -> None:
    assert event_id(row()) == event_id(row(EffectiveCost="5", Tags="{}"))
    assert event_id(row()) != event_id(row(ChargePeriodStart="2026-11-04T00:00:00Z"))
    assert event_id(row()) != event_id(row(ResourceId="i-other"))


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
    azure = convert(row(ChargePeriodStart="2026-11-03T00:00:00.0000000Z"))
    assert isinstance(azure, OutcomeEvent) and azure.time == datetime(2026, 11, 3, tzinfo=UTC)


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
    from datetime import UTC, datetime

    from outcomes.importers.focus.mapping import UTC_ASSUMED, TagMap, normalise, to_event

    assert normalise("BrightPathMatrix") == "bright-path-matrix"
    assert normalise("Data Lake  Ingest") == "data-lake-ingest"
    assert normalise("APIGateway") == "api-gateway"
    notes: Counter[str] = Counter()
    event = to_event(
        row(Tags='{"outcomes-project": "BrightPathMatrix"}', ChargePeriodStart="2026-11-03 14:00:00",
            SubAccountId="NULL"),
        project_tag="outcomes-project", cost_column="EffectiveCost", currency="USD", notes=notes,
    )  # fmt: skip
    assert isinstance(event, OutcomeEvent)
    assert event.project == "bright-path-matrix"
    assert event.time == datetime(2026, 11, 3, 14, tzinfo=UTC)
    assert notes[UTC_ASSUMED] == 1
    assert event_id(row(SubAccountId="NULL")) == event_id(row(SubAccountId=""))
    mapped = TagMap((("BrightPath*", "patch-rollout"),))
    routed = to_event(
        row(Tags='{"outcomes-project": "BrightPathMatrix"}'), project_tag="outcomes-project",
        cost_column="EffectiveCost", currency="USD", tag_map=mapped,
    )  # fmt: skip
    assert isinstance(routed, OutcomeEvent) and routed.project == "patch-rollout"
