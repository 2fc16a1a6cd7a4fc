"""The rows of an SCD2 file as dicts of exact Python values, the import's input.

Decimals are read from any number (a float as its shortest form, NaN as null), instants in
UTC (naive ones only when told); a column of few distinct values converts each of them once.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.model.events import DECIMAL_FIELDS, TIME_FIELDS
from projections.errors import InvalidTableError, NaiveColumnError
from projections.join.inputs import column
from projections.rounding import decimals
from projections.scd2.export import is_open

_HINT: Final = "pass naive_as_utc=True (--naive-as-utc)"
Row = dict[str, Any]


def _times(table: pa.Table, name: str, naive_as_utc: bool) -> pa.Array:
    values = column(table, name)
    kind = values.type
    if not pa.types.is_timestamp(kind):
        raise InvalidTableError(f"column {name!r}", f"is {kind}, not a timestamp")
    if kind.tz is None and not naive_as_utc:
        raise NaiveColumnError(name, kind, _HINT)
    return values.cast(pa.timestamp(kind.unit, tz="UTC")).cast(pa.timestamp("us", tz="UTC"))


def read_versions(
    table: pa.Table, naive_as_utc: bool, known: tuple[str, ...], unused: tuple[str, ...] = ()
) -> list[Row]:
    """Return the rows as dicts of exact values: decimals from any number, instants in UTC.

    Columns in `unused` are checked like the others but left out of the rows (a Python
    value per row is dear).
    """
    columns: dict[str, Any] = {}
    for name in table.column_names:
        if name in ("valid_from", "valid_until", "updated_at") or name in TIME_FIELDS:
            columns[name] = _times(table, name, naive_as_utc)
            if name in unused:
                del columns[name]
        elif name in DECIMAL_FIELDS:
            columns[name] = decimals(_no_nan(table[name]), name)
        elif name in known:
            columns[name] = table[name]
    if "valid_until" in columns:
        columns["open"] = pa.array(is_open(columns["valid_until"]))
    names = list(columns)
    values = [_python_values(columns[name]) for name in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _python_values(values: pa.Array | pa.ChunkedArray) -> list[Any]:
    """Return a column's Python values; a column of few distinct values (decimals, venues,
    statuses) converts each distinct value once (Decimal and datetime objects are dear)."""
    if len(values) < 1024 or pa.types.is_boolean(values.type):
        found: list[Any] = values.to_pylist()
        return found
    if pa.types.is_timestamp(values.type) and values.type.tz == "UTC":
        return _instants(values)
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    out: list[Any] = []
    for chunk in chunks:
        if len(chunk.dictionary) * 4 > max(len(chunk), 1):
            out.extend(chunk.dictionary_decode().to_pylist())
            continue
        distinct = np.empty(len(chunk.dictionary), dtype=object)
        distinct[:] = chunk.dictionary.to_pylist()
        out.extend(distinct[chunk.indices.to_numpy(zero_copy_only=False)].tolist())
    return out


def _instants(values: pa.Array | pa.ChunkedArray) -> list[Any]:
    """Return UTC microsecond timestamps as aware datetimes: through NumPy's naive ones,
    four times faster than Arrow's conversion of a zoned timestamp."""
    micros = values.cast(pa.int64())
    naive = np.asarray(micros.fill_null(0).to_numpy(), dtype="datetime64[us]").astype(object)
    found: list[Any] = [when.replace(tzinfo=UTC) for when in naive.tolist()]
    if micros.null_count:
        for row in np.flatnonzero(micros.is_null().to_numpy(zero_copy_only=False)).tolist():
            found[row] = None
    return found


def _no_nan(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return a float column with NaN (the older pattern's missing value) as null."""
    if not pa.types.is_floating(values.type):
        return values
    return pc.if_else(pc.is_nan(values), pa.scalar(None, values.type), values)


__all__ = ["Row", "read_versions"]
