"""`catalog status` and the daemon's schedules: a running sync, totals across restarts,
no next run once stopped, a disabled source, crontab weekdays.

The daemon runs in this process, as in `test_daemon` (whose helpers these are).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from clock import Clock
from test_daemon import SPOT, START, _config, _count, _run_daemon, _status, log_lines
from venues import Answer, ScriptedVenue

from connectors.cli.main import main
from connectors.daemon.config import cron_trigger, load
from connectors.venues import binance, okx
from eventstore import EventLog

if TYPE_CHECKING:
    import io
    from pathlib import Path

    import pytest

__all__ = ["log_lines"]  # the fixture, shared with test_daemon


def test_status_shows_a_running_sync(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], log_lines: io.StringIO
) -> None:
    """While a sync waits on its venue, `catalog status` says it is running and since when
    (the text table and --json); once the daemon stopped, nothing is running."""
    root = tmp_path / "lake"
    seen: dict[str, Any] = {}

    def running() -> bool:
        if not (root / "sync" / "status.json").exists():
            return False
        found = _status(root, capsys)
        if not found["sources"]["binance-spot"]["running"]:
            return False
        seen["json"] = found
        assert main(["--root", str(root), "status"]) == 0
        seen["text"] = capsys.readouterr().out
        return True

    async def scenario() -> None:
        async with ScriptedVenue() as venue:
            venue.queue(binance.SPOT_PATH, Answer(hang=True))
            sources = '[sources.binance-spot]\ninterval = "1h"\ntimeout = 60\n'
            sources += f'base_url = "{venue.base_url}"\n'
            config = _config(tmp_path, sources, stop_timeout=1)
            await _run_daemon(config, running, log_lines, Clock(START))

    asyncio.run(scenario())
    assert seen["json"]["state"] == "running"
    header, row = seen["text"].splitlines()[1:3]
    assert header.split()[:3] == ["source", "schedule", "running"]
    started = seen["json"]["sources"]["binance-spot"]["last_run"].replace("T", " ")
    assert f"since {started}" in row
    after = _status(root, capsys)["sources"]["binance-spot"]
    assert (after["running"], after["next_run"]) == (False, None)


def test_a_restarted_daemon_goes_on_counting_and_a_stopped_one_has_no_next_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], log_lines: io.StringIO
) -> None:
    """Runs, failures and the appended total survive a restart (the second daemon appends
    nothing new, so the total stays); after each clean stop no source has a next run."""
    root = tmp_path / "lake"
    stopped: list[dict[str, Any]] = []

    async def scenario() -> None:
        async with ScriptedVenue() as venue:
            venue.queue(binance.SPOT_PATH, SPOT)
            venue.queue(okx.PATH, Answer(503))
            sources = (
                f'[sources.binance-spot]\ninterval = "0.2s"\nbase_url = "{venue.base_url}"\n'
                f'[sources.okx]\ninterval = "1h"\nbase_url = "{venue.base_url}"\n'
                'markets = ["SPOT"]\ntimeout = 2\n'
            )
            config = _config(tmp_path, sources)
            for runs in (2, 4):

                def ran(runs: int = runs) -> bool:
                    return _count(root, "binance-spot") >= runs and _count(root, "okx") >= 1

                await _run_daemon(config, ran, log_lines, Clock(START))
                stopped.append(_status(root, capsys))

    asyncio.run(scenario())
    first, second = stopped
    for status in stopped:
        assert status["state"].startswith("stopped at")
        assert [s["next_run"] for s in status["sources"].values()] == [None, None]
        assert not any(s["running"] for s in status["sources"].values())
    spot_first, spot_second = first["sources"]["binance-spot"], second["sources"]["binance-spot"]
    assert spot_first["appended_total"] == spot_second["appended_total"] == 2
    assert spot_second["last_appended"] == 0
    assert spot_second["runs"] >= 4 > spot_first["runs"] >= 2
    assert second["sources"]["okx"]["failures"] > first["sources"]["okx"]["failures"] >= 1
    assert len(EventLog.open(root)) == 2
    assert main(["--root", str(root), "status"]) == 0
    text = capsys.readouterr().out.splitlines()
    next_run = text[1].index("next run")
    assert all(line[next_run:].startswith("- ") for line in text[2:4])


def test_a_disabled_source_needs_no_schedule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], log_lines: io.StringIO
) -> None:
    """`enabled = false` alone keeps a table and runs nothing; status shows it disabled."""
    root = tmp_path / "lake"

    async def scenario() -> None:
        async with ScriptedVenue() as venue:
            venue.queue(binance.SPOT_PATH, SPOT)
            sources = f'[sources.binance-spot]\ninterval = "1h"\nbase_url = "{venue.base_url}"\n'
            sources += "[sources.okx]\nenabled = false\n"
            config = _config(tmp_path, sources)
            assert load(config).sources["okx"].enabled is False
            await _run_daemon(
                config, lambda: _count(root, "binance-spot") >= 1, log_lines, Clock(START)
            )

    asyncio.run(scenario())
    okx_status = _status(root, capsys)["sources"]["okx"]
    assert (okx_status["enabled"], okx_status["runs"], okx_status["schedule"]) == (False, 0, "none")
    assert main(["--root", str(root), "status"]) == 0
    okx_line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("okx"))
    assert okx_line.split()[1] == "disabled"


def test_cron_weekdays_count_as_in_crontab() -> None:
    """0 and 7 are Sunday, 1 is Monday (APScheduler 3 alone would read 0 as Monday)."""
    sunday = datetime(2025, 6, 1, 12, tzinfo=UTC)  # a Sunday

    def next_day(line: str) -> str:
        fired: datetime | None = cron_trigger(line).get_next_fire_time(None, sunday)
        assert fired is not None
        return fired.strftime("%a %d")

    assert next_day("0 0 * * 1") == "Mon 02"
    assert next_day("0 0 * * 0") == next_day("0 0 * * 7") == "Sun 08"
    assert next_day("0 0 * * 1-5") == "Mon 02"
    assert next_day("0 0 * * 6") == "Sat 07"
    assert next_day("0 0 * * */2") == "Tue 03"  # 0, 2, 4, 6: Sunday, Tuesday, ...
    assert next_day("0 0 * * sat,sun") == "Sat 07"
