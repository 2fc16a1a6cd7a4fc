"""Binance USD-M funding intervals: `GET /fapi/v1/fundingInfo`.

The endpoint lists only the symbols whose funding parameters Binance has adjusted
(`fundingIntervalHours`, caps and floors); every other perpetual funds every 8 hours, the
documented default ("Get Funding Rate Info": only specially adjusted symbols are returned).
Dated contracts have no funding: null. A venue or recording without the endpoint (an HTTP
404, as a replay folder without `fundingInfo.json` answers) gives no interval at all: the
snapshot then does not report `funding_interval`, so the catalog keeps what it had.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Final

import msgspec

from connectors.errors import SourceRejectedError
from connectors.venues.snapshot import decimal_text

if TYPE_CHECKING:
    from connectors.venues.http import SourceHttp

PATH: Final = "/fapi/v1/fundingInfo"
#: Hours between fundings of a perpetual the endpoint does not list.
DEFAULT_HOURS: Final = Decimal(8)
_NOT_FOUND: Final = 404


class FundingInfo(msgspec.Struct, frozen=True, rename="camel"):
    """One element of the `fundingInfo` list; only the keys the catalog reads."""

    symbol: str
    funding_interval_hours: int | None = None


_DECODER: Final = msgspec.json.Decoder(list[FundingInfo])


class Funding(msgspec.Struct, frozen=True):
    """The funding intervals a `fundingInfo` body gives, by symbol, in hours."""

    hours: dict[str, int | None]

    def interval(self, symbol: str) -> Decimal | None:
        """Return the hours between fundings of perpetual `symbol`, exact.

        A listed symbol without hours is null; hours that are not positive break the
        value rule (`eventstore.model.value_rules.size`), which rejects that symbol's row.
        """
        if symbol not in self.hours:
            return DEFAULT_HOURS
        given = self.hours[symbol]
        return decimal_text(None if given is None else str(given), "funding_interval")


def parse(rows: list[FundingInfo]) -> Funding:
    """Return the intervals of a decoded body."""
    return Funding({row.symbol: row.funding_interval_hours for row in rows})


async def fetch(http: SourceHttp, base_url: str) -> Funding | None:
    """Fetch and parse `fundingInfo`; None where the venue has no such endpoint (404)."""
    url = base_url.rstrip("/") + PATH
    try:
        body = await http.get(url)
    except SourceRejectedError as exc:
        if exc.status == _NOT_FOUND:
            return None
        raise
    return http.parsed(url, body, _DECODER, parse)
