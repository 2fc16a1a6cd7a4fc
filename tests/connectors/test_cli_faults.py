"""The command line under faults: one true line, the right exit status, nothing left behind.

Signals are sent for real: to this process from inside a sync (in-process, at a chosen
step), and to a `catalog` subprocess waiting on a venue that never answers.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from builders import T0, listed
from venues import SAMPLES, Answer, ScriptedVenue, ThreadedVenue

from connectors.cli import main as cli
from connectors.cli import sync as cli_sync
from connectors.cli.main import main
from connectors.cli.progress import SyncProgress
from connectors.lease.writer import LEASE_FILE
from eventstore import EventLog

REPO = Path(__file__).resolve().parents[2]
AS_OF = "2021-01-01T00:00:00Z"
EVENT = {
    "kind": "InstrumentListed",
    "instrument_id": "btc",
    "symbol": "BINANCE:BTCUSDT",
    "exchange": "BINANCE",
    "type": "spot",
    "source": "test",
    "effective_at": "2024-01-01T00:00:00Z",
}


def _leftovers(root: Path) -> list[str]:
    """Return the lease files and hidden staging files under `root`."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.name.startswith((".", LEASE_FILE)))


def _events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(EVENT) + "\n")
    return path


# -- roots the system refuses --------------------------------------------------------------


def test_a_root_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Writing under a file: one line, exit 2, the file untouched; reading: no catalog there."""
    root = tmp_path / "lake"
    root.write_text("not a folder")
    events = _events_file(tmp_path)

    assert main(["--root", str(root), "append", str(events)]) == 2
    assert capsys.readouterr().err == (
        f"catalog: error: the root {root} is a file, not a folder; nothing was written\n"
    )
    assert main(["--root", str(root), "get", "BINANCE:BTCUSDT", "--as-of", AS_OF]) == 2
    assert capsys.readouterr().err.startswith(f"catalog: error: no catalog at {root} ")
    assert root.read_text() == "not a folder"


@pytest.mark.parametrize(
    "number",
    [errno.ENOSPC, errno.EROFS, errno.EACCES],
    ids=["full disk", "read-only", "permission"],
)
def test_the_lease_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, number: int
) -> None:
    """The lease's file cannot be written: one line, exit 2, no staging file, no event."""
    root = tmp_path / "lake"
    events = _events_file(tmp_path)
    real = Path.write_bytes

    def refuse(path: Path, data: bytes) -> int:  # as a full disk does: part written, then fails
        if path.name.startswith(f".{LEASE_FILE}"):
            real(path, data[:0])
            raise OSError(number, os.strerror(number), str(path))
        return real(path, data)

    monkeypatch.setattr(Path, "write_bytes", refuse)

    assert main(["--root", str(root), "append", str(events)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"catalog: error: cannot take the writer lease {root / LEASE_FILE}: ")
    assert err.endswith(f"{os.strerror(number)}; nothing was written\n")
    assert err.count("\n") == 1
    assert not root.exists()  # the root it would have created is gone too


@pytest.mark.parametrize("number", [errno.ENOSPC, errno.EROFS], ids=["full disk", "read-only"])
def test_the_log_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, number: int
) -> None:
    """The system refuses the commit itself: one line naming the reason, exit 2, lease gone.

    (A real full disk, tried on a 1 MB tmpfs, gives the same line with deltalake's wording.)
    """
    root = tmp_path / "lake"
    events = _events_file(tmp_path)

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(number, os.strerror(number), str(root / "events"))

    monkeypatch.setattr("eventstore.log.storage.write_deltalake", refuse)

    assert main(["--root", str(root), "append", str(events)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"catalog: error: appending to the log failed for {root / 'events'}: ")
    assert os.strerror(number) in err
    assert err.count("\n") == 1
    assert _leftovers(root) == []
    assert EventLog.open(root).refresh() == -1


# -- errors that are not the user's -------------------------------------------------------


def test_an_unexpected_error_is_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug is exit 70 and says so in one line; CATALOG_TRACEBACK=1 adds the traceback."""
    root = tmp_path / "lake"
    assert main(["--root", str(root), "append", str(_events_file(tmp_path))]) == 0
    capsys.readouterr()

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a value the code did not expect")

    monkeypatch.setattr("projections.catalog.Catalog.get", broken)
    argv = ["--root", str(root), "get", "BINANCE:BTCUSDT", "--as-of", AS_OF]

    assert main(argv) == 70
    assert capsys.readouterr().err == (
        "catalog: internal error: ValueError: a value the code did not expect "
        "(a bug: set CATALOG_TRACEBACK=1 to see the traceback)\n"
    )
    monkeypatch.setenv("CATALOG_TRACEBACK", "1")
    assert main(argv) == 70
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert err.splitlines()[-1].startswith("catalog: internal error: ValueError: ")


# -- signals -------------------------------------------------------------------------------


def _signal_after_first_commit(monkeypatch: pytest.MonkeyPatch, number: int) -> None:
    """Make the sync's progress send `number` to this process once a source has appended."""

    class Signalling(SyncProgress):
        def __call__(self, source: str, message: str) -> None:
            if message.startswith("appended") and not message.startswith("appended 0"):
                os.kill(os.getpid(), number)
                time.sleep(1)  # the signal arrives during this sleep

    monkeypatch.setattr(cli_sync, "_progress", lambda args: Signalling(enabled=False))


@pytest.mark.parametrize(
    ("number", "status", "said"),
    [(signal.SIGINT, 130, "interrupted (Ctrl-C)"), (signal.SIGTERM, 143, "terminated (SIGTERM)")],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_during_a_replay_says_what_was_committed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    number: int,
    status: int,
    said: str,
) -> None:
    """Stopped after its first commit: one line with that commit's events, lease released."""
    root = tmp_path / "lake"
    _signal_after_first_commit(monkeypatch, number)
    before = signal.getsignal(signal.SIGTERM)

    assert main(["--root", str(root), "sync", "--replay", str(SAMPLES)]) == status

    out, err = capsys.readouterr()
    committed = len(EventLog.open(root))
    assert committed > 0
    assert out == ""
    assert err == (
        f"catalog: {said}; {committed:,} events were committed before it "
        "(log version -1 -> 0), nothing else was appended\n"
    )
    assert _leftovers(root) == []
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back


def test_sigterm_to_a_sync_waiting_on_a_venue(tmp_path: Path) -> None:
    """A real SIGTERM to a `catalog sync` process: exit 143, nothing appended, no lease left."""
    root = tmp_path / "lake"
    venue = ScriptedVenue()
    venue.queue("/api/v3/exchangeInfo", Answer(hang=True))
    with ThreadedVenue(venue) as served:
        command = [sys.executable, "-m", "connectors.cli.main", "--root", str(root), "sync"]
        command += ["binance-spot", "--base-url", f"binance-spot={served.base_url}"]
        process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 30
        while not venue.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert venue.seen, "the sync never reached the venue"
        assert (root / LEASE_FILE).exists()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)

    assert process.returncode == 143
    assert err.splitlines()[-1] == "catalog: terminated (SIGTERM); nothing was appended"
    assert "Traceback" not in err
    assert out == ""
    assert _leftovers(root) == []


def test_sigint_to_an_append_reading_stdin(tmp_path: Path) -> None:
    """Ctrl-C while `catalog append -` waits for its input: exit 130, one line, no lease."""
    root = tmp_path / "lake"
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.cli.main", "--root", str(root), "append", "-"],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_reading_stdin(process.pid)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)

    assert (process.returncode, out) == (130, "")
    assert err == "catalog: interrupted (Ctrl-C); nothing was appended\n"
    assert _leftovers(root) == []


def _wait_reading_stdin(pid: int, timeout: float = 60.0) -> None:
    """Wait until process `pid` blocks reading its stdin (Linux: its wchan or syscall says so)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc = Path(f"/proc/{pid}")
        wchan = (proc / "wchan").read_text() if (proc / "wchan").exists() else ""
        syscall = (proc / "syscall").read_text().split()[:2] if (proc / "syscall").exists() else []
        if "pipe" in wchan or syscall == ["0", "0x0"]:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never waited on its stdin")


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`catalog universe ... | head -0`: no traceback, no message, the status of a SIGPIPE."""
    root = tmp_path / "lake"
    assert main(["--root", str(root), "sync", "--replay", str(SAMPLES), "--quiet"]) in (0, 1)
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before the first line is written
    command = [sys.executable, "-m", "connectors.cli.main", "--root", str(root), "universe"]
    process = subprocess.run(
        [*command, "--as-of", "2022-12-31T00:00:00Z", "--json"],
        cwd=REPO,
        stdout=writer,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )
    os.close(writer)
    assert (process.returncode, process.stderr) == (cli.EXIT_BROKEN_PIPE, "")


# -- what data may hold ----------------------------------------------------------------------

HOSTILE = "Bitcoin \x1b[2J\x1b[31mred\x1b[0m \u202eevil\u2028line\x00\x7f 比特币"


def test_control_characters_from_data_are_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A description with ANSI escapes, an RTL override, a line separator and a NUL: the text
    output shows them as \\uXXXX, letters of any script as they are; --json stays JSON."""
    root = tmp_path / "lake"
    EventLog.open(root).append(
        [listed("btc", "BINANCE:BTCUSDT", T0, exchange="BINANCE", type="spot", description=HOSTILE)]
    )
    argv = ["--root", str(root), "get", "BINANCE:BTCUSDT", "--as-of", "2024-02-01T00:00:00Z"]

    assert main(argv) == 0
    out = capsys.readouterr().out
    shown = "Bitcoin \\u001b[2J\\u001b[31mred\\u001b[0m \\u202eevil\\u2028line\\u0000\\u007f 比特币"
    assert shown in out
    assert all(char.isprintable() or char == "\n" for char in out)
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    assert all(char.isprintable() or char == "\n" for char in out)
    assert json.loads(out)["description"] == HOSTILE
    assert main(["--root", str(root), "history", "btc"]) == 0  # its table has descriptions
    out = capsys.readouterr().out
    assert "\\u001b[2J" in out
    assert all(char.isprintable() or char == "\n" for char in out)
