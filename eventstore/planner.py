"""Plan one append: deduplicate, check streams and expected versions, assign the envelope.

Planning reads only the writer's `LogTail` (and, rarely, stored events to confirm an id
hit or resolve a retraction's target). It writes nothing, so a plan that loses the commit
race is simply made again against the newer tail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from msgspec.structs import force_setattr

from eventstore.codec import event_id_for, link_hash, payload_bytes, rfc3339
from eventstore.errors import InvalidEventError, StreamVersionConflictError, UnknownStreamError
from eventstore.events import Event, EventRetracted, ExchangeListed, InstrumentListed
from eventstore.instant import from_micros
from eventstore.tail import LogTail, id_key

StoredLookup = Callable[[Sequence[int]], dict[int, Event]]
_OPENS_STREAM = (InstrumentListed, ExchangeListed)


@dataclass
class Plan:
    """An append ready to commit: the new events and every input as it will be recorded."""

    recorded: list[Event]
    new: list[Event]
    new_keys: list[int]
    streams: dict[str, int]
    first_position: int
    next_position: int
    last_hash: str
    recorded_us: int


@dataclass
class _Planner:
    tail: LogTail
    stored: StoredLookup
    recorded_us: int
    new: list[Event] = field(default_factory=list)
    new_keys: list[int] = field(default_factory=list)
    streams: dict[str, int] = field(default_factory=dict)
    by_id: dict[str, Event] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.position = self.tail.next_position
        self.prev_hash = self.tail.last_hash
        self.recorded_at = from_micros(self.recorded_us)
        self.recorded_text = rfc3339(self.recorded_at)

    def existing(self, event_id: str, *, check_log: bool = True) -> Event | None:
        if event_id in self.by_id:
            return self.by_id[event_id]
        if not check_log:
            return None
        candidates = self.tail.candidates(id_key(event_id))
        if not candidates:
            return None
        for event in self.stored(candidates).values():
            if event.event_id == event_id:
                return event
        return None

    def stream_version(self, stream: str) -> int:
        return self.streams.get(stream, self.tail.streams.get(stream, 0))

    def check_target(self, event: EventRetracted) -> None:
        target = self.existing(event.target)
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

    def add(self, event: Event, payload: bytes, event_id: str, key: int) -> Event:
        stream = event.instrument_id
        version = self.stream_version(stream)
        if version == 0 and not isinstance(event, _OPENS_STREAM):
            raise UnknownStreamError("instrument", stream)
        if isinstance(event, EventRetracted):
            self.check_target(event)
        # msgspec's own shallow copy: replace() would validate the event a second time
        recorded: Event = event.__copy__()  # type: ignore[attr-defined]
        link = link_hash(
            self.prev_hash, event_id, self.position, self.recorded_text, version + 1, payload
        )
        force_setattr(recorded, "event_id", event_id)
        force_setattr(recorded, "recorded_at", self.recorded_at)
        force_setattr(recorded, "position", self.position)
        force_setattr(recorded, "stream_version", version + 1)
        force_setattr(recorded, "prev_hash", self.prev_hash)
        force_setattr(recorded, "hash", link)
        self.streams[stream] = version + 1
        self.position += 1
        self.prev_hash = link
        self.new.append(recorded)
        self.new_keys.append(key)
        self.by_id[event_id] = recorded
        return recorded


def plan_batch(
    batch: Sequence[Event],
    tail: LogTail,
    expected: Mapping[str, int],
    now_us: int,
    stored: StoredLookup,
) -> Plan:
    """Return the plan for appending `batch` after `tail`, or raise without side effects."""
    conflicts = {
        stream: (want, tail.streams.get(stream, 0))
        for stream, want in expected.items()
        if tail.streams.get(stream, 0) != want
    }
    if conflicts:
        raise StreamVersionConflictError(conflicts)
    # recorded_at never goes backwards along positions, whatever this writer's clock says
    planner = _Planner(tail, stored, max(now_us, tail.last_recorded_us))
    recorded: list[Event] = []
    payloads = [payload_bytes(event) for event in batch]
    event_ids = [event_id_for(payload) for payload in payloads]
    keys = [id_key(event_id) for event_id in event_ids]
    maybe_stored = tail.maybe_stored(keys)
    for event, payload, event_id, key, check in zip(
        batch, payloads, event_ids, keys, maybe_stored, strict=True
    ):
        found = planner.existing(event_id, check_log=check)
        if found is None:
            found = planner.add(event, payload, event_id, key)
        recorded.append(found)
    return Plan(
        recorded=recorded,
        new=planner.new,
        new_keys=planner.new_keys,
        streams=planner.streams,
        first_position=tail.next_position,
        next_position=planner.position,
        last_hash=planner.prev_hash,
        recorded_us=planner.recorded_us,
    )
