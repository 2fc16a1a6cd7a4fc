"""`catalog sync`: replay and live runs from the command line, summaries and exit codes."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import TYPE_CHECKING, Any

import pytest
from test_sync import spot, spot_snapshots
from venues import write_snapshot

from connectors.cli.main import main
from connectors.replay.server import ReplayServer
from eventstore import EventLog

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def test_replay_prints_a_summary_per_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A replay prints one line per market with its counts; progress goes to stderr."""
    folder = spot_snapshots(tmp_path, spot(22), spot(23, {"BTCUSDT": {"tickSize": "0.1"}}))
    assert main(["--root", str(tmp_path / "lake"), "sync", "--replay", str(folder)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["snapshot", "source", "market", "observed"]
    assert lines[1].split()[:3] == ["00", "binance-spot", "spot"]
    assert lines[2].split()[-2:] == ["1", "ok"]  # one change appended
    assert "binance-spot: fetching" in err


def test_replay_progress_says_which_snapshot_and_market_it_is_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not on a terminal, progress is one plain line per step on stderr: each snapshot
    with its number, each source's fetch, the market it plans, what it appends."""
    folder = spot_snapshots(tmp_path, spot(22), spot(23, {"BTCUSDT": {"tickSize": "0.1"}}))
    assert main(["--root", str(tmp_path / "lake"), "sync", "--replay", str(folder)]) == 0
    _out, err = capsys.readouterr()
    assert [line.split(":")[0] for line in err.splitlines()] == [
        "snapshot 00 (1/2)",
        *["  binance-spot"] * 5,
        "snapshot 01 (2/2)",
        *["  binance-spot"] * 5,
    ]
    steps = err.splitlines()[1:6]
    assert steps[0] == "  binance-spot: fetching"
    assert steps[1].startswith("  binance-spot: fetched 2 instruments in 1 requests (spot)")
    assert steps[2:] == [
        "  binance-spot: planning spot: 2 instruments",
        "  binance-spot: appending 2 events",  # (planned once, said once)
        "  binance-spot: appended 2 events",
    ]
    assert "\x1b" not in err
    assert "\r" not in err
    quiet = main(["--root", str(tmp_path / "lake"), "sync", "--replay", str(folder), "--quiet"])
    assert quiet == 0
    assert capsys.readouterr().err == ""


def test_replay_json_and_a_failed_source_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--json` gives every counter; a failing source makes the exit status 1 and stops
    the replay there, saying so on stderr (even with --quiet)."""
    bad = spot(23)
    bad["symbols"] = "not a list"
    folder = spot_snapshots(tmp_path, spot(22), bad)
    code = main(
        ["--root", str(tmp_path / "lake"), "sync", "--replay", str(folder), "--json", "--quiet"]
    )
    assert code == 1
    out, err = capsys.readouterr()
    assert err.startswith("catalog: replay stopped at snapshot 01: binance-spot: binance-spot: ")
    assert "To go on, fix or remove that snapshot's recording" in err
    assert len(err.splitlines()) == 1
    first, failed = json.loads(out)
    assert first["ok"] is True
    assert first["markets"][0]["listed"] == 2
    assert failed["ok"] is False
    assert failed["error_kind"] == "MalformedResponseError"
    assert len(EventLog.open(tmp_path / "lake")) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sync", "nasdaq"], "unknown source 'nasdaq'"),
        (["sync", "--absence-runs", "0"], "must be 1 or more"),
        (["sync", "--max-delist-share", "2"], "between 0 and 1"),
        (["sync", "--base-url", "okx"], "expected SOURCE=URL"),
        (["sync", "--base-url", "okx=notaurl"], "not an http(s) URL with a host"),
        (["sync", "--base-url", "okx=ftp://127.0.0.1/"], "not an http(s) URL with a host"),
        (["sync", "--base-url", "okx=http://"], "not an http(s) URL with a host"),
        (["sync", "--base-url", "okx=http://127.0.0.1:99999/"], "not a URL"),
        (["sync", "--replay", "/nowhere/at/all"], "is not a folder"),
    ],
)
def test_bad_usage_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Bad arguments: exit 2, one line on stderr, nothing written."""
    assert main(["--root", str(tmp_path / "lake"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "lake").exists()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """Serve a recorded snapshot from a thread, as a live venue would; yield its base URL."""
    write_snapshot(tmp_path / "venue", "s", {"binance-spot/exchangeInfo.json": spot(22)})
    ready = threading.Event()
    stop: dict[str, Any] = {}

    async def serve() -> None:
        async with ReplayServer(tmp_path / "venue") as server:
            stop["url"] = server.base_url
            stop["event"] = asyncio.Event()
            stop["loop"] = asyncio.get_running_loop()
            ready.set()
            await stop["event"].wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),))
    thread.start()
    ready.wait(5)
    yield f"{stop['url']}/s/binance-spot"
    stop["loop"].call_soon_threadsafe(stop["event"].set)
    thread.join(5)


def test_live_sync_with_an_overridden_base_url(
    tmp_path: Path, served: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--base-url SOURCE=URL` points a source elsewhere (here: loopback); others are not run."""
    root = str(tmp_path / "lake")
    argv = [
        "--root",
        root,
        "sync",
        "binance-spot",
        "--base-url",
        f"binance-spot={served}",
        "--quiet",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:2] == ["source", "market"]
    assert {e.source for e in EventLog.open(root).events()} == {"binance-spot"}


def test_the_demo_replays_the_samples_queries_and_audits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make demo`'s script: two past states, a history, a universe, an intact log, a summary."""
    from connectors.cli import demo

    assert demo.run(tmp_path / "demo") == 0
    out = capsys.readouterr().out
    assert "status            trading" in out
    assert "status            delisted" in out
    # as known on 2022-12-01 (between two snapshots) it still traded; as recorded then,
    # this catalog filled today had nothing
    known = out.split("--known-at 2022-12-01T00:00:00Z")[1].split("$ catalog")[0]
    assert "status            trading" in known
    assert "known_since       2020-10-07 08:39:12.64Z" in known
    recorded = out.split("--recorded-by 2022-12-01T00:00:00Z")[1].split("$ catalog")[0]
    assert "BINANCE:BTCUSDC is not listed at 2023-01-01 00:00:00Z, as recorded by" in recorded
    assert "3 versions of instrument binance:spot:BTCUSDC" in out
    assert "versions of instrument okx:swap:SHIB-USDT-SWAP" in out  # its leverage cut
    assert "50 *" in out
    tradable = out.split("--tradable")[1].split("$ catalog")[0]
    assert "BINANCE:ETHUSDT.P " in tradable
    assert "BINANCE:BTCUSDT220624" not in tradable  # expired on 2022-06-24
    assert "BINANCE:ETHUSDT220624" not in tradable
    quarterly = out.split("get BINANCE:BTCUSDT220624")[1]
    assert re.search(r"^status +expired$", quarterly, re.M)
    assert "replay stopped" not in out
    assert "hash chain and counters intact" in out
    assert out.rstrip().splitlines()[-1].split()[:2] == ["2023-11-23-subset-enveloped", "okx"]
