"""The sources `catalog sync` knows: name, default base URL, and how to fetch them.

Each fetch returns complete snapshots, one per market of the source (OKX's SPOT, SWAP,
FUTURES and one per option family; Bybit's categories; TradingView's markets), so that
absence is judged per market.
Exchange connectors come first: in one run, TradingView then finds the instruments they
listed and adds its own fields to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from connectors.venues import binance, binance_coinm, bybit, okx, tradingview, tradingview_markets

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from connectors.venues.http import SourceHttp
    from connectors.venues.snapshot import Snapshot


@dataclass(frozen=True)
class Source:
    """A source: its name, where it lives, its markets, and its fetch.

    `markets` are those it knows; a sync fetches `default_markets` (default: all of them)
    unless told which.
    """

    name: str
    base_url: str
    markets: tuple[str, ...]
    fetch: Callable[[SourceHttp, str, tuple[str, ...]], Awaitable[list[Snapshot]]]
    headers: Mapping[str, str] = field(default_factory=dict)
    default_markets: tuple[str, ...] | None = None
    #: Whether a market name is one of the source's beyond `markets` (OKX's
    #: `OPTION:<family>`); None: only those.
    accepts: Callable[[str], bool] | None = None

    @property
    def fetched(self) -> tuple[str, ...]:
        """Return the markets a sync fetches unless told which."""
        return self.default_markets or self.markets

    def knows(self, market: str) -> bool:
        """Return whether `market` is one the source can fetch."""
        return market in self.markets or (self.accepts is not None and self.accepts(market))


async def _spot(http: SourceHttp, base_url: str, markets: tuple[str, ...]) -> list[Snapshot]:
    return await binance.fetch_spot(http, base_url)


async def _coinm(http: SourceHttp, base_url: str, markets: tuple[str, ...]) -> list[Snapshot]:
    return await binance_coinm.fetch_coinm(http, base_url)


async def _usdm(http: SourceHttp, base_url: str, markets: tuple[str, ...]) -> list[Snapshot]:
    return await binance.fetch_usdm(http, base_url)


SOURCES: Final[dict[str, Source]] = {
    source.name: source
    for source in (
        Source("binance-spot", binance.SPOT_URL, ("spot",), _spot),
        Source("binance-usdm", binance.USDM_URL, ("usdm",), _usdm),
        Source("binance-coinm", binance_coinm.COINM_URL, ("coinm",), _coinm),
        Source("okx", okx.BASE_URL, okx.MARKETS, okx.fetch, accepts=okx.known_market),
        Source("bybit", bybit.BASE_URL, bybit.CATEGORIES, bybit.fetch),
        Source(
            "tradingview",
            tradingview.BASE_URL,
            tradingview_markets.MARKETS,
            tradingview.fetch,
            {"Origin": tradingview.ORIGIN, "Referer": tradingview.ORIGIN + "/"},
            tradingview_markets.DEFAULT_MARKETS,
        ),
    )
}
