"""`catalog revisions`: one line per revised answer, JSON, the filters and bad input.

The catalog holds coin 1 listed on day 0 and its tick changed on day 4 (recorded on day 0),
then, recorded on day 10, a lot size effective on day 2 (observed on day 9) and the
retraction of the tick change. Each bad input exits 2 with one `catalog: error:` line; the
log is read only, so nothing can change.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from builders import changed, day, listed, observed, retracted
from clock import Clock
from test_cli import assert_one_line_error, run

from eventstore import EventLog

if TYPE_CHECKING:
    from pathlib import Path

K1 = "2024-01-01T01:00:00Z"


@pytest.fixture
def revised(tmp_path: Path) -> Path:
    """Return a root whose log was corrected after K1."""
    root = tmp_path / "lake"
    clock = Clock(day(0))
    log = EventLog.open(root, clock=clock)
    log.append([listed(1), changed(1, day=4)])
    clock.set(day(10))
    log.append([observed(changed(1, day=2, lot_size="5"), day(9))])
    log.append([observed(retracted(log.events()[1]), day(9))])
    return root


def test_one_line_per_revised_answer(revised: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Who, field, interval, before -> after, (cause); then a count line."""
    status, out, _ = run(capsys, "--root", str(revised), "revisions", "--known-since", K1)

    assert status == 0
    assert out.splitlines() == [
        "inst-1  BINANCE:COIN1USDT  tick_size  [2024-01-05 00:00:00Z, now)  0.1 -> 0.01"
        "  (retraction)",
        "inst-1  BINANCE:COIN1USDT  lot_size  [2024-01-03 00:00:00Z, now)  null -> 5  (correction)",
        "2 revised answers of 1 instrument: known at 2024-01-01 01:00:00Z -> everything known",
    ]


def test_json_fields_exchange_and_recorded(
    revised: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json gives the rows; --field and --exchange filter; --recorded reads recorded_at."""
    base = ("--root", str(revised), "revisions", "--known-since", K1)
    status, out, _ = run(capsys, *base, "--field", "lot_size", "--json")
    assert status == 0
    assert json.loads(out) == [
        {
            "instrument_id": "inst-1",
            "symbol": "BINANCE:COIN1USDT",
            "field": "lot_size",
            "effective_from": "2024-01-03T00:00:00Z",
            "effective_until": None,
            "before": None,
            "after": "5",
            "cause": ["correction"],
        }
    ]
    _, out, _ = run(capsys, *base, "--exchange", "OKX")
    assert out.splitlines()[-1].startswith("0 revised answers of 0 instruments")
    _, out, _ = run(capsys, *base, "--recorded", "--known-until", "2024-01-10T00:00:00Z")
    assert out.startswith("0 revised answers")  # recorded on day 10, 2024-01-11
    _, out, _ = run(capsys, *base, "--recorded", "--known-until", "2024-01-11T00:00:00Z")
    assert out.splitlines()[0].startswith("inst-1  BINANCE:COIN1USDT  tick_size")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("--known-since", "2024-01-01T00:00:00"), "--known-since"),
        (("--known-since", K1, "--known-until", "2023-01-01T00:00:00Z"), "before known_since"),
        (("--known-since", K1, "--field", "tick"), "unknown field 'tick'"),
        ((), "--known-since"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    revised: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], fragment: str
) -> None:
    """A naive instant, K2 before K1, an unknown field, no K1: exit 2, one line."""
    before = len(EventLog.open(revised))
    status, out, err = run(capsys, "--root", str(revised), "revisions", *argv)

    assert (status, out) == (2, "")
    assert_one_line_error(err, fragment)
    assert len(EventLog.open(revised)) == before
