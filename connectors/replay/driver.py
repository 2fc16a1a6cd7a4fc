"""Replay recorded responses: every snapshot of a replay folder, synced in order.

`catalog sync --replay DIR` runs the very same clients and sync against the loopback server
of `connectors.replay.server`, so a replay exercises every line a live sync does, HTTP
included. The folder layout is in `connectors.replay.folders`.

A replay is a history: a snapshot diffed against a history that lacks a refused one would
date what it sees wrongly. So a replay stops at the first snapshot one of whose sources
fails or is refused (the delisting guard): every source of that snapshot is planned before
any is appended, nothing is appended for it or after it, and `Replayed.stopped` says which
snapshot, why, and how to go on. Running the same replay again appends nothing for the
snapshots already replayed and goes on from there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from connectors.errors import DelistingGuardError
from connectors.replay.folders import RecordedSnapshot, snapshots
from connectors.replay.server import ReplayServer
from connectors.sync.syncer import SourceReport, Syncer, SyncOptions

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator
    from pathlib import Path

    from connectors.venues.http import HttpSettings
    from connectors.venues.snapshot import Snapshot

#: The error kind of a source whose snapshot was planned but not appended: a stop.
NOT_APPENDED = "ReplayStopped"


@dataclass(frozen=True)
class Stop:
    """Where and why a replay stopped: the snapshot, its failed sources, what was left."""

    snapshot: RecordedSnapshot
    failed: list[SourceReport]
    remaining: int

    @property
    def share_needed(self) -> float | None:
        """Return the `--max-delist-share` that would have let the snapshot through, if
        the delisting guard alone refused it (rounded up to a hundredth)."""
        refusals = [r.cause for r in self.failed]
        if not refusals or not all(isinstance(c, DelistingGuardError) for c in refusals):
            return None
        shares = [c.delisting / c.active for c in refusals if isinstance(c, DelistingGuardError)]
        return min(1.0, math.ceil(max(shares) * 100) / 100)

    def __str__(self) -> str:
        """Say which snapshot, why, and how to go on."""
        why = "; ".join(_why(report) for report in self.failed)
        after = f" or the {self.remaining} after it" if self.remaining else ""
        share = self.share_needed
        if share is not None:
            how = (
                f"run the same replay again with --max-delist-share {share:g} (or --force) "
                "if the venue really delisted them: snapshots months apart lose much of a "
                "market in between"
            )
        else:
            how = "fix or remove that snapshot's recording, then run the same replay again"
        return (
            f"replay stopped at snapshot {self.snapshot.path.name}: {why}. Nothing was "
            f"appended for it{after}. To go on, {how}; the snapshots already replayed "
            "append nothing again"
        )


def _why(report: SourceReport) -> str:
    refusal = report.cause
    if isinstance(refusal, DelistingGuardError) and refusal.active:
        share = refusal.delisting / refusal.active
        return (
            f"{refusal.source} ({refusal.market}) would delist {refusal.delisting} of "
            f"{refusal.active} active instruments ({share:.1%}, limit {refusal.limit:.0%})"
        )
    return f"{report.source}: {report.error}"


@dataclass
class Replayed:
    """Each snapshot replayed with its sources' reports, and where the replay stopped.

    It iterates, indexes and counts as `done`, the list of (snapshot, reports)."""

    done: list[tuple[RecordedSnapshot, list[SourceReport]]] = field(default_factory=list)
    stopped: Stop | None = None

    def __iter__(self) -> Iterator[tuple[RecordedSnapshot, list[SourceReport]]]:
        """Iterate over `done`."""
        return iter(self.done)

    def __len__(self) -> int:
        """Return how many snapshots were replayed (the stopped one included)."""
        return len(self.done)

    def __getitem__(self, index: int) -> tuple[RecordedSnapshot, list[SourceReport]]:
        """Return one replayed snapshot with its reports."""
        return self.done[index]

    @property
    def appended(self) -> int:
        """Return how many events the replay appended."""
        return sum(report.appended for _, reports in self.done for report in reports)


async def replay(
    root: str,
    directory: str | Path,
    options: SyncOptions | None = None,
    *,
    settings: HttpSettings | None = None,
    progress: Callable[[str, str], None] | None = None,
    sources: Collection[str] = (),
    markets: Collection[str] = (),
    on_snapshot: Callable[[str, int, int], None] | None = None,
) -> Replayed:
    """Sync every snapshot of `directory` into the catalog under `root`, in order, up to
    the first that fails or is refused (only the given `sources` and `markets`, if any).

    `progress(source, message)` hears each step of each source; `on_snapshot(name,
    number, total)` hears each snapshot as it starts (the first is number 1)."""
    options = options or SyncOptions()
    recorded = snapshots(directory)
    result = Replayed()
    async with ReplayServer(directory) as server:
        for number, snapshot in enumerate(recorded):
            if on_snapshot is not None:
                on_snapshot(snapshot.path.name, number + 1, len(recorded))
            timed = replace(options, observed_at=snapshot.observed_at or options.observed_at)
            syncer = Syncer(root, timed, progress=progress)
            runs = snapshot.runs(server.base_url, sources, markets)
            fetched = await syncer.fetch(runs, settings)
            reports = _checked(syncer, fetched)
            if reports is None:
                reports = [syncer.apply(report, found) for report, found in fetched]
            result.done.append((snapshot, reports))
            failed = [r for r in reports if not r.ok and r.error_kind != NOT_APPENDED]
            if failed:
                result.stopped = Stop(snapshot, failed, len(recorded) - number - 1)
                return result
    return result


def _checked(
    syncer: Syncer, fetched: list[tuple[SourceReport, list[Snapshot]]]
) -> list[SourceReport] | None:
    """Plan every source of a snapshot: None if all would go through, else the reports,
    the failed ones saying why and the others that they were not appended."""
    failed = [report for report, found in fetched if syncer.plan(report, found) is None]
    if not failed:
        return None
    for report, _ in fetched:
        if report.ok:
            report.error = "not appended: another source of this snapshot failed"
            report.error_kind = NOT_APPENDED
    return [report for report, _ in fetched]
