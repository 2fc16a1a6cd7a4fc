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

Options (`instType=OPTION`) are asked for one `instFamily` at a time: each family is a market
of its own, named `OPTION:<family>` (`OPTION:BTC-USD`; the defaults are `OPTION_FAMILIES`),
a complete snapshot of the ids under `okx:option:<family>-`. An option has `type` option,
`strike` from `stk` (it must equal the id's), `option_type` from `optType` (`C` call, `P`
put), `underlying` from `uly`, its symbol from `instId` (`connectors.venues.option_naming`),
`expiry` from `expTime` (so it expires by the announced delisting every dated contract has),
and is `inverse` when it settles in its base (OKX's coin-margined options), else linear.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any, Final

import msgspec

from connectors.errors import MalformedResponseError
from connectors.venues.http import shown_url
from connectors.venues.okx_naming import okx_name
from connectors.venues.option_naming import OPTION_TYPE, okx_option_name
from connectors.venues.snapshot import (
    DATED_FIELDS,
    Announcement,
    Snapshot,
    SourceRecord,
    decimal_text,
    from_millis,
    parse_rows,
)
from eventstore import InvalidEventError

if TYPE_CHECKING:
    from decimal import Decimal

    from connectors.venues.http import SourceHttp

BASE_URL: Final = "https://www.okx.com"
PATH: Final = "/api/v5/public/instruments"
INST_TYPES: Final = ("SPOT", "SWAP", "FUTURES")
#: The option families synced unless the markets say otherwise (`OPTION:<family>`).
OPTION_FAMILIES: Final = ("BTC-USD", "ETH-USD")
OPTION: Final = "OPTION"
MARKETS: Final = (*INST_TYPES, *(f"{OPTION}:{family}" for family in OPTION_FAMILIES))
_FAMILY: Final = re.compile(r"[A-Z0-9]+-[A-Z]+(?:_UM)?")
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
#: ...and of options, which have no leverage of their own.
OPTION_REPORTED: Final = (
    *(f for f in FIELDS if f != "max_leverage"),
    *("strike", "option_type", "underlying"),
)
#: `ctType` -> `inverse`; a spot pair has none.
_INVERSE: Final = {"inverse": True, "linear": False}
_TYPE: Final = {"SPOT": "spot", "SWAP": "swap", "FUTURES": "futures", OPTION: "option"}


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
    stk: str = ""
    opt_type: str = ""
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


def known_market(market: str) -> bool:
    """Return whether `market` is one OKX has: an instType, or `OPTION:<family>`."""
    kind, _, family = market.partition(":")
    return market in INST_TYPES or (kind == OPTION and _FAMILY.fullmatch(family) is not None)


def _option_terms(item: Instrument) -> tuple[str, dict[str, Any]]:
    """Return an option's symbol and its fields (terms, and whether it is inverse)."""
    name = okx_option_name(item.inst_id)
    strike = decimal_text(item.stk, "strike")
    if strike is not None and strike != name.strike:
        why = f"{item.stk!r} is not the strike of {item.inst_id!r}"
        raise InvalidEventError(why, field="stk")
    if item.opt_type not in ("C", "P") or OPTION_TYPE[item.opt_type] != name.option_type:
        why = f"{item.opt_type!r} is not the type of {item.inst_id!r} (C or P)"
        raise InvalidEventError(why, field="optType")
    settle = item.settle_ccy or None
    return name.symbol, {
        "base": name.base,
        "quote": name.quote,
        "strike": name.strike,
        "option_type": name.option_type,
        "underlying": item.uly or name.underlying,
        "inverse": None if settle is None else settle == name.base,
    }


def record(item: Instrument) -> SourceRecord:
    """Return one OKX instrument as a record, named by its `instId` (`okx_naming`, and
    `option_naming` for options)."""
    if item.inst_type == OPTION:
        symbol, terms = _option_terms(item)
        base, quote = terms["base"], terms["quote"]
    else:
        symbol, base, quote = okx_name(item.inst_type, item.inst_id)
        terms = {"inverse": _INVERSE.get(item.ct_type)}
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
        "max_qty": decimal_text(item.max_lmt_sz, "max_qty"),
        "max_notional": decimal_text(item.max_lmt_amt, "max_notional"),
        "max_leverage": decimal_text(item.lever, "max_leverage"),
        **terms,
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


def parse(market: str, body: Response, url: str) -> Snapshot:
    """Return the snapshot of one market (an instrument type, or `OPTION:<family>`); a
    venue error code is an error, and so is a row of another type or family."""
    if body.code != "0":
        raise MalformedResponseError("okx", url, f"venue error {body.code}: {body.msg}")
    inst_type, _, family = market.partition(":")
    scope = f"okx:{inst_type.lower()}:" + (f"{family}-" if family else "")
    for item in body.data if family else ():
        if not _id(item).startswith(scope) or item.inst_type != inst_type:
            why = f"{item.inst_id!r} ({item.inst_type}) is not of the {market} asked for"
            raise MalformedResponseError("okx", url, why)
    records, rejected = parse_rows(body.data, record, _id)
    return Snapshot(
        source="okx",
        market=inst_type.lower() + (f":{family}" if family else ""),
        scope=scope,
        records=records,
        rejected=rejected,
        reported=OPTION_REPORTED if family else FIELDS,
    )


def _id(item: Instrument) -> str:
    return f"okx:{item.inst_type.lower()}:{item.inst_id}"


async def fetch(
    http: SourceHttp, base_url: str = BASE_URL, markets: tuple[str, ...] = MARKETS
) -> list[Snapshot]:
    """Fetch and parse each market (each a complete snapshot): an instrument type, or
    `OPTION:<family>`, asked for as `instType=OPTION&instFamily=<family>`."""
    url = base_url.rstrip("/") + PATH

    async def one(market: str) -> Snapshot:
        inst_type, _, family = market.partition(":")
        params = {"instType": inst_type, **({"instFamily": family} if family else {})}
        body = await http.get(url, params)
        shown = shown_url(url, params)
        return http.parsed(shown, body, _DECODER, lambda wire: parse(market, wire, shown))

    tasks = [asyncio.ensure_future(one(market)) for market in markets]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        # One market failed: stop the others before the session closes under them.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
