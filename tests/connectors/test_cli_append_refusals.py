"""`catalog append` refuses what the audit would flag, naming the line and the reason.

Each bad line follows a good listing (in the same file, or already in the log); the whole
file is refused with exit 2 and one `catalog: error:` line, and the log is left as it was.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from builders import T0, changed, listed

from connectors.cli.main import main
from eventstore import EventLog, InstrumentChanged, compute_event_id
from projections.invariants import check_listing_order

if TYPE_CHECKING:
    from pathlib import Path

BTC = "BINANCE:BTCUSDT"
LISTING: dict[str, Any] = {
    "kind": "InstrumentListed",
    "instrument_id": "btc",
    "symbol": BTC,
    "effective_at": "2024-01-01T00:00:00Z",
    "source": "test",
    "tick_size": "0.01",
    "status": "trading",
}


def _change(changes: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {
        "kind": "InstrumentChanged",
        "instrument_id": "btc",
        "symbol": BTC,
        "effective_at": "2024-06-01T00:00:00Z",
        "source": "test",
        "changes": changes,
        **envelope,
    }


def _delisting(**envelope: Any) -> dict[str, Any]:
    return {
        "kind": "InstrumentDelisted",
        "instrument_id": "btc",
        "symbol": BTC,
        "effective_at": "2024-06-01T00:00:00Z",
        "source": "test",
        "reason": "gone",
        **envelope,
    }


def _rename(**envelope: Any) -> dict[str, Any]:
    return {
        "kind": "InstrumentRenamed",
        "instrument_id": "btc",
        "symbol": BTC,
        "effective_at": "2024-06-01T00:00:00Z",
        "source": "test",
        "new_symbol": "BINANCE:XBTUSDT",
        **envelope,
    }


def _append(
    capsys: pytest.CaptureFixture[str], root: Path, path: Path, *events: dict[str, Any]
) -> tuple[int, str, str]:
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    status = main(["--root", str(root), "append", str(path)])
    out, err = capsys.readouterr()
    return status, out, err


def _refused(err: str, *fragments: str) -> None:
    assert err.count("\n") == 1
    assert err.startswith("catalog: error: ")
    assert "Traceback" not in err
    assert err.rstrip().endswith("nothing was appended")
    for fragment in fragments:
        assert fragment in err


REFUSED = [
    ({**LISTING, "tick_size": "-0.01"}, "tick_size: '-0.01' is not positive"),
    ({**LISTING, "lot_size": -1}, "lot_size: -1 is not positive"),
    (_change({"lot_size": "0"}), "lot_size: '0' is not positive (use null for none)"),
    (_change({"min_notional": "1_000"}), "'1_000' is not a decimal of ASCII digits"),
    (_change({"tick_size": "\u0661"}), "is not a decimal of ASCII digits"),
    ({**LISTING, "contract_size": "1e3"}, "'1e3' is not a decimal of ASCII digits"),
    ({**LISTING, "status": "open"}, "status: 'open' is not one of pre_trading, trading"),
    (_change({"status": "paused"}), "status: 'paused' is not one of"),
    (_change({"option_type": "C"}), "option_type: 'C' is not one of call, put"),
    ({**LISTING, "strike": "0"}, "strike: '0' is not positive"),
    (_delisting(status="trading"), "status: 'trading' is not one of delisted, expired"),
    (
        {**LISTING, "listed_at": "2024-01-01T00:00:00Z", "expiry": "2023-03-31T08:00:00Z"},
        "expiry: 2023-03-31T08:00:00+00:00 is before the listing at 2024-01-01T00:00:00+00:00",
    ),
    ({**LISTING, "expiry": "2023-03-31T08:00:00Z"}, "is before the listing at 2024-01-01"),
    (_change({"expiry": "2023-12-29T08:00:00Z"}), "expiry: 2023-12-29T08:00:00+00:00 is before"),
    (
        _change({"tick_size": "0.1"}, symbol="BINANCE:ETHUSDT"),
        "'BINANCE:ETHUSDT' is not the instrument's symbol at 2024-06-01T00:00:00+00:00: "
        "it holds 'BINANCE:BTCUSDT'",
    ),
    (_delisting(symbol="BINANCE:ETHUSDT"), "is not the instrument's symbol"),
    (_rename(symbol="BINANCE:ETHUSDT"), "is not the instrument's symbol"),
    (
        _change({"tick_size": "0.1"}, effective_at="2020-01-01T00:00:00Z"),
        "effective 2020-01-01T00:00:00+00:00, before the instrument's listing at "
        "2024-01-01T00:00:00+00:00 (the audit's listed-first)",
    ),
    (_delisting(effective_at="2021-01-01T00:00:00Z"), "before the instrument's listing"),
    ({**LISTING, "symbol": "BINANCE:BTC\u0000USDT"}, "holds U+0000"),
    ({**LISTING, "symbol": "BINANCE:BTC\u202eUSDT"}, "holds right-to-left override"),
    ({**LISTING, "symbol": "BINANCE:"}, "symbol ticker: expected a non-empty name"),
    ({**LISTING, "symbol": "BINANCE:../../etc"}, "holds '/'"),
    (_rename(new_symbol="BINANCE:" + "A" * 10_000), "more than 100"),
    ({**LISTING, "instrument_id": "btc\n2"}, "instrument_id: 'btc\\n2' holds U+000A"),
]


#: Short test ids: the kind of line and the start of the reason.
IDS = [f"{bad['kind'].removeprefix('Instrument')}-{reason[:30]}" for bad, reason in REFUSED]


@pytest.mark.parametrize(("bad", "reason"), REFUSED, ids=IDS)
def test_a_line_the_audit_would_flag_refuses_the_whole_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bad: dict[str, Any], reason: str
) -> None:
    """Line 2 breaks a value rule or a check against the listing of line 1: exit 2, the line
    and the reason named, and nothing is appended."""
    root = tmp_path / "lake"
    status, out, err = _append(capsys, root, tmp_path / "events.jsonl", LISTING, bad)
    assert (status, out) == (2, "")
    _refused(err, "events.jsonl, line 2: ", reason)
    assert len(EventLog.open(root)) == 0


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(bad, id=i)
        for (bad, _), i in zip(REFUSED, IDS, strict=True)
        if "Listed" not in bad["kind"]
    ],
)
def test_the_checks_against_the_log_see_what_an_earlier_append_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bad: dict[str, Any]
) -> None:
    """With the listing already in the log, the same bad line alone is refused as line 1."""
    root = tmp_path / "lake"
    assert _append(capsys, root, tmp_path / "listing.jsonl", LISTING)[0] == 0
    status, _, err = _append(capsys, root, tmp_path / "later.jsonl", bad)
    assert status == 2
    _refused(err, "later.jsonl, line 1: ")
    assert len(EventLog.open(root)) == 1


def test_an_early_change_is_refused_where_the_python_api_would_fail_the_audit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The same change effective four years before its listing: `catalog append` refuses it,
    while appended through the Python API it makes the audit's `listed-first` fail."""
    early = _change({"tick_size": "0.1"}, effective_at="2020-01-01T00:00:00Z")
    status, _, err = _append(capsys, tmp_path / "cli", tmp_path / "e.jsonl", LISTING, early)
    assert status == 2
    assert "listed-first" in err
    log = EventLog.open(tmp_path / "api")
    four_years_early = datetime(2020, 1, 1, tzinfo=UTC)
    log.append([listed("btc", BTC, T0), changed("btc", BTC, four_years_early, tick_size="0.1")])
    assert check_listing_order(log).count == 1


def test_good_files_still_append_renames_retractions_and_repeats(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A rename then a change under the new symbol at the same instant, a null size, an
    expiry after the listing, a delisting as expired, a change retracted in the same file
    (whose wrong symbol then does not matter) and the same file appended twice: accepted."""
    root = tmp_path / "lake"
    wrong = _change(
        {"tick_size": "0.5"}, symbol="BINANCE:NOPE", effective_at="2024-02-01T00:00:00Z"
    )
    events = [
        {**LISTING, "expiry": "2025-03-28T08:00:00Z", "lot_size": None},
        _rename(),
        _change({"tick_size": "0.1", "min_notional": None}, symbol="BINANCE:XBTUSDT"),
        _delisting(symbol="BINANCE:XBTUSDT", effective_at="2025-03-28T08:00:00Z", status="expired"),
    ]
    path = tmp_path / "good.jsonl"
    assert _append(capsys, root, path, *events)[:2] == (0, "appended 4, already present 0\n")
    assert _append(capsys, root, path, *events)[:2] == (0, "appended 0, already present 4\n")
    log = EventLog.open(root)
    wrong_event = InstrumentChanged(**{k: v for k, v in wrong.items() if k != "kind"})
    retraction = {
        "kind": "EventRetracted",
        "instrument_id": "btc",
        "symbol": BTC,
        "effective_at": "2024-07-01T00:00:00Z",
        "source": "test",
        "target": compute_event_id(wrong_event),
        "reason": "wrong symbol",
    }
    assert _append(capsys, root, tmp_path / "fix.jsonl", wrong, retraction)[0] == 0
    assert len(log) == 6
