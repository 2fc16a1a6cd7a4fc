"""Sync and decoding benchmarks (issue 3). Prints figures; asserts nothing.

1. Sync: a catalog already holding 100,000 instruments (Binance-spot shaped) receives a
   complete snapshot of them with 1% changed (tick size); timed from the decoded snapshot to
   the committed events (`Syncer.apply`: catalog state at the observation time, columnar
   diff, guard, one commit). Baseline (a), the SCD2 file rewritten by pandas per change,
   does the same 1,000 changes: a sample of them is timed and the rest extrapolated.
2. Decoding a 10,000-symbol `exchangeInfo` body: msgspec typed wire structs into records,
   against the standard library's `json` plus dict access computing the same fields.

    .venv/bin/python bench/sync_bench.py [--instruments 100000] [--changed 0.01]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline_scd2 import OPEN_UNTIL, SCD2File

from connectors.sync.syncer import SourceReport, Syncer, SyncOptions
from connectors.venues import binance
from eventstore.gcpause import paused_gc
from eventstore.model.rules import DECIMAL_FIELDS

if TYPE_CHECKING:
    from collections.abc import Callable

    from projections import Catalog

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TICKS = ("0.01000000", "0.00100000", "0.00010000", "0.10000000")


def exchange_info(count: int, seed: int, server_time: datetime, changed: set[int]) -> bytes:
    """Return a Binance-spot-shaped `exchangeInfo` body with `count` symbols."""
    rng = random.Random(seed)
    symbols = []
    for n in range(count):
        tick = TICKS[n % len(TICKS)] if n not in changed else "0.50000000"
        step = ("0.00001000", "0.00100000", "1.00000000")[rng.randrange(3)]
        symbols.append(
            {
                "symbol": f"C{n:06d}USDT",
                "status": "TRADING",
                "baseAsset": f"C{n:06d}",
                "baseAssetPrecision": 8,
                "quoteAsset": "USDT",
                "quotePrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
                "icebergAllowed": True,
                "isSpotTradingAllowed": True,
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": tick,
                        "maxPrice": "1000000.00000000",
                        "tickSize": tick,
                    },
                    {
                        "filterType": "LOT_SIZE",
                        "minQty": step,
                        "maxQty": "9000000.00000000",
                        "stepSize": step,
                    },
                    {"filterType": "ICEBERG_PARTS", "limit": 10},
                    {
                        "filterType": "NOTIONAL",
                        "minNotional": "5.00000000",
                        "applyMinToMarket": True,
                        "maxNotional": "9000000.00000000",
                        "avgPriceMins": 5,
                    },
                    {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
                ],
                "permissions": ["SPOT"],
            }
        )
    millis = int(server_time.timestamp() * 1000)
    body = {
        "timezone": "UTC",
        "serverTime": millis,
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": symbols,
    }
    return json.dumps(body).encode()


def stdlib_records(body: bytes) -> list[dict[str, object]]:
    """Decode with `json` and compute the same fields with dict access (the comparison)."""
    decoded = json.loads(body)
    out = []
    for info in decoded["symbols"]:
        filters = {f["filterType"]: f for f in info["filters"]}
        price, lot = filters.get("PRICE_FILTER"), filters.get("LOT_SIZE")
        notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL")
        out.append(
            {
                "symbol": f"BINANCE:{info['symbol']}",
                "base": info["baseAsset"],
                "quote": info["quoteAsset"],
                "tick_size": Decimal(price["tickSize"]).normalize() if price else None,
                "lot_size": Decimal(lot["stepSize"]).normalize() if lot else None,
                "min_qty": Decimal(lot["minQty"]).normalize() if lot else None,
                "min_notional": Decimal(notional["minNotional"]).normalize() if notional else None,
                "status": info["status"],
            }
        )
    return out


def timed(function: Callable[[], object], repeat: int = 3) -> float:
    """Return the best wall time of `repeat` calls."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return min(runs)


def line(label: str, value: str, note: str = "") -> None:
    """Print one figure: a label, the value, a note."""
    print(f"  {label:<34} {value:>11}   {note}".rstrip())


def decode_figures(count: int) -> None:
    """Print the decoding figure for a `count`-symbol body."""
    body = exchange_info(count, 7, T0, set())

    def decode() -> None:
        with paused_gc():  # as `fetch_spot` does (`SourceHttp.parsed`)
            binance.parse_spot(binance.decode(body))

    ours = timed(decode, 5)
    wire = timed(lambda: binance.decode(body), 5)
    theirs = timed(lambda: stdlib_records(body), 5)
    print(f"\ndecode {count:,}-symbol exchangeInfo ({len(body) / 1e6:.1f} MB)")
    line("msgspec wire structs only", f"{wire * 1e3:.1f} ms")
    line("msgspec + records", f"{ours * 1e3:.1f} ms")
    line("json + dict access, same fields", f"{theirs * 1e3:.1f} ms", f"{theirs / ours:.2f}x ours")


def sync_figures(count: int, share: float, samples: int) -> None:
    """Print the sync figure: 1% changed of `count` instruments, against baseline (a)."""
    rng = random.Random(11)
    changed = set(rng.sample(range(count), int(count * share)))
    first = binance.parse_spot(binance.decode(exchange_info(count, 7, T0, set())))
    later = T0 + timedelta(days=1)
    second = binance.parse_spot(binance.decode(exchange_info(count, 7, later, changed)))
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as scratch:
        root = str(Path(scratch) / "lake")
        syncer = Syncer(root, SyncOptions())
        listing = timed(lambda: syncer.apply(SourceReport("binance-spot"), [first]), 1)
        syncer.catalog.universe(later)  # the index is current, as in a running daemon
        started = time.perf_counter()
        report = syncer.apply(SourceReport("binance-spot"), [second])
        ours = time.perf_counter() - started
        started = time.perf_counter()
        again = syncer.apply(SourceReport("binance-spot"), [second])
        rerun = time.perf_counter() - started
        per_change, batched = scd2_baseline(
            syncer.catalog, later, sorted(changed), samples, scratch
        )
    total = per_change * len(changed)
    print(f"\nsync {count:,} instruments, {len(changed):,} changed (decoded snapshot -> committed)")
    line("first listing of all", f"{listing:.2f} s", f"{count / listing:,.0f} instruments/s")
    line(
        "1% changed: plan, guard, commit",
        f"{ours * 1e3:.1f} ms",
        f"appended {report.appended:,}; target <= 1 s",
    )
    line("the same snapshot again", f"{rerun * 1e3:.1f} ms", f"appended {again.appended}")
    line(
        "baseline (a), a rewrite per change",
        f"{per_change * 1e3:.1f} ms",
        f"x {len(changed):,} = {total:,.1f} s: {total / ours:,.0f}x ours; target >= 25x",
    )
    line(
        "(a) batched into one rewrite",
        f"{batched * 1e3:.1f} ms",
        f"{batched / ours:.2f}x ours; not the pattern (a) follows",
    )


def scd2_baseline(
    catalog: Catalog, at: datetime, changed: list[int], samples: int, scratch: str
) -> tuple[float, float]:
    """Return (seconds per change of baseline (a), seconds of one batched pandas rewrite)."""
    frame = catalog.universe(at).to_pandas().dropna(axis="columns", how="all")
    for name in DECIMAL_FIELDS:  # the pattern stores floats (Decimal objects: 10x slower)
        if name in frame.columns:
            frame[name] = frame[name].astype(float)
    frame["valid_until"] = OPEN_UNTIL
    frame["updated_at"] = pd.Timestamp(at)
    path = str(Path(scratch) / "scd2.parquet")
    frame.to_parquet(path, index=False)
    baseline = SCD2File(path)
    ids = frame["instrument_id"].tolist()
    chosen = changed[:samples]
    started = time.perf_counter()
    for n in chosen:
        baseline.update(ids[n], pd.Timestamp(at), {"tick_size": 0.5})
    per_change = (time.perf_counter() - started) / len(chosen)
    frame.to_parquet(path, index=False)
    started = time.perf_counter()
    df = pd.read_parquet(path)
    hit = df["instrument_id"].isin([ids[n] for n in changed]) & (df["valid_until"] == OPEN_UNTIL)
    new = df[hit].copy()
    df.loc[hit, "valid_until"] = pd.Timestamp(at)
    new["tick_size"], new["valid_from"] = 0.5, pd.Timestamp(at)
    pd.concat([df, new], ignore_index=True).to_parquet(path, index=False)
    batched = time.perf_counter() - started
    return per_change, batched


def main() -> None:
    """Run both figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--decode", type=int, default=10_000, help="symbols in the decoded body")
    parser.add_argument("--samples", type=int, default=20, help="baseline updates actually timed")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} (1 min)")
    decode_figures(args.decode)
    sync_figures(args.instruments, args.changed, args.samples)


if __name__ == "__main__":
    main()
