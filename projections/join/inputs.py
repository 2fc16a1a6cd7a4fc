"""Read a caller's table of rows keyed by (symbol, timestamp): any Arrow stream, strictly.

Tables arrive through the Arrow PyCapsule stream interface (`__arrow_c_stream__`: pyarrow,
Polars, DuckDB, recent pandas) or anything `pyarrow.table` takes. Timestamps may have any
unit and any time zone (Arrow stores them as UTC epochs); a column without a time zone is
refused unless the caller says it holds UTC.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore import NaiveTimestampError, to_utc
from eventstore.model.instants import to_micros
from projections.errors import InvalidTableError, NaiveColumnError

#: Multiply by this to go from a timestamp unit to microseconds (nanoseconds divide).
_TO_MICROS: Final = {"s": 1_000_000, "ms": 1_000, "us": 1}


def read_table(rows: object, what: str = "table") -> pa.Table:
    """Return `rows` as a `pyarrow.Table`, reading an Arrow stream if that is what it is."""
    if isinstance(rows, pa.Table):
        return rows
    if isinstance(rows, pa.RecordBatch):
        return pa.Table.from_batches([rows])
    try:
        if hasattr(rows, "__arrow_c_stream__"):
            return pa.RecordBatchReader.from_stream(rows).read_all()
        return pa.table(rows)
    except (TypeError, ValueError, pa.ArrowException) as exc:
        raise InvalidTableError(
            what, f"cannot be read as an Arrow table ({type(rows).__name__}): {exc}"
        ) from exc


def column(table: pa.Table, name: str) -> pa.ChunkedArray:
    """Return the column `name`, or raise naming the columns there are."""
    if name not in table.column_names:
        raise InvalidTableError(
            f"column {name!r}",
            f"is not in the table (its columns: {', '.join(table.column_names)})",
        )
    return table[name]


def instants(
    values: pa.ChunkedArray, name: str, *, assume_utc: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Return (microseconds since the epoch, is valid) per row of a timestamp column.

    Nanoseconds are floored to the microsecond: the catalog's instants are microseconds, so
    a fact effective at or before the floored instant is exactly one at or before the row.
    """
    kind = values.type
    if not pa.types.is_timestamp(kind):
        raise InvalidTableError(f"column {name!r}", f"is {kind}, not a timestamp")
    if kind.tz is None and not assume_utc:
        raise NaiveColumnError(name, kind)
    valid = _validity(values)
    raw = np.asarray(values.cast(pa.int64()).fill_null(0).to_numpy(), dtype=np.int64)
    if kind.unit == "ns":
        return np.floor_divide(raw, 1_000), valid
    return raw * _TO_MICROS[kind.unit], valid


def texts(values: pa.ChunkedArray, name: str) -> pa.Array:
    """Return a column of text as one array of `pa.string()` (or dictionary of it)."""
    kind = values.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or _is_view(kind)):
        raise InvalidTableError(f"column {name!r}", f"is {values.type}, not text")
    flat = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if isinstance(flat, pa.DictionaryArray):  # kept coded: matching then hashes each value once
        if flat.dictionary.type != pa.string():
            flat = pa.DictionaryArray.from_arrays(flat.indices, flat.dictionary.cast(pa.string()))
        return flat
    return flat if flat.type == pa.string() else flat.cast(pa.string())


def codes_in(values: pa.Array, dictionary: pa.Array) -> np.ndarray:
    """Return the index of each value in `dictionary`, -1 where absent or null."""
    if isinstance(values, pa.DictionaryArray):
        mapping = np.append(codes_in(values.dictionary, dictionary), -1)
        indices = values.indices.cast(pa.int64()).fill_null(-1)
        return mapping[np.asarray(indices.to_numpy(), dtype=np.int64)]
    found = pc.index_in(values, value_set=dictionary, skip_nulls=True)
    return np.asarray(found.fill_null(-1).to_numpy(), dtype=np.int64)


def _validity(values: pa.ChunkedArray) -> np.ndarray:
    if values.null_count == 0:
        return np.ones(len(values), dtype=bool)
    return np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _is_view(kind: pa.DataType) -> bool:
    return bool(getattr(pa.types, "is_string_view", lambda _: False)(kind))


def add_columns(table: pa.Table, added: dict[str, pa.Array]) -> pa.Table:
    """Return `table` with `added` appended, refusing a name it already has."""
    clash = sorted(set(added) & set(table.column_names))
    if clash:
        raise InvalidTableError(
            "table", f"already has the column(s) {', '.join(clash)} that the answer adds"
        )
    for name, values in added.items():
        table = table.append_column(name, values)
    return table


def instant_column(values: object, what: str) -> np.ndarray:
    """Return instants as UTC microseconds; refuse what `to_utc` refuses, column or not."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array) and pa.types.is_timestamp(values.type):
        if values.type.tz is None:
            raise NaiveTimestampError(what, f"a column of {values.type}")
        micros, valid = instants(pa.chunked_array([values]), what, assume_utc=False)
        if not valid.all():
            raise NaiveTimestampError(what, None, "holds a null, not an instant")
        return micros
    if isinstance(values, pa.Array):
        values = values.to_pylist()
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise NaiveTimestampError(what, values, "is not a sequence of instants")
    return np.array([to_micros(to_utc(value, what)) for value in values], dtype=np.int64)
