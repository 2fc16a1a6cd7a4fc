"""Compare what a source reports with what the catalog holds, column by column."""

from __future__ import annotations

from operator import attrgetter, itemgetter, methodcaller
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.sync.ownership import STATUS_FIELDS
from eventstore.errors import InvalidEventError
from projections import VERSION_SCHEMA

if TYPE_CHECKING:
    from collections.abc import Sequence

    from connectors.venues.snapshot import SourceRecord


def column(name: str, values: Sequence[Any], keys: Sequence[str] = ()) -> pa.Array:
    """Return `values` of field `name` as an Arrow array of the catalog's type for it.

    A value that does not fit (a decimal with more than 18 digits after the point, say) is
    an `InvalidEventError` naming it and, from `keys`, the instrument it belongs to.
    """
    kind = VERSION_SCHEMA.field(name).type
    try:
        return pa.array(values, kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        for index, value in enumerate(values):
            try:
                pa.array([value], kind)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                whose = f" of {keys[index]}" if index < len(keys) else ""
                reason = f"{value!r}{whose} does not fit {kind}: {exc}"
                raise InvalidEventError(reason, field=name) from exc
        raise InvalidEventError(f"a value does not fit {kind}: {exc}", field=name) from exc


def values_of(records: Sequence[SourceRecord], name: str) -> list[Any]:
    """Return the values of field `name` (or a status) of `records`."""
    if name in STATUS_FIELDS:
        return list(map(attrgetter(name), records))
    return list(map(methodcaller("get", name), map(attrgetter("fields"), records)))


def columns_of(records: Sequence[SourceRecord], names: Sequence[str]) -> dict[str, list[Any]]:
    """Return the values of fields `names`, one list per field (one pass over the records)."""
    given = [n for n in names if n not in STATUS_FIELDS]
    found = {n: values_of(records, n) for n in names if n in STATUS_FIELDS}
    if len(given) < 2:
        return {**found, **{n: values_of(records, n) for n in given}}
    try:
        rows = list(map(itemgetter(*given), map(attrgetter("fields"), records)))
    except KeyError:  # a record without some field: slower, field by field
        return {**found, **{n: values_of(records, n) for n in given}}
    return {**found, **dict(zip(given, map(list, zip(*rows, strict=True)), strict=True))}


def differs(new: pa.Array, old: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Return, per row, whether two columns of one field disagree (null vs value counts)."""
    unequal = pc.fill_null(pc.not_equal(new, old), False)
    one_null = pc.xor(pc.is_null(new), pc.is_null(old))
    return np.asarray(pc.or_(unequal, one_null), dtype=bool)


def positions(keys: pa.Array, values: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Return, per key, whether `values` holds it and at which row (0 where it does not)."""
    at = pc.index_in(keys, value_set=values)
    known = np.asarray(pc.is_valid(at), dtype=bool)
    return known, np.asarray(pc.fill_null(at, 0), dtype=np.int64)


def field_differences(
    records: Sequence[SourceRecord], held: pa.Table, names: Sequence[str]
) -> tuple[dict[str, list[Any]], np.ndarray]:
    """Return the records' values of `names`, and per record and name whether the value
    differs from `held` (the catalog's rows for the same instruments, in the same order)."""
    values = columns_of(records, names)
    keys = [r.symbol for r in records]
    matrix = np.zeros((len(records), len(names)), bool)
    for index, name in enumerate(names):
        matrix[:, index] = differs(column(name, values[name], keys), held[name])
    return values, matrix


def active_in_scope(current: pa.Table, scope: str) -> pa.Table:
    """Return the catalog's active rows whose instrument id starts with `scope`."""
    return current.filter(
        pc.and_(current["active"], pc.starts_with(current["instrument_id"], scope))
    )
