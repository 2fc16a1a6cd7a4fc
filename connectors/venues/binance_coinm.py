"""Binance COIN-M futures: `GET https://dapi.binance.com/dapi/v1/exchangeInfo` into a snapshot.

The body has the USD-M shape (`connectors.venues.binance`), with the status in
`contractStatus` and a `contractSize` (USD per contract: 100 for BTC, 10 for the others).
COIN-M contracts are inverse: margined and settled in `marginAsset`, the base coin.
Perpetual or dated comes from `contractType` (`connectors.venues.usdm_kind`, the same enum),
and the statuses are USD-M's. Ids are `binance:coinm:<symbol>`. Symbols follow TradingView's
convention for COIN-M perpetuals, `BINANCE:BTCUSD.P` for `BTCUSD_PERP` (TradingView's symbol
page `tradingview.com/symbols/BTCUSD.P/?exchange=BINANCE`); TradingView has no symbol for the
dated ones, which take the catalog's dated rule, `BINANCE:BTCUSD200925` for `BTCUSD_200925`.
No USD-M pair is quoted in USD, so the two markets never share a symbol. Binance documents
no funding-interval endpoint here: `funding_interval` is not reported.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Final

import msgspec

from connectors.venues.binance import USDM_STATUS, Filter, filter_sizes
from connectors.venues.snapshot import (
    DATED_FIELDS,
    Snapshot,
    SourceRecord,
    from_millis,
    parse_rows,
)
from connectors.venues.usdm_kind import contract_name, settled
from eventstore.model.value_rules import size

if TYPE_CHECKING:
    from datetime import datetime

    from connectors.venues.http import SourceHttp

COINM_URL: Final = "https://dapi.binance.com"
COINM_PATH: Final = "/dapi/v1/exchangeInfo"
#: What COIN-M reports of every contract beside the dated fields.
COINM_FIELDS: Final = ("settle", "inverse", "contract_size", "max_qty", "min_price", "max_price")


class CoinmSymbol(msgspec.Struct, frozen=True, rename="camel"):
    """One element of `symbols`."""

    symbol: str
    contract_status: str
    base_asset: str
    quote_asset: str
    filters: list[Filter]
    pair: str = ""
    contract_type: str | None = None
    delivery_date: int | None = None
    onboard_date: int | None = None
    margin_asset: str | None = None
    contract_size: int | str | None = None


class CoinmExchangeInfo(msgspec.Struct, frozen=True, rename="camel"):
    """The `exchangeInfo` body."""

    server_time: int
    symbols: list[CoinmSymbol]


_DECODER: Final = msgspec.json.Decoder(CoinmExchangeInfo)


def coinm_record(info: CoinmSymbol, observed_at: datetime | None = None) -> SourceRecord:
    """Return one COIN-M contract (`BINANCE:BTCUSD.P`, or `BINANCE:BTCUSD200925` dated).

    `observed_at` is the body's `serverTime`: a perpetual past its real delist time is gone.
    """
    delivery = from_millis(info.delivery_date, "expiry")
    perpetual, symbol, expiry, delisted_at = contract_name(
        info.symbol, info.contract_type, info.pair or info.symbol.split("_")[0], delivery
    )
    listed_at = from_millis(info.onboard_date, "listed_at")
    given = None if info.contract_size is None else str(info.contract_size)
    fields = {
        "exchange": "BINANCE",
        "base": info.base_asset,
        "quote": info.quote_asset,
        "type": "swap" if perpetual else "futures",
        **filter_sizes(info.filters, usdm=True),
        "expiry": expiry,
        "listed_at": listed_at,
        "settle": info.margin_asset or None,
        "inverse": True,
        "contract_size": size(given, "contract_size"),
    }
    status, word = info.contract_status, info.contract_type
    gone = perpetual and settled(status, word, delisted_at, observed_at)
    dated_gone = (word or "").endswith((" DELIVERING", "_DELIVERING"))
    return SourceRecord(
        instrument_id=f"binance:coinm:{info.symbol}",
        symbol=symbol,
        fields=fields,
        status="delisted" if gone else "expired" if dated_gone else _status(status),
        venue_status=status,
        listed_at=listed_at,
        delisted_at=delisted_at,
    )


def _status(word: str) -> str:
    return USDM_STATUS.get(word, "halted")


def parse_coinm(body: CoinmExchangeInfo) -> Snapshot:
    """Return the COIN-M snapshot of a decoded `exchangeInfo`."""
    server_time = from_millis(body.server_time)
    records, rejected = parse_rows(
        body.symbols,
        partial(coinm_record, observed_at=server_time),
        lambda info: f"binance:coinm:{info.symbol}",
    )
    return Snapshot(
        source="binance-coinm",
        market="coinm",
        scope="binance:coinm:",
        records=records,
        rejected=rejected,
        server_time=server_time,
        reported=(*DATED_FIELDS, *COINM_FIELDS),
    )


async def fetch_coinm(http: SourceHttp, base_url: str = COINM_URL) -> list[Snapshot]:
    """Fetch and parse Binance COIN-M `exchangeInfo`."""
    url = base_url.rstrip("/") + COINM_PATH
    return [http.parsed(url, await http.get(url), _DECODER, parse_coinm)]
