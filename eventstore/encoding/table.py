"""Recorded events as a table of the log's schema, built column by column.

Events are grouped by kind and each group becomes one table (one Arrow conversion per
column, no per-row dicts); the groups are concatenated. Rows come grouped by kind, not in
position order: every reader orders by position itself.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any, Final, assert_never

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.schema import DECIMAL, SCHEMA, SCHEMA_VERSION, TIMESTAMP
from eventstore.gcpause import paused_gc
from eventstore.model.events import INSTRUMENT_FIELDS, Event
from eventstore.model.kinds import Kind, Layout, kind_of

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

#: Envelope attributes the caller sets (`observed_at`: or the log, when the caller did not).
_CALLER: Final = ("instrument_id", "symbol", "effective_at", "source", "observed_at")
_CHANGEABLE: Final = pa.array(INSTRUMENT_FIELDS, pa.string())
_LIST: Final = pa.list_(pa.string())
#: Columns converted through msgspec's RFC 3339 and decimal text, which Arrow parses.
_THROUGH_TEXT: Final = frozenset(f.name for f in SCHEMA if f.type in (DECIMAL, TIMESTAMP))


@dataclass(frozen=True)
class Envelope:
    """The log-assigned columns of recorded events, in event order."""

    position: pa.Array
    event_id: pa.Array
    recorded_at: pa.Array
    stream_version: pa.Array
    prev_hash: pa.Array
    hash: pa.Array

    @classmethod
    def of(cls, events: Sequence[Event]) -> Envelope:
        """Return the envelope columns of recorded `events`, read from their attributes."""
        return cls(
            position=pa.array([e.position for e in events], pa.int64()),
            event_id=pa.array([e.event_id for e in events], pa.string()),
            recorded_at=_column("recorded_at", [e.recorded_at for e in events]),
            stream_version=pa.array([e.stream_version for e in events], pa.int64()),
            prev_hash=pa.array([e.prev_hash for e in events], pa.string()),
            hash=pa.array([e.hash for e in events], pa.string()),
        )

    @classmethod
    def blank(cls, size: int) -> Envelope:
        """Return the envelope of `size` events not yet recorded: nulls."""
        return cls(*(pa.nulls(size, SCHEMA.field(name).type) for name in cls.__dataclass_fields__))

    def slice(self, start: int, size: int) -> Envelope:
        """Return the envelope of events `start` <= event < `start + size`."""
        return Envelope(
            *(getattr(self, name).slice(start, size) for name in self.__dataclass_fields__)
        )

    def take(self, rows: np.ndarray) -> dict[str, pa.Array]:
        """Return the columns of `rows`, by column name."""
        indices = pa.array(rows)
        return {name: getattr(self, name).take(indices) for name in self.__dataclass_fields__}


class PlannedEvents(list[Event]):
    """Recorded events with the envelope columns the planner built for them.

    `to_table` takes the columns instead of reading them back from every event, once:
    the list may outlive the append (as `Recorded.new`), the columns need not.
    """

    def __init__(self, events: list[Event], envelope: Envelope) -> None:
        """Hold `events`, whose log-assigned columns are `envelope`."""
        super().__init__(events)
        self._planned: tuple[tuple[Event, ...], Envelope] | None = (tuple(events), envelope)

    def take_envelope(self) -> Envelope | None:
        """Return the envelope columns and drop them; None if the list changed or they are gone."""
        planned, self._planned = self._planned, None
        if planned is None:
            return None
        events, envelope = planned
        if len(events) == len(self) and all(map(operator.is_, events, self)):
            return envelope
        return None


def to_table(events: Sequence[Event]) -> pa.Table:
    """Return recorded `events` (every envelope field set) as a table of the log's schema."""
    with paused_gc():
        return _table(events)


def to_batches(events: Sequence[Event], size: int = 25_000) -> Iterator[pa.RecordBatch]:
    """Yield `to_table` of recorded `events`, `size` events at a time (each slice grouped
    by kind), so that a writer reading them encodes one slice while the next is built."""
    envelope = events.take_envelope() if isinstance(events, PlannedEvents) else None
    for start in range(0, len(events), size):
        part = events[start : start + size]
        if envelope is not None:
            part = PlannedEvents(list(part), envelope.slice(start, size))
        yield from to_table(part).to_batches()


def _table(events: Sequence[Event]) -> pa.Table:
    envelope = events.take_envelope() if isinstance(events, PlannedEvents) else None
    if envelope is None:
        envelope = Envelope.of(events)
    kinds = [type(event) for event in events]
    distinct = dict.fromkeys(kinds)
    if len(distinct) == 1:
        rows = {kinds[0]: np.arange(len(events))} if events else {}
    else:
        code = {kind: n for n, kind in enumerate(distinct)}
        codes = np.array([code[kind] for kind in kinds], np.int32)
        rows = {kind: np.flatnonzero(codes == n) for kind, n in code.items()}
    parts = [_kind_table(kind, events, at, envelope) for kind, at in rows.items()]
    if not parts:
        return SCHEMA.empty_table()
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def _kind_table(
    cls: type[Event], events: Sequence[Event], rows: np.ndarray, envelope: Envelope
) -> pa.Table:
    """Return the events at `rows` (all of class `cls`) as a table of the log's schema."""
    kind = kind_of(cls)
    size = len(rows)
    group = events if size == len(events) else [events[i] for i in rows.tolist()]
    columns = _attributes(group, (*_CALLER, *kind.attributes))
    arrays = envelope.take(rows) if size != len(events) else _all(envelope)
    arrays.update({name: _column(name, columns[name]) for name in _CALLER})
    arrays["fields"] = _payload(kind, columns, arrays, size)
    arrays["kind"] = pa.array([kind.name] * size, pa.string())
    arrays["schema_version"] = pa.array(np.full(size, SCHEMA_VERSION, np.int32))
    return pa.Table.from_arrays(
        [arrays[f.name] if f.name in arrays else pa.nulls(size, f.type) for f in SCHEMA],
        schema=SCHEMA,
    )


def _payload(
    kind: Kind, columns: dict[str, list[Any]], arrays: dict[str, pa.Array], size: int
) -> pa.Array:
    """Add the payload columns of a group of `kind` to `arrays`; return its `fields` column."""
    match kind.layout:
        case Layout.CHANGES:
            payload, fields = _changes(columns["changes"])
            arrays.update(payload)
            return fields
        case Layout.ATTRIBUTES:
            arrays.update({name: _column(name, columns[name]) for name in kind.stored})
            return _set_fields(arrays, kind.optional, size)
        case _ as unreachable:
            assert_never(unreachable)


def _all(envelope: Envelope) -> dict[str, pa.Array]:
    return {name: getattr(envelope, name) for name in envelope.__dataclass_fields__}


def _attributes(group: Sequence[Event], names: tuple[str, ...]) -> dict[str, list[Any]]:
    """Return the values of attributes `names` of `group`, one list per name."""
    return {name: list(map(operator.attrgetter(name), group)) for name in names}


def _column(name: str, values: Sequence[Any]) -> pa.Array:
    kind = SCHEMA.field(name).type
    if name in _THROUGH_TEXT:  # exact, and far faster than from Decimal or datetime objects
        return pa.array(msgspec.to_builtins(values), pa.string()).cast(kind)
    return pa.array(values, kind)


def _changes(changes: Sequence[dict[str, Any]]) -> tuple[dict[str, pa.Array], pa.Array]:
    """Return the payload columns and the `fields` column of InstrumentChanged events."""
    size = len(changes)
    counts = np.fromiter(map(len, changes), np.int32, size)
    offsets = np.zeros(size + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    keys = pa.array(list(chain.from_iterable(changes)), pa.string())
    values = list(chain.from_iterable(map(dict.values, changes)))
    codes = pc.index_in(keys, value_set=_CHANGEABLE).to_numpy()
    rows = np.repeat(np.arange(size, dtype=np.int32), counts)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(INSTRUMENT_FIELDS) + 1)).tolist()
    ordered = [values[i] for i in order.tolist()]
    payload: dict[str, pa.Array] = {}
    for code, name in enumerate(INSTRUMENT_FIELDS):
        low, high = bounds[code], bounds[code + 1]
        if low == high:
            continue
        column = _column(name, [*ordered[low:high], None])
        at = np.full(size, high - low, np.int32)
        at[rows[order[low:high]]] = np.arange(high - low, dtype=np.int32)
        payload[name] = column.take(pa.array(at))
    return payload, pa.ListArray.from_arrays(pa.array(offsets), keys)


def _set_fields(arrays: dict[str, pa.Array], names: tuple[str, ...], size: int) -> pa.Array:
    """Return, per row, the names among `names` whose column is not null, vectorized."""
    if not names:
        return pa.array([[]] * size, _LIST)
    present = np.column_stack(
        [arrays[name].is_valid().to_numpy(zero_copy_only=False) for name in names]
    )
    _, columns = np.nonzero(present)
    offsets = np.zeros(size + 1, dtype=np.int32)
    np.cumsum(present.sum(axis=1), out=offsets[1:])
    flat = pa.array(np.asarray(names, dtype=object)[columns], pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets), flat)


__all__ = ["Envelope", "PlannedEvents", "to_batches", "to_table"]
