"""The writer's tail saved beside the index: a fresh writer starts from it when it holds.

A cache like the index: damaged, stale or from another log, it is never a wrong answer.
Each test compares the fresh writer's view with the one a full read of the log gives.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from builders import changed, delisted, listed

from eventstore import EventLog, verify_chain
from eventstore.log import saved_tail
from eventstore.log.tail import TAIL_COLUMNS, LogTail, id_keys

if TYPE_CHECKING:
    import pyarrow as pa


@pytest.fixture(autouse=True)
def save_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Save the tail after every move (the default waits for 200,000 positions)."""
    monkeypatch.setattr(saved_tail, "SAVE_EVERY", 1)


class Counting:
    """Counts the log rows a writer reads into its tail."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rows = 0
        absorb = LogTail.absorb

        def counted(tail: LogTail, rows: pa.Table, version: int) -> None:
            self.rows += rows.num_rows
            absorb(tail, rows, version)

        monkeypatch.setattr(LogTail, "absorb", counted)


def _filled(root: Path) -> EventLog:
    log = EventLog.open(root)
    log.append([listed(n) for n in range(1, 6)])
    log.append([changed(1), changed(2), delisted(3)])
    return log


def _path(log: EventLog) -> str:
    path = saved_tail.tail_path(log.root)
    assert path is not None
    return path


def _same_as_a_full_read(log: EventLog) -> None:
    """Assert the writer's tail is what reading the whole log gives."""
    len(log)
    mine = log._tail
    full = LogTail()
    full.absorb(log.read(list(TAIL_COLUMNS)), log.version())
    assert (mine.next_position, mine.last_hash, mine.delta_version) == (
        full.next_position,
        full.last_hash,
        full.delta_version,
    )
    assert mine.last_recorded_us == full.last_recorded_us
    assert mine.streams == full.streams
    assert mine.maybe_stored(id_keys(log.read(["event_id"])["event_id"])).all()


def test_a_fresh_writer_starts_from_the_saved_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _filled(tmp_path)
    counting = Counting(monkeypatch)
    fresh = EventLog.open(tmp_path)
    assert len(fresh) == 8
    assert counting.rows == 0  # nothing read from the log but one hash
    _same_as_a_full_read(fresh)
    again = fresh.append([listed(1)])  # a repeat, found through the restored id index
    assert again.appended == 0
    fresh.append([changed(4)])
    assert fresh.stream_version("inst-4") == 2
    assert verify_chain(fresh.read()) == []


def test_a_stale_saved_tail_is_caught_up_from_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _filled(tmp_path)
    monkeypatch.setattr(saved_tail, "SAVE_EVERY", 10**9)
    other = EventLog.open(tmp_path)
    other.append([changed(5), listed(9)])  # committed after the copy was saved
    counting = Counting(monkeypatch)
    fresh = EventLog.open(tmp_path)
    assert len(fresh) == 10
    assert counting.rows == 2  # only the events after the copy
    _same_as_a_full_read(fresh)
    assert log.stream_version("inst-5") == 2


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "empty", "not json"])
def test_a_damaged_saved_tail_means_a_full_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    path = _path(_filled(tmp_path))
    content = bytearray(Path(path).read_bytes())
    if damage == "flipped byte":
        content[-40] ^= 0xFF
    elif damage == "truncated":
        content = content[: len(content) // 2]
    elif damage == "empty":
        content = bytearray()
    else:
        content[0:1] = b"?"
    Path(path).write_bytes(bytes(content))
    counting = Counting(monkeypatch)
    fresh = EventLog.open(tmp_path)
    assert len(fresh) == 8
    assert counting.rows == 8  # the whole log, read again
    _same_as_a_full_read(fresh)
    assert saved_tail.load_tail(path) is not None  # and saved again, whole


def test_a_tail_saved_from_another_log_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    _filled(mine)
    other = EventLog.open(theirs)
    other.append([listed(n, source="other") for n in range(11, 16)])
    other.append([changed(11), changed(12), delisted(13)])  # as many events and commits
    os.replace(_path(other), _path(EventLog.open(mine)))
    counting = Counting(monkeypatch)
    fresh = EventLog.open(mine)
    assert len(fresh) == 8
    assert counting.rows == 8
    _same_as_a_full_read(fresh)
    assert "inst-11" not in fresh._tail.streams


def test_a_tail_saved_ahead_of_the_log_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _filled(tmp_path)
    ahead = saved_tail.load_tail(_path(log))
    assert ahead is not None
    ahead.delta_version += 5  # a log rolled back or replaced since the copy
    saved_tail.save_tail(ahead, _path(log))
    counting = Counting(monkeypatch)
    fresh = EventLog.open(tmp_path)
    assert len(fresh) == 8
    assert counting.rows == 8
    _same_as_a_full_read(fresh)


def test_no_tail_is_saved_for_a_log_on_an_object_store() -> None:
    assert saved_tail.tail_path("s3://bucket/catalog") is None
