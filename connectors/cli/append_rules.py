"""What `catalog append` refuses beyond the event constructors: what the audit would flag.

Each line's values meet the rules of `eventstore.model.rules` (read from the line's own JSON, so
`"1_000"` is refused rather than read as 1000): sizes positive decimals of ASCII digits,
statuses the documented words (a delisting's terminal), no expiry before the listing,
symbols printable `EXCHANGE:TICKER` names. Then the file is checked against the log as it
stands: a change, delisting or rename must name the symbol its instrument holds at that
time (the fold would ignore it silently), must not be effective before the instrument's
first listing (`listed-first`), and an expiry it sets must not fall before the listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, assert_never

import pyarrow.compute as pc

from eventstore import (
    Event,
    EventRetracted,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
    InvalidEventError,
    compute_event_id,
)
from eventstore.encoding.codec import from_table
from eventstore.model.events import ExchangeChanged, ExchangeListed
from eventstore.model.kinds import Subject, as_any, classes_of
from eventstore.model.value_rules import (
    SIZE_FIELDS,
    check_instrument_id,
    check_name,
    check_option_type,
    check_span,
    check_status,
    check_symbol,
    size,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from eventstore import EventLog
    from eventstore.model.kinds import AnyEvent

#: Kinds whose envelope `symbol` must be the one the instrument holds at `effective_at`.


def check_values(event: AnyEvent, raw: Mapping[str, Any]) -> None:
    """Refuse a decoded `event` whose values break a rule; `raw` is its line's JSON object."""
    match event:
        case ExchangeListed() | ExchangeChanged():
            check_name(event.exchange, "exchange")
        case EventRetracted():
            check_instrument_id(event.instrument_id)
        case InstrumentListed():
            _instrument(event)
            _fields(raw)
            check_span(event.listed_at or event.effective_at, event.expiry)
        case InstrumentChanged():
            _instrument(event)
            changes = raw.get("changes")
            _fields(changes if isinstance(changes, dict) else {})
            check_span(event.changes.get("listed_at"), event.changes.get("expiry"))
        case InstrumentDelisted():
            _instrument(event)
            check_status(event.status, terminal=True)
        case InstrumentRenamed():
            _instrument(event)
            check_symbol(event.new_symbol, "new_symbol")
        case _:
            assert_never(event)


def _instrument(event: Event) -> None:
    """Refuse an instrument event whose id or symbol breaks a rule."""
    check_instrument_id(event.instrument_id)
    check_symbol(event.symbol)


def _fields(given: Mapping[str, Any]) -> None:
    for name in SIZE_FIELDS:
        size(given.get(name), name)
    check_status(given.get("status"))
    check_option_type(given.get("option_type"))


@dataclass
class _Held:
    """What the walk along one instrument's events knows at each step."""

    symbol: str | None = None
    first_listing: datetime | None = None
    listed_at: datetime | None = None
    expiry: datetime | None = None


#: One step of an instrument's fold: (effective_at, order, event, its line or None if stored).
_Step = tuple[datetime, int, Event, int | None]


class LogRuleError(InvalidEventError):
    """A line that the log as it stands makes wrong; `line` says which."""

    def __init__(self, line: int, reason: str, *, field: str | None = None) -> None:
        """Say which line and why."""
        self.line = line
        super().__init__(reason, field=field)


def check_against_log(log: EventLog, lines: Sequence[tuple[int, Event]]) -> None:
    """Refuse the first of the (line, event) pairs that the log and the lines before it
    make wrong, with a `LogRuleError`."""
    fresh = _fresh(lines)
    if not fresh:
        return
    ids = sorted({event.instrument_id for _, event, _ in fresh})
    end = len(log)
    stored = from_table(log.read(where=pc.field("instrument_id").isin(ids))) if end else []
    known = {event.event_id for event in stored}
    fresh = [(line, event, key) for line, event, key in fresh if key not in known]
    targets = [e for e in [*stored, *(e for _, e, _ in fresh)] if isinstance(e, EventRetracted)]
    withdrawn = {event.target for event in targets}
    steps: dict[str, list[_Step]] = {}
    for event in stored:
        if event.event_id not in withdrawn:
            _add(steps, (event.effective_at, event.position or 0, event, None))
    for line, event, key in fresh:
        if key not in withdrawn:
            _add(steps, (event.effective_at, end + line, event, line))
    problems = [problem for timeline in steps.values() for problem in _walk(timeline)]
    if problems:
        raise min(problems, key=lambda problem: problem.line)


def _fresh(lines: Sequence[tuple[int, Event]]) -> list[tuple[int, Event, str]]:
    """Return the file's instrument events with their ids, each id once (repeats dropped)."""
    found: dict[str, tuple[int, Event, str]] = {}
    for line, event in lines:
        if isinstance(event, classes_of(Subject.EXCHANGE)):
            continue
        key = compute_event_id(event)
        found.setdefault(key, (line, event, key))
    return list(found.values())


def _add(steps: dict[str, list[_Step]], step: _Step) -> None:
    event = step[2]
    if not isinstance(event, EventRetracted):
        steps.setdefault(event.instrument_id, []).append(step)


def _walk(timeline: list[_Step]) -> Iterator[LogRuleError]:
    """Yield what is wrong with the file's lines of one instrument, in fold order."""
    ordered = sorted(timeline, key=lambda step: (step[0], step[1]))
    listings = [at for at, _, event, _ in ordered if isinstance(event, InstrumentListed)]
    held = _Held(first_listing=min(listings) if listings else None)
    for _, _, event, line in ordered:
        if line is not None and held.first_listing is not None:
            yield from _judge(event, line, held)
        _apply(held, event)
        if line is not None and _sets_span(event):
            yield from _span(held, line)


def _judge(event: Event, line: int, held: _Held) -> Iterator[LogRuleError]:
    assert held.first_listing is not None
    match as_any(event):
        case InstrumentChanged() | InstrumentDelisted() | InstrumentRenamed():
            pass  # they name the instrument's symbol: it must be the one it holds
        case InstrumentListed() | EventRetracted() | ExchangeListed() | ExchangeChanged():
            return
        case other:
            assert_never(other)
    if event.effective_at < held.first_listing:
        yield LogRuleError(
            line,
            f"effective {event.effective_at.isoformat()}, before the instrument's listing at "
            f"{held.first_listing.isoformat()} (the audit's listed-first)",
            field="effective_at",
        )
    elif event.symbol != held.symbol:
        yield LogRuleError(
            line,
            f"{event.symbol!r} is not the instrument's symbol at "
            f"{event.effective_at.isoformat()}: it holds {held.symbol!r}",
            field="symbol",
        )


def _apply(held: _Held, event: Event) -> None:
    match as_any(event):
        case InstrumentListed() as listed:
            held.symbol = listed.symbol
            held.listed_at = listed.listed_at or held.listed_at
            held.expiry = listed.expiry or held.expiry
        case InstrumentRenamed() as renamed:
            held.symbol = renamed.new_symbol
        case InstrumentChanged() as changed:
            held.listed_at = changed.changes.get("listed_at", held.listed_at)
            held.expiry = changed.changes.get("expiry", held.expiry)
        case InstrumentDelisted() | EventRetracted() | ExchangeListed() | ExchangeChanged():
            pass  # the symbol and the span stay
        case other:
            assert_never(other)


def _sets_span(event: Event) -> bool:
    match as_any(event):
        case InstrumentChanged() as changed:
            return "expiry" in changed.changes or "listed_at" in changed.changes
        case InstrumentListed():
            return True
        case (
            InstrumentDelisted()
            | InstrumentRenamed()
            | EventRetracted()
            | ExchangeListed()
            | ExchangeChanged()
        ):
            return False
        case other:
            assert_never(other)


def _span(held: _Held, line: int) -> Iterator[LogRuleError]:
    listing = held.listed_at or held.first_listing
    try:
        check_span(listing, held.expiry)
    except InvalidEventError as exc:
        yield LogRuleError(line, exc.reason, field=exc.field)
