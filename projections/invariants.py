"""The PIT invariants over the whole history, checked with array operations.

- `contiguous-versions`: the versions the catalog serves for an instrument follow one
  another (each ends where the next begins, the last is open) and never overlap.
- `one-holder`: at no instant do two instruments hold the same symbol while active.
- `listed-first`: no change, delisting or rename of an instrument is effective before
  its first listing (the fold ignores such an event: the catalog would silently drop it).

The first two look at the index the catalog answers from (loaded, or rebuilt from the
log when it has none), so a damaged index is caught; the third reads four columns of the
log. Retracted events are left out, as the fold leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.audit.findings import MAX_KEPT, Findings
from eventstore.model.instants import from_micros
from eventstore.model.kinds import RETRACTION
from projections.index.encoding import INSTRUMENT_KINDS
from projections.index.fold_arrays import OPEN_END
from projections.index.holders import shared_symbols

if TYPE_CHECKING:
    from eventstore import EventLog
    from eventstore.audit.findings import CheckResult
    from projections.catalog import Catalog
    from projections.index.version_store import VersionStore

PIT_CHECKS: Final = {
    "contiguous-versions": "each instrument's versions follow one another, no gap, no overlap",
    "one-holder": "at most one active instrument holds a symbol at any instant",
    "listed-first": "no change applies to an instrument before its listing",
}
_NEVER: Final = np.iinfo(np.int64).max
_COLUMNS: Final = ("position", "kind", "instrument_id", "effective_at")


def check_history(catalog: Catalog) -> list[CheckResult]:
    """Return the results of the PIT invariants over everything `catalog` knows."""
    return [*check_versions(catalog), check_listing_order(catalog.log)]


def check_versions(catalog: Catalog) -> list[CheckResult]:
    """Return `contiguous-versions` and `one-holder`, checked on the catalog's index."""
    findings = Findings({name: PIT_CHECKS[name] for name in ("contiguous-versions", "one-holder")})
    store = catalog.version_store()
    _contiguous(store, findings)
    _one_holder(store, findings)
    return findings.results()


def check_listing_order(log: EventLog) -> CheckResult:
    """Return `listed-first`, checked on four columns of the log (no index needed)."""
    findings = Findings({"listed-first": PIT_CHECKS["listed-first"]})
    _listed_first(log, findings)
    (result,) = findings.results()
    return result


def _when(micros: int) -> str:
    return "the end of time" if micros == OPEN_END else from_micros(micros).isoformat()


def _served_rows(store: VersionStore) -> tuple[np.ndarray, np.ndarray]:
    """Return the rows the store serves, instrument by instrument, and their instrument codes."""
    size = min(len(store.count), len(store.instruments))
    counts = store.count[:size].astype(np.int64)
    codes = np.repeat(np.arange(size, dtype=np.int64), counts)
    starts = np.repeat(store.first[:size].astype(np.int64) - np.cumsum(counts) + counts, counts)
    return starts + np.arange(len(codes), dtype=np.int64), codes


def _contiguous(store: VersionStore, findings: Findings) -> None:
    rows, codes = _served_rows(store)
    if not len(rows):
        return
    c = store.columns
    start, end = c["valid_from"][rows], c["valid_until"][rows]
    same = codes[1:] == codes[:-1]
    last = np.r_[~same, True]
    bad = (end <= start) | (c["inst"][rows] != codes) | ~c["alive"][rows]
    bad[:-1] |= same & (end[:-1] != start[1:])
    bad |= last & (end != OPEN_END)
    ids = store.instruments.values

    def describe(at: int) -> tuple[None, None, str]:
        instrument = ids[int(codes[at])].as_py()
        span = f"version from {_when(int(start[at]))} until {_when(int(end[at]))}"
        if not last[at] and end[at] != start[at + 1]:
            relation = "overlaps" if end[at] > start[at + 1] else "leaves a gap before"
            return (
                None,
                None,
                f"{instrument}: {span} {relation} the next, from {_when(int(start[at + 1]))}",
            )
        if last[at] and end[at] != OPEN_END:
            return None, None, f"{instrument}: the latest {span} ends with nothing after it"
        return None, None, f"{instrument}: {span} is empty or not its own"

    findings.add_each("contiguous-versions", _first_per_group(bad, codes), describe)


def _first_per_group(bad: np.ndarray, codes: np.ndarray) -> list[int]:
    """Return the first flagged row of each instrument: one report per broken history."""
    flagged = np.flatnonzero(bad)
    if not len(flagged):
        return []
    _, first = np.unique(codes[flagged], return_index=True)
    return [int(row) for row in np.sort(flagged[first])]


def _one_holder(store: VersionStore, findings: Findings) -> None:
    n = store.n
    c = store.columns
    rows = np.flatnonzero(c["alive"][:n] & c["active"][:n])
    symbol = store.codes["symbol"][rows].astype(np.int64)
    rows, symbol = _shared(rows, symbol, c["inst"][rows])
    start, end, inst = c["valid_from"][rows], c["valid_until"][rows], c["inst"][rows]
    order = np.lexsort((start, symbol))
    symbol, start, end, inst = symbol[order], start[order], end[order], inst[order]
    holder = _open_holder(symbol, start, end)
    clash = (holder >= 0) & (inst != inst[np.maximum(holder, 0)])
    symbols, ids = store.dictionaries["symbol"].values, store.instruments.values

    def describe(at: int) -> tuple[None, None, str]:
        first, second = ids[int(inst[holder[at]])].as_py(), ids[int(inst[at])].as_py()
        name = symbols[int(symbol[at])].as_py()
        return None, None, f"{name} is held by {first} and {second} from {_when(int(start[at]))}"

    findings.add_each("one-holder", _first_per_group(clash, symbol), describe)


def _shared(
    rows: np.ndarray, symbol: np.ndarray, inst: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the rows of symbols that more than one instrument held while active.

    Only those can clash; most symbols have one holder ever, so this leaves few rows to sort.
    """
    shared = shared_symbols(symbol, inst)
    if not len(shared):
        return rows[:0], symbol[:0]
    wanted = np.zeros(int(symbol.max()) + 1, dtype=bool)
    wanted[shared] = True
    keep = wanted[symbol]
    return rows[keep], symbol[keep]


def _open_holder(group: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Return, per row, an earlier row of its group still open when it starts (else -1).

    Rows are sorted by (group, start). The earlier row that ends last is the one named:
    a running maximum of `end` within each group, and the row that set it.
    """
    size = len(group)
    if not size:
        return np.empty(0, dtype=np.int64)
    begins = np.r_[True, group[1:] != group[:-1]]
    number = np.cumsum(begins) - 1
    distinct, rank = np.unique(end, return_inverse=True)
    keyed = number * (len(distinct) + 1) + rank.astype(np.int64)  # groups never mix
    setter = keyed == np.maximum.accumulate(keyed)
    latest = np.maximum.accumulate(np.where(setter, np.arange(size, dtype=np.int64), -1))
    earlier = np.r_[-1, latest[:-1]]
    open_then = ~begins & (end[np.maximum(earlier, 0)] > start)
    return np.where(open_then, earlier, -1)


def _listed_first(log: EventLog, findings: Findings) -> None:
    """Report instrument events effective before the instrument's first listing."""
    withdrawn = _retracted_positions(log)
    parts: list[tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]] = []
    for batch in log.read_batches(list(_COLUMNS)):
        kind = pc.index_in(batch["kind"], value_set=INSTRUMENT_KINDS)
        keep = pc.and_(pc.is_valid(kind), pc.invert(pc.is_in(batch["position"], withdrawn)))
        rows, kind = batch.filter(keep), kind.filter(keep)
        parts.append(
            (
                rows["instrument_id"],
                rows["effective_at"].cast(pa.int64()).to_numpy(),
                np.asarray(kind.to_numpy(zero_copy_only=False)) == 0,
                rows["position"].to_numpy(),
            )
        )
    if not parts:
        return
    names = pa.chunked_array([part[0] for part in parts], pa.string()).combine_chunks()
    encoded = names.dictionary_encode()
    inst = np.asarray(encoded.indices, dtype=np.int64)
    eff, listing, position = (np.concatenate([p[i] for p in parts]) for i in (1, 2, 3))
    del parts, names
    first = np.full(len(encoded.dictionary), _NEVER, dtype=np.int64)
    np.minimum.at(first, inst[listing], eff[listing])
    early = np.flatnonzero(~listing & (eff < first[inst]) & (first[inst] < _NEVER))
    found = _Early(encoded.dictionary, inst, eff, first, position)
    _report_early(log, found, early, findings)


def _retracted_positions(log: EventLog) -> pa.Array:
    targets = log.read(["target"], where=pc.field("kind") == RETRACTION)["target"]
    if not len(targets):
        return pa.array([], pa.int64())
    found = log.read(["position"], where=pc.field("event_id").isin(targets.combine_chunks()))
    return found["position"].combine_chunks()


@dataclass
class _Early:
    """Every kept instrument event, as arrays, and each instrument's first listing."""

    names: pa.Array
    inst: np.ndarray
    eff: np.ndarray
    first: np.ndarray  # by instrument code
    position: np.ndarray


def _report_early(log: EventLog, found: _Early, early: np.ndarray, findings: Findings) -> None:
    if not len(early):
        return
    early = early[np.argsort(found.position[early])]
    shown = pa.array(found.position[early[:MAX_KEPT]])
    ids = log.read(["position", "event_id"], where=pc.field("position").isin(shown))
    by_position = dict(zip(ids["position"].to_pylist(), ids["event_id"].to_pylist(), strict=True))

    def describe(at: int) -> tuple[int, str | None, str]:
        where, code = int(found.position[at]), int(found.inst[at])
        detail = (
            f"{found.names[code].as_py()}: effective {_when(int(found.eff[at]))}, before its "
            f"listing at {_when(int(found.first[code]))}"
        )
        return where, by_position.get(where), detail

    findings.add_each("listed-first", early.tolist(), describe)


__all__ = ["PIT_CHECKS", "check_history", "check_listing_order", "check_versions"]
