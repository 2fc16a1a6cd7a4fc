"""Names across schemes (issue 13, part 1): what naming every version costs, and the join
on ccxt / Nautilus / Tardis names against the join on TradingView symbols.

A synthetic catalog of `--instruments` instruments (Binance spot and USD-M perpetuals and
dated futures, OKX linear and inverse swaps, Bybit linear perpetuals), 2% renamed halfway,
is appended in memory. Figures (never assertions):

- `directory`: naming every version in every scheme, the first time (the rules run once
  per distinct instrument and name fields), and again after 1,000 more events (only what
  is new is named; the arrays are rebuilt);
- `fresh process`: a new interpreter opens the saved catalog and answers its first
  `resolve` (and a join on one name), the names loaded with the index snapshot, against the
  same with the loaded names discarded (naming every version again, as before they were
  saved), median of 3 each; and the rebuild that saved the snapshot;
- `resolve`: one `Catalog.resolve` of a ccxt name, median;
- `join`: `pit_join` of `--bars` bars by ccxt names (exchange `binance`) and by Nautilus
  names, against the same rows by TradingView symbol; and the by-hand baseline a backtest
  writes today: a Python dict from ccxt name to symbol (today's mapping only), one lookup
  per row, then the symbol join;
- `per-row join`: the same bars spread over 800 days, `known_at="row"`, by ccxt names and
  by TradingView symbols (listings are observed when effective, the renames 30 days late).

    .venv/bin/python bench/names.py --instruments 100000 --bars 1000000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from measure import child

from eventstore import EventLog, InstrumentChanged, InstrumentListed, InstrumentRenamed
from projections import Catalog
from projections.names.directory import directory

if TYPE_CHECKING:
    from eventstore.model.events import Event

START = datetime(2021, 1, 1, tzinfo=UTC)
clock = time.perf_counter


def _listing(k: int) -> list[Event]:
    """Return the events of instrument `k`: a listing (observed when effective), and for 2%
    a rename at day 400 (observed 30 days later)."""
    coin, at = f"C{k}", START + timedelta(minutes=k)
    kind = k % 5
    f: dict[str, Any]
    if kind == 0:
        iid, symbol, f = f"binance:spot:{coin}USDT", f"BINANCE:{coin}USDT", {"type": "spot"}
    elif kind == 1:
        iid, symbol = f"binance:usdm:{coin}USDT", f"BINANCE:{coin}USDT.P"
        f = {"type": "swap", "settle": "USDT", "inverse": False}
    elif kind == 2:
        iid, symbol = f"binance:usdm:{coin}USDT_251226", f"BINANCE:{coin}USDT251226"
        f = {"type": "futures", "settle": "USDT", "inverse": False,
             "expiry": datetime(2025, 12, 26, 8, tzinfo=UTC)}  # fmt: skip
    elif kind == 3:
        iid, symbol = f"okx:swap:{coin}-USD-SWAP", f"OKX:{coin}USD.P"
        f = {"type": "swap", "settle": coin, "inverse": True}
    else:
        iid, symbol = f"bybit:linear:{coin}USDT", f"BYBIT:{coin}USDT.P"
        f = {"type": "swap", "settle": "USDT", "inverse": False}
    quote = "USD" if kind == 3 else "USDT"
    exchange = symbol.split(":")[0]
    events: list[Event] = [
        InstrumentListed(
            instrument_id=iid,
            symbol=symbol,
            effective_at=at,
            source="bench",
            observed_at=at,
            exchange=exchange,
            base=coin,
            quote=quote,
            **f,
        )
    ]
    if k % 50 in (5, 6):  # a spot pair or a perpetual
        later, new = at + timedelta(days=400), symbol.replace(coin, f"N{k}")
        seen = later + timedelta(days=30)
        events.append(InstrumentRenamed(instrument_id=iid, symbol=symbol, effective_at=later,
                                        source="bench", new_symbol=new,
                                        observed_at=seen))  # fmt: skip
        events.append(InstrumentChanged(instrument_id=iid, symbol=new, effective_at=later,
                                        source="bench", changes={"base": f"N{k}"},
                                        observed_at=seen))  # fmt: skip
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=100_000)
    parser.add_argument("--bars", type=int, default=1_000_000)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="names-bench-")
    log = EventLog.open(root)
    events = [e for k in range(args.instruments) for e in _listing(k)]
    for begin in range(0, len(events), 100_000):
        log.append(events[begin : begin + 100_000])
    started = clock()
    Catalog.open(root).refresh()  # rebuilds the index and saves it, names included
    saved = clock() - started
    catalog = Catalog.open(root, persist=False)
    store = catalog.version_store()
    print(f"catalog: {args.instruments:,} instruments, {store.n:,} versions")
    _fresh_process(root, saved)

    started = clock()
    directory(store)
    first = clock() - started
    extra = [e for k in range(args.instruments, args.instruments + 1_000) for e in _listing(k)]
    log.append(extra[:1_000])
    store = catalog.version_store()
    started = clock()
    directory(store)
    again = clock() - started
    print(f"directory: first {first * 1e3:,.0f} ms; after 1,000 more events {again * 1e3:,.0f} ms")

    at = START + timedelta(days=800)
    lookups = []
    for k in range(0, min(args.instruments, 2_000), 5):
        started = clock()
        catalog.resolve(f"C{k}/USDT", at, "ccxt", "binance")
        lookups.append(clock() - started)
    print(f"resolve (ccxt, binance): median {statistics.median(lookups) * 1e6:,.0f} us")

    rng = np.random.default_rng(7)
    listed = catalog.universe(at)
    on_binance = pc.starts_with(listed["instrument_id"], "binance:")
    universe = listed.filter(on_binance)
    ids = universe["instrument_id"].to_pylist()
    named = {i: catalog.names(i, at) for i in ids}
    pick = rng.integers(0, len(ids), args.bars)
    ts = pa.array(np.full(args.bars, int(at.timestamp() * 1e6)), pa.timestamp("us", "UTC"))
    symbols = pa.array([named[ids[p]]["tradingview"].name for p in pick.tolist()])  # type: ignore[index]
    ccxt = pa.array([named[ids[p]]["ccxt"].name for p in pick.tolist()])  # type: ignore[index]
    nautilus = pa.array([named[ids[p]]["nautilus"].name for p in pick.tolist()])  # type: ignore[index]
    bars = pa.table({"symbol": symbols, "ccxt": ccxt, "nautilus": nautilus, "ts": ts})
    fields = ["tick_size", "lot_size"]

    def timed(call: object) -> float:
        best = float("inf")
        for _ in range(3):
            started = clock()
            call()  # type: ignore[operator]
            best = min(best, clock() - started)
        return best

    by_symbol = timed(lambda: catalog.pit_join(bars, fields=fields))
    by_ccxt = timed(lambda: catalog.pit_join(bars, symbol="ccxt", fields=fields, scheme="ccxt",
                                            exchange="binance"))  # fmt: skip
    by_nautilus = timed(lambda: catalog.pit_join(bars, symbol="nautilus", fields=fields,
                                                scheme="nautilus"))  # fmt: skip
    mapping = {named[i]["ccxt"].name: named[i]["tradingview"].name for i in ids}  # type: ignore[index]

    def by_hand() -> None:
        mapped = pa.array([mapping.get(name) for name in bars["ccxt"].to_pylist()])
        catalog.pit_join(bars.set_column(0, "symbol", mapped), fields=fields)

    hand = timed(by_hand)
    print(f"join of {args.bars:,} bars: by TradingView symbol {by_symbol * 1e3:,.0f} ms; "
          f"by ccxt name {by_ccxt * 1e3:,.0f} ms; by Nautilus id {by_nautilus * 1e3:,.0f} ms; "
          f"baseline (a dict per row, then the symbol join) {hand * 1e3:,.0f} ms "
          f"({hand / by_ccxt:.1f}x the ccxt join)")  # fmt: skip
    _per_row(catalog, bars, fields, rng)


def _fresh_process(root: str, saved: float) -> None:
    """Print a fresh process's open + first resolve, names loaded and named again."""
    asked = ("C10/USDT", "ccxt", "binance", (START + timedelta(days=800)).isoformat())
    figures = {}
    for how in ("saved", "named"):
        runs = [child("first-resolve", root, *asked, how, timeout=600)[0] for _ in range(3)]
        assert all(r["found"] == r["joined"] == "binance:spot:C10USDT" for r in runs)
        figures[how] = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k[-2:] == "_s"}
    ms = {h: {k: f"{v * 1e3:,.0f} ms" for k, v in f.items()} for h, f in figures.items()}
    print(f"fresh process, names loaded with the snapshot: open {ms['saved']['open_s']}, "
          f"first resolve {ms['saved']['resolve_s']}, first join on a name "
          f"{ms['saved']['join_s']}; names discarded (named again): open "
          f"{ms['named']['open_s']}, first resolve {ms['named']['resolve_s']}, first join "
          f"{ms['named']['join_s']} (median of 3); the rebuild that saved it "
          f"{saved:,.1f} s")  # fmt: skip


def _per_row(catalog: Catalog, bars: pa.Table, fields: list[str], rng: Any) -> None:
    """Print the known_at="row" joins by ccxt name and by symbol over 800 days of bars."""
    start = int(START.timestamp() * 1e6)
    spread = np.sort(rng.integers(start, start + 800 * 86_400_000_000, bars.num_rows))
    bars = bars.set_column(3, "ts", pa.array(spread, pa.timestamp("us", "UTC")))
    best = {}
    for how, options in (("symbol", {}), ("ccxt", {"symbol": "ccxt", "scheme": "ccxt",
                                                   "exchange": "binance"})):  # fmt: skip
        times = []
        for _ in range(3):
            started = clock()
            catalog.pit_join(bars, fields=fields, known_at="row", **options)  # type: ignore[arg-type]
            times.append(clock() - started)
        best[how] = min(times)
    print(f"per-row join (known_at=\"row\") of {bars.num_rows:,} bars over 800 days: "
          f"by TradingView symbol {best['symbol'] * 1e3:,.0f} ms; by ccxt name "
          f"{best['ccxt'] * 1e3:,.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
