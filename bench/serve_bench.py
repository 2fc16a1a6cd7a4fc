"""`catalog serve` under load: instrument lookups from 64 concurrent loopback clients, and
`POST /pit-join` of 1,000,000 bars against the in-process `Catalog.pit_join`.

The service runs as `catalog serve` in a child process on a free loopback port, over a
synthetic catalog (`--instruments` listings, a tenth of them with a later tick change);
the clients are one aiohttp session in this process. Baselines, measured in the same run:
`Catalog.get` called in-process, one thread, for lookups; `Catalog.pit_join` in-process for
the join. Prints figures, asserts nothing.

    .venv/bin/python bench/serve_bench.py [--instruments 10000] [--clients 64] [--seconds 5]
        [--bars 1000000] [--root bench/out/serve]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import aiohttp
import numpy as np
import pyarrow as pa

from eventstore import EventLog, InstrumentChanged, InstrumentListed
from projections import Catalog

ARROW = "application/vnd.apache.arrow.stream"
START = datetime(2020, 1, 1, tzinfo=UTC)
AS_OF = "2024-06-01T00:00:00Z"


def symbol(n: int) -> str:
    return f"BENCH:COIN{n}USDT"


def build(root: Path, instruments: int) -> None:
    """Write `instruments` listings and a tick change for every tenth one, once per root."""
    if (root / "events").exists():
        return
    log = EventLog.open(root)
    listed = [
        InstrumentListed(
            instrument_id=f"bench:{n}",
            symbol=symbol(n),
            effective_at=START + timedelta(hours=n % 10_000),
            source="bench",
            exchange="BENCH",
            base=f"COIN{n}",
            quote="USDT",
            type="spot",
            tick_size=Decimal("0.01"),
            lot_size=Decimal("0.001"),
        )
        for n in range(instruments)
    ]
    changed = [
        InstrumentChanged(
            instrument_id=f"bench:{n}",
            symbol=symbol(n),
            effective_at=START + timedelta(days=700 + n % 300),
            source="bench",
            changes={"tick_size": Decimal("0.1")},
        )
        for n in range(0, instruments, 10)
    ]
    log.append(listed)
    log.append(changed)
    Catalog.open(root).refresh()  # save the index, so that the service loads it


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_service(root: Path, port: int) -> subprocess.Popen[bytes]:
    """Start `catalog serve` on loopback; return once it answers `/health`."""
    command = [sys.executable, "-m", "connectors.cli.main", "--root", str(root), "serve"]
    child = subprocess.Popen([*command, "--port", str(port)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return child
        except OSError:
            time.sleep(0.2)
    child.terminate()
    raise SystemExit("the service did not start")


async def lookups(base: str, instruments: int, clients: int, seconds: float) -> list[float]:
    """Return the latency of every lookup `clients` concurrent clients made in `seconds`."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client(seed: int) -> None:
            pick = random.Random(seed)
            while time.perf_counter() < stop:
                url = f"{base}/instruments/{symbol(pick.randrange(instruments))}?as_of={AS_OF}"
                began = time.perf_counter()
                async with session.get(url) as answer:
                    await answer.read()
                    if answer.status != 200:
                        raise SystemExit(f"lookup answered {answer.status}")
                latencies.append(time.perf_counter() - began)

        await asyncio.gather(*(client(seed) for seed in range(clients)))
    return latencies


def in_process_gets(catalog: Catalog, instruments: int, seconds: float) -> float:
    """Return `Catalog.get` calls per second, one thread."""
    pick = random.Random(0)
    done, stop = 0, time.perf_counter() + seconds
    began = time.perf_counter()
    while time.perf_counter() < stop:
        for _ in range(100):
            catalog.get(symbol(pick.randrange(instruments)), AS_OF)
        done += 100
    return done / (time.perf_counter() - began)


def bars(rows: int, instruments: int) -> pa.Table:
    rng = np.random.default_rng(0)
    names = np.array([symbol(n) for n in range(instruments)], dtype=object)
    span = int((datetime(2024, 12, 31, tzinfo=UTC) - START).total_seconds() * 1e6)
    micros = int(START.timestamp() * 1e6) + rng.integers(0, span, rows)
    return pa.table(
        {
            "symbol": pa.array(names[rng.integers(0, instruments, rows)], pa.string()),
            "ts": pa.array(np.sort(micros), pa.timestamp("us", "UTC")),
        }
    )


def post_join(base: str, body: bytes) -> pa.Table:
    request = urllib.request.Request(
        f"{base}/pit-join?fields=tick_size,lot_size",
        data=body,
        headers={"Content-Type": ARROW, "Accept": ARROW},
    )
    with urllib.request.urlopen(request, timeout=600) as answer:
        return pa.ipc.open_stream(answer.read()).read_all()


def stream_of(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def best(runs: int, work: object) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--root", default="bench/out/serve")
    parser.add_argument("--fresh", action="store_true", help="write the catalog again")
    args = parser.parse_args()
    root = Path(args.root) / f"n{args.instruments}"
    if args.fresh and root.exists():
        shutil.rmtree(root)
    build(root, args.instruments)
    catalog = Catalog.open(root)
    port = free_port()
    child = start_service(root, port)
    base = f"http://127.0.0.1:{port}"
    try:
        print(f"catalog: {args.instruments:,} instruments; {os.cpu_count()} CPUs")
        latencies = asyncio.run(lookups(base, args.instruments, 4, 1.0))  # warm up
        latencies = asyncio.run(lookups(base, args.instruments, args.clients, args.seconds))
        rate = len(latencies) / args.seconds
        ordered = sorted(latencies)
        p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]
        gets = in_process_gets(catalog, args.instruments, args.seconds)
        print(
            f"lookup  GET /instruments/{{symbol}}, {args.clients} clients: {rate:,.0f} req/s "
            f"(p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms); baseline in-process "
            f"Catalog.get: {gets:,.0f} /s ({gets / rate:,.0f}x the service)"
        )
        table = bars(args.bars, args.instruments)
        fields = ["tick_size", "lot_size"]
        local = best(3, lambda: catalog.pit_join(table, fields=fields))
        body = stream_of(table)
        remote = best(3, lambda: post_join(base, stream_of(table)))
        same = post_join(base, body).equals(catalog.pit_join(table, fields=fields))
        print(
            f"pitjoin POST /pit-join of {args.bars:,} bars ({len(body) / 1e6:,.1f} MB in): "
            f"{remote:.2f} s, {args.bars / remote:,.0f} rows/s (encode, send, join, answer, "
            f"decode); baseline in-process pit_join: {local:.2f} s, "
            f"{args.bars / local:,.0f} rows/s ({remote / local:.1f}x); answers identical: {same}"
        )
    finally:
        child.terminate()
        child.wait(30)


if __name__ == "__main__":
    main()
