"""Export folders as the providers deliver them, synced locally, read as one statement.

A provider writes a large export as several part files and, once all are written, a
manifest listing them:

- AWS Data Exports: `<export>/data/BILLING_PERIOD=YYYY-MM/<export>-00001.csv.gz` (or
  `.snappy.parquet`) and `<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`,
  whose `dataFiles` are the parts' S3 URIs;
- Azure Cost Management exports (file partitioning on): `<export>/<YYYYMMDD-YYYYMMDD>/<run>/`
  holds the parts and a `manifest.json` (or `_manifest.json`) whose `blobs` name each part
  (`blobName`) with its size (`byteCount`); every run writes a new run folder.

With a manifest, the parts it lists are the export — every one must be there, whole (a
missing part or one of another size than listed stops the import: no half statement may
replace a whole one); files it does not list (an earlier delivery's) are left out, and of
several deliveries of one period — Azure's runs, AWS's "create new" deliveries (a folder
per delivery below `BILLING_PERIOD=YYYY-MM/`) — only the newest counts. Without a manifest
(a Google Cloud export from BigQuery, sharded `*-000000000000.csv`; a folder of files)
every export file below the folder is read, in name order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Final
from urllib.parse import urlparse

from outcomes.importers.focus.files import FocusFileError

EXPORT_SUFFIXES: Final = (".csv", ".gz", ".parquet")
AZURE_MANIFESTS: Final = ("manifest.json", "_manifest.json")


@dataclass
class Layout:
    """What a folder holds: the files to read and what was said about it."""

    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Part:
    path: PurePosixPath
    size: int | None


@dataclass(frozen=True, slots=True)
class _Manifest:
    path: Path
    parts: tuple[_Part, ...]
    submitted: str
    """When the run was submitted (Azure `runInfo.submittedTime`), else ''."""
    azure: bool
    """An Azure run's manifest (else AWS's)."""


def export_files(folder: Path) -> Layout:
    """The files of the export(s) below `folder` (see the module's docstring)."""
    found = sorted(p for p in folder.rglob("*") if p.is_file())  # one walk of the folder
    manifests = [m for m in map(_manifest, found) if m is not None]
    data = [p for p in found if p.suffix in EXPORT_SUFFIXES]
    layout = Layout()
    if not manifests:
        layout.files = data
        return layout
    newest = _newest_runs(manifests, layout.notes)
    for manifest in newest:
        for part in manifest.parts:
            layout.files.append(_located(folder, manifest, part))
    listed = set(layout.files)
    earlier = {m.path.parent for m in manifests if m not in newest}
    unlisted = [p for p in data if p not in listed and p.parent not in earlier]
    if unlisted:
        layout.notes.append(
            f"{len(unlisted)} file(s) no manifest lists were left out (an earlier delivery),"
            f" e.g. {unlisted[0]}"
        )
    return layout


def _manifest(path: Path) -> _Manifest | None:
    """The manifest at `path`, or None when it is not one (any other JSON file)."""
    aws = path.name.endswith("Manifest.json")
    if not aws and path.name not in AZURE_MANIFESTS:
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise FocusFileError(f"{path}: not a readable export manifest: {error}") from None
    if not isinstance(document, dict):
        raise FocusFileError(f"{path}: not an export manifest (not a JSON object)")
    if aws:
        return _Manifest(path, tuple(_aws_parts(path, document)), "", azure=False)
    run = document.get("runInfo")
    submitted = run.get("submittedTime", "") if isinstance(run, dict) else ""
    return _Manifest(path, tuple(_azure_parts(path, document)), str(submitted), azure=True)


def _aws_parts(path: Path, document: dict[str, Any]) -> list[_Part]:
    files = document.get("dataFiles")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise FocusFileError(f"{path}: an AWS export manifest without a list of dataFiles")
    return [_Part(PurePosixPath(urlparse(uri).path.lstrip("/")), None) for uri in files]


def _azure_parts(path: Path, document: dict[str, Any]) -> list[_Part]:
    blobs = document.get("blobs")
    if not isinstance(blobs, list) or not all(
        isinstance(b, dict) and isinstance(b.get("blobName"), str) for b in blobs
    ):
        raise FocusFileError(f"{path}: an Azure export manifest without blobs and their blobName")
    parts = []
    for blob in blobs:
        size = blob.get("byteCount")
        parts.append(
            _Part(
                PurePosixPath(blob["blobName"].lstrip("/")), size if isinstance(size, int) else None
            )
        )
    return parts


def _newest_runs(manifests: list[_Manifest], notes: list[str]) -> list[_Manifest]:
    """Of several deliveries of one period, the newest: Azure's run folders side by side,
    AWS's "create new" deliveries (each with its manifest below the period's
    `metadata/BILLING_PERIOD=YYYY-MM/` folder). Each delivery is a whole statement of
    its period: adding them up would count the period twice."""
    newest: dict[tuple[bool, Path], _Manifest] = {}
    for manifest in manifests:
        period = (manifest.azure, _period_folder(manifest))
        other = newest.get(period)
        if other is None or _when(manifest) > _when(other):
            newest[period] = manifest
    left = len(manifests) - len(newest)
    if left:
        deliveries = "delivery" if left == 1 else "deliveries"
        notes.append(f"{left} earlier {deliveries} of the same period left out: the newest counts")
    return sorted(newest.values(), key=lambda m: m.path)


def _period_folder(manifest: _Manifest) -> Path:
    """The folder of the period a manifest delivers: an Azure run folder's parent; for AWS
    the `BILLING_PERIOD=` folder it lies in (else its own folder)."""
    if manifest.azure:
        return manifest.path.parent.parent
    for folder in manifest.path.parents:
        if folder.name.startswith("BILLING_PERIOD="):
            return folder
    return manifest.path.parent


def _when(manifest: _Manifest) -> tuple[str, float, str]:
    """Azure's submitted time, then the manifest's file time (a bucket sync keeps the
    object's time), then its path (AWS's delivery folders start with their time)."""
    return manifest.submitted, manifest.path.stat().st_mtime, str(manifest.path)


def _located(folder: Path, manifest: _Manifest, part: _Part) -> Path:
    """The local copy of a listed part: the longest tail of its path found below `folder`
    (a bucket is synced from any depth), beside the manifest first."""
    parts = part.path.parts
    candidates = [manifest.path.parent / parts[-1]] if parts else []
    candidates += [folder.joinpath(*parts[i:]) for i in range(len(parts))]
    for candidate in candidates:
        if candidate.is_file():
            size = candidate.stat().st_size
            if part.size is not None and size != part.size:
                raise FocusFileError(
                    f"{candidate}: {size} bytes where {manifest.path} lists {part.size}: the"
                    " part is truncated or still being written; nothing was sent"
                )
            return candidate
    raise FocusFileError(
        f"{manifest.path} lists {part.path}, not found below {folder}: the export is"
        " incomplete (sync every part); nothing was sent"
    )


def expand_paths(paths: list[Path]) -> Layout:
    """Files as given; a directory stands for the export below it — the parts its
    manifests list (AWS, Azure), else every export file (`*.csv`, `*.csv.gz`, `*.parquet`)
    in name order: a bucket's export folder synced locally (`layouts`)."""
    found = Layout()
    for path in paths:
        if path.is_dir():
            layout = export_files(path)
            found.files += layout.files
            found.notes += layout.notes
        elif path.is_file():
            found.files.append(path)
        else:
            raise FocusFileError(f"{path}: no such file or directory")
    if not found.files:
        raise FocusFileError(f"no export files in {', '.join(map(str, paths))}")
    return found
