"""A seeded synthetic instrument history, held as columns, turned into events in batches.

`generate` draws the whole history with numpy (one row per event, in append order):
listings, field changes, delistings, renames, relistings, ticker reuse (a delisted symbol
listed again later by a new instrument) and late corrections (changes appended after events
that are effective later). `synth_log.events` turns a slice of it into eventstore events and
`synth_log.append_log` appends them to an `EventLog` in batches of 100,000; the fast path,
`columnar`, writes the same history straight into the columns the baselines need, without
building one Python event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
START = datetime(2020, 1, 1, tzinfo=UTC)
END = datetime(2025, 1, 1, tzinfo=UTC)
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
START_US = (START - EPOCH) // timedelta(microseconds=1)
END_US = (END - EPOCH) // timedelta(microseconds=1)
FULL_INSTRUMENTS = 1_000_000
FULL_EVENTS = 10_000_000
BATCH = 100_000
SOURCE = "synth"

LISTED, CHANGED, DELISTED, RENAMED = 0, 1, 2, 3
KINDS = ("InstrumentListed", "InstrumentChanged", "InstrumentDelisted", "InstrumentRenamed")
EXCHANGES = ("BINANCE", "OKX", "BYBIT")
QUOTES = ("USDT", "USDC", "BTC")
REASONS = ("delisted by the venue", "low liquidity", "migrated to a new contract")
LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
#: Values of the coded fields; a code indexes these (NOT_SET: absent, NULL: explicit null).
VALUES: dict[str, tuple[str, ...]] = {
    "tick_size": ("0.1", "0.01", "0.001", "0.0001", "0.00001", "0.000001"),
    "minmov": ("1",),
    "pricescale": ("10", "100", "1000", "10000", "100000", "1000000"),
    "lot_size": ("1", "0.1", "0.01", "0.001", "0.0001"),
    "min_qty": ("1", "0.1", "0.01", "0.001", "0.0001"),
    "min_notional": ("1", "5", "10", "20", "100"),
    "contract_size": ("1", "10", "100", "0.001"),
    "status": ("trading", "halted", "delisted"),
}
NOT_SET, NULL = -1, -2
TRADING, HALTED, GONE = 0, 1, 2


@dataclass
class History:
    """One synthetic history: per-instrument attributes and per-event columns (append order)."""

    n_instruments: int
    ids: list[str]  # instrument id by instrument index
    symbols: list[str]  # symbol text by symbol index
    bases: list[str]  # base asset by instrument index
    exch: np.ndarray  # int8 index into EXCHANGES, per instrument
    quote: np.ndarray  # int8 index into QUOTES, per instrument
    swap: np.ndarray  # bool, per instrument: a perpetual swap (symbol ends in .P)
    inst: np.ndarray  # int32 instrument index, per event
    kind: np.ndarray  # int8 LISTED/CHANGED/DELISTED/RENAMED
    eff: np.ndarray  # int64 effective_at, microseconds since the epoch
    sym: np.ndarray  # int32 envelope symbol (the holder's symbol at eff; the old one on rename)
    new_sym: np.ndarray  # int32 new symbol of a rename, else -1
    first: np.ndarray  # bool: a first listing (False on a relisting)
    correction: np.ndarray  # bool: a late correction
    codes: dict[str, np.ndarray]  # int8 code per coded field

    @property
    def n_events(self) -> int:
        return len(self.inst)

    def describe(self) -> str:
        counts = np.bincount(self.kind, minlength=4)
        relist = int(((self.kind == LISTED) & ~self.first).sum())
        return (
            f"{self.n_instruments:,} instruments, {self.n_events:,} events: "
            f"{counts[0]:,} listed ({relist:,} relistings), {counts[1]:,} changed "
            f"({int(self.correction.sum()):,} late corrections), {counts[2]:,} delisted, "
            f"{counts[3]:,} renamed"
        )


def sizes(scale: float) -> tuple[int, int]:
    """Return (instruments, events) at `scale` of the full size."""
    return max(20, round(FULL_INSTRUMENTS * scale)), max(200, round(FULL_EVENTS * scale))


def _uniform(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Return one int64 instant strictly inside (lo, hi) per pair (lo + 1 when too narrow)."""
    span = np.maximum(hi - lo - 2, 0)
    drawn: np.ndarray = lo + 1 + (rng.random(len(lo)) * span).astype(np.int64)
    return drawn


def _texts(rng: np.random.Generator, n: int, numbers: np.ndarray) -> list[str]:
    letters = LETTERS[rng.integers(0, 26, (n, 3))]
    heads = np.char.add(np.char.add(letters[:, 0], letters[:, 1]), letters[:, 2])
    return [f"{h}{k}" for h, k in zip(heads.tolist(), numbers.tolist(), strict=True)]


def generate(n: int, n_events: int, seed: int) -> History:
    """Draw a history of `n` instruments and about `n_events` events (exactly, if possible)."""
    rng = np.random.default_rng(seed)
    idx = np.arange(n)
    exch = rng.choice(3, n, p=[0.5, 0.3, 0.2]).astype(np.int8)
    quote = rng.choice(3, n, p=[0.8, 0.12, 0.08]).astype(np.int8)
    swap = rng.random(n) < 0.3
    bases = _texts(rng, n, idx)
    early = rng.random(n) < 0.25
    later = START_US + (rng.random(n) * (END_US - 30 * DAY_US - START_US)).astype(np.int64)
    listed = np.where(early, START_US + rng.integers(0, DAY_US, n), later)
    delisted = rng.random(n) < 0.15
    delist_at = np.where(delisted, _uniform(rng, listed + DAY_US, np.full(n, END_US)), END_US)
    # ticker reuse: a new instrument lists the symbol of one delisted before
    donors_ok = idx[delisted & (delist_at < END_US - 60 * DAY_US)]
    n_reuse = min(len(donors_ok) // 2, int(0.03 * n))
    donors = rng.choice(donors_ok, n_reuse, replace=False)
    pool = idx[~delisted]
    reusers = rng.choice(pool, min(n_reuse, len(pool)), replace=False)
    donors = donors[: len(reusers)]
    listed[reusers] = delist_at[donors] + rng.integers(DAY_US, 30 * DAY_US, len(donors))
    for column in (exch, quote, swap):
        column[reusers] = column[donors]
    sym0 = idx.copy()
    sym0[reusers] = donors
    for r, d in zip(reusers.tolist(), donors.tolist(), strict=True):
        bases[r] = bases[d]
    is_donor = np.zeros(n, bool)
    is_donor[donors] = True
    # renames (never of a donor, so a reused symbol is the donor's last one) and relistings
    renamed = idx[(rng.random(n) < 0.05) & ~is_donor]
    rename_at = _uniform(rng, listed[renamed], delist_at[renamed])
    new_bases = _texts(rng, len(renamed), n + renamed)
    relisted = idx[delisted & ~is_donor & (rng.random(n) < 0.1) & (delist_at < END_US - DAY_US)]
    relist_at = _uniform(rng, delist_at[relisted], np.full(len(relisted), END_US))
    gone = idx[delisted]

    def text(e: int, b: str, q: int, s: bool) -> str:
        return f"{EXCHANGES[e]}:{b}{QUOTES[q]}{'.P' if s else ''}"

    symbols = [
        text(*a) for a in zip(exch.tolist(), bases, quote.tolist(), swap.tolist(), strict=True)
    ]
    symbols += [
        text(exch[i], b, quote[i], swap[i])
        for i, b in zip(renamed.tolist(), new_bases, strict=True)
    ]
    # field changes: the rest of the events, spread over first lives in proportion to length
    n_structural = n + len(relisted) + len(gone) + len(renamed)
    n_changes = max(0, n_events - n_structural)
    life = (delist_at - listed).astype(np.float64)
    per = rng.multinomial(n_changes, life / life.sum())
    ch_inst = np.repeat(idx, per)
    ch_eff = _uniform(rng, listed[ch_inst], delist_at[ch_inst])
    correction = rng.random(n_changes) < 0.03
    ch_rec = ch_eff + np.where(correction, rng.integers(HOUR_US, 120 * DAY_US, n_changes), 0)

    inst = np.concatenate([idx, relisted, gone, renamed, ch_inst]).astype(np.int32)
    parts = [n, len(relisted), len(gone), len(renamed), n_changes]
    kind = np.repeat(np.array([LISTED, LISTED, DELISTED, RENAMED, CHANGED], np.int8), parts)
    eff = np.concatenate([listed, relist_at, delist_at[gone], rename_at, ch_eff])
    rec = np.concatenate([listed, relist_at, delist_at[gone], rename_at, ch_rec])
    first = np.zeros(len(inst), bool)
    first[:n] = True
    new_sym = np.full(len(inst), -1, np.int32)
    renames_at = n + len(relisted) + len(gone)
    new_sym[renames_at : renames_at + len(renamed)] = n + np.arange(len(renamed))
    codes = _codes(rng, kind, first, swap[inst], n_changes)
    corr = np.concatenate([np.zeros(n_structural, bool), correction])
    order = np.argsort(rec, kind="stable")  # append order: by the time a source reported it
    inst, kind, eff, first, corr, new_sym = (
        inst[order],
        kind[order],
        eff[order],
        first[order],
        corr[order],
        new_sym[order],
    )
    codes = {f: c[order] for f, c in codes.items()}
    sym = _envelope_symbols(inst, kind, eff, first, sym0, new_sym)
    ids = [f"inst-{i:07d}" for i in range(n)]
    return History(
        n, ids, symbols, bases, exch, quote, swap, inst, kind, eff, sym, new_sym, first, corr, codes
    )


def _codes(
    rng: np.random.Generator, kind: np.ndarray, first: np.ndarray, swap: np.ndarray, n_ch: int
) -> dict[str, np.ndarray]:
    """Return the coded field values of every event (the changes are the last `n_ch` rows)."""
    m = len(kind)
    codes = {f: np.full(m, NOT_SET, np.int8) for f in VALUES}
    lists = first & (kind == LISTED)
    k = int(lists.sum())
    tick = rng.choice(6, k, p=[0.05, 0.3, 0.3, 0.2, 0.1, 0.05]).astype(np.int8)
    lot = rng.integers(0, 5, k).astype(np.int8)
    codes["tick_size"][lists] = tick
    codes["pricescale"][lists] = tick
    codes["minmov"][lists] = 0
    codes["lot_size"][lists] = lot
    codes["min_qty"][lists] = lot
    codes["min_notional"][lists] = rng.integers(0, 5, k)
    codes["contract_size"][lists] = np.where(swap[lists], rng.integers(0, 4, k), NOT_SET)
    codes["status"][kind == LISTED] = TRADING
    codes["status"][kind == DELISTED] = GONE
    rows = np.arange(m - n_ch, m)
    what = rng.choice(5, n_ch, p=[0.3, 0.25, 0.25, 0.1, 0.1])  # tick, lot, notional, status, both
    tick_rows, lot_rows = rows[(what == 0) | (what == 4)], rows[(what == 1) | (what == 4)]
    tick = rng.integers(0, 6, len(tick_rows)).astype(np.int8)
    codes["tick_size"][tick_rows] = tick
    codes["pricescale"][tick_rows] = tick
    codes["minmov"][tick_rows] = 0
    lot = rng.integers(0, 5, len(lot_rows)).astype(np.int8)
    codes["lot_size"][lot_rows] = lot
    codes["min_qty"][lot_rows] = lot
    notional_rows = rows[what == 2]
    notional = rng.integers(0, 5, len(notional_rows))
    codes["min_notional"][notional_rows] = np.where(
        rng.random(len(notional)) < 0.08, NULL, notional
    )
    status_rows = rows[what == 3]
    codes["status"][status_rows] = rng.integers(TRADING, HALTED + 1, len(status_rows))
    return codes


def fold_order(inst: np.ndarray, eff: np.ndarray) -> np.ndarray:
    """Return the row order of the fold: by instrument, then (effective_at, position)."""
    return np.lexsort((np.arange(len(inst)), eff, inst))


def _envelope_symbols(
    inst: np.ndarray,
    kind: np.ndarray,
    eff: np.ndarray,
    first: np.ndarray,
    sym0: np.ndarray,
    new_sym: np.ndarray,
) -> np.ndarray:
    """Return each event's symbol: its instrument's symbol at effective_at (the old on rename)."""
    order = fold_order(inst, eff)
    k, f = kind[order], first[order]
    setting = np.where(k == RENAMED, new_sym[order], np.where(f, sym0[inst[order]], -1))
    rows = np.arange(len(order))
    after = setting[np.maximum.accumulate(np.where(setting >= 0, rows, 0))]
    before = np.concatenate([[-1], after[:-1]])
    out = np.empty(len(order), np.int32)
    out[order] = np.where(k == RENAMED, before, after)
    return out


def micros_to_datetime(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)
