"""The pure fold: the definition of every answer the catalog gives.

`state(instrument, as_of=T, known_at=K, recorded_by=R)` folds that instrument's events
with `effective_at <= T`, `observed_at <= K` and `recorded_at <= R`, in order of
(`effective_at`, `position`), after removing events withdrawn by a retraction that passes
the same two filters. `known_since` is the latest `observed_at` among the events that
formed a version, `recorded_since` the latest `recorded_at`. The fast index must agree
with these functions exactly; the property tests hold it to that.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 - a NamedTuple's fields are read at runtime
from typing import TYPE_CHECKING, Any, Final, NamedTuple, assert_never, cast

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
from eventstore.model.kinds import AnyEvent, Subject, classes_of
from eventstore.model.rules import EXCHANGE_FIELDS
from projections.model import FIELDS, Exchange, Instrument

if TYPE_CHECKING:
    from collections.abc import Iterable

#: The classes of an exchange's stream.
_EXCHANGE_KINDS: Final = classes_of(Subject.EXCHANGE)


@dataclass(frozen=True)
class Withdrawn:
    """Where a retracted event stood in the fold: it applies nothing, but from there on the
    answer is only known since the retraction was observed (and recorded)."""

    instrument_id: str
    effective_at: datetime
    position: int
    observed_at: datetime
    recorded_at: datetime


Folded = AnyEvent | Withdrawn


class _Since(NamedTuple):
    """When a fact became knowable, and when it was recorded."""

    observed: datetime
    recorded: datetime


def visible(
    events: Iterable[Event], known_at: datetime | None, recorded_by: datetime | None = None
) -> list[Folded]:
    """Return the events observed by `known_at` and recorded by `recorded_by`; a retracted
    one is replaced by its marker."""
    known = [
        e
        for e in events
        if (known_at is None or _observed(e) <= known_at)
        and (recorded_by is None or _recorded(e) <= recorded_by)
    ]
    # a target retracted more than once is withdrawn as known since the latest of them
    retractions: dict[str, _Since] = {}
    for e in known:
        if isinstance(e, EventRetracted):
            when = _Since(_observed(e), _recorded(e))
            seen = retractions.setdefault(e.target, when)
            retractions[e.target] = _Since(
                max(seen.observed, when.observed), max(seen.recorded, when.recorded)
            )
    found: list[Folded] = []
    for event in known:
        if isinstance(event, EventRetracted):
            continue
        retraction = retractions.get(event.event_id or "")
        if retraction is None:
            found.append(cast("AnyEvent", event))  # every decoded event is of a known kind
        else:
            found.append(
                Withdrawn(
                    event.instrument_id,
                    event.effective_at,
                    event.position or 0,
                    retraction.observed,
                    retraction.recorded,
                )
            )
    return found


def _recorded(event: Event | Withdrawn) -> datetime:
    if event.recorded_at is None:
        raise ValueError(f"event {event.event_id} has not been recorded")
    return event.recorded_at


def _observed(event: Event | Withdrawn) -> datetime:
    """Return when `event` was observed (a recorded event always says; else when recorded)."""
    return event.observed_at or _recorded(event)


def _order(event: Folded) -> tuple[datetime, int]:
    return event.effective_at, event.position or 0


def apply(state: Instrument | None, event: Folded) -> Instrument | None:
    """Return the instrument after `event`; events before a listing change nothing."""
    match event:
        case InstrumentListed():
            return _listed(state, event)
        case InstrumentChanged():
            return _then(state, event, **event.changes)
        case InstrumentDelisted():
            return _then(state, event, active=False, status=event.status)
        case InstrumentRenamed():
            return _then(state, event, symbol=event.new_symbol)
        case Withdrawn():
            return _then(state, event)
        case EventRetracted() | ExchangeListed() | ExchangeChanged():
            return state  # not in an instrument's fold: withdrawn by `visible`, or elsewhere
        case _:
            assert_never(event)


def _listed(state: Instrument | None, event: InstrumentListed) -> Instrument:
    """Return the instrument a listing opens; a relisting keeps what it does not restate."""
    given: dict[str, Any] = {f: getattr(event, f) for f in FIELDS}
    if state is not None:
        given = {f: v if v is not None else getattr(state, f) for f, v in given.items()}
    return Instrument(
        instrument_id=event.instrument_id,
        symbol=event.symbol,
        active=True,
        status=event.status,
        valid_from=event.effective_at,
        known_since=_known(state, event),
        recorded_since=_recorded_since(state, event),
        **given,
    )


def _then(state: Instrument | None, event: Folded, **values: Any) -> Instrument | None:
    """Return `state` with `values` from `event` on; nothing before a listing."""
    if state is None:
        return None
    moved = {
        "valid_from": event.effective_at,
        "known_since": _known(state, event),
        "recorded_since": _recorded_since(state, event),
    }
    return replace(state, **values, **moved)


def _known(state: Instrument | None, event: Folded) -> datetime:
    observed = _observed(event)
    return observed if state is None else max(state.known_since, observed)


def _recorded_since(state: Instrument | None, event: Folded) -> datetime:
    recorded = _recorded(event)
    return recorded if state is None else max(state.recorded_since, recorded)


def instrument_versions(
    events: Iterable[Event], known_at: datetime | None, recorded_by: datetime | None = None
) -> list[Instrument]:
    """Return one instrument's versions (one per distinct effective time), oldest first."""
    ordered = sorted(visible(events, known_at, recorded_by), key=_order)
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
    events: Iterable[Event],
    as_of: datetime,
    known_at: datetime | None,
    recorded_by: datetime | None = None,
) -> dict[str, Instrument]:
    """Return every instrument that exists at `as_of`, by instrument id."""
    streams: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if not isinstance(event, _EXCHANGE_KINDS):
            streams[event.instrument_id].append(event)
    found: dict[str, Instrument] = {}
    for instrument_id, stream in streams.items():
        state = None
        for folded in sorted(visible(stream, known_at, recorded_by), key=_order):
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
    events: Iterable[Event],
    symbol: str,
    as_of: datetime,
    known_at: datetime | None,
    recorded_by: datetime | None = None,
) -> Instrument | None:
    """Return the instrument holding `symbol` at `as_of`, as known at `known_at`."""
    return resolve(states(events, as_of, known_at, recorded_by).values(), symbol)


def exchanges(
    events: Iterable[Event],
    as_of: datetime,
    known_at: datetime | None,
    recorded_by: datetime | None = None,
) -> dict[str, Exchange]:
    """Return every exchange that exists at `as_of`, by name."""
    found: dict[str, Exchange] = {}
    seen = visible(events, known_at, recorded_by)
    relevant = [e for e in seen if isinstance(e, _EXCHANGE_KINDS)]
    for event in sorted(relevant, key=_order):
        if event.effective_at <= as_of:
            _fold_exchange(found, event)
    return found


def _fold_exchange(found: dict[str, Exchange], event: Folded) -> None:
    """Apply `event` to the exchanges in `found`; a change before the listing does nothing."""
    match event:
        case ExchangeListed():
            found[event.exchange] = _described(event, found.get(event.exchange))
        case ExchangeChanged():
            if event.exchange in found:
                found[event.exchange] = _described(event, found[event.exchange])
        case (
            InstrumentListed()
            | InstrumentChanged()
            | InstrumentDelisted()
            | InstrumentRenamed()
            | EventRetracted()
            | Withdrawn()
        ):
            pass  # not in an exchange's fold
        case _:
            assert_never(event)


def _described(event: ExchangeListed | ExchangeChanged, previous: Exchange | None) -> Exchange:
    """Return the exchange after `event`: what it does not say is kept from `previous`."""
    given = {f: getattr(event, f) for f in EXCHANGE_FIELDS}
    known, recorded = _observed(event), _recorded(event)
    if previous is not None:
        given = {f: v if v is not None else getattr(previous, f) for f, v in given.items()}
        known = max(previous.known_since, known)
        recorded = max(previous.recorded_since, recorded)
    return Exchange(
        exchange=event.exchange,
        valid_from=event.effective_at,
        known_since=known,
        recorded_since=recorded,
        **given,
    )
