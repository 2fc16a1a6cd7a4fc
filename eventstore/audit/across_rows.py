"""The log's promises across rows: positions, links, times, ids, streams, retractions.

They run on the compact columns every chunk left (`rowcheck.ChunkFacts`), concatenated.
A clean log takes the linear paths: the order by position is a scatter (positions are a
permutation of 0..n-1), ids are checked by one sort of their first halves, stream
versions by scattering each event into its stream's slot. Anything else falls back to
sorting, which also finds what to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa

from eventstore.audit.findings import AuditReport, Findings
from eventstore.audit.row_checks import RETRACTED, UUID_DIGITS, ChunkFacts, hex_bytes, id_text
from eventstore.audit.row_checks import prefix_keys as _keys
from eventstore.model.instants import from_micros
from eventstore.model.kinds import KINDS

#: The codes of the kinds that may open a stream.
_OPENING: Final = np.array(
    [code for code, kind in enumerate(KINDS) if kind.opens_stream], dtype=np.int8
)


def _position_order(position: np.ndarray) -> np.ndarray:
    """Return the rows in position order: a scatter when positions are 0..n-1 exactly."""
    size = len(position)
    if size and position.min() == 0 and position.max() == size - 1:
        order = np.full(size, -1, dtype=np.int64)
        order[position] = np.arange(size, dtype=np.int64)
        if (order >= 0).all():
            return order
    return np.argsort(position, kind="stable")


@dataclass
class Columns:
    """The facts of every chunk, one entry per row, and the rows in position order."""

    facts: ChunkFacts
    order: np.ndarray

    @classmethod
    def of(cls, parts: list[ChunkFacts]) -> Columns:
        """Concatenate the facts of `parts` (and drop them from the list)."""

        def join(name: str) -> np.ndarray:
            return np.concatenate([getattr(part, name) for part in parts])

        def merged(name: str) -> dict[int, Any]:
            offsets = np.cumsum([0, *(len(part.position) for part in parts)]).tolist()
            return {
                offset + row: value
                for part, offset in zip(parts, offsets, strict=False)
                for row, value in getattr(part, name).items()
            }

        facts = ChunkFacts(
            position=join("position"),
            recorded=join("recorded"),
            version=join("version"),
            kind=join("kind"),
            hash=join("hash"),
            prev=join("prev"),
            ident=join("ident"),
            odd_ids=merged("odd_ids"),
            instruments=pa.chunked_array([p.instruments for p in parts]).combine_chunks(),
            targets=merged("targets"),
        )
        parts.clear()
        return cls(facts, _position_order(facts.position))

    def where(self, row: int) -> tuple[int, str | None]:
        """Return the position and event id of a row, as a violation names them."""
        event_id = self.facts.odd_ids.get(row)
        if event_id is None and row not in self.facts.odd_ids:
            event_id = id_text(self.facts.ident[row].astype(">u8").view(np.uint8))
        return int(self.facts.position[row]), event_id

    def stream(self, row: int) -> str:
        """Return the stream (instrument id) of a row."""
        return str(self.facts.instruments[int(row)].as_py())


def check_across(parts: list[ChunkFacts], findings: Findings) -> AuditReport:
    """Run every check across rows on the chunks' facts; return the report."""
    events = sum(len(part.position) for part in parts)
    if events:
        columns = Columns.of(parts)
        _positions(columns, findings)
        _chain(columns, findings)
        columns.facts.hash = columns.facts.prev = np.empty((0, 2), np.uint64)  # done with
        _recorded(columns, findings)
        _unique_ids(columns, findings)
        streams = _streams(columns, findings)
        _retractions(columns, streams, findings)
    return AuditReport(events, findings.results())


def _positions(c: Columns, findings: Findings) -> None:
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


def _chain(c: Columns, findings: Findings) -> None:
    prev, hashes = c.facts.prev[c.order], c.facts.hash[c.order]
    broken = np.flatnonzero((prev[1:] != hashes[:-1]).any(axis=1)) + 1
    if c.facts.position[c.order[0]] == 0 and prev[0].any():
        broken = np.r_[0, broken]

    def unlinked(at: int) -> tuple[int, str | None, str]:
        return (*c.where(int(c.order[at])), "prev_hash is not the previous event's hash")

    findings.add_each("chain", broken.tolist(), unlinked)


def _recorded(c: Columns, findings: Findings) -> None:
    recorded = c.facts.recorded[c.order]

    def backwards(at: int) -> tuple[int, str | None, str]:
        now, before = from_micros(int(recorded[at])), from_micros(int(recorded[at - 1]))
        return (*c.where(int(c.order[at])), f"{now} is before {before}")

    found = (np.flatnonzero(np.diff(recorded) < 0) + 1).tolist()
    findings.add_each("recorded-at", found, backwards)


def _unique_ids(c: Columns, findings: Findings) -> None:
    """Report each repeat of an id (the later ones, by position).

    One sort of the ids' first 64 bits settles a clean log; rows whose first halves are
    equal (a repeat, or a rare clash) are then compared whole.
    """
    ident = c.facts.ident
    if not (np.diff(np.sort(ident[:, 0])) == 0).any():
        return
    order = c.order[np.argsort(ident[c.order, 0], kind="stable")]
    high = ident[order, 0]
    same = np.flatnonzero(high[1:] == high[:-1])
    repeats: list[int] = []
    seen: set[tuple[int, int]] = set()
    for at in np.unique(np.r_[same, same + 1]).tolist():  # few: rows sharing a first half
        key = (int(ident[order[at], 0]), int(ident[order[at], 1]))
        if key in seen:
            repeats.append(at)
        seen.add(key)

    def repeated(at: int) -> tuple[int, str | None, str]:
        return (*c.where(int(order[at])), "event id appears more than once")

    findings.add_each("unique-id", repeats, repeated)


def _stream_order(codes: np.ndarray, c: Columns) -> np.ndarray:
    """Return the rows grouped by stream, each stream's rows in position order.

    When every stream's versions are 1..k, each row's slot is its stream's offset plus
    its version: a scatter. Otherwise (or if the versions do not follow positions), sort.
    """
    counts = np.bincount(codes)
    versions = c.facts.version
    if (versions >= 1).all() and (versions <= counts[codes]).all():
        slot = (np.cumsum(counts) - counts)[codes] + versions - 1
        order = np.full(len(codes), -1, dtype=np.int64)
        order[slot] = np.arange(len(codes), dtype=np.int64)
        if (order >= 0).all():
            position = c.facts.position[order]
            same = codes[order][1:] == codes[order][:-1]
            if (position[1:][same] > position[:-1][same]).all():
                return order
    return c.order[np.argsort(codes[c.order], kind="stable")]


def _streams(c: Columns, findings: Findings) -> np.ndarray:
    """Report version gaps and streams no listing opens; return every row's stream code."""
    codes = np.asarray(c.facts.instruments.dictionary_encode().indices, dtype=np.int64)
    order = _stream_order(codes, c)
    versions, stream = c.facts.version[order], codes[order]
    starts = np.r_[True, stream[1:] != stream[:-1]]
    first = np.flatnonzero(starts)

    def start(at: int) -> tuple[int, str | None, str]:
        detail = f"{c.stream(order[at])} starts at version {versions[at]}, not 1"
        return (*c.where(int(order[at])), detail)

    def gap(at: int) -> tuple[int, str | None, str]:
        detail = f"{c.stream(order[at])}: version {versions[at]} follows {versions[at - 1]}"
        return (*c.where(int(order[at])), detail)

    def unopened(at: int) -> tuple[int, str | None, str]:
        code = int(c.facts.kind[order[at]])
        kind = KINDS[code].name if code >= 0 else "event of an unknown kind"
        return (*c.where(int(order[at])), f"{c.stream(order[at])} begins with an {kind}")

    findings.add_each("stream-version", first[versions[first] != 1].tolist(), start)
    skipped = np.flatnonzero(~starts[1:] & (versions[1:] != versions[:-1] + 1)) + 1
    findings.add_each("stream-version", skipped.tolist(), gap)
    opening = np.isin(c.facts.kind[order[first]], _OPENING)
    findings.add_each("known-stream", first[~opening].tolist(), unopened)
    return codes


def _retractions(c: Columns, streams: np.ndarray, findings: Findings) -> None:
    if not c.facts.targets:
        return
    rows, targets = zip(*c.facts.targets.items(), strict=True)
    wanted = _keys(hex_bytes(pa.array(targets, pa.string()), 36, UUID_DIGITS))
    # by position, then by the first half of the id: a binary search per retraction
    order = c.order[np.argsort(c.facts.ident[c.order, 0], kind="stable")]
    high = c.facts.ident[order, 0]
    for row, target, key in zip(rows, targets, wanted, strict=True):
        found = _find(c, order, high, key)
        _retraction(c, row, str(target), found, streams, findings)


def _find(c: Columns, order: np.ndarray, high: np.ndarray, key: np.ndarray) -> int | None:
    """Return the first row (by position) whose id is the 128-bit `key`."""
    low, end = np.searchsorted(high, key[0], "left"), np.searchsorted(high, key[0], "right")
    for index in range(int(low), int(end)):
        if c.facts.ident[order[index], 1] == key[1]:
            return int(order[index])
    return None


def _retraction(
    c: Columns, row: int, target: str, found: int | None, streams: np.ndarray, findings: Findings
) -> None:
    problem = None
    if found is None:
        problem = f"targets {target}, which is not in the log"
    elif c.facts.position[found] >= c.facts.position[row]:
        problem = f"targets {target}, which comes after it"
    elif streams[found] != streams[row]:
        problem = f"targets {target}, an event of {c.stream(found)}"
    elif c.facts.kind[found] == RETRACTED:
        problem = f"targets {target}, another retraction"
    if problem is not None:
        findings.add("retraction-target", *c.where(row), problem)


__all__ = ["Columns", "check_across"]
