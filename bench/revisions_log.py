"""The log the revisions figure reads: the synthetic history, its last 1% appended apart.

The first 99% of the events go in batches of 100,000; then the last 1% in one batch of its
own, with retractions of earlier events (a twentieth of that batch) among them, so the
window (K1, K2] of a revisions query holds exactly that last 1%: K1 is the recording of
the 99%, K2 everything.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import numpy as np
import pyarrow.compute as pc
import synth
import synth_log

from eventstore import EventLog, EventRetracted

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from eventstore import Event


def _retractions(log: EventLog, count: int, seed: int) -> list[Event]:
    """Return retractions of `count` random earlier events."""
    size = log.read(["position"]).num_rows
    picked = np.random.default_rng(seed).choice(size, min(count, size), replace=False)
    rows = log.read(
        ["event_id", "instrument_id", "symbol", "effective_at"],
        where=pc.field("position").isin(picked.tolist()),
    ).to_pylist()
    return [
        EventRetracted(
            instrument_id=row["instrument_id"],
            symbol=row["symbol"],
            effective_at=row["effective_at"],
            source="manual",
            target=row["event_id"],
            reason="wrong value",
        )
        for row in rows
    ]


def write(root: str, h: synth.History, seed: int, say: Callable[[str], None]) -> datetime:
    """Append `h` to a new log under `root`, its last 1% apart; return K1."""
    log = EventLog.open(root)
    tail = max(1, h.n_events // 100)
    head = h.n_events - tail
    for lo in range(0, head, synth.BATCH):
        hi = min(lo + synth.BATCH, head)
        log.append(synth_log.events(h, lo, hi))
        say(f"  log: {hi:,}/{h.n_events:,} events")
    k1 = log.read(["recorded_at"], since=head - 1, until=head)["recorded_at"][0].as_py()
    batch = synth_log.events(h, head, h.n_events)
    retractions = _retractions(log, tail // 20, seed)
    t0 = time.perf_counter()
    log.append(batch[: len(batch) - len(retractions)] + retractions)
    took = time.perf_counter() - t0
    say(
        f"  log: the last {tail:,} events ({len(retractions):,} retractions) appended apart"
        f" in {took:,.1f} s"
    )
    return k1  # type: ignore[no-any-return]


def cached(folder: str, scale: float, seed: int, say: Callable[[str], None]) -> tuple[str, str]:
    """Return (root, K1 as ISO text) of the revisions log at `scale`, writing it first unless
    an earlier run did."""
    root = os.path.join(folder, f"revisions-scale-{scale:g}-seed-{seed}")
    marker = os.path.join(root, "k1.txt")
    if not os.path.exists(marker):
        h = synth.generate(*synth.sizes(scale), seed)
        say(f"writing the revisions log: {h.describe()}")
        k1 = write(root, h, seed, say)
        with open(marker, "w") as out:
            out.write(k1.isoformat())
    with open(marker) as source:
        return root, source.read().strip()
