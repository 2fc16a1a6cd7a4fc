"""Audit a whole log: every row on its own, then the promises that span rows.

The log is read a data file at a time and checked in chunks of 250,000 rows
(`rowcheck`: one thread does a chunk's column work while this one hashes the chunk
before it); each chunk leaves a few compact columns, about 90 bytes an event, on which
`sequence.check_across` runs the checks across rows. Peak memory is those columns plus
two chunks.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Final

import pyarrow as pa

from eventstore.audit.across_rows import check_across
from eventstore.audit.findings import AuditReport, Findings
from eventstore.audit.row_checks import (
    ChunkFacts,
    Prepared,
    finish_chunk,
    inspect_chunk,
    prepare_chunk,
)
from eventstore.errors import StorageError
from eventstore.log.reading import gathered

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from eventstore.log.event_log import EventLog

#: The log's checks, by name, with what each one verifies.
LOG_CHECKS: Final = {
    "readable": "the Delta log opens and none of its commits is missing",
    "decode": "every row decodes into an event and holds nothing that event does not say",
    "position": "positions run 0, 1, 2, ... with no gap and no repeat",
    "stream-version": "each stream's versions run 1, 2, 3, ... in position order",
    "unique-id": "no event id appears twice",
    "event-id": "each event id is the UUIDv5 of the event's content",
    "hash": "each hash recomputes from the event and the previous hash",
    "chain": "each prev_hash is the hash of the event before it",
    "recorded-at": "recorded_at never goes backwards along positions",
    "observed-at": "no event was observed after it was recorded (observed_at <= recorded_at)",
    "known-stream": "no event refers to an unknown instrument: a listing opens every stream",
    "retraction-target": "every retraction withdraws an earlier event of its own stream",
}
#: Rows read and checked at a time.
CHUNK_ROWS: Final = 250_000


class LogAudit:
    """An audit of one log in two steps: `read` checks every row, `finish` the rest.

    Between the two, the caller may start other work (the PIT checks, say): `finish`
    runs mostly in NumPy and Arrow, which leave the other core free.
    """

    def __init__(self, log: EventLog, *, chunk_rows: int = CHUNK_ROWS) -> None:
        """Prepare to audit `log`, `chunk_rows` rows at a time."""
        self.log = log
        self.chunk_rows = chunk_rows
        self.findings = Findings(dict(LOG_CHECKS))
        self.facts: list[ChunkFacts] = []
        self.readable = True

    def read(self) -> bool:
        """Read and check every row; return whether the whole log could be read."""
        try:
            self.log.refresh()
            resized = self.log.resized_files()
            for line in resized:
                self.findings.add("readable", None, None, f"{line}: rewritten outside the log")
            if resized:
                self.facts, self.readable = [], False
                return False
            with _chunk_friendly_pool():
                self.facts = _pipelined(
                    gathered(self.log.read_files(), self.chunk_rows), self.findings
                )
        except StorageError as exc:
            self.findings.add("readable", None, None, _unreadable(self.log, exc))
            self.facts, self.readable = [], False
            return False
        return True

    def finish(self) -> AuditReport:
        """Run the checks across rows; return the report.

        When the log could not be read, every check but `readable` says `skip` and why:
        it did not run, so it cannot say the log is sound.
        """
        facts, self.facts = self.facts, []
        report = check_across(facts, self.findings)
        if not self.readable:
            reason = "not checked: the log cannot be read"
            report.checks = [
                check if check.name == "readable" or check.count else replace(check, skipped=reason)
                for check in report.checks
            ]
        return report


def _unreadable(log: EventLog, exc: StorageError) -> str:
    missing = log.missing_commits()
    if not missing:
        return str(exc)
    shown = ", ".join(map(str, missing[:10])) + (", ..." if len(missing) > 10 else "")
    which = f"commit {shown} is" if len(missing) == 1 else f"commits {shown} are"
    return f"{which} missing from the Delta log"


def audit_log(log: EventLog, *, chunk_rows: int = CHUNK_ROWS) -> AuditReport:
    """Check every event of `log` and every promise between them; read only, write nothing."""
    audit = LogAudit(log, chunk_rows=chunk_rows)
    audit.read()
    return audit.finish()


def audit_rows(rows: pa.Table | Iterable[pa.RecordBatch]) -> AuditReport:
    """Check rows of the log's schema (a table or record batches, any order)."""
    findings = Findings(dict(LOG_CHECKS))
    batches = rows.to_batches() if isinstance(rows, pa.Table) else rows
    tables = (pa.Table.from_batches([batch]) for batch in batches)
    return check_across([inspect_chunk(table, findings) for table in tables], findings)


@contextmanager
def _chunk_friendly_pool() -> Iterator[None]:
    """Allocate Arrow buffers with jemalloc (else the system allocator) while auditing.

    The audit allocates and frees the same chunk-sized buffers forty times; with Arrow's
    default mimalloc pool that measured about 15% slower on this machine, most of it in
    the kernel (pages handed back and faulted in again).
    """
    previous = pa.default_memory_pool()
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        pool = pa.system_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def _pipelined(tables: Iterator[pa.Table], findings: Findings) -> list[ChunkFacts]:
    """Check chunks two at a time: one's column work in a thread, the other's hashing here.

    Arrow's kernels release the GIL; the hashing loop holds it. On two cores the two
    overlap, which nearly halves an audit.
    """
    facts: list[ChunkFacts] = []
    with ThreadPoolExecutor(max_workers=1) as worker:
        ahead: Future[Prepared] | None = None
        for table in tables:
            following = worker.submit(prepare_chunk, table)
            if ahead is not None:
                facts.append(finish_chunk(ahead.result(), findings))
            ahead = following
        if ahead is not None:
            facts.append(finish_chunk(ahead.result(), findings))
    return facts


__all__ = ["CHUNK_ROWS", "LOG_CHECKS", "LogAudit", "audit_log", "audit_rows"]
