"""A snapshot saved after a large catch-up answers exactly as a rebuild, in a fresh process."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pyarrow as pa
from builders import changed, day, delisted, listed
from clock import Clock

from eventstore import Event, EventLog
from projections import Catalog
from projections.index.live import SAVE_EVERY

if TYPE_CHECKING:
    from pathlib import Path

NEW = SAVE_EVERY + 500  # more than one save's worth, folded in by one catch-up


def _grow(root: Path) -> list[str]:
    """A catalog saved with one instrument, then given NEW listings and a few changes."""
    clock = Clock(day(0, 1))
    log = EventLog.open(root, clock=clock)
    log.append([listed("I0", "X:OLD", day(0), tick_size="0.01")])
    Catalog.open(root).refresh()  # the snapshot before the catch-up
    clock.set(day(3))
    symbols = [f"X:N{i}" for i in range(NEW)]
    events: list[Event] = [
        listed(f"N{i}", s, day(1), tick_size="0.5") for i, s in enumerate(symbols)
    ]
    events += [changed("N1", "X:N1", day(2), tick_size="0.25"), delisted("N2", "X:N2", day(2))]
    log.append(events)
    catching_up = Catalog.open(root)
    catching_up.refresh()  # folds NEW events in and saves them
    assert catching_up.get("X:N3", day(1)) is not None
    return symbols


def _answers(catalog: Catalog, symbols: list[str]) -> dict[str, object]:
    bars = pa.table(
        {
            "symbol": [*symbols[:300], "X:OLD", "X:N1", "X:N2", "X:NONE"],
            "ts": pa.array([day(2.5)] * 304, pa.timestamp("us", "UTC")),
        }
    )
    return {
        "get": [catalog.get(s, day(d)) for s in (*symbols[:50], "X:N1", "X:N2") for d in (1, 2.5)],
        "get_known": [catalog.get("X:N1", day(2.5), known_at=day(0, 2))],
        "universe": catalog.universe(day(2.5)).sort_by("symbol"),
        "universe_all": catalog.universe(day(2.5), include_inactive=True).sort_by("symbol"),
        "history": catalog.history("X:N1"),
        "changes": catalog.changes(day(0), day(3)),
        "pit_join": catalog.pit_join(bars),
        "pit_join_known": catalog.pit_join(bars, known_at=day(0, 2)),
        "pit_join_row": catalog.pit_join(bars, known_at="row"),
    }


def test_a_snapshot_saved_after_a_large_catch_up_answers_as_a_rebuild(tmp_path: Path) -> None:
    """Instruments first listed during a catch-up resolve by symbol after the next open."""
    symbols = _grow(tmp_path)
    loaded = Catalog.open(tmp_path)
    rebuilt = Catalog.open(tmp_path, persist=False)
    assert loaded.get(symbols[-1], day(1)) is not None
    assert _answers(loaded, symbols) == _answers(rebuilt, symbols)


def test_a_fresh_process_resolves_what_the_catch_up_listed(tmp_path: Path) -> None:
    """The CLI-visible defect: the second process said 'not listed' for a new instrument."""
    symbols = _grow(tmp_path)
    script = (
        "import sys; from projections import Catalog; "
        "c = Catalog.open(sys.argv[1]); "
        "print(c.get(sys.argv[2], '2024-01-02T00:00:00Z') is not None)"
    )
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path), symbols[-7]],
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout.strip() == "True", done.stderr
