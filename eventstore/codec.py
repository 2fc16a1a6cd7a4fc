"""The log's columnar form, and the canonical encoding behind event ids and the hash chain.

One wide Arrow schema holds every kind: envelope columns, then one column per payload field
(null where a kind has no such field). `fields` lists the payload fields an event sets, so an
explicit null in an `InstrumentChanged` stays distinguishable from "not mentioned".
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from typing import TYPE_CHECKING, Any, Final

import msgspec
import numpy as np
import pyarrow as pa
from msgspec.structs import force_setattr

from eventstore.errors import (
    CorruptEventError,
    UnknownEventKindError,
    UnsupportedSchemaError,
)
from eventstore.events import (
    DECIMAL_FIELDS,
    DECIMAL_SCALE,
    EVENT_TYPES,
    EXCHANGE_FIELDS,
    INSTRUMENT_FIELDS,
    STRING_FIELDS,
    TIME_FIELDS,
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
    from collections.abc import Iterable, Sequence
    from datetime import datetime

#: The schema version this package writes and the newest it reads.
SCHEMA_VERSION: Final = 1
TIMESTAMP: Final = pa.timestamp("us", tz="UTC")
DECIMAL: Final = pa.decimal128(38, DECIMAL_SCALE)

ENVELOPE: Final = (
    pa.field("position", pa.int64(), nullable=False),
    pa.field("event_id", pa.string(), nullable=False),
    pa.field("kind", pa.string(), nullable=False),
    pa.field("schema_version", pa.int32(), nullable=False),
    pa.field("instrument_id", pa.string(), nullable=False),
    pa.field("symbol", pa.string(), nullable=False),
    pa.field("effective_at", TIMESTAMP, nullable=False),
    pa.field("recorded_at", TIMESTAMP, nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("stream_version", pa.int64(), nullable=False),
    pa.field("prev_hash", pa.string(), nullable=False),
    pa.field("hash", pa.string(), nullable=False),
    pa.field("fields", pa.list_(pa.string()), nullable=False),
)
PAYLOAD: Final = (
    *(pa.field(name, pa.string()) for name in STRING_FIELDS),
    *(pa.field(name, DECIMAL) for name in DECIMAL_FIELDS),
    *(pa.field(name, TIMESTAMP) for name in TIME_FIELDS),
    pa.field("is_crypto", pa.bool_()),
    pa.field("reason", pa.string()),
    pa.field("new_symbol", pa.string()),
    pa.field("target", pa.string()),
)
SCHEMA: Final = pa.schema([*ENVELOPE, *PAYLOAD])
PAYLOAD_COLUMNS: Final = tuple(f.name for f in PAYLOAD)
ENVELOPE_FROM_EVENT: Final = (
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
)

_EVENT_NAMESPACE: Final = uuid.UUID("6c0f3f5e-7d0a-5b8e-9a51-7f1c0de2a9b1").bytes
_LOG_ASSIGNED: Final = (
    "event_id",
    "recorded_at",
    "position",
    "stream_version",
    "prev_hash",
    "hash",
)
_canonical = msgspec.json.Encoder(order="sorted")


def payload_bytes(event: Event) -> bytes:
    """Return the canonical encoding of what the caller said: sorted-key JSON, no envelope."""
    recorded = (
        event.event_id is not None
        or event.recorded_at is not None
        or event.position is not None
        or event.stream_version is not None
        or event.prev_hash is not None
        or event.hash is not None
    )
    if recorded:
        event = copy.copy(event)
        for name in _LOG_ASSIGNED:
            force_setattr(event, name, None)
    return _canonical.encode(event)


def event_id_for(payload: bytes) -> str:
    """Return the UUIDv5 of `payload` (as `uuid.uuid5` would, without its overhead)."""
    digest = bytearray(hashlib.sha1(_EVENT_NAMESPACE + payload, usedforsecurity=False).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def compute_event_id(event: Event) -> str:
    """Return the deterministic id of `event`: a UUIDv5 over its payload."""
    return event_id_for(payload_bytes(event))


def link_hash(
    prev_hash: str,
    event_id: str,
    position: int,
    recorded_at: str,
    stream_version: int,
    payload: bytes,
) -> str:
    """Return the SHA-256 link of one event in the chain.

    The hashed text is `prev_hash`, `event_id`, `position`, `recorded_at` (RFC 3339, UTC),
    `stream_version` and the payload's canonical JSON, joined by newlines.
    """
    link = hashlib.sha256(
        f"{prev_hash}\n{event_id}\n{position}\n{recorded_at}\n{stream_version}\n".encode()
    )
    link.update(payload)
    return link.hexdigest()


def rfc3339(value: datetime) -> str:
    """Return `value` as the RFC 3339 text used in hashes (microseconds, `Z`)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(event: Event) -> str:
    """Return the chain link a recorded `event` should carry, from its own fields."""
    if event.recorded_at is None or event.position is None or event.stream_version is None:
        raise CorruptEventError(event.position, "the event has no envelope to hash")
    return link_hash(
        event.prev_hash or "",
        event.event_id or "",
        event.position,
        rfc3339(event.recorded_at),
        event.stream_version,
        payload_bytes(event),
    )


def payload_row(event: Event) -> dict[str, Any]:
    """Return the payload columns of `event` (those it has no value for are left out)."""
    match event:
        case InstrumentListed():
            return {f: getattr(event, f) for f in event.set_fields()}
        case ExchangeListed() | ExchangeChanged():
            return {
                "exchange": event.exchange,
                **{f: getattr(event, f) for f in event.set_fields()},
            }
        case InstrumentChanged():
            return dict(event.changes)
        case InstrumentDelisted():
            return {"reason": event.reason, "status": event.status}
        case InstrumentRenamed():
            return {"new_symbol": event.new_symbol}
        case EventRetracted():
            return {"target": event.target, "reason": event.reason}
    raise CorruptEventError(event.position, f"cannot encode {type(event).__name__}")


def to_table(events: Sequence[Event]) -> pa.Table:
    """Return recorded `events` (every envelope field set) as a table of the log's schema."""
    by_kind: dict[type[Event], list[Event]] = {}
    for event in events:
        by_kind.setdefault(type(event), []).append(event)
    parts = [_kind_table(kind, group) for kind, group in by_kind.items()]
    # grouped by kind, not in position order: every reader orders by position itself
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


#: Payload attributes stored per kind (InstrumentChanged stores the keys of `changes`).
_STORED: Final[dict[type[Event], tuple[str, ...]]] = {
    InstrumentListed: INSTRUMENT_FIELDS,
    InstrumentDelisted: ("reason", "status"),
    InstrumentRenamed: ("new_symbol",),
    EventRetracted: ("target", "reason"),
    ExchangeListed: ("exchange", *EXCHANGE_FIELDS),
    ExchangeChanged: ("exchange", *EXCHANGE_FIELDS),
}


def _kind_table(kind: type[Event], group: list[Event]) -> pa.Table:
    """Return events of one kind as a table: one list comprehension per column."""
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
        for name in _STORED[kind]:
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
    if name in DECIMAL_FIELDS:  # through text: exact, and far faster than from Decimal
        return pa.array([None if v is None else str(v) for v in values], pa.string()).cast(kind)
    return pa.array(values, kind)


def _set_fields(arrays: dict[str, pa.Array], names: tuple[str, ...], size: int) -> pa.Array:
    """Return, per row, the names among `names` whose column is not null, vectorized."""
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


def from_rows(rows: Iterable[dict[str, Any]]) -> list[Event]:
    """Decode rows of the log's schema (as `Table.to_pylist` gives them) into events."""
    return [decode_row(row) for row in rows]


def from_table(table: pa.Table) -> list[Event]:
    """Decode a table of the log's schema into events, in row order."""
    return from_rows(table.to_pylist())


def decode_row(row: dict[str, Any]) -> Event:
    """Decode one stored row into its event, or raise a `CorruptEventError`."""
    position = row.get("position")
    version = row.get("schema_version") or 0
    if version > SCHEMA_VERSION:
        raise UnsupportedSchemaError(position, version, SCHEMA_VERSION)
    kind = row.get("kind")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise UnknownEventKindError(position, str(kind))
    try:
        envelope = {name: row[name] for name in ENVELOPE_FROM_EVENT}
        return cls(**envelope, **_payload_kwargs(cls, row))
    except (TypeError, ValueError) as exc:
        raise CorruptEventError(position, str(exc)) from exc
    except KeyError as exc:
        raise CorruptEventError(position, f"missing column {exc}") from exc


def _payload_kwargs(cls: type[Event], row: dict[str, Any]) -> dict[str, Any]:
    fields: list[str] = row.get("fields") or []
    if cls is InstrumentChanged:
        return {"changes": {f: row[f] for f in fields}}
    if cls in (InstrumentListed, ExchangeListed, ExchangeChanged):
        kwargs = {f: row[f] for f in fields}
        if cls is not InstrumentListed:
            kwargs["exchange"] = row["exchange"]
        return kwargs
    if cls is InstrumentDelisted:
        return {"reason": row["reason"], "status": row["status"]}
    if cls is InstrumentRenamed:
        return {"new_symbol": row["new_symbol"]}
    return {"target": row["target"], "reason": row["reason"]}
