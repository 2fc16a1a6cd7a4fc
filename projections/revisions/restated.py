"""The two folds of a revisions query, restated from the index: no log is read.

The fold is causal in effective time: an instrument's version from `t` on depends only on
its events effective at or after `t` and on its state just before `t`. What K1 or K2 knows
differs from what the index folded (everything) only by the events observed after it (on
the window's basis) and by the targets of retractions observed after it; so from the
earliest effective time of those (`Scope.since`, per instrument) on, the index's version
just before it is the state both folds start from. Each fold is then the pure fold of that
state restated (`restate.as_snapshots`) and of the events K admits from there on, less
those K sees withdrawn, with K's markers of withdrawal, all read from the index's
`EventTable`: what `encoding.stream_events` does for one knowledge from the log, for an
instrument's tail of events only. Rows of the two folds are compared from there on;
before, they are equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from projections.index.fold_arrays import (
    STORE_FIELDS,
    WITHDRAWN,
    EventArrays,
    Setters,
    VersionArrays,
    fold_versions,
)
from projections.index.restate import as_snapshots

if TYPE_CHECKING:
    from projections.index.event_table import EventTable
    from projections.index.version_store import VersionStore
    from projections.revisions.window import Window

_NEVER: Final = np.iinfo(np.int64).max


@dataclass
class Scope:
    """The instruments with news in a window, and the events their two folds restate."""

    insts: np.ndarray  # int64 codes, sorted: the instruments with news in the window
    since: np.ndarray  # int64 per instrument: where the folds may first differ from the index
    rows: np.ndarray  # int64 event rows (increasing) of those instruments from `since` on
    retractions: np.ndarray  # int64 retraction rows whose targets are among `rows`
    events_basis: np.ndarray  # int64 per row of `rows`: its observed_at or recorded_at
    retractions_basis: np.ndarray  # int64 per retraction of `retractions`: the same
    targets: np.ndarray  # int64 per retraction of `retractions`: its target's index in `rows`

    @classmethod
    def of(cls, table: EventTable, window: Window, size: int) -> Scope | None:
        """Return the scope of `window` over `table` (instrument codes below `size`), or
        None when no event is news."""
        events, retractions = table.events, table.retractions
        column = "obs" if window.basis == "observed" else "rec"
        basis_e, basis_r = events[column], retractions[column]
        late_e = np.flatnonzero(basis_e > window.since_us)
        late_r = np.flatnonzero(basis_r > window.since_us)
        news_e, news_r = late_e, late_r
        if window.until_us is not None:
            news_e = late_e[basis_e[late_e] <= window.until_us]
            news_r = late_r[basis_r[late_r] <= window.until_us]
        insts = np.unique(np.concatenate([events["inst"][news_e], retractions["inst"][news_r]]))
        if not len(insts):
            return None
        inst, eff = events["inst"], events["eff"]
        earliest = np.full(size, _NEVER, dtype=np.int64)
        targets = retractions["target"][late_r]
        np.minimum.at(earliest, inst[late_e], eff[late_e])
        np.minimum.at(earliest, inst[targets], eff[targets])
        bound = np.full(size, _NEVER, dtype=np.int64)
        bound[insts] = earliest[insts]
        rows = np.flatnonzero(eff >= bound[inst])
        target = retractions["target"]
        mine = np.flatnonzero(eff[target] >= bound[retractions["inst"]])
        return cls(
            insts=insts.astype(np.int64),
            since=bound[insts],
            rows=rows,
            retractions=mine,
            events_basis=basis_e[rows],
            retractions_basis=basis_r[mine],
            targets=np.searchsorted(rows, target[mine]),
        )

    def admitted(self, bound: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Return, per row and per retraction, whether knowledge up to `bound` admits it."""
        if bound is None:
            return np.ones(len(self.rows), bool), np.ones(len(self.retractions), bool)
        return self.events_basis <= bound, self.retractions_basis <= bound

    def withdrawn(self, retractions: np.ndarray) -> np.ndarray:
        """Return, per row, whether one of the retractions flagged in `retractions` targets
        it."""
        found = np.zeros(len(self.rows), dtype=bool)
        found[self.targets[retractions]] = True
        return found


def fold_at(
    store: VersionStore, table: EventTable, scope: Scope, bound: int | None
) -> VersionArrays:
    """Return the versions of the scope's instruments from `scope.since` on (and the one
    just before), as knowledge up to `bound` (None: everything) folds them."""
    events_in, retractions_in = scope.admitted(bound)
    kept = events_in & ~scope.withdrawn(retractions_in)
    parts = [table.select(scope.rows[kept])]
    # a marker per retraction K admits, of a target K admits (`encoding.withdrawals`)
    marked = np.flatnonzero(retractions_in & events_in[scope.targets])
    if len(marked):
        parts.append(_markers(table, scope, marked))
    before = store.rows_before(scope.insts, scope.since)
    known = before[before >= 0]
    if len(known):
        parts.insert(0, as_snapshots(store, known))
    return fold_versions(EventArrays.concat(parts))


def _markers(table: EventTable, scope: Scope, marked: np.ndarray) -> EventArrays:
    """Return the withdrawal markers of the scope's retractions `marked`."""
    retractions = scope.retractions[marked]
    target = scope.rows[scope.targets[marked]]
    r, e = table.retractions, table.events
    size = len(marked)
    return EventArrays(
        inst=r["inst"][retractions],
        eff=e["eff"][target],
        pos=e["pos"][target],
        obs=r["obs"][retractions],
        rec=r["rec"][retractions],
        kind=np.full(size, WITHDRAWN, dtype=np.int8),
        active=np.zeros(size, dtype=bool),
        setters={name: Setters.empty() for name in STORE_FIELDS},
    )


def earlier_codes(store: VersionStore, scope: Scope, field: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (instrument code, value code of `field`) of every stored version of the
    scope's instruments that starts before `scope.since`: what both folds share."""
    first, count = store.first[scope.insts], store.count[scope.insts]
    starts = np.repeat(first - np.cumsum(count) + count, count)
    rows = np.arange(int(count.sum()), dtype=np.int64) + starts
    owner = np.repeat(np.arange(len(scope.insts)), count)
    early = store.columns["valid_from"][rows] < scope.since[owner]
    column = STORE_FIELDS.index(field)
    return scope.insts[owner[early]], store.matrix[rows[early], column]


__all__ = ["Scope", "earlier_codes", "fold_at"]
