"""The event log: event types, their codec, the Delta-backed `EventLog`, integrity checks."""

from eventstore.codec import compute_event_id, compute_hash
from eventstore.errors import (
    CommitContentionError,
    ConcurrencyError,
    CorruptEventError,
    EventStoreError,
    InvalidEventError,
    InvalidInstantError,
    NaiveTimestampError,
    StorageError,
    StreamVersionConflictError,
    UnknownEventKindError,
    UnknownStreamError,
    UnsupportedSchemaError,
)
from eventstore.events import (
    DECIMAL_FIELDS,
    EXCHANGE_FIELDS,
    INSTRUMENT_FIELDS,
    AnyEvent,
    Event,
    EventRetracted,
    ExchangeChanged,
    ExchangeListed,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
)
from eventstore.instant import to_utc
from eventstore.integrity import ChainViolation, verify_chain
from eventstore.log import CompactionReport, EventLog, Recorded

__all__ = [
    "DECIMAL_FIELDS",
    "EXCHANGE_FIELDS",
    "INSTRUMENT_FIELDS",
    "AnyEvent",
    "ChainViolation",
    "CommitContentionError",
    "CompactionReport",
    "ConcurrencyError",
    "CorruptEventError",
    "Event",
    "EventLog",
    "EventRetracted",
    "EventStoreError",
    "ExchangeChanged",
    "ExchangeListed",
    "InstrumentChanged",
    "InstrumentDelisted",
    "InstrumentListed",
    "InstrumentRenamed",
    "InvalidEventError",
    "InvalidInstantError",
    "NaiveTimestampError",
    "Recorded",
    "StorageError",
    "StreamVersionConflictError",
    "UnknownEventKindError",
    "UnknownStreamError",
    "UnsupportedSchemaError",
    "compute_event_id",
    "compute_hash",
    "to_utc",
    "verify_chain",
]
