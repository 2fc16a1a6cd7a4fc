"""The canonical encoding behind event ids and the hash chain, and decoding stored rows.

The columnar form is described in `eventstore.encoding.schema` and built by
`eventstore.encoding.table`; import their names from there (nothing is re-exported).
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from typing import TYPE_CHECKING, Any, Final, assert_never

import msgspec
from msgspec.structs import force_setattr

from eventstore.encoding.schema import (
    ENVELOPE_FROM_EVENT,
    NOT_IN_ID,
    SCHEMA_VERSION,
)
from eventstore.errors import (
    CorruptEventError,
    UnknownEventKindError,
    UnsupportedSchemaError,
)
from eventstore.model.kinds import BY_NAME, Kind, Layout

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    import pyarrow as pa

    from eventstore.model.events import Event

__all__ = [
    "CANONICAL",
    "EVENT_NAMESPACE",
    "compute_event_id",
    "compute_hash",
    "decode_row",
    "event_id_for",
    "from_rows",
    "from_table",
    "link_hash",
    "observed_line",
    "payload_bytes",
    "rfc3339",
]

#: The UUIDv5 namespace of event ids.
EVENT_NAMESPACE: Final = uuid.UUID("6c0f3f5e-7d0a-5b8e-9a51-7f1c0de2a9b1").bytes
#: The canonical encoder: msgspec JSON with sorted keys.
CANONICAL: Final = msgspec.json.Encoder(order="sorted")


def payload_bytes(event: Event) -> bytes:
    """Return the canonical encoding of the fact: sorted-key JSON, no envelope the log assigns,
    no `observed_at` (what the event id is made of)."""
    recorded = (
        event.observed_at is not None
        or event.event_id is not None
        or event.recorded_at is not None
        or event.position is not None
        or event.stream_version is not None
        or event.prev_hash is not None
        or event.hash is not None
    )
    if recorded:
        event = copy.copy(event)
        for name in NOT_IN_ID:
            force_setattr(event, name, None)
    return CANONICAL.encode(event)


def event_id_for(payload: bytes) -> str:
    """Return the UUIDv5 of `payload` (as `uuid.uuid5` would, without its overhead)."""
    digest = bytearray(hashlib.sha1(EVENT_NAMESPACE + payload, usedforsecurity=False).digest())
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
    observed_at: str | None = None,
) -> str:
    """Return the SHA-256 link of one event in the chain.

    The hashed text is `prev_hash`, `event_id`, `position`, `recorded_at` (RFC 3339, UTC),
    `stream_version`, then `observed_at` (RFC 3339) when it differs from `recorded_at`,
    and the payload's canonical JSON, joined by newlines. `observed_at` equal to
    `recorded_at` (every row written before the column existed reads so) adds no line,
    so the rows of schema version 1 keep their hashes.
    """
    link = hashlib.sha256(
        f"{prev_hash}\n{event_id}\n{position}\n{recorded_at}\n{stream_version}\n".encode()
    )
    link.update(observed_line(observed_at, recorded_at))
    link.update(payload)
    return link.hexdigest()


def observed_line(observed_at: str | None, recorded_at: str) -> bytes:
    """Return the line `observed_at` adds to a link's text: none when it is `recorded_at`."""
    if observed_at is None or observed_at == recorded_at:
        return b""
    return f"{observed_at}\n".encode()


def rfc3339(value: datetime) -> str:
    """Return `value` as the RFC 3339 text used in hashes (microseconds, `Z`)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(event: Event, payload: bytes | None = None) -> str:
    """Return the chain link a recorded `event` should carry, from its own fields.

    `payload` is `payload_bytes(event)` when the caller has it already.
    """
    if event.recorded_at is None or event.position is None or event.stream_version is None:
        raise CorruptEventError(event.position, "the event has no envelope to hash")
    return link_hash(
        event.prev_hash or "",
        event.event_id or "",
        event.position,
        rfc3339(event.recorded_at),
        event.stream_version,
        payload_bytes(event) if payload is None else payload,
        None if event.observed_at is None else rfc3339(event.observed_at),
    )


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
    name = row.get("kind")
    kind = BY_NAME.get(name) if isinstance(name, str) else None
    if kind is None:
        raise UnknownEventKindError(position, str(name))
    try:
        envelope = {name: row[name] for name in ENVELOPE_FROM_EVENT if name != "observed_at"}
        # schema version 1 has no observed_at: its facts were observed when recorded
        envelope["observed_at"] = row.get("observed_at") or row["recorded_at"]
        return kind.cls(**envelope, **_payload_kwargs(kind, row))
    except (TypeError, ValueError) as exc:
        raise CorruptEventError(position, str(exc)) from exc
    except KeyError as exc:
        raise CorruptEventError(position, f"missing column {exc}") from exc


def _payload_kwargs(kind: Kind, row: dict[str, Any]) -> dict[str, Any]:
    """Return the payload arguments of a row's event: what `fields` names, and the required.

    A kind without optional fields reads none of what `fields` names (the audit reports a
    row whose list names any).
    """
    fields: list[str] = row.get("fields") or []
    match kind.layout:
        case Layout.CHANGES:
            return {"changes": {f: row[f] for f in fields}}
        case Layout.ATTRIBUTES:
            kwargs = {f: row[f] for f in fields} if kind.optional else {}
            kwargs.update({name: row[name] for name in kind.required})
            return kwargs
        case _ as unreachable:
            assert_never(unreachable)
