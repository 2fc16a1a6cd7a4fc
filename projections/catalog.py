"""`Catalog`: the read API. Every answer obeys the PIT contract of the pure fold."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from eventstore import EventLog, to_utc
from eventstore.encoding.schema import TIMESTAMP
from eventstore.model.instants import to_micros
from eventstore.model.kinds import RETRACTION
from projections import fold
from projections.errors import UnknownSymbolError
from projections.index.live import PitIndex
from projections.index.published import index_places
from projections.index.universe import matching
from projections.join.answers import THREADS, Threads
from projections.join.inputs import instant_column
from projections.join.queries import Backtest
from projections.knowledge import Knowledge
from projections.names import lookup as name_lookup
from projections.names.queries import NameQueries
from projections.pinning import one_version
from projections.revisions import Window, revisions

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Iterator, Mapping

    from projections.index.version_store import VersionStore
    from projections.model import Exchange, Instrument

#: `history` resolves a symbol at this instant unless told otherwise: its latest holder.
END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)


def _micros(value: object, what: str) -> int:
    return to_micros(to_utc(value, what))


class Catalog:
    """Point-in-time answers over an event log: what was true at `as_of`, as known at
    `known_at` and as recorded by `recorded_by`.

    Queries see every event committed before they start, by this process or another.
    `known_at=K` keeps the facts observed by K (what could have been known then, also on
    a catalog backfilled later from archived snapshots); `recorded_by=R` keeps the events
    recorded by R: exactly what the catalog answered at R, even after later backfills and
    corrections. Both default to everything; given together, an event counts when it
    passes both.
    """

    def __init__(
        self,
        log: EventLog,
        *,
        persist: bool = True,
        threads: Threads = THREADS,
        cache: str | os.PathLike[str] | None = None,
        index: PitIndex | None = None,
    ) -> None:
        """Use `Catalog.open` (`index`: one to answer from instead of the log's own)."""
        self.log = log
        if index is None:
            index = PitIndex(log, *index_places(log, cache)) if persist else PitIndex(log, None)
        self._index = index
        backtest = Backtest(log, self._index, self.get, threads)
        # the table-at-a-time queries are the composed `Backtest`'s own methods
        self.pit_join = backtest.pit_join
        self.snap = backtest.snap
        self.check_grid = backtest.check_grid
        self.round_price = backtest.round_price
        self.round_qty = backtest.round_qty
        self.scd2 = backtest.scd2
        self.export = backtest.export
        names = NameQueries(log, self._index)
        self.resolve = names.resolve
        self.names = names.names
        self.symbols = names.symbols
        self.holders = names.holders
        self.instrument = names.instrument

    @classmethod
    def open(
        cls,
        root: str | os.PathLike[str],
        *,
        storage_options: Mapping[str, str] | None = None,
        persist: bool = True,
        threads: Threads = THREADS,
        cache: str | os.PathLike[str] | None = None,
    ) -> Catalog:
        """Open the catalog whose log lives under `root` (a folder or an object-store URI).

        The index is saved under `<root>/projections/` unless `persist` is False; on an
        object store it is saved in the local folder `cache` (default: `default_cache`)
        and published under `<root>/projections/` for other readers. Large joins run in
        `threads` (at most one per CPU, for 500,000 rows or more each).
        """
        log = EventLog.open(root, storage_options=storage_options)
        return cls(log, persist=persist, threads=threads, cache=cache)

    @contextmanager
    def pinned(self) -> Iterator[int]:
        """Answer every query inside the block from one Delta version of the log; yield it.

        The index catches up once on entry; commits made meanwhile are seen after the block.
        """
        with self.log.pinned() as version:
            self._index.catch_up()
            yield version

    def refresh(self) -> None:
        """Take in events appended since the last query, by any writer."""
        self._index.catch_up()

    def rebuild(self) -> None:
        """Rebuild the index from the whole log (it is a cache; the log is the truth)."""
        self._index.rebuild()

    @one_version
    def version_store(self) -> VersionStore:
        """Return the index's versions, caught up with the log: for audits, never to modify."""
        self._index.catch_up()
        return self._index.store

    @one_version
    def get(
        self, symbol: str, as_of: object, known_at: object = None, recorded_by: object = None
    ) -> Instrument | None:
        """Return the instrument that held `symbol` at `as_of`, or None if none did."""
        at = _micros(as_of, "as_of")
        known = Knowledge.of(known_at, recorded_by)
        self._index.catch_up()
        return self._index.view(known).get(symbol, at)

    @one_version
    def universe(
        self,
        as_of: object,
        known_at: object = None,
        *,
        include_inactive: bool = False,
        tradable: bool = False,
        recorded_by: object = None,
        settle: str | None = None,
        inverse: bool | None = None,
        exchange: str | None = None,
        type: str | None = None,
        base: str | None = None,
        quote: str | None = None,
        coded: bool = False,
    ) -> pa.Table:
        """Return one row per instrument active at `as_of` (all that exist, if asked).

        `tradable` keeps only the instruments whose status was `trading` at `as_of`;
        `settle` only those settled in that currency, `inverse` only the inverse (True) or
        the linear (False) contracts; `exchange`, `type`, `base` and `quote` only those
        whose field at `as_of` equals the value given. An instrument whose field is null
        matches no value.
        `coded` returns the instrument fields dictionary-encoded, straight from the index
        (`UNIVERSE_SCHEMA`: no value copied; pandas, Polars and DuckDB read them as
        categoricals).
        """
        at = _micros(as_of, "as_of")
        known = Knowledge.of(known_at, recorded_by)
        self._index.catch_up()
        view = self._index.view(known)
        found = view.universe(at, include_inactive=include_inactive, coded=coded)
        wanted = {"status": "trading" if tradable else None, "settle": settle, "inverse": inverse}
        wanted |= {"exchange": exchange, "type": type, "base": base, "quote": quote}
        for name, value in wanted.items():
            if value is not None:
                found = found.filter(matching(found[name], value))
        return found

    @one_version
    def history(
        self,
        key: str,
        *,
        as_of: object = None,
        known_at: object = None,
        recorded_by: object = None,
    ) -> pa.Table:
        """Return every version of the instrument with id `key`, or holding symbol `key`.

        A symbol resolves at `as_of` (default: its latest holder).
        """
        at = to_micros(END_OF_TIME if as_of is None else to_utc(as_of, "as_of"))
        known = Knowledge.of(known_at, recorded_by)
        self._index.catch_up()
        view = self._index.view(known)
        found = view.history_of(key)
        if found is None:
            holder = view.get(key, at)
            found = None if holder is None else view.history_of(holder.instrument_id)
        if found is None and as_of is None:  # renamed away: its last holder
            held = name_lookup.last_holder(view, key)
            found = None if held is None else view.history_of(held)
        if found is not None:
            return found
        if self._index.store.instruments.code_of(key) is not None:
            return view.empty()  # a known instrument with no version yet, as known then
        raise UnknownSymbolError(key)

    @one_version
    def versions_before(
        self,
        instrument_ids: object,
        at: object,
        known_at: object = None,
        recorded_by: object = None,
    ) -> pa.Table:
        """Return each instrument's version valid just before each instant (`VERSION_SCHEMA`).

        `instrument_ids` is an Arrow string array or a sequence of ids. `at` holds one
        instant per id, under the timestamp contract of every other argument:
        an Arrow timestamp array with a time zone, or a sequence of aware datetimes or ISO
        strings with an offset; naive timestamps and bare numbers raise
        `NaiveTimestampError`. A row is null where the instrument did not exist yet. This
        is the "old value" of a change effective at that instant.
        """
        ids = (
            instrument_ids
            if isinstance(instrument_ids, pa.Array | pa.ChunkedArray)
            else pa.array(instrument_ids, pa.string())
        )
        instants = instant_column(at, "at")
        known = Knowledge.of(known_at, recorded_by)
        self._index.catch_up()
        return self._index.view(known).versions_before(ids, instants)

    @one_version
    def changes(
        self, since: object, until: object, known_at: object = None, recorded_by: object = None
    ) -> pa.Table:
        """Return the events effective in [`since`, `until`), with a `retracted` flag.

        Rows are the log's own columns, in position order: the events observed by
        `known_at` and recorded by `recorded_by`; `retracted` says whether a retraction
        that passes the same bounds withdrew the event.
        """
        start, end = to_utc(since, "since"), to_utc(until, "until")
        known = Knowledge.of(known_at, recorded_by)
        window = (pc.field("effective_at") >= pa.scalar(start, TIMESTAMP)) & (
            pc.field("effective_at") < pa.scalar(end, TIMESTAMP)
        )
        retractions = pc.field("kind") == RETRACTION
        found = known.admitted(self.log.read(where=window))
        columns = ["target", "observed_at", "recorded_at"]
        targets = known.admitted(self.log.read(columns, where=retractions))["target"]
        withdrawn = pc.is_in(found["event_id"], value_set=targets.combine_chunks())
        return found.append_column("retracted", withdrawn)

    @one_version
    def exchanges(
        self, as_of: object, known_at: object = None, recorded_by: object = None
    ) -> dict[str, Exchange]:
        """Return every exchange that exists at `as_of`, by name."""
        when = to_utc(as_of, "as_of")
        known = Knowledge.of(known_at, recorded_by)
        self._index.catch_up()
        events = self._index.exchanges.events
        return fold.exchanges(events, when, known.known_at, known.recorded_by)

    @one_version
    @one_version
    def revisions(
        self,
        known_since: object,
        known_until: object = None,
        basis: str = "observed",
        fields: str | Iterable[str] | None = None,
        exchange: str | None = None,
    ) -> pa.Table:
        """Return one row per (instrument, field, effective interval) whose answer as known
        at `known_since` differs from the answer as known at `known_until` (None:
        everything), with the `cause` (see `projections.revisions`). Knowledge bounds
        `observed_at` (basis "observed", the `known_at` of queries) or `recorded_at`
        ("recorded", their `recorded_by`)."""
        window = Window.of(known_since, known_until, basis)
        self._index.catch_up()
        return revisions(self._index.store, self._index.events, window, fields, exchange)
