"""Why a revision happened: each news event classified, and named on the rows it made.

A news event's kind (`CAUSES`), with K1 the window's lower bound and L1 the start of the
instrument's latest version as known at K1:

- `retraction`: a retraction of an event K1 folded;
- `late listing` / `listing`: a listing effective at or before K1 / after it;
- `late delisting` / `delisting`: the same for a delisting;
- `correction`: a change or rename effective at or before L1 (it rewrites history K1 knew);
- `backfill`: a change or rename effective after L1 but at or before K1 (history that was
  already true at K1 but not known then);
- `change`: a change or rename effective after K1 (K1 assumed the last value held on).

A row (instrument, field, [from, until)) names the kinds of the news of that instrument
that touch that field (`news.News.touches`) and stand in [from, until); when none does, the
news standing at the latest such instant before `from` (whose effect carries into the row).
Some news touching the field stands at or before every instant where the answers differ,
so a row always names at least one kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa

from projections.join.pit_join import last_at_or_before
from projections.revisions.news import CHANGED, DELISTED, LISTED, RENAMED, RETRACTED

if TYPE_CHECKING:
    from projections.index.fold_arrays import VersionArrays
    from projections.revisions.differences import Differences
    from projections.revisions.news import News

CAUSES: Final = (
    "late listing",
    "listing",
    "late delisting",
    "delisting",
    "correction",
    "backfill",
    "change",
    "retraction",
)
_CODE: Final = {name: code for code, name in enumerate(CAUSES)}


def classified(news: News, before: VersionArrays, since_us: int) -> np.ndarray:
    """Return the cause code (an index into `CAUSES`) of each news event."""
    known_until = np.full(len(news), np.iinfo(np.int64).min, dtype=np.int64)
    if len(before):
        latest = np.maximum(np.searchsorted(before.inst, news.inst, "right") - 1, 0)
        held = before.inst[latest] == news.inst
        known_until[held] = before.valid_from[latest[held]]
    past = news.eff <= since_us
    editing = np.where(
        news.eff <= known_until,
        _CODE["correction"],
        np.where(past, _CODE["backfill"], _CODE["change"]),
    )
    found = np.full(len(news), _CODE["retraction"], dtype=np.int64)
    for kind, codes in (
        (LISTED, np.where(past, _CODE["late listing"], _CODE["listing"])),
        (DELISTED, np.where(past, _CODE["late delisting"], _CODE["delisting"])),
        (CHANGED, editing),
        (RENAMED, editing),
    ):
        mine = news.kind == kind
        found[mine] = codes[mine]
    assert not (news.kind == RETRACTED)[found != _CODE["retraction"]].any()
    return found


def _first_after(
    values: np.ndarray, low: np.ndarray, high: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """Return per query the first index in [low, high) whose value is > `at` (high: none)."""
    last = last_at_or_before(values, low, high, at)
    return np.where(last >= 0, last + 1, low)


def attributed(diffs: Differences, news: News, causes: np.ndarray) -> np.ndarray:
    """Return, per row of `diffs`, the bit set (1 << cause code) of the kinds that made it."""
    found = np.zeros(len(diffs), dtype=np.int64)
    for field in np.unique(diffs.field).tolist():
        rows = np.flatnonzero(diffs.field == field)
        touching = np.flatnonzero(news.touches[:, field])
        order = touching[np.lexsort((news.eff[touching], news.inst[touching]))]
        inst, eff = news.inst[order], news.eff[order]
        bits = np.append(np.left_shift(1, causes[order]), 0)  # a last entry for reduceat
        r_inst = diffs.inst[rows]
        low = np.searchsorted(inst, r_inst, "left")
        high = np.searchsorted(inst, r_inst, "right")
        start, end = diffs.start[rows], diffs.end[rows]
        inside_lo = _first_after(eff, low, high, start - 1)  # first standing at >= from
        inside_hi = _first_after(eff, low, high, end - 1)  # first standing at >= until
        carried = inside_hi == inside_lo  # nothing inside: the latest news before `from`
        latest = inside_lo - 1
        valid = carried & (latest >= low)
        then = eff[np.maximum(latest, 0)] if len(eff) else latest
        lo = np.where(carried, _first_after(eff, low, high, then - 1), inside_lo)
        hi = np.where(carried, latest + 1, inside_hi)
        nonempty = (hi > lo) & (~carried | valid)
        if not len(rows):
            continue
        bounds = np.empty(2 * len(rows), dtype=np.int64)
        bounds[0::2], bounds[1::2] = np.where(nonempty, lo, 0), np.where(nonempty, hi, 0)
        ored = np.bitwise_or.reduceat(bits, bounds)[0::2]
        found[rows] = np.where(nonempty, ored, 0)
    return found


def cause_lists(bits: np.ndarray) -> pa.Array:
    """Return each bit set as the list of its kinds' names, in the order of `CAUSES`."""
    distinct, inverse = np.unique(bits, return_inverse=True)
    names = [[name for code, name in enumerate(CAUSES) if int(b) >> code & 1] for b in distinct]
    return pa.array(names, pa.list_(pa.string())).take(pa.array(inverse.astype(np.int64)))


__all__ = ["CAUSES", "attributed", "cause_lists", "classified"]
