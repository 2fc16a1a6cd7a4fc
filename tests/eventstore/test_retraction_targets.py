"""A batch's retraction targets are looked up in the log with one read, not one read each.

Both planners (`append` and `append_table`) check every retraction against its target:
stored or earlier in the batch, of the same stream, not itself a retraction. The stored
targets are read together (`eventstore.log.targets`); the checks and their errors stay.
Reads are counted with a spy on the log's reader, not timed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from builders import changed, listed, retracted
from clock import Clock

from eventstore import EventLog, InvalidEventError, UnknownStreamError, compute_event_id
from eventstore.encoding.given_table import events_table
from eventstore.log import appending

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from eventstore import Event

COINS = 40


def _log(tmp_path: Path) -> tuple[EventLog, list[Event]]:
    """Return a log of `COINS` coins, each listed then changed in a commit of its own (so
    the targets lie in many files), and the changes as recorded."""
    log = EventLog.open(tmp_path / "log", clock=Clock(datetime(2024, 6, 1, tzinfo=UTC)))
    log.append([listed(n) for n in range(COINS)])
    changes = [log.append([changed(n)])[0] for n in range(COINS)]
    return log, changes


def _retractions(changes: list[Event]) -> list[Event]:
    return [retracted(change) for change in changes]


class _Spy:
    """Counts the calls of one of the log's methods, passing them on."""

    def __init__(self, log: EventLog, name: str) -> None:
        self.calls: list[tuple[Any, ...]] = []
        real: Callable[..., Any] = getattr(log, name)

        def spied(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(args)
            return real(*args, **kwargs)

        setattr(log, name, spied)


def test_append_reads_every_stored_target_in_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, changes = _log(tmp_path)
    calls: list[Sequence[int]] = []
    real = appending._stored

    def spied(on: EventLog, positions: Sequence[int]) -> dict[int, Event]:
        calls.append(positions)
        return real(on, positions)

    monkeypatch.setattr(appending, "_stored", spied)
    recorded = log.append([changed(0, day=5, tick_size="0.5"), *_retractions(changes)])
    assert len(calls) == 1
    (positions,) = calls
    assert sorted(positions) == sorted(c.position or 0 for c in changes)
    assert [e.position for e in recorded] == list(range(2 * COINS, 3 * COINS + 1))
    assert [e.target for e in recorded[1:]] == [c.event_id for c in changes]  # type: ignore[attr-defined]


def test_append_table_reads_every_stored_target_in_one_read(tmp_path: Path) -> None:
    log, changes = _log(tmp_path)
    reads = []
    for part in (changes[:1], changes[1:]):
        writer = EventLog.open(log.root)
        len(writer)  # its tail is read now, outside the spied append
        spy = _Spy(writer, "_scan")
        writer.append_table(events_table(_retractions(part)))
        reads.append(len(spy.calls))
    assert reads == [1, 1]  # the targets' read, and nothing else, however many there are
    assert len(EventLog.open(log.root)) == 3 * COINS


def test_the_checks_of_each_target_stay(tmp_path: Path) -> None:
    log, changes = _log(tmp_path)
    missing = compute_event_id(changed(3, day=9))
    ghost = retracted(missing, stream=3)
    foreign = retracted(changes[2].event_id or "", stream=5)
    (done,) = log.append([retracted(changes[1])])
    twice = retracted(done.event_id or "", day=4, stream=1)
    cases: list[tuple[Event, type[Exception], str]] = [
        (ghost, UnknownStreamError, missing),
        # not shaped like an event id (the planner once raised a bare ValueError)
        (retracted("zz", stream=3), UnknownStreamError, "unknown retraction target 'zz'"),
        (foreign, InvalidEventError, "belongs to 'inst-2'"),
        (twice, InvalidEventError, "cannot be retracted"),
    ]
    size = len(log)
    for bad, error, message in cases:
        batch = [*_retractions(changes[5:]), bad, retracted(changes[0])]
        with pytest.raises(error, match=message):
            log.append(batch)
        with pytest.raises(error, match=message):
            log.append_table(events_table(batch))
    assert len(EventLog.open(log.root)) == size  # nothing appended
    fresh = changed(7, day=6, tick_size="0.7")
    log.append([fresh, retracted(compute_event_id(fresh), stream=7), *_retractions(changes[8:])])
    assert len(log) == size + 2 + COINS - 8
