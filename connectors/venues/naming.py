"""The one naming rule every source meets on: TradingView's `EXCHANGE:TICKER`.

- spot pair: `BINANCE:BTCUSDT`, `OKX:BTCUSDT`, `BYBIT:BTCUSDT`
  (ids `binance:spot:BTCUSDT`, `okx:spot:BTC-USDT`, `bybit:spot:BTCUSDT`);
- perpetual: `BINANCE:BTCUSDT.P`, `OKX:BTCUSDT.P`, `BYBIT:BTCUSDT.P`
  (ids `binance:usdm:BTCUSDT`, `okx:swap:BTC-USDT-SWAP`, `bybit:linear:BTCUSDT`);
- dated future: base and quote, then the expiry date as `YYMMDD`: `BINANCE:BTCUSDT220325`,
  `OKX:BTCUSD241220` (ids `binance:usdm:BTCUSDT_220325`, `okx:futures:BTC-USD-241220`).

Instrument ids are natural keys `venue:market:native id`: they never change when a symbol does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


def dated_suffix(expiry: datetime | None) -> str:
    """Return the ticker suffix of a dated future expiring at `expiry` (`YYMMDD`)."""
    return "" if expiry is None else f"{expiry:%y%m%d}"
