"""Export folders as providers deliver them, read as one statement.

The layouts follow the providers' documentation: AWS Data Exports ("Understanding export
delivery": `<export>/data/BILLING_PERIOD=YYYY-MM/` parts and
`<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json` with `dataFiles` S3 URIs)
and Azure Cost Management ("File partitioning for large datasets": a run folder of parts and
a `_manifest.json` with `blobs` of `blobName`, `byteCount`, `dataRowCount`). The files and
manifests here are written by the test after those descriptions."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from outcomes.cli import main
from outcomes.importers.focus.files import FocusFileError
from outcomes.importers.focus.layouts import export_files
from tests.unit.outcomes.test_focus import row


def part(path: Path, costs: list[str], project: str = "patch-rollout") -> int:
    """A gzip'd CSV part with a charge per cost; its size."""
    text = io.StringIO()
    writer = csv.DictWriter(text, list(row()), lineterminator="\n")
    writer.writeheader()
    for cost in costs:
        writer.writerow(row(EffectiveCost=cost, Tags=json.dumps({"outcomes-project": project})))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.getvalue().encode()))
    return path.stat().st_size


def aws(root: Path, parts: dict[str, list[str]]) -> Path:
    export = root / "exports" / "focus-daily"
    data = export / "data" / "BILLING_PERIOD=2026-11"
    for name, costs in parts.items():
        part(data / name, costs)
    manifest = export / "metadata" / "BILLING_PERIOD=2026-11" / "focus-daily-Manifest.json"
    manifest.parent.mkdir(parents=True)
    uris = [
        f"s3://billing-bucket/exports/focus-daily/data/BILLING_PERIOD=2026-11/{n}" for n in parts
    ]
    manifest.write_text(json.dumps({"executionId": "e-1", "dataFiles": uris, "columns": []}))
    return data


def azure_run(period: Path, run: str, parts: dict[str, list[str]], submitted: str) -> Path:
    folder = period / run
    blobs: list[dict[str, Any]] = []
    for name, costs in parts.items():
        size = part(folder / name, costs)
        blobs.append({"blobName": f"costs/focus/{period.name}/{run}/{name}", "byteCount": size,
                      "dataRowCount": len(costs), "headerRowCount": 1})  # fmt: skip
    manifest = {"manifestVersion": "2024-04-01", "dataFormat": "csv", "blobCount": len(blobs),
                "blobs": blobs, "runInfo": {"runId": run, "submittedTime": submitted}}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_an_aws_export_is_the_parts_its_manifest_lists(tmp_path: Path) -> None:
    data = aws(tmp_path, {"focus-daily-00001.csv.gz": ["1.5"], "focus-daily-00002.csv.gz": ["2"]})
    part(data / "focus-daily-00003.csv.gz", ["100"])  # an earlier delivery's, not listed
    layout = export_files(tmp_path)
    assert [p.name for p in layout.files] == [
        "focus-daily-00001.csv.gz",
        "focus-daily-00002.csv.gz",
    ]
    assert layout.notes == [
        "1 file(s) no manifest lists were left out (an earlier delivery), e.g."
        f" {data / 'focus-daily-00003.csv.gz'}"
    ]
    (data / "focus-daily-00002.csv.gz").unlink()
    with pytest.raises(FocusFileError, match="focus-daily-00002.csv.gz, not found below .*"
                       "the export is incomplete"):  # fmt: skip
        export_files(tmp_path)


def aws_delivery(root: Path, period: str, delivery: str, parts: dict[str, list[str]]) -> Path:
    """An AWS "create new" delivery: a folder per delivery below the period's data and
    metadata folders, its manifest listing its own parts."""
    export = root / "exports" / "focus-daily"
    data = export / "data" / f"BILLING_PERIOD={period}" / delivery
    for name, costs in parts.items():
        part(data / name, costs)
    manifest = export / "metadata" / f"BILLING_PERIOD={period}" / delivery
    manifest.mkdir(parents=True)
    prefix = f"s3://billing-bucket/exports/focus-daily/data/BILLING_PERIOD={period}/{delivery}"
    uris = [f"{prefix}/{name}" for name in parts]
    (manifest / "focus-daily-Manifest.json").write_text(json.dumps({"dataFiles": uris}))
    return data


def test_aws_create_new_deliveries_count_the_newest_of_each_period(tmp_path: Path) -> None:
    """With "create new" every refresh keeps its files: each delivery is the whole period,
    so only the newest of a period counts (the older one is larger, its manifest newer by
    name but older by time)."""
    old = aws_delivery(tmp_path, "2026-11", "20261201T0600Z-b", {"focus-daily-00001.csv.gz": ["9"]})
    new = aws_delivery(tmp_path, "2026-11", "20261202T0600Z-a", {"focus-daily-00001.csv.gz": ["1"]})
    october = aws_delivery(tmp_path, "2026-10", "20261101T0600Z-c",
                           {"focus-daily-00001.csv.gz": ["2"]})  # fmt: skip
    metadata = tmp_path / "exports" / "focus-daily" / "metadata"
    os.utime(metadata / "BILLING_PERIOD=2026-11" / old.name / "focus-daily-Manifest.json",
             (1.9e9, 1.9e9))  # fmt: skip
    os.utime(metadata / "BILLING_PERIOD=2026-11" / new.name / "focus-daily-Manifest.json",
             (2e9, 2e9))  # fmt: skip
    layout = export_files(tmp_path)
    assert layout.files == [october / "focus-daily-00001.csv.gz", new / "focus-daily-00001.csv.gz"]
    assert layout.notes[0] == "1 earlier delivery of the same period left out: the newest counts"


def test_an_azure_period_counts_its_newest_run_whole(tmp_path: Path) -> None:
    period = tmp_path / "costs" / "focus" / "20261101-20261130"
    azure_run(period, "run-a", {"part_0_0001.csv.gz": ["5"]}, "2026-12-01T06:00:00Z")
    newest = azure_run(period, "run-b", {"part_0_0001.csv.gz": ["1"], "part_1_0001.csv.gz": ["2"]},
                       "2026-12-02T06:00:00Z")  # fmt: skip
    layout = export_files(tmp_path / "costs")
    assert layout.files == [newest / "part_0_0001.csv.gz", newest / "part_1_0001.csv.gz"]
    assert layout.notes == ["1 earlier delivery of the same period left out: the newest counts"]
    whole = (newest / "part_1_0001.csv.gz").read_bytes()
    (newest / "part_1_0001.csv.gz").write_bytes(whole[:-7])  # a download cut short
    with pytest.raises(FocusFileError, match="part_1_0001.csv.gz: .* bytes where .* lists"):
        export_files(tmp_path)


def test_a_folder_without_a_manifest_is_every_export_file_in_it(tmp_path: Path) -> None:
    """Google Cloud's FOCUS view exported from BigQuery: sharded files, no manifest."""
    for shard in ("000000000001", "000000000000"):
        part(tmp_path / f"focus-2026-11-{shard}.csv.gz", ["1"])
    (tmp_path / "notes.json").write_text("{}")  # any other JSON is no manifest
    layout = export_files(tmp_path)
    assert [p.name for p in layout.files] == [
        "focus-2026-11-000000000000.csv.gz", "focus-2026-11-000000000001.csv.gz"
    ]  # fmt: skip
    assert layout.notes == []


def test_the_cli_reads_an_export_folder_as_one_statement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    period = tmp_path / "costs" / "focus" / "20261101-20261130"
    azure_run(period, "run-a", {"part_0_0001.csv.gz": ["500"]}, "2026-12-01T06:00:00Z")
    azure_run(period, "run-b", {"part_0_0001.csv.gz": ["1.25"], "part_1_0001.csv.gz": ["2.5"]},
              "2026-12-02T06:00:00Z")  # fmt: skip
    os.utime(period / "run-a" / "manifest.json", (2e9, 2e9))  # newer file, older run
    code = main(["import", "focus", str(tmp_path / "costs"), "--project-tag", "outcomes-project",
                 "--dry-run", "--bootstrap-servers", "127.0.0.1:9"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out
    said = out.out + out.err
    assert "1 earlier delivery of the same period left out" in said
    assert "3.75" in said and "500" not in said
