"""FOCUS read in column batches (pyarrow, extra `focus`): the same charges as reading row by
row (`mapping.to_charge`), at a fraction of the cost.

Per batch, each column the charge depends on — tags, charge start, provider, account,
billing period, categories, currency — is dictionary-encoded, and what it means is worked
out once per distinct value. The columns' codes combine into one per row: rows of a
combination share project, charge day, statement and category. Amounts are parsed exactly
in C (decimal128, 18 places; of at most 12 integer digits) and summed per
combination; a combination of plain charges adds its sum to its statement line at once, one
of zero amounts is counted `zero_cost`. Every other row — no project, another currency, an
invalid or odd value, a charge day in the future — goes through `to_charge` as a dict, so
every reason and message is the row path's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import IO, Any, Final

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from outcomes.importers.focus.mapping import (
    MAX_ROW_AMOUNT,
    SHARED,
    UTC_ASSUMED,
    Charge,
    Skipped,
    TagMap,
    _category,
    _charge_day,
    _project_of,
    _project_of_tags,
    _statement_of,
    _text,
)
from outcomes.importers.focus.statements import EXACT, Tally

Row = Callable[[], dict[str, Any]]
"""The row as a dict, built only when asked (a row that is not a plain charge)."""
BLOCK_BYTES: Final = 1 << 22
AMOUNT: Final = pa.decimal128(38, 18)
PLAIN_AMOUNT: Final = r"^[+-]?(\d{1,12}(\.\d{0,18})?|\.\d{1,18})$"
"""A batch's amounts are cast to decimal128 at once where every cell is a number it holds
exactly (exponents too); where one is not, only cells of this form are cast (|amount| <
10^12) and any other text (spaces, more places) is read by the row path."""
_CODE_LIMIT: Final = 1 << 62
_LIMIT: Final = pa.scalar(MAX_ROW_AMOUNT, AMOUNT)
_ZERO: Final = pa.scalar(Decimal(0), AMOUNT)
ENCODED: Final = frozenset({*SHARED, "Tags"})
"""Read dictionary-encoded where the file holds them as text."""
TEXTS: Final = pa.dictionary(pa.int32(), pa.string())


def csv_batches(stream: IO[bytes], columns: list[str]) -> Iterator[Any]:
    """Record batches of `columns` (every cell as text) of the CSV `stream`; the columns
    rows share values of come dictionary-encoded (as they are parsed)."""
    types = {name: TEXTS if name in ENCODED else pa.string() for name in columns}
    reader = pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES, encoding="utf8"),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            include_columns=columns,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    yield from reader


@dataclass(frozen=True)
class Reading:
    """How the rows of this import are read: the options of `to_charge`."""

    project_tag: str
    cost_column: str
    currency: str
    tag_map: TagMap
    notes: Counter[str]
    to_charge: Callable[[dict[str, Any]], Charge | Skipped]


@dataclass(frozen=True, slots=True)
class Columns:
    """What a batch's columns say before any row is judged (`read`): each row's
    combination, the values of each combination, and per combination the sum and count of
    its plain amounts and the count of its zero amounts. Worked out by pyarrow's kernels,
    which let other threads run: `read` runs beside the judging of the batches before
    (`charges`), which is left to look at each combination once."""

    batch: Any
    project_of: ProjectOf | None
    """How a Tags value names the project; None: Tags of a type the column path does not
    read (the batch goes row by row)."""
    combos: Any = None
    values: list[tuple[Any, ...]] | None = None
    amounts: tuple[Any, Any, Any] | None = None
    sums: list[tuple[int, Decimal, int]] = field(default_factory=list)
    """(combination, sum, rows) of the plain amounts that are not 0."""
    zeros: list[tuple[int, int]] = field(default_factory=list)
    """(combination, rows) of the plain amounts of 0."""
    odd: list[int] = field(default_factory=list)
    """Rows whose amount is not plain: the row path says what they are."""


def read(batch: Any, *, project_tag: str, cost_column: str) -> Columns:
    """The batch's combinations and amounts (`Columns`); touches nothing shared."""
    tags = _tags(batch, project_tag)
    if tags is None or not batch.num_rows:
        return Columns(batch, None)
    array, project_of = tags
    keys = [array, *_shared(batch)]
    combos, first_rows = _combinations(keys)
    values = list(zip(*(_at(a, first_rows) for a in keys), strict=True))
    amounts = amount, plain_amount, zero_amount = _amounts(_column(batch, cost_column))
    grouped = (
        pa.table({"combo": combos, "amount": amount})
        .filter(plain_amount)
        .group_by("combo")
        .aggregate([("amount", "sum"), ("amount", "count")])
    )
    sums = _pairs(grouped.column("combo"), grouped.column("amount_sum"),
                  grouped.column("amount_count"))  # fmt: skip
    zeros = pc.value_counts(pc.filter(combos, zero_amount))
    odd = pc.indices_nonzero(pc.invert(pc.or_(plain_amount, zero_amount))).to_pylist()
    return Columns(batch, project_of, combos, values, amounts, sums,
                   _pairs(zeros.field("values"), zeros.field("counts")), odd)  # fmt: skip


def _pairs(*arrays: Any) -> list[Any]:
    """The arrays' values side by side: [(a0, b0, …), (a1, b1, …), …]."""
    return list(zip(*(array.to_pylist() for array in arrays), strict=True))


def charges(
    columns: Columns, tally: Tally, reading: Reading
) -> Iterator[tuple[Charge | Skipped, Row, int]]:
    """Every row that is not a plain charge or a zero amount: its charge (or why there is
    none), the row and its index in the batch, in file order; the others are counted in
    `tally`."""
    batch = columns.batch

    def row_of(index: int) -> Row:
        return lambda: batch.slice(index, 1).to_pylist()[0]

    project_of, values = columns.project_of, columns.values
    if project_of is None or values is None or columns.amounts is None:
        for index in range(batch.num_rows):  # Tags the column path does not read (or none)
            row = row_of(index)
            yield reading.to_charge(row()), row, index
        return
    kinds = [_kind(combination, project_of, tally.latest, reading) for combination in values]
    _count(columns.sums, kinds, tally, reading)
    for combo, rows in columns.zeros:
        if kinds[combo] is not _ROWS:
            tally.read += rows
            tally.zero += rows
    for index in _row_path(columns, kinds):
        row = row_of(index)
        yield reading.to_charge(row()), row, index


def _row_path(columns: Columns, kinds: list[_Plain | _ZeroOnly | _Rows]) -> list[int]:
    """The rows neither counted as a plain charge nor as a zero amount, in file order."""
    if all(type(kind) is _Plain for kind in kinds):
        return columns.odd
    assert columns.amounts is not None
    _, plain_amount, zero_amount = columns.amounts
    plain = pc.and_(pc.take(pa.array([type(k) is _Plain for k in kinds]), columns.combos),
                    plain_amount)  # fmt: skip
    zero = pc.and_(pc.take(pa.array([k is not _ROWS for k in kinds]), columns.combos),
                   zero_amount)  # fmt: skip
    return pc.indices_nonzero(pc.invert(pc.or_(plain, zero))).to_pylist()  # type: ignore[no-any-return]


@dataclass(slots=True)
class _Plain:
    """What the rows of one combination share, when they are plain charges."""

    project: str
    day: date
    assumed: bool
    statement: str
    category: str


class _Rows:
    """A combination whose rows take the row path (which says why)."""


class _ZeroOnly:
    """A combination whose rows are not plain charges, but whose zero amounts are counted
    `zero_cost` as the row path would (the charge day is in the future)."""


_ROWS: Final = _Rows()
_ZERO_ONLY: Final = _ZeroOnly()


ProjectOf = Callable[[Any, Reading], "str | Skipped"]


def _kind(
    values: tuple[Any, ...], project_of: ProjectOf, latest: date, reading: Reading
) -> _Plain | _ZeroOnly | _Rows:
    """What a combination's rows are, in `to_charge`'s order of checks."""
    tags, start, provider, account, period, charge_category, service_category, currency = values
    try:
        project = project_of(tags, reading)
        if isinstance(project, Skipped):
            return _ROWS
        if currency != reading.currency and _text(currency) != reading.currency:
            return _ROWS
        day, assumed = _charge_day(start)
        statement = _statement_of(provider, account, period)
    except (ValueError, TypeError):
        return _ROWS
    if day > latest:
        return _ZERO_ONLY
    category = _category(charge_category, service_category)
    return _Plain(project, day, assumed, statement, category)


def _count(
    sums: list[tuple[int, Decimal, int]], kinds: list[Any], tally: Tally, reading: Reading
) -> None:
    """The plain charges' sums, per combination, into their statement lines."""
    for combo, total, rows in sums:
        plain = kinds[combo]
        if type(plain) is not _Plain:
            continue  # its rows take the row path
        lines = tally.sums.setdefault(plain.statement, {}).setdefault(plain.project, {})
        key = (plain.day, plain.category)
        lines[key] = EXACT.add(lines.get(key, Decimal(0)), total)
        tally.counted[plain.project] += rows
        tally.read += rows
        if plain.assumed:
            reading.notes[UTC_ASSUMED] += rows


def _tags(batch: Any, project_tag: str) -> tuple[Any, ProjectOf] | None:
    """The Tags column as the column path reads it, and how a distinct value of it names
    the project: JSON text (CSV, or Parquet written so) as it is, a Parquet map as the value
    of the project tag; None for any other type (read row by row)."""
    tags = _column(batch, "Tags")
    if _is_text(tags.type) or (
        pa.types.is_dictionary(tags.type) and _is_text(tags.type.value_type)
    ):
        return tags, _project_of_text
    if pa.types.is_map(tags.type) and pa.types.is_string(tags.type.key_type):
        # a map keeps its last pair of a key, as the row path's dict of its pairs does
        return pc.map_lookup(tags, project_tag, "last"), _project_of_value
    return None


def _project_of_text(tags: Any, reading: Reading) -> str | Skipped:
    if type(tags) is str:
        return _project_of(tags, reading.project_tag, reading.tag_map)
    return _project_of_tags(tags, reading.project_tag, reading.tag_map)


def _project_of_value(value: Any, reading: Reading) -> str | Skipped:
    found = {} if value is None else {reading.project_tag: value}
    return _project_of_tags(found, reading.project_tag, reading.tag_map)


def _is_text(kind: Any) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _shared(batch: Any) -> list[Any]:
    return [_column(batch, name) for name in SHARED]


def _column(batch: Any, name: str) -> Any:
    """A column of the batch; one the file lacks is empty text."""
    if name in batch.schema.names:
        return batch.column(name)
    return pa.repeat(pa.scalar("", pa.string()), batch.num_rows)


def _combinations(arrays: list[Any]) -> tuple[Any, Any]:
    """Per row the number of its combination of values of `arrays` (0, 1, …), and a row of
    each combination (its first)."""
    code, distinct = None, 1
    for array in arrays:
        indices, size = _codes(array)
        if code is None:
            code, distinct = indices, size
            continue
        if distinct * size >= _CODE_LIMIT:  # renumber what is there: it stays < rows
            renumbered = pc.dictionary_encode(code)
            code, distinct = renumbered.indices.cast(pa.int64()), len(renumbered.dictionary)
        code, distinct = pc.add(pc.multiply(code, size), indices), distinct * size
    encoded = pc.dictionary_encode(code)
    return encoded.indices, pc.index_in(encoded.dictionary, value_set=code)


def _codes(array: Any) -> tuple[Any, int]:
    """Each row's number of its value in `array` (a null one too), and how many there are:
    the file's own dictionary where it was read as one."""
    if pa.types.is_dictionary(array.type):
        size = len(array.dictionary) + 1  # the last: null
        return pc.fill_null(array.indices.cast(pa.int64()), size - 1), size
    encoded = pc.dictionary_encode(array, null_encoding="encode")
    return encoded.indices.cast(pa.int64()), max(1, len(encoded.dictionary))


def _at(array: Any, rows: Any) -> list[Any]:
    return pc.take(array, rows).to_pylist()  # type: ignore[no-any-return]


def _amounts(column: Any) -> tuple[Any, Any, Any]:
    """Each row's amount (decimal128; 0 where it is not plain text), and whether it is a
    plain amount that is not 0, or a plain 0."""
    if (
        pa.types.is_decimal(column.type)
        and column.type.scale <= AMOUNT.scale
        and (column.type.precision - column.type.scale <= AMOUNT.precision - AMOUNT.scale)
    ):  # a Parquet decimal: exact as it is
        exact = pc.cast(column, AMOUNT)
        amount = pc.fill_null(exact, _ZERO)
        within = pc.fill_null(pc.less(pc.abs(exact), _LIMIT), False)
        nonzero = pc.not_equal(amount, _ZERO)
        return amount, pc.and_(within, nonzero), pc.and_(pc.is_valid(column), pc.invert(nonzero))
    text = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
    try:  # the common case, in one pass: every cell a number decimal128 holds exactly
        amount = pc.fill_null(pc.cast(text, AMOUNT), _ZERO)
        readable = pc.and_(pc.is_valid(text), pc.less(pc.abs(amount), _LIMIT))
    except pa.ArrowInvalid:  # a cell that is not: plain ones here, the others by the row path
        readable = pc.fill_null(pc.match_substring_regex(text, PLAIN_AMOUNT), False)
        amount = pc.cast(pc.if_else(readable, text, "0"), AMOUNT)
    nonzero = pc.not_equal(amount, _ZERO)
    return amount, pc.and_(readable, nonzero), pc.and_(readable, pc.invert(nonzero))
