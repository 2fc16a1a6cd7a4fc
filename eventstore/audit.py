"""Audit a whole log: every row on its own, then the promises that span rows.

The log is read in chunks of about a million rows (`rowcheck.inspect_chunk` checks each
and keeps a few compact columns of it); the checks across rows then run on those columns
with sorting and array comparisons only. Peak memory grows with the log by about 80 bytes
an event, plus one chunk.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa

from eventstore.canonical import KINDS
from eventstore.errors import StorageError
from eventstore.findings import AuditReport, Findings
from eventstore.instant import from_micros
from eventstore.rowcheck import (
    RETRACTED,
    UUID_DIGITS,
    ChunkFacts,
    Prepared,
    finish_chunk,
    hex_bytes,
    inspect_chunk,
    prepare_chunk,
)
from eventstore.rowcheck import prefix_keys as _keys

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from eventstore.log import EventLog

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
    "known-stream": "no event refers to an unknown instrument: a listing opens every stream",
    "retraction-target": "every retraction withdraws an earlier event of its own stream",
}
#: Rows read and checked at a time.
CHUNK_ROWS: Final = 250_000
_OPENING: Final = np.array(
    [KINDS.index("InstrumentListed"), KINDS.index("ExchangeListed")], dtype=np.int8
)


def audit_log(log: EventLog, *, chunk_rows: int = CHUNK_ROWS) -> AuditReport:
    """Check every event of `log` and every promise between them; read only, write nothing."""
    findings = Findings(dict(LOG_CHECKS))
    try:
        log.refresh()
        with _chunk_friendly_pool():
            facts = _pipelined(_chunks(log, chunk_rows), findings)
    except StorageError as exc:
        missing = log.missing_commits()
        shown = ", ".join(map(str, missing[:10])) + (", ..." if len(missing) > 10 else "")
        which = f"commit {shown} is" if len(missing) == 1 else f"commits {shown} are"
        detail = f"{which} missing from the Delta log" if missing else str(exc)
        findings.add("readable", None, None, detail)
        facts = []
    return _across(facts, findings)


def audit_rows(rows: pa.Table | Iterable[pa.RecordBatch]) -> AuditReport:
    """Check rows of the log's schema (a table or record batches, any order)."""
    findings = Findings(dict(LOG_CHECKS))
    batches = rows.to_batches() if isinstance(rows, pa.Table) else rows
    tables = (pa.Table.from_batches([batch]) for batch in batches)
    return _across([inspect_chunk(table, findings) for table in tables], findings)


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


def _chunks(log: EventLog, size: int) -> Iterator[pa.Table]:
    """Gather the log's files into tables of about `size` rows."""
    pending: list[pa.Table] = []
    count = 0
    for table in log.read_files():
        pending.append(table)
        count += table.num_rows
        if count >= size:
            yield pa.concat_tables(pending)
            pending, count = [], 0
    if pending:
        yield pa.concat_tables(pending)


@dataclass
class _Columns:
    """The facts of every chunk, one entry per row, and the rows in position order."""

    facts: ChunkFacts
    order: np.ndarray

    @classmethod
    def of(cls, parts: list[ChunkFacts]) -> _Columns:
        def join(name: str) -> np.ndarray:
            return np.concatenate([getattr(part, name) for part in parts])

        def chained(name: str) -> pa.Array:
            return pa.chunked_array([getattr(part, name) for part in parts]).combine_chunks()

        facts = ChunkFacts(
            *(join(name) for name in ("position", "recorded", "version", "kind")),
            *(join(name) for name in ("hash", "prev", "ident")),
            *(chained(name) for name in ("event_ids", "instruments", "targets")),
        )
        return cls(facts, np.argsort(facts.position, kind="stable"))

    def where(self, row: int) -> tuple[int, str | None]:
        """Return the position and event id of a row, as a violation names them."""
        event_id = self.facts.event_ids[row].as_py()
        return int(self.facts.position[row]), event_id


def _across(parts: list[ChunkFacts], findings: Findings) -> AuditReport:
    events = sum(len(part.position) for part in parts)
    if events:
        columns = _Columns.of(parts)
        parts.clear()
        _positions(columns, findings)
        _chain(columns, findings)
        _recorded(columns, findings)
        ids = _unique_ids(columns, findings)
        streams = _streams(columns, findings)
        _retractions(columns, ids, streams, findings)
    return AuditReport(events, findings.results())


def _positions(c: _Columns, findings: Findings) -> None:
    ordered = c.facts.position[c.order]
    if ordered[0] != 0:
        first = int(ordered[0])
        detail = f"positions 0..{first - 1} are missing" if first > 0 else "negative position"
        findings.add("position", *c.where(int(c.order[0])), detail)
    steps = np.diff(ordered)

    def repeated(at: int) -> tuple[int, str | None, str]:
        return (*c.where(int(c.order[at + 1])), "position appears twice")

    def missing(at: int) -> tuple[int, None, str]:
        low, high = int(ordered[at]) + 1, int(ordered[at + 1]) - 1
        which = f"position {low} is" if low == high else f"positions {low}..{high} are"
        return low, None, f"{which} missing"

    findings.add_each("position", np.flatnonzero(steps == 0).tolist(), repeated)
    findings.add_each("position", np.flatnonzero(steps > 1).tolist(), missing)


def _chain(c: _Columns, findings: Findings) -> None:
    prev, hashes = c.facts.prev[c.order], c.facts.hash[c.order]
    broken = np.flatnonzero((prev[1:] != hashes[:-1]).any(axis=1)) + 1
    if c.facts.position[c.order[0]] == 0 and prev[0].any():
        broken = np.r_[0, broken]

    def unlinked(at: int) -> tuple[int, str | None, str]:
        return (*c.where(int(c.order[at])), "prev_hash is not the previous event's hash")

    findings.add_each("chain", broken.tolist(), unlinked)


def _recorded(c: _Columns, findings: Findings) -> None:
    recorded = c.facts.recorded[c.order]

    def backwards(at: int) -> tuple[int, str | None, str]:
        now, before = from_micros(int(recorded[at])), from_micros(int(recorded[at - 1]))
        return (*c.where(int(c.order[at])), f"{now} is before {before}")

    findings.add_each(
        "recorded-at", (np.flatnonzero(np.diff(recorded) < 0) + 1).tolist(), backwards
    )


def _unique_ids(c: _Columns, findings: Findings) -> tuple[np.ndarray, np.ndarray]:
    """Report repeated ids; return the ids sorted and the rows in that order, for lookups.

    Sorting by the first 64 bits alone is exact here: rows whose first halves are equal
    (a repeat, or a rare clash) are compared whole, in position order.
    """
    ident = c.facts.ident
    order = c.order[np.argsort(ident[c.order, 0], kind="stable")]
    high = ident[order, 0]
    same = np.flatnonzero(high[1:] == high[:-1])
    repeats: list[int] = []
    if len(same):
        runs = np.unique(np.r_[same, same + 1])
        seen: set[tuple[int, int]] = set()
        for at in runs.tolist():  # few: the rows of repeated ids, in position order per id
            key = (int(ident[order[at], 0]), int(ident[order[at], 1]))
            if key in seen:
                repeats.append(at)
            seen.add(key)

    def repeated(at: int) -> tuple[int, str | None, str]:
        return (*c.where(int(order[at])), "event id appears more than once")

    findings.add_each("unique-id", repeats, repeated)
    return ident[order], order


def _streams(c: _Columns, findings: Findings) -> np.ndarray:
    """Report version gaps and streams no listing opens; return every row's stream code."""
    codes = np.asarray(c.facts.instruments.dictionary_encode().indices, dtype=np.int64)
    order = c.order[np.argsort(codes[c.order], kind="stable")]
    versions, stream = c.facts.version[order], codes[order]
    starts = np.r_[True, stream[1:] != stream[:-1]]
    first = np.flatnonzero(starts)

    def start(at: int) -> tuple[int, str | None, str]:
        detail = f"{_stream(c, order[at])} starts at version {versions[at]}, not 1"
        return (*c.where(int(order[at])), detail)

    def gap(at: int) -> tuple[int, str | None, str]:
        detail = f"{_stream(c, order[at])}: version {versions[at]} follows {versions[at - 1]}"
        return (*c.where(int(order[at])), detail)

    def unopened(at: int) -> tuple[int, str | None, str]:
        code = int(c.facts.kind[order[at]])
        kind = KINDS[code] if code >= 0 else "event of an unknown kind"
        return (*c.where(int(order[at])), f"{_stream(c, order[at])} begins with an {kind}")

    findings.add_each("stream-version", first[versions[first] != 1].tolist(), start)
    skipped = np.flatnonzero(~starts[1:] & (versions[1:] != versions[:-1] + 1)) + 1
    findings.add_each("stream-version", skipped.tolist(), gap)
    opening = np.isin(c.facts.kind[order[first]], _OPENING)
    findings.add_each("known-stream", first[~opening].tolist(), unopened)
    return codes


def _stream(c: _Columns, row: int) -> str:
    return str(c.facts.instruments[int(row)].as_py())


def _retractions(
    c: _Columns, ids: tuple[np.ndarray, np.ndarray], streams: np.ndarray, findings: Findings
) -> None:
    rows = np.flatnonzero(c.facts.kind == RETRACTED)
    if not len(rows):
        return
    targets = c.facts.targets.take(pa.array(rows))
    wanted = _keys(hex_bytes(targets, 36, UUID_DIGITS))
    for row, target, key in zip(rows.tolist(), targets.to_pylist(), wanted, strict=True):
        _retraction(c, row, str(target), _find(ids, key), streams, findings)


def _find(ids: tuple[np.ndarray, np.ndarray], key: np.ndarray) -> int | None:
    """Return the first row (in position order) whose id has the 128-bit `key`."""
    ordered, order = ids
    low = int(np.searchsorted(ordered[:, 0], key[0], "left"))
    high = int(np.searchsorted(ordered[:, 0], key[0], "right"))
    for index in range(low, high):
        if ordered[index, 1] == key[1]:
            return int(order[index])
    return None


def _retraction(
    c: _Columns, row: int, target: str, found: int | None, streams: np.ndarray, findings: Findings
) -> None:
    problem = None
    if found is None:
        problem = f"targets {target}, which is not in the log"
    elif c.facts.position[found] >= c.facts.position[row]:
        problem = f"targets {target}, which comes after it"
    elif streams[found] != streams[row]:
        problem = f"targets {target}, an event of {_stream(c, found)}"
    elif c.facts.kind[found] == RETRACTED:
        problem = f"targets {target}, another retraction"
    if problem is not None:
        findings.add("retraction-target", *c.where(row), problem)


__all__ = ["CHUNK_ROWS", "LOG_CHECKS", "audit_log", "audit_rows"]
