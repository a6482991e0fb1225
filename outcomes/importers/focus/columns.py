"""FOCUS CSV read in column batches (pyarrow, extra `focus`): the same charges as reading
row by row (`mapping.to_charge`), at a fraction of the cost.

Per batch, what a bill repeats on most rows — its tags, charge starts, statements,
categories and currencies — is worked out once per distinct value (dictionary-encoded
columns), the identities are joined in C and digested in one loop, and each amount is
parsed exactly (Decimal). A row that is not a plain charge (no project, another currency,
an invalid or zero value) goes through `to_charge` as a dict, so every reason and message
is the row path's.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import IO, Any, Final

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from outcomes.importers.focus.mapping import (
    IDENTITY,
    MAX_ROW_AMOUNT,
    NULLS,
    UTC_ASSUMED,
    Charge,
    Skipped,
    TagMap,
    _category,
    _charge_day,
    _project_of,
    _statement_of,
    _text,
)
from outcomes.importers.focus.statements import Tally

Row = Callable[[], dict[str, Any]]
"""The row as a dict, built only when asked (a row that is not a plain charge)."""
BLOCK_BYTES: Final = 1 << 22
ZERO: Final = Decimal(0)


def batches(stream: IO[bytes], columns: list[str]) -> Iterator[Any]:
    """Record batches of `columns` (every cell as text) of the CSV `stream`."""
    reader = pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES, encoding="utf8"),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            include_columns=columns,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    yield from reader


def charges(
    batch: Any,
    tally: Tally,
    *,
    project_tag: str,
    cost_column: str,
    currency: str,
    tag_map: TagMap,
    notes: Counter[str],
    to_charge: Callable[[dict[str, Any]], Charge | Skipped],
) -> Iterator[tuple[Charge | Skipped, Row]]:
    """Every row that is not a plain charge up to `tally.latest`: its charge (or why there
    is none) and the row, in file order; the plain ones are counted in `tally`."""
    column = partial(_column, batch, set(batch.schema.names))
    values, where_at = _shared(
        column,
        lambda tags: _project_of(tags, project_tag, tag_map),
        lambda value: value == currency or _text(value) == currency,
    )
    identities = pc.binary_join_element_wise(*[_read(column(c)) for c in IDENTITY], "\x1f")
    amounts = column(cost_column).to_pylist()
    blake2b, from_bytes = hashlib.blake2b, int.from_bytes
    seen, sums, counted, latest = tally.seen, tally.sums, tally.counted, tally.latest

    def row_of(index: int) -> Row:
        return lambda: batch.slice(index, 1).to_pylist()[0]

    resolved: dict[tuple[int, ...], _Plain | None] = {}
    rows = zip(where_at, identities.to_pylist(), amounts, strict=True)
    for index, (where, identity, text) in enumerate(rows):
        if where in resolved:
            plain = resolved[where]
        else:
            plain = resolved[where] = _plain(where, values)
        amount = _amount(text)
        if plain is None or amount is None:
            row = row_of(index)
            yield to_charge(row()), row
            continue
        if plain.assumed:
            notes[UTC_ASSUMED] += 1
        number = from_bytes(blake2b(identity.encode(), digest_size=16).digest(), "big")
        if plain.day > latest:
            charge = Charge(number, plain.statement, plain.project, plain.day, plain.category,
                            amount)  # fmt: skip
            yield charge, row_of(index)
            continue
        tally.read += 1
        if number in seen:
            tally.repeated += 1
            continue
        seen.add(number)
        lines = plain.lines
        if lines is None:
            lines = plain.lines = sums.setdefault(plain.statement, {}).setdefault(plain.project, {})
        lines[plain.key] = lines.get(plain.key, ZERO) + amount
        counted[plain.project] += 1


def _column(batch: Any, names: set[str], name: str) -> Any:
    """A column of the batch; one the file lacks is empty text."""
    if name in names:
        return batch.column(name)
    return pa.repeat(pa.scalar("", pa.string()), batch.num_rows)


def _distinct(array: Any, work: Callable[[Any], Any]) -> tuple[list[Any], list[int]]:
    """`work` on each distinct value of `array` (or `_FAILED`), and each row's index."""
    encoded = pc.dictionary_encode(array)
    values = [_worked(work, value) for value in encoded.dictionary.to_pylist()]
    return values, encoded.indices.to_pylist()


def _shared(
    column: Callable[[str], Any],
    project: Callable[[Any], Any],
    currency_ok: Callable[[Any], bool],
) -> tuple[tuple[list[Any], ...], Iterator[tuple[int, ...]]]:
    """What rows share, worked out per distinct value — project, (charge day, assumed),
    statement, category, currency ok — and per row the index of each."""
    statement_keys = pc.binary_join_element_wise(
        column("ProviderName"), column("BillingAccountId"), column("BillingPeriodStart"), "\x1f"
    )
    category_keys = pc.binary_join_element_wise(
        column("ChargeCategory"), column("ServiceCategory"), "\x1f"
    )
    found = (
        _distinct(column("Tags"), project),
        _distinct(column("ChargePeriodStart"), _charge_day),
        _distinct(statement_keys, lambda key: _statement_of(*key.split("\x1f"))),
        _distinct(category_keys, lambda key: _category(*key.split("\x1f"))),
        _distinct(column("BillingCurrency"), currency_ok),
    )
    values = tuple(distinct for distinct, _ in found)
    return values, zip(*(at for _, at in found), strict=True)


@dataclass(slots=True)
class _Plain:
    """What the rows of one (tags, charge start, statement, category, currency) share."""

    project: str
    day: date
    assumed: bool
    statement: str
    category: str
    key: tuple[date, str]
    lines: dict[tuple[date, str], Decimal] | None = None
    """The project's sums in the statement, once a row was counted there."""


def _plain(where: tuple[int, ...], values: tuple[list[Any], ...]) -> _Plain | None:
    """The shared values, or None when such rows are not plain charges (the row path)."""
    project, day, statement, category, currency_ok = (
        distinct[at] for distinct, at in zip(values, where, strict=True)
    )
    if (
        isinstance(project, _Failed | Skipped) or currency_ok is not True
        or isinstance(day, _Failed) or isinstance(statement, _Failed)
        or isinstance(category, _Failed)
    ):  # fmt: skip
        return None
    return _Plain(project, day[0], day[1], statement, category, (day[0], category))


class _Failed:
    """A distinct value that raised: its rows take the row path (which says why)."""


_FAILED: Final = _Failed()


def _worked(work: Callable[[Any], Any], value: Any) -> Any:
    try:
        return work(value)
    except ValueError:
        return _FAILED


def _read(array: Any) -> Any:
    """Cells as `_text` reads them: spaces around dropped, NULL empty."""
    trimmed = pc.utf8_trim_whitespace(array)
    return pc.if_else(pc.is_in(trimmed, value_set=_nulls()), "", trimmed)


def _nulls() -> Any:
    return pa.array(sorted(NULLS), pa.string())


def _amount(text: str) -> Decimal | None:
    """A plain amount (finite, within range, not zero), or None for the row path."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or not amount or abs(amount) >= MAX_ROW_AMOUNT:
        return None
    return amount
