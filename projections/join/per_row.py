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
from projections.index.encoding import EXCHANGE_KINDS
from projections.index.fold_arrays import running_max_by_group
from projections.index.holders import holder_groups
from projections.join.inputs import codes_in
from projections.join.known_folds import best_holders, fold_at, micros
from projections.join.pit_join import Match, candidates, last_at_or_before
from projections.knowledge import Knowledge

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
    intervals: Intervals  # the late intervals of each instrument
    #: What `projections.names` derived for names in other schemes (kept with the rest).
    names: object | None = None

    def strict_rows(self, symbols: pa.Array, at: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Return the rows whose instant falls inside a late interval of their symbol."""
        codes = codes_in(symbols, self.symbols)
        codes[~valid] = -1
        return rows_inside(codes, at, self.late_offsets, self.late_from, self.late_until)


@dataclass(frozen=True)
class Intervals:
    """Late intervals [start, end) by local instrument code (not sorted)."""

    inst: np.ndarray
    start: np.ndarray
    end: np.ndarray

    def by_key(
        self, offsets: np.ndarray, holders: np.ndarray, size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return per key of the CSR (`offsets`, `holders`) its holders' late intervals."""
        return _per_symbol(offsets, holders, self.inst, self.start, self.end, size)


def rows_inside(
    codes: np.ndarray, at: np.ndarray, offsets: np.ndarray, start: np.ndarray, until: np.ndarray
) -> np.ndarray:
    """Return the rows (code >= 0) whose instant falls inside a late interval of their code
    (per code, the intervals from `offsets` sorted by `start`, `until` a running maximum)."""
    rows = np.flatnonzero(codes >= 0)
    code = codes[rows]
    found = last_at_or_before(start, offsets[code], offsets[code + 1], at[rows])
    inside = found >= 0
    inside[inside] = until[found[inside]] > at[rows[inside]]
    return rows[inside]


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
    eff, obs = micros(events["effective_at"]), micros(events["observed_at"])
    retraction = np.asarray(pc.equal(events["kind"], RETRACTION).to_numpy(False), bool)
    late = ~retraction & (obs > eff)
    withdrawing, withdrawn_at = _withdrawn(index, events, np.flatnonzero(retraction))
    i_inst = np.r_[inst[late], inst[withdrawing]]
    i_from = np.r_[eff[late], withdrawn_at]
    i_until = np.r_[obs[late], obs[withdrawing]]
    kept = i_until > i_from
    symbols, offsets, holders = _holders(events, inst)
    intervals = Intervals(i_inst[kept], i_from[kept], i_until[kept])
    late_offsets, late_from, late_until = intervals.by_key(offsets, holders, len(ids))
    return Lateness(
        symbols, offsets, holders, ids, late_offsets, late_from, late_until, recorded, intervals
    )


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
    effective = micros(withdrawn["effective_at"].combine_chunks().take(pa.array(at[found])))
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
    codes = codes_in(symbols.take(pa.array(rows)), late.symbols)
    pair_u, inst = candidates(late.holder_offsets, late.holders, codes)
    pair_row = rows[pair_u]
    scratch, version = fold_at(index, late, inst, at[pair_row])
    wanted = codes_in(symbols.take(pa.array(pair_row)), scratch.dictionaries["symbol"].values)
    held = version >= 0
    held[held] = scratch.matrix[version[held], 0] == wanted[held]
    return best_holders(scratch, late, len(at), pair_row[held], version[held], inst[held])
