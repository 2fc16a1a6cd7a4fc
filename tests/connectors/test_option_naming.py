"""The option symbol rule (`connectors.venues.option_naming`): examples, refusals, and
injectivity (every named id comes back from its symbol, so distinct ids never collide)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.venues.okx_naming import QUOTES
from connectors.venues.option_naming import MONTHS, bybit_option_name, okx_option_name
from eventstore import InvalidEventError

_TICKER = re.compile(
    r"(?P<exchange>OKX|BYBIT):(?P<pair>[A-Z0-9]+?)(?P<um>_UM)?(?P<date>[0-9]{6})"
    r"(?P<kind>[CP])(?P<strike>[0-9]+(?:\.[0-9]+)?)(?:_(?P<marker>[A-Z]+))?"
)
_MONTH_NAMES = {number: name for name, number in MONTHS.items()}


def _back(symbol: str) -> tuple[str, str]:
    """Return the venue and id a symbol names, read from its end (the rule's inverse)."""
    found = _TICKER.fullmatch(symbol)
    assert found is not None, symbol
    pair, day = found["pair"], found["date"]
    (quote,) = [q for q in QUOTES if pair.endswith(q) and len(pair) > len(q)]
    base, strike, kind = pair.removesuffix(quote), found["strike"], found["kind"]
    if found["exchange"] == "OKX":
        return "okx", f"{base}-{quote}{found['um'] or ''}-{day}-{strike}-{kind}"
    dated = f"{int(day[4:])}{_MONTH_NAMES[int(day[2:4])]}{day[:2]}"
    tail = f"-{found['marker']}" if found["marker"] else ""
    return "bybit", f"{base}-{dated}-{strike}-{kind}{tail}"


@pytest.mark.parametrize(
    ("inst_id", "symbol", "terms"),
    [
        ("BTC-USD-241217-92000-C", "OKX:BTCUSD241217C92000", ("BTC-USD", "92000", "call")),
        ("ETH-USD-250328-2500.5-P", "OKX:ETHUSD250328P2500.5", ("ETH-USD", "2500.5", "put")),
        ("BTC-USD_UM-241217-92000-P", "OKX:BTCUSD_UM241217P92000", ("BTC-USD", "92000", "put")),
    ],
)
def test_okx_examples(inst_id: str, symbol: str, terms: tuple[str, str, str]) -> None:
    """The README's OKX examples, and their inverse."""
    name = okx_option_name(inst_id)
    assert name.symbol == symbol
    assert (name.underlying, name.strike, name.option_type) == (
        terms[0],
        Decimal(terms[1]),
        terms[2],
    )
    assert _back(symbol) == ("okx", inst_id)


@pytest.mark.parametrize(
    ("symbol_id", "quote", "symbol"),
    [
        ("BTC-29MAR24-100000-C", "USD", "BYBIT:BTCUSD240329C100000"),
        ("BTC-1DEC23-40000-P", "USD", "BYBIT:BTCUSD231201P40000"),
        ("ETH-25JUN27-7000-P-USDT", "USDT", "BYBIT:ETHUSDT270625P7000_USDT"),
    ],
)
def test_bybit_examples(symbol_id: str, quote: str, symbol: str) -> None:
    """The README's Bybit examples (the day unpadded, a settlement suffix kept), inverted."""
    assert bybit_option_name(symbol_id, quote).symbol == symbol
    assert _back(symbol) == ("bybit", symbol_id)


@pytest.mark.parametrize(
    ("call", "why"),
    [
        (lambda: okx_option_name("BTC-USD-SWAP"), "is not BASE-QUOTE[_UM]-YYMMDD-STRIKE-C|P"),
        (lambda: okx_option_name("BTC-USD-241317-1-C"), "holds no real date (2024-13-17)"),
        (lambda: okx_option_name("BTC-SDT-241217-1-C"), "quote 'SDT' is not one the symbol"),
        (lambda: okx_option_name("BTC-USD-241217-0-C"), "strike: '0' is not positive"),
        (lambda: bybit_option_name("BTC-01DEC23-1-C", "USD"), "is not BASE-DMMMYY-STRIKE"),
        (lambda: bybit_option_name("BTC-1DEX23-1-C", "USD"), "month 'DEX' is not one of"),
        (lambda: bybit_option_name("BTC-31FEB24-1-C", "USD"), "holds no real date"),
    ],
)
def test_an_id_the_rule_cannot_name_is_refused(call: object, why: str) -> None:
    """Each refusal is one `InvalidEventError` saying why (its row is rejected)."""
    assert callable(call)
    with pytest.raises(InvalidEventError, match=re.escape(why)):
        call()


_BASES = st.text("BTCUSDE1", min_size=1, max_size=5)
_QUOTE_WORDS = st.sampled_from(sorted(QUOTES | {"SDT", "DT", "T"}))
_STRIKES = st.sampled_from(["1", "10", "100", "0.5", "1.50", "92000", "010"])


@st.composite
def _okx_ids(draw: st.DrawFn) -> str:
    """An OKX option id near the rule's edges: bases and quotes over shared letters."""
    base, quote, um = draw(_BASES), draw(_QUOTE_WORDS), draw(st.sampled_from(["", "_UM"]))
    day = draw(st.sampled_from(["241217", "241227", "250101"]))
    return f"{base}-{quote}{um}-{day}-{draw(_STRIKES)}-{draw(st.sampled_from('CP'))}"


@st.composite
def _bybit_ids(draw: st.DrawFn) -> tuple[str, str]:
    base, day = draw(_BASES), draw(st.sampled_from(["1DEC23", "11DEC23", "29MAR24"]))
    tail = draw(st.sampled_from(["", "-USDT", "-USDC"]))
    kind = draw(st.sampled_from("CP"))
    return f"{base}-{day}-{draw(_STRIKES)}-{kind}{tail}", draw(_QUOTE_WORDS)


@given(st.lists(_okx_ids()), st.lists(_bybit_ids()))
def test_distinct_option_ids_never_share_a_symbol(
    okx_ids: list[str], bybit_ids: list[tuple[str, str]]
) -> None:
    """Over id shapes: each named id comes back from its symbol; the rest are refused."""
    named: dict[str, tuple[str, str]] = {}
    found = []
    for inst_id in okx_ids:
        try:
            found.append((okx_option_name(inst_id).symbol, ("okx", inst_id)))
        except InvalidEventError:
            continue
    for symbol_id, quote in bybit_ids:
        try:
            found.append((bybit_option_name(symbol_id, quote).symbol, ("bybit", symbol_id)))
        except InvalidEventError:
            continue
    for symbol, origin in found:
        assert _back(symbol) == origin
        assert named.setdefault(symbol, origin) == origin
