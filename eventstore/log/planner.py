"""Plan one append: deduplicate, check streams and expected versions, assign the envelope.

Planning reads only the writer's `LogTail` (and, rarely, stored events to confirm id hits
or resolve retraction targets: a batch's all in one read). It writes nothing, so a plan
that loses the commit race is simply made again against the newer tail.

The work is split by what depends on order: payloads and ids of the whole batch first,
then stream versions (vectorized when every event is new, else one sequential pass that
decides event by event), then the hash chain, then the recorded events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from msgspec.structs import force_setattr

from eventstore.encoding.codec import observed_line, rfc3339
from eventstore.encoding.hashing import (
    EventIds,
    batch_event_ids,
    batch_payloads,
    chain_links,
    link_texts,
)
from eventstore.encoding.schema import TIMESTAMP
from eventstore.encoding.table import Envelope, PlannedEvents
from eventstore.errors import InvalidEventError, UnknownStreamError
from eventstore.gcpause import paused_gc
from eventstore.log.tail import LogTail, id_key
from eventstore.log.targets import target_positions
from eventstore.log.versions import all_new_versions
from eventstore.model.events import Event, EventRetracted
from eventstore.model.instants import from_micros
from eventstore.model.kinds import OPENS_STREAM

if TYPE_CHECKING:
    from datetime import datetime

StoredLookup = Callable[[Sequence[int]], dict[int, Event]]


@dataclass
class Plan:
    """An append ready to commit: the new events and every input as it will be recorded."""

    recorded: list[Event]
    new: list[Event]
    new_keys: np.ndarray
    streams: dict[str, int]
    first_position: int
    next_position: int
    last_hash: str
    recorded_us: int
    key_order: np.ndarray | None = None  # `np.argsort(new_keys)`, when known


@dataclass
class _Pass:
    """Which inputs are new, their stream versions, and what the others repeat."""

    tail: LogTail
    stored: StoredLookup
    batch: Sequence[Event]
    ids: list[str]
    new: list[int] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    streams: dict[str, int] = field(default_factory=dict)
    #: input index -> the stored event it repeats, or the index of an earlier new input
    found: dict[int, Event | int] = field(default_factory=dict)
    by_id: dict[str, int] = field(default_factory=dict)
    #: stored events already read, by position
    read: dict[int, Event] = field(default_factory=dict)

    def run(self, maybe_stored: list[bool]) -> _Pass:
        """Decide event by event, in input order."""
        self._prefetch(maybe_stored)
        by_id, streams, known = self.by_id, self.streams, self.tail.streams
        new, versions = self.new, self.versions
        steps = zip(self.batch, self.ids, maybe_stored, strict=True)
        for index, (event, event_id, hit) in enumerate(steps):
            if hit or event_id in by_id:
                found = self.existing(event_id, check_log=hit)
                if found is not None:
                    self.found[index] = found
                    continue
            stream = event.instrument_id
            version = streams.get(stream) or known.get(stream, 0)
            if version == 0 and not isinstance(event, OPENS_STREAM):
                raise UnknownStreamError("instrument", stream)
            if isinstance(event, EventRetracted):
                self.check_target(event)
            streams[stream] = version + 1
            versions.append(version + 1)
            new.append(index)
            by_id[event_id] = index
        return self

    def existing(self, event_id: str, *, check_log: bool = True) -> Event | int | None:
        if event_id in self.by_id:
            return self.by_id[event_id]
        if not check_log:
            return None
        try:
            key = id_key(event_id)
        except ValueError:  # not shaped like an event id: no stored event has it
            return None
        candidates = self.tail.candidates(key)
        if not candidates:
            return None
        self._read(candidates)
        for position in candidates:
            event = self.read.get(position)
            if event is not None and event.event_id == event_id:
                return event
        return None

    def _prefetch(self, maybe_stored: list[bool]) -> None:
        """Read every stored event an input may repeat or retract in one scan, not one each."""
        keys = (id_key(self.ids[i]) for i, hit in enumerate(maybe_stored) if hit)
        targets = (e.target for e in self.batch if isinstance(e, EventRetracted))
        repeats = (p for key in keys for p in self.tail.candidates(key))
        self._read([*repeats, *target_positions(self.tail, targets)])

    def _read(self, positions: Sequence[int]) -> None:
        missing = sorted({p for p in positions if p not in self.read})
        if missing:
            self.read.update(self.stored(missing))

    def check_target(self, event: EventRetracted) -> None:
        target = self.existing(event.target)
        if isinstance(target, int):
            target = self.batch[target]  # an earlier new input: the same but for the envelope
        if target is None:
            raise UnknownStreamError("retraction target", event.target)
        if target.instrument_id != event.instrument_id:
            raise InvalidEventError(
                f"target {event.target} belongs to {target.instrument_id!r}, "
                f"not {event.instrument_id!r}",
                field="target",
            )
        if isinstance(target, EventRetracted):
            raise InvalidEventError("a retraction cannot be retracted", field="target")


def plan_batch(
    batch: Sequence[Event],
    tail: LogTail,
    expected: Mapping[str, int],
    now_us: int,
    stored: StoredLookup,
) -> Plan:
    """Return the plan for appending `batch` after `tail`, or raise without side effects."""
    recorded_us = tail.recording_time(expected, now_us)
    _check_observed(batch, from_micros(recorded_us))
    with paused_gc():
        payloads = batch_payloads(batch)
        ids = batch_event_ids(payloads)
        steps = _Pass(tail, stored, batch, ids.text)
        maybe_stored = tail.maybe_stored(ids.keys)
        fast = all_new_versions(batch, ids.keys, maybe_stored, tail.streams)
        if fast is None:
            steps.run(maybe_stored.tolist())
        else:
            steps.new = list(range(len(batch)))
            steps.versions, steps.streams = fast.versions, fast.streams
        return _plan(steps, payloads, ids, recorded_us)


def _check_observed(batch: Sequence[Event], recorded_at: datetime) -> None:
    """Refuse the batch if an event says it was observed after the log would record it."""
    for event in batch:
        observed = event.observed_at
        if observed is not None and observed > recorded_at:
            raise InvalidEventError(
                f"{rfc3339(observed)} is after the time the log records it "
                f"({rfc3339(recorded_at)}): a fact cannot be known from its source before "
                f"it was observed; nothing was appended",
                field="observed_at",
            )


@dataclass(frozen=True)
class _NewInputs:
    """The inputs to append, in input order, with what was computed for them."""

    events: list[Event]
    payloads: list[bytes]
    ids: list[str]
    id_column: pa.Array
    keys: np.ndarray

    @classmethod
    def of(cls, steps: _Pass, payloads: list[bytes], ids: EventIds) -> _NewInputs:
        rows = steps.new
        if len(rows) == len(steps.batch):
            return cls(list(steps.batch), payloads, ids.text, ids.column, ids.keys)
        at = np.asarray(rows, np.int64)
        return cls(
            [steps.batch[i] for i in rows],
            [payloads[i] for i in rows],
            [ids.text[i] for i in rows],
            ids.column.take(pa.array(at)),
            ids.keys[at],
        )


def _plan(steps: _Pass, payloads: list[bytes], ids: EventIds, recorded_us: int) -> Plan:
    """Return the plan of the new inputs `steps` found: hash chain, envelope, recorded events."""
    tail, new = steps.tail, _NewInputs.of(steps, payloads, ids)
    first, recorded_at = tail.next_position, from_micros(recorded_us)
    versions = pa.array(steps.versions, pa.int64())
    recorded_text = rfc3339(recorded_at)
    observed = _observed_lines(new.events, recorded_text)
    texts = link_texts(new.id_column, first, recorded_text, versions, new.payloads, observed)
    links = chain_links(tail.last_hash, texts)
    prevs = [tail.last_hash, *links[:-1]] if links else []
    events = _recorded(new.events, new.ids, first, recorded_at, steps.versions, prevs, links)
    size = len(events)
    hashes = pa.array(links, pa.string())
    envelope = Envelope(
        position=pa.array(np.arange(first, first + size, dtype=np.int64)),
        event_id=new.id_column,
        recorded_at=pa.array(np.full(size, recorded_us, np.int64)).view(TIMESTAMP),
        stream_version=versions,
        prev_hash=pa.concat_arrays([pa.array(prevs[:1], pa.string()), hashes[: size - 1]]),
        hash=hashes,
    )
    return Plan(
        recorded=_in_input_order(steps, events),
        new=PlannedEvents(events, envelope),
        new_keys=new.keys,
        streams=steps.streams,
        first_position=first,
        next_position=first + size,
        last_hash=links[-1] if links else tail.last_hash,
        recorded_us=recorded_us,
    )


def _observed_lines(events: list[Event], recorded_at: str) -> list[bytes]:
    """Return each event's `observed_line` (a batch holds few distinct observations)."""
    lines: dict[datetime | None, bytes] = {None: b""}
    found = []
    for event in events:
        line = lines.get(event.observed_at)
        if line is None:
            at = event.observed_at
            line = lines[at] = b"" if at is None else observed_line(rfc3339(at), recorded_at)
        found.append(line)
    return found


def _recorded(
    events: list[Event],
    event_ids: list[str],
    first: int,
    recorded_at: datetime,
    versions: list[int],
    prevs: list[str],
    links: list[str],
) -> list[Event]:
    """Return copies of `events` with their envelope set, positions counting from `first`.

    msgspec's own copy: `replace` would validate every event a second time.
    """
    recorded: list[Event] = [event.__copy__() for event in events]  # type: ignore[attr-defined]
    put = force_setattr
    for copy, event_id, position, version, prev, link in zip(
        recorded, event_ids, count(first), versions, prevs, links, strict=False
    ):
        put(copy, "event_id", event_id)
        if copy.observed_at is None:
            put(copy, "observed_at", recorded_at)
        put(copy, "recorded_at", recorded_at)
        put(copy, "position", position)
        put(copy, "stream_version", version)
        put(copy, "prev_hash", prev)
        put(copy, "hash", link)
    return recorded


def _in_input_order(steps: _Pass, new: list[Event]) -> list[Event]:
    """Return every input as recorded: new ones as planned, repeats as found."""
    if not steps.found:
        return list(new)
    planned = dict(zip(steps.new, new, strict=True))
    recorded: list[Event] = []
    for index in range(len(steps.batch)):
        found = steps.found.get(index)
        if found is None:
            recorded.append(planned[index])
        else:
            recorded.append(planned[found] if isinstance(found, int) else found)
    return recorded
