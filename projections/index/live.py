"""`PitIndex`: the materialized interval index over the log, kept current incrementally.

The index is a cache of the pure fold. It is loaded from `<root>/projections/` when the
saved file matches the log (same hash at the position it reflects), caught up from the
commits after it, and rebuilt from the log when missing, stale or damaged. New events on
top of an instrument's latest version are folded onto that version; a late correction or
a retraction refolds only the instruments it touches from their events. Every instrument
event folded in, withdrawn ones too, is also kept coded in the `EventTable` (saved with
the snapshot), from which a fold as known at another instant is restated without the log
(`projections.revisions`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.log.reading import gathered
from eventstore.model.kinds import RETRACTION
from projections.errors import IndexStateError
from projections.index import snapshots as persist
from projections.index.encoding import (
    BUILD_COLUMNS,
    stream_events,
    withdrawals,
)
from projections.index.event_table import EventTable
from projections.index.exchange_streams import ExchangeStreams
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
        self.events = EventTable()  # every instrument event folded in, coded by the store
        self.position = 0
        self.max_recorded_us = 0  # the latest recorded_at folded in
        self.max_observed_us = 0  # the latest observed_at folded in
        self.log_version = -1
        self.exchanges = ExchangeStreams()
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
            ["position", "kind", "target", "instrument_id", "observed_at", "recorded_at"],
            where=pc.field("kind") == RETRACTION,
        )
        targets = retractions["target"].combine_chunks()
        self.store = store = VersionStore()
        self.events = table = EventTable()
        self.position, self.max_recorded_us, self.max_observed_us = 0, 0, 0
        self.exchanges = ExchangeStreams()
        withdrawn_rows = []
        for rows in gathered(self.log.read_batches(BUILD_COLUMNS), 1_000_000):  # costly per call
            self.position = _next_position(rows, self.position)
            self._note_times(rows)
            self.exchanges.take(rows, self.log)
            retracting = rows.filter(pc.equal(rows["kind"], RETRACTION))["instrument_id"]
            store.instruments.encode(retracting)  # known even if nothing of it is left
            added = self.events.add_rows(rows, self.store)
            if len(targets):
                withdrawn_rows.append(added.rows[added.withdrawn_by(targets)])
            del rows, added
            pa.default_memory_pool().release_unused()  # the chunk's buffers, back to the OS
        markers = None
        if len(targets):
            withdrawn = self.log.read(
                ["event_id", "effective_at", "position"], where=pc.field("event_id").isin(targets)
            )
            markers = withdrawals(retractions, EVERYTHING, store.instruments, withdrawn)
            self.events.add_retractions_found(retractions, withdrawn)
        # the table's own columns, folded in place: what is withdrawn is left out, not copied
        visible = np.ones(len(table) + (len(markers) if markers is not None else 0), bool)
        visible[np.concatenate([np.empty(0, np.int64), *withdrawn_rows])] = False
        if len(visible):
            store.load_all(fold_versions(table.view(markers), keep=visible))
        del visible
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
            persist.save(self.store, header, self.exchanges.rows, self.directory, self.events)
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
            store, header, exchanges, events = persist.load(self.directory)
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
        self.store, self.events, self.position = store, events, header.position
        self.log_version = header.log_version  # nothing to read if the log is still there
        self.max_recorded_us = header.max_recorded_us
        self.max_observed_us = header.max_observed_us
        self.exchanges = ExchangeStreams(exchanges)
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

    def _fold_in(self, rows: pa.Table) -> None:
        self.exchanges.take(rows, self.log)
        self.position = _next_position(rows, self.position)
        self._note_times(rows)
        store = self.store
        known_before = len(store.instruments)
        retractions = rows.filter(pc.equal(rows["kind"], RETRACTION))
        # known even if nothing of it is left to fold; its versions are refolded below
        retracted = store.instruments.encode(retractions["instrument_id"])
        added = self.events.add_rows(rows, self.store)
        events = added.events
        if retractions.num_rows:  # what `visible_rows` leaves: not withdrawn within `rows`
            targets = retractions["target"].combine_chunks()
            events = events.take(np.flatnonzero(~added.withdrawn_by(targets)))
        del added
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
            streams = self._refold(slow_codes)
            if retractions.num_rows:  # every target is in its own stream: `streams` has it
                self.events.add_retractions_found(retractions, streams)

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

    def _refold(self, codes: np.ndarray) -> pa.Table:
        """Fold the instruments with these codes again from all of their events; return
        those events' rows."""
        store = self.store
        ids = store.instruments.values.take(pa.array(codes.astype(np.int64)))
        rows = self.log.read(
            BUILD_COLUMNS, until=self.position, where=pc.field("instrument_id").isin(ids)
        )
        store.replace(codes.tolist(), fold_versions(stream_events(rows, EVERYTHING, store)))
        return rows

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
