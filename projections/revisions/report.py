"""The revisions table: its schema, and answers (value codes) written as exact text.

`before` and `after` are strings: a decimal in plain notation without trailing zeros
(`0.01`, never `1E-2`), an instant as ISO-8601 UTC with `Z` (microseconds only when it has
some), a boolean as `true` or `false`, text as it is; null is a null field, and for
`active` an instrument that did not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa

from eventstore.encoding.schema import TIMESTAMP
from projections.index.fold_arrays import OPEN_END
from projections.revisions.news import REVISION_FIELDS

if TYPE_CHECKING:
    from projections.index.version_store import VersionStore
    from projections.revisions.differences import Differences

REVISION_SCHEMA: Final = pa.schema(
    [
        pa.field("instrument_id", pa.string(), nullable=False),
        pa.field("symbol", pa.string()),
        pa.field("field", pa.string(), nullable=False),
        pa.field("effective_from", TIMESTAMP, nullable=False),
        pa.field("effective_until", TIMESTAMP),
        pa.field("before", pa.string()),
        pa.field("after", pa.string()),
        pa.field("cause", pa.list_(pa.string()), nullable=False),
    ]
)
#: `active` answers by code: 0 the instrument did not exist, 1 inactive, 2 active.
_ACTIVE: Final = pa.array([None, "false", "true"], pa.string())


def text(value: object) -> str | None:
    """Return one answer as the table writes it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return "0" if value.is_zero() else format(value.normalize(), "f")
    if isinstance(value, datetime):
        utc = value.astimezone(UTC)
        shown = utc.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{shown}.{utc.microsecond:06d}Z" if utc.microsecond else f"{shown}Z"
    return str(value)


def _texts(store: VersionStore, field: str, codes: np.ndarray) -> pa.Array:
    """Return the answers with these codes of `field` as text."""
    if field == "active":
        return _ACTIVE.take(pa.array(codes))
    dictionary = store.dictionaries[field]
    if pa.types.is_string(dictionary.values.type):
        return dictionary.values.take(pa.array(codes))
    distinct, inverse = np.unique(codes, return_inverse=True)
    lookup = dictionary.lookup()
    shown = pa.array([text(lookup[int(c)]) for c in distinct.tolist()], pa.string())
    return shown.take(pa.array(inverse.astype(np.int64)))


def _timestamps(micros: np.ndarray, open_end: bool = False) -> pa.Array:
    mask = micros == OPEN_END if open_end else None
    return pa.array(micros, pa.int64(), mask=mask).cast(TIMESTAMP)


def revision_table(store: VersionStore, diffs: Differences, causes: pa.Array) -> pa.Table:
    """Return the rows of `diffs` (with their `causes`) as a table of `REVISION_SCHEMA`,
    ordered by instrument id, field (in `REVISION_FIELDS` order) and effective_from."""
    before = pa.chunked_array([pa.array([], pa.string())])
    after = before
    parts_before, parts_after, order = [], [], []
    for field in np.unique(diffs.field).tolist():
        rows = np.flatnonzero(diffs.field == field)
        name = REVISION_FIELDS[field]
        parts_before.append(_texts(store, name, diffs.before[rows]))
        parts_after.append(_texts(store, name, diffs.after[rows]))
        order.append(rows)
    taken = np.concatenate(order) if order else np.empty(0, np.int64)
    if parts_before:
        before = pa.chunked_array(parts_before, pa.string())
        after = pa.chunked_array(parts_after, pa.string())
    ids = store.instruments.values.take(pa.array(diffs.inst[taken]))
    table = pa.table(
        {
            "instrument_id": ids,
            "symbol": store.dictionaries["symbol"].values.take(pa.array(diffs.symbol[taken])),
            "field": pa.array(REVISION_FIELDS).take(pa.array(diffs.field[taken])),
            "effective_from": _timestamps(diffs.start[taken]),
            "effective_until": _timestamps(diffs.end[taken], open_end=True),
            "before": before,
            "after": after,
            "cause": causes.take(pa.array(taken)),
            "_field": pa.array(diffs.field[taken]),
        }
    )
    ordered = table.sort_by(
        [("instrument_id", "ascending"), ("_field", "ascending"), ("effective_from", "ascending")]
    )
    return ordered.drop_columns(["_field"]).cast(REVISION_SCHEMA)


__all__ = ["REVISION_SCHEMA", "revision_table", "text"]
