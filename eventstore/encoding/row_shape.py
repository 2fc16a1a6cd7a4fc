"""Which stored rows may not decode, or hold values their event does not say: vectorized.

A row is a suspect when its kind is unknown, its schema is too new, a required value is
missing or blank, or its payload columns do not match its kind and its `fields` list (a
value the decoder would silently drop is tampering too). Suspects are few; the audit
decodes each of them to tell which ones are really broken.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.canonical_text import mentioned
from eventstore.encoding.json_text import text_bytes, whole
from eventstore.encoding.schema import PAYLOAD_COLUMNS, SCHEMA_VERSION
from eventstore.model.events import InstrumentRenamed
from eventstore.model.kinds import KINDS, Layout, Subject, code_of

_INDEX: Final = {name: at for at, name in enumerate(PAYLOAD_COLUMNS)}
#: The bytes a whitespace character (`str.isspace`) may start with in UTF-8.
_MAY_START_SPACE: Final = np.zeros(256, bool)
_MAY_START_SPACE[[*range(0x09, 0x0E), *range(0x1C, 0x21), 0xC2, 0xE1, 0xE2, 0xE3]] = True


def _bits_of(names: tuple[str, ...]) -> int:
    """Return the payload columns `names` as bits (bit k: `PAYLOAD_COLUMNS[k]`)."""
    return sum(1 << _INDEX[name] for name in names)


# Each row's payload columns are one 64-bit word of flags: one NumPy operation per check.
assert len(PAYLOAD_COLUMNS) <= 64, "the shape checks hold a row's columns in 64 bits"
#: Per kind code: the columns it may fill, those its `fields` may name, its layout.
_ALLOWED: Final = np.array([_bits_of(kind.stored) for kind in KINDS], np.uint64)
_NAMEABLE: Final = np.array([_bits_of(kind.optional) for kind in KINDS], np.uint64)
_CHANGES: Final = np.array([kind.layout is Layout.CHANGES for kind in KINDS])
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


def _present(rows: pa.Table) -> np.ndarray:
    """Return, per row, the payload columns that hold a value, as bits."""
    found = np.zeros(rows.num_rows, dtype=np.uint64)
    for at, name in enumerate(PAYLOAD_COLUMNS):
        column = rows[name]
        if column.null_count == len(column):  # most columns, in most chunks
            continue
        valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=np.uint64)
        found |= valid << np.uint64(at)
    return found


def _as_bits(flags: np.ndarray) -> np.ndarray:
    """Return a (rows, payload columns) matrix of flags as one 64-bit word per row."""
    packed = np.packbits(flags, axis=1, bitorder="little")
    words = np.zeros((len(flags), 8), dtype=np.uint8)
    words[:, : packed.shape[1]] = packed
    found: np.ndarray = words.view("<u8").ravel()
    return found


def _flags_of(bits: int) -> np.ndarray:
    """Return one row's bits as flags, by payload column."""
    found: np.ndarray = (bits >> np.arange(len(PAYLOAD_COLUMNS))) & 1 == 1
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
    have, said = _present(rows), _as_bits(named)
    known = kinds >= 0
    codes = np.where(known, kinds, 0)
    nameable, changes = _NAMEABLE[codes], _CHANGES[codes]
    stray = have & ~_ALLOWED[codes]
    # a value `fields` does not name would be dropped (by a listing: an optional one)
    stray |= have & ~said & np.where(changes, ~np.uint64(0), nameable)
    unnamed = said & ~nameable
    unnamed |= np.where(changes, np.uint64(0), said & ~have)  # a listing names what it has
    bad = known & ((stray != 0) | (unnamed != 0) | _names_others(rows))
    return {
        row: _describe(
            KINDS[kinds[row]].name, _flags_of(int(stray[row])), _flags_of(int(unnamed[row]))
        )
        for row in np.flatnonzero(bad).tolist()
    }


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


__all__ = ["named_columns", "shape_problems", "suspects"]
