"""`catalog daemon` on short intervals, against venues served on loopback.

Most tests run the daemon in this process, as `catalog daemon` does (its writer lease, then
the scheduler), and stop it through its stop event, with an injected clock stamping its
status. The lease test needs real processes: one is killed without a clean stop.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from clock import Clock
from test_sync import spot
from venues import Answer, ScriptedVenue, ThreadedVenue

from connectors.cli.daemon import serve
from connectors.cli.main import main
from connectors.daemon import logs
from connectors.daemon import status as status_store
from connectors.daemon.config import load
from connectors.errors import ConfigError
from connectors.venues import binance, okx
from eventstore import EventLog, verify_chain

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

SPOT = Answer(200, json.dumps(spot(22)).encode())
#: Where the injected clock starts; it steps a second on each reading.
START = datetime(2025, 6, 1, tzinfo=UTC)


def _config(tmp_path: Path, sources: str, **top: object) -> Path:
    lines = [f'root = "{tmp_path / "lake"}"', 'log_format = "json"', "misfire_grace = 5"]
    lines += [f"{key} = {value}" for key, value in top.items()]
    path = tmp_path / "catalog.toml"
    path.write_text("\n".join(lines) + "\n" + sources)
    return path


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Return where the daemon's log goes; put the loggers back as they were afterwards."""
    loggers = [logging.getLogger(name) for name in (logs.LOGGER, "apscheduler")]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    yield io.StringIO()
    for lg, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate


async def _run_daemon(
    config: Path,
    until: Callable[[], bool],
    stream: io.StringIO,
    clock: Callable[[], datetime],
    seconds: float = 30,
) -> None:
    """Run `catalog daemon --config config` here until `until()` holds, then stop it; fail
    if it does not stop within 8 seconds (or ends by itself)."""
    loaded = load(config)
    logger = logs.configure(loaded.log_format, stream)
    stop = asyncio.Event()
    daemon = asyncio.create_task(serve(loaded, logger, stop, clock))
    try:
        deadline = time.monotonic() + seconds
        while not until():
            assert not daemon.done(), "the daemon ended by itself"
            assert time.monotonic() < deadline, "timed out waiting"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(daemon, timeout=8)


def _status(root: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Return what `catalog status --json` prints (run in this process)."""
    capsys.readouterr()
    assert main(["--root", str(root), "status", "--json"]) == 0
    loaded: dict[str, Any] = json.loads(capsys.readouterr().out)
    return loaded


def _count(root: Path, source: str, key: str = "runs") -> int:
    path = root / "sync" / "status.json"
    if not path.exists():
        return 0
    try:
        return int(json.loads(path.read_text())["sources"][source][key])
    except (ValueError, KeyError):
        return 0


def _wait(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def test_runs_jobs_survives_a_failing_source_and_reports_truthfully(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], log_lines: io.StringIO
) -> None:
    """Binance syncs every fifth of a second (appending once); OKX fails each run; status
    says so, stamped by the daemon's clock."""
    root = tmp_path / "lake"
    clock = Clock(START, timedelta(seconds=1))
    seen: dict[str, Any] = {}

    def done() -> bool:
        if not (_count(root, "binance-spot") >= 3 and _count(root, "okx", "failures") >= 2):
            return False
        seen.update(_status(root, capsys))  # while it runs
        return True

    async def scenario() -> None:
        async with ScriptedVenue() as venue:
            venue.queue(binance.SPOT_PATH, SPOT)
            venue.queue(okx.PATH, Answer(503))
            sources = (
                f'[sources.binance-spot]\ninterval = "0.2s"\nbase_url = "{venue.base_url}"\n'
                f'[sources.okx]\ninterval = "0.2s"\nbase_url = "{venue.base_url}"\n'
                'markets = ["SPOT"]\ntimeout = 2\n'
            )
            await _run_daemon(_config(tmp_path, sources), done, log_lines, clock)

    asyncio.run(scenario())
    status = seen
    assert status["state"] == "running"
    spot_status, okx_status = status["sources"]["binance-spot"], status["sources"]["okx"]
    assert spot_status["appended_total"] == 2  # listed once; later runs append nothing
    assert spot_status["failures"] == 0
    assert spot_status["last_error"] is None
    assert spot_status["next_run"] is not None
    assert okx_status["failures"] >= 2
    assert "HTTP 503" in okx_status["last_error"]
    assert okx_status["last_success"] is None
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert {"daemon started", "sync done", "sync failed", "daemon stopped"} <= {
        e["event"] for e in lines
    }
    assert all({"ts", "level", "event"} <= set(e) for e in lines)
    log = EventLog.open(root)
    assert len(log) == 2
    assert verify_chain(log.read()) == []
    assert _status(root, capsys)["state"].startswith("stopped at")
    final = status_store.read(str(root))
    assert final is not None
    assert final.started_at == clock.readings[0]  # every stamp is a reading of the clock
    assert final.stopped_at == clock.readings[-1]
    stamps: list[datetime | None] = [final.started_at, final.stopped_at]
    for source in final.sources.values():
        stamps += [source.last_run, source.last_success]
    assert {s for s in stamps if s is not None} <= set(clock.readings)


def test_a_stop_while_fetching_ends_in_time_and_appends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], log_lines: io.StringIO
) -> None:
    """A venue that never answers: a stop cancels the fetch after stop_timeout (well within
    the 8 seconds `_run_daemon` allows), and nothing is appended."""
    root = tmp_path / "lake"

    async def scenario() -> ScriptedVenue:
        async with ScriptedVenue() as venue:
            venue.queue(binance.SPOT_PATH, Answer(hang=True))
            sources = '[sources.binance-spot]\ninterval = "1h"\ntimeout = 60\n'
            sources += f'base_url = "{venue.base_url}"\n'
            config = _config(tmp_path, sources, stop_timeout=1)
            await _run_daemon(config, lambda: len(venue.seen) >= 1, log_lines, Clock(START))
        return venue

    asyncio.run(scenario())
    assert "sync cancelled" in log_lines.getvalue()
    status = _status(root, capsys)
    assert (
        status["sources"]["binance-spot"]["last_error"]
        == "stopped while fetching; nothing appended"
    )
    assert not (root / "events").exists() or len(EventLog.open(root)) == 0
    # the stop meant it: not a failure, and nothing (APScheduler included) logs an error
    assert status["sources"]["binance-spot"]["failures"] == 0
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert [e["level"] for e in lines if e["level"] not in ("info", "debug")] == []
    cancelled = next(e for e in lines if e["event"] == "sync cancelled")
    assert cancelled["reason"] == "the daemon is stopping"


def test_sigterm_stops_the_daemon_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], log_lines: io.StringIO
) -> None:
    """SIGTERM sets the daemon's stop event (what `catalog daemon` relies on)."""
    root = tmp_path / "lake"
    unheard: list[int] = []

    async def scenario() -> None:
        async with ScriptedVenue() as venue:
            venue.queue(binance.SPOT_PATH, SPOT)
            sources = f'[sources.binance-spot]\ninterval = "1h"\nbase_url = "{venue.base_url}"\n'
            config = load(_config(tmp_path, sources))
            logger = logs.configure(config.log_format, log_lines)
            daemon = asyncio.create_task(serve(config, logger, None, Clock(START)))
            while _count(root, "binance-spot") < 1:
                await asyncio.sleep(0.02)
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(daemon, timeout=8)

    # should the daemon not take SIGTERM, this handler does, and the wait above times out
    before = signal.signal(signal.SIGTERM, lambda number, _: unheard.append(number))
    try:
        asyncio.run(scenario())
    finally:
        signal.signal(signal.SIGTERM, before)
    assert unheard == []
    assert _status(root, capsys)["state"].startswith("stopped at")
    assert "daemon stopped" in log_lines.getvalue()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[sources.okx]\ninterval = "5m"\ncolour = "red"\n', "sources.okx.colour: unknown key"),
        ('[sources.okx]\ninterval = "soon"\n', "sources.okx.interval: 'soon' is not a duration"),
        (
            '[sources.okx]\ninterval = "5m"\ncron = "* * * * *"\n',
            "exactly one of interval and cron",
        ),
        ('[sources.nyse]\ninterval = "5m"\n', "sources.nyse: unknown source"),
        ('[sources.okx]\ncron = "every day"\n', "not a 5-field crontab line"),
        (
            '[sources.okx]\ncron = "61 * * * *"\n',
            "sources.okx.cron: '61 * * * *' is not a valid crontab line: ",
        ),
        ('[sources.okx]\ncron = "0 0 * * 9"\n', "sources.okx.cron: '0 0 * * 9' is not a valid"),
        ('[sources.okx]\ncron = "*/0 * * * *"\n', "sources.okx.cron: '*/0 * * * *' is not"),
        ('[sources.okx]\ncron = "0 0 31 2 *"\n', "sources.okx.cron: '0 0 31 2 *' never fires"),
        ("[sources.okx]\njitter = 5\n", "sources.okx: give exactly one of interval and cron"),
        (
            '[sources.okx]\nenabled = false\ninterval = "5m"\ncron = "* * * * *"\n',
            "exactly one of interval and cron",
        ),
        ('[sources.okx]\nenabled = false\ncron = "61 * * * *"\n', "sources.okx.cron: "),
        ('[sources.okx]\ninterval = "5m"\nmarkets = ["OPTION"]\n', "markets: unknown ['OPTION']"),
        ("root = 3\n", "root: Expected `str`"),
        ("[sources\n", "not TOML"),
    ],
)
def test_a_bad_config_is_refused_with_the_key_and_the_reason(
    tmp_path: Path, text: str, says: str
) -> None:
    """The config is checked before anything starts; the error names key and reason."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=None) as caught:
        load(path)
    assert says in str(caught.value)
    assert str(caught.value).startswith(f"config {path}: ")  # the file, then the key


def test_a_bad_config_exits_2_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`catalog daemon` with a bad config exits 2 with one line, starting nothing."""
    path = tmp_path / "bad.toml"
    path.write_text('[sources.okx]\ninterval = "5m"\nspeed = 3\n')
    assert main(["daemon", "--config", str(path)]) == 2
    assert "sources.okx.speed: unknown key" in capsys.readouterr().err


def test_the_example_config_is_valid() -> None:
    """`catalog.example.toml` loads (the README points to it)."""
    from pathlib import Path as RealPath

    config = load(RealPath(__file__).resolve().parents[2] / "catalog.example.toml")
    assert set(config.sources) == {
        *("binance-spot", "binance-usdm", "binance-coinm", "okx", "bybit", "tradingview")
    }


def test_a_second_daemon_and_a_manual_sync_are_refused_then_a_killed_one_is_recovered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], log_lines: io.StringIO
) -> None:
    """One writer per catalog: a second daemon and `catalog sync` are refused, naming the
    holder (a real `catalog daemon` process); after it is killed (no clean stop), a new one
    recovers the lease."""
    venue = ScriptedVenue()
    venue.queue(binance.SPOT_PATH, SPOT)
    with ThreadedVenue(venue) as served:
        sources = f'[sources.binance-spot]\ninterval = "1h"\nbase_url = "{served.base_url}"\n'
        config = _config(tmp_path, sources)
        root = tmp_path / "lake"
        first = subprocess.Popen(
            [sys.executable, "-m", "connectors.cli.main", "daemon", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(lambda: _count(root, "binance-spot") >= 1)
            capsys.readouterr()
            second = main(["daemon", "--config", str(config)]), capsys.readouterr().err
            manual = (
                main(
                    [
                        *["--root", str(root), "sync", "binance-spot"],
                        *["--base-url", f"binance-spot={served.base_url}"],
                    ]
                ),
                capsys.readouterr().err,
            )
        finally:
            first.kill()
            first.wait(timeout=15)
        assert second[0] == 2
        assert f"pid {first.pid}" in second[1]
        assert "catalog daemon" in second[1]
        assert manual[0] == 2
        assert f"pid {first.pid}" in manual[1]
        gone = _status(root, capsys)
        assert "gone without a clean stop" in gone["state"]
        # a daemon that is gone runs nothing now and has no next run, whatever its file says
        assert [(s["running"], s["next_run"]) for s in gone["sources"].values()] == [(False, None)]

        def recovered() -> bool:
            return bool(_status(root, capsys)["pid"] == os.getpid())

        asyncio.run(_run_daemon(config, recovered, log_lines, Clock(START)))  # a clean stop
    assert _status(root, capsys)["state"].startswith("stopped at")


def test_schedules_become_triggers_with_their_jitter() -> None:
    """Interval and cron schedules both carry the configured jitter."""
    from connectors.daemon.config import SourceConfig
    from connectors.daemon.runner import describe, trigger

    interval = SourceConfig(interval="15m", jitter=30)
    cron = SourceConfig(cron="*/15 * * * *", jitter=20)
    assert trigger(interval, "k").interval.total_seconds() == 900
    assert trigger(interval, "k").jitter == 30
    assert trigger(cron, "k").jitter == 20
    assert describe(cron) == "cron */15 * * * * (+20s jitter)"
    assert describe(SourceConfig(interval=60)) == "every 60"
    assert describe(SourceConfig(enabled=False)) == "none"
