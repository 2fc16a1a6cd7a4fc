"""A catalog served on loopback for the service tests, and plain HTTP calls to it.

The log: BTC listed 2024-01-01 (tick 0.01), its tick changed to 0.1 on 2024-06-01 but
recorded (and observed) only on 2024-07-01; ETH listed 2024-01-01, delisted 2024-03-01;
an OKX perpetual listed 2024-02-01 and renamed `OKX:BTCUSDT.SWAP` on 2024-05-01; the
exchange BINANCE.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from builders import T0, changed, delisted, exchange_listed, listed, renamed

from eventstore import EventLog

if TYPE_CHECKING:
    from pathlib import Path

BTC = "BINANCE:BTCUSDT"
ETH = "BINANCE:ETHUSDT"
PERP = "OKX:BTCUSDT.P"
PERP_RENAMED = "OKX:BTCUSDT.SWAP"
MAR = datetime(2024, 3, 1, tzinfo=UTC)
JUN = datetime(2024, 6, 1, tzinfo=UTC)
FIRST_RECORDED = datetime(2024, 1, 1, 0, 0, 5, tzinfo=UTC)
LATER_RECORDED = datetime(2024, 7, 1, tzinfo=UTC)
ARROW = "application/vnd.apache.arrow.stream"


def fill(root: Path) -> Path:
    """Write the log described above under `root`; return `root`."""
    first = EventLog.open(root, clock=lambda: FIRST_RECORDED)
    spot: dict[str, Any] = {"exchange": "BINANCE", "type": "spot", "quote": "USDT"}
    spot["status"] = "trading"
    first.append(
        [
            exchange_listed("BINANCE"),
            listed("btc", BTC, T0, base="BTC", tick_size="0.01", lot_size="0.00001", **spot),
            listed("eth", ETH, T0, base="ETH", tick_size="0.01", min_notional="5", **spot),
            delisted("eth", ETH, MAR, "gone"),
            listed(
                "okx-perp",
                PERP,
                datetime(2024, 2, 1, tzinfo=UTC),
                exchange="OKX",
                type="swap",
                base="BTC",
                quote="USDT",
                settle="USDT",
                inverse=False,
                tick_size="0.1",
                funding_interval="8",
                status="trading",
            ),
            renamed("okx-perp", PERP, PERP_RENAMED, datetime(2024, 5, 1, tzinfo=UTC)),
        ]
    )
    later = EventLog.open(root, clock=lambda: LATER_RECORDED)
    later.append([changed("btc", BTC, JUN, tick_size="0.1")])
    return root


@dataclass
class Answer:
    """One HTTP answer."""

    status: int
    media: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def table(self) -> pa.Table:
        return pa.ipc.open_stream(self.body).read_all()


def call(
    url: str,
    *,
    accept: str | None = None,
    data: bytes | None = None,
    media: str | None = None,
    timeout: float = 30,
) -> Answer:
    """GET `url` (POST `data` of type `media` when given); return the answer, errors too."""
    headers = {"Accept": accept} if accept else {}
    if media:
        headers["Content-Type"] = media
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Answer(answer.status, answer.headers.get_content_type(), answer.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.headers.get_content_type(), exc.read())


def arrow_body(table: pa.Table) -> bytes:
    """Return `table` as one Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())
