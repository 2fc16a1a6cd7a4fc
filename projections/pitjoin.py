"""The point-in-time join, vectorized over a `VersionStore`'s arrays.

Each row (symbol, instant T) is matched the way `View.get` matches one lookup, for all rows
at once: the row's symbol gives the instruments that ever held it (the store's per-symbol
holders), each candidate's version at T is found by a binary search within that
instrument's rows (all candidates step together, as arrays), a candidate counts if its
version at T holds the symbol, and the best counts: active first, then the latest
`valid_from`, then the greatest instrument id.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.codec import TIMESTAMP
from projections.bars import codes_in
from projections.builder import STORE_FIELDS
from projections.store import VersionStore

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

#: Added to an active version's score, so any active one outranks any inactive one.
_ACTIVE_BONUS: Final = np.int64(1) << np.int64(62)
NO_SCORE: Final = np.iinfo(np.int64).min
#: Fields a join can add besides `instrument_id`, `active` and `valid_from`.
JOIN_FIELDS: Final = (*STORE_FIELDS[1:], "known_since")


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
_CHUNK: Final = 1 << 15


def last_at_or_before(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """Return per query the last index in [lo, hi) whose value is <= at (-1: none).

    `values` is sorted within each range. Every query of a chunk takes the same power-of-two
    steps (no branches per query), a chunk at a time so the ranges it touches stay cached.
    """
    found = np.empty(len(lo), dtype=np.int64)
    last = len(values) - 1
    for begin in range(0, len(lo), _CHUNK):
        low = lo[begin : begin + _CHUNK].astype(np.int64)
        high = hi[begin : begin + _CHUNK].astype(np.int64)
        when = at[begin : begin + _CHUNK]
        position = low - 1
        widest = int((high - low).max()) if len(low) else 0
        step = 1 << max(widest.bit_length() - 1, 0) if widest else 0
        while step:
            probe = position + step
            ahead = (probe < high) & (values[np.minimum(probe, last)] <= when)
            position += step * ahead
            step >>= 1
        position[position < low] = -1
        found[begin : begin + _CHUNK] = position
    return found


#: Per store: (generation, holder offsets, holders) with the recent holders folded in.
_MERGED: weakref.WeakKeyDictionary[VersionStore, tuple[int, np.ndarray, np.ndarray]] = (
    weakref.WeakKeyDictionary()
)


def _holders(store: VersionStore) -> tuple[np.ndarray, np.ndarray]:
    """Return the per-symbol holders as CSR arrays, folding in the recently replaced ones."""
    if not store.recent_holders:
        return store.holder_offsets, store.holder_insts
    cached = _MERGED.get(store)
    if cached is None or cached[0] != store.generation:
        cached = (store.generation, *_merged_holders(store))
        _MERGED[store] = cached
    return cached[1], cached[2]


def _merged_holders(store: VersionStore) -> tuple[np.ndarray, np.ndarray]:
    offsets, insts = store.holder_offsets, store.holder_insts
    counts = np.diff(offsets)
    symbols = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    extra = [(s, i) for s, found in store.recent_holders.items() for i in found]
    pairs = np.unique(
        np.r_[
            symbols << 32 | insts.astype(np.int64),
            np.array([s << 32 | i for s, i in extra], dtype=np.int64),
        ]
    )
    size = max(len(store.dictionaries["symbol"]), int(pairs[-1] >> 32) + 1)
    offsets = np.searchsorted(pairs >> 32, np.arange(size + 1)).astype(np.int64)
    return offsets, (pairs & 0xFFFFFFFF).astype(np.int32)


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
    codes = codes_in(symbols, store.dictionaries["symbol"].values)
    codes[~valid] = -1
    offsets, members = _holders(store)
    codes[codes + 1 >= len(offsets)] = -1
    counts = np.where(codes >= 0, offsets[codes + 1] - offsets[np.maximum(codes, 0)], 0)
    found = np.full(len(at), -1, dtype=np.int64)
    alone = np.flatnonzero(counts == 1)  # the common case: one holder ever, nothing to rank
    inst = members[offsets[codes[alone]]]
    if skip is not None and len(skip):
        kept = ~np.isin(inst, skip)
        alone, inst = alone[kept], inst[kept]
    version = _version_holding(store, inst, at[alone], codes[alone])
    found[alone] = version
    shared = np.flatnonzero(counts > 1)
    if not len(shared):
        return Match(store, found)
    found[shared] = _ranked(store, offsets, members, codes[shared], at[shared], skip)
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
    store: VersionStore,
    offsets: np.ndarray,
    members: np.ndarray,
    codes: np.ndarray,
    at: np.ndarray,
    skip: np.ndarray | None,
) -> np.ndarray:
    """Return, for rows whose symbol had several holders, the best holder's version."""
    pair_row, inst = candidates(offsets, members, codes)
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


def combine(matches: Sequence[Match], fields: Sequence[str]) -> dict[str, pa.Array]:
    """Return the answer columns, each row taken from the match that ranks it highest."""
    answers = [gather(m, fields) for m in matches]
    if len(matches) == 1:
        return answers[0]
    winner = np.zeros(len(matches[0].rows), dtype=np.int64)
    ranks = [m.score() for m in matches]
    for k in range(1, len(matches)):
        current = np.choose(winner, ranks)
        ahead = ranks[k] > current
        tied = (ranks[k] == current) & (current != NO_SCORE)
        if tied.any():
            theirs = answers[k]["instrument_id"].filter(pa.array(tied))
            ours = _chosen(answers, winner, "instrument_id").filter(pa.array(tied))
            ahead[tied] = np.asarray(pc.greater(theirs, ours).to_numpy(zero_copy_only=False))
        winner[ahead] = k
    return {name: _chosen(answers, winner, name) for name in answers[0]}


def _chosen(answers: list[dict[str, pa.Array]], winner: np.ndarray, name: str) -> pa.Array:
    found = answers[0][name]
    for k in range(1, len(answers)):
        found = pc.if_else(pa.array(winner == k), answers[k][name], found)
    return found


def gather(match: Match, fields: Sequence[str]) -> dict[str, pa.Array]:
    """Return `instrument_id`, `active`, `valid_from` and `fields` of each row's version."""
    store, rows = match.store, match.rows
    nothing = (rows < 0) if store.n else np.ones(len(rows), dtype=bool)
    at = np.where(nothing, 0, rows)
    if not store.n:  # an empty store: point every row at a blank version
        store = _blank()
    c = store.columns
    found: dict[str, pa.Array] = {}
    if match.ids is not None:
        found["instrument_id"] = match.ids
    else:
        found["instrument_id"] = store.instruments.values.take(
            pa.array(c["inst"][at], mask=nothing)
        )
    found["active"] = pa.array(~nothing & c["active"][at])
    found["valid_from"] = _instants(c["valid_from"][at], nothing)
    coded = [name for name in fields if name in STORE_FIELDS]
    codes = _codes(store.matrix, at, [STORE_FIELDS.index(name) for name in coded])
    codes[nothing] = 0  # code 0 is null
    for column, name in enumerate(coded):
        found[name] = store.dictionaries[name].values.take(pa.array(codes[:, column]))
    if "known_since" in fields:
        found["known_since"] = _instants(c["known_since"][at], nothing)
    return found


def _codes(matrix: np.ndarray, rows: np.ndarray, columns: list[int]) -> np.ndarray:
    """Return the codes of `columns` at `rows`, gathering whole rows a chunk at a time."""
    found = np.empty((len(rows), len(columns)), dtype=np.int32)
    for begin in range(0, len(rows), _CHUNK):
        block = np.take(matrix, rows[begin : begin + _CHUNK], axis=0)
        found[begin : begin + _CHUNK] = block[:, columns]
    return found


def _blank() -> VersionStore:
    blank = VersionStore()
    blank.columns = {name: np.zeros(1, dtype=v.dtype) for name, v in blank.columns.items()}
    blank.set_matrix(np.zeros((1, len(STORE_FIELDS)), dtype=np.int32))
    blank.n = 1
    return blank


def _instants(micros: np.ndarray, missing: np.ndarray) -> pa.Array:
    return pa.array(micros, pa.int64(), mask=missing).cast(TIMESTAMP)
