"""A caller's table of events brought to the log's columns and types, or refused.

The columns are the log's own (`eventstore.encoding.schema`) without those the log
assigns; `REQUIRED` must be there, any other left out reads as null (`schema_version` as
this package's). A column is cast to the log's type only when that loses nothing; a naive
timestamp, an unknown or assigned column, a null where the log holds none: one-line errors.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.json_text import whole
from eventstore.encoding.schema import LOG_ASSIGNED, SCHEMA, SCHEMA_VERSION, TIMESTAMP
from eventstore.errors import InvalidEventError, NaiveTimestampError

#: Columns a given table must hold.
REQUIRED: Final = ("kind", "instrument_id", "symbol", "effective_at", "source", "fields")
#: The columns of a given table, in the log's order: all but those the log assigns.
GIVEN: Final = tuple(f.name for f in SCHEMA if f.name not in LOG_ASSIGNED)


def given_columns(table: pa.Table) -> pa.Table:
    """Return `table` as exactly the `GIVEN` columns of the log's types, or raise."""
    names = table.column_names
    assigned = sorted(set(names) & set(LOG_ASSIGNED))
    if assigned:
        raise InvalidEventError(
            f"column {assigned[0]!r} is assigned by the log; leave it out of the table"
        )
    unknown = sorted(set(names) - set(GIVEN))
    if unknown:
        raise InvalidEventError(f"unknown column {unknown[0]!r}: not a column of the log")
    if len(set(names)) != len(names):
        raise InvalidEventError("the table names a column twice")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise InvalidEventError(f"missing column {missing[0]!r}", field=missing[0])
    size = table.num_rows
    arrays = []
    for name in GIVEN:
        want = SCHEMA.field(name).type
        if name not in names:
            fill = np.full(size, SCHEMA_VERSION, np.int32) if name == "schema_version" else None
            arrays.append(pa.nulls(size, want) if fill is None else pa.array(fill))
            continue
        arrays.append(_typed(name, whole(table[name]), want))
    rows = pa.Table.from_arrays(arrays, names=list(GIVEN))
    _null_free(rows)
    other = [v for v in pc.unique(rows["schema_version"]).to_pylist() if v != SCHEMA_VERSION]
    if other:
        raise InvalidEventError(
            f"schema_version {other[0]} is not {SCHEMA_VERSION}, the version this package writes",
            field="schema_version",
        )
    return rows


def _typed(name: str, column: pa.Array, want: pa.DataType) -> pa.Array:
    """Return `column` as type `want` when that loses nothing, or raise."""
    have = column.type
    if pa.types.is_dictionary(have):
        column, have = column.dictionary_decode(), have.value_type
    if have == want:
        return column
    if want == TIMESTAMP and pa.types.is_timestamp(have) and have.tz is None:
        raise NaiveTimestampError(name, f"a column of {have}")
    ok = (
        (want == TIMESTAMP and pa.types.is_timestamp(have))
        or (pa.types.is_decimal(want) and (pa.types.is_decimal(have) or pa.types.is_integer(have)))
        or (pa.types.is_string(want) and pa.types.is_large_string(have))
        or (pa.types.is_integer(want) and pa.types.is_integer(have))
        or (pa.types.is_list(want) and _is_list_of_text(have))
    )
    if not ok:
        raise InvalidEventError(f"column {name!r} is {have}; expected {want}", field=name)
    try:
        return column.cast(want, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        reason = str(exc).splitlines()[0]
        raise InvalidEventError(
            f"column {name!r} does not fit {want}: {reason}", field=name
        ) from None


def _is_list_of_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_list(kind) or pa.types.is_large_list(kind)) and bool(
        pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)
    )


def _null_free(rows: pa.Table) -> None:
    """Refuse a null where the log never holds one (`fields` may not hold a null name)."""
    for name in (*REQUIRED, "schema_version"):
        nulls = rows[name].null_count
        if nulls:
            row = int(np.flatnonzero(rows[name].is_null().to_numpy(zero_copy_only=False))[0])
            raise InvalidEventError(f"row {row}: {name} is null", field=name)
    if pc.list_flatten(rows["fields"]).null_count:
        raise InvalidEventError("a fields list holds a null name", field="fields")


__all__ = ["GIVEN", "REQUIRED", "given_columns"]
