"""The pure fold: the definition of every answer the catalog gives.

`state(instrument, as_of=T, known_at=K)` folds that instrument's events with
`effective_at <= T` and `recorded_at <= K`, in order of (`effective_at`, `position`), after
removing events withdrawn by a retraction recorded by K. The fast index must agree with
these functions exactly; the property tests hold it to that.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace

from eventstore.model.events import (
    Event,
    EventRetracted,
    ExchangeChanged,
    ExchangeListed,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
)
from projections.model import FIELDS, Exchange, Instrument

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

_EXCHANGE_KINDS = (ExchangeListed, ExchangeChanged)


@dataclass(frozen=True)
class Withdrawn:
    """Where a retracted event stood in the fold: it applies nothing, but from there on the
    answer is only known since the retraction was recorded."""

    instrument_id: str
    effective_at: datetime
    position: int
    recorded_at: datetime


Folded = Event | Withdrawn


def visible(events: Iterable[Event], known_at: datetime | None) -> list[Folded]:
    """Return the events known at `known_at`; a retracted one is replaced by its marker."""
    known = [e for e in events if known_at is None or _recorded(e) <= known_at]
    retractions = {e.target: e for e in known if isinstance(e, EventRetracted)}
    found: list[Folded] = []
    for event in known:
        if isinstance(event, EventRetracted):
            continue
        retraction = retractions.get(event.event_id or "")
        if retraction is None:
            found.append(event)
        else:
            found.append(
                Withdrawn(
                    event.instrument_id,
                    event.effective_at,
                    event.position or 0,
                    _recorded(retraction),
                )
            )
    return found


def _recorded(event: Folded) -> datetime:
    if event.recorded_at is None:
        raise ValueError(f"event {event.event_id} has not been recorded")
    return event.recorded_at


def _order(event: Folded) -> tuple[datetime, int]:
    return event.effective_at, event.position or 0


def apply(state: Instrument | None, event: Folded) -> Instrument | None:
    """Return the instrument after `event`; events before a listing change nothing."""
    if isinstance(event, InstrumentListed):
        given: dict[str, Any] = {f: getattr(event, f) for f in FIELDS}
        if state is not None:  # a relisting keeps what it does not restate
            given = {f: v if v is not None else getattr(state, f) for f, v in given.items()}
        return Instrument(
            instrument_id=event.instrument_id,
            symbol=event.symbol,
            active=True,
            status=event.status,
            valid_from=event.effective_at,
            known_since=_known(state, event),
            **given,
        )
    if state is None:
        return None
    moved = {"valid_from": event.effective_at, "known_since": _known(state, event)}
    if isinstance(event, InstrumentChanged):
        return replace(state, **event.changes, **moved)
    if isinstance(event, InstrumentDelisted):
        return replace(state, active=False, status=event.status, **moved)
    if isinstance(event, InstrumentRenamed):
        return replace(state, symbol=event.new_symbol, **moved)
    if isinstance(event, Withdrawn):
        return replace(state, **moved)
    return state


def _known(state: Instrument | None, event: Folded) -> datetime:
    recorded = _recorded(event)
    return recorded if state is None else max(state.known_since, recorded)


def instrument_versions(events: Iterable[Event], known_at: datetime | None) -> list[Instrument]:
    """Return one instrument's versions (one per distinct effective time), oldest first."""
    ordered = sorted(visible(events, known_at), key=_order)
    versions: list[Instrument] = []
    state: Instrument | None = None
    for event in ordered:
        state = apply(state, event)
        if state is None:
            continue
        if versions and versions[-1].valid_from == state.valid_from:
            versions[-1] = state
        else:
            versions.append(state)
    return versions


def states(
    events: Iterable[Event], as_of: datetime, known_at: datetime | None
) -> dict[str, Instrument]:
    """Return every instrument that exists at `as_of`, by instrument id."""
    streams: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if not isinstance(event, _EXCHANGE_KINDS):
            streams[event.instrument_id].append(event)
    found: dict[str, Instrument] = {}
    for instrument_id, stream in streams.items():
        state = None
        for folded in sorted(visible(stream, known_at), key=_order):
            if folded.effective_at > as_of:
                break
            state = apply(state, folded)
        if state is not None:
            found[instrument_id] = state
    return found


def resolve(candidates: Iterable[Instrument], symbol: str) -> Instrument | None:
    """Return the holder of `symbol` among instrument states: active first, then latest."""
    holders = [s for s in candidates if s.symbol == symbol]
    if not holders:
        return None
    return max(holders, key=lambda s: (s.active, s.valid_from, s.instrument_id))


def lookup(
    events: Iterable[Event], symbol: str, as_of: datetime, known_at: datetime | None
) -> Instrument | None:
    """Return the instrument holding `symbol` at `as_of`, as known at `known_at`."""
    return resolve(states(events, as_of, known_at).values(), symbol)


def exchanges(
    events: Iterable[Event], as_of: datetime, known_at: datetime | None
) -> dict[str, Exchange]:
    """Return every exchange that exists at `as_of`, by name."""
    found: dict[str, Exchange] = {}
    relevant = [e for e in visible(events, known_at) if isinstance(e, _EXCHANGE_KINDS)]
    for event in sorted(relevant, key=_order):
        if event.effective_at > as_of or not isinstance(event, _EXCHANGE_KINDS):
            continue
        previous = found.get(event.exchange)
        if previous is None and isinstance(event, ExchangeChanged):
            continue
        given = {f: getattr(event, f) for f in ("country", "timezone", "is_crypto", "description")}
        if previous is not None:
            given = {f: v if v is not None else getattr(previous, f) for f, v in given.items()}
        known = (
            _recorded(event) if previous is None else max(previous.known_since, _recorded(event))
        )
        found[event.exchange] = Exchange(
            exchange=event.exchange, valid_from=event.effective_at, known_since=known, **given
        )
    return found
