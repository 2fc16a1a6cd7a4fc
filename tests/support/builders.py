"""The event builders every test folder shares: one name per kind, one way to call it.

Each builder takes the stream first, in one of two forms:

- a coin number `n`: instrument `inst-<n>`, symbol `BINANCE:COIN<n>USDT`, as the venue sends
  it (source `binance`, a listing carries exchange, base, quote and tick size), effective a
  default number of days after `T0` (`day=`) unless `at` says when;
- an instrument id and a symbol: a bare event (source `test`, only the fields given),
  effective `at` (default `T0`).

A stored field given by keyword (`source=` included) overrides its default.

Times are instants after `T0` (2024-01-01T00:00Z): `day(n, hours)`. `observed(event, at)`
gives any of them an `observed_at` (left None, the log sets it to `recorded_at`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from msgspec.structs import replace

from eventstore import (
    EventRetracted,
    ExchangeChanged,
    ExchangeListed,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
)

if TYPE_CHECKING:
    from eventstore import Event

#: The instant every builder counts from.
T0 = datetime(2024, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
#: A stream: a coin number, or an instrument id (with its symbol given next to it).
Stream = int | str
E = TypeVar("E", bound="Event")


def day(n: float, hours: float = 0) -> datetime:
    """Return the instant `n` days and `hours` hours after `T0`."""
    return T0 + timedelta(days=n, hours=hours)


def coin_symbol(n: int) -> str:
    """Return the symbol of coin `n`."""
    return f"BINANCE:COIN{n}USDT"


def _head(stream: Stream, symbol: str | None, at: datetime | None, days: float) -> dict[str, Any]:
    """Return the envelope of an event in `stream` (see the module docstring)."""
    if isinstance(stream, int):
        return {
            "instrument_id": f"inst-{stream}",
            "symbol": symbol or coin_symbol(stream),
            "effective_at": at or day(days),
            "source": "binance",
        }
    assert symbol is not None, "a named instrument needs its symbol"
    return {"instrument_id": stream, "symbol": symbol, "effective_at": at or T0, "source": "test"}


def listed(
    stream: Stream, symbol: str | None = None, at: datetime | None = None, /, *, day: float = 0,
    **fields: Any,
) -> InstrumentListed:  # fmt: skip
    """Return a listing (or relisting); a coin comes with its venue fields unless overridden."""
    if isinstance(stream, int):
        venue = {"exchange": "BINANCE", "base": f"COIN{stream}", "quote": "USDT"}
        fields = {**venue, "tick_size": "0.01", **fields}
    return InstrumentListed(**(_head(stream, symbol, at, day) | fields))


def changed(
    stream: Stream, symbol: str | None = None, at: datetime | None = None, /, *, day: float = 1,
    **changes: Any,
) -> InstrumentChanged:  # fmt: skip
    """Return a change of some fields (of a coin: a new tick size unless told)."""
    if isinstance(stream, int):
        changes = changes or {"tick_size": "0.1"}
    return InstrumentChanged(**_head(stream, symbol, at, day), changes=changes)


def delisted(
    stream: Stream, symbol: str | None = None, at: datetime | None = None, /,
    reason: str | None = None, *, day: float = 3, **fields: Any,
) -> InstrumentDelisted:  # fmt: skip
    """Return a delisting (status left at its default unless given)."""
    said = reason or ("removed by the venue" if isinstance(stream, int) else "venue notice")
    return InstrumentDelisted(**(_head(stream, symbol, at, day) | {"reason": said} | fields))


def renamed(
    stream: Stream, old: str | None, new: str, at: datetime | None = None, /, *, day: float = 2
) -> InstrumentRenamed:
    """Return the rename from `old` (a coin: None for its own symbol) to `new`."""
    return InstrumentRenamed(**_head(stream, old, at, day), new_symbol=new)


def retracted(
    target: Event | str, at: datetime | None = None, reason: str | None = None, *,
    day: float = 2, stream: int | None = None, source: str = "test",
) -> EventRetracted:  # fmt: skip
    """Return the retraction of `target`: a recorded event, in its own stream (from `source`),
    or an event id in the stream of coin `stream` (decided by hand, `manual`)."""
    if isinstance(target, str):
        assert stream is not None, "retracting an event id needs the coin whose stream it is"
        head = _head(stream, None, at, day) | {"source": "manual"}
        return EventRetracted(**head, target=target, reason=reason or "wrong tick size")
    assert target.event_id is not None, "retract an event as returned by append"
    return EventRetracted(
        instrument_id=target.instrument_id,
        symbol=target.symbol,
        effective_at=at or T0,
        source=source,
        target=target.event_id,
        reason=reason or "wrong value",
    )


def exchange_listed(name: str = "BINANCE") -> ExchangeListed:
    """Return the listing of exchange `name`."""
    return ExchangeListed(
        exchange=name, effective_at=T0, source="manual", country="MT", is_crypto=True
    )


def exchange_changed(name: str = "BINANCE", **fields: Any) -> ExchangeChanged:
    """Return a change of exchange `name` (a time zone unless told)."""
    return ExchangeChanged(
        exchange=name, effective_at=day(1), source="manual", **(fields or {"timezone": "UTC"})
    )


def observed(event: E, at: datetime) -> E:
    """Return `event` as observed from its source at `at` (its `observed_at`)."""
    return replace(event, observed_at=at)
