"""Announced future events: a venue's announced changes, and a dated contract's expiry.

A dated contract's expiry is an announced delisting: when the sync lists it (or its expiry
changes) it appends `InstrumentDelisted` effective at the expiry, reason and status
`expired`, observed now. A changed expiry retracts the old announcement (`EventRetracted`)
and announces the new one. The fold needs no special case: after its expiry a contract is
delisted like any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from eventstore import EventRetracted, InstrumentChanged, InstrumentDelisted, compute_event_id

if TYPE_CHECKING:
    from collections.abc import Callable

    from connectors.venues.snapshot import SourceRecord

#: The reason and status of a dated contract's delisting at its expiry.
EXPIRED: Final = "expired"

Envelope = dict[str, Any]


def expiry_of(record: SourceRecord) -> datetime | None:
    """Return the expiry the source gives for `record` (None for an undated instrument)."""
    value = record.fields.get("expiry")
    return value if isinstance(value, datetime) else None


def expired_by(record: SourceRecord, at: datetime) -> bool:
    """Return whether `record` is a dated contract whose expiry is at or before `at`."""
    end = expiry_of(record)
    return end is not None and end <= at


def expiry_delisting(envelope: Envelope) -> InstrumentDelisted:
    """Return the delisting at a dated contract's expiry (`envelope` dated at it)."""
    return InstrumentDelisted(**envelope, reason=EXPIRED, status=EXPIRED)


def retraction(old: InstrumentDelisted, envelope: Envelope, new: datetime | None) -> EventRetracted:
    """Return the retraction of the announced expiry `old` (the expiry moved to `new`)."""
    moved = f"the expiry moved to {new.isoformat()}" if new else "the contract is undated now"
    return EventRetracted(**envelope, target=compute_event_id(old), reason=moved)


def announced_changes(
    record: SourceRecord, observed_at: datetime, envelope: Callable[[datetime], Envelope]
) -> list[InstrumentChanged]:
    """Return the venue's announced changes of `record` effective after `observed_at`,
    one `InstrumentChanged` per effective time."""
    later: dict[datetime, dict[str, Any]] = {}
    for announcement in record.announced:
        if announcement.effective_at > observed_at:
            later.setdefault(announcement.effective_at, {})[announcement.field] = announcement.value
    return [
        InstrumentChanged(**envelope(at), changes=changes) for at, changes in sorted(later.items())
    ]
