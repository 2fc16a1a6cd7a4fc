"""The oracle of `Catalog.revisions`: two pure folds (`projections.fold`) and their difference.

It follows the definitions of the README and of `projections.revisions.causes` event by
event, in plain Python: every answer of each field at each piece of effective time as
known at K1 and at K2, adjacent pieces with the same two answers merged into one row, and
each row's cause from the news events (classified and attributed as defined).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventstore import (
    EventRetracted,
    ExchangeChanged,
    ExchangeListed,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
)
from projections import fold
from projections.revisions import CAUSES, REVISION_FIELDS
from projections.revisions.report import text

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from eventstore import Event
    from projections import Instrument

Row = tuple[Any, ...]


def _basis(event: Event, basis: str) -> datetime:
    found = event.observed_at if basis == "observed" else event.recorded_at
    assert found is not None
    return found


def _bounds(k: datetime | None, basis: str) -> tuple[datetime | None, datetime | None]:
    return (k, None) if basis == "observed" else (None, k)


def _at(versions: Sequence[Instrument], t: datetime) -> Instrument | None:
    found = None
    for version in versions:
        if version.valid_from <= t:
            found = version
    return found


def _answer(version: Instrument | None, field: str) -> str | None:
    if version is None:
        return None
    return text(version.active if field == "active" else getattr(version, field))


def _touches(event: Event) -> set[str]:
    if isinstance(event, InstrumentListed):
        return set(REVISION_FIELDS)
    if isinstance(event, InstrumentDelisted):
        return {"active", "status"}
    if isinstance(event, InstrumentRenamed):
        return {"symbol"}
    assert isinstance(event, InstrumentChanged)
    return set(event.changes)


def _withdrawn(events: Sequence[Event]) -> set[str]:
    return {e.target for e in events if isinstance(e, EventRetracted)}


def news(
    stream: Sequence[Event], k1: datetime, k2: datetime | None, basis: str
) -> list[tuple[Event, datetime]]:
    """Return the news of one stream with where each stands (a retraction: its target's time)."""
    folded = (InstrumentListed, InstrumentChanged, InstrumentDelisted, InstrumentRenamed)
    known1 = [e for e in stream if _basis(e, basis) <= k1]
    known2 = [e for e in stream if k2 is None or _basis(e, basis) <= k2]
    gone1, gone2 = _withdrawn(known1), _withdrawn(known2)
    by_id = {e.event_id: e for e in known1}
    found: list[tuple[Event, datetime]] = []
    for e in known2:
        if e in known1:
            continue
        if isinstance(e, folded) and e.event_id not in gone2:
            found.append((e, e.effective_at))
        elif isinstance(e, EventRetracted):
            target = by_id.get(e.target)
            if isinstance(target, folded) and target.event_id not in gone1:
                found.append((e, target.effective_at))
    return found


def _cause(event: Event, latest: datetime | None, k1: datetime) -> str:
    past = event.effective_at <= k1
    if isinstance(event, EventRetracted):
        return "retraction"
    if isinstance(event, InstrumentListed):
        return "late listing" if past else "listing"
    if isinstance(event, InstrumentDelisted):
        return "late delisting" if past else "delisting"
    if latest is not None and event.effective_at <= latest:
        return "correction"
    return "backfill" if past else "change"


def _named(
    touching: list[tuple[datetime, str]], start: datetime, end: datetime | None
) -> list[str]:
    inside = {c for t, c in touching if t >= start and (end is None or t < end)}
    if not inside:
        earlier = [t for t, _ in touching if t < start]
        inside = {c for t, c in touching if earlier and t == max(earlier)}
    return [c for c in CAUSES if c in inside]


def _touching(
    stream: Sequence[Event], k1: datetime, k2: datetime | None, basis: str, latest: Any
) -> dict[str, list[tuple[datetime, str]]]:
    found: dict[str, list[tuple[datetime, str]]] = {f: [] for f in REVISION_FIELDS}
    by_id = {e.event_id: e for e in stream}
    for event, at in news(stream, k1, k2, basis):
        moved = event if not isinstance(event, EventRetracted) else by_id[event.target]
        for field in _touches(moved):
            if field in found:
                found[field].append((at, _cause(event, latest, k1)))
    return found


def expected_revisions(
    events: Sequence[Event], k1: datetime, k2: datetime | None, basis: str = "observed"
) -> list[Row]:
    """Return the rows `revisions(k1, k2, basis)` must answer, in its order."""
    rows: list[Row] = []
    exchange_kinds = (ExchangeListed, ExchangeChanged)
    streams = sorted({e.instrument_id for e in events if not isinstance(e, exchange_kinds)})
    for instrument_id in streams:
        stream = [e for e in events if e.instrument_id == instrument_id]
        v1 = fold.instrument_versions(stream, *_bounds(k1, basis))
        v2 = fold.instrument_versions(stream, *_bounds(k2, basis))
        cuts = sorted({v.valid_from for v in (*v1, *v2)})
        latest = v1[-1].valid_from if v1 else None
        touching = _touching(stream, k1, k2, basis, latest)
        for field in REVISION_FIELDS:
            runs: list[list[Any]] = []
            for i, cut in enumerate(cuts):
                end = cuts[i + 1] if i + 1 < len(cuts) else None
                a, b = _answer(_at(v1, cut), field), _answer(_at(v2, cut), field)
                if a == b:
                    continue
                if runs and runs[-1][1] == cut and runs[-1][2:4] == [a, b]:
                    runs[-1][1] = end
                    continue
                holder = _at(v2, cut) or _at(v1, cut)
                assert holder is not None
                runs.append([cut, end, a, b, holder.symbol])
            for start, end, a, b, symbol in runs:
                cause = _named(touching[field], start, end)
                rows.append((instrument_id, symbol, field, start, end, a, b, cause))
    return rows


COLUMNS = (
    "instrument_id",
    "symbol",
    "field",
    "effective_from",
    "effective_until",
    "before",
    "after",
    "cause",
)
