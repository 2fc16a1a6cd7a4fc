"""What the catalog answers with: frozen Structs for single lookups, Arrow schemas for tables."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Final

import msgspec
import pyarrow as pa

from eventstore.encoding.schema import DECIMAL, TIMESTAMP
from eventstore.model.events import DECIMAL_FIELDS, INSTRUMENT_FIELDS, TIME_FIELDS
from eventstore.model.rules import BOOLEAN_FIELDS

#: Instrument fields other than `status`, in the design's order.
FIELDS: Final = tuple(f for f in INSTRUMENT_FIELDS if f != "status")


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    """One instrument as it was at an instant: a version of its history."""

    instrument_id: str
    symbol: str
    active: bool
    status: str | None
    valid_from: datetime
    #: The latest `observed_at` among the events that formed this version.
    known_since: datetime
    #: The latest `recorded_at` among them.
    recorded_since: datetime
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


class Exchange(msgspec.Struct, frozen=True, kw_only=True):
    """One exchange as it was at an instant."""

    exchange: str
    valid_from: datetime
    known_since: datetime
    recorded_since: datetime
    country: str | None = None
    timezone: str | None = None
    is_crypto: bool | None = None
    description: str | None = None


def _field_type(name: str) -> pa.DataType:
    if name in DECIMAL_FIELDS:
        return DECIMAL
    if name in TIME_FIELDS:
        return TIMESTAMP
    if name in BOOLEAN_FIELDS:
        return pa.bool_()
    return pa.string()


#: Columns of `universe` and `history`: an `Instrument` per row, plus `valid_until`.
VERSION_SCHEMA: Final = pa.schema(
    [
        pa.field("instrument_id", pa.string(), nullable=False),
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("active", pa.bool_(), nullable=False),
        pa.field("status", pa.string()),
        pa.field("valid_from", TIMESTAMP, nullable=False),
        pa.field("valid_until", TIMESTAMP),
        pa.field("known_since", TIMESTAMP, nullable=False),
        pa.field("recorded_since", TIMESTAMP, nullable=False),
        *(pa.field(name, _field_type(name)) for name in FIELDS),
    ]
)
