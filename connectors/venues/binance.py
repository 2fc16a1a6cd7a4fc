"""Binance spot and USD-M futures: `exchangeInfo` into snapshots.

Wire Structs keep Binance's names. Spot: tick size from `PRICE_FILTER.tickSize`, lot step and
min quantity from `LOT_SIZE`, min notional from `NOTIONAL.minNotional` or the older
`MIN_NOTIONAL.minNotional`. USD-M: the same filters, min notional from
`MIN_NOTIONAL.notional`, listing time `onboardDate`. A filter value of 0 means Binance
enforces nothing: it is stored as null; any other value must be a positive decimal
(`eventstore.model.value_rules.size`), else the row is rejected. Limits: `max_qty` from
`LOT_SIZE.maxQty`, `max_notional` from `NOTIONAL.maxNotional` or the `MAX_NOTIONAL` filter
(spot only), `min_price` and `max_price` from `PRICE_FILTER`. `MARKET_LOT_SIZE.maxQty`, which
moves with the market on nearly every snapshot, is not read. USD-M contracts are linear
(`inverse` false, `contract_size` 1) and settle in `marginAsset`; perpetuals fund at the
intervals of `fundingInfo` (`connectors.venues.binance_funding`).

USD-M: perpetual or dated comes from `contractType` (`connectors.venues.usdm_kind`), never
from `deliveryDate`: Binance gives a settling perpetual its delist time there. A dated
contract's `deliveryDate` is its expiry; a perpetual's is a far-future sentinel (after 2100,
its exact value varies) or, when real, when it is (to be) delisted: `delisted_at`.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Final

import msgspec

from connectors.venues import binance_funding
from connectors.venues.snapshot import (
    DATED_FIELDS,
    EXCHANGE_FIELDS,
    Snapshot,
    SourceRecord,
    decimal_text,
    from_millis,
    parse_rows,
)
from connectors.venues.usdm_kind import contract_name, settled

if TYPE_CHECKING:
    from datetime import datetime

    from connectors.venues.binance_funding import Funding
    from connectors.venues.http import SourceHttp

SPOT_URL: Final = "https://api.binance.com"
USDM_URL: Final = "https://fapi.binance.com"
SPOT_PATH: Final = "/api/v3/exchangeInfo"
USDM_PATH: Final = "/fapi/v1/exchangeInfo"

#: Venue status -> normalized status. BREAK is how Binance keeps delisted spot pairs.
SPOT_STATUS: Final = {
    "PRE_TRADING": "pre_trading",
    "TRADING": "trading",
    "POST_TRADING": "cancel_only",
    "END_OF_DAY": "halted",
    "HALT": "halted",
    "AUCTION_MATCH": "halted",
    "BREAK": "delisted",
}
USDM_STATUS: Final = {
    "PENDING_TRADING": "pre_trading",
    "TRADING": "trading",
    "PRE_DELIVERING": "cancel_only",
    "DELIVERING": "expired",
    "DELIVERED": "expired",
    "PRE_SETTLE": "cancel_only",
    "SETTLING": "delisted",
    "CLOSE": "delisted",
}


class Filter(msgspec.Struct, frozen=True, rename="camel"):
    """One entry of `filters`; only the keys the catalog reads."""

    filter_type: str
    tick_size: str | None = None
    step_size: str | None = None
    min_qty: str | None = None
    min_notional: str | None = None
    notional: str | None = None
    min_price: str | None = None
    max_price: str | None = None
    max_qty: str | None = None
    max_notional: str | None = None


class SymbolInfo(msgspec.Struct, frozen=True, rename="camel"):
    """One element of `symbols`."""

    symbol: str
    status: str
    base_asset: str
    quote_asset: str
    filters: list[Filter]
    contract_type: str | None = None
    delivery_date: int | None = None
    onboard_date: int | None = None
    margin_asset: str | None = None


class ExchangeInfo(msgspec.Struct, frozen=True, rename="camel"):
    """The `exchangeInfo` body."""

    server_time: int
    symbols: list[SymbolInfo]


_DECODER: Final = msgspec.json.Decoder(ExchangeInfo)
#: What spot `exchangeInfo` reports of every pair beside the common fields.
SPOT_LIMITS: Final = ("max_qty", "max_notional", "min_price", "max_price")
#: ...and USD-M of every contract (no max notional); `funding_interval` with `fundingInfo`.
USDM_FIELDS: Final = ("settle", "inverse", "contract_size", "max_qty", "min_price", "max_price")
_ONE: Final = Decimal(1)


def _decimal(value: str | None, field: str) -> Decimal | None:
    return decimal_text(value, field, zero_is_null=True)


def filter_sizes(filters: list[Filter], *, usdm: bool) -> dict[str, Decimal | None]:
    """Return the sizes and limits of a symbol's `filters` (`usdm`: the futures' shape)."""
    by_type = {item.filter_type: item for item in filters}
    price, lot = by_type.get("PRICE_FILTER"), by_type.get("LOT_SIZE")
    notional = by_type.get("NOTIONAL") or by_type.get("MIN_NOTIONAL")
    if notional is None:
        min_notional = None
    else:
        min_notional = _decimal(
            notional.notional if usdm else notional.min_notional, "min_notional"
        )
    found = {
        "tick_size": _decimal(price.tick_size, "tick_size") if price else None,
        "lot_size": _decimal(lot.step_size, "lot_size") if lot else None,
        "min_qty": _decimal(lot.min_qty, "min_qty") if lot else None,
        "min_notional": min_notional,
        "max_qty": _decimal(lot.max_qty, "max_qty") if lot else None,
        "min_price": _decimal(price.min_price, "min_price") if price else None,
        "max_price": _decimal(price.max_price, "max_price") if price else None,
    }
    if not usdm:
        capped = by_type.get("NOTIONAL") or by_type.get("MAX_NOTIONAL")
        found["max_notional"] = _decimal(capped.max_notional, "max_notional") if capped else None
    return found


def spot_record(info: SymbolInfo) -> SourceRecord:
    """Return one spot symbol as a record (`BINANCE:BTCUSDT`)."""
    fields = {
        "exchange": "BINANCE",
        "base": info.base_asset,
        "quote": info.quote_asset,
        "type": "spot",
        **filter_sizes(info.filters, usdm=False),
    }
    return SourceRecord(
        instrument_id=f"binance:spot:{info.symbol}",
        symbol=f"BINANCE:{info.symbol}",
        fields=fields,
        status=SPOT_STATUS.get(info.status, "halted"),
        venue_status=info.status,
    )


def usdm_record(
    info: SymbolInfo, observed_at: datetime | None = None, funding: Funding | None = None
) -> SourceRecord:
    """Return one USD-M contract (`BINANCE:BTCUSDT.P`, or `BINANCE:BTCUSDT220325` dated).

    `observed_at` is the body's `serverTime`: a perpetual whose delist time lies at or
    before it is delisted (see `connectors.venues.usdm_kind`). `funding` gives a
    perpetual's funding interval (a dated contract's is null); without it none is said.
    """
    delivery = from_millis(info.delivery_date, "expiry")
    perpetual, symbol, expiry, delisted_at = contract_name(
        info.symbol, info.contract_type, info.symbol.split("_")[0], delivery
    )
    listed_at = from_millis(info.onboard_date, "listed_at")
    fields = {
        "exchange": "BINANCE",
        "base": info.base_asset,
        "quote": info.quote_asset,
        "type": "swap" if perpetual else "futures",
        **filter_sizes(info.filters, usdm=True),
        "expiry": expiry,
        "listed_at": listed_at,
        "settle": info.margin_asset or None,
        "inverse": False,
        "contract_size": _ONE,
    }
    if funding is not None:
        fields["funding_interval"] = funding.interval(info.symbol) if perpetual else None
    gone = perpetual and settled(info.status, info.contract_type, delisted_at, observed_at)
    return SourceRecord(
        instrument_id=f"binance:usdm:{info.symbol}",
        symbol=symbol,
        fields=fields,
        status="delisted" if gone else _usdm_status(info),
        venue_status=info.status,
        listed_at=listed_at,
        delisted_at=delisted_at,
    )


def _usdm_status(info: SymbolInfo) -> str:
    # A delivered quarterly stays listed as DELIVERING with "CURRENT_QUARTER DELIVERING".
    if (info.contract_type or "").endswith((" DELIVERING", "_DELIVERING")):
        return "expired"
    return USDM_STATUS.get(info.status, "halted")


def _snapshot(
    body: ExchangeInfo, market: str, usdm: bool, funding: Funding | None = None
) -> Snapshot:
    server_time = from_millis(body.server_time)
    make = partial(usdm_record, observed_at=server_time, funding=funding) if usdm else spot_record
    records, rejected = parse_rows(
        body.symbols, make, lambda info: f"binance:{market}:{info.symbol}"
    )
    return Snapshot(
        source=f"binance-{market}",
        market=market,
        scope=f"binance:{market}:",
        records=records,
        rejected=rejected,
        server_time=server_time,
        reported=_usdm_reported(funding) if usdm else (*EXCHANGE_FIELDS, *SPOT_LIMITS),
    )


def _usdm_reported(funding: Funding | None) -> tuple[str, ...]:
    extra = () if funding is None else ("funding_interval",)
    return (*DATED_FIELDS, *USDM_FIELDS, *extra)


def parse_spot(body: ExchangeInfo) -> Snapshot:
    """Return the spot snapshot of a decoded `exchangeInfo`."""
    return _snapshot(body, "spot", usdm=False)


def parse_usdm(body: ExchangeInfo, funding: Funding | None = None) -> Snapshot:
    """Return the USD-M snapshot of a decoded `exchangeInfo` (and `fundingInfo`)."""
    return _snapshot(body, "usdm", usdm=True, funding=funding)


async def fetch_spot(http: SourceHttp, base_url: str = SPOT_URL) -> list[Snapshot]:
    """Fetch and parse Binance spot `exchangeInfo`."""
    url = base_url.rstrip("/") + SPOT_PATH
    return [http.parsed(url, await http.get(url), _DECODER, parse_spot)]


async def fetch_usdm(http: SourceHttp, base_url: str = USDM_URL) -> list[Snapshot]:
    """Fetch and parse Binance USD-M futures `exchangeInfo` and `fundingInfo`."""
    url = base_url.rstrip("/") + USDM_PATH
    body, funding = await asyncio.gather(http.get(url), binance_funding.fetch(http, base_url))
    return [http.parsed(url, body, _DECODER, partial(parse_usdm, funding=funding))]


def decode(body: bytes) -> ExchangeInfo:
    """Decode an `exchangeInfo` body (used by the benchmark and the replay check)."""
    return _DECODER.decode(body)
