"""What every source client returns: complete snapshots of normalized source records.

A `SourceRecord` is one instrument as one source sees it, in the catalog's vocabulary:
the fields the source gives (a value it does not give is absent or None, never a default),
the normalized status beside the venue's own word, the listing time when the venue dates
it, and changes the venue has announced for later.

Each value meets its field's rule (`eventstore.model.rules`) as it is read. A row that breaks a
rule is not a record: `parse_rows` keeps it apart as a `Rejection` (counted, named, never
counted absent) and the rest of the snapshot goes on. Two rows for one instrument are one
if they say the same, and make the market malformed if they do not.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

import msgspec

from eventstore import InvalidEventError
from eventstore.model.value_rules import (
    TERMINAL_STATUSES,
    check_instrument_id,
    check_span,
    check_symbol,
    size,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from decimal import Decimal

R = TypeVar("R")

#: What an exchange's instrument list reports of every instrument (null where it says nothing).
EXCHANGE_FIELDS: Final = (
    "exchange",
    "base",
    "quote",
    "type",
    "tick_size",
    "lot_size",
    "min_qty",
    "min_notional",
)
#: ...and of derivatives lists, which also date listings and expiries.
DATED_FIELDS: Final = (*EXCHANGE_FIELDS, "expiry", "listed_at")
#: Normalized statuses after which an instrument no longer trades: they delist it.
TERMINAL: Final = TERMINAL_STATUSES


#: How many rejected rows a report names (it counts them all).
NAMED_REJECTIONS: Final = 5
_MILLIS: Final = re.compile(r"[0-9]+")


def decimal_text(value: str | None, field: str, *, zero_is_null: bool = False) -> Decimal | None:
    """Return a venue's size string of `field` exactly (`values.size`); empty or missing
    is null, and so is zero where the venue documents it as "no constraint"."""
    return size(value, field, zero_is_null=zero_is_null)


def from_millis(value: int | str | None, field: str = "time") -> datetime | None:
    """Return a venue's epoch milliseconds as a UTC instant; empty, missing or 0 is null."""
    if value is None or value in ("", "0", 0):
        return None
    if _MILLIS.fullmatch(str(value)) is None:  # no sign, no `1_000`, no other digits
        raise InvalidEventError(f"{value!r} is not epoch milliseconds in ASCII digits", field=field)
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidEventError(f"{value!r} is not an instant: {exc}", field=field) from None


class Announcement(msgspec.Struct, frozen=True, kw_only=True):
    """A change the venue announced: `field` takes `value` at `effective_at`."""

    effective_at: datetime
    field: str
    value: Any


class SourceRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One instrument as one source reported it."""

    instrument_id: str
    symbol: str
    fields: dict[str, Any]
    status: str | None = None
    venue_status: str | None = None
    listed_at: datetime | None = None
    #: When the venue says the instrument is (to be) delisted (a Binance perpetual's real
    #: `deliveryDate`); the sync dates a delisting at it when it lies at or before the
    #: observation.
    delisted_at: datetime | None = None
    announced: tuple[Announcement, ...] = ()

    @property
    def terminal(self) -> bool:
        """Return whether the venue reports the instrument gone for good."""
        return self.status in TERMINAL


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    """A row that broke a value rule: not stored, not counted absent."""

    instrument_id: str
    reason: str

    def __str__(self) -> str:
        """Return the row's id and why it was refused, unprintable characters escaped."""
        return f"{self.instrument_id!r}: {self.reason}"


class ConflictingRowsError(ValueError):
    """One snapshot holds two rows for one instrument that say different things."""

    def __init__(self, instrument_id: str) -> None:
        """Name the instrument."""
        self.instrument_id = instrument_id
        super().__init__(f"{instrument_id!r} is listed twice with different values")


def check_record(record: SourceRecord) -> SourceRecord:
    """Return `record` if its id, symbol and listing span meet their rules."""
    check_symbol(record.symbol)
    check_instrument_id(record.instrument_id)
    check_span(record.fields.get("listed_at"), record.fields.get("expiry"))
    return record


def parse_rows(
    rows: Iterable[R], make: Callable[[R], SourceRecord], key: Callable[[R], str]
) -> tuple[list[SourceRecord], tuple[Rejection, ...]]:
    """Return the records of `rows` (by `make`) and the rows refused by a value rule.

    `key` gives a row's instrument id without parsing it. Identical rows for one id are
    one; different ones raise `ConflictingRowsError`.
    """
    made: dict[str, SourceRecord | Rejection] = {}
    for row in rows:
        instrument_id = key(row)
        try:
            outcome: SourceRecord | Rejection = check_record(make(row))
        except InvalidEventError as exc:
            outcome = rejection(instrument_id, exc)
        before = made.setdefault(instrument_id, outcome)
        if before is not outcome and before != outcome:
            raise ConflictingRowsError(instrument_id)
    records = [found for found in made.values() if isinstance(found, SourceRecord)]
    rejected = tuple(found for found in made.values() if isinstance(found, Rejection))
    return records, rejected


def rejection(instrument_id: str, exc: InvalidEventError) -> Rejection:
    """Return the rejection of the row of `instrument_id` that broke a rule, as `exc` says."""
    reason = f"{exc.field}: {exc.reason}" if exc.field else exc.reason
    return Rejection(instrument_id=instrument_id, reason=reason)


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A complete list of one market of one source, as observed at one instant.

    `scope` is the instrument-id prefix the snapshot covers: an active instrument under it
    that the snapshot lacks is absent. `server_time` is the venue's own clock, if it says.
    """

    source: str
    market: str
    scope: str
    records: list[SourceRecord]
    server_time: datetime | None = None
    #: Fields the source reports for every record of this market (absence of one is null).
    reported: tuple[str, ...] = ()
    #: Exchanges the source lists for this market (TradingView's metainfo).
    exchanges: tuple[str, ...] = ()
    #: Rows refused by a value rule: neither stored nor counted absent.
    rejected: tuple[Rejection, ...] = ()

    def observed(self, given: datetime | None, now: Callable[[], datetime]) -> datetime:
        """Return when the snapshot was observed: `given` (a replay's), the venue's own
        clock, else `now()`."""
        return given or self.server_time or now()
