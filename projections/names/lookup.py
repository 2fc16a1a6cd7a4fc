"""Names looked up in a view of the index: resolve, every name of one instrument, symbols
over time, who held a symbol, and suggestions for a name no instrument held.

A name resolves as a symbol does (`View.get`): among the instruments whose version at T
bears it, an active one first, else the latest. Two active holders at once is ambiguous
(`AmbiguousNameError`, naming both): the one-holder rule forbids it within a venue, so it
means a name that does not carry its exchange was given without one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import pyarrow as pa

from eventstore.encoding.schema import TIMESTAMP
from eventstore.model.instants import from_micros
from projections.errors import (
    AmbiguousNameError,
    UnknownNameError,
    UnknownSchemeError,
    UnknownSymbolError,
)
from projections.index.fold_arrays import OPEN_END
from projections.names.directory import SchemeNames, directory
from projections.names.schemes import QUALIFIED, SCHEMES, Name, exchange_key

if TYPE_CHECKING:
    from projections.index.known_view import View
    from projections.index.version_store import VersionStore
    from projections.model import Instrument

Part = tuple["VersionStore", frozenset[int]]
#: How many close names an unknown name's error suggests.
SUGGESTED: Final = 5
#: Above this many known names, only those sharing the first letter are compared.
_FEW: Final = 20_000
#: Columns of `symbols` and `holders`.
SYMBOLS_SCHEMA: Final = pa.schema(
    [("symbol", pa.string()), ("valid_from", TIMESTAMP), ("valid_until", TIMESTAMP)]
)
HOLDERS_SCHEMA: Final = pa.schema(
    [
        ("instrument_id", pa.string()),
        ("held_from", TIMESTAMP),
        ("held_until", TIMESTAMP),
        ("active", pa.bool_()),
    ]
)


@dataclass(frozen=True)
class Holding:
    """One instrument whose version at an instant bears a name."""

    instrument_id: str
    active: bool
    valid_from: int


def parts(view: View) -> list[Part]:
    """Return the view's stores, each with the instruments it must not answer for."""
    found: list[Part] = [(view.main, view.skip)]
    return found if view.extra is None else [*found, (view.extra, frozenset())]


def checked_scheme(scheme: object) -> str:
    """Return `scheme` if it is one of `SCHEMES`; else raise `UnknownSchemeError`."""
    if not isinstance(scheme, str) or scheme not in SCHEMES:
        raise UnknownSchemeError(scheme, list(SCHEMES))
    return scheme


def key_codes(names: SchemeNames, scheme: str, name: str, exchange: str | None) -> list[int]:
    """Return the codes of the keys `name` (on `exchange`, if given) may mean."""
    if exchange is None:
        return names.by_name(name)
    code = names.code_of(scheme, exchange, name)
    return [] if code is None else [code]


def resolve(view: View, name: str, at: int, scheme: str, exchange: str | None) -> str | None:
    """Return the id of the instrument that held `name` at `at` (None: nobody did then)."""
    found: list[Holding] = []
    known = False
    for store, skip in parts(view):
        names = directory(store).schemes[scheme]
        ids = store.instruments.lookup()  # converts nothing ahead of use
        for code in key_codes(names, scheme, name, exchange):
            known = True
            for inst in names.holders_of(code).tolist():
                row = None if inst in skip else store.row_at(inst, at)
                if row is not None and names.codes[row] == code:
                    active = bool(store.columns["active"][row])
                    since = int(store.columns["valid_from"][row])
                    found.append(Holding(str(ids[inst]), active, since))
    if not known:
        closest = suggestions(view, scheme, name, exchange)
        raise UnknownNameError(name, scheme, exchange, closest, scheme in QUALIFIED)
    both = sorted({h.instrument_id for h in found if h.active})
    if len(both) > 1:
        raise AmbiguousNameError(
            name, scheme, from_micros(at).isoformat().replace("+00:00", "Z"), both
        )
    if not found:
        return None
    return max(found, key=lambda h: (h.active, h.valid_from, h.instrument_id)).instrument_id


def suggestions(view: View, scheme: str, name: str, exchange: str | None) -> list[Name]:
    """Return the known names closest to `name`, case-insensitively, same exchange first."""
    keys = {key for store, _ in parts(view) for key in directory(store).schemes[scheme].every_key()}
    wanted = name.lower()
    pool = [k for k in keys if len(keys) <= _FEW or k.name[:1].lower() == wanted[:1]]
    same = exchange_key(scheme, exchange) if exchange is not None else None

    def rank(key: Name) -> tuple[bool, bool, str, str]:
        here = same is None or exchange_key(scheme, key.exchange) == same
        return (not here, key.name.lower() != wanted, key.exchange, key.name)

    by_text: dict[str, list[Name]] = {}
    for key in pool:
        by_text.setdefault(key.name.lower(), []).append(key)
    close = difflib.get_close_matches(wanted, list(by_text), n=SUGGESTED * 2, cutoff=0.6)
    order = {text: i for i, text in enumerate(close)}
    chosen = sorted(
        (k for text in close for k in by_text[text]),
        key=lambda k: (rank(k)[:2], order[k.name.lower()], k.exchange, k.name),
    )[:SUGGESTED]
    return chosen


def _row_of(view: View, instrument_id: str, at: int) -> tuple[VersionStore, int] | None:
    """Return the store and row of an instrument's version at `at` (None: it did not exist).

    Raises `UnknownSymbolError` for an id no store knows.
    """
    known = False
    for store, skip in parts(view):
        code = store.instruments.code_of(instrument_id)
        if code is None or code in skip:
            continue
        known = True
        row = store.row_at(code, at)
        if row is not None:
            return store, row
    if not known and all(s.instruments.code_of(instrument_id) is None for s, _ in parts(view)):
        raise UnknownSymbolError(instrument_id)
    return None


def names_at(view: View, instrument_id: str, at: int) -> dict[str, Name] | None:
    """Return an instrument's name in every scheme that names it at `at` (None: not listed)."""
    found = _row_of(view, instrument_id, at)
    if found is None:
        return None
    store, row = found
    names = directory(store)
    return {s: n for s in SCHEMES if (n := names.name(s, row)) is not None}


def instrument_at(view: View, instrument_id: str, at: int) -> Instrument | None:
    """Return an instrument's version at `at`, by id (None: it did not exist then)."""
    found = _row_of(view, instrument_id, at)
    return None if found is None else found[0].instrument(found[1])


def symbols(view: View, instrument_id: str) -> pa.Table:
    """Return an instrument's TradingView symbols over time: one row per run of versions."""
    history = view.history_of(instrument_id)
    if history is None:
        _row_of(view, instrument_id, 0)  # raises for an unknown id
        return SYMBOLS_SCHEMA.empty_table()
    runs: list[dict[str, object]] = []
    for row in history.select(["symbol", "valid_from", "valid_until"]).to_pylist():
        if runs and runs[-1]["symbol"] == row["symbol"]:
            runs[-1]["valid_until"] = row["valid_until"]
        else:
            runs.append(dict(row))
    return pa.Table.from_pylist(runs, schema=SYMBOLS_SCHEMA)


def holders(view: View, symbol: str) -> pa.Table:
    """Return every instrument that ever held `symbol`, one row per interval it held it."""
    runs: list[dict[str, object]] = []
    known = False
    for store, skip in parts(view):
        code = store.dictionaries["symbol"].code_of(symbol)
        if code is None:
            continue
        ids = store.instruments.py()
        for inst in store.holders(code):
            if inst in skip:
                continue
            rows = store.instrument_rows(inst).tolist()
            held = [r for r in rows if store.matrix[r, 0] == code]
            known = known or bool(held)
            for start, end in _runs(held):
                until = int(store.columns["valid_until"][end])
                runs.append(
                    {
                        "instrument_id": ids[inst],
                        "held_from": from_micros(int(store.columns["valid_from"][start])),
                        "held_until": None if until == OPEN_END else from_micros(until),
                        "active": bool(store.columns["active"][end]),
                    }
                )
    if not known:
        raise UnknownNameError(
            symbol, "tradingview", None, suggestions(view, "tradingview", symbol, None)
        )
    runs.sort(key=lambda r: (str(r["held_from"]), str(r["instrument_id"])))
    return pa.Table.from_pylist(runs, schema=HOLDERS_SCHEMA)


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Return the (first, last) of each run of consecutive rows."""
    found: list[tuple[int, int]] = []
    for row in rows:
        if found and found[-1][1] == row - 1:
            found[-1] = (found[-1][0], row)
        else:
            found.append((row, row))
    return found


def last_holder(view: View, symbol: str) -> str | None:
    """Return the id of the instrument that held `symbol` last (None: nobody ever did)."""
    try:
        found = holders(view, symbol)
    except UnknownNameError:
        return None
    return None if not found.num_rows else str(found["instrument_id"][-1].as_py())
