"""`View`: the index as known at one instant, answering get, universe and history.

The current view is the index itself. A view of the past (`known_at=K`, `recorded_by=R`)
reuses every instrument with no event observed after K or recorded after R, and refolds
only the others from the events observed by K and recorded by R (`past_view`): exact, and
as cheap as the amount of knowledge that came later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.schema import TIMESTAMP
from projections.index.encoding import BUILD_COLUMNS, EXCHANGE_KINDS, stream_events
from projections.index.fold_arrays import fold_versions
from projections.index.universe import Universes, coded_table
from projections.index.version_store import VersionStore
from projections.model import VERSION_SCHEMA, Instrument

if TYPE_CHECKING:
    from eventstore import EventLog
    from projections.knowledge import Knowledge


@dataclass
class View:
    """A main store, less the instruments in `skip`, plus an `extra` store that replaces them."""

    main: VersionStore
    skip: frozenset[int] = frozenset()
    extra: VersionStore | None = None
    _skip_array: np.ndarray = field(init=False)
    _universes: Universes | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._skip_array = np.fromiter(self.skip, dtype=np.int64, count=len(self.skip))

    def _parts(self) -> list[tuple[VersionStore, frozenset[int]]]:
        parts = [(self.main, self.skip)]
        if self.extra is not None:
            parts.append((self.extra, frozenset()))
        return parts

    def get(self, symbol: str, at: int) -> Instrument | None:
        """Return the holder of `symbol` at `at` (microseconds): active first, then latest."""
        best: Instrument | None = None
        for store, skip in self._parts():
            code = store.dictionaries["symbol"].code_of(symbol)
            if code is None:
                continue
            row = store.holder_row(code, at, skip)
            if row is None:
                continue
            found = store.instrument(row)
            if best is None or _rank(found) > _rank(best):
                best = found
        return best

    def universe(self, at: int, *, include_inactive: bool = False, coded: bool = False) -> pa.Table:
        """Return the versions valid at `at`: active instruments, or all that exist.

        `coded`: the stored fields dictionary-encoded over the store's own values (no copy).
        Answers are kept until the main store changes.
        """
        if self._universes is None or self._universes.store is not self.main:
            self._universes = Universes(self.main, self.extra)
        key = self._universes.key(at, include_inactive, coded)
        found = self._universes.get(key)
        if found is not None:
            return found
        parts: list[tuple[VersionStore, np.ndarray | None]] = [(self.main, self._skip_array)]
        if self.extra is not None:
            parts.append((self.extra, None))
        tables = [
            (coded_table if coded else VersionStore.table)(
                store, store.rows_at(at, include_inactive=include_inactive, skip=skip)
            )
            for store, skip in parts
        ]
        found = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        self._universes.put(key, found)
        return found

    def history_of(self, instrument_id: str) -> pa.Table | None:
        """Return every version of one instrument, or None if it has none."""
        for store, skip in self._parts():
            code = store.instruments.code_of(instrument_id)
            if code is not None and code not in skip:
                rows = store.instrument_rows(code)
                if len(rows):
                    return store.table(rows)
        return None

    def versions_before(self, instrument_ids: pa.Array, at: np.ndarray) -> pa.Table:
        """Return, per (instrument id, instant), the version valid just before the instant.

        A row of nulls where the instrument did not exist yet (or is unknown). Vectorized:
        one binary search per store over every pair at once.
        """
        parts, picks = [], np.full(len(at), -1, dtype=np.int64)
        offset = 0
        for store, skip in self._parts():
            codes = pc.index_in(instrument_ids, value_set=store.instruments.values)
            code = np.asarray(codes.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
            mine = (code >= 0) & ~np.isin(code, np.fromiter(skip, np.int64, len(skip)))
            rows = np.where(mine, store.rows_before(np.maximum(code, 0), at), -1)
            found = np.flatnonzero((rows >= 0) & (picks < 0))
            parts.append(store.table(rows[found]))
            picks[found] = offset + np.arange(len(found))
            offset += len(found)
        table = pa.concat_tables(parts) if parts else self.empty()
        return table.take(pa.array(picks, mask=picks < 0))

    def empty(self) -> pa.Table:
        """Return an empty table of the version schema."""
        return VERSION_SCHEMA.empty_table()


def _rank(found: Instrument) -> tuple[bool, object, str]:
    return found.active, found.valid_from, found.instrument_id


def past_view(log: EventLog, store: VersionStore, position: int, known: Knowledge) -> View:
    """Return the view of `store` (the log up to `position`) as `known` sees it."""
    # observed_at <= recorded_at: an event either bound excludes was recorded after the
    # lower of the two (the filter reads a column every log has; `later` is exact)
    bounds = [b for b in (known.observed_us, known.recorded_us) if b is not None]
    since = pc.field("recorded_at") > pa.scalar(min(bounds), pa.int64()).cast(TIMESTAMP)
    columns = ["instrument_id", "kind", "observed_at", "recorded_at"]
    touched = known.later(log.read(columns, until=position, where=since))
    touched = touched.filter(pc.invert(pc.is_in(touched["kind"], value_set=EXCHANGE_KINDS)))
    if not touched.num_rows:
        return View(store)
    ids = pc.unique(touched["instrument_id"].combine_chunks())
    rows = log.read(BUILD_COLUMNS, until=position, where=pc.field("instrument_id").isin(ids))
    extra = VersionStore()
    extra.load_all(fold_versions(stream_events(rows, known, extra)))
    codes = (store.instruments.code_of(s) for s in ids.to_pylist())
    return View(store, frozenset(c for c in codes if c is not None), extra)
