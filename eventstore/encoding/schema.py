"""The log's columnar layout: one wide Arrow schema that holds every kind of event.

Envelope columns come first, then one column per payload field (null where a kind has no
such field). `fields` lists the payload fields an event sets, so an explicit null in an
`InstrumentChanged` stays distinguishable from "not mentioned".
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

from eventstore.model.events import DECIMAL_FIELDS, DECIMAL_SCALE, STRING_FIELDS, TIME_FIELDS
from eventstore.model.rules import ADDED_FIELDS, BOOLEAN_FIELDS

#: The schema version this package writes and the newest it reads. Version 2 added the
#: `observed_at` column; rows of version 1 read `observed_at = recorded_at`.
SCHEMA_VERSION: Final = 2
TIMESTAMP: Final = pa.timestamp("us", tz="UTC")
DECIMAL: Final = pa.decimal128(38, DECIMAL_SCALE)
#: Payload columns added by schema evolution (null in events written before them).
ADDED: Final = ADDED_FIELDS


def _added_type(name: str) -> pa.DataType:
    """Return the column type of added payload field `name`."""
    if name in DECIMAL_FIELDS:
        return DECIMAL
    return pa.bool_() if name in BOOLEAN_FIELDS else pa.string()


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
    *(pa.field(name, pa.string()) for name in STRING_FIELDS if name not in ADDED),
    *(pa.field(name, DECIMAL) for name in DECIMAL_FIELDS if name not in ADDED),
    *(pa.field(name, TIMESTAMP) for name in TIME_FIELDS),
    pa.field("is_crypto", pa.bool_()),
    pa.field("reason", pa.string()),
    pa.field("new_symbol", pa.string()),
    pa.field("target", pa.string()),
    # Columns added after the first release come last; older tables gain them on write.
    *(pa.field(name, _added_type(name)) for name in ADDED),
)
#: Envelope columns added by schema evolution, after every payload column (a table written
#: before them gains them on its next append). `observed_at` is nullable in storage only
#: so that old tables can gain it: reading fills a null with the row's `recorded_at`.
ADDED_ENVELOPE: Final = (pa.field("observed_at", TIMESTAMP),)
SCHEMA: Final = pa.schema([*ENVELOPE, *PAYLOAD, *ADDED_ENVELOPE])
PAYLOAD_COLUMNS: Final = tuple(f.name for f in PAYLOAD)
#: Envelope columns whose values are attributes of a recorded event.
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
    "observed_at",
)
#: Envelope attributes the log assigns; the caller's event leaves them unset.
LOG_ASSIGNED: Final = (
    "event_id",
    "recorded_at",
    "position",
    "stream_version",
    "prev_hash",
    "hash",
)
#: Envelope attributes outside the event id: what the log assigns, and when the fact was
#: observed (the same fact observed twice is one event).
NOT_IN_ID: Final = (*LOG_ASSIGNED, "observed_at")
