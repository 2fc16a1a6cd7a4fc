"""Folds of what was known by an instant: the scratch stores of `known_at="row"`.

Each fold copies an instrument's events (those observed by the instant) under a label of
its own, so that many folds of one instrument live side by side in one scratch store, and
the copies are folded by the index's own vectorized fold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from projections.index.encoding import BUILD_COLUMNS, stream_events
from projections.index.fold_arrays import fold_versions
from projections.index.version_store import VersionStore
from projections.join.inputs import codes_in
from projections.join.pit_join import Match, candidates, last_at_or_before, pick_best, scores
from projections.knowledge import EVERYTHING

if TYPE_CHECKING:
    from projections.index.live import PitIndex
    from projections.join.per_row import Lateness


def micros(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Return instants as microseconds since the epoch."""
    return np.asarray(values.cast(pa.int64()).to_numpy(), dtype=np.int64)


def fold_at(
    index: PitIndex, late: Lateness, inst: np.ndarray, at: np.ndarray
) -> tuple[VersionStore, np.ndarray]:
    """Fold, for each pair (holder `inst`, instant `at`), the holder's events observed by the
    instant, each pair its own instrument (labelled by the pair's index) in a scratch
    store; return the store and each pair's row there at its instant (-1: none)."""
    scratch = VersionStore()
    if not len(inst):
        return scratch, np.empty(0, np.int64)
    rows, offsets, order = _streams(index, late, np.unique(inst))
    pair, event = candidates(offsets, order, inst)
    observed = micros(rows["observed_at"].combine_chunks().take(pa.array(event)))
    kept = observed <= at[pair]
    _fold_copies(scratch, rows, pair[kept], event[kept])
    labels = pa.array(np.arange(len(inst))).cast(pa.string())
    code = codes_in(labels, scratch.instruments.values)
    known = code >= 0
    first = np.where(known, scratch.first[np.maximum(code, 0)], 0)
    count = np.where(known, scratch.count[np.maximum(code, 0)], 0)
    return scratch, last_at_or_before(scratch.columns["valid_from"], first, first + count, at)


def fold_every_knowledge(
    index: PitIndex, late: Lateness, involved: np.ndarray
) -> tuple[VersionStore, np.ndarray]:
    """Fold each instrument in `involved` as known at each distinct `observed_at` of its
    events (every state of knowledge it went through) while one of its late intervals is
    open, each state its own instrument in a scratch store (labelled by its index); return
    the store and each state's instrument.

    A state whose span of knowledge [its observed_at, the next one) meets none of the
    instrument's late intervals answers no row that the fast answer does not: it is left out
    (a backfilled listing, late until it was first observed, needs no fold at all).
    """
    scratch = VersionStore()
    rows, offsets, order = _streams(index, late, involved)
    local = codes_in(rows["instrument_id"].combine_chunks(), late.ids)
    observed = micros(rows["observed_at"])
    states = _open_states(late, np.unique(np.column_stack([local, observed]), axis=0))
    pair, event = candidates(offsets, order, states[:, 0])
    kept = observed[event] <= states[pair, 1]
    _fold_copies(scratch, rows, pair[kept], event[kept])
    return scratch, states[:, 0]


def _open_states(late: Lateness, states: np.ndarray) -> np.ndarray:
    """Return the (instrument, observed_at) states, sorted, whose span meets a late interval
    of their instrument."""
    states = states.reshape(-1, 2)
    last = np.r_[states[1:, 0] != states[:-1, 0], True]
    until = np.where(last, np.iinfo(np.int64).max, np.r_[states[1:, 1], 0])
    inst = late.intervals.inst
    order = np.argsort(inst, kind="stable")
    offsets = np.searchsorted(inst[order], np.arange(len(late.ids) + 1)).astype(np.int64)
    state, interval = candidates(offsets, order, states[:, 0])
    meets = (late.intervals.start[interval] < until[state]) & (
        late.intervals.end[interval] > states[state, 1]
    )
    found: np.ndarray = states[np.unique(state[meets])]
    return found


def best_holders(
    scratch: VersionStore,
    late: Lateness,
    size: int,
    pair_row: np.ndarray,
    version: np.ndarray,
    inst: np.ndarray,
) -> Match:
    """Return, per row, the best of its pairs (scratch `version`, real instrument `inst`)."""
    real_ids = late.ids.take(pa.array(inst, pa.int64()))
    found = pick_best(scratch, size, pair_row, version, scores(scratch, version), real_ids.take)
    winners = found.pairs if found.pairs is not None else np.full(size, -1, dtype=np.int64)
    found.ids = real_ids.take(pa.array(winners, mask=winners < 0))
    return found


def _streams(
    index: PitIndex, late: Lateness, involved: np.ndarray
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Return the events of the `involved` instruments that `late` takes, and their CSR by
    local instrument code (offsets, event order)."""
    rows = index.log.read(
        list(BUILD_COLUMNS),
        until=index.position,
        where=pc.field("instrument_id").isin(late.ids.take(pa.array(involved))),
    )
    rows = late.known.admitted(rows)
    local = codes_in(rows["instrument_id"].combine_chunks(), late.ids)
    order = np.argsort(local, kind="stable")
    offsets = np.searchsorted(local[order], np.arange(len(late.ids) + 1)).astype(np.int64)
    return rows, offsets, order


def _fold_copies(
    scratch: VersionStore, rows: pa.Table, pair: np.ndarray, event: np.ndarray
) -> None:
    """Fold into `scratch` a copy of each `event` row as an event of pseudo-instrument `pair`."""
    copies = _relabel(rows.take(pa.array(event, pa.int64())), pa.array(pair).cast(pa.string()))
    if copies.num_rows:
        scratch.load_all(fold_versions(stream_events(copies, EVERYTHING, scratch)))


def _relabel(rows: pa.Table, label: pa.Array) -> pa.Table:
    """Make each copy its own stream: ids and retraction targets prefixed by the pair."""
    for name in ("event_id", "target"):
        prefixed = pc.binary_join_element_wise(label, rows[name].combine_chunks(), ":")
        rows = rows.set_column(rows.schema.get_field_index(name), name, prefixed)
    at = rows.schema.get_field_index("instrument_id")
    return rows.set_column(at, "instrument_id", label)
