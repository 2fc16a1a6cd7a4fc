"""Two OS processes appending to one log at the same time: both succeed, nothing is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from builders import exchange_listed

import eventstore
from eventstore import EventLog, verify_chain

if TYPE_CHECKING:
    from conftest import Location

#: Batches each writer appends, two events per batch.
BATCHES = 15
#: Upper bound for the whole race; reached only if a writer hangs.
TIMEOUT_S = 60

WORKER = """
import json, sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eventstore import EventLog, InstrumentChanged, InstrumentListed

root, tag, batches, barrier, options = sys.argv[1:6]
day0 = datetime(2024, 1, 1, tzinfo=UTC)
ids = [f"{tag}-{n}" for n in range(2)]
plan = [[
    InstrumentListed(
        instrument_id=i, symbol=f"X:{i}", effective_at=day0, source=tag, tick_size="0.01"
    ) for i in ids
]]
for day in range(1, int(batches)):
    plan.append([
        InstrumentChanged(
            instrument_id=i, symbol=f"X:{i}", effective_at=day0 + timedelta(days=day),
            source=tag, changes={"lot_size": str(day)},
        ) for i in ids
    ])
log = EventLog.open(root, storage_options=json.loads(options))
log.refresh()
Path(barrier, f"ready-{tag}").touch()
while not Path(barrier, "go").exists():
    time.sleep(0.002)
appended = []
for batch in plan:
    appended.extend([e.event_id, e.position] for e in log.append(batch))
print(json.dumps(appended))
"""


def _start_writer(
    root: str, tag: str, barrier: Path, options: dict[str, str] | None
) -> subprocess.Popen[str]:
    repo = str(Path(eventstore.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    args = [root, tag, str(BATCHES), str(barrier), json.dumps(options)]
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _release_when_ready(barrier: Path, writers: dict[str, subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not all((barrier / f"ready-{tag}").exists() for tag in writers):
        assert all(w.poll() is None for w in writers.values()), "a writer died before the start"
        assert time.monotonic() < deadline, "a writer never became ready"
        time.sleep(0.005)
    (barrier / "go").touch()


def test_two_processes_appending_at_once_lose_nothing(
    location: Location, root: str, tmp_path: Path
) -> None:
    """Concurrent appends from two processes all land: contiguous positions, clean chain."""
    EventLog.open(root, storage_options=location.storage_options).append([exchange_listed()])
    writers = {t: _start_writer(root, t, tmp_path, location.storage_options) for t in ("a", "b")}
    try:
        _release_when_ready(tmp_path, writers)
        outputs = [writer.communicate(timeout=TIMEOUT_S) for writer in writers.values()]
    finally:
        for writer in writers.values():
            if writer.poll() is None:
                writer.kill()
                writer.communicate()

    assert [w.returncode for w in writers.values()] == [0, 0], [err for _, err in outputs]
    appended = {event_id: position for out, _ in outputs for event_id, position in json.loads(out)}
    table = EventLog.open(root, storage_options=location.storage_options).read()
    assert table.num_rows == 1 + 2 * 2 * BATCHES
    assert table["position"].to_pylist() == list(range(table.num_rows))
    stored = dict(zip(table["event_id"].to_pylist(), table["position"].to_pylist(), strict=True))
    assert len(appended) == 2 * 2 * BATCHES
    assert appended.items() <= stored.items()
    assert verify_chain(table) == []
