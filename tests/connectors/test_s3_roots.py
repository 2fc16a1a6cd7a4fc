"""Object-store roots (moto on loopback): the writer lease, the absence counts and the
daemon's status live in the bucket beside the log, moved by conditional puts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from s3_server import S3, serve
from test_sync import spot
from venues import Answer, ScriptedVenue, ThreadedVenue

from connectors.daemon import status as status_store
from connectors.errors import LeaseError, LeaseHeldError
from connectors.lease.writer import LeaseRecord, WriterLease
from connectors.sync.absence import AbsenceStore
from connectors.sync.outcome import Absence
from connectors.venues import binance
from eventstore import EventLog
from projections.index.published import CACHE_ENV

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

START = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    """Serve S3 with moto on loopback; its options are the environment meanwhile (the
    command line and the daemon take a root, not options), and the index cache is ours."""
    with serve() as bucket, pytest.MonkeyPatch.context() as patch:
        for name, value in bucket.options.items():
            patch.setenv(name, value)
        patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        yield bucket


def _lease(root: str, clock: Callable[[], datetime] | None = None, **kw: object) -> WriterLease:
    return WriterLease(root, purpose="test", keep_alive=False, clock=clock or _now, **kw)  # type: ignore[arg-type]


def _now() -> datetime:
    return datetime.now(UTC)


def _record(s3: S3, root: str) -> LeaseRecord:
    return LeaseRecord.decode(s3.read(root, "writer.lease"))


def test_one_writer_renewal_release_and_takeover(s3: S3) -> None:
    root = s3.new_root()
    first = _lease(root)
    first.acquire()
    assert _record(s3, root).token == first.record.token  # type: ignore[union-attr]
    with pytest.raises(LeaseHeldError, match=f"pid {os.getpid()}"):
        _lease(root).acquire()
    first.renew()
    first.release()
    assert _record(s3, root).token == ""  # released: free for the next writer
    second = _lease(root)
    assert second.acquire() is None
    s3.write(root, "writer.lease", b"not a lease")  # someone else's write behind our back
    with pytest.raises(LeaseError, match="taken over"):
        second.renew()
    second.release()  # not ours any more: left alone
    assert s3.read(root, "writer.lease") == b"not a lease"


def test_a_dead_writers_lease_expires_by_its_heartbeat(s3: S3) -> None:
    root = s3.new_root()
    dead = LeaseRecord("other-host", 1, "", START.isoformat(), START.isoformat(), 60.0, "t", "x")
    s3.write(root, "writer.lease", dead.encode())
    with pytest.raises(LeaseHeldError, match="other-host"):
        _lease(root, clock=lambda: START + timedelta(seconds=59)).acquire()
    late = _lease(root, clock=lambda: START + timedelta(seconds=61))
    recovered = late.acquire()
    assert recovered is not None
    assert recovered.host == "other-host"
    assert _record(s3, root).token == late.record.token  # type: ignore[union-attr]


@pytest.mark.parametrize("lease_before", ["absent", "expired"])
def test_two_writers_that_read_the_same_lease_one_wins(s3: S3, lease_before: str) -> None:
    """Both writers read the lease (absent, or abandoned) before either writes: the
    conditional put lets the first through; the second's fails, it reads again and is
    refused."""
    root = s3.new_root()
    if lease_before == "expired":
        dead = LeaseRecord("h", 1, "", START.isoformat(), START.isoformat(), 1.0, "t", "x")
        s3.write(root, "writer.lease", dead.encode())
    first, second = _lease(root), _lease(root)
    assert second.remote is not None
    folder = second.remote.folder
    stale = [folder.get("writer.lease")]  # what the second read, before the first wrote
    read = folder.get
    folder.get = lambda name: stale.pop() if stale else read(name)  # type: ignore[method-assign]
    first.acquire()
    with pytest.raises(LeaseHeldError, match=f"pid {os.getpid()}"):
        second.acquire()
    assert not stale
    assert _record(s3, root).token == first.record.token  # type: ignore[union-attr]


def test_absence_counts_of_two_processes_merge_into_one(s3: S3) -> None:
    root = s3.new_root()
    first, second = AbsenceStore(root), AbsenceStore(root)  # both loaded before any save
    seen = Absence(1, START, START)
    first.save("okx", {"spot": {"okx:spot:A": seen}})
    second.save("binance", {"spot": {"binance:spot:B": seen}})
    first.save("okx", {"swap": {"okx:swap:C": Absence(2, START, START)}})
    stored = json.loads(s3.read(root, "sync/absence.json"))
    assert set(stored) == {"okx", "binance"}  # neither lost the other's counts
    assert set(stored["okx"]) == {"spot", "swap"}
    assert AbsenceStore(root).of("okx", "swap")["okx:swap:C"].count == 2
    s3.write(root, "sync/absence.json", b"\xffgarbage")
    assert AbsenceStore(root).of("okx", "swap") == {}  # damaged: counting starts again


def test_two_daemons_on_one_bucket_end_with_one_writer(s3: S3, tmp_path: Path) -> None:
    """Two `catalog daemon` processes on one s3:// root: one holds the lease and syncs, the
    other is refused (exit 2, naming the holder); the status is in the bucket."""
    root = s3.new_root()
    venue = ScriptedVenue()
    venue.queue(binance.SPOT_PATH, Answer(200, json.dumps(spot(22)).encode()))
    with ThreadedVenue(venue) as served:
        config = tmp_path / "catalog.toml"
        config.write_text(
            f'root = "{root}"\nlog_format = "json"\nmisfire_grace = 5\n'
            f'[sources.binance-spot]\ninterval = "1h"\nbase_url = "{served.base_url}"\n'
        )
        command = [sys.executable, "-m", "connectors.cli.main", "daemon", "--config", str(config)]
        logs = [(tmp_path / f"{n}.err").open("wb") for n in range(2)]
        daemons = [
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors) for errors in logs
        ]
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                found = status_store.read(root)
                if (
                    found
                    and found.sources.get("binance-spot")
                    and found.sources["binance-spot"].runs
                    and not found.sources["binance-spot"].running
                ):  # the status is saved as the run starts too: wait for its end
                    break
                time.sleep(0.2)
            while time.monotonic() < deadline and all(p.poll() is None for p in daemons):
                time.sleep(0.1)  # the refused one exits as soon as it has read the lease
            ended = [p for p in daemons if p.poll() is not None]
        finally:
            for process in daemons:
                process.kill()
                process.wait(timeout=15)
            for errors in logs:
                errors.close()
    said = [(tmp_path / f"{n}.err").read_text() for n in range(2)]
    assert len(ended) == 1, said
    assert ended[0].returncode == 2
    writer = next(p for p in daemons if p is not ended[0])
    assert f"pid {writer.pid}" in said[daemons.index(ended[0])]
    assert _record(s3, root).pid == writer.pid
    status = status_store.read(root)
    assert status is not None
    assert status.pid == writer.pid
    assert status.sources["binance-spot"].appended_total == len(
        EventLog.open(root, storage_options=s3.options)
    )
