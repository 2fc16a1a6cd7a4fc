"""`sync`: fetch complete snapshots from sources and append what changed, source by source.

For each source: fetch every market (concurrently with the other sources), plan the events
of each market against the catalog at the snapshot's observation time, check the delisting
guard, and append all of the source's events in one commit. A source that fails (a fetch,
a malformed body, an incomplete snapshot, the guard) appends nothing; the others go on. A
row a value rule refused is reported per market as `rejected` (the first few named).
"""

from __future__ import annotations

import asyncio
import copy
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from connectors.errors import (
    ConnectorError,
    DelistingGuardError,
    IncompleteSnapshotError,
    MalformedResponseError,
)
from connectors.sync.absence import AbsenceStore
from connectors.sync.diff import Differ
from connectors.sync.history import LogHistory
from connectors.sync.outcome import Absence, Plan
from connectors.sync.reports import MarketReport, SourceReport, market_report
from connectors.venues.http import HttpSettings, SourceHttp, open_session
from eventstore import EventLog, EventStoreError, InvalidEventError
from eventstore.clock import utc_now
from projections import Catalog, CatalogError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    import aiohttp

    from connectors.venues.registry import Source
    from connectors.venues.snapshot import Snapshot

DEFAULT_ABSENCE_RUNS: Final = 2
DEFAULT_MAX_DELIST_SHARE: Final = 0.05


@dataclass(frozen=True)
class SyncOptions:
    """How a sync judges snapshots."""

    absence_runs: int = DEFAULT_ABSENCE_RUNS
    max_delist_share: float = DEFAULT_MAX_DELIST_SHARE
    force: bool = False
    #: The observation time to use instead of the venue's clock or ours (replays).
    observed_at: datetime | None = None


@dataclass(frozen=True)
class SourceRun:
    """One source to sync: where to reach it and which of its markets."""

    source: Source
    base_url: str | None = None
    markets: tuple[str, ...] | None = None

    def http(self, session: aiohttp.ClientSession, settings: HttpSettings) -> SourceHttp:
        """Return the source's requests through `session`, with its own headers."""
        return SourceHttp(self.source.name, session, settings, headers=self.source.headers)

    @property
    def shown_url(self) -> str:
        """Return the address the source is fetched from."""
        return self.base_url or self.source.base_url

    async def fetch(self, http: SourceHttp) -> list[Snapshot]:
        """Fetch the chosen markets (default: the source's defaults) from the chosen address
        (default: live)."""
        source = self.source
        return await source.fetch(
            http, self.base_url or source.base_url, self.markets or source.fetched
        )


class Syncer:
    """Sync sources into the catalog under `root`."""

    def __init__(
        self,
        root: str,
        options: SyncOptions | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        progress: Callable[[str, str], None] | None = None,
    ) -> None:
        """Write to the log under `root`; `progress(source, message)` hears each step."""
        self.root = root
        self.options = options or SyncOptions()
        self.clock = clock
        self.progress = progress or (lambda source, message: None)
        self.log = EventLog.open(root)
        self.catalog = Catalog(self.log)
        self.absence = AbsenceStore(root)

    def with_options(self, options: SyncOptions) -> Syncer:
        """Return a syncer with other options that shares this one's log, index and counts."""
        twin = copy.copy(self)
        twin.options = options
        return twin

    async def run(
        self, runs: Sequence[SourceRun], settings: HttpSettings | None = None
    ) -> list[SourceReport]:
        """Fetch every source at once, then commit them one by one; return their reports."""
        fetched = await self.fetch(runs, settings)
        return [self.apply(report, snapshots) for report, snapshots in fetched]

    async def fetch(
        self, runs: Sequence[SourceRun], settings: HttpSettings | None = None
    ) -> list[tuple[SourceReport, list[Snapshot]]]:
        """Fetch every source at once; return each one's report and snapshots, in order."""
        settings = settings or HttpSettings()
        async with open_session(settings) as session:
            return list(
                await asyncio.gather(*(self._fetch(run, session, settings) for run in runs))
            )

    async def _fetch(
        self, run: SourceRun, session: aiohttp.ClientSession, settings: HttpSettings
    ) -> tuple[SourceReport, list[Snapshot]]:
        source = run.source
        report = SourceReport(source.name)
        http = run.http(session, settings)
        started = time.perf_counter()
        self.progress(source.name, "fetching")
        try:
            snapshots = await run.fetch(http)
        except ConnectorError as exc:
            self._fail(report, exc)
            snapshots = []
        except (RecursionError, MemoryError) as exc:  # wherever it arose: this source's alone
            reason = f"{type(exc).__name__} while fetching"
            self._fail(report, MalformedResponseError(source.name, run.shown_url, reason))
            snapshots = []
        report.seconds = time.perf_counter() - started
        report.requests = http.requests
        if report.ok:
            count = sum(len(s.records) for s in snapshots)
            refused = sum(len(s.rejected) for s in snapshots)
            rejected = f" ({refused:,} rows rejected)" if refused else ""
            markets = ", ".join(s.market for s in snapshots)
            self.progress(
                source.name,
                f"fetched {count:,} instruments{rejected} in {http.requests} requests ({markets})",
            )
        return report, snapshots

    def _fail(self, report: SourceReport, exc: Exception) -> None:
        report.error = str(exc)
        report.error_kind = type(exc).__name__
        report.cause = exc
        self.progress(report.source, f"failed: {exc}")

    def apply(self, report: SourceReport, snapshots: Sequence[Snapshot]) -> SourceReport:
        """Plan every snapshot of one source and append all their events in one commit.

        Nothing is appended if any snapshot is incomplete or trips the guard; `report`
        (the fetch's, or a fresh `SourceReport(name)`) is filled in and returned.
        """
        plans = self.plan(report, snapshots)
        if plans is None:
            return report
        try:
            events = [event for _, plan, _ in plans for event in plan.events]
            if events:
                self.progress(report.source, f"appending {_events(len(events))}")
            report.appended = self.log.append(events).appended if events else 0
        except (ConnectorError, EventStoreError, CatalogError) as exc:
            self._fail(report, exc)
            return report
        self.absence.save(report.source, {s.market: plan.absence for s, plan, _ in plans})
        report.markets = [market_report(s, plan, at) for s, plan, at in plans]
        self.progress(report.source, f"appended {_events(report.appended)}")
        return report

    def plan(
        self, report: SourceReport, snapshots: Sequence[Snapshot]
    ) -> list[tuple[Snapshot, Plan, datetime]] | None:
        """Plan every snapshot of one source, appending nothing: the plans, or None with
        `report` saying why one failed (incomplete, malformed, the guard)."""
        if not report.ok:
            return None
        try:
            return [(snapshot, *self._plan(snapshot)) for snapshot in snapshots]
        except (ConnectorError, EventStoreError, CatalogError) as exc:
            self._fail(report, exc)
            return None

    def _plan(self, snapshot: Snapshot) -> tuple[Plan, datetime]:
        if not snapshot.records:
            refused = snapshot.rejected
            why = (
                f" that meets the value rules ({len(refused)} rejected: {refused[0]})"
                if refused
                else " at all"
            )
            raise IncompleteSnapshotError(
                snapshot.source, snapshot.market, f"the snapshot lists no instrument{why}"
            )
        at = snapshot.observed(self.options.observed_at, self.clock)
        self.progress(
            snapshot.source, f"planning {snapshot.market}: {len(snapshot.records):,} instruments"
        )
        current = self.catalog.universe(at, include_inactive=True)
        exchanges = self.catalog.exchanges(at) if snapshot.exchanges else {}
        counts = self.absence.of(snapshot.source, snapshot.market)
        history = LogHistory(self.log, snapshot.source, snapshot.scope, at)
        # A venue's clock a little ahead of ours must not date a fact after the log records it.
        known_at = min(at, utc_now())
        differ = Differ(snapshot, current, at, exchanges, history=history, known_at=known_at)
        try:
            plan = differ.run(counts, self.options.absence_runs)
        except InvalidEventError as exc:  # a value the source gave that no event can hold
            where = f"{snapshot.market} snapshot"
            raise MalformedResponseError(snapshot.source, where, str(exc)) from exc
        self._guard(snapshot, plan)
        return plan, at

    def _guard(self, snapshot: Snapshot, plan: Plan) -> None:
        limit = self.options.max_delist_share
        if self.options.force or plan.active == 0 or plan.leaving <= limit * plan.active:
            return
        raise DelistingGuardError(
            snapshot.source, snapshot.market, plan.leaving, plan.active, limit
        )


def _events(count: int) -> str:
    return f"{count:,} event" if count == 1 else f"{count:,} events"


__all__ = ["Absence", "MarketReport", "SourceReport", "SourceRun", "SyncOptions", "Syncer"]
