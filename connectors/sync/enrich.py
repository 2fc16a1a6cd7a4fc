"""Instruments of covered venues: TradingView adds the fields it alone reports.

On a venue with an exchange connector TradingView never lists nor delists: each of its
records that an active instrument holds the symbol of becomes, where its own fields differ,
one `InstrumentChanged` of those fields; the others are left to the exchange connector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from connectors.sync.compare import field_differences, positions
from connectors.sync.ownership import compared
from eventstore import InstrumentChanged

if TYPE_CHECKING:
    from datetime import datetime

    from connectors.sync.outcome import Plan
    from connectors.venues.snapshot import Snapshot, SourceRecord


def enrich(
    plan: Plan,
    snapshot: Snapshot,
    current: pa.Table,
    records: list[SourceRecord],
    times: tuple[datetime, datetime],
) -> None:
    """Add to `plan` the changes `records` bring to the active instruments of `current`,
    effective and observed at `times` (the snapshot's observation, and when it is known)."""
    if not records:
        return
    active = current.filter(current["active"])
    symbols = pa.array([r.symbol for r in records], pa.string())
    known, rows = positions(symbols, active["symbol"])
    matched = np.flatnonzero(known)
    plan.ignored += len(records) - len(matched)  # the exchange connector lists them
    if not len(matched):
        return
    holders = active.take(pa.array(rows[matched]))
    chosen = [records[i] for i in matched.tolist()]
    names = compared(snapshot, enriching=True)
    values, matrix = field_differences(chosen, holders, names)
    ids, held = holders["instrument_id"].to_pylist(), holders["symbol"].to_pylist()
    effective_at, observed_at = times
    for index in range(len(chosen)):
        changes = {n: values[n][index] for n, d in zip(names, matrix[index], strict=True) if d}
        if not changes:
            plan.unchanged += 1
            continue
        plan.events.append(
            InstrumentChanged(
                instrument_id=ids[index],
                symbol=held[index],
                effective_at=effective_at,
                source=snapshot.source,
                observed_at=observed_at,
                changes=changes,
            )
        )
        plan.changed += 1
