"""Compaction of the log's Delta table: merge small files, checkpoint, optionally vacuum.

No event changes: the compaction's commit removes small files and adds one that holds
exactly their events (the audit checks it, `eventstore.audit.removals`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eventstore.log.storage import failing

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from eventstore.log.storage import DeltaStorage


@dataclass(frozen=True)
class CompactionReport:
    """What `EventLog.compact` did: files before and after, the Delta version, the vacuum.

    A vacuum deletes the data files no longer referenced for more than `retention_hours`
    (`deleted` of them); `kept` more are unreferenced but younger, still needed by a reader
    of an older version, and stay until a later vacuum.
    """

    files_before: int
    files_after: int
    version: int
    vacuumed: bool = False
    retention_hours: int | None = None
    deleted: int = 0
    kept: int = 0


def compact(
    storage: DeltaStorage, *, vacuum: bool, retention_hours: int | None = None
) -> CompactionReport:
    """Merge small files, checkpoint and clean the Delta log, optionally vacuum.

    The vacuum keeps files unreferenced for less than `retention_hours` (default: the
    table's `deletedFileRetentionDuration`, 7 days unless set), so that readers of the
    versions before the compaction still find their files.
    """
    table = storage.table()
    if table is None:
        return CompactionReport(0, 0, -1)
    with failing(storage.uri, "compacting the log"):
        table.update_incremental()
        before = len(table.file_uris())
        table.optimize.compact()
        table.update_incremental()
        table.create_checkpoint()
        table.cleanup_metadata()
        after = len(table.file_uris())
        if not vacuum:
            return CompactionReport(before, after, table.version())
        hours = _retention_hours(table) if retention_hours is None else retention_hours
        enforce = retention_hours is None
        # Removed files stay listed after a vacuum deleted them: count those still there.
        unreferenced = set(storage.present(table.vacuum(0, enforce_retention_duration=False)))
        deleted = table.vacuum(hours, dry_run=False, enforce_retention_duration=enforce)
    gone = unreferenced & set(deleted)
    kept = len(unreferenced - gone)
    return CompactionReport(before, after, table.version(), True, hours, len(gone), kept)


def _retention_hours(table: DeltaTable) -> int:
    """Return the table's `delta.deletedFileRetentionDuration` in hours (Delta's default 168)."""
    given = table.metadata().configuration.get("delta.deletedFileRetentionDuration")
    if not given:
        return 168
    number, _, unit = given.removeprefix("interval").strip().partition(" ")
    scale = {"hour": 1, "hours": 1, "day": 24, "days": 24, "week": 168, "weeks": 168}
    return math.ceil(float(number) * scale.get(unit.strip().lower(), 1))


__all__ = ["CompactionReport", "compact"]
