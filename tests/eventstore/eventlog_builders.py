"""Builders of events for the eventstore tests, and a clock the tests control."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eventstore import (
    EventRetracted,
    ExchangeChanged,
    ExchangeListed,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
)

#: The day every builder's `effective_at` counts from.
DAY0 = datetime(2024, 1, 1, tzinfo=UTC)


class StepClock:
    """A clock for `EventLog.open(clock=...)`: each reading is one millisecond after the last.

    Assign `now` to move it anywhere, backwards included.
    """

    def __init__(self, start: datetime = datetime(2025, 6, 1, tzinfo=UTC)) -> None:
        self.now = start
        self.readings: list[datetime] = []

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        self.readings.append(self.now)
        return self.now


def listed(n: int, *, day: int = 0, **fields: Any) -> InstrumentListed:
    """Return the listing of instrument `n` (`BINANCE:COIN<n>USDT`) on day `day`."""
    return InstrumentListed(
        instrument_id=f"inst-{n}",
        symbol=f"BINANCE:COIN{n}USDT",
        effective_at=DAY0 + timedelta(days=day),
        source="binance",
        **{
            "exchange": "BINANCE",
            "base": f"COIN{n}",
            "quote": "USDT",
            "tick_size": "0.01",
            **fields,
        },
    )


def changed(n: int, *, day: int = 1, **changes: Any) -> InstrumentChanged:
    """Return a change of instrument `n` on day `day` (a new tick size unless told)."""
    return InstrumentChanged(
        instrument_id=f"inst-{n}",
        symbol=f"BINANCE:COIN{n}USDT",
        effective_at=DAY0 + timedelta(days=day),
        source="binance",
        changes=changes or {"tick_size": "0.1"},
    )


def retracted(n: int, target: str, *, day: int = 2) -> EventRetracted:
    """Return the retraction of event `target` in the stream of instrument `n`."""
    return EventRetracted(
        instrument_id=f"inst-{n}",
        symbol=f"BINANCE:COIN{n}USDT",
        effective_at=DAY0 + timedelta(days=day),
        source="manual",
        target=target,
        reason="wrong tick size",
    )


def exchange_listed(name: str = "BINANCE") -> ExchangeListed:
    """Return the listing of exchange `name`."""
    return ExchangeListed(
        exchange=name, effective_at=DAY0, source="manual", country="MT", is_crypto=True
    )


def exchange_changed(name: str = "BINANCE", **fields: Any) -> ExchangeChanged:
    """Return a change of exchange `name`."""
    return ExchangeChanged(
        exchange=name,
        effective_at=DAY0 + timedelta(days=1),
        source="manual",
        **(fields or {"timezone": "UTC"}),
    )


def delisted(n: int, *, day: int = 3, **fields: Any) -> InstrumentDelisted:
    """Return the delisting of instrument `n` on day `day` (status left at its default)."""
    return InstrumentDelisted(
        instrument_id=f"inst-{n}",
        symbol=f"BINANCE:COIN{n}USDT",
        effective_at=DAY0 + timedelta(days=day),
        source="binance",
        reason="removed by the venue",
        **fields,
    )


def renamed(n: int, new_symbol: str, *, day: int = 2) -> InstrumentRenamed:
    """Return the rename of instrument `n` to `new_symbol` on day `day`."""
    return InstrumentRenamed(
        instrument_id=f"inst-{n}",
        symbol=f"BINANCE:COIN{n}USDT",
        effective_at=DAY0 + timedelta(days=day),
        source="binance",
        new_symbol=new_symbol,
    )
