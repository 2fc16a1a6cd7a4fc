"""A catalog for the engine tests: renames, a reused ticker, late corrections, a retraction.

Recorded in four commits on days 0, 6, 10 and 14, so `known_at` and `known_at="row"` see
different things on different days:

- coin 1 lists on day 0, its tick size changes on day 1 (retracted on day 10), and a lot
  size effective on day 2 is recorded late, on day 6;
- `X:A` is held by I-A from day 1 to its delisting on day 5 (a tick size effective on day 3
  recorded on day 6), then reused by I-B from day 8, which renames it to `X:B` on day 12
  and changes its lot size on day 13 (recorded on day 14);
- coin 2 lists on day 0 and renames to `BINANCE:NEWCOIN` on day 4.

`bars` asks every symbol (and one nobody held) twice a day for 16 days, shuffled, with a
payload column and a few null cells.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import pyarrow as pa
from builders import changed, day, delisted, listed, renamed, retracted

if TYPE_CHECKING:
    from clock import Clock

    from eventstore import EventLog

SYMBOLS: Final = (
    "BINANCE:COIN1USDT",
    "X:A",
    "X:B",
    "BINANCE:COIN2USDT",
    "BINANCE:NEWCOIN",
    "X:NOBODY",
)
UTC_US: Final = pa.timestamp("us", tz="UTC")


def write_history(log: EventLog, clock: Clock) -> None:
    """Append the history of the module docstring."""
    clock.set(day(0))
    first = log.append(
        [
            listed(1, day=0),
            changed(1, day=1),
            listed("I-A", "X:A", day(1), tick_size=Decimal("0.01")),
            delisted("I-A", "X:A", day(5)),
            listed("I-B", "X:A", day(8), tick_size=Decimal(1)),
            renamed("I-B", "X:A", "X:B", day(12)),
            listed(2, day=0),
            renamed(2, None, "BINANCE:NEWCOIN", day=4),
        ]
    )
    clock.set(day(6))
    log.append(
        [
            changed(1, day=2, lot_size=Decimal("0.001")),
            changed("I-A", "X:A", day(3), tick_size=Decimal("0.5")),
        ]
    )
    clock.set(day(10))
    log.append([retracted(first[1], day(1))])
    clock.set(day(14))
    log.append([changed("I-B", "X:B", day(13), lot_size=Decimal(2))])


def bars(seed: int = 7) -> pa.Table:
    """Return the shuffled rows of the module docstring."""
    cells: list[tuple[str | None, object]] = [
        (s, day(n, h)) for s in SYMBOLS for n in range(16) for h in (0, 12)
    ]
    cells += [(None, day(3)), ("X:A", None)]
    random.Random(seed).shuffle(cells)
    return pa.table(
        {
            "payload": pa.array(range(len(cells)), pa.int64()),
            "symbol": pa.array([s for s, _ in cells], pa.string()),
            "ts": pa.array([t for _, t in cells], UTC_US),
        }
    )
