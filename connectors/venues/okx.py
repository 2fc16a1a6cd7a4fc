"""OKX `/api/v5/public/instruments` into snapshots, one per instrument type.

All numbers are strings and unused fields are `""` (read as null); OKX documents no "0
means none", so a size of 0 (or any other that is not a positive decimal) rejects the row.
`upcChg` lists announced parameter changes (`param`, `newValue`, `effTime`); each becomes a
change effective at `effTime`. `listTime` is not stable between snapshots, so it dates a
first listing only (never after the observation nor before an earlier snapshot that lacked
it: the sync's rule for every venue, so a pre-open row's future `listTime` dates nothing).
Symbols come from `instId` alone (`connectors.venues.okx_naming`).

Contracts: `settle` is `settleCcy`, `inverse` is `ctType` inverse (linear: false; spot: null),
`contract_size` is `ctVal` x `ctMult` (in `ctValCcy`: USD for an inverse contract, the base
for a linear one). Limits: `max_qty` is `maxLmtSz` (contracts, or base currency on spot),
`max_notional` is `maxLmtAmt` (USD), `max_leverage` is `lever`. OKX gives no price band
here; `maxMktSz`, `maxMktAmt` and the iceberg, TWAP, trigger and stop caps are not tracked.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

import msgspec

from connectors.errors import MalformedResponseError
from connectors.venues.http import shown_url
from connectors.venues.okx_naming import okx_name
from connectors.venues.snapshot import (
    DATED_FIELDS,
    Announcement,
    Snapshot,
    SourceRecord,
    decimal_text,
    from_millis,
    parse_rows,
)

if TYPE_CHECKING:
    from decimal import Decimal

    from connectors.venues.http import SourceHttp

BASE_URL: Final = "https://www.okx.com"
PATH: Final = "/api/v5/public/instruments"
INST_TYPES: Final = ("SPOT", "SWAP", "FUTURES")
#: OKX `state` -> normalized status. Delisted instruments leave the list instead.
STATUS: Final = {
    "live": "trading",
    "suspend": "halted",
    "preopen": "pre_trading",
    "test": "pre_trading",
    "expired": "expired",
}
#: `upcChg.param` -> the catalog field it announces.
ANNOUNCED: Final = {"tickSz": "tick_size", "lotSz": "lot_size", "minSz": "min_qty"}
#: OKX gives no min notional, and a contract size for derivatives.
FIELDS: Final = (
    *(f for f in DATED_FIELDS if f != "min_notional"),
    "contract_size",
    "settle",
    "inverse",
    "max_qty",
    "max_notional",
    "max_leverage",
)
#: `ctType` -> `inverse`; a spot pair has none.
_INVERSE: Final = {"inverse": True, "linear": False}
_TYPE: Final = {"SPOT": "spot", "SWAP": "swap", "FUTURES": "futures"}


class UpcomingChange(msgspec.Struct, frozen=True, rename="camel"):
    """One element of `upcChg`."""

    param: str
    new_value: str
    eff_time: str


class Instrument(msgspec.Struct, frozen=True, rename="camel"):
    """One element of `data`."""

    inst_type: str
    inst_id: str
    tick_sz: str
    lot_sz: str
    min_sz: str
    state: str
    base_ccy: str = ""
    quote_ccy: str = ""
    settle_ccy: str = ""
    uly: str = ""
    ct_val: str = ""
    ct_mult: str = ""
    list_time: str = ""
    exp_time: str = ""
    ct_type: str = ""
    lever: str = ""
    max_lmt_sz: str = ""
    max_lmt_amt: str = ""
    upc_chg: list[UpcomingChange] = []


class Response(msgspec.Struct, frozen=True):
    """The envelope: `code` "0" on success, else `msg` says why."""

    code: str
    data: list[Instrument]
    msg: str = ""


_DECODER: Final = msgspec.json.Decoder(Response)


def _contract_size(item: Instrument) -> Decimal | None:
    value = decimal_text(item.ct_val, "contract_size")
    multiplier = decimal_text(item.ct_mult, "contract_size")
    if value is None:
        return None
    return value * multiplier if multiplier is not None else value


def record(item: Instrument) -> SourceRecord:
    """Return one OKX instrument as a record, named by its `instId` (`okx_naming`)."""
    symbol, base, quote = okx_name(item.inst_type, item.inst_id)
    expiry, listed_at = (
        from_millis(item.exp_time, "expiry"),
        from_millis(item.list_time, "listed_at"),
    )
    fields = {
        "exchange": "OKX",
        "base": base,
        "quote": quote,
        "type": _TYPE.get(item.inst_type, item.inst_type.lower()),
        "tick_size": decimal_text(item.tick_sz, "tick_size"),
        "lot_size": decimal_text(item.lot_sz, "lot_size"),
        "min_qty": decimal_text(item.min_sz, "min_qty"),
        "contract_size": _contract_size(item),
        "expiry": expiry,
        "listed_at": listed_at,
        "settle": item.settle_ccy or None,
        "inverse": _INVERSE.get(item.ct_type),
        "max_qty": decimal_text(item.max_lmt_sz, "max_qty"),
        "max_notional": decimal_text(item.max_lmt_amt, "max_notional"),
        "max_leverage": decimal_text(item.lever, "max_leverage"),
    }
    return SourceRecord(
        instrument_id=f"okx:{item.inst_type.lower()}:{item.inst_id}",
        symbol=symbol,
        fields=fields,
        status=STATUS.get(item.state, "halted"),
        venue_status=item.state,
        listed_at=listed_at,
        announced=tuple(_announced(item)),
    )


def _announced(item: Instrument) -> list[Announcement]:
    found = []
    for change in item.upc_chg:
        field = ANNOUNCED.get(change.param)
        effective_at = None if field is None else from_millis(change.eff_time, "effTime")
        if field is None or effective_at is None:
            continue
        value = decimal_text(change.new_value, field)
        found.append(Announcement(effective_at=effective_at, field=field, value=value))
    return found


def parse(inst_type: str, body: Response, url: str) -> Snapshot:
    """Return the snapshot of one instrument type; a venue error code is an error."""
    if body.code != "0":
        raise MalformedResponseError("okx", url, f"venue error {body.code}: {body.msg}")
    market = inst_type.lower()
    records, rejected = parse_rows(
        body.data, record, lambda item: f"okx:{item.inst_type.lower()}:{item.inst_id}"
    )
    return Snapshot(
        source="okx",
        market=market,
        scope=f"okx:{market}:",
        records=records,
        rejected=rejected,
        reported=FIELDS,
    )


async def fetch(
    http: SourceHttp, base_url: str = BASE_URL, inst_types: tuple[str, ...] = INST_TYPES
) -> list[Snapshot]:
    """Fetch and parse each instrument type (each a complete snapshot of its market)."""
    url = base_url.rstrip("/") + PATH

    async def one(inst_type: str) -> Snapshot:
        params = {"instType": inst_type}
        body = await http.get(url, params)
        shown = shown_url(url, params)
        return http.parsed(shown, body, _DECODER, lambda wire: parse(inst_type, wire, shown))

    return list(await asyncio.gather(*(one(inst_type) for inst_type in inst_types)))
