"""The point-in-time join, vectorized over a `VersionStore`'s arrays.

Each row (symbol, instant T) is matched the way `View.get` matches one lookup, for all rows
at once: the row's symbol gives the instruments that ever held it (the store's per-symbol
holders), each candidate's version at T is found by a binary search within that
instrument's rows (all candidates step together, as arrays), a candidate counts if its
version at T holds the symbol, and the best counts: active first, then the latest
`valid_from`, then the greatest instrument id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from projections.index.fold_arrays import COLUMN_FIELDS
from projections.index.holders import holder_groups
from projections.join.inputs import codes_in

if TYPE_CHECKING:
    from collections.abc import Callable

    from projections.index.version_store import VersionStore

#: Added to an active version's score, so any active one outranks any inactive one.
_ACTIVE_BONUS: Final = np.int64(1) << np.int64(62)
NO_SCORE: Final = np.iinfo(np.int64).min
#: Fields a join can add besides `instrument_id`, `active` and `valid_from`.
JOIN_FIELDS: Final = (*COLUMN_FIELDS, "known_since", "recorded_since")


@dataclass
class Match:
    """Per row: the store row of the version that answers it (-1: none)."""

    store: VersionStore
    rows: np.ndarray  # int64
    pairs: np.ndarray | None = None  # the winning candidate pair of each row (-1: none)
    ids: pa.Array | None = None  # the instrument ids, when the store's own are not the real ones

    def score(self) -> np.ndarray:
        """Return each row's rank key: active first, then `valid_from` (NO_SCORE: none)."""
        return scores(self.store, self.rows)


def scores(store: VersionStore, rows: np.ndarray) -> np.ndarray:
    """Return the rank key of the versions at `rows` (NO_SCORE where a row is -1)."""
    found = rows >= 0
    at = np.where(found, rows, 0)
    if not store.n:
        return np.full(len(rows), NO_SCORE, dtype=np.int64)
    key = store.columns["valid_from"][at] + np.where(store.columns["active"][at], _ACTIVE_BONUS, 0)
    return np.where(found, key, NO_SCORE)


#: Queries searched together: their versions' cache lines stay warm between the steps.
CHUNK: Final = 1 << 15


def last_at_or_before(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """Return per query the last index in [lo, hi) whose value is <= at (-1: none).

    `values` is sorted within each range. Every query of a chunk takes the same power-of-two
    steps (no branches per query), a chunk at a time so the ranges it touches stay cached.
    """
    found = np.empty(len(lo), dtype=np.int64)
    last = len(values) - 1
    for begin in range(0, len(lo), CHUNK):
        low = lo[begin : begin + CHUNK].astype(np.int64)
        high = hi[begin : begin + CHUNK].astype(np.int64)
        when = at[begin : begin + CHUNK]
        position = low - 1
        widest = int((high - low).max()) if len(low) else 0
        step = 1 << max(widest.bit_length() - 1, 0) if widest else 0
        while step:
            probe = position + step
            ahead = (probe < high) & (values[np.minimum(probe, last)] <= when)
            position += step * ahead
            step >>= 1
        position[position < low] = -1
        found[begin : begin + CHUNK] = position
    return found


@dataclass
class Holders:
    """Who held each symbol code: CSR arrays, and for the symbols held by one instrument
    only (most), that instrument's range of rows. Arrays by code have one more entry, a
    blank one, so that code -1 (unknown) reads it."""

    generation: int
    offsets: np.ndarray
    members: np.ndarray
    single: np.ndarray  # int64 instrument code, -1 unless exactly one holder
    first: np.ndarray  # int64: the single holder's first row
    count: np.ndarray  # int64: its number of rows (0: no single holder)
    shared: np.ndarray  # bool: several holders, to be ranked


def holders(store: VersionStore) -> Holders:
    """Return the store's holders (kept on the store until it changes)."""
    cached = store.join_holders
    found = cached[1] if cached is not None and cached[0] == store.generation else None
    if not isinstance(found, Holders):
        offsets, members = (
            _merged_holders(store)
            if store.recent_holders
            else (store.holder_offsets, store.holder_insts)
        )
        per_symbol = np.append(np.diff(offsets), 0)
        single = np.full(len(per_symbol), -1, dtype=np.int64)
        alone = np.flatnonzero(per_symbol == 1)
        single[alone] = members[offsets[alone]]
        first = np.where(single >= 0, store.first[np.maximum(single, 0)], 0)
        count = np.where(single >= 0, store.count[np.maximum(single, 0)], 0)
        found = Holders(store.generation, offsets, members, single, first, count, per_symbol > 1)
        store.join_holders = (store.generation, found)
    return found


def _merged_holders(store: VersionStore) -> tuple[np.ndarray, np.ndarray]:
    """Return the CSR holders with the recently replaced instruments folded in."""
    offsets, insts = store.holder_offsets, store.holder_insts
    counts = np.diff(offsets)
    symbols = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    extra = [(s, i) for s, found in store.recent_holders.items() for i in found]
    more = np.array(extra, dtype=np.int64).reshape(-1, 2)
    return holder_groups(
        np.r_[symbols, more[:, 0]], np.r_[insts, more[:, 1]], len(store.dictionaries["symbol"])
    )


def candidates(
    offsets: np.ndarray, members: np.ndarray, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (row, member) pairs: each row with code >= 0 against its CSR group, row-ordered."""
    known = codes >= 0
    known[known] = codes[known] + 1 < len(offsets)
    rows = np.flatnonzero(known)
    begin = offsets[codes[rows]]
    counts = offsets[codes[rows] + 1] - begin
    total = int(counts.sum())
    pair_row = np.repeat(rows, counts)
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return pair_row, members[np.repeat(begin, counts) + within]


def match_store(
    store: VersionStore,
    symbols: pa.Array,
    at: np.ndarray,
    valid: np.ndarray,
    skip: np.ndarray | None = None,
) -> Match:
    """Match every row against one store, leaving out the instruments in `skip`."""
    known = holders(store)
    codes = codes_in(symbols, store.dictionaries["symbol"].values)
    codes[~valid | (codes >= len(known.single) - 1)] = -1
    # the common case: a symbol one instrument ever held; search its rows, nothing to rank
    first, count = known.first[codes], known.count[codes]
    if skip is not None and len(skip):
        count[np.isin(known.single[codes], skip)] = 0
    found = last_at_or_before(store.columns["valid_from"], first, first + count, at)
    held = found >= 0
    held[held] = store.matrix[found[held], 0] == codes[held]
    found[~held] = -1
    shared = np.flatnonzero(known.shared[codes])
    if len(shared):
        found[shared] = _ranked(store, known, codes[shared], at[shared], skip)
    return Match(store, found)


def _version_holding(
    store: VersionStore, inst: np.ndarray, at: np.ndarray, code: np.ndarray
) -> np.ndarray:
    """Return the version of each instrument at `at` if it holds symbol `code` then (-1: not)."""
    first = store.first[inst]
    version = last_at_or_before(store.columns["valid_from"], first, first + store.count[inst], at)
    held = version >= 0
    held[held] = store.matrix[version[held], 0] == code[held]
    return np.where(held, version, -1)


def _ranked(
    store: VersionStore, known: Holders, codes: np.ndarray, at: np.ndarray, skip: np.ndarray | None
) -> np.ndarray:
    """Return, for rows whose symbol had several holders, the best holder's version."""
    pair_row, inst = candidates(known.offsets, known.members, codes)
    if skip is not None and len(skip):
        kept = ~np.isin(inst, skip)
        pair_row, inst = pair_row[kept], inst[kept]
    version = _version_holding(store, inst, at[pair_row], codes[pair_row])
    held = version >= 0
    pair_row, version = pair_row[held], version[held]

    def ids_of(pairs: np.ndarray) -> pa.Array:
        return store.instruments.values.take(pa.array(store.columns["inst"][version[pairs]]))

    return pick_best(store, len(at), pair_row, version, scores(store, version), ids_of).rows


def pick_best(
    store: VersionStore,
    size: int,
    pair_row: np.ndarray,
    version: np.ndarray,
    score: np.ndarray,
    ids_of: Callable[[np.ndarray], pa.Array],
) -> Match:
    """Keep, per row, the pair of the highest score; equal scores go to the greatest id."""
    rows = np.full(size, -1, dtype=np.int64)
    pairs = np.full(size, -1, dtype=np.int64)
    if not len(pair_row):
        return Match(store, rows, pairs)
    starts = np.flatnonzero(np.r_[True, pair_row[1:] != pair_row[:-1]])
    top = np.maximum.reduceat(score, starts)
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(pair_row)]))
    is_top = score == top[group]
    chosen = np.flatnonzero(is_top)
    first_top = np.unique(group[chosen], return_index=True)[1]
    winners = chosen[first_top]
    if len(chosen) > len(winners):  # ties on (active, valid_from): the greatest id wins
        winners = _break_ties(group, chosen, ids_of)
    rows[pair_row[winners]] = version[winners]
    pairs[pair_row[winners]] = winners
    return Match(store, rows, pairs)


def _break_ties(
    group: np.ndarray, chosen: np.ndarray, ids_of: Callable[[np.ndarray], pa.Array]
) -> np.ndarray:
    tied = pa.table({"g": group[chosen], "id": ids_of(chosen)})
    ranked = pc.sort_indices(tied, sort_keys=[("g", "ascending"), ("id", "descending")])
    ordered = chosen[np.asarray(ranked.to_numpy())]
    groups = group[ordered]
    firsts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    return np.sort(ordered[firsts])
