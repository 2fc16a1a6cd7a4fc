"""Prove a log intact: every event decodes, ids and links recompute, counters are contiguous."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from eventstore.encoding.codec import compute_hash, decode_row, event_id_for, payload_bytes
from eventstore.errors import CorruptEventError
from eventstore.model.events import GENESIS_HASH

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass(frozen=True)
class ChainViolation:
    """One broken promise of the log, at a position, with the event id when known."""

    check: str
    position: int | None
    event_id: str | None
    detail: str

    def __str__(self) -> str:
        """Return a one-line description."""
        return f"[{self.check}] position {self.position} ({self.event_id}): {self.detail}"


@dataclass
class _Checker:
    expected_position: int = 0
    prev_hash: str = GENESIS_HASH
    last_recorded: object = None
    streams: dict[str, int] | None = None
    seen: set[str] | None = None

    def __post_init__(self) -> None:
        self.streams = {}
        self.seen = set()
        self.found: list[ChainViolation] = []

    def flag(self, check: str, row: dict[str, object], detail: str) -> None:
        position = row.get("position")
        event_id = row.get("event_id")
        self.found.append(
            ChainViolation(
                check,
                position if isinstance(position, int) else None,
                event_id if isinstance(event_id, str) else None,
                detail,
            )
        )

    def check(self, row: dict[str, object]) -> None:
        assert self.streams is not None
        assert self.seen is not None
        position = row.get("position")
        if position != self.expected_position:
            self.flag("position", row, f"expected {self.expected_position}, found {position}")
        self.expected_position = (position if isinstance(position, int) else 0) + 1
        event_id = str(row.get("event_id"))
        if event_id in self.seen:
            self.flag("unique-id", row, "event id appears more than once")
        self.seen.add(event_id)
        stream = str(row.get("instrument_id"))
        want = self.streams.get(stream, 0) + 1
        if row.get("stream_version") != want:
            self.flag("stream-version", row, f"{stream}: expected {want}")
        self.streams[stream] = want
        recorded = row.get("recorded_at")
        if self.last_recorded is not None and recorded < self.last_recorded:  # type: ignore[operator]
            self.flag("recorded-at", row, f"{recorded} is before {self.last_recorded}")
        self.last_recorded = recorded
        observed = row.get("observed_at")
        if observed is not None and recorded is not None and observed > recorded:  # type: ignore[operator]
            self.flag("observed-at", row, f"observed at {observed}, after it was recorded")
        self.check_content(row)

    def check_content(self, row: dict[str, object]) -> None:
        if row.get("prev_hash") != self.prev_hash:
            self.flag("chain", row, "prev_hash does not match the previous event's hash")
        self.prev_hash = str(row.get("hash"))
        try:
            event = decode_row(row)
        except CorruptEventError as exc:
            self.flag("decode", row, exc.reason)
            return
        payload = payload_bytes(event)  # once, for both the id and the link
        if event_id_for(payload) != event.event_id:
            self.flag("event-id", row, "the id does not match the event's content")
        if compute_hash(event, payload) != event.hash:
            self.flag("hash", row, "the hash does not match the event's content")


def verify_chain(rows: pa.Table | Iterable[dict[str, object]]) -> list[ChainViolation]:
    """Return every violation found in the log's rows, read in position order.

    Checked: each row decodes; positions run 0, 1, 2...; event ids are unique and equal
    the UUIDv5 of the content; stream versions run 1, 2, 3... per stream; `recorded_at`
    never goes backwards and `observed_at` is never after it; each `prev_hash` is the
    previous `hash` and each `hash` recomputes. An empty list means the log is intact.
    """
    checker = _Checker()
    if isinstance(rows, pa.Table):
        for batch in rows.sort_by("position").to_batches(max_chunksize=65_536):
            for row in batch.to_pylist():
                checker.check(row)
    else:
        for row in rows:
            checker.check(row)
    return checker.found
