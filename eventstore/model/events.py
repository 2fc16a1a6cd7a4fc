"""Event types: one frozen, tagged msgspec Struct per fact, named in the past tense.

Every event carries the envelope (`instrument_id symbol effective_at source`, set by the
caller, `observed_at`, set by the caller or else by the log, and `event_id recorded_at
position stream_version prev_hash hash`, set by the log).
Values are validated and normalized on construction, so an event that exists is appendable:
timestamps are UTC-aware, structural numbers are exact `Decimal`, never `float`.

Schema evolution: add fields with defaults; never change a field's type or rename a class.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Final

import msgspec
from msgspec.structs import force_setattr

from eventstore.errors import InvalidEventError
from eventstore.model.instants import to_utc
from eventstore.model.rules import (
    DECIMAL_FIELDS,
    DECIMAL_SCALE,
    EXCHANGE_FIELDS,
    INSTRUMENT_FIELDS,
    STRING_FIELDS,
    TIME_FIELDS,
    check_text,
    coerce_field,
    exact_decimal,
    normalized_decimal,
)

_GENESIS: Final = "0" * 64


class Event(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    tag_field="kind",
    tag=True,
    omit_defaults=True,
    gc=False,  # values are str, Decimal, datetime, bool or None: no cycles to collect
):
    """The envelope shared by every event; never instantiated itself."""

    instrument_id: str
    symbol: str
    effective_at: datetime
    source: str
    #: When the fact became knowable from its source; the log sets it to `recorded_at`
    #: when the caller leaves it None, and refuses one after `recorded_at`. Hashed, but not
    #: part of the event id: the same fact observed twice is one event.
    observed_at: datetime | None = None
    event_id: str | None = None
    recorded_at: datetime | None = None
    position: int | None = None
    stream_version: int | None = None
    prev_hash: str | None = None
    hash: str | None = None

    payload_fields: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        check_text(self.instrument_id, "instrument_id", required=True)
        check_text(self.symbol, "symbol", required=True)
        check_text(self.source, "source", required=True)
        force_setattr(self, "effective_at", to_utc(self.effective_at, "effective_at"))
        if self.observed_at is not None:
            force_setattr(self, "observed_at", to_utc(self.observed_at, "observed_at"))
        if self.recorded_at is not None:
            force_setattr(self, "recorded_at", to_utc(self.recorded_at, "recorded_at"))
        for field in self.payload_fields:
            force_setattr(self, field, coerce_field(field, getattr(self, field)))

    @property
    def kind(self) -> str:
        """Return the event's kind, the class name stored in the log."""
        return type(self).__name__

    def set_fields(self) -> tuple[str, ...]:
        """Return the instrument or exchange fields this event sets."""
        return tuple(f for f in self.payload_fields if getattr(self, f) is not None)


class InstrumentListed(Event, frozen=True, kw_only=True):
    """An instrument appeared at a venue: a first listing, or a relisting."""

    exchange: str | None = None
    base: str | None = None
    quote: str | None = None
    type: str | None = None
    subtype: str | None = None
    description: str | None = None
    sector: str | None = None
    industry: str | None = None
    country: str | None = None
    timezone: str | None = None
    session: str | None = None
    tick_size: Decimal | None = None
    minmov: Decimal | None = None
    pricescale: Decimal | None = None
    lot_size: Decimal | None = None
    min_qty: Decimal | None = None
    min_notional: Decimal | None = None
    contract_size: Decimal | None = None
    status: str | None = None
    venue_status: str | None = None
    listed_at: datetime | None = None
    expiry: datetime | None = None
    settle: str | None = None
    inverse: bool | None = None
    max_qty: Decimal | None = None
    max_notional: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    max_leverage: Decimal | None = None
    funding_interval: Decimal | None = None
    strike: Decimal | None = None
    option_type: str | None = None
    underlying: str | None = None
    root: str | None = None

    payload_fields: ClassVar[tuple[str, ...]] = INSTRUMENT_FIELDS


#: Fields an `InstrumentChanged` may not set: identity moves through its own events.
_NOT_CHANGEABLE: Final = frozenset({"symbol", "instrument_id", "active"})


class InstrumentChanged(Event, frozen=True, kw_only=True):
    """Some fields of an instrument changed; a `None` value clears a field explicitly."""

    changes: dict[str, Any]

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.changes, dict) or not self.changes:
            raise InvalidEventError(
                "expected a non-empty mapping of field to value", field="changes"
            )
        coerced: dict[str, Any] = {}
        for field in sorted(self.changes):
            if field in _NOT_CHANGEABLE:
                raise InvalidEventError(
                    f"{field!r} cannot be changed; use InstrumentRenamed for a new symbol",
                    field="changes",
                )
            if field not in INSTRUMENT_FIELDS:
                raise InvalidEventError(
                    f"unknown instrument field {field!r}; known: {', '.join(INSTRUMENT_FIELDS)}",
                    field="changes",
                )
            coerced[field] = coerce_field(field, self.changes[field])
        force_setattr(self, "changes", coerced)

    def set_fields(self) -> tuple[str, ...]:
        """Return the fields this change sets, explicit nulls included."""
        return tuple(self.changes)


#: The default status of a delisting. msgspec omits a default by identity, so an equal
#: string read back from storage is replaced by this very object: ids stay deterministic.
DELISTED: Final = "delisted"


class InstrumentDelisted(Event, frozen=True, kw_only=True):
    """An instrument stopped trading at its venue."""

    reason: str
    status: str = DELISTED

    def __post_init__(self) -> None:
        super().__post_init__()
        check_text(self.reason, "reason", required=True)
        check_text(self.status, "status", required=True)
        if self.status == DELISTED:
            force_setattr(self, "status", DELISTED)


class InstrumentRenamed(Event, frozen=True, kw_only=True):
    """An instrument took a new symbol; `symbol` is the old one. Identity is unchanged."""

    new_symbol: str

    def __post_init__(self) -> None:
        super().__post_init__()
        check_text(self.new_symbol, "new_symbol", required=True)
        if self.new_symbol == self.symbol:
            raise InvalidEventError("new_symbol equals the current symbol", field="new_symbol")


class EventRetracted(Event, frozen=True, kw_only=True):
    """Withdraw a wrong event by id, without rewriting anything.

    A retraction applies to every `as_of` from the moment it is recorded; its
    `effective_at` only documents when the operator decided it.
    """

    target: str
    reason: str

    def __post_init__(self) -> None:
        super().__post_init__()
        check_text(self.target, "target", required=True)
        check_text(self.reason, "reason", required=True)


def exchange_stream(exchange: str) -> str:
    """Return the stream key of an exchange's events."""
    return f"exchange:{exchange}"


class _ExchangeEvent(Event, frozen=True, kw_only=True):
    """Exchange events: the stream is `exchange:<EXCHANGE>`, the symbol the exchange."""

    instrument_id: str = ""
    symbol: str = ""
    exchange: str
    country: str | None = None
    timezone: str | None = None
    is_crypto: bool | None = None
    description: str | None = None

    payload_fields: ClassVar[tuple[str, ...]] = EXCHANGE_FIELDS

    def __post_init__(self) -> None:
        check_text(self.exchange, "exchange", required=True)
        if not self.instrument_id:
            force_setattr(self, "instrument_id", exchange_stream(self.exchange))
        if not self.symbol:
            force_setattr(self, "symbol", self.exchange)
        if self.instrument_id != exchange_stream(self.exchange) or self.symbol != self.exchange:
            raise InvalidEventError(
                f"an exchange event's stream is {exchange_stream(self.exchange)!r}",
                field="instrument_id",
            )
        super().__post_init__()


class ExchangeListed(_ExchangeEvent, frozen=True, kw_only=True):
    """An exchange entered the catalog."""


class ExchangeChanged(_ExchangeEvent, frozen=True, kw_only=True):
    """Some descriptive fields of an exchange changed (only those given)."""


GENESIS_HASH: Final = _GENESIS

__all__ = [
    "DECIMAL_FIELDS",
    "DECIMAL_SCALE",
    "DELISTED",
    "EXCHANGE_FIELDS",
    "GENESIS_HASH",
    "INSTRUMENT_FIELDS",
    "STRING_FIELDS",
    "TIME_FIELDS",
    "Event",
    "EventRetracted",
    "ExchangeChanged",
    "ExchangeListed",
    "InstrumentChanged",
    "InstrumentDelisted",
    "InstrumentListed",
    "InstrumentRenamed",
    "exact_decimal",
    "exchange_stream",
    "normalized_decimal",
]
