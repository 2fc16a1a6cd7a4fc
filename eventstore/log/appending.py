"""Appending to the log: the attempt loop of `EventLog.append`, and the commit it shares
with `EventLog.append_table` (`eventstore.log.table_append`).

An append plans its batch against the writer's tail and commits it as one Delta commit
with no automatic retry: when another writer committed since this one read the log, the
commit fails, the batch is planned again (new positions, expected versions checked again)
and retried. After each commit the log's `on_commit` hook, if any, sees the new head.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Final

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.codec import from_table
from eventstore.encoding.schema import SCHEMA
from eventstore.encoding.table import to_batches
from eventstore.errors import CommitContentionError, ConcurrencyError
from eventstore.gcpause import paused_gc
from eventstore.log.planner import Plan, plan_batch
from eventstore.log.recorded import Recorded, event_batch
from eventstore.log.tail import TAIL_COLUMNS
from eventstore.model.instants import to_micros, to_utc

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from eventstore.log.event_log import EventLog
    from eventstore.log.table_plan import TablePlan
    from eventstore.model.events import Event

#: How many times an append (`append_table` too) is planned again after losing a race.
MAX_ATTEMPTS: Final = 50


def append_events(
    log: EventLog,
    events: Iterable[Event],
    *,
    expected_versions: Mapping[str, int] | None = None,
    transaction: tuple[str, int] | None = None,
) -> Recorded:
    """Append `events` to `log` in one atomic commit (see `EventLog.append`)."""
    refuse_pinned(log)
    batch = event_batch(events)
    if not batch:
        return Recorded([], [])
    with paused_gc():  # the batch's copies and columns: many objects, no cycles
        for attempt in range(MAX_ATTEMPTS):
            sync_tail(log)
            plan = _plan(log, batch, expected_versions or {}, transaction)
            rows = pa.RecordBatchReader.from_batches(SCHEMA, to_batches(plan.new))
            if not plan.new or commit_rows(log, rows, plan, transaction):  # built as written
                return Recorded(plan.recorded, plan.new)
            backoff(attempt)
    raise CommitContentionError(MAX_ATTEMPTS)


def sync_tail(log: EventLog) -> None:
    """Bring the writer's view current: only writers (and counters) pay for it.

    A first look starts from the tail saved beside the index when it holds against
    the log (`eventstore.log.saved_tail`), and reads only the events after it.
    """
    version = log.refresh()
    if log._tail.delta_version < 0:
        log._tail = log._saved.first_look(version, lambda at: _hash_at(log, at)) or log._tail
    if version != log._tail.delta_version:
        rows = log._scan(TAIL_COLUMNS, since=log._tail.next_position)
        log._tail.absorb(rows, version)
        log._saved.moved(log._tail)


def _hash_at(log: EventLog, position: int) -> str | None:
    """Return the hash of the event at `position` (None if the log has none there)."""
    found = log._scan(["hash"], since=position, until=position + 1)["hash"].to_pylist()
    return str(found[0]) if len(found) == 1 else None


def refuse_pinned(log: EventLog) -> None:
    """Refuse to append inside a `pinned()` block."""
    if log._pins:
        raise ConcurrencyError("cannot append to a log while it is pinned for reading")


def backoff(attempt: int) -> None:
    """Wait a little, more after each lost race, before planning again."""
    time.sleep(min(0.5, 0.005 * 2**attempt) * random.random())


def now_micros(log: EventLog) -> int:
    """Return the writer's clock, in microseconds since the epoch."""
    return to_micros(to_utc(log._clock(), "clock"))


def _plan(
    log: EventLog,
    batch: list[Event],
    expected: Mapping[str, int],
    transaction: tuple[str, int] | None,
) -> Plan:
    plan = plan_batch(batch, log._tail, expected, now_micros(log), lambda at: _stored(log, at))
    refuse_done_transaction(log, transaction, len(plan.new), "batch")
    return plan


def refuse_done_transaction(
    log: EventLog, transaction: tuple[str, int] | None, new: int, what: str
) -> None:
    """Refuse `new` events under an app transaction the log has committed already."""
    if transaction is None or not new or not log._storage.transaction_done(*transaction):
        return
    app_id, sequence = transaction
    raise ConcurrencyError(
        f"transaction {app_id!r} #{sequence} is already committed, but this {what} "
        f"holds {new} events the log does not have; nothing was appended"
    )


def _stored(log: EventLog, positions: Sequence[int]) -> dict[int, Event]:
    if not positions:
        return {}
    wanted = pc.field("position").isin(pa.array(list(positions), pa.int64()))
    table = log._scan(None, where=wanted)
    return {event.position or 0: event for event in from_table(table)}


def commit_rows(
    log: EventLog,
    rows: pa.Table | pa.RecordBatchReader,
    plan: Plan | TablePlan,
    transaction: tuple[str, int] | None,
) -> bool:
    """Commit `rows`, planned by `plan`; return False if another writer got there first."""
    committed = log._storage.write(
        rows,
        creating=log._tail.delta_version < 0,
        transaction=transaction,
        metadata={"positions": f"{plan.first_position}-{plan.next_position - 1}"},
    )
    if committed:
        log._tail.committed(plan)
        log._saved.moved(log._tail)
        log._version = max(log._version, log._tail.delta_version)
        announce(log, log._tail.delta_version)
    return committed


def announce(log: EventLog, *versions: int) -> None:
    """Show the hook the head of each of `versions`, commits `log` just made."""
    if log.on_commit is None or (head := log.head()) is None:
        return  # the unsigned path pays one test
    for version in versions:
        log.on_commit(log, msgspec.structs.replace(head, delta_version=version))


__all__ = ["MAX_ATTEMPTS", "append_events", "commit_rows", "sync_tail"]
