"""The answer columns of a join: gathered from each row's version, across stores and threads.

A view is a main store (less the instruments it skips) and maybe an extra store; each row
takes the version that ranks highest among them. Large inputs are cut into one slice per
CPU: the slices are matched and gathered in threads (NumPy and Arrow release the GIL on
such arrays) and come back as chunks of the same columns, not copied together.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.schema import TIMESTAMP
from projections.index.fold_arrays import STORE_FIELDS
from projections.index.version_store import VersionStore
from projections.join.pit_join import CHUNK, NO_SCORE, Match, holders, match_store

if TYPE_CHECKING:
    from collections.abc import Sequence

    from projections.index.known_view import View

Columns = dict[str, pa.Array | pa.ChunkedArray]


@dataclass(frozen=True)
class Threads:
    """How a large join is cut into slices matched in threads."""

    #: Threads at most: one per CPU.
    most: int = os.cpu_count() or 1
    #: Below this many rows per thread, threads cost more than they save.
    rows_each: int = 500_000

    def workers(self, rows: int) -> int:
        """Return how many threads a join of `rows` rows uses."""
        return max(1, min(self.most, rows // self.rows_each))


#: The limits a catalog joins with unless told otherwise.
THREADS: Final = Threads()


def join_view(
    view: View,
    symbols: pa.Array,
    at: np.ndarray,
    valid: np.ndarray,
    fields: Sequence[str],
    threads: Threads = THREADS,
) -> Columns:
    """Return the answer columns of every row against `view`, in `threads` when it pays."""
    skip = np.fromiter(view.skip, dtype=np.int64, count=len(view.skip))
    stores = [(view.main, skip)] + ([(view.extra, None)] if view.extra is not None else [])
    for store, _ in stores:
        holders(store)  # built once, before the threads read it

    def part(begin: int, end: int) -> dict[str, pa.Array]:
        found = [
            match_store(
                store, symbols.slice(begin, end - begin), at[begin:end], valid[begin:end], s
            )
            for store, s in stores
        ]
        return combine(found, fields)

    size = len(at)
    workers = threads.workers(size)
    if workers == 1:
        return dict(part(0, size))
    bounds = np.linspace(0, size, workers + 1).astype(int).tolist()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(part, bounds[:-1], bounds[1:]))
    return {name: pa.chunked_array([p[name] for p in parts]) for name in parts[0]}


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
    for name in ("known_since", "recorded_since"):
        if name in fields:
            found[name] = _instants(c[name][at], nothing)
    return found


def _codes(matrix: np.ndarray, rows: np.ndarray, columns: list[int]) -> np.ndarray:
    """Return the codes of `columns` at `rows`, gathering whole rows a chunk at a time."""
    found = np.empty((len(rows), len(columns)), dtype=np.int32)
    for begin in range(0, len(rows), CHUNK):
        block = np.take(matrix, rows[begin : begin + CHUNK], axis=0)
        found[begin : begin + CHUNK] = block[:, columns]
    return found


def _blank() -> VersionStore:
    empty = VersionStore()
    return VersionStore.from_arrays(
        instruments=empty.instruments,
        dictionaries=empty.dictionaries,
        matrix=np.zeros((1, len(STORE_FIELDS)), dtype=np.int32),
        columns={name: np.zeros(1, dtype=v.dtype) for name, v in empty.columns.items()},
        n=1,
        directory=(empty.first, empty.count),
        holders=(empty.holder_offsets, empty.holder_insts),
    )


def _instants(micros: np.ndarray, missing: np.ndarray) -> pa.Array:
    return pa.array(micros, pa.int64(), mask=missing).cast(TIMESTAMP)
