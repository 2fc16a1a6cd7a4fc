"""`Catalog`: the read API. Every answer obeys the PIT contract of the pure fold."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from eventstore import EventLog, to_utc
from eventstore.codec import TIMESTAMP
from projections import fold
from projections.errors import UnknownSymbolError
from projections.tables import history_table, versions_table

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    from eventstore.events import Event
    from projections.model import Exchange, Instrument

#: `history` resolves a symbol at this instant unless told otherwise: its latest holder.
END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)


def _known_at(value: object) -> datetime | None:
    return None if value is None else to_utc(value, "known_at")


class Catalog:
    """Point-in-time answers over an event log: what was true at `as_of`, known at `known_at`."""

    def __init__(self, log: EventLog) -> None:
        """Use `Catalog.open`."""
        self.log = log
        self._events: list[Event] = []
        self._streams: dict[str, list[Event]] = {}
        self._version = -2

    @classmethod
    def open(
        cls, root: str | os.PathLike[str], *, storage_options: Mapping[str, str] | None = None
    ) -> Catalog:
        """Open the catalog whose log lives under `root` (a folder or an object-store URI)."""
        return cls(EventLog.open(root, storage_options=storage_options))

    def refresh(self) -> None:
        """Take in events appended since the last query, by any writer."""
        version = self.log.refresh()
        if version == self._version:
            return
        new = self.log.events(since=len(self._events))
        self._events.extend(new)
        for event in new:
            self._streams.setdefault(event.instrument_id, []).append(event)
        self._version = version

    def get(self, symbol: str, as_of: object, known_at: object = None) -> Instrument | None:
        """Return the instrument that held `symbol` at `as_of`, or None if none did."""
        when = to_utc(as_of, "as_of")
        self.refresh()
        return fold.lookup(self._events, symbol, when, _known_at(known_at))

    def universe(
        self, as_of: object, known_at: object = None, *, include_inactive: bool = False
    ) -> pa.Table:
        """Return one row per instrument active at `as_of` (all that exist, if asked)."""
        when = to_utc(as_of, "as_of")
        self.refresh()
        found = fold.states(self._events, when, _known_at(known_at)).values()
        rows = sorted(
            (s for s in found if include_inactive or s.active), key=lambda s: s.instrument_id
        )
        return versions_table(rows)

    def history(self, key: str, *, as_of: object = None, known_at: object = None) -> pa.Table:
        """Return every version of the instrument with id `key`, or holding symbol `key`.

        A symbol resolves at `as_of` (default: its latest holder).
        """
        when = END_OF_TIME if as_of is None else to_utc(as_of, "as_of")
        known = _known_at(known_at)
        self.refresh()
        stream = self._streams.get(key)
        if stream is None:
            holder = fold.lookup(self._events, key, when, known)
            if holder is None:
                raise UnknownSymbolError(key)
            stream = self._streams[holder.instrument_id]
        return history_table(fold.instrument_versions(stream, known))

    def changes(self, since: object, until: object, known_at: object = None) -> pa.Table:
        """Return the events effective in [`since`, `until`), with a `retracted` flag."""
        start, end = to_utc(since, "since"), to_utc(until, "until")
        known = _known_at(known_at)
        log = self.log.read()
        if known is not None:
            log = log.filter(pc.less_equal(log["recorded_at"], pa.scalar(known, TIMESTAMP)))
        targets = log.filter(pc.equal(log["kind"], "EventRetracted"))["target"]
        retracted = pc.is_in(log["event_id"], targets.combine_chunks())
        log = log.append_column("retracted", retracted)
        window = pc.and_(
            pc.greater_equal(log["effective_at"], pa.scalar(start, TIMESTAMP)),
            pc.less(log["effective_at"], pa.scalar(end, TIMESTAMP)),
        )
        return log.filter(window)

    def exchanges(self, as_of: object, known_at: object = None) -> dict[str, Exchange]:
        """Return every exchange that exists at `as_of`, by name."""
        when = to_utc(as_of, "as_of")
        self.refresh()
        return fold.exchanges(self._events, when, _known_at(known_at))
