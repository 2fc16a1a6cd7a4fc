"""`make demo`: replay the bundled real snapshots into a fresh catalog, query the past, audit.

The samples under `data/samples/` are subsets of real Binance spot, Binance USD-M and OKX
responses recorded between 2020 and 2023 (see `data/samples/NOTE.md`). Replaying them in
date order builds a real history: listings, tick-size changes, pairs Binance moved to BREAK
(delisted) and back to TRADING (relisted), quarterlies delisted at their expiry (announced
when they were listed), contracts OKX dropped, a perpetual whose
maximum leverage OKX cut. The samples lie months or years apart, so the
replay needs `--max-delist-share` (see the README); it stops at a refused snapshot.
Each event is observed at its snapshot's date, so `--known-at` answers on the catalog
filled today what could have been known on a date between two snapshots.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

from connectors.cli.main import main as catalog
from connectors.cli.sync import replayed, summary
from connectors.replay.driver import replay
from connectors.sync.syncer import SyncOptions
from eventstore import EventLog, verify_chain

REPOSITORY = Path(__file__).resolve().parents[2]
SAMPLES = REPOSITORY / "data" / "samples"
DEMO_ROOT = REPOSITORY / "data" / "demo-catalog"
#: The samples are months or years apart: more than 5% of a market did go in between.
SHARE = 0.5


def _step(title: str, *argv: str) -> None:
    print(f"\n$ catalog {' '.join(argv)}\n# {title}", flush=True)
    code = catalog(list(argv))
    if code not in (0, 1):
        raise SystemExit(code)


def run(root: Path) -> int:
    """Build the demo catalog under `root` (emptied first); return the exit code."""
    shutil.rmtree(root, ignore_errors=True)
    os.environ["CATALOG_ROOT"] = str(root)
    print(f"$ catalog sync --replay {SAMPLES.relative_to(REPOSITORY)} --max-delist-share {SHARE}")
    print(f"# replay the recorded snapshots in date order into a fresh catalog at {root}")
    options = SyncOptions(max_delist_share=SHARE)
    done = asyncio.run(
        replay(str(root), SAMPLES, options, progress=_progress, on_snapshot=_snapshot)
    )
    reports = replayed(done)
    if done.stopped is not None:
        print(f"\n{done.stopped}")
    _query()
    violations = _audit(root)
    print("\n# the sync summary")
    print(summary(reports))
    failed = any(not report.ok for _, report in reports)
    return 1 if violations or failed else 0


def _progress(source: str, message: str) -> None:
    print(f"  {source}: {message}", flush=True)


def _snapshot(name: str, number: int, total: int) -> None:
    print(f"snapshot {name} ({number}/{total})", flush=True)


def _query() -> None:
    _step(
        "BTC/USDC on Binance in mid-2021",
        "get",
        "BINANCE:BTCUSDC",
        "--as-of",
        "2021-06-01T00:00:00Z",
    )
    _step(
        "...and on 2023-01-01: Binance had moved it to BREAK, so it was delisted",
        "get",
        "BINANCE:BTCUSDC",
        "--as-of",
        "2023-01-01T00:00:00Z",
    )
    _step(
        "...as known on 2022-12-01, before the 2022-12-17 snapshot showed the BREAK: the\n"
        "# replay kept each snapshot's date as the events' observed_at, so known_at works\n"
        "# on this catalog filled today: still trading",
        "get",
        "BINANCE:BTCUSDC",
        "--as-of",
        "2023-01-01T00:00:00Z",
        "--known-at",
        "2022-12-01T00:00:00Z",
    )
    _step(
        "...and as recorded by 2022-12-01: this catalog did not exist yet, so nothing",
        "get",
        "BINANCE:BTCUSDC",
        "--as-of",
        "2023-01-01T00:00:00Z",
        "--recorded-by",
        "2022-12-01T00:00:00Z",
    )
    _step(
        "its whole history: delisted, then relisted with a new lot size",
        "history",
        "BINANCE:BTCUSDC",
    )
    _step(
        "a perpetual's leverage history: OKX cut SHIB-USDT-SWAP's max leverage from 75 to 50",
        "history",
        "OKX:SHIBUSDT.P",
    )
    _step(
        "what could be traded on 2022-08-01 (no quarterly: those listed had expired)",
        "universe",
        "--as-of",
        "2022-08-01T00:00:00Z",
        "--tradable",
    )
    _step(
        "BTCUSDT_220624 on 2022-08-01: delisted at its expiry, announced when it was listed",
        "get",
        "BINANCE:BTCUSDT220624",
        "--as-of",
        "2022-08-01T00:00:00Z",
    )


def _audit(root: Path) -> list[object]:
    log = EventLog.open(str(root))
    violations = verify_chain(log.read())
    print(f"\naudit: {len(log)} events, hash chain and counters ", end="")
    print("intact" if not violations else f"BROKEN ({len(violations)} violations)")
    for violation in violations:
        print(f"  {violation}")
    return list(violations)


if __name__ == "__main__":
    sys.exit(run(Path(os.environ.get("CATALOG_DEMO_ROOT", DEMO_ROOT))))
