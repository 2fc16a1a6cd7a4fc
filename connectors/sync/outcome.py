"""What one snapshot amounts to: the events it calls for, counts, and absences."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from eventstore import Event


class Absence(msgspec.Struct, frozen=True, array_like=True):
    """An instrument missing from consecutive complete snapshots.

    `count` snapshots in a row, the first observed at `since`, the latest at `last`. A
    snapshot observed no later than `last` (the same one, replayed) does not count again.
    """

    count: int
    since: datetime
    last: datetime

    def after(self, observed_at: datetime) -> Absence:
        """Return the absence once a snapshot observed at `observed_at` also lacks it."""
        if observed_at <= self.last:
            return self
        return Absence(self.count + 1, self.since, observed_at)


def absence_after(before: Absence | None, observed_at: datetime) -> Absence:
    """Return an instrument's absence once the snapshot observed at `observed_at` lacks it."""
    return Absence(1, observed_at, observed_at) if before is None else before.after(observed_at)


@dataclass
class Plan:
    """The events one snapshot calls for, with what they amount to."""

    events: list[Event] = field(default_factory=list)
    listed: int = 0
    relisted: int = 0
    changed: int = 0
    renamed: int = 0
    delisted: int = 0
    announced: int = 0
    unchanged: int = 0
    ignored: int = 0
    absent: int = 0
    #: Instruments this snapshot says are gone (terminal status or absent), for the guard.
    leaving: int = 0
    active: int = 0
    absence: dict[str, Absence] = field(default_factory=dict)
