"""The append-only event log: a Delta Lake table of Parquet files under `<root>/events`.

This module reads; appending is `eventstore.log.appending` (Python events) and
`eventstore.log.table_append` (an Arrow table): one Delta commit per append, planned again
after losing a race to another writer. Nothing is ever rewritten. After each commit (a
compaction's included) the log's `on_commit` hook, if any, sees the new head: that is how
heads are signed (`eventstore.log.anchor`).
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from eventstore.clock import Clock, utc_now
from eventstore.encoding.codec import from_table
from eventstore.log.appending import announce, append_events, sync_tail
from eventstore.log.compaction import CompactionReport, compact
from eventstore.log.head import CommitHook, Head, ambient_hook, recorded_text
from eventstore.log.recorded import Recorded
from eventstore.log.saved_tail import TailCache
from eventstore.log.storage import DeltaStorage
from eventstore.log.table_append import AppendedTable, append_table
from eventstore.log.tail import LogTail

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    import pyarrow.dataset as pa_ds

    from eventstore.model.events import Event


class EventLog:
    """An append-only, hash-chained log of events in a Delta Lake table."""

    def __init__(
        self,
        root: str,
        *,
        storage_options: Mapping[str, str] | None = None,
        clock: Clock = utc_now,
        on_commit: CommitHook | None = None,
    ) -> None:
        """Use `EventLog.open`; this constructor does no I/O."""
        self.root = root
        #: Sees each new head after its commit (default: the one `commits_seen_by` set).
        self.on_commit = on_commit or ambient_hook()
        self.uri = f"{root.rstrip('/')}/events"
        self.storage_options = dict(storage_options) if storage_options else None
        self._clock = clock
        self._storage = DeltaStorage(self.uri, storage_options)
        self._tail = LogTail()
        self._saved = TailCache(root)
        self._version = -1
        self._pins = 0  # open `pinned()` blocks: reads see one Delta version meanwhile
        self._pin_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        root: str | os.PathLike[str],
        *,
        storage_options: Mapping[str, str] | None = None,
        clock: Clock = utc_now,
        on_commit: CommitHook | None = None,
    ) -> EventLog:
        """Open the log under `root`, a folder or an object-store URI; create it on first append.

        `on_commit(log, head)` runs after each commit this object makes (see `head`).
        """
        text = os.fspath(root)
        if "://" not in text:
            text = os.path.abspath(text)
        return cls(text, storage_options=storage_options, clock=clock, on_commit=on_commit)

    # -- reading -------------------------------------------------------------------------

    def version(self) -> int:
        """Return the Delta version of the log as last seen (-1 before the first commit)."""
        return self._version

    def refresh(self) -> int:
        """Catch up with commits made since the last look (by any writer); return the version.

        Inside a `pinned()` block this is the pinned version: nothing is looked at.
        """
        if self._pins:
            return self._version
        self._version = self._storage.refresh()
        return self._version

    @contextmanager
    def pinned(self) -> Iterator[int]:
        """Read one Delta version of the log inside the block; yield it.

        The log is brought up to date on entry (unless a block is open already; on a local
        folder with nothing new committed that costs one `stat`) and not again until the
        last block closes: every read inside (`read`, `read_batches`, `dataset`, `len`)
        sees the same commits, whatever other writers commit meanwhile. No appending inside.
        """
        version = self.pin()
        try:
            yield version
        finally:
            self.unpin()

    def pin(self) -> int:
        """Open a `pinned()` block without a `with` (a query's hot path); return the version.

        Every `pin` is followed by one `unpin`."""
        with self._pin_lock:
            if not self._pins and self.changed():
                self._version = self._storage.refresh()
            self._pins += 1
            return self._version

    def unpin(self) -> None:
        """Close the block a `pin` opened."""
        with self._pin_lock:
            self._pins -= 1

    def read(
        self,
        columns: Sequence[str] | None = None,
        *,
        since: int = 0,
        until: int | None = None,
        version: int | None = None,
        where: pc.Expression | None = None,
    ) -> pa.Table:
        """Return the log (positions `since` <= p < `until`) as a table sorted by position.

        `where` is an Arrow dataset expression that filters the rows further, such as
        `pc.field("instrument_id").isin([...])`.
        """
        if version is None:
            self.refresh()
        table = self._scan(columns, since=since, until=until, version=version, where=where)
        return table.sort_by("position") if "position" in table.column_names else table

    def read_batches(
        self,
        columns: Sequence[str] | None = None,
        *,
        where: pc.Expression | None = None,
        batch_size: int = 1_000_000,
    ) -> Iterator[pa.RecordBatch]:
        """Yield the log's rows in record batches, in no particular order: memory stays flat."""
        self.refresh()
        yield from self._storage.batches(columns, where, batch_size)

    def read_files(
        self, columns: Sequence[str] | None = None, *, where: pc.Expression | None = None
    ) -> Iterator[pa.Table]:
        """Yield the log's rows one data file at a time, in no particular order.

        Only one file is read ahead, so a slow consumer holds a few files in memory at most.
        """
        self.refresh()
        yield from self._storage.files(columns, where)

    def dataset(self, version: int | None = None) -> pa_ds.Dataset:
        """Return the log (at Delta `version`, default the latest) as a lazy Arrow dataset.

        It holds exactly the data files the Delta log lists, never a folder's every file
        (after a compaction the folder holds each event twice until vacuum). Engines that
        take Arrow datasets (DuckDB, Polars, Arrow itself) scan it with filter and column
        pushdown; rows come in no particular order (sort by `position`).
        """
        if version is None:
            self.refresh()
        return self._storage.dataset(version)

    def events(self, *, since: int = 0, until: int | None = None) -> list[Event]:
        """Return the decoded events in positions `since` <= p < `until`."""
        return from_table(self.read(since=since, until=until))

    def stream_version(self, stream: str) -> int:
        """Return the version of one stream (0 when it has no events)."""
        sync_tail(self)
        return self._tail.streams.get(stream, 0)

    def resized_files(self) -> list[str]:
        """Return a line per data file whose size differs from what its commit recorded."""
        return self._storage.resized_files()

    def missing_commits(self) -> list[int]:
        """Return the Delta versions whose commit file is missing (local folders only)."""
        return self._storage.missing_commits()

    def changed(self) -> bool:
        """Return whether the log may hold commits this object has not seen yet.

        On a local folder this is one `stat` of the next Delta commit file; elsewhere it
        is always True and the caller refreshes. False inside a `pinned()` block.
        """
        if self._pins:
            return False
        return self._storage.has_commit(self._version + 1)

    def __len__(self) -> int:
        """Return the number of events in the log."""
        sync_tail(self)
        return self._tail.next_position

    def head(self) -> Head | None:
        """Return the head as this writer last saw it (None before the first event)."""
        tail = self._tail
        if tail.next_position == 0:
            return None
        return Head(
            position=tail.next_position - 1,
            hash=tail.last_hash,
            delta_version=tail.delta_version,
            recorded_at=recorded_text(tail.last_recorded_us),
        )

    def _scan(
        self,
        columns: Sequence[str] | None,
        *,
        since: int = 0,
        until: int | None = None,
        version: int | None = None,
        where: pc.Expression | None = None,
    ) -> pa.Table:
        wanted = pc.field("position") >= since
        if until is not None:
            wanted = wanted & (pc.field("position") < until)
        if where is not None:
            wanted = wanted & where
        return self._storage.scan(columns, wanted, version)

    # -- writing (`eventstore.log.appending`, `eventstore.log.table_append`) ------------

    def append(
        self,
        events: Iterable[Event],
        *,
        expected_versions: Mapping[str, int] | None = None,
        transaction: tuple[str, int] | None = None,
    ) -> Recorded:
        """Append `events` in one atomic commit; return them as recorded, in input order.

        An event already in the log (same deterministic id) is not appended again: its
        recorded form is returned. `expected_versions` maps a stream to the version it must
        have (0: no events yet); on a mismatch nothing is appended. `transaction` is a
        Delta app transaction (app id, sequence): a sequence already committed appends
        nothing, so a retry after an ambiguous failure commits at most once.
        """
        return append_events(
            self, events, expected_versions=expected_versions, transaction=transaction
        )

    def append_table(
        self,
        table: pa.Table,
        *,
        expected_versions: Mapping[str, int] | None = None,
        transaction: tuple[str, int] | None = None,
    ) -> AppendedTable:
        """Append events given as an Arrow table in one atomic commit, as `append` does.

        The table holds the log's columns without those the log assigns (see
        `eventstore.log.table_append`); a bad table raises and appends nothing.
        """
        return append_table(
            self, table, expected_versions=expected_versions, transaction=transaction
        )

    # -- maintenance ---------------------------------------------------------------------

    def compact(
        self, *, vacuum: bool = False, retention_hours: int | None = None
    ) -> CompactionReport:
        """Merge small files, checkpoint the Delta log and optionally vacuum; change no event.

        The vacuum deletes data files unreferenced for more than `retention_hours` (default:
        the table's retention, 7 days); see `CompactionReport` for what it says it did.
        """
        before = self.refresh()
        report = compact(self._storage, vacuum=vacuum, retention_hours=retention_hours)
        if self.on_commit is not None and report.version > before:
            sync_tail(self)
            announce(self, *range(before + 1, report.version + 1))
        return report


__all__ = ["AppendedTable", "CompactionReport", "EventLog", "Recorded"]
