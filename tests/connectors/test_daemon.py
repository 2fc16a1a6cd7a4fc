"""A real `catalog daemon` process on short intervals, against venues served on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest
from test_sync import spot
from venues import Answer, ScriptedVenue, ThreadedVenue

from connectors.daemon.config import load
from connectors.errors import ConfigError
from connectors.venues import binance, okx
from eventstore import EventLog, verify_chain

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

SPOT = Answer(200, json.dumps(spot(22)).encode())


def _config(tmp_path: Path, sources: str, **top: object) -> Path:
    lines = [f'root = "{tmp_path / "lake"}"', 'log_format = "json"', "misfire_grace = 5"]
    lines += [f"{key} = {value}" for key, value in top.items()]
    path = tmp_path / "catalog.toml"
    path.write_text("\n".join(lines) + "\n" + sources)
    return path


def _start(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "connectors.cli.main", "daemon", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _status(root: Path) -> dict[str, Any]:
    found = subprocess.run(
        [sys.executable, "-m", "connectors.cli.main", "--root", str(root), "status", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: dict[str, Any] = json.loads(found.stdout)
    return loaded


def _wait(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def _count(root: Path, source: str, key: str = "runs") -> int:
    path = root / "sync" / "status.json"
    if not path.exists():
        return 0
    try:
        return int(json.loads(path.read_text())["sources"][source][key])
    except (ValueError, KeyError):
        return 0


def _stop(process: subprocess.Popen[str], seconds: float = 15) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=seconds)
    return process.returncode, err


def test_runs_jobs_survives_a_failing_source_and_reports_truthfully(tmp_path: Path) -> None:
    """Binance syncs every second (appending once); OKX fails each run; status says so."""
    venue = ScriptedVenue()
    venue.queue(binance.SPOT_PATH, SPOT)
    venue.queue(okx.PATH, Answer(503))
    with ThreadedVenue(venue) as served:
        sources = (
            f'[sources.binance-spot]\ninterval = "1s"\nbase_url = "{served.base_url}"\n'
            f'[sources.okx]\ninterval = "1s"\nbase_url = "{served.base_url}"\n'
            'markets = ["SPOT"]\ntimeout = 2\n'
        )
        config = _config(tmp_path, sources)
        daemon = _start(config)
        root = tmp_path / "lake"
        try:
            _wait(
                lambda: _count(root, "binance-spot") >= 3 and _count(root, "okx", "failures") >= 2
            )
            status = _status(root)
        finally:
            code, err = _stop(daemon)
    assert code == 0, err
    assert status["state"] == "running"
    spot_status, okx_status = status["sources"]["binance-spot"], status["sources"]["okx"]
    assert spot_status["appended_total"] == 2  # listed once; later runs append nothing
    assert spot_status["failures"] == 0
    assert spot_status["last_error"] is None
    assert spot_status["next_run"] is not None
    assert okx_status["failures"] >= 2
    assert "HTTP 503" in okx_status["last_error"]
    assert okx_status["last_success"] is None
    lines = [json.loads(line) for line in err.splitlines()]
    assert {"daemon started", "sync done", "sync failed", "daemon stopped"} <= {
        e["event"] for e in lines
    }
    assert all({"ts", "level", "event"} <= set(e) for e in lines)
    log = EventLog.open(root)
    assert len(log) == 2
    assert verify_chain(log.read()) == []
    assert _status(root)["state"].startswith("stopped at")


def test_sigterm_while_fetching_exits_in_time_and_appends_nothing(tmp_path: Path) -> None:
    """A venue that never answers: SIGTERM cancels the fetch within stop_timeout."""
    venue = ScriptedVenue()
    venue.queue(binance.SPOT_PATH, Answer(hang=True))
    with ThreadedVenue(venue) as served:
        sources = '[sources.binance-spot]\ninterval = "1h"\ntimeout = 60\n'
        sources += f'base_url = "{served.base_url}"\n'
        config = _config(tmp_path, sources, stop_timeout=1)
        daemon = _start(config)
        root = tmp_path / "lake"
        try:
            _wait(lambda: len(venue.seen) >= 1)
        finally:
            started = time.monotonic()
            code, err = _stop(daemon)
            took = time.monotonic() - started
    assert code == 0, err
    assert took < 8
    assert "sync cancelled" in err
    status = _status(root)
    assert (
        status["sources"]["binance-spot"]["last_error"]
        == "stopped while fetching; nothing appended"
    )
    assert not (root / "events").exists() or len(EventLog.open(root)) == 0


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


def test_a_bad_config_exits_2_from_the_command_line(tmp_path: Path) -> None:
    """`catalog daemon` with a bad config exits 2 with one line, starting nothing."""
    path = tmp_path / "bad.toml"
    path.write_text('[sources.okx]\ninterval = "5m"\nspeed = 3\n')
    found = subprocess.run(
        [sys.executable, "-m", "connectors.cli.main", "daemon", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert found.returncode == 2
    assert "sources.okx.speed: unknown key" in found.stderr


def test_the_example_config_is_valid() -> None:
    """`catalog.example.toml` loads (the README points to it)."""
    from pathlib import Path as RealPath

    config = load(RealPath(__file__).resolve().parents[2] / "catalog.example.toml")
    assert set(config.sources) == {"binance-spot", "binance-usdm", "okx", "bybit", "tradingview"}


def test_a_second_daemon_and_a_manual_sync_are_refused_then_a_killed_one_is_recovered(
    tmp_path: Path,
) -> None:
    """One writer per catalog: a second daemon and `catalog sync` are refused, naming the
    holder; after the first daemon is killed (no clean stop), a new one recovers the lease."""
    venue = ScriptedVenue()
    venue.queue(binance.SPOT_PATH, SPOT)
    with ThreadedVenue(venue) as served:
        sources = f'[sources.binance-spot]\ninterval = "1h"\nbase_url = "{served.base_url}"\n'
        config = _config(tmp_path, sources)
        root = tmp_path / "lake"
        first = _start(config)
        try:
            _wait(lambda: _count(root, "binance-spot") >= 1)
            second = subprocess.run(
                [sys.executable, "-m", "connectors.cli.main", "daemon", "--config", str(config)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            manual = subprocess.run(
                [
                    *[sys.executable, "-m", "connectors.cli.main", "--root", str(root), "sync"],
                    *["binance-spot", "--base-url", f"binance-spot={served.base_url}"],
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
        finally:
            first.kill()
            first.communicate(timeout=15)
        assert second.returncode == 2
        assert f"pid {first.pid}" in second.stderr
        assert "catalog daemon" in second.stderr
        assert manual.returncode == 2
        assert f"pid {first.pid}" in manual.stderr
        assert "gone without a clean stop" in _status(root)["state"]
        third = _start(config)
        try:
            _wait(lambda: _status(root)["pid"] == third.pid)
        finally:
            code, err = _stop(third)
        assert code == 0, err


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
