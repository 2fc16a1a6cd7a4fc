"""The naming rules over whole columns: Arrow string kernels, no Python per version.

`names_table` gives, for a table of name inputs (one row per distinct version of the name
fields), each scheme's (exchange, name) columns. Rows the kernels cover, the common ones,
are an instrument id `venue:market:native` of Binance, OKX or Bybit, not renamed, not an
option, with an `EXCHANGE:TICKER` symbol; every other row (a rename, an id of another
shape, an option, another venue) goes through the pure rules of `schemes`, one by one. A
test holds both paths to the same answers (`tests/projections/test_name_rules.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import pyarrow as pa
import pyarrow.compute as pc

from projections.names.parts import parts_of
from projections.names.schemes import SCHEMES, TARDIS_EXCHANGES

if TYPE_CHECKING:
    from projections.names.schemes import Name

Columns = dict[str, tuple[pa.Array, pa.Array]]
#: The venues the kernels name; any other goes through the pure rules.
_VENUES: Final = pa.array(["binance", "okx", "bybit"])
_TARDIS_KEYS: Final = pa.array([f"{venue}:{market}" for venue, market in TARDIS_EXCHANGES])
_TARDIS_IDS: Final = pa.array(list(TARDIS_EXCHANGES.values()))
_BYBIT_MARKETS: Final = pa.array(["spot", "linear", "inverse", "option"])


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _is(values: pa.Array, word: str) -> pa.Array:
    return pc.fill_null(pc.equal(values, word), False)


def names_table(inputs: pa.Table) -> Columns:
    """Return each scheme's (exchange, name) columns for `inputs`' rows (null: no name).

    `inputs` has `instrument_id`, `renamed` (bool) and the name fields (`NAME_FIELDS`,
    and `OPTION_FIELDS` where stored).
    """
    ids, symbol = inputs["instrument_id"].combine_chunks(), inputs["symbol"].combine_chunks()
    pieces = pc.split_pattern(ids, ":", max_splits=2)
    shaped = pc.fill_null(pc.equal(pc.list_value_length(pieces), 3), False)
    kind = inputs["type"].combine_chunks()
    slow = pc.or_(pc.invert(shaped), pc.fill_null(inputs["renamed"].combine_chunks(), True))
    slow = pc.or_(slow, pc.invert(pc.fill_null(pc.match_substring(symbol, ":"), False)))
    slow = pc.or_(slow, _is(kind, "option"))
    if "strike" in inputs.column_names:
        slow = pc.or_(slow, pc.is_valid(inputs["strike"].combine_chunks()))
    pieces = pc.split_pattern(pc.if_else(shaped, ids, "x:x:x"), ":", max_splits=2)
    venue = pc.utf8_lower(pc.list_element(pieces, 0))
    slow = pc.or_(slow, pc.invert(pc.is_in(venue, value_set=_VENUES)))
    fast = _kernels(inputs, venue, pc.utf8_lower(pc.list_element(pieces, 1)), pieces, kind)
    if not pc.any(slow).as_py():
        return fast
    rows = inputs.filter(slow).to_pylist()
    parts = [parts_of(str(r["instrument_id"]), r, renamed=bool(r["renamed"])) for r in rows]
    return {s: _patched(fast[s], slow, [rule(p) for p in parts]) for s, rule in SCHEMES.items()}


def _patched(
    fast: tuple[pa.Array, pa.Array], slow: pa.Array, found: list[Name | None]
) -> tuple[pa.Array, pa.Array]:
    exchanges = pa.array([None if n is None else n.exchange for n in found], pa.string())
    names = pa.array([None if n is None else n.name for n in found], pa.string())
    return (
        pc.replace_with_mask(fast[0], slow, exchanges),
        pc.replace_with_mask(fast[1], slow, names),
    )


def _kernels(
    inputs: pa.Table, venue: pa.Array, market: pa.Array, pieces: pa.Array, kind: pa.Array
) -> Columns:
    symbol = inputs["symbol"].combine_chunks()
    native = pc.list_element(pieces, 2)
    base, quote = inputs["base"].combine_chunks(), inputs["quote"].combine_chunks()
    perpetual = pc.or_(
        _is(kind, "swap"),
        pc.and_(pc.is_null(kind), pc.fill_null(pc.ends_with(symbol, ".P"), False)),
    )
    tv_exchange = pc.list_element(pc.split_pattern(symbol, ":", max_splits=1), 0)
    okx = _is(venue, "okx")
    found: Columns = {
        "tradingview": (tv_exchange, symbol),
        "venue": (pc.if_else(okx, venue, _join(venue, "-", market)), native),
    }
    # ccxt: BASE/QUOTE, then :SETTLE (an inverse one settles in its base), then -YYMMDD
    inverse = pc.fill_null(inputs["inverse"].combine_chunks(), False)
    settle = pc.coalesce(inputs["settle"].combine_chunks(), pc.if_else(inverse, base, quote))
    pair = _join(base, "/", quote)
    swap = _join(pair, ":", settle)
    dated = _join(swap, "-", pc.strftime(inputs["expiry"].combine_chunks(), format="%y%m%d"))
    null = pa.nulls(len(symbol), pa.string())
    ccxt = pc.case_when(
        pc.make_struct(_is(kind, "spot"), _is(kind, "swap"), _is(kind, "futures")),
        pair, swap, dated, null,
    )  # fmt: skip
    found["ccxt"] = (pc.if_else(pc.is_valid(ccxt), venue, null), ccxt)
    binance_suffix = pc.if_else(pc.and_(_is(market, "usdm"), perpetual), "-PERP", "")
    bybit = pc.is_in(market, value_set=_BYBIT_MARKETS)
    nautilus = pc.case_when(
        pc.make_struct(_is(venue, "binance"), okx, pc.and_(_is(venue, "bybit"), bybit)),
        _join(native, binance_suffix, ".BINANCE"),
        _join(native, ".OKX"),
        _join(native, "-", pc.utf8_upper(market), ".BYBIT"),
        null,
    )
    found["nautilus"] = (pc.if_else(pc.is_valid(nautilus), pc.utf8_upper(venue), null), nautilus)
    where = pc.index_in(_join(venue, ":", market), value_set=_TARDIS_KEYS)
    tardis = pc.take(_TARDIS_IDS, where)
    found["tardis"] = (tardis, pc.if_else(pc.is_valid(tardis), pc.utf8_upper(native), null))
    return found
