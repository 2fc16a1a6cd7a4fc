"""What every source client returns: complete snapshots of normalized source records.

A `SourceRecord` is one instrument as one source sees it, in the catalog's vocabulary:
the fields the source gives (a value it does not give is absent or None, never a default),
the normalized status beside the venue's own word, the listing time when the venue dates
it, and changes the venue has announced for later. Values are checked where they become
columns and events (`compare.column`, the event constructors), not once more per record here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import msgspec

if TYPE_CHECKING:
    from collections.abc import Callable

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
TERMINAL: Final = frozenset({"delisted", "expired"})


def decimal_text(value: str | None) -> Decimal | None:
    """Return a venue's decimal string exactly; an empty or missing one is null."""
    return Decimal(value) if value else None


def from_millis(value: int | str | None) -> datetime | None:
    """Return a venue's epoch milliseconds as a UTC instant; empty, missing or 0 is null."""
    if value is None or value in ("", "0", 0):
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)


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
    announced: tuple[Announcement, ...] = ()

    @property
    def terminal(self) -> bool:
        """Return whether the venue reports the instrument gone for good."""
        return self.status in TERMINAL


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

    def observed(self, given: datetime | None, now: Callable[[], datetime]) -> datetime:
        """Return when the snapshot was observed: `given` (a replay's), the venue's own
        clock, else `now()`."""
        return given or self.server_time or now()
