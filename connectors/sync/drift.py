"""Drift: how the catalog's current state differs from a fresh snapshot of a source.

Read-only: it fetches (or replays) the source, compares it field by field with the catalog
as of the snapshot's observation time, and writes nothing. `catalog audit --against-source`
prints it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.errors import ConnectorError
from connectors.replay.folders import snapshots
from connectors.replay.server import ReplayServer
from connectors.sync.absence import AbsenceStore
from connectors.sync.compare import active_in_scope, differs, field_differences, positions
from connectors.sync.outcome import absence_after
from connectors.sync.ownership import compared, split
from connectors.sync.syncer import DEFAULT_ABSENCE_RUNS
from connectors.venues.http import HttpSettings, open_session
from eventstore.clock import utc_now

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from pathlib import Path

    from connectors.sync.outcome import Absence
    from connectors.sync.syncer import SourceRun
    from connectors.venues.snapshot import Snapshot, SourceRecord
    from projections import Catalog


class Drift(msgspec.Struct, frozen=True, kw_only=True):
    """One difference: a field whose values disagree, or an instrument only one side has."""

    source: str
    market: str
    symbol: str
    kind: str  # "field", "missing from the catalog", "missing from the source", PENDING
    field: str | None = None
    catalog: Any = None
    reported: Any = None
    absent: int = 0  # for PENDING: complete snapshots it has been absent from, this one included

    @property
    def pending(self) -> bool:
        """Return whether this is an absence the sync's rule has not acted on yet (no drift)."""
        return self.kind == PENDING


#: An instrument absent from the source that the absence rule keeps listed for now.
PENDING = "absent, pending the absence rule"


def compare(
    snapshot: Snapshot,
    current: pa.Table,
    *,
    at: datetime,
    absence: Mapping[str, Absence] | None = None,
    absence_runs: int = DEFAULT_ABSENCE_RUNS,
) -> list[Drift]:
    """Return every difference between `snapshot`, observed `at`, and `current` (the catalog).

    An active instrument the snapshot lacks is `PENDING`, not drift, while the sync's
    absence rule would keep it listed: absent from fewer than `absence_runs` complete
    snapshots in a row, counting this one (`absence` holds the sync's counts), and not
    past its expiry.
    """
    owned, enriching = split(snapshot)
    found = _fields(snapshot, owned, current, "instrument_id", enriching=False)
    active = current.filter(current["active"])
    found += _fields(snapshot, enriching, active, "symbol", enriching=True)
    # A row a value rule rejected is still listed by the source: it is not missing.
    listed = [r.instrument_id for r in owned] + [r.instrument_id for r in snapshot.rejected]
    seen = pa.array(listed, pa.string())
    scoped = active_in_scope(current, snapshot.scope)
    gone = scoped.filter(pc.invert(pc.is_in(scoped["instrument_id"], seen)))
    counts = absence if absence is not None else {}
    for instrument_id, symbol, expiry in zip(
        gone["instrument_id"].to_pylist(),
        gone["symbol"].to_pylist(),
        gone["expiry"].to_pylist(),
        strict=True,
    ):
        runs = absence_after(counts.get(instrument_id), at).count
        expired = expiry is not None and expiry <= at
        kind = PENDING if runs < absence_runs and not expired else "missing from the source"
        found.append(
            Drift(
                source=snapshot.source,
                market=snapshot.market,
                symbol=symbol,
                kind=kind,
                absent=runs,
            )
        )
    return found


def _fields(
    snapshot: Snapshot, records: list[SourceRecord], current: pa.Table, key: str, *, enriching: bool
) -> list[Drift]:
    if not records:
        return []
    keys = [r.instrument_id if key == "instrument_id" else r.symbol for r in records]
    known, rows = positions(pa.array(keys, pa.string()), current[key])
    found = [
        Drift(
            source=snapshot.source,
            market=snapshot.market,
            symbol=records[i].symbol,
            kind="missing from the catalog",
        )
        for i in np.flatnonzero(~known).tolist()
        if not enriching and not records[i].terminal
    ]
    chosen = [records[i] for i in np.flatnonzero(known).tolist()]
    held = current.take(pa.array(rows[known]))
    names = compared(snapshot, enriching=enriching)
    values, matrix = field_differences(chosen, held, names)
    if not enriching and snapshot.source != "tradingview":  # an exchange also says live or gone
        names = (*names, "active")
        values["active"] = [not r.terminal for r in chosen]
        active = differs(pa.array(values["active"]), held["active"])
        matrix = np.column_stack([matrix, active])
    for column, index in zip(*np.nonzero(matrix.T), strict=True):  # field by field
        name = names[column]
        found.append(
            Drift(
                source=snapshot.source,
                market=snapshot.market,
                symbol=chosen[index].symbol,
                kind="field",
                field=name,
                catalog=held[name][index].as_py(),
                reported=values[name][index],
            )
        )
    return found


async def fetch(run: SourceRun, settings: HttpSettings) -> list[Snapshot]:
    """Fetch a fresh snapshot of one source (nothing is written)."""
    async with open_session(settings) as session:
        return await run.fetch(run.http(session, settings))


async def replayed(
    directory: str | Path, source: str, settings: HttpSettings
) -> tuple[list[Snapshot], datetime | None]:
    """Return the latest recorded snapshot of `source` in a replay folder, and its time."""
    recorded = [s for s in snapshots(directory) if source in s.sources]
    if not recorded:
        raise ConnectorError(f"replay folder {directory} has no snapshot of {source}")
    latest = recorded[-1]
    async with ReplayServer(directory) as server:
        (run,) = [r for r in latest.runs(server.base_url) if r.source.name == source]
        return await fetch(run, settings), latest.observed_at


def against(
    catalog: Catalog,
    found: list[Snapshot],
    observed_at: datetime | None = None,
    absence_runs: int = DEFAULT_ABSENCE_RUNS,
) -> list[Drift]:
    """Return the drift of every snapshot against the catalog at its observation time.

    Absences are judged with the sync's own counts, kept beside the catalog's log.
    """
    counts = AbsenceStore(catalog.log.root)
    drift: list[Drift] = []
    for snapshot in found:
        at = snapshot.observed(observed_at, utc_now)
        current = catalog.universe(at, include_inactive=True)
        absence = counts.of(snapshot.source, snapshot.market)
        drift += compare(snapshot, current, at=at, absence=absence, absence_runs=absence_runs)
    return drift
