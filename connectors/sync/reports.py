"""What a sync reports: per source, per market, what its snapshot amounted to or why it failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connectors.venues.snapshot import NAMED_REJECTIONS

if TYPE_CHECKING:
    from datetime import datetime

    from connectors.sync.outcome import Plan
    from connectors.venues.snapshot import Snapshot


@dataclass
class MarketReport:
    """What one market's snapshot amounted to."""

    market: str
    observed_at: datetime
    instruments: int
    listed: int
    relisted: int
    changed: int
    renamed: int
    delisted: int
    announced: int
    unchanged: int
    ignored: int
    absent: int
    rejected: int = 0
    #: The first rejected rows, each `'id': field: reason`, unprintable characters escaped.
    rejections: list[str] = field(default_factory=list)


@dataclass
class SourceReport:
    """What one source's sync did: per market, what was appended, or why it failed."""

    source: str
    markets: list[MarketReport] = field(default_factory=list)
    appended: int = 0
    error: str | None = None
    error_kind: str | None = None
    seconds: float = 0.0
    requests: int = 0
    #: The error that failed the source, if any.
    cause: Exception | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """Return whether the source synced."""
        return self.error is None

    @property
    def rejected(self) -> int:
        """Return how many rows of all markets a value rule refused."""
        return sum(market.rejected for market in self.markets)

    @property
    def rejections(self) -> list[str]:
        """Return the first rejected rows of all markets (at most `NAMED_REJECTIONS`)."""
        named = [shown for market in self.markets for shown in market.rejections]
        return named[:NAMED_REJECTIONS]


def market_report(snapshot: Snapshot, plan: Plan, at: datetime) -> MarketReport:
    """Return what `plan` of one market's `snapshot`, observed `at`, amounts to."""
    return MarketReport(
        market=snapshot.market,
        observed_at=at,
        instruments=len(snapshot.records),
        listed=plan.listed,
        relisted=plan.relisted,
        changed=plan.changed,
        renamed=plan.renamed,
        delisted=plan.delisted,
        announced=plan.announced,
        unchanged=plan.unchanged,
        ignored=plan.ignored,
        absent=plan.absent,
        rejected=len(snapshot.rejected),
        rejections=[str(rejection) for rejection in snapshot.rejected[:NAMED_REJECTIONS]],
    )


__all__ = ["MarketReport", "SourceReport", "market_report"]
