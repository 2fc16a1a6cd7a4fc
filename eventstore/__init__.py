"""The event log: event types, their codec, the Delta-backed `EventLog`, integrity checks."""

from eventstore.audit.chain import ChainViolation, verify_chain
from eventstore.encoding.codec import compute_event_id, compute_hash
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
from eventstore.log.event_log import CompactionReport, EventLog, Recorded
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
from eventstore.model.instants import to_utc
from eventstore.model.kinds import AnyEvent

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
