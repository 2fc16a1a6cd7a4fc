"""OKX: one symbol, one instrument. Symbols come from `instId` alone and never collide.

Real data: the recorded OKX responses under tests/fixtures/okx (SPOT, SWAP, FUTURES, and the
full 2022-07-23 and 2023-11-23 recordings) and a variant derived from the 2022-07-23 SWAP
recording (`okx_swap_2022-07-23.derived-um-preopen.json`, see tests/fixtures/SOURCES.md): a
USD-margined `BTC-USD_UM-SWAP` sharing `uly` BTC-USD with the inverse `BTC-USD-SWAP`, and
two pre-open swaps with an empty `uly` and a `listTime` after the observation.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from venues import FAST, FIXTURES, fixture, run, write_snapshot

from connectors.replay.driver import replay
from connectors.venues import okx
from connectors.venues.okx_naming import QUOTES, okx_name, suffix_free
from eventstore import InvalidEventError
from projections import Catalog
from projections.invariants import check_history

if TYPE_CHECKING:
    from pathlib import Path

    from connectors.venues.snapshot import Snapshot

DERIVED = "okx/okx_swap_2022-07-23.derived-um-preopen.json"
OBSERVED = "2022-07-23T08:18:00Z"
_TYPES = {"spot": "SPOT", "swap": "SWAP", "futures": "FUTURES", "option": "OPTION:BTC-USD"}


def _parse(inst_type: str, body: Any) -> Snapshot:
    if isinstance(body, list):  # the 2023-11-23 recording is the `data` array alone
        body = {"code": "0", "data": body, "msg": ""}
    wire = msgspec.json.decode(msgspec.json.encode(body), type=okx.Response)
    return okx.parse(inst_type, wire, "recorded")


def _inverse(symbol: str) -> tuple[str, str]:
    """Return the (instType, instId) a symbol names: the rule run backwards."""
    ticker = symbol.removeprefix("OKX:")
    if ticker.endswith(".P"):
        inst_type, ticker, tail = "SWAP", ticker.removesuffix(".P"), "-SWAP"
    elif ticker[-6:].isdigit():
        inst_type, ticker, tail = "FUTURES", ticker[:-6], f"-{ticker[-6:]}"
    else:
        inst_type, tail = "SPOT", ""
    um = "_UM" if ticker.endswith("_UM") else ""
    ticker = ticker.removesuffix("_UM")
    (quote,) = [q for q in QUOTES if ticker.endswith(q) and len(ticker) > len(q)]
    return inst_type, f"{ticker.removesuffix(quote)}-{quote}{um}{tail}"


def test_the_quotes_are_suffix_free() -> None:
    """No quote ends with another: `BASE + QUOTE` splits back in one way only."""
    assert suffix_free(QUOTES)
    assert not suffix_free(frozenset({"USD", "TUSD"}))


@pytest.mark.parametrize(
    ("inst_type", "inst_id", "symbol"),
    [
        ("SPOT", "BTC-USDT", "OKX:BTCUSDT"),
        ("SWAP", "BTC-USDT-SWAP", "OKX:BTCUSDT.P"),
        ("SWAP", "BTC-USD-SWAP", "OKX:BTCUSD.P"),
        ("SWAP", "BTC-USD_UM-SWAP", "OKX:BTCUSD_UM.P"),
        ("FUTURES", "BTC-USD-240329", "OKX:BTCUSD240329"),
        ("FUTURES", "BTC-USD_UM-250808", "OKX:BTCUSD_UM250808"),
        ("SPOT", "1INCH-USDT", "OKX:1INCHUSDT"),
    ],
)
def test_the_rule_on_examples(inst_type: str, inst_id: str, symbol: str) -> None:
    """The README's table."""
    assert okx_name(inst_type, inst_id).symbol == symbol
    assert _inverse(symbol) == (inst_type, inst_id)


@pytest.mark.parametrize(
    ("inst_type", "inst_id", "why"),
    [
        ("SPOT", "BTCU-SDT", "quote 'SDT' is not one the symbol rule knows"),
        ("SPOT", "BTC-USDT-SWAP", "is not the shape of an OKX SPOT id"),
        ("SWAP", "BTC-USDT", "is not the shape of an OKX SWAP id"),
        ("FUTURES", "BTC-USD-2403", "is not the shape of an OKX FUTURES id"),
        ("SPOT", "BTC-USD_UM", "is not the shape of an OKX SPOT id"),
        ("SWAP", "-USDT-SWAP", "is not BASE-QUOTE[_UM][-SWAP|-YYMMDD]"),
        ("SWAP", "btc-usdt-swap", "is not BASE-QUOTE[_UM][-SWAP|-YYMMDD]"),
        ("OPTION", "BTC-USD-241217-92000-C", "is not BASE-QUOTE[_UM][-SWAP|-YYMMDD]"),
    ],
)
def test_an_id_the_rule_cannot_name_is_refused(inst_type: str, inst_id: str, why: str) -> None:
    """Refused with the id and the reason, as a value rule refuses."""
    with pytest.raises(InvalidEventError, match="instId") as caught:
        okx_name(inst_type, inst_id)
    assert caught.value.reason == f"{inst_id!r} {why}"


_BASES = st.text("BTCUSDK1_-", min_size=0, max_size=6)
_QUOTE_WORDS = st.sampled_from(sorted(QUOTES | {"SDT", "TUSD", "DT", "T", "USDX", ""}))
_TAILS = st.sampled_from([None, "SWAP", "240329", "250808", "24032", "X", "SWAP-1"])


@st.composite
def _ids(draw: st.DrawFn) -> tuple[str, str]:
    """An (instType, instId) near the rule's edges: short bases over the quotes' letters."""
    body = f"{draw(_BASES)}-{draw(_QUOTE_WORDS)}{draw(st.sampled_from(['', '_UM', '_CM']))}"
    tail = draw(_TAILS)
    inst_id = body if tail is None else f"{body}-{tail}"
    if draw(st.booleans()):
        inst_id = draw(st.sampled_from([inst_id, inst_id.lower(), f"{inst_id}-", f"X{inst_id}"]))
    return draw(st.sampled_from(["SPOT", "SWAP", "FUTURES"])), inst_id


@given(st.lists(_ids() | st.tuples(st.sampled_from(["SPOT", "SWAP"]), st.text(max_size=12))))
def test_distinct_ids_never_share_a_symbol(ids: list[tuple[str, str]]) -> None:
    """Over id shapes: every named id comes back from its symbol, so no two collide; the
    rest are refused with `InvalidEventError` and nothing else."""
    named: dict[str, tuple[str, str]] = {}
    for inst_type, inst_id in ids:
        try:
            symbol = okx_name(inst_type, inst_id).symbol
        except InvalidEventError:
            continue
        assert _inverse(symbol) == (inst_type, inst_id)
        assert named.setdefault(symbol, (inst_type, inst_id)) == (inst_type, inst_id)


def test_every_recorded_okx_id_has_its_own_symbol() -> None:
    """All recorded files together (options included, named by `option_naming`): each id
    one symbol, each symbol one id, none refused."""
    holders: dict[str, set[str]] = {}
    files = sorted(p for p in (FIXTURES / "okx").glob("*.json") if "derived" not in p.name)
    assert len(files) == 7
    for path in files:
        inst_type = next(t for k, t in _TYPES.items() if k in path.name)
        snapshot = _parse(inst_type, fixture(f"okx/{path.name}"))
        assert snapshot.rejected == ()
        for record in snapshot.records:
            holders.setdefault(record.symbol, set()).add(record.instrument_id)
    assert len(holders) == 813  # distinct ids across the files (most swaps recur)
    assert {s: ids for s, ids in holders.items() if len(ids) > 1} == {}


def test_usd_margined_and_pre_open_swaps_get_distinct_symbols() -> None:
    """BTC-USD_UM-SWAP shares `uly` with BTC-USD-SWAP; two pre-open rows have no `uly`."""
    snapshot = _parse("SWAP", fixture(DERIVED))
    symbols = {r.instrument_id: r.symbol for r in snapshot.records}
    assert symbols == {
        "okx:swap:BTC-USD-SWAP": "OKX:BTCUSD.P",
        "okx:swap:BTC-USDT-SWAP": "OKX:BTCUSDT.P",
        "okx:swap:BTC-USD_UM-SWAP": "OKX:BTCUSD_UM.P",
        "okx:swap:ZZA-USDT-SWAP": "OKX:ZZAUSDT.P",
        "okx:swap:ZZB-USD-SWAP": "OKX:ZZBUSD.P",
    }
    um = next(r for r in snapshot.records if r.symbol == "OKX:BTCUSD_UM.P")
    assert (um.fields["base"], um.fields["quote"]) == ("BTC", "USD")


def test_a_row_the_rule_cannot_name_is_rejected_and_the_rest_goes_on() -> None:
    """An unknown quote: one rejected row naming the id and why; four records."""
    body = copy.deepcopy(fixture(DERIVED))
    body["data"][0]["instId"] = "BTC-USDX-SWAP"
    snapshot = _parse("SWAP", body)
    assert [str(r) for r in snapshot.rejected] == [
        "'okx:swap:BTC-USDX-SWAP': instId: 'BTC-USDX-SWAP' quote 'USDX' is not one the symbol "
        "rule knows"
    ]
    assert len(snapshot.records) == 4


def test_replayed_they_pass_the_one_holder_check_and_pre_open_lists_now(tmp_path: Path) -> None:
    """Synced at 2022-07-23T08:18Z: one holder per symbol; a pre-open swap whose listTime is
    07-25 exists from the observation on (pre_trading), its listTime kept as `listed_at`."""
    replays = tmp_path / "replays"
    write_snapshot(replays, "2022-07-23", {"okx/SWAP.json": fixture(DERIVED)}, OBSERVED)
    root = tmp_path / "catalog"
    done = run(lambda: replay(str(root), replays, settings=FAST))
    assert [r.error for _, reports in done for r in reports if not r.ok] == []
    cat = Catalog.open(str(root))
    checks = {c.name: c for c in check_history(cat)}
    assert checks["one-holder"].violations == ()
    zza = cat.get("OKX:ZZAUSDT.P", as_of=OBSERVED)
    assert zza is not None
    assert (zza.status, zza.venue_status) == ("pre_trading", "preopen")
    assert zza.valid_from <= datetime(2022, 7, 23, 8, 18, tzinfo=UTC)
    assert zza.listed_at == datetime(2022, 7, 25, 8, tzinfo=UTC)
    assert cat.universe(as_of=OBSERVED).num_rows == 5
