"""Plan the append of a checked table of events: repeats, stream versions, the hash chain.

The columnar twin of `eventstore.log.planner`, with the same rules decided column by
column: an input whose id the log holds, or that repeats an earlier input, is not
appended again; stream versions count on from the writer's tail; a stream's first event
must open it; a retraction withdraws an earlier event of its own stream (the stored
targets read at once, then checked one by one). The chain is hashed once per row, over the
same text the planner hashes (`hashing.link_texts`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.codec import rfc3339
from eventstore.encoding.json_text import join, rfc3339_column, scalar, whole
from eventstore.encoding.schema import TIMESTAMP
from eventstore.errors import InvalidEventError, UnknownStreamError
from eventstore.log.table_chain import ChainedRows, Linked
from eventstore.log.tail import LogTail, id_key
from eventstore.log.targets import target_positions
from eventstore.model.events import EventRetracted
from eventstore.model.instants import from_micros
from eventstore.model.kinds import KINDS, code_of

if TYPE_CHECKING:
    from eventstore.encoding.given_table import GivenEvents

#: Reads the `event_id instrument_id kind` of stored events at some positions.
StoredRows = Callable[[Sequence[int]], pa.Table]
_RETRACTED: Final = code_of(EventRetracted)
_OPENS: Final = np.asarray([kind.opens_stream for kind in KINDS])


@dataclass(frozen=True)
class TablePlan:
    """A table append ready to commit: the new rows in position order (chained as they are
    written), and the new tail."""

    chain: ChainedRows
    new_keys: np.ndarray
    streams: dict[str, int]
    first_position: int
    next_position: int
    recorded_us: int
    repeated: int  # inputs not appended: already in the log, or repeating an earlier input
    key_order: np.ndarray | None = None  # `np.argsort(new_keys)`, when known

    @property
    def size(self) -> int:
        """Return how many events the plan appends."""
        return self.chain.size

    @property
    def last_hash(self) -> str:
        """Return the link of the last new row (the tail's, with none), once chained."""
        return self.chain.last_hash if self.size else self.chain.prev_hash

    @property
    def rows(self) -> pa.Table:
        """Return the new rows with their links."""
        return self.chain.table()


def plan_table(
    given: GivenEvents,
    tail: LogTail,
    expected: Mapping[str, int],
    now_us: int,
    stored: StoredRows,
) -> TablePlan:
    """Return the plan for appending `given` after `tail`, or raise without side effects."""
    recorded_us = tail.recording_time(expected, now_us)
    _check_observed(given.rows, recorded_us)
    fresh, order = _new_inputs(given, tail, stored)
    new = np.flatnonzero(fresh)
    every = len(new) == given.rows.num_rows
    rows = given.rows if every else given.rows.take(pa.array(new))
    kinds = given.kinds if every else given.kinds[new]
    versions, streams = _versions(whole(rows["instrument_id"]), kinds, tail)
    ids = given.ids if every else given.ids.take(pa.array(new))
    if (kinds == _RETRACTED).any():
        _check_targets(rows, kinds, ids, tail, stored)
    first = tail.next_position
    recorded_text = rfc3339(from_micros(recorded_us))
    linked = Linked(
        ids,
        first,
        recorded_text,
        pa.array(versions),
        given.payloads if every else given.payloads.take(pa.array(new)),
        _observed_lines(whole(rows["observed_at"]), recorded_text),
    )
    size = len(new)
    recorded = pa.array(np.full(size, recorded_us, np.int64)).view(TIMESTAMP)
    columns = {name: whole(rows[name]) for name in rows.column_names}
    columns.update(
        position=pa.array(np.arange(first, first + size, dtype=np.int64)),
        event_id=ids,
        recorded_at=recorded,
        stream_version=linked.versions,
        observed_at=pc.coalesce(columns["observed_at"], recorded),
    )
    return TablePlan(
        chain=ChainedRows(columns, linked, tail.last_hash),
        new_keys=given.keys[new],
        key_order=order if every else None,
        streams=streams,
        first_position=first,
        next_position=first + size,
        recorded_us=recorded_us,
        repeated=given.rows.num_rows - size,
    )


def _check_observed(rows: pa.Table, recorded_us: int) -> None:
    """Refuse the table if a row says it was observed after the log would record it."""
    observed = rows["observed_at"].cast(pa.int64())
    late = pc.greater(observed, recorded_us).fill_null(False)
    if pc.any(late).as_py():
        row = int(np.flatnonzero(late.to_numpy(zero_copy_only=False))[0])
        at = rfc3339(from_micros(observed[row].as_py()))
        raise InvalidEventError(
            f"row {row}: {at} is after the time the log records it "
            f"({rfc3339(from_micros(recorded_us))}): a fact cannot be known from its source "
            "before it was observed; nothing was appended",
            field="observed_at",
        )


def _new_inputs(
    given: GivenEvents, tail: LogTail, stored: StoredRows
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per input, whether it is new (not in the log, not repeating an earlier
    input), and the order that sorts the inputs' keys."""
    column = given.ids
    size = len(column)
    order = np.argsort(given.keys, kind="stable")  # once: for the repeats and the tail
    ordered = given.keys[order]
    new = np.ones(size, bool)
    if (ordered[1:] == ordered[:-1]).any():  # a repeat, or (rarely) ids sharing a key
        first = pc.index_in(column, value_set=column).to_numpy(zero_copy_only=False)
        new = np.asarray(first, np.int64) == np.arange(size)
    hits = np.flatnonzero(tail.maybe_stored(given.keys, order) & new)
    if len(hits):
        texts = column.take(pa.array(hits)).to_pylist()
        positions = sorted({p for text in texts for p in tail.candidates(id_key(text))})
        found = set(stored(positions)["event_id"].to_pylist()) if positions else set()
        for row, text in zip(hits.tolist(), texts, strict=True):
            if text in found:
                new[row] = False
    return new, order


def _versions(
    instruments: pa.Array, kinds: np.ndarray, tail: LogTail
) -> tuple[np.ndarray, dict[str, int]]:
    """Return each new row's stream version, and each stream's version after the table."""
    encoded = pc.dictionary_encode(instruments)
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), np.int64)
    names: list[str] = encoded.dictionary.to_pylist()
    known = tail.streams.get
    base = np.fromiter((known(name, 0) for name in names), np.int64, len(names))
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(names))
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    rank = np.empty(len(codes), np.int64)
    rank[order] = np.arange(len(codes)) - starts
    versions = base[codes] + rank + 1
    unopened = (versions == 1) & ~_OPENS[kinds]
    if unopened.any():
        raise UnknownStreamError("instrument", names[codes[int(np.flatnonzero(unopened)[0])]])
    after = base + counts
    return versions, dict(zip(names, after.tolist(), strict=True))


def _check_targets(
    rows: pa.Table, kinds: np.ndarray, ids: pa.Array, tail: LogTail, stored: StoredRows
) -> None:
    """Check every retraction's target, as the planner does: an earlier event of its stream."""
    earlier = {text: row for row, text in enumerate(ids.to_pylist())}
    instruments = whole(rows["instrument_id"])
    targets = whole(rows["target"])
    retracting = np.flatnonzero(kinds == _RETRACTED).tolist()
    # every stored target in one read, not one read each
    positions = target_positions(tail, (targets[row].as_py() for row in retracting))
    found = stored(positions) if positions else None
    held = {} if found is None else _owners(found)
    for row in retracting:
        target, stream = targets[row].as_py(), instruments[row].as_py()
        at = earlier.get(target)
        if at is not None and at < row:
            owner, kind = instruments[at].as_py(), int(kinds[at])
        elif target in held:
            owner, kind = held[target]
        else:
            raise UnknownStreamError("retraction target", target)
        if owner != stream:
            raise InvalidEventError(
                f"target {target} belongs to {owner!r}, not {stream!r}", field="target"
            )
        if kind == _RETRACTED:
            raise InvalidEventError("a retraction cannot be retracted", field="target")


def _owners(found: pa.Table) -> dict[str, tuple[str, int]]:
    """Return, per stored event id, its stream and whether it is a retraction."""
    retraction = KINDS[_RETRACTED].name
    return {
        event_id: (owner, _RETRACTED if kind == retraction else -1)
        for event_id, owner, kind in zip(
            found["event_id"].to_pylist(),
            found["instrument_id"].to_pylist(),
            found["kind"].to_pylist(),
            strict=True,
        )
    }


def _observed_lines(observed: pa.Array, recorded_text: str) -> pa.Array:
    """Return each row's `codec.observed_line`: its instant and a newline, unless it is
    null or the time of recording."""
    if observed.null_count == len(observed):  # the common case: the log observes them now
        return pa.nulls(len(observed), pa.large_binary()).fill_null(b"")
    text = rfc3339_column(observed)
    same = pc.fill_null(pc.equal(text, scalar(recorded_text)), True)
    return pc.if_else(same, scalar(""), join(text, scalar("\n"))).cast(pa.large_binary())


__all__ = ["TablePlan", "plan_table"]
