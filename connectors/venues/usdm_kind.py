"""Binance USD-M and COIN-M: is a contract a perpetual or dated, its symbol, is a perpetual gone?

The kind comes from `contractType`, never from `deliveryDate`: Binance gives a settling
perpetual a real `deliveryDate` (its delist time), and pending-trading and pre-settle
perpetuals can carry one too, so reading a real date as "dated" would rename a perpetual
(`BINANCE:XUSDT.P`) into a dated symbol with an expiry in the past. The values are those of
Binance's USD-M API "ENUM definitions" (contract type: PERPETUAL, CURRENT_MONTH, NEXT_MONTH,
CURRENT_QUARTER, NEXT_QUARTER, PERPETUAL_DELIVERING; TRADIFI_PERPETUAL added later).

- perpetual: `PERPETUAL`, `TRADIFI_PERPETUAL`, `PERPETUAL_DELIVERING`;
- dated: `CURRENT_QUARTER`, `NEXT_QUARTER`, `CURRENT_MONTH`, `NEXT_MONTH`, each also with the
  ` DELIVERING` (or `_DELIVERING`) suffix Binance adds while it delivers;
- `""` (a contract still `PENDING_TRADING`): by the symbol, a `_YYMMDD` suffix is dated,
  else perpetual;
- anything else: the row is rejected, naming the value.

A perpetual's `deliveryDate` after 2100 is the "no delist time" sentinel (4133404800000 and
4133404802000 are both seen); a real one is when the perpetual is (to be) delisted. A
perpetual is settled (delisted, keeping its `.P` symbol and a null expiry) when its status is
`SETTLING` or `CLOSE`, its `contractType` is `PERPETUAL_DELIVERING` (or ends in
` DELIVERING`), or its delist time lies at or before the observation.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final, Literal, NamedTuple

from connectors.venues.naming import dated_suffix
from eventstore import InvalidEventError

#: deliveryDate beyond this marks a perpetual that has no delist time.
PERPETUAL_AFTER: Final = datetime(2100, 1, 1, tzinfo=UTC)
PERPETUAL: Final = frozenset({"PERPETUAL", "TRADIFI_PERPETUAL", "PERPETUAL_DELIVERING"})
DATED: Final = frozenset({"CURRENT_QUARTER", "NEXT_QUARTER", "CURRENT_MONTH", "NEXT_MONTH"})
#: Venue statuses of a perpetual that has settled for good.
SETTLED_STATUSES: Final = frozenset({"SETTLING", "CLOSE"})
_DATED_SYMBOL: Final = re.compile(r".+_[0-9]{6}")

Kind = Literal["perpetual", "dated"]


def contract_kind(symbol: str, contract_type: str | None) -> Kind:
    """Return whether the contract `symbol` of `contract_type` is a perpetual or dated.

    Raises `InvalidEventError` (field `contractType`) for a type this table does not know.
    """
    word = (contract_type or "").removesuffix(" DELIVERING").removesuffix("_DELIVERING")
    if word in PERPETUAL:
        return "perpetual"
    if word in DATED:
        return "dated"
    if contract_type in ("", None):
        return "dated" if _DATED_SYMBOL.fullmatch(symbol) else "perpetual"
    raise InvalidEventError(f"unknown contractType {contract_type!r}", field="contractType")


def delist_time(delivery: datetime | None) -> datetime | None:
    """Return a real `deliveryDate` (not the far-future sentinel), else None."""
    if delivery is None or delivery >= PERPETUAL_AFTER:
        return None
    return delivery


def settled(
    status: str,
    contract_type: str | None,
    delisted_at: datetime | None,
    observed_at: datetime | None,
) -> bool:
    """Return whether a perpetual is gone: settling, or past its delist time."""
    word = contract_type or ""
    if status in SETTLED_STATUSES or word.endswith(("_DELIVERING", " DELIVERING")):
        return True
    return delisted_at is not None and observed_at is not None and delisted_at <= observed_at


class ContractName(NamedTuple):
    """A USD-M or COIN-M contract's kind, TradingView symbol and instants."""

    perpetual: bool
    symbol: str
    expiry: datetime | None
    delisted_at: datetime | None


def contract_name(
    symbol: str, contract_type: str | None, pair: str, delivery: datetime | None
) -> ContractName:
    """Name the contract `symbol` of `pair`: `BINANCE:{pair}.P`, or dated by its delivery.

    A perpetual's real `deliveryDate` is its delist time; a dated contract without one
    raises `InvalidEventError` (field `expiry`).
    """
    if contract_kind(symbol, contract_type) == "perpetual":
        return ContractName(True, f"BINANCE:{pair}.P", None, delist_time(delivery))
    if delivery is None or delist_time(delivery) is None:
        raise InvalidEventError(
            f"a dated {contract_type or 'contract'} has no delivery date", field="expiry"
        )
    return ContractName(False, f"BINANCE:{pair}{dated_suffix(delivery)}", delivery, None)
