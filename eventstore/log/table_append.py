"""`EventLog.append_table`: bulk events as an Arrow table, with the guarantees of `append`.

The table holds the log's own columns without those the log assigns
(`eventstore.encoding.given_table` says which, and checks every row as an event's
constructor would). It is checked and encoded once; each attempt plans it against the
writer's current tail (`eventstore.log.table_plan`: repeats, stream versions, expected
versions, the hash chain) and commits it as one Delta commit, or plans again after losing
the race. The rows written are exactly those `append` writes for the same facts: the same
ids, payload bytes and hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.given_table import given_events
from eventstore.encoding.schema import SCHEMA
from eventstore.errors import CommitContentionError
from eventstore.gcpause import paused_gc
from eventstore.log.appending import (
    MAX_ATTEMPTS,
    backoff,
    commit_rows,
    now_micros,
    refuse_done_transaction,
    refuse_pinned,
    sync_tail,
)
from eventstore.log.table_plan import plan_table

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from eventstore.log.event_log import EventLog

_LOOKED_UP: Final = ("position", "event_id", "instrument_id", "kind")


@dataclass(frozen=True)
class AppendedTable:
    """What one `append_table` did: the rows it appended, as written, in position order."""

    rows: pa.Table
    #: Inputs not appended: already in the log, or repeating an earlier row of the table.
    repeated: int

    @property
    def appended(self) -> int:
        """Return how many events this append added."""
        count: int = self.rows.num_rows
        return count


def append_table(
    log: EventLog,
    table: pa.Table,
    *,
    expected_versions: Mapping[str, int] | None = None,
    transaction: tuple[str, int] | None = None,
) -> AppendedTable:
    """Append the events of `table` to `log` in one atomic commit (see `EventLog.append`)."""
    refuse_pinned(log)
    with paused_gc():
        given = given_events(table)
    if given.rows.num_rows == 0:
        return AppendedTable(SCHEMA.empty_table(), 0)

    def stored(positions: Sequence[int]) -> pa.Table:
        wanted = pc.field("position").isin(pa.array(list(positions), pa.int64()))
        return log._scan(_LOOKED_UP, where=wanted)

    for attempt in range(MAX_ATTEMPTS):
        sync_tail(log)
        with paused_gc():
            plan = plan_table(given, log._tail, expected_versions or {}, now_micros(log), stored)
        refuse_done_transaction(log, transaction, plan.size, "table")
        if not plan.size:
            return AppendedTable(SCHEMA.empty_table(), plan.repeated)
        rows = pa.RecordBatchReader.from_batches(SCHEMA, plan.chain.batches())
        if commit_rows(log, rows, plan, transaction):  # chained as the writer reads them
            return AppendedTable(plan.rows, plan.repeated)
        backoff(attempt)
    raise CommitContentionError(MAX_ATTEMPTS)


__all__ = ["AppendedTable", "append_table"]
