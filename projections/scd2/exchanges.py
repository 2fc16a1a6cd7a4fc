"""Turn the exchanges of an SCD2 file into events: a listing, then changes of what is given.

An exchange event cannot clear a field (a null keeps the earlier value), so a version that
clears one is reported as a defect and the earlier value stays.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from eventstore import EventStoreError, ExchangeChanged, ExchangeListed
from eventstore.model.events import EXCHANGE_FIELDS
from projections.scd2.file_rows import Row, read_versions
from projections.scd2.symbols import (
    SOURCE,
    Defect,
    ImportPlan,
    observed,
    observing,
    require,
)

if TYPE_CHECKING:
    import pyarrow as pa


def plan_exchanges(
    table: pa.Table, *, naive_as_utc: bool = False, observed_from: str | None = None
) -> ImportPlan:
    """Return the exchange events of an `exchanges.parquet` table, and its defects; each
    version's events observed at its `observed_from` column when one is named."""
    observing(table, observed_from)
    known = ("exchange", "active", "valid_from", "valid_until", "updated_at", *EXCHANGE_FIELDS)
    require(table, "exchange", "valid_from")
    plan = ImportPlan(ignored_columns=[c for c in table.column_names if c not in known])
    unused = () if observed_from == "updated_at" else ("updated_at",)
    rows = read_versions(table, naive_as_utc, known, unused)
    state: dict[str, Row] = {}
    for n in sorted(range(len(rows)), key=lambda n: (rows[n]["exchange"] or "", _start(rows[n]))):
        try:
            size = len(plan.events)
            _exchange_version(rows[n], n, state, plan)
            observed(plan, size, rows[n], observed_from)
        except EventStoreError as exc:
            plan.defects.append(Defect("unreadable", (n,), f"{exc}: skipped"))
    return plan


def _start(row: Row) -> datetime:
    found: datetime = row["valid_from"] or datetime.min.replace(tzinfo=UTC)
    return found


def _exchange_version(row: Row, number: int, state: dict[str, Row], plan: ImportPlan) -> None:
    name, at = row["exchange"], row["valid_from"]
    given = {f: row.get(f) for f in EXCHANGE_FIELDS}
    previous = state.get(name)
    if previous is None:
        plan.events.append(
            ExchangeListed(exchange=name, effective_at=at, source=SOURCE, **_described(given))
        )
    else:
        cleared = [f for f, v in given.items() if v is None and previous.get(f) is not None]
        if cleared:
            plan.defects.append(
                Defect(
                    "cannot_clear",
                    (number,),
                    f"{name}: exchange fields cannot be cleared ({', '.join(cleared)}); "
                    "the earlier values stay",
                )
            )
        changed = {f: v for f, v in given.items() if v is not None}
        plan.events.append(
            ExchangeChanged(exchange=name, effective_at=at, source=SOURCE, **_described(changed))
        )
    state[name] = {**(previous or {}), **{f: v for f, v in given.items() if v is not None}}


def _described(given: Row) -> dict[str, Any]:
    """Return the exchange fields of `given` (typed loosely: the event checks each value)."""
    return {f: given[f] for f in EXCHANGE_FIELDS if f in given}
