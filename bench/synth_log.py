"""Turn a synthetic history into eventstore events, and append them to a log in batches."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from synth import (
    BATCH,
    CHANGED,
    DELISTED,
    EXCHANGES,
    LISTED,
    NOT_SET,
    NULL,
    QUOTES,
    REASONS,
    SOURCE,
    VALUES,
    History,
    micros_to_datetime,
)

from eventstore import (
    EventLog,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventstore import Event

_DECIMALS = {f: [Decimal(v) for v in vs] for f, vs in VALUES.items() if f != "status"}


def _value(field: str, code: int) -> object:
    if code == NULL:
        return None
    return VALUES["status"][code] if field == "status" else _DECIMALS[field][code]


def events(h: History, lo: int, hi: int) -> list[Event]:
    """Return the events of rows `lo` <= row < `hi` (append order) as eventstore events."""
    inst, kind, eff = h.inst[lo:hi].tolist(), h.kind[lo:hi].tolist(), h.eff[lo:hi].tolist()
    sym, new_sym, first = h.sym[lo:hi].tolist(), h.new_sym[lo:hi].tolist(), h.first[lo:hi].tolist()
    codes = {f: c[lo:hi].tolist() for f, c in h.codes.items()}
    out: list[Event] = []
    for j, (i, k, us) in enumerate(zip(inst, kind, eff, strict=True)):
        when = micros_to_datetime(us)
        head = {"instrument_id": h.ids[i], "symbol": h.symbols[sym[j]], "effective_at": when}
        if k == CHANGED:
            changes = {f: _value(f, c[j]) for f, c in codes.items() if c[j] != NOT_SET}
            out.append(InstrumentChanged(**head, source=SOURCE, changes=changes))
        elif k == LISTED:
            given: dict[str, Any] = {f: _value(f, c[j]) for f, c in codes.items() if c[j] >= 0}
            quote, swap = QUOTES[h.quote[i]], bool(h.swap[i])
            out.append(
                InstrumentListed(
                    **head,
                    source=SOURCE,
                    exchange=EXCHANGES[h.exch[i]],
                    base=h.bases[i],
                    quote=quote,
                    type="swap" if swap else "spot",
                    description=f"{h.bases[i]} / {quote}{' Perpetual' if swap else ''}",
                    timezone="Etc/UTC",
                    session="24x7",
                    listed_at=when if first[j] else None,
                    **given,
                )
            )
        elif k == DELISTED:
            out.append(InstrumentDelisted(**head, source=SOURCE, reason=REASONS[i % 3]))
        else:
            out.append(InstrumentRenamed(**head, source=SOURCE, new_symbol=h.symbols[new_sym[j]]))
    return out


@dataclass
class AppendStats:
    """What appending a history to a log cost."""

    events: int = 0
    build_s: float = 0.0  # building Python events from the columns
    append_s: float = 0.0  # inside EventLog.append
    batches: int = 0
    slowest_batch_s: float = 0.0


def append_log(
    h: History, root: str, *, batch: int = BATCH, say: Callable[[str], None] = print
) -> AppendStats:
    """Append the whole history to the log under `root` in batches; print progress."""
    log = EventLog.open(root)
    stats = AppendStats()
    for lo in range(0, h.n_events, batch):
        hi = min(lo + batch, h.n_events)
        t0 = time.perf_counter()
        chunk = events(h, lo, hi)
        t1 = time.perf_counter()
        log.append(chunk)
        t2 = time.perf_counter()
        stats.events += hi - lo
        stats.build_s += t1 - t0
        stats.append_s += t2 - t1
        stats.batches += 1
        stats.slowest_batch_s = max(stats.slowest_batch_s, t2 - t1)
        say(
            f"  log: {hi:>11,}/{h.n_events:,} events | batch build {t1 - t0:6.2f}s "
            f"append {t2 - t1:6.2f}s ({(hi - lo) / (t2 - t1):,.0f} ev/s)"
        )
    return stats


def cached_log(folder: str, scale: float, seed: int, what: str) -> tuple[str, History]:
    """Return (root, history) of the synthetic log `what` at `scale` under `folder`,
    writing it first unless an earlier run did."""
    import synth

    root = os.path.join(folder, f"{what}-scale-{scale:g}-seed-{seed}")
    h = synth.generate(*synth.sizes(scale), seed)
    if EventLog.open(root).refresh() < 0:
        print(f"writing the log: {h.describe()}", flush=True)
        append_log(h, root, say=lambda _: None)
    return root, h
