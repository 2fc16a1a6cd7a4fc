"""`known_at="row"`: each row sees only what had been observed by the row's own instant.

The answer at T known at T differs from the best-knowledge answer at T only where some
instrument that could hold the row's symbol has an event effective by T but observed after
T (a late event), or a retraction observed after T of an event effective by T. Those spans
are the late intervals [effective_at, observed_at). A row outside every late interval of
its symbol's possible holders takes the fast answer; a row inside one is answered by
folding, for each possible holder, exactly the events observed by the row's instant (all
such folds at once, each as its own pseudo-instrument), then resolving the holder as usual.
With `recorded_by=R`, events recorded after R take no part in any of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.model.events import InstrumentListed, InstrumentRenamed
from eventstore.model.kinds import RETRACTION
from projections.index.encoding import BUILD_COLUMNS, EXCHANGE_KINDS, stream_events
from projections.index.fold_arrays import fold_versions, running_max_by_group
from projections.index.holders import holder_groups
from projections.index.version_store import VersionStore
from projections.join.inputs import codes_in
from projections.join.pit_join import Match, candidates, last_at_or_before, pick_best, scores
from projections.knowledge import EVERYTHING, Knowledge

if TYPE_CHECKING:
    from projections.index.live import PitIndex

_COLUMNS: Final = (
    "kind",
    "instrument_id",
    "symbol",
    "new_symbol",
    "effective_at",
    "observed_at",
    "recorded_at",
    "target",
)


@dataclass
class Lateness:
    """Who may hold each symbol, and the late intervals of those holders, per symbol."""

    symbols: pa.Array  # the symbols any listing or rename ever gave
    holder_offsets: np.ndarray  # CSR by symbol code: local instrument codes
    holders: np.ndarray
    ids: pa.Array  # local instrument code -> instrument_id
    late_offsets: np.ndarray  # CSR by symbol code: late intervals sorted by start
    late_from: np.ndarray
    late_until: np.ndarray  # running maximum of the ends within each symbol
    known: Knowledge  # the events taken: those recorded by a `recorded_by`, if any

    def strict_rows(self, symbols: pa.Array, at: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Return the rows whose instant falls inside a late interval of their symbol."""
        codes = codes_in(symbols, self.symbols)
        codes[~valid] = -1
        rows = np.flatnonzero(codes >= 0)
        code = codes[rows]
        found = last_at_or_before(
            self.late_from, self.late_offsets[code], self.late_offsets[code + 1], at[rows]
        )
        inside = found >= 0
        inside[inside] = self.late_until[found[inside]] > at[rows[inside]]
        return rows[inside]


def _micros(values: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(values.cast(pa.int64()).to_numpy(), dtype=np.int64)


def lateness(index: PitIndex, known: Knowledge) -> Lateness:
    """Return the late intervals of the indexed log among the events recorded by `known`'s
    `recorded_by` (kept on the index until the log grows)."""
    recorded = Knowledge(recorded_us=known.recorded_us)
    cached = index.row_lateness
    key = (index.position, recorded)
    found = cached[1] if cached is not None and cached[0] == key else None
    if not isinstance(found, Lateness):
        found = _lateness(index, recorded)
        index.row_lateness = (key, found)
    return found


def _lateness(index: PitIndex, recorded: Knowledge) -> Lateness:
    """Read the instrument events of the indexed log and derive their late intervals."""
    events = recorded.admitted(index.log.read(list(_COLUMNS), until=index.position))
    events = events.filter(pc.invert(pc.is_in(events["kind"], value_set=EXCHANGE_KINDS)))
    ids = pc.unique(events["instrument_id"].combine_chunks())
    inst = codes_in(events["instrument_id"].combine_chunks(), ids)
    eff, obs = _micros(events["effective_at"]), _micros(events["observed_at"])
    retraction = np.asarray(pc.equal(events["kind"], RETRACTION).to_numpy(False), bool)
    late = ~retraction & (obs > eff)
    withdrawing, withdrawn_at = _withdrawn(index, events, np.flatnonzero(retraction))
    i_inst = np.r_[inst[late], inst[withdrawing]]
    i_from = np.r_[eff[late], withdrawn_at]
    i_until = np.r_[obs[late], obs[withdrawing]]
    kept = i_until > i_from
    symbols, offsets, holders = _holders(events, inst)
    late_offsets, late_from, late_until = _per_symbol(
        offsets, holders, i_inst[kept], i_from[kept], i_until[kept], len(ids)
    )
    return Lateness(symbols, offsets, holders, ids, late_offsets, late_from, late_until, recorded)


def _withdrawn(
    index: PitIndex, events: pa.Table, retractions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the retractions whose target is in the log, and each target's effective time.

    Only the targets' ids are read: reading every event id would double the read.
    """
    targets = events["target"].take(pa.array(retractions)).combine_chunks()
    if not len(targets):
        return retractions, np.empty(0, dtype=np.int64)
    withdrawn = index.log.read(
        ["event_id", "effective_at"],
        until=index.position,
        where=pc.field("event_id").isin(targets),
    )
    at = codes_in(targets, withdrawn["event_id"].combine_chunks())
    found = at >= 0
    effective = _micros(withdrawn["effective_at"].combine_chunks().take(pa.array(at[found])))
    return retractions[found], effective


def _holders(events: pa.Table, inst: np.ndarray) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Return the symbols listings and renames gave, and per symbol the instruments given it."""
    kind = events["kind"]
    given = pc.if_else(
        pc.equal(kind, InstrumentRenamed.__name__),
        events["new_symbol"],
        pc.if_else(
            pc.equal(kind, InstrumentListed.__name__),
            events["symbol"],
            pa.scalar(None, pa.string()),
        ),
    ).combine_chunks()
    symbols = pc.unique(given.drop_null())
    code = codes_in(given, symbols)
    known = code >= 0
    offsets, members = holder_groups(code[known], inst[known], len(symbols), np.int64)
    return symbols, offsets, members


def _per_symbol(
    offsets: np.ndarray,
    holders: np.ndarray,
    inst: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    n_inst: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return per symbol (CSR) the late intervals of its possible holders, by start."""
    order = np.argsort(inst, kind="stable")
    by_inst = np.searchsorted(inst[order], np.arange(n_inst + 1)).astype(np.int64)
    symbol_of = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    pair, interval = candidates(by_inst, order, holders)
    sym = symbol_of[pair]
    lo, hi = start[interval], end[interval]
    ranked = np.lexsort((lo, sym))
    sym, lo, hi = sym[ranked], lo[ranked], hi[ranked]
    late_offsets = np.searchsorted(sym, np.arange(len(offsets))).astype(np.int64)
    return late_offsets, lo, running_max_by_group(hi, sym) if len(hi) else hi


def strict_match(
    index: PitIndex, late: Lateness, symbols: pa.Array, at: np.ndarray, rows: np.ndarray
) -> Match:
    """Answer `rows` by folding each possible holder's events observed by the row's instant."""
    scratch = VersionStore()
    codes = codes_in(symbols.take(pa.array(rows)), late.symbols)
    pair_u, inst = candidates(late.holder_offsets, late.holders, codes)
    pair_row = rows[pair_u]
    if not len(pair_row):
        return pick_best(scratch, len(at), pair_row, pair_row, pair_row, late.ids.take)
    _fold_pairs(index, late, scratch, inst, at[pair_row])
    labels = pa.array(np.arange(len(pair_row))).cast(pa.string())
    code = codes_in(labels, scratch.instruments.values)
    known = code >= 0
    first = np.where(known, scratch.first[np.maximum(code, 0)], 0)
    count = np.where(known, scratch.count[np.maximum(code, 0)], 0)
    version = last_at_or_before(scratch.columns["valid_from"], first, first + count, at[pair_row])
    wanted = codes_in(symbols.take(pa.array(pair_row)), scratch.dictionaries["symbol"].values)
    held = version >= 0
    held[held] = scratch.matrix[version[held], 0] == wanted[held]
    pair_row, version, inst = pair_row[held], version[held], inst[held]
    real_ids = late.ids.take(pa.array(inst))
    found = pick_best(scratch, len(at), pair_row, version, scores(scratch, version), real_ids.take)
    winners = found.pairs if found.pairs is not None else np.full(len(at), -1, dtype=np.int64)
    found.ids = real_ids.take(pa.array(winners, mask=winners < 0))
    return found


def _fold_pairs(
    index: PitIndex, late: Lateness, scratch: VersionStore, inst: np.ndarray, at: np.ndarray
) -> None:
    """Fold, for each (holder, instant) pair, the holder's events observed by the instant."""
    involved = np.unique(inst)
    rows = index.log.read(
        list(BUILD_COLUMNS),
        until=index.position,
        where=pc.field("instrument_id").isin(late.ids.take(pa.array(involved))),
    )
    rows = late.known.admitted(rows)
    local = codes_in(rows["instrument_id"].combine_chunks(), late.ids)
    order = np.argsort(local, kind="stable")
    offsets = np.searchsorted(local[order], np.arange(len(late.ids) + 1)).astype(np.int64)
    pair, event = candidates(offsets, order, inst)
    observed = _micros(rows["observed_at"].combine_chunks().take(pa.array(event)))
    kept = observed <= at[pair]
    pair, event = pair[kept], event[kept]
    copies = rows.take(pa.array(event))
    label = pa.array(pair).cast(pa.string())
    copies = _relabel(copies, label)
    if copies.num_rows:
        scratch.load_all(fold_versions(stream_events(copies, EVERYTHING, scratch)))


def _relabel(rows: pa.Table, label: pa.Array) -> pa.Table:
    """Make each copy its own stream: ids and retraction targets prefixed by the pair."""
    for name in ("event_id", "target"):
        prefixed = pc.binary_join_element_wise(label, rows[name].combine_chunks(), ":")
        rows = rows.set_column(rows.schema.get_field_index(name), name, prefixed)
    at = rows.schema.get_field_index("instrument_id")
    return rows.set_column(at, "instrument_id", label)
