"""What a writer must know of the log to plan an append, kept current incrementally.

The tail holds the next position, the last hash and `recorded_at`, every stream's version
and an index of event ids (for idempotent appends) without keeping the log in memory: ids
are indexed by their first 64 bits, and a hit is confirmed against the stored event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.errors import StreamVersionConflictError
from eventstore.model.events import GENESIS_HASH

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from eventstore.log.planner import Plan
    from eventstore.log.table_plan import TablePlan

#: Columns the tail needs from the log.
TAIL_COLUMNS = ("position", "event_id", "instrument_id", "stream_version", "recorded_at", "hash")
#: The value of each hex digit's byte (either case); 255 for any other byte.
HEX_VALUES = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    HEX_VALUES[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    HEX_VALUES[_c] = 10 + _i
_KEY_COLUMNS = np.r_[0:8, 9:13, 14:18]


def id_key(event_id: str) -> int:
    """Return the 64-bit index key of an event id (its first 16 hex digits)."""
    return int(event_id[:8] + event_id[9:13] + event_id[14:18], 16)


def id_keys(event_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Return the index keys of many event ids at once, vectorized."""
    ids = (
        pa.concat_arrays(event_ids.chunks) if isinstance(event_ids, pa.ChunkedArray) else event_ids
    )
    ids = ids.cast(pa.string())
    n = len(ids)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int32, count=n + 1, offset=ids.offset * 4)
    if not np.array_equal(np.diff(offsets), np.full(n, 36, dtype=np.int32)):
        return np.array([id_key(s) for s in ids.to_pylist()], dtype=np.uint64)
    data = np.frombuffer(ids.buffers()[2], dtype=np.uint8, count=36 * n, offset=int(offsets[0]))
    digits = HEX_VALUES[data.reshape(n, 36)[:, _KEY_COLUMNS]].astype(np.uint64)
    keys = np.zeros(n, dtype=np.uint64)
    for col in range(16):
        keys = (keys << np.uint64(4)) | digits[:, col]
    return keys


#: Ids recorded by this process wait in sorted chunks until there are this many, or a
#: quarter of the index, and are then merged into the index (which costs O(index)).
_MERGE_AT = 100_000


@dataclass
class LogTail:
    """The writer's view of the log at one Delta version."""

    delta_version: int = -1
    next_position: int = 0
    last_hash: str = GENESIS_HASH
    last_recorded_us: int = 0
    streams: dict[str, int] = field(default_factory=dict)
    _keys: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    _positions: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    _pending: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def recording_time(self, expected: Mapping[str, int], now_us: int) -> int:
        """Check the streams' `expected` versions against this tail (raise on a mismatch);
        return when an append planned now records its events, in microseconds.

        `recorded_at` never goes backwards along positions, whatever the writer's clock says.
        """
        conflicts = {
            stream: (want, self.streams.get(stream, 0))
            for stream, want in expected.items()
            if self.streams.get(stream, 0) != want
        }
        if conflicts:
            raise StreamVersionConflictError(conflicts)
        return max(now_us, self.last_recorded_us)

    def absorb(self, rows: pa.Table, delta_version: int) -> None:
        """Take in log rows past `next_position` (any order) committed up to `delta_version`."""
        self.delta_version = delta_version
        rows = rows.filter(pc.greater_equal(rows["position"], self.next_position))
        if rows.num_rows == 0:
            return
        last = int(np.argmax(rows["position"].to_numpy()))  # rows come in any order
        self.next_position = rows["position"][last].as_py() + 1
        self.last_hash = rows["hash"][last].as_py()
        recorded = pc.max(rows["recorded_at"].cast(pa.int64())).as_py()
        self.last_recorded_us = max(self.last_recorded_us, recorded)
        grouped = rows.group_by("instrument_id").aggregate([("stream_version", "max")])
        self.streams.update(
            zip(
                grouped["instrument_id"].to_pylist(),
                grouped["stream_version_max"].to_pylist(),
                strict=True,
            )
        )
        self._pending.append((id_keys(rows["event_id"]), rows["position"].to_numpy()))
        self._merge()

    def committed(self, plan: Plan | TablePlan) -> None:
        """Take in `plan`, which this process just committed as the next Delta version."""
        self.delta_version += 1
        self.next_position = plan.next_position
        self.last_hash = plan.last_hash
        self.last_recorded_us = plan.recorded_us
        positions = range(plan.first_position, plan.next_position)
        self.record(plan.new_keys, positions, plan.streams, plan.key_order)

    def record(
        self,
        keys: np.ndarray | list[int],
        positions: Sequence[int],
        streams: dict[str, int],
        order: np.ndarray | None = None,
    ) -> None:
        """Take in a batch this process just committed (`order` sorts `keys`, if known)."""
        found = np.asarray(keys, np.uint64), np.asarray(positions, np.int64)
        if order is None:
            self._pending.append(_sorted(*found))
        else:
            self._pending.append((found[0][order], found[1][order]))
        self.streams.update(streams)
        if sum(len(k) for k, _ in self._pending) >= max(_MERGE_AT, len(self._keys) // 4):
            self._merge()

    def maybe_stored(
        self, keys: np.ndarray | list[int], order: np.ndarray | None = None
    ) -> np.ndarray:
        """Return, per key, whether an event with that key may be stored (no false negatives).

        `order` is `np.argsort(keys)` when the caller has it already.
        """
        wanted = np.asarray(keys, dtype=np.uint64)
        if not len(self._keys) and not self._pending:
            return np.zeros(len(wanted), dtype=bool)
        # ascending queries walk each sorted index in order: far fewer cache misses
        order = np.argsort(wanted) if order is None else order
        ordered = wanted[order]
        found = np.zeros(len(wanted), dtype=bool)
        for index in (self._keys, *(k for k, _ in self._pending)):
            if len(index):
                at = np.minimum(np.searchsorted(index, ordered), len(index) - 1)
                found |= index[at] == ordered
        hits = np.empty_like(found)
        hits[order] = found
        return hits

    def candidates(self, key: int) -> list[int]:
        """Return positions of stored events whose id shares `key` (usually none or one)."""
        wanted = np.uint64(key)
        lo = int(np.searchsorted(self._keys, wanted, side="left"))
        hi = int(np.searchsorted(self._keys, wanted, side="right"))
        found = self._positions[lo:hi].tolist()
        for keys, positions in self._pending:
            lo = int(np.searchsorted(keys, wanted, side="left"))
            hi = int(np.searchsorted(keys, wanted, side="right"))
            found.extend(positions[lo:hi].tolist())
        return [int(p) for p in found]

    def ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the whole id index: keys sorted, and the position of each (merged first)."""
        self._merge()
        return self._keys, self._positions

    def restore_ids(self, keys: np.ndarray, positions: np.ndarray) -> None:
        """Replace the id index by `keys` (sorted) and their `positions`, as `ids` gave them."""
        self._keys, self._positions, self._pending = keys, positions, []

    def _merge(self) -> None:
        """Merge the pending ids into the sorted index: O(index) copying, no full sort."""
        if not self._pending:
            return
        keys, positions = _sorted(
            np.concatenate([k for k, _ in self._pending]),
            np.concatenate([p for _, p in self._pending]).astype(np.int64),
        )
        self._pending = []
        at = np.searchsorted(self._keys, keys)
        self._keys = np.insert(self._keys, at, keys)
        self._positions = np.insert(self._positions, at, positions)


def _sorted(keys: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return `keys` sorted, and `positions` in the same order."""
    order = np.argsort(keys, kind="stable")
    return keys[order], positions[order]
