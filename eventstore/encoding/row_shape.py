"""Which stored rows may not decode, or hold values their event does not say: vectorized.

A row is a suspect when its kind is unknown, its schema is too new, a required value is
missing or blank, or its payload columns do not match its kind and its `fields` list (a
value the decoder would silently drop is tampering too). Suspects are few; the audit
decodes each of them to tell which ones are really broken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, assert_never

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.canonical_text import mentioned
from eventstore.encoding.json_text import text_bytes, whole
from eventstore.encoding.schema import PAYLOAD_COLUMNS, SCHEMA_VERSION
from eventstore.model.events import InstrumentRenamed
from eventstore.model.kinds import KINDS, Kind, Layout, Subject, code_of

_INDEX: Final = {name: at for at, name in enumerate(PAYLOAD_COLUMNS)}
#: The bytes a whitespace character (`str.isspace`) may start with in UTF-8.
_MAY_START_SPACE: Final = np.zeros(256, bool)
_MAY_START_SPACE[[*range(0x09, 0x0E), *range(0x1C, 0x21), 0xC2, 0xE1, 0xE2, 0xE3]] = True


def _mask(names: tuple[str, ...]) -> np.ndarray:
    flags = np.zeros(len(PAYLOAD_COLUMNS), dtype=bool)
    flags[[_INDEX[name] for name in names]] = True
    return flags


@dataclass(frozen=True)
class _Shape:
    """A kind's payload columns: those that may hold a value, those `fields` may name."""

    allowed: np.ndarray
    nameable: np.ndarray

    @classmethod
    def of(cls, kind: Kind) -> _Shape:
        return cls(_mask(kind.stored), _mask(kind.optional))


#: Per kind code, its shape.
_SHAPES: Final = tuple(_Shape.of(kind) for kind in KINDS)
_REQUIRED_TEXT: Final = ("instrument_id", "symbol", "source")


def _flags(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(values.fill_null(True).to_numpy(zero_copy_only=False), dtype=bool)


def _blank(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Return where a text column is null or only whitespace (as `str.strip` sees it).

    Only a string that starts with a byte a whitespace character may start with is looked
    at in Python: the rest are not blank.
    """
    text = whole(column).cast(pa.string())
    starts, ends, data = text_bytes(text)
    blank = starts == ends
    maybe = np.flatnonzero(~blank)
    maybe = maybe[_MAY_START_SPACE[data[starts[maybe]]]]
    if len(maybe):
        values = text.take(pa.array(maybe)).to_pylist()
        blank[maybe] = [value is None or not value.strip() for value in values]
    if text.null_count:
        blank |= np.asarray(text.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    found: np.ndarray = blank
    return found


def present(rows: pa.Table) -> np.ndarray:
    """Return a (rows, payload columns) matrix: whether each payload column holds a value."""
    found = np.empty((rows.num_rows, len(PAYLOAD_COLUMNS)), dtype=bool)
    for at, name in enumerate(PAYLOAD_COLUMNS):
        found[:, at] = rows[name].is_valid().to_numpy(zero_copy_only=False)
    return found


def named_columns(rows: pa.Table) -> np.ndarray:
    """Return a (rows, payload columns) matrix: what each row's `fields` list names."""
    return mentioned(rows["fields"], PAYLOAD_COLUMNS)


def _names_others(rows: pa.Table) -> np.ndarray:
    """Return whether each row's `fields` list names something that is no payload column."""
    fields = whole(rows["fields"])
    known = pc.is_in(pc.list_flatten(fields), value_set=pa.array(PAYLOAD_COLUMNS))
    parents = np.asarray(pc.list_parent_indices(fields).to_numpy(), dtype=np.int64)
    other = np.zeros(rows.num_rows, dtype=bool)
    other[parents[~_flags(known)]] = True
    return other


def shape_problems(rows: pa.Table, kinds: np.ndarray, named: np.ndarray) -> dict[int, str]:
    """Return, by row, why a decodable row still does not match its event (few rows).

    `named` is `named_columns(rows)`. Only rows of known kinds are looked at: the decoder
    reports the others.
    """
    values = present(rows)
    other = _names_others(rows)
    problems: dict[int, str] = {}
    for code, kind in enumerate(KINDS):
        rows_of = np.flatnonzero(kinds == code)
        if not len(rows_of):
            continue
        stray, unnamed = _mismatches(kind, _SHAPES[code], values[rows_of], named[rows_of])
        for row in np.flatnonzero(stray.any(axis=1) | unnamed.any(axis=1) | other[rows_of]):
            problems[int(rows_of[row])] = _describe(kind.name, stray[row], unnamed[row])
    return problems


def _mismatches(
    kind: Kind, shape: _Shape, have: np.ndarray, said: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the values the decoder would drop, and the names `fields` should not say."""
    stray = have & ~shape.allowed
    match kind.layout:
        case Layout.CHANGES:
            stray |= have & ~said  # a value not named by `fields` would be dropped
            unnamed = said & ~shape.nameable
        case Layout.ATTRIBUTES:  # with no optional field, `fields` may name nothing
            stray |= (have & shape.nameable) & ~said
            unnamed = (said & ~shape.nameable) | (said & ~have)
        case _ as unreachable:
            assert_never(unreachable)
    return stray, unnamed


def _describe(kind: str, stray: np.ndarray, unnamed: np.ndarray) -> str:
    if stray.any():
        name = PAYLOAD_COLUMNS[int(np.flatnonzero(stray)[0])]
        return f"column {name!r} holds a value that this {kind} does not say"
    if unnamed.any():
        name = PAYLOAD_COLUMNS[int(np.flatnonzero(unnamed)[0])]
        return f"its fields list names {name!r}, which this {kind} does not set"
    return "its fields list names a column the log does not have"


def suspects(rows: pa.Table, kinds: np.ndarray) -> np.ndarray:
    """Return the rows that may not decode: checked one by one by the caller."""
    flagged = kinds < 0
    versions = rows["schema_version"].fill_null(0)
    flagged |= _flags(pc.greater(versions, SCHEMA_VERSION))
    flagged |= _flags(pc.is_null(rows["effective_at"]))
    for name in _REQUIRED_TEXT:
        flagged |= _blank(rows[name])
    for code, kind in enumerate(KINDS):
        if not kind.required or not (kinds == code).any():
            continue
        of_kind = kinds == code
        for name in kind.required:
            flagged |= of_kind & _blank(rows[name])
    flagged |= _changes_empty(rows, kinds)
    flagged |= _renamed_to_itself(rows, kinds)
    flagged |= _exchange_stream_wrong(rows, kinds)
    return np.flatnonzero(flagged)


def _of(kinds: np.ndarray, layout: Layout) -> np.ndarray:
    """Return where a row's kind has `layout`."""
    codes = [code for code, kind in enumerate(KINDS) if kind.layout is layout]
    return np.isin(kinds, np.asarray(codes, dtype=kinds.dtype))


def _about(kinds: np.ndarray, subject: Subject) -> np.ndarray:
    """Return where a row's kind is about `subject`."""
    codes = [code for code, kind in enumerate(KINDS) if kind.subject is subject]
    return np.isin(kinds, np.asarray(codes, dtype=kinds.dtype))


def _changes_empty(rows: pa.Table, kinds: np.ndarray) -> np.ndarray:
    sizes = pc.list_value_length(rows["fields"]).fill_null(0)
    empty = np.asarray(sizes.to_numpy(), dtype=np.int64) == 0
    return np.asarray(empty & _of(kinds, Layout.CHANGES), dtype=bool)


def _renamed_to_itself(rows: pa.Table, kinds: np.ndarray) -> np.ndarray:
    same = _flags(pc.equal(rows["new_symbol"], rows["symbol"])) & ~_flags(
        pc.is_null(rows["new_symbol"])
    )
    return np.asarray(same & (kinds == code_of(InstrumentRenamed)), dtype=bool)


def _exchange_stream_wrong(rows: pa.Table, kinds: np.ndarray) -> np.ndarray:
    exchange = _about(kinds, Subject.EXCHANGE)
    if not exchange.any():
        return np.asarray(exchange, dtype=bool)
    stream = pc.binary_join_element_wise("exchange:", rows["exchange"], "")
    wrong = ~_flags(pc.equal(rows["instrument_id"], stream)) | ~_flags(
        pc.equal(rows["symbol"], rows["exchange"])
    )
    return np.asarray(exchange & wrong, dtype=bool)


__all__ = ["named_columns", "present", "shape_problems", "suspects"]
