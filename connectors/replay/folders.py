"""Replay folders: the recorded snapshots of a replay directory, checked, in order.

Layout of DIR, as `catalog sync --replay DIR` reads it (one folder per snapshot, replayed in
name order, so start names with the date):

    DIR/<snapshot>/snapshot.json              optional: {"observed_at": "2022-07-23T00:00:00Z"}
    DIR/<snapshot>/binance-spot/exchangeInfo.json
    DIR/<snapshot>/binance-usdm/exchangeInfo.json
    DIR/<snapshot>/binance-usdm/fundingInfo.json   optional: without it, no funding intervals
    DIR/<snapshot>/binance-coinm/exchangeInfo.json
    DIR/<snapshot>/okx/<instType>.json        SPOT.json, SWAP.json, FUTURES.json
    DIR/<snapshot>/okx/OPTION.<family>.json   OPTION.BTC-USD.json: one option family
    DIR/<snapshot>/bybit/<category>[.<status>][.<cursor>].json
    DIR/<snapshot>/tradingview/<market>.scan.json and <market>.metainfo.json

A snapshot syncs the sources (and markets) it has files for. Its observation time is
`observed_at` from `snapshot.json`, else the venue's own server time in the body; a snapshot
with neither is refused. The server (`connectors.replay.server`) serves TradingView's
recorded scan in the pages asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from connectors.errors import ReplayError
from connectors.sync.syncer import SourceRun
from connectors.venues.registry import SOURCES
from eventstore import to_utc

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

_SERVER_TIME: Final = frozenset({"binance-spot", "binance-usdm", "binance-coinm", "bybit"})
#: The one market of each Binance source.
_BINANCE: Final = {"binance-spot": "spot", "binance-usdm": "usdm", "binance-coinm": "coinm"}


@dataclass(frozen=True)
class RecordedSnapshot:
    """One snapshot folder: its name, observation time and the sources it holds."""

    path: Path
    observed_at: datetime | None
    sources: dict[str, tuple[str, ...]]

    def runs(
        self, base_url: str, sources: Collection[str] = (), markets: Collection[str] = ()
    ) -> list[SourceRun]:
        """Return the source runs that replay this snapshot from the server at `base_url`:
        of the given `sources` and `markets` only, when given."""
        found = []
        for name, held in self.sources.items():
            kept = tuple(m for m in held if not markets or m in markets)
            if kept and (not sources or name in sources):
                found.append(SourceRun(SOURCES[name], f"{base_url}/{self.path.name}/{name}", kept))
        return found


def _markets(source: str, folder: Path) -> tuple[str, ...]:
    names = sorted(p.name for p in folder.glob("*.json"))
    if source in _BINANCE:
        return (_BINANCE[source],)
    if source == "tradingview":
        return tuple(n.removesuffix(".scan.json") for n in names if n.endswith(".scan.json"))
    if source == "okx":  # OPTION.BTC-USD.json: the option family BTC-USD
        return tuple(n.removesuffix(".json").replace(".", ":") for n in names if n.count(".") <= 2)
    return tuple(n.removesuffix(".json") for n in names if n.count(".") == 1)


def snapshots(directory: str | Path) -> list[RecordedSnapshot]:
    """Return the snapshot folders of `directory`, in replay order, checked."""
    root = Path(directory)
    if not root.is_dir():
        raise ReplayError(str(root), "is not a folder")
    found = [_snapshot(folder) for folder in sorted(p for p in root.iterdir() if p.is_dir())]
    if not found:
        raise ReplayError(str(root), "holds no snapshot folder (see the layout in the README)")
    return found


def _snapshot(folder: Path) -> RecordedSnapshot:
    sources = {name: _markets(name, folder / name) for name in SOURCES if (folder / name).is_dir()}
    if not sources:
        known = ", ".join(SOURCES)
        raise ReplayError(str(folder), f"holds no source folder (expected some of {known})")
    observed = _observed_at(folder)
    if observed is None and not set(sources) <= _SERVER_TIME:
        raise ReplayError(
            str(folder),
            'has no observation time: write {"observed_at": "...Z"} into snapshot.json '
            "(only Binance and Bybit bodies carry the venue's time)",
        )
    return RecordedSnapshot(folder, observed, sources)


def _observed_at(folder: Path) -> datetime | None:
    meta = folder / "snapshot.json"
    if not meta.exists():
        return None
    try:
        return to_utc(json.loads(meta.read_text())["observed_at"], "observed_at")
    except (ValueError, KeyError, TypeError) as exc:
        raise ReplayError(str(meta), f"cannot read observed_at: {exc}") from exc
