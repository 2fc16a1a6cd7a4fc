"""The reference table construction: `to_table` as it was before the columnar fast path.

One list comprehension per column over the events of each kind, Python values converted
by Arrow one by one. Slow, obviously right: the fast `to_table` must give the same table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from eventstore.encoding.schema import SCHEMA, SCHEMA_VERSION
from eventstore.model.events import (
    DECIMAL_FIELDS,
    EXCHANGE_FIELDS,
    INSTRUMENT_FIELDS,
    Event,
    EventRetracted,
    ExchangeChanged,
    ExchangeListed,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

ENVELOPE_FROM_EVENT = (
    "position",
    "event_id",
    "instrument_id",
    "symbol",
    "effective_at",
    "recorded_at",
    "source",
    "stream_version",
    "prev_hash",
    "hash",
    "observed_at",
)
STORED: dict[type[Event], tuple[str, ...]] = {
    InstrumentListed: INSTRUMENT_FIELDS,
    InstrumentDelisted: ("reason", "status"),
    InstrumentRenamed: ("new_symbol",),
    EventRetracted: ("target", "reason"),
    ExchangeListed: ("exchange", *EXCHANGE_FIELDS),
    ExchangeChanged: ("exchange", *EXCHANGE_FIELDS),
}


def legacy_table(events: Sequence[Event]) -> pa.Table:
    """Return recorded `events` as a table of the log's schema, the reference way."""
    by_kind: dict[type[Event], list[Event]] = {}
    for event in events:
        by_kind.setdefault(type(event), []).append(event)
    parts = [_kind_table(kind, group) for kind, group in by_kind.items()]
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def _kind_table(kind: type[Event], group: list[Event]) -> pa.Table:
    size = len(group)
    values: dict[str, list[Any]] = {
        name: [getattr(event, name) for event in group] for name in ENVELOPE_FROM_EVENT
    }
    if kind is InstrumentChanged:
        changes = [event.changes for event in group]  # type: ignore[attr-defined]
        for name in sorted(set().union(*changes)):
            values[name] = [change.get(name) for change in changes]
        fields = pa.array([list(change) for change in changes], pa.list_(pa.string()))
    else:
        for name in STORED[kind]:
            values[name] = [getattr(event, name) for event in group]
    arrays = {name: _column(name, column) for name, column in values.items()}
    if kind is not InstrumentChanged:
        fields = _set_fields(arrays, kind.payload_fields, size)
    arrays["fields"] = fields
    arrays["kind"] = pa.array([kind.__name__] * size, pa.string())
    arrays["schema_version"] = pa.array(np.full(size, SCHEMA_VERSION, np.int32))
    return pa.Table.from_arrays(
        [arrays[f.name] if f.name in arrays else pa.nulls(size, f.type) for f in SCHEMA],
        schema=SCHEMA,
    )


def _column(name: str, values: list[Any]) -> pa.Array:
    kind = SCHEMA.field(name).type
    if name in DECIMAL_FIELDS:
        return pa.array([None if v is None else str(v) for v in values], pa.string()).cast(kind)
    return pa.array(values, kind)


def _set_fields(arrays: dict[str, pa.Array], names: tuple[str, ...], size: int) -> pa.Array:
    if not names:
        return pa.array([[]] * size, pa.list_(pa.string()))
    present = np.column_stack(
        [arrays[name].is_valid().to_numpy(zero_copy_only=False) for name in names]
    )
    _, columns = np.nonzero(present)
    offsets = np.zeros(size + 1, dtype=np.int32)
    np.cumsum(present.sum(axis=1), out=offsets[1:])
    flat = pa.array(np.asarray(names, dtype=object)[columns], pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets), flat)
