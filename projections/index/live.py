"""`PitIndex`: the materialized interval index over the log, kept current incrementally.

The index is a cache of the pure fold. It is loaded from `<root>/projections/` when the
saved file matches the log (same hash at the position it reflects), caught up from the
commits after it, and rebuilt from the log when missing, stale or damaged. New events on
top of an instrument's latest version are folded onto that version; a late correction or
a retraction refolds only the instruments it touches from their events.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.codec import from_table
from eventstore.encoding.schema import SCHEMA
from eventstore.log.reading import gathered
from eventstore.model.events import exchange_stream
from eventstore.model.kinds import RETRACTION
from projections.errors import IndexStateError
from projections.index import snapshots as persist
from projections.index.encoding import (
    BUILD_COLUMNS,
    EXCHANGE_KINDS,
    encode_events,
    stream_events,
    visible_rows,
    withdrawals,
)
from projections.index.fold_arrays import (
    EventArrays,
    fold_versions,
)
from projections.index.known_view import View, past_view
from projections.index.restate import as_snapshots, concat_versions, versions_at
from projections.index.version_store import VersionStore
from projections.knowledge import EVERYTHING, Knowledge

if TYPE_CHECKING:
    from pathlib import Path

    from eventstore import EventLog
    from eventstore.model.events import Event
    from projections.index.published import PublishedIndex

_log = logging.getLogger(__name__)
#: Folders this process could not save an index under (warned about once).
_UNSAVED: set[Path] = set()
#: Save the index again once this many events were folded in since the last save.
SAVE_EVERY = 10_000


class PitIndex:
    """The version store of a log, with the exchange events kept aside."""

    def __init__(
        self, log: EventLog, directory: Path | None, published: PublishedIndex | None = None
    ) -> None:
        """Index `log`, persisting under `directory` (None: keep it in memory only).

        With `published` (an object-store root), `directory` is its local cache: the
        published snapshot is fetched into it before loading, and each save is published.
        """
        self.log = log
        self.directory = directory
        self.published = published
        self.store = VersionStore()
        self.position = 0
        self.max_recorded_us = 0  # the latest recorded_at folded in
        self.max_observed_us = 0  # the latest observed_at folded in
        self.log_version = -1
        self.exchange_rows = SCHEMA.empty_table()  # the exchange streams' events, whole rows
        self._decoded: tuple[pa.Table | None, list[Event]] = (None, [])
        self._unsaved = 0
        self._loaded = False
        self._views: dict[tuple[Knowledge, int], View] = {}
        #: What `known_at="row"` derived from the log, and the position it was derived at.
        self.row_lateness: tuple[object, object] | None = None
        self._current: View | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def catch_up(self) -> None:
        """Fold in whatever the log gained since the index last looked."""
        if not self._loaded:
            self._loaded = True
            if not self._load_saved():
                self.rebuild()
                return
        elif self.log_version == self.log.version() and not self.log.changed():
            return
        version = self.log.refresh()
        if version == self.log_version:
            return
        rows = self.log.read(BUILD_COLUMNS, since=self.position)
        self.log_version = version
        if rows.num_rows:
            self._fold_in(rows)
            self._unsaved += rows.num_rows
            if self._unsaved >= max(SAVE_EVERY, self.position // 20):
                self.save()

    def rebuild(self) -> None:
        """Build the index from the whole log, batch by batch, and save it."""
        self.log_version = self.log.refresh()
        retractions = self.log.read(
            ["kind", "target", "instrument_id", "observed_at", "recorded_at"],
            where=pc.field("kind") == RETRACTION,
        )
        targets = retractions["target"].combine_chunks()
        self.store = store = VersionStore()
        self.position, self.max_recorded_us, self.max_observed_us = 0, 0, 0
        self.exchange_rows = SCHEMA.empty_table()
        parts = []
        for rows in gathered(self.log.read_batches(BUILD_COLUMNS), 1_000_000):  # costly per call
            self.position = _next_position(rows, self.position)
            self._note_times(rows)
            self._take_exchanges(rows)
            retracting = rows.filter(pc.equal(rows["kind"], RETRACTION))["instrument_id"]
            store.instruments.encode(retracting)  # known even if nothing of it is left
            visible = visible_rows(rows, EVERYTHING, targets)
            parts.append(encode_events(visible, store.instruments, store.dictionaries))
            del rows, visible
            pa.default_memory_pool().release_unused()  # the chunk's buffers, back to the OS
        if len(targets):
            withdrawn = self.log.read(
                ["event_id", "effective_at", "position"], where=pc.field("event_id").isin(targets)
            )
            markers = withdrawals(retractions, EVERYTHING, store.instruments, withdrawn)
            parts.extend([markers] if markers is not None else [])
        events = EventArrays.concat(parts) if parts else None
        del parts
        if events is not None:
            store.load_all(fold_versions(events, consume=True))
        self._loaded = True
        self.save()

    def save(self) -> None:
        """Persist the index (when it has a directory), reflecting the log up to `position`."""
        self._unsaved = 0
        if self.directory is None or self.position == 0:
            return
        last = self.log.read(["hash"], since=self.position - 1, until=self.position)
        header = persist.Header(
            self.position,
            last["hash"][0].as_py(),
            self.log_version,
            self.max_recorded_us,
            self.max_observed_us,
        )
        try:
            persist.save(self.store, header, self.exchange_rows, self.directory)
            if self.published is not None:
                self.published.publish(self.position, self.log_version)
        except OSError as exc:  # a StorageError too: a read-only root still answers, from memory
            said = self.directory in _UNSAVED  # once per process: a replay saves many times
            _UNSAVED.add(self.directory)
            (_log.debug if said else _log.warning)(
                "could not save the index under %s: %s", self.directory, exc
            )

    def _load_saved(self) -> bool:
        if self.directory is None:
            return False
        persist.remove_stale_staging(self.directory)
        if self.published is not None:
            self.published.fetch()  # the published snapshot becomes the cache's current one
        try:
            store, header, exchanges = persist.load(self.directory)
        except IndexStateError as exc:
            if exc.missing:
                _log.info("%s; building it from the log", exc)
            else:  # one line on stderr: the damaged snapshot is discarded, never served
                _log.warning("%s; discarded, rebuilding from the log", exc)
            return False
        stored = self.log.read(["hash"], since=header.position - 1, until=header.position)
        if stored.num_rows != 1 or stored["hash"][0].as_py() != header.last_hash:
            _log.warning(
                "index at %s does not match the log; discarded, rebuilding", self.directory
            )
            return False
        if self.published is not None:
            self.published.suspect = None  # what it fetched checked out
        self.store, self.position = store, header.position
        self.log_version = header.log_version  # nothing to read if the log is still there
        self.max_recorded_us = header.max_recorded_us
        self.max_observed_us = header.max_observed_us
        self.exchange_rows = exchanges
        return True

    def view(self, known: Knowledge) -> View:
        """Return the index as `known` sees it (observed by its `known_at`, recorded by its
        `recorded_by`)."""
        if known.covers(self.max_observed_us, self.max_recorded_us):
            if self._current is None or self._current.main is not self.store:
                self._current = View(self.store)
            return self._current
        key = (known, self.position)
        if key not in self._views:
            if len(self._views) >= 4:
                self._views.pop(next(iter(self._views)))
            self._views[key] = past_view(self.log, self.store, self.position, known)
        return self._views[key]

    # -- incremental folding -------------------------------------------------------------

    @property
    def exchange_events(self) -> list[Event]:
        """Return the exchange events: `exchange_rows` decoded (again only when they change)."""
        rows = self.exchange_rows
        if self._decoded[0] is not rows:  # a table is immutable: a new one means new rows
            self._decoded = (rows, from_table(rows))
        return self._decoded[1]

    def _take_exchanges(self, rows: pa.Table) -> None:
        """Keep the events of exchange streams, retractions of them included."""
        retraction = pc.and_(
            pc.equal(rows["kind"], RETRACTION),
            pc.starts_with(rows["instrument_id"], exchange_stream("")),
        )
        exchanges = rows.filter(
            pc.or_(pc.is_in(rows["kind"], value_set=EXCHANGE_KINDS), retraction)
        )
        if exchanges.num_rows:
            positions = exchanges["position"]
            since, until = pc.min(positions).as_py(), pc.max(positions).as_py() + 1
            wanted = pc.field("position").isin(positions)
            full = self.log.read(since=since, until=until, where=wanted)
            self.exchange_rows = pa.concat_tables(
                [self.exchange_rows, full], promote_options="permissive"
            )

    def _fold_in(self, rows: pa.Table) -> None:
        self._take_exchanges(rows)
        self.position = _next_position(rows, self.position)
        self._note_times(rows)
        store = self.store
        known_before = len(store.instruments)
        retracting = rows.filter(pc.equal(rows["kind"], RETRACTION))["instrument_id"]
        # known even if nothing of it is left to fold; its versions are refolded below
        retracted = store.instruments.encode(retracting)
        events = encode_events(
            visible_rows(rows, EVERYTHING), store.instruments, store.dictionaries
        )
        store.ensure_directory()
        order = np.argsort(events.inst, kind="stable")
        insts, first = np.unique(events.inst[order], return_index=True)
        if not len(insts) and not len(retracted):
            return
        earliest = np.minimum.reduceat(events.eff[order], first) if len(insts) else events.eff[:0]
        counts = store.count[insts]
        held = counts > 0
        latest = np.full(len(insts), np.iinfo(np.int64).min)
        latest[held] = store.columns["valid_from"][store.first[insts[held]] + counts[held] - 1]
        # a correction before the latest version, or history the index has none of: refold
        slow = np.where(held, earliest < latest, insts < known_before)
        slow_codes = np.union1d(insts[slow], retracted)
        fast = insts[~np.isin(insts, slow_codes)]
        if len(fast):
            self._fold_onto_latest(fast, events)
        if len(slow_codes):
            self._refold(slow_codes)

    def _fold_onto_latest(self, insts: np.ndarray, events: EventArrays) -> None:
        """Fold new events onto each instrument's latest version (they start no earlier)."""
        store = self.store
        mine = events.take(np.flatnonzero(np.isin(events.inst, insts)))
        existing = insts[store.count[insts] > 0]
        last_rows = store.first[existing] + store.count[existing] - 1
        folded = fold_versions(EventArrays.concat([as_snapshots(store, last_rows), mine]))
        earlier = np.concatenate(
            [np.arange(store.first[i], store.first[i] + store.count[i] - 1) for i in existing]
            or [np.empty(0, np.int64)]
        ).astype(np.int64)
        merged = concat_versions(versions_at(store, earlier), folded)
        store.replace(insts.tolist(), merged)

    def _refold(self, codes: np.ndarray) -> None:
        """Fold the instruments with these codes again from all of their events."""
        store = self.store
        ids = store.instruments.values.take(pa.array(codes.astype(np.int64)))
        rows = self.log.read(
            BUILD_COLUMNS, until=self.position, where=pc.field("instrument_id").isin(ids)
        )
        store.replace(codes.tolist(), fold_versions(stream_events(rows, EVERYTHING, store)))

    def _note_times(self, rows: pa.Table) -> None:
        """Keep the latest recorded_at and observed_at folded in."""
        self.max_recorded_us = _latest(rows, "recorded_at", self.max_recorded_us)
        self.max_observed_us = _latest(rows, "observed_at", self.max_observed_us)


def _next_position(rows: pa.Table, current: int) -> int:
    if rows.num_rows == 0:
        return current
    return max(current, int(pc.max(rows["position"]).as_py()) + 1)


def _latest(rows: pa.Table, column: str, current: int) -> int:
    if rows.num_rows == 0:
        return current
    return max(current, int(pc.max(rows[column].cast(pa.int64())).as_py()))


__all__ = ["PitIndex", "View"]
