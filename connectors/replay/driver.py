"""Replay recorded responses: every snapshot of a replay folder, synced in order.

`catalog sync --replay DIR` runs the very same clients and sync against the loopback server
of `connectors.replay.server`, so a replay exercises every line a live sync does, HTTP
included. The folder layout is in `connectors.replay.folders`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from connectors.replay.folders import RecordedSnapshot, snapshots
from connectors.replay.server import ReplayServer
from connectors.sync.syncer import SourceReport, Syncer, SyncOptions

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from connectors.venues.http import HttpSettings


async def replay(
    root: str,
    directory: str | Path,
    options: SyncOptions | None = None,
    *,
    settings: HttpSettings | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> list[tuple[RecordedSnapshot, list[SourceReport]]]:
    """Sync every snapshot of `directory` into the catalog under `root`, in order."""
    options = options or SyncOptions()
    recorded = snapshots(directory)
    done = []
    async with ReplayServer(directory) as server:
        for snapshot in recorded:
            timed = replace(options, observed_at=snapshot.observed_at or options.observed_at)
            syncer = Syncer(root, timed, progress=progress)
            done.append((snapshot, await syncer.run(snapshot.runs(server.base_url), settings)))
    return done
