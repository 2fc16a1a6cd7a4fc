"""The single-writer lease, between real OS processes.

Holders run as child interpreters (`python -c`), so refusal, release on exit and recovery
after a kill are the operating system's doing, not a simulation. A lease of another host
is written by hand: its heartbeat is the only sign of life the lease can read.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from connectors.cli.main import main
from connectors.lease.recovery import RECOVERY_TTL
from connectors.lease.writer import (
    LEASE_FILE,
    LeaseError,
    LeaseHeldError,
    LeaseRecord,
    WriterLease,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[2]
#: A child that takes the lease, says so, and holds it until its stdin closes.
HOLDER = textwrap.dedent(
    """
    import sys
    from connectors.lease.writer import WriterLease
    with WriterLease(sys.argv[1], purpose="test holder"):
        print("held", flush=True)
        sys.stdin.read()
    print("released", flush=True)
    """
)


def _child(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Start a child process that holds the lease of `tmp_path` until told to stop."""
    child = _child(HOLDER, str(tmp_path))
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    yield child
    if child.poll() is None:
        child.kill()
    child.wait(timeout=10)
    for pipe in (child.stdin, child.stdout):
        if pipe is not None and not pipe.closed:
            pipe.close()


def test_second_writer_is_refused_and_told_who_holds_it(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    """While a live process holds the lease, taking it fails with its host, pid and since."""
    with pytest.raises(LeaseHeldError) as refused:
        WriterLease(tmp_path, purpose="second").acquire()

    message = str(refused.value)
    assert f"pid {holder.pid}" in message
    assert "test holder (host " in message
    assert "since 20" in message
    assert refused.value.holder is not None
    assert refused.value.holder.pid == holder.pid


def test_lease_is_free_again_once_the_holder_leaves(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    """Leaving the `with` block releases the lease: the next writer takes it."""
    assert holder.stdin is not None
    holder.stdin.close()
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "released"
    holder.wait(timeout=10)

    with WriterLease(tmp_path, purpose="next") as lease:
        assert lease.record is not None
        assert lease.record.pid == os.getpid()
    assert not (tmp_path / LEASE_FILE).exists()


def test_lease_of_a_killed_process_is_recovered(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    """A holder killed with SIGKILL leaves its lease behind; the next writer recovers it."""
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    assert (tmp_path / LEASE_FILE).exists()

    lease = WriterLease(tmp_path, purpose="recoverer")
    recovered = lease.acquire()
    try:
        assert recovered is not None
        assert recovered.pid == holder.pid
        assert lease.record is not None
    finally:
        lease.release()


def test_only_one_of_many_racing_recoverers_wins(tmp_path: Path) -> None:
    """Processes racing to recover one abandoned lease: exactly one ends up holding it."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=10)
    _write_lease(tmp_path, host=os.uname().nodename, pid=dead.pid, heartbeat=datetime.now(UTC))
    racer = textwrap.dedent(
        """
        import sys
        from connectors.errors import LeaseHeldError
        from connectors.lease.writer import WriterLease
        lease = WriterLease(sys.argv[1], purpose="racer")
        sys.stdin.readline()
        try:
            lease.acquire()
        except LeaseHeldError:
            print("refused", flush=True)
        else:
            print("won", flush=True)
            sys.stdin.readline()  # hold it until every racer has tried
            lease.release()
        """
    )
    racers = [_child(racer, str(tmp_path)) for _ in range(4)]
    for child in racers:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    said = []
    for child in racers:
        assert child.stdout is not None
        said.append(child.stdout.readline().strip())
    outcomes = sorted(said)
    for child in racers:
        child.communicate("done\n", timeout=30)

    assert outcomes == ["refused", "refused", "refused", "won"]


def _write_lease(root: Path, *, host: str, pid: int, heartbeat: datetime, ttl: float = 60) -> None:
    record = LeaseRecord(
        host=host,
        pid=pid,
        started="",
        since=heartbeat.isoformat(),
        heartbeat=heartbeat.isoformat(),
        ttl=ttl,
        token="0" * 32,
        purpose="catalog daemon",
    )
    root.mkdir(parents=True, exist_ok=True)
    (root / LEASE_FILE).write_bytes(record.encode())


def test_lease_of_another_host_counts_while_its_heartbeat_is_fresh(tmp_path: Path) -> None:
    """A lease from another host with a heartbeat within its ttl is respected."""
    _write_lease(tmp_path, host="elsewhere", pid=1, heartbeat=datetime.now(UTC))

    with pytest.raises(LeaseHeldError, match="host elsewhere, pid 1"):
        WriterLease(tmp_path, purpose="here").acquire()


def test_lease_of_another_host_is_recovered_after_its_ttl(tmp_path: Path) -> None:
    """A lease from another host whose heartbeat is older than its ttl is recovered."""
    _write_lease(
        tmp_path, host="elsewhere", pid=1, heartbeat=datetime.now(UTC) - timedelta(minutes=5)
    )

    with WriterLease(tmp_path, purpose="here") as lease:
        assert lease.record is not None
        assert lease.record.host != "elsewhere"


def test_heartbeat_moves_while_the_lease_is_held(tmp_path: Path) -> None:
    """`renew` rewrites the heartbeat and keeps the token."""
    times = iter(datetime(2025, 1, 1, 0, 0, n, tzinfo=UTC) for n in range(10))
    lease = WriterLease(tmp_path, purpose="daemon", keep_alive=False, clock=lambda: next(times))
    lease.acquire()
    first = json.loads((tmp_path / LEASE_FILE).read_text())

    lease.renew()

    second = json.loads((tmp_path / LEASE_FILE).read_text())
    assert second["token"] == first["token"]
    assert second["heartbeat"] > first["heartbeat"]
    assert second["since"] == first["since"]
    lease.release()


def test_a_lease_taken_over_is_neither_renewed_nor_removed(tmp_path: Path) -> None:
    """If another writer replaced our lease, renew raises and release leaves theirs alone."""
    lease = WriterLease(tmp_path, purpose="slow", keep_alive=False)
    lease.acquire()
    _write_lease(tmp_path, host="elsewhere", pid=1, heartbeat=datetime.now(UTC))

    with pytest.raises(LeaseError, match="taken over"):
        lease.renew()
    lease.release()

    assert json.loads((tmp_path / LEASE_FILE).read_text())["host"] == "elsewhere"


def test_catalog_append_refuses_while_another_writer_holds_the_lease(
    tmp_path: Path, holder: subprocess.Popen[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`catalog append` exits 2, names the holder, and appends nothing."""
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps(
            {
                "kind": "InstrumentListed",
                "instrument_id": "btc",
                "symbol": "BINANCE:BTCUSDT",
                "effective_at": "2024-01-01T00:00:00Z",
                "source": "manual",
            }
        )
        + "\n"
    )

    status = main(["--root", str(tmp_path), "append", str(events)])

    assert status == 2
    assert f"pid {holder.pid}" in capsys.readouterr().err
    assert not (tmp_path / "events").exists()


def test_catalog_compact_takes_the_lease_too(
    tmp_path: Path, holder: subprocess.Popen[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`catalog compact` is refused while another writer holds the lease."""
    status = main(["--root", str(tmp_path), "compact"])

    assert status == 2
    assert "test holder" in capsys.readouterr().err


def test_a_recovery_in_progress_refuses_and_an_abandoned_one_is_taken_over(
    tmp_path: Path,
) -> None:
    """A fresh recovery lock means another writer is recovering: refuse. One older than
    `RECOVERY_TTL` was left by a crash mid-recovery: take it over and recover."""
    stale = datetime.now(UTC) - timedelta(minutes=5)
    _write_lease(tmp_path, host="elsewhere", pid=1, heartbeat=stale)
    lock = tmp_path / f".{LEASE_FILE}.recovering"
    lock.write_text("someone")

    with pytest.raises(LeaseHeldError, match="recovering an old lease"):
        WriterLease(tmp_path, purpose="here").acquire()

    old = time.time() - RECOVERY_TTL - 1
    os.utime(lock, (old, old))
    with WriterLease(tmp_path, purpose="here") as lease:
        assert lease.record is not None
    assert not lock.exists()
