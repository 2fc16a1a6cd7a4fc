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

from eventstore.codec import TIMESTAMP
from projections.bars import codes_in
from projections.builder import STORE_FIELDS

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from projections.store import VersionStore

#: Added to an active version's score, so any active one outranks any inactive one.
_ACTIVE_BONUS: Final = np.int64(1) << np.int64(62)
NO_SCORE: Final = np.iinfo(np.int64).min
#: Fields a join can add besides `instrument_id`, `active` and `valid_from`.
JOIN_FIELDS: Final = (*STORE_FIELDS[1:], "known_since")


@dataclass
class Match:
    """Per row: the store row of the version that answers it (-1: none), and its rank."""

    store: VersionStore
    rows: np.ndarray  # int64
    score: np.ndarray  # int64, NO_SCORE where there is no version
    pairs: np.ndarray  # int64: the winning candidate pair of each row, -1 where none
    ids: pa.Array | None = None  # the instrument ids, when the store's own are not the real ones


def last_at_or_before(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """Return per query the last index in [lo, hi) whose value is <= at (-1: none).

    `values` is sorted within each range; every query's binary search advances together.
    """
    start = lo.astype(np.int64)
    lo, hi = start.copy(), hi.astype(np.int64)
    pending = np.flatnonzero(lo < hi)
    while len(pending):
        low, high = lo[pending], hi[pending]
        mid = (low + high) >> 1
        right = values[mid] <= at[pending]
        low = np.where(right, mid + 1, low)
        high = np.where(right, high, mid)
        lo[pending], hi[pending] = low, high
        pending = pending[low < high]
    found = lo - 1
    found[found < start] = -1
    return found


def _holders(store: VersionStore) -> tuple[np.ndarray, np.ndarray]:
    """Return the per-symbol holders as CSR arrays, folding in the recently replaced ones."""
    offsets, insts = store.holder_offsets, store.holder_insts
    if not store.recent_holders:
        return offsets, insts
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
    if len(counts) and bool((counts == 1).all()):  # one holder each: no expansion
        return rows, members[begin]
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
    size = len(at)
    codes = codes_in(symbols, store.dictionaries["symbol"].values)
    codes[~valid] = -1
    pair_row, inst = candidates(*_holders(store), codes)
    if skip is not None and len(skip):
        keep = ~np.isin(inst, skip)
        pair_row, inst = pair_row[keep], inst[keep]
    first = store.first[inst]
    version = last_at_or_before(
        store.columns["valid_from"], first, first + store.count[inst], at[pair_row]
    )
    held = version >= 0
    held[held] = store.matrix[version[held], 0] == codes[pair_row[held]]
    pair_row, version = pair_row[held], version[held]
    score = store.columns["valid_from"][version] + np.where(
        store.columns["active"][version], _ACTIVE_BONUS, 0
    )

    def ids_of(pairs: np.ndarray) -> pa.Array:
        return store.instruments.values.take(pa.array(store.columns["inst"][version[pairs]]))

    return pick_best(store, size, pair_row, version, score, ids_of)


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
    best = np.full(size, NO_SCORE, dtype=np.int64)
    pairs = np.full(size, -1, dtype=np.int64)
    if not len(pair_row):
        return Match(store, rows, best, pairs)
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
    best[pair_row[winners]] = score[winners]
    pairs[pair_row[winners]] = winners
    return Match(store, rows, best, pairs)


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
    for k in range(1, len(matches)):
        current = np.choose(winner, [m.score for m in matches])
        ahead = matches[k].score > current
        tied = (matches[k].score == current) & (current != NO_SCORE)
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
    missing = rows < 0
    at = np.where(missing, 0, rows) if store.n else np.zeros(len(rows), dtype=np.int64)
    nothing = missing if store.n else np.ones(len(rows), dtype=bool)
    c = store.columns
    found: dict[str, pa.Array] = {}
    inst = c["inst"][at] if store.n else np.zeros(len(rows), dtype=np.int32)
    found["instrument_id"] = (
        match.ids if match.ids is not None else _take(store.instruments.values, inst, nothing)
    )
    found["active"] = pa.array(~nothing & (c["active"][at] if store.n else False))
    found["valid_from"] = _instants(c["valid_from"], at, nothing, store.n)
    width = store.matrix.shape[1]
    flat = store.matrix.reshape(-1)
    for name in fields:
        if name == "known_since":
            found[name] = _instants(c["known_since"], at, nothing, store.n)
            continue
        codes = (
            flat[at * width + STORE_FIELDS.index(name)] if store.n else np.zeros(len(at), np.int32)
        )
        found[name] = store.dictionaries[name].values.take(pa.array(np.where(nothing, 0, codes)))
    return found


def _take(values: pa.Array, codes: np.ndarray, missing: np.ndarray) -> pa.Array:
    return values.take(pa.array(codes, mask=missing))


def _instants(column: np.ndarray, at: np.ndarray, missing: np.ndarray, n: int) -> pa.Array:
    micros = column[at] if n else np.zeros(len(at), dtype=np.int64)
    return pa.array(micros, pa.int64(), mask=missing).cast(TIMESTAMP)
