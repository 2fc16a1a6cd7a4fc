"""`revisions`: the answers that differ between knowledge K1 and K2, and why.

Only the instruments with news in the window can answer differently. Their events are read
once (every event, as `known_view.past_view` reads a late instrument's), folded twice by
the index's vectorized fold (as known at K1 and as known at K2, into one code space), and
the two folds compared field by field (`differences`); each differing row is then given
the kinds of the news that made it (`causes`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.schema import TIMESTAMP
from eventstore.model.events import exchange_stream
from projections.index.encoding import (
    BUILD_COLUMNS,
    INSTRUMENT_KINDS,
    RETRACTION_KINDS,
    encode_events,
    withdrawals,
)
from projections.index.fold_arrays import STORE_FIELDS, EventArrays, fold_versions
from projections.index.version_store import VersionStore
from projections.revisions.causes import attributed, cause_lists, classified
from projections.revisions.differences import differences
from projections.revisions.news import NEWS_KINDS, REVISION_FIELDS, learned
from projections.revisions.report import REVISION_SCHEMA, revision_table
from projections.revisions.window import RevisionsError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from eventstore import EventLog
    from projections.index.fold_arrays import VersionArrays
    from projections.revisions.window import Window


def wanted_fields(fields: str | Iterable[str] | None) -> np.ndarray:
    """Return the indices (into `REVISION_FIELDS`) of the fields asked for (None: all)."""
    if fields is None:
        return np.arange(len(REVISION_FIELDS))
    names = [fields] if isinstance(fields, str) else list(fields)
    unknown = [n for n in names if n not in REVISION_FIELDS]
    if unknown:
        raise RevisionsError(
            f"unknown field {unknown[0]!r}; the fields are {', '.join(REVISION_FIELDS)}"
        )
    return np.array(sorted({REVISION_FIELDS.index(n) for n in names}), dtype=np.int64)


def _news_streams(log: EventLog, position: int, window: Window) -> pa.Array:
    """Return the ids of the instruments with an event in the window (a superset of those
    whose answers differ)."""
    # observed_at <= recorded_at: whatever K1 does not admit was recorded after K1
    since = pc.field("recorded_at") > pa.scalar(window.since_us, pa.int64()).cast(TIMESTAMP)
    rows = log.read(["instrument_id", "kind", window.column], until=position, where=since)
    basis = rows[window.column].cast(TIMESTAMP).cast(pa.int64())
    keep = pc.and_(pc.greater(basis, window.since_us), pc.is_in(rows["kind"], value_set=NEWS_KINDS))
    if window.until_us is not None:
        keep = pc.and_(keep, pc.less_equal(basis, window.until_us))
    ids = pc.unique(rows["instrument_id"].filter(keep).combine_chunks())
    return ids.filter(pc.invert(pc.starts_with(ids, exchange_stream(""))))


def revisions(
    log: EventLog,
    position: int,
    window: Window,
    fields: str | Iterable[str] | None = None,
    exchange: str | None = None,
) -> pa.Table:
    """Return one row per (instrument, field, effective interval) whose answer as known at
    K1 differs from the answer as known at K2, reading the log up to `position`."""
    chosen = wanted_fields(fields)
    ids = _news_streams(log, position, window)
    if not len(ids):
        return REVISION_SCHEMA.empty_table()
    rows = log.read(BUILD_COLUMNS, until=position, where=pc.field("instrument_id").isin(ids))
    store = VersionStore()
    before, after = _both_folds(rows, window, store)
    news = learned(rows, window, store.instruments)
    del rows
    diffs = differences(before, after)
    keep = np.isin(diffs.field, chosen)
    if exchange is not None:
        keep &= np.isin(diffs.inst, _on_exchange(store, before, after, exchange))
    diffs = diffs.take(np.flatnonzero(keep))
    bits = attributed(diffs, news, classified(news, before, window.since_us))
    return revision_table(store, diffs, cause_lists(bits))


def _both_folds(
    rows: pa.Table, window: Window, store: VersionStore
) -> tuple[VersionArrays, VersionArrays]:
    """Return the versions of the streams in `rows` as known at K1 and at K2.

    What `encoding.stream_events` does for one knowledge, for two: the instrument events are
    encoded once, and each knowledge folds those it admits and does not see withdrawn, with
    its own retraction markers (`encoding.withdrawals`).
    """
    events = rows.filter(pc.is_in(rows["kind"], value_set=INSTRUMENT_KINDS))
    encoded = encode_events(events, store.instruments, store.dictionaries)
    retractions = rows.filter(pc.is_in(rows["kind"], value_set=RETRACTION_KINDS))
    ids = events["event_id"].combine_chunks()
    basis = np.asarray(
        events[window.column].cast(TIMESTAMP).cast(pa.int64()).to_numpy(), dtype=np.int64
    )
    folds = []
    for known, bound in ((window.before(), window.since_us), (window.after(), window.until_us)):
        targets = known.admitted(retractions)["target"].combine_chunks()
        withdrawn = np.asarray(pc.is_in(ids, value_set=targets).to_numpy(False), dtype=bool)
        admitted = np.ones(len(basis), dtype=bool) if bound is None else basis <= bound
        kept = encoded.take(np.flatnonzero(admitted & ~withdrawn))
        markers = withdrawals(rows, known, store.instruments)
        folds.append(
            fold_versions(kept if markers is None else EventArrays.concat([kept, markers]))
        )
    return folds[0], folds[1]


def _on_exchange(
    store: VersionStore, before: VersionArrays, after: VersionArrays, exchange: str
) -> np.ndarray:
    """Return the codes of the instruments with a version on `exchange` in either fold."""
    code = store.dictionaries["exchange"].code_of(exchange)
    if code is None:
        return np.empty(0, dtype=np.int32)
    column = STORE_FIELDS.index("exchange")
    found = [v.inst[v.matrix[:, column] == code] for v in (before, after)]
    return np.unique(np.concatenate(found))


__all__ = ["revisions", "wanted_fields"]
