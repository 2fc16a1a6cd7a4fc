"""What the log already says about one market of one source, as a sync needs it.

A complete snapshot of a market leaves its observation time in the log: every event the sync
appends for it carries `observed_at`, the snapshot's observation time. So the latest
`observed_at` among a source's events under a market's scope, before a snapshot, is the
latest complete snapshot of that market the log records; a first listing is never dated at
or before it (that snapshot lacked the instrument). A snapshot that changed nothing appends
nothing, so it leaves no trace: the bound is the latest snapshot that appended something.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from collections.abc import Collection

    from eventstore import EventLog

#: How far after the latest complete snapshot that lacked it a first listing is dated.
JUST_AFTER: Final = timedelta(microseconds=1)
_INSTANT: Final = pa.timestamp("us", tz="UTC")


class History:
    """A market that has no log behind it: no earlier snapshot, no stored event."""

    def last_snapshot(self) -> datetime | None:
        """Return the observation time of the market's latest complete snapshot before
        this one that the log records, or None."""
        return None

    def stored(self, event_ids: Collection[str]) -> set[str]:
        """Return those of `event_ids` that the log holds."""
        return set()


class LogHistory(History):
    """One market (`source`, instrument ids under `scope`) in the log, before `before`."""

    def __init__(self, log: EventLog, source: str, scope: str, before: datetime) -> None:
        """Read from `log` on demand (only a sync that needs it pays for the scan)."""
        self.log = log
        self.source = source
        self.scope = scope
        self.before = before
        self._last: tuple[datetime | None] | None = None

    def last_snapshot(self) -> datetime | None:
        """Return the latest `observed_at` before `before` of the market's events."""
        if self._last is None:
            where = (pc.field("source") == self.source) & (
                pc.field("observed_at") < pa.scalar(self.before, _INSTANT)
            )
            rows = self.log.read(["instrument_id", "observed_at"], where=where)
            rows = rows.filter(pc.starts_with(rows["instrument_id"], self.scope))
            self._last = (pc.max(rows["observed_at"]).as_py() if rows.num_rows else None,)
        return self._last[0]

    def stored(self, event_ids: Collection[str]) -> set[str]:
        """Return those of `event_ids` that the log holds."""
        if not event_ids:
            return set()
        where = pc.field("event_id").isin(pa.array(sorted(event_ids), pa.string()))
        return set(self.log.read(["event_id"], where=where)["event_id"].to_pylist())
