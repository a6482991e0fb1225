"""FOCUS export files, streamed: CSV, gzip'd CSV and Parquet.

Memory stays flat however large the export: only the columns a charge is made of are read
(`mapping.NEEDED`). With pyarrow (extra `focus`) CSV is read in column batches of 4 MiB
blocks (`columnar`, counted by `outcomes.importers.focus.columns`) — through gzip when
compressed — and Parquet one record batch at a time, its text columns that rows share values
of as the file's own dictionaries; without pyarrow CSV is read line by line (`rows`).
`progress` is told how many bytes (CSV) or rows (Parquet) were consumed.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from outcomes.importers.focus.mapping import NEEDED, SHARED

Progress = Callable[[int], None]
BATCH_ROWS: Final = 65_536
_GZIP_MAGIC: Final = b"\x1f\x8b"
_PARQUET_MAGIC: Final = b"PAR1"


class FocusFileError(Exception):
    pass


def kind_of(path: Path) -> str:
    """`csv`, `gzip` or `parquet`, from the file's first bytes (names lie)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as error:
        raise FocusFileError(f"{path}: {error.strerror or error}") from None
    if head[:2] == _GZIP_MAGIC:
        return "gzip"
    if head == _PARQUET_MAGIC:
        return "parquet"
    return "csv"


def size_of(path: Path) -> int:
    """What `rows` reports progress in: bytes of the file (CSV, gzip), rows (Parquet)."""
    if kind_of(path) == "parquet":
        try:
            from pyarrow import parquet  # optional: extra `focus`

            return int(parquet.read_metadata(path).num_rows)
        except ImportError:
            return 0  # _parquet says what is missing
        except Exception as error:  # noqa: BLE001 - pyarrow raises several types
            raise FocusFileError(f"{path}: {error}") from None
    return path.stat().st_size


def rows(path: Path, progress: Progress = lambda done: None) -> Iterator[dict[str, Any]]:
    kind = kind_of(path)
    if kind == "parquet":
        yield from _parquet_rows(path, progress)
        return
    with path.open("rb") as raw:
        stream = gzip.GzipFile(fileobj=raw) if kind == "gzip" else raw
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader, [])
            missing = _missing(header)
            if missing:
                raise FocusFileError(f"{path}: not a FOCUS export, no column {', '.join(missing)}")
            last = 0
            for number, values in enumerate(reader):
                if number % 1024 == 0:  # the progress bar: a file position now and then
                    position = raw.tell()
                    progress(position - last)
                    last = position
                if values:  # a blank line is no row
                    yield dict(zip(header, values, strict=False))  # a short row: no last cells
        except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, csv.Error) as error:
            raise FocusFileError(f"{path}: line {reader.line_num}: {error}") from None


def columnar(path: Path, progress: Progress = lambda done: None) -> Iterator[Any] | None:
    """The file's record batches of the columns the import reads (CSV: every cell text;
    Parquet: as typed), or None where pyarrow is not installed (CSV is read row by row)."""
    kind = kind_of(path)
    if kind == "parquet":
        return _parquet_batches(path, progress)
    try:
        from outcomes.importers.focus.columns import csv_batches
    except ImportError:
        return None
    return _columnar(path, kind, progress, csv_batches)


def _columnar(
    path: Path, kind: str, progress: Progress, batches: Callable[..., Iterator[Any]]
) -> Iterator[Any]:
    with path.open("rb") as raw:
        stream: Any = gzip.GzipFile(fileobj=raw) if kind == "gzip" else raw
        try:
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            header = next(csv.reader(text), [])
            text.detach()
            missing = _missing(header)
            if missing:
                raise FocusFileError(f"{path}: not a FOCUS export, no column {', '.join(missing)}")
            stream.seek(0)
            wanted = [name for name in header if name in NEEDED]
            last = 0
            for batch in batches(stream, list(dict.fromkeys(wanted))):
                position = raw.tell()
                progress(position - last)
                last = position
                yield batch
        except FocusFileError:
            raise
        except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, csv.Error) as error:
            raise FocusFileError(f"{path}: {error}") from None
        except Exception as error:  # noqa: BLE001 - pyarrow's errors: a broken file
            raise FocusFileError(f"{path}: {error}") from None


def _missing(columns: Sequence[str]) -> list[str]:
    required = ("ChargePeriodStart", "BillingCurrency", "Tags")
    present = set(columns)
    absent = [column for column in required if column not in present]
    if not present & {"EffectiveCost", "BilledCost"}:
        absent.append("EffectiveCost or BilledCost")
    return absent


def _parquet(path: Path) -> Any:
    """The Parquet file, its text columns that rows share values of read as dictionaries
    (as the file stores them: nothing to hash)."""
    try:
        from pyarrow import parquet, types  # optional: extra `focus`
    except ImportError:
        raise FocusFileError(
            f"{path}: Parquet needs pyarrow: pip install 'outcome-telemetry-collector[focus]'"
        ) from None
    try:
        footer = parquet.read_metadata(path)  # read once: the file below reuses it
        shared = [
            field.name for field in footer.schema.to_arrow_schema()
            if (field.name in SHARED or field.name == "Tags") and types.is_string(field.type)
        ]  # fmt: skip
        return parquet.ParquetFile(path, metadata=footer, read_dictionary=shared)
    except Exception as error:  # noqa: BLE001 - pyarrow raises several types
        raise FocusFileError(f"{path}: {error}") from None


def _parquet_rows(path: Path, progress: Progress) -> Iterator[dict[str, Any]]:
    for batch in _parquet_batches(path, progress):
        yield from batch.to_pylist()


def _parquet_batches(path: Path, progress: Progress) -> Iterator[Any]:
    source = _parquet(path)
    names = source.schema_arrow.names
    missing = _missing(names)
    if missing:
        raise FocusFileError(f"{path}: not a FOCUS export, no column {', '.join(missing)}")
    columns = [column for column in NEEDED if column in names]
    try:
        for batch in source.iter_batches(batch_size=BATCH_ROWS, columns=columns):
            yield batch
            progress(batch.num_rows)
    except Exception as error:  # noqa: BLE001 - pyarrow's errors: a broken file
        raise FocusFileError(f"{path}: {error}") from None
