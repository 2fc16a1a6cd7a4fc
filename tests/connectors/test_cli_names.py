"""`catalog resolve`, `catalog holders`, `get --id`, `history --id` and the note `history`
adds about other holders of a symbol; bad input exits 2 with one line and changes nothing."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from builders import day, listed, renamed

from connectors.cli.main import main
from eventstore import EventLog

if TYPE_CHECKING:
    from pathlib import Path

OLD, NEW = "binance:usdm:LUNAUSDT", "binance:usdm:LUNA2USDT"
SWAP: dict[str, Any] = {"exchange": "BINANCE", "type": "swap", "quote": "USDT", "settle": "USDT"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A perpetual renamed on day 10 (LUNAUSDT.P -> LUNCUSDT.P) and a new one under the
    freed symbol from day 12."""
    log = EventLog.open(tmp_path / "lake")
    log.append(
        [
            listed(OLD, "BINANCE:LUNAUSDT.P", day(0), base="LUNA", inverse=False, **SWAP),
            renamed(OLD, "BINANCE:LUNAUSDT.P", "BINANCE:LUNCUSDT.P", day(10)),
            listed(NEW, "BINANCE:LUNAUSDT.P", day(12), base="LUNA", inverse=False, **SWAP),
        ]
    )
    return tmp_path / "lake"


def run(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, str, str]:
    status = main(["--root", str(root), *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_resolve_prints_the_id_and_every_other_name(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    at = day(5).isoformat()
    status, out, err = run(
        capsys, root, "resolve", "LUNA/USDT:USDT", "--scheme", "ccxt", "--exchange", "binance",
        "--as-of", at,
    )  # fmt: skip
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == (f"LUNA/USDT:USDT (ccxt, binance) at 2024-01-06 00:00:00Z: instrument {OLD}")
    assert lines[1].split() == ["scheme", "exchange", "name"]
    assert [line.split() for line in lines[2:]] == [
        ["tradingview", "BINANCE", "BINANCE:LUNAUSDT.P"],
        ["venue", "binance-usdm", "LUNAUSDT"],
        ["ccxt", "binance", "LUNA/USDT:USDT"],
        ["nautilus", "BINANCE", "LUNAUSDT-PERP.BINANCE"],
        ["tardis", "binance-futures", "LUNAUSDT"],
    ]
    status, out, _ = run(capsys, root, "--json", "resolve", "LUNA2USDT-PERP.BINANCE",
                         "--scheme", "nautilus", "--as-of", day(13).isoformat())  # fmt: skip
    answer = json.loads(out)
    assert (status, answer["instrument_id"]) == (0, NEW)
    assert answer["names"]["tardis"] == {"exchange": "binance-futures", "name": "LUNA2USDT"}


def test_resolve_after_the_rename_and_when_nobody_held_the_name(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    status, out, _ = run(capsys, root, "resolve", "BINANCE:LUNCUSDT.P", "--as-of",
                         day(11).isoformat())  # fmt: skip
    assert status == 0
    assert f"instrument {OLD}" in out
    assert "LUNCUSDT-PERP.BINANCE" in out  # the native id followed the rename
    status, out, _ = run(capsys, root, "resolve", "BINANCE:LUNAUSDT.P", "--as-of",
                         day(11).isoformat())  # fmt: skip
    assert status == 1
    assert (
        out
        == "BINANCE:LUNAUSDT.P (tradingview) was held by no instrument at 2024-01-12 00:00:00Z\n"
    )
    status, out, _ = run(capsys, root, "--json", "resolve", "BINANCE:LUNAUSDT.P")  # now: NEW
    assert (status, json.loads(out)["instrument_id"]) == (0, NEW)


def test_holders_lists_every_interval(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    status, out, err = run(capsys, root, "holders", "BINANCE:LUNAUSDT.P")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "BINANCE:LUNAUSDT.P: held by 2 instruments"
    assert lines[1].split() == ["held_from", "held_until", "instrument_id", "active"]
    assert lines[2].split() == ["2024-01-01", "00:00:00Z", "2024-01-11", "00:00:00Z", OLD, "yes"]
    assert lines[3].split() == ["2024-01-13", "00:00:00Z", "now", NEW, "yes"]
    status, out, _ = run(capsys, root, "--json", "holders", "BINANCE:LUNAUSDT.P")
    assert [row["instrument_id"] for row in json.loads(out)] == [OLD, NEW]


def test_history_of_a_reused_symbol_says_how_to_see_its_other_holders(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    status, out, _ = run(capsys, root, "history", "BINANCE:LUNAUSDT.P")
    assert status == 0
    assert out.splitlines()[-1] == (
        f"BINANCE:LUNAUSDT.P was also held by {OLD} (these are the versions of {NEW}); "
        "see every holder with: catalog holders BINANCE:LUNAUSDT.P"
    )
    _, alone, _ = run(capsys, root, "history", "BINANCE:LUNCUSDT.P")
    assert "also held" not in alone
    _, as_json, _ = run(capsys, root, "--json", "history", "BINANCE:LUNAUSDT.P")
    assert len(json.loads(as_json)) == 1  # JSON stays one document


def test_get_and_history_take_an_instrument_id(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    status, out, _ = run(capsys, root, "get", "--id", OLD, "--as-of", day(11).isoformat())
    assert status == 0
    assert "BINANCE:LUNCUSDT.P" in out
    status, out, _ = run(capsys, root, "get", "--id", OLD, "--as-of", day(-1).isoformat())
    assert (status, out) == (1, f"{OLD} is not listed at 2023-12-31 00:00:00Z\n")
    status, out, _ = run(capsys, root, "--json", "history", "--id", OLD)
    assert [row["symbol"] for row in json.loads(out)] == [
        "BINANCE:LUNAUSDT.P",
        "BINANCE:LUNCUSDT.P",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["resolve", "luna/usdt:usdt", "--scheme", "ccxt", "--exchange", "binance"],
         "no instrument has ever held the ccxt name 'luna/usdt:usdt' on binance; closest: "
         "'LUNA/USDT:USDT' (binance)"),
        (["resolve", "X", "--scheme", "isin"], "argument --scheme: invalid choice: 'isin'"),
        (["resolve", "BINANCE:LUNAUSDT.P", "--as-of", "2024-01-01T00:00:00"],
         "--as-of: '2024-01-01T00:00:00' has no time zone"),
        (["holders", "BINANCE:NOPE"],
         "no instrument has ever held the tradingview name 'BINANCE:NOPE'"),
        (["get", "--as-of", "2024-01-02T00:00:00Z"], "give either SYMBOL or --id INSTRUMENT_ID"),
        (["get", "BINANCE:LUNAUSDT.P", "--id", OLD, "--as-of", "2024-01-02T00:00:00Z"],
         "give either SYMBOL or --id INSTRUMENT_ID"),
        (["get", "--id", "nope:spot:X", "--as-of", "2024-01-02T00:00:00Z"],
         "no instrument has ever held the symbol or id 'nope:spot:X'"),
        (["history", "--id", "nope:spot:X"], "no instrument has ever held the symbol or id"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], root: Path, argv: list[str], message: str
) -> None:
    before = len(EventLog.open(root))
    status, out, err = run(capsys, root, *argv)
    assert (status, out) == (2, "")
    assert err.startswith("catalog: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert len(EventLog.open(root)) == before  # nothing changed
