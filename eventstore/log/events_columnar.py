"""`EventLog.append` of a large batch through the columnar path of `append_table`.

The batch becomes one Arrow table in the log's layout (the table it is written as
anyway), and from there goes the way of a table: payloads and row checks by Arrow kernels
on two threads while this one hashes the ids, then the chain as the Parquet writer reads
the rows. The events given back are the inputs with their envelope set, as the planner
sets it. A batch this path does not fit (a retraction, or an input the log or the batch
already holds: the answer must name the stored event) goes the planner's way
(`eventstore.log.planner`); so do small batches, for which the threads do not pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventstore.encoding.given_table import GivenEvents, events_table, given_events
from eventstore.log.planner import check_observed, recorded_events
from eventstore.log.table_plan import TablePlan, plan_table
from eventstore.model.events import EventRetracted
from eventstore.model.instants import from_micros

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pyarrow as pa

    from eventstore.log.tail import LogTail
    from eventstore.model.events import Event

#: The smallest batch `append` sends the columnar way.
COLUMNAR_FROM = 20_000


def columnar(batch: Sequence[Event]) -> GivenEvents | None:
    """Return `batch` as a checked table, or None when it goes the planner's way."""
    if len(batch) < COLUMNAR_FROM or any(isinstance(e, EventRetracted) for e in batch):
        return None
    return given_events(events_table(batch))


def plan_events(
    given: GivenEvents,
    batch: Sequence[Event],
    tail: LogTail,
    expected: Mapping[str, int],
    now_us: int,
) -> TablePlan | None:
    """Return the plan of a columnar batch, None if an input repeats (the planner's way)."""
    check_observed(batch, from_micros(tail.recording_time(expected, now_us)))
    if tail.maybe_stored(given.keys).any():
        return None
    plan = plan_table(given, tail, expected, now_us, _nothing_stored)
    return None if plan.repeated else plan


def _nothing_stored(positions: Sequence[int]) -> pa.Table:
    """Read no stored event: a batch whose id may be stored goes the planner's way."""
    raise LookupError(positions)


def recorded(batch: Sequence[Event], plan: TablePlan) -> list[Event]:
    """Return the inputs as `plan` recorded them (after its rows were written)."""
    rows = plan.rows
    return recorded_events(
        list(batch),
        rows["event_id"].to_pylist(),
        plan.first_position,
        from_micros(plan.recorded_us),
        rows["stream_version"].to_pylist(),
        rows["prev_hash"].to_pylist(),
        rows["hash"].to_pylist(),
    )


__all__ = ["COLUMNAR_FROM", "columnar", "plan_events", "recorded"]
