"""The `catalog` command, run in-process through `main` against logs built with the Python API."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from builders import T0, changed, delisted, listed, retracted

from connectors.cli.main import main
from eventstore import (
    EventLog,
    InstrumentListed,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

REPO = Path(__file__).resolve().parents[2]
JAN = T0
MAR = datetime(2024, 3, 1, tzinfo=UTC)
JUN = datetime(2024, 6, 1, tzinfo=UTC)
#: When the fixture log recorded its first batch, and its later correction.
FIRST_RECORDED = datetime(2024, 1, 1, 0, 0, 5, tzinfo=UTC)
LATER_RECORDED = datetime(2024, 7, 1, tzinfo=UTC)
BTC = "BINANCE:BTCUSDT"
ETH = "BINANCE:ETHUSDT"


def spot_pair(instrument_id: str, symbol: str, **fields: Any) -> InstrumentListed:
    """Return a listing on 2024-01-01 of a BINANCE spot pair."""
    return listed(instrument_id, symbol, JAN, exchange="BINANCE", type="spot", **fields)


def line(event: Mapping[str, object]) -> str:
    """Return one JSON line of an event, with the envelope every test line shares."""
    return json.dumps({"source": "test", "effective_at": "2024-01-01T00:00:00Z", **event})


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Return an empty lakehouse root."""
    return tmp_path / "lake"


@pytest.fixture
def filled(root: Path) -> Path:
    """Return a root whose log holds BTC (tick 0.01, then 0.1 from June) and ETH (delisted).

    The tick change is recorded on 2024-07-01 and everything else on 2024-01-01, so
    `--known-at` can tell them apart.
    """
    first = EventLog.open(root, clock=lambda: FIRST_RECORDED)
    first.append(
        [
            spot_pair("btc", BTC, base="BTC", quote="USDT", tick_size="0.01", lot_size="0.00001"),
            spot_pair("eth", ETH, base="ETH", quote="USDT", tick_size="0.01", min_notional="5"),
            delisted("eth", ETH, MAR, "gone"),
        ]
    )
    later = EventLog.open(root, clock=lambda: LATER_RECORDED)
    later.append([changed("btc", BTC, JUN, tick_size="0.1", lot_size=None)])
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `catalog argv` in-process; return the exit status, stdout and stderr."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(err: str, *fragments: str) -> None:
    """Check that stderr is one `catalog: error:` line holding every fragment, no traceback."""
    assert err.count("\n") == 1
    assert err.startswith("catalog: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


# -- get -----------------------------------------------------------------------------------


def test_get_prints_an_aligned_field_value_table(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """`get` prints every field with its value, decimals without trailing zeros."""
    status, out, err = run(
        capsys, "--root", str(filled), "get", BTC, "--as-of", "2024-02-01T00:00:00Z"
    )
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[:7] == [
        "symbol            BINANCE:BTCUSDT",
        "instrument_id     btc",
        "active            yes",
        "status            -",
        "valid_from        2024-01-01 00:00:00Z",
        "known_since       2024-01-01 00:00:05Z",  # observed when appended: when recorded
        "recorded_since    2024-01-01 00:00:05Z",
    ]
    assert "tick_size         0.01" in lines
    assert "lot_size          0.00001" in lines


def test_get_json_has_decimal_strings_and_rfc3339_times(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """`get --json` prints the instrument as one object: decimals as strings, times in UTC."""
    status, out, _ = run(
        capsys, "--root", str(filled), "get", BTC, "--as-of", "2024-07-02T00:00:00Z", "--json"
    )
    answer = json.loads(out)
    assert status == 0
    assert answer["tick_size"] == "0.1"
    assert answer["lot_size"] is None
    assert answer["valid_from"] == "2024-06-01T00:00:00Z"
    assert answer["known_since"] == "2024-07-01T00:00:00Z"


def test_get_known_at_hides_what_was_recorded_later(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """`--known-at` answers with what the catalog knew then: the June tick was not yet known."""
    argv = ["--root", str(filled), "--json", "get", BTC, "--as-of", "2024-06-15T00:00:00Z"]
    _, now, _ = run(capsys, *argv)
    _, then, _ = run(capsys, *argv, "--known-at", "2024-02-01T00:00:00Z")
    assert json.loads(now)["tick_size"] == "0.1"
    assert json.loads(then)["tick_size"] == "0.01"


def test_get_before_listing_exits_1_with_a_message(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """`get` of a symbol nobody held at T says so and exits 1; `--json` prints null."""
    status, out, err = run(
        capsys, "--root", str(filled), "get", BTC, "--as-of", "2023-12-31T22:00:00-01:00"
    )
    assert (status, err) == (1, "")
    assert out == "BINANCE:BTCUSDT is not listed at 2023-12-31 23:00:00Z\n"
    status, out, _ = run(
        capsys, "--root", str(filled), "--json", "get", "X:Y", "--as-of", "2024-01-01T00:00:00Z"
    )
    assert (status, out) == (1, "null\n")


def test_get_shows_a_delisted_instrument_as_inactive(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """After its delisting an instrument exists with active = no and its status."""
    status, out, _ = run(
        capsys, "--root", str(filled), "get", ETH, "--as-of", "2024-04-01T00:00:00Z"
    )
    assert status == 0
    assert "active            no" in out.splitlines()
    assert "status            delisted" in out.splitlines()


# -- universe ------------------------------------------------------------------------------


def test_universe_prints_active_instruments_and_a_count(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """`universe` lists the active instruments in aligned columns, then a count line."""
    status, out, _ = run(
        capsys, "--root", str(filled), "universe", "--as-of", "2024-04-01T00:00:00Z"
    )
    assert status == 0
    header, row, count = out.splitlines()
    assert header.split() == [
        "symbol",
        "instrument_id",
        "type",
        "base",
        "quote",
        "tick_size",
        "lot_size",
        "min_notional",
        "status",
        "valid_from",
    ]
    assert row.split() == [
        BTC,
        "btc",
        "spot",
        "BTC",
        "USDT",
        "0.01",
        "0.00001",
        "-",
        "-",
        "2024-01-01",
        "00:00:00Z",
    ]
    assert header.index("valid_from") == row.index("2024-01-01")
    assert count == "1 instrument active at 2024-04-01 00:00:00Z"


def test_universe_include_inactive_adds_delisted_instruments(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """`--include-inactive` also lists delisted instruments, with an `active` column."""
    status, out, _ = run(
        capsys,
        "--root",
        str(filled),
        "universe",
        "--as-of",
        "2024-04-01T00:00:00Z",
        "--include-inactive",
    )
    lines = out.splitlines()
    assert status == 0
    assert "active" in lines[0].split()
    assert lines[2].split()[:2] == [ETH, "eth"]
    assert "delisted" in lines[2].split()
    assert lines[-1] == "2 instruments existing at 2024-04-01 00:00:00Z"


def test_universe_json_is_a_list_of_full_rows(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """`universe --json` prints one object per instrument; Arrow decimals lose their scale."""
    status, out, _ = run(
        capsys, "--root", str(filled), "universe", "--json", "--as-of", "2024-02-01T00:00:00Z"
    )
    rows = json.loads(out)
    assert status == 0
    assert [row["symbol"] for row in rows] == [BTC, ETH]
    assert rows[1]["min_notional"] == "5"
    assert rows[0]["tick_size"] == "0.01"
    assert rows[0]["valid_from"] == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "command",
    [
        ["get", BTC, "--as-of", "2024-01-01T00:00:00Z"],
        ["universe", "--as-of", "2024-01-01T00:00:00Z"],
        ["history", BTC],
        ["changes", "--since", "2024-01-01T00:00:00Z", "--until", "2024-02-01T00:00:00Z"],
        ["export", "out"],
        ["audit"],
    ],
    ids=lambda command: command[0],
)
def test_a_read_command_on_a_root_without_a_catalog_says_so(
    capsys: pytest.CaptureFixture[str], root: Path, command: list[str]
) -> None:
    """A root with no log (a typo, the wrong default) is an error naming it, not empty answers."""
    status, out, err = run(capsys, "--root", str(root), *command)
    assert (status, out) == (2, "")
    assert err == (
        f"catalog: error: no catalog at {root} (the demo's catalog is data/demo-catalog: "
        "pass --root or set CATALOG_ROOT)\n"
    )
    assert not root.exists()  # nothing was created


# -- history -------------------------------------------------------------------------------


def test_history_shows_one_row_per_version_and_only_changing_fields(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """`history` says once what never changes, then a row per version with the fields that do.

    A value that differs from the version before is starred, and a legend under the table
    says what the star means; an open interval reads `now`.
    """
    status, out, _ = run(capsys, "--root", str(filled), "history", BTC)
    title, unchanged, header, first, second, legend = out.splitlines()
    assert status == 0
    assert legend == "* the value changed from the version before"
    assert title == "BINANCE:BTCUSDT: 2 versions of instrument btc"
    assert unchanged == "unchanged: exchange=BINANCE, base=BTC, quote=USDT, type=spot"
    assert header.split() == [
        "valid_from",
        "valid_until",
        "known_since",
        "recorded_since",
        "active",
        "status",
        "symbol",
        "tick_size",
        "lot_size",
    ]
    assert first.split()[:6] == [
        "2024-01-01",
        "00:00:00Z",
        "2024-06-01",
        "00:00:00Z",
        "2024-01-01",
        "00:00:05Z",
    ]
    assert first.split()[-2:] == ["0.01", "0.00001"]
    assert second.split()[2:4] == ["now", "2024-07-01"]
    assert second.split()[-4:] == ["0.1", "*", "-", "*"]


def test_history_json_and_known_at(capsys: pytest.CaptureFixture[str], filled: Path) -> None:
    """`history --json` lists every version; `--known-at` leaves out later-recorded ones."""
    _, out, _ = run(capsys, "--root", str(filled), "history", BTC, "--json")
    versions = json.loads(out)
    assert [v["valid_until"] for v in versions] == ["2024-06-01T00:00:00Z", None]
    _, out, _ = run(
        capsys,
        "--root",
        str(filled),
        "history",
        BTC,
        "--json",
        "--known-at",
        "2024-02-01T00:00:00Z",
    )
    assert [v["tick_size"] for v in json.loads(out)] == ["0.01"]


def test_history_of_an_unknown_symbol_exits_2(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """`history` of a symbol no instrument ever held is bad input: exit 2, one line."""
    status, out, err = run(capsys, "--root", str(filled), "history", "NOPE:NOPE")
    assert (status, out) == (2, "")
    assert_one_line_error(err, "'NOPE:NOPE'")


# -- changes -------------------------------------------------------------------------------


WINDOW = ("--since", "2024-01-01T00:00:00Z", "--until", "2025-01-01T00:00:00Z")


def test_changes_prints_one_line_per_change_with_old_and_new_values(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """`changes` shows each listing, delisting and field change: old -> new, times, source."""
    status, out, _ = run(capsys, "--root", str(filled), "changes", *WINDOW)
    header, *lines, count = out.splitlines()
    assert status == 0
    assert header.split() == ["effective_at", "recorded_at", "what", "symbol", "source", "change"]
    assert [line.split("  test  ")[1].strip() for line in lines] == [
        "exchange=BINANCE base=BTC quote=USDT type=spot tick_size=0.01 lot_size=0.00001",
        "exchange=BINANCE base=ETH quote=USDT type=spot tick_size=0.01 min_notional=5",
        "status: null -> delisted (gone)",
        "lot_size: 0.00001 -> null",
        "tick_size: 0.01 -> 0.1",
    ]
    assert lines[4].split()[:4] == ["2024-06-01", "00:00:00Z", "2024-07-01", "00:00:00Z"]
    assert (
        count == "5 changes from 4 events effective in [2024-01-01 00:00:00Z, 2025-01-01 00:00:00Z)"
    )


def test_changes_of_one_field_or_one_exchange(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """`--field` keeps the lines of that field (a listing that sets it included); `--exchange`
    keeps that exchange's instruments."""
    _, out, _ = run(capsys, "--root", str(filled), "changes", *WINDOW, "--field", "tick_size")
    assert [line.split("  test  ")[1].strip() for line in out.splitlines()[1:-1]] == [
        "tick_size: null -> 0.01",
        "tick_size: null -> 0.01",
        "tick_size: 0.01 -> 0.1",
    ]
    _, out, _ = run(capsys, "--root", str(filled), "changes", *WINDOW, "--exchange", "OKX")
    assert out.startswith("0 changes from 0 events")


def test_changes_json_has_old_and_new_values(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """`changes --json` gives each line's field, old and new value, times, source and ids."""
    _, out, _ = run(capsys, "--root", str(filled), "changes", *WINDOW, "--json")
    lines = json.loads(out)
    tick = next(line for line in lines if line["field"] == "tick_size")
    assert {k: tick[k] for k in ("what", "symbol", "old", "new", "source", "retracted")} == {
        "what": "changed",
        "symbol": BTC,
        "old": "0.01",
        "new": "0.1",
        "source": "test",
        "retracted": False,
    }
    assert tick["effective_at"] == "2024-06-01T00:00:00Z"
    assert tick["recorded_at"] == "2024-07-01T00:00:00Z"
    assert lines[0]["new"] == {
        "exchange": "BINANCE",
        "base": "BTC",
        "quote": "USDT",
        "type": "spot",
        "tick_size": "0.01",
        "lot_size": "0.00001",
    }


def test_changes_flags_retracted_events(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    """A retracted event is still listed, flagged; the retraction says what it withdraws."""
    log = EventLog.open(root)
    [listing] = log.append([spot_pair("btc", BTC, tick_size="1")])
    retraction = retracted(listing, MAR, "wrong tick", source="manual")
    log.append([retraction])
    _, out, _ = run(capsys, "--root", str(root), "changes", *WINDOW)
    assert out.splitlines()[1].endswith(
        "test    [retracted] exchange=BINANCE type=spot tick_size=1"
    )
    assert out.splitlines()[2].endswith(f"(withdraws {listing.event_id}: wrong tick)")
    _, out, _ = run(capsys, "--root", str(root), "changes", *WINDOW, "--json")
    first, second = json.loads(out)
    assert (first["retracted"], first["new"]["tick_size"]) == (True, "1")
    assert (second["what"], second["field"]) == ("retracted", None)


# -- append --------------------------------------------------------------------------------

LISTING = {"kind": "InstrumentListed", "instrument_id": "btc", "symbol": BTC, "tick_size": 0.01}
CHANGE = {
    "kind": "InstrumentChanged",
    "instrument_id": "btc",
    "symbol": BTC,
    "effective_at": "2024-06-01T00:00:00Z",
    "changes": {"tick_size": "0.1"},
}


def write_lines(path: Path, lines: Sequence[str]) -> str:
    """Write `lines` as a JSON-lines file; return its path as text."""
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_append_appends_every_line_once(
    capsys: pytest.CaptureFixture[str], root: Path, tmp_path: Path
) -> None:
    """`append` adds the file's events; appending the same file again adds nothing."""
    events = write_lines(tmp_path / "events.jsonl", [line(LISTING), "", line(CHANGE)])
    status, out, _ = run(capsys, "--root", str(root), "append", events)
    assert (status, out) == (0, "appended 2, already present 0\n")
    status, out, _ = run(capsys, "--root", str(root), "append", events, "--json")
    assert status == 0
    assert json.loads(out) == {"appended": 0, "already_present": 2, "repeated": 0}
    recorded = EventLog.open(root).events()
    assert [event.kind for event in recorded] == ["InstrumentListed", "InstrumentChanged"]
    assert isinstance(recorded[0], InstrumentListed)
    assert recorded[0].tick_size == Decimal("0.01")  # a JSON number, read exactly


def test_append_with_a_bad_third_line_appends_nothing(
    capsys: pytest.CaptureFixture[str], root: Path, tmp_path: Path
) -> None:
    """One malformed line stops the whole file: exit 2, the line named, the log untouched."""
    second = {**LISTING, "instrument_id": "eth", "symbol": ETH}
    bad = {**CHANGE, "effective_at": "2024-06-01T00:00:00"}  # naive
    events = write_lines(tmp_path / "events.jsonl", [line(LISTING), line(second), line(bad)])
    status, out, err = run(capsys, "--root", str(root), "append", events)
    assert (status, out) == (2, "")
    assert_one_line_error(err, "line 3", "effective_at", "no time zone", "nothing was appended")
    assert len(EventLog.open(root)) == 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "malformed"),
        ('{"kind": "InstrumentExploded"}', "$.kind"),
        (line({**LISTING, "tick_sise": "0.1"}), "unknown field 'tick_sise'"),
        (line({**LISTING, "recorded_at": "2024-01-01T00:00:00Z"}), "recorded_at is assigned"),
        (line({**LISTING, "tick_size": 1.5e-30}), "tick_size"),
        (line({**CHANGE, "changes": {"symbol": "X:Y"}}), "InstrumentRenamed"),
    ],
)
def test_append_names_the_line_and_the_reason(
    capsys: pytest.CaptureFixture[str], root: Path, tmp_path: Path, text: str, reason: str
) -> None:
    """Each kind of bad line is refused with its line number and why, and nothing is written."""
    events = write_lines(tmp_path / "events.jsonl", [line(LISTING), text])
    status, _, err = run(capsys, "--root", str(root), "append", events)
    assert status == 2
    assert_one_line_error(err, "events.jsonl, line 2: ", reason)
    assert len(EventLog.open(root)) == 0


def test_append_of_a_change_to_an_unknown_instrument_names_its_line(
    capsys: pytest.CaptureFixture[str], root: Path, tmp_path: Path
) -> None:
    """A line that decodes but refers to no instrument is reported by line, and nothing lands."""
    orphan = {**CHANGE, "instrument_id": "ghost"}
    events = write_lines(tmp_path / "events.jsonl", [line(LISTING), line(orphan)])
    status, _, err = run(capsys, "--root", str(root), "append", events)
    assert status == 2
    assert_one_line_error(err, "line 2", "unknown instrument 'ghost'")
    assert len(EventLog.open(root)) == 0


def test_append_reads_standard_input_for_a_dash(
    capsys: pytest.CaptureFixture[str], root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`append -` reads the events from stdin."""
    stdin = io.TextIOWrapper(io.BytesIO((line(LISTING) + "\n").encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    status, out, _ = run(capsys, "--root", str(root), "append", "-")
    assert (status, out) == (0, "appended 1, already present 0\n")
    assert len(EventLog.open(root)) == 1


def test_append_of_a_missing_file_exits_2(
    capsys: pytest.CaptureFixture[str], root: Path, tmp_path: Path
) -> None:
    """A file that cannot be read is bad input: one error line naming it, exit 2."""
    status, _, err = run(capsys, "--root", str(root), "append", str(tmp_path / "absent.jsonl"))
    assert status == 2
    assert_one_line_error(err, "absent.jsonl", "cannot read")


def test_append_help_documents_the_format_with_examples_that_append(
    capsys: pytest.CaptureFixture[str], root: Path, tmp_path: Path
) -> None:
    """`append --help` shows the JSON-lines format with example lines that append as shown."""
    status, out, _ = run(capsys, "append", "--help")
    examples = [text.strip() for text in out.splitlines() if text.strip().startswith("{")]
    assert status == 0
    assert [json.loads(example)["kind"] for example in examples] == [
        "InstrumentListed",
        "InstrumentChanged",
    ]
    events = write_lines(tmp_path / "examples.jsonl", examples)
    assert run(capsys, "--root", str(root), "append", events)[:2] == (
        0,
        "appended 2, already present 0\n",
    )


# -- compact -------------------------------------------------------------------------------


def test_compact_merges_files_and_reports(capsys: pytest.CaptureFixture[str], filled: Path) -> None:
    """`compact` merges the two appends' files into one and prints what it did."""
    status, out, _ = run(capsys, "--root", str(filled), "compact")
    assert status == 0
    assert out.startswith("compacted ")
    assert "2 files -> 1 file, log version 2" in out
    _, out, _ = run(capsys, "--root", str(filled), "compact", "--vacuum", "--json")
    assert json.loads(out) == {
        "files_before": 1,
        "files_after": 1,
        "version": 2,
        "vacuumed": True,
        "retention_hours": 168,
        "deleted": 0,
        "kept": 2,
    }
    assert len(EventLog.open(filled)) == 4


def test_vacuum_says_what_it_deleted_and_the_retention(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """The default retention keeps the files compaction replaced; 0 h deletes them, and says so."""
    data = filled / "events"
    files = {p.name for p in data.glob("*.parquet")}
    status, out, _ = run(capsys, "--root", str(filled), "compact", "--vacuum")
    assert status == 0
    assert out.splitlines()[1] == (
        "vacuum: deleted 0 files unreferenced for more than 168 h; kept 2 younger unreferenced "
        "files (readers of older versions may still need them; --retention-hours 0 deletes them)"
    )
    assert files <= {p.name for p in data.glob("*.parquet")}  # nothing deleted, as it says

    status, out, _ = run(
        capsys, "--root", str(filled), "compact", "--vacuum", "--retention-hours", "0"
    )
    assert out.splitlines()[1] == "vacuum: deleted 2 files unreferenced for more than 0 h"
    assert not files & {p.name for p in data.glob("*.parquet")}  # the two replaced files went
    assert len(EventLog.open(filled)) == 4
    status, _, err = run(capsys, "--root", str(filled), "compact", "--retention-hours", "1")
    assert (status, err) == (2, "catalog: error: --retention-hours applies to --vacuum only\n")


def test_compact_of_an_empty_root_does_nothing(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    """`compact` where no log exists says so and creates nothing."""
    status, out, _ = run(capsys, "--root", str(root), "compact")
    assert status == 0
    assert out.startswith("nothing to compact: no log under ")
    assert not root.exists()


# -- root and global options ---------------------------------------------------------------


def test_root_comes_from_catalog_root_unless_given(
    capsys: pytest.CaptureFixture[str],
    filled: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`CATALOG_ROOT` sets the root; `--root` (before or after the command) wins over it."""
    monkeypatch.setenv("CATALOG_ROOT", str(filled))
    argv = ["get", BTC, "--as-of", "2024-02-01T00:00:00Z"]
    assert run(capsys, *argv)[0] == 0
    assert run(capsys, "--root", str(tmp_path / "empty"), *argv)[0] == 2  # no catalog there
    assert run(capsys, *argv, "--root", str(tmp_path / "empty"))[0] == 2


def test_root_defaults_to_data_lakehouse(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `--root` or `CATALOG_ROOT`, the root is `data/lakehouse` under the working dir."""
    monkeypatch.delenv("CATALOG_ROOT", raising=False)
    EventLog.open(tmp_path / "data" / "lakehouse").append([spot_pair("btc", BTC)])
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "get", BTC, "--as-of", "2024-02-01T00:00:00Z")[0] == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "get", BTC, "--as-of", "2024-02-01T00:00:00Z"],
        ["get", "--json", BTC, "--as-of", "2024-02-01T00:00:00Z"],
        ["get", BTC, "--as-of", "2024-02-01T00:00:00Z", "--json"],
    ],
)
def test_json_flag_goes_before_or_after_the_command(
    capsys: pytest.CaptureFixture[str], filled: Path, argv: list[str]
) -> None:
    """`--json` is accepted anywhere on the line and always prints JSON."""
    status, out, _ = run(capsys, "--root", str(filled), *argv)
    assert status == 0
    assert json.loads(out)["symbol"] == BTC


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["get", BTC, "--as-of", "2024-01-01T00:00:00"], ["--as-of", "no time zone"]),
        (["get", BTC, "--as-of", "1704067200"], ["--as-of", "'1704067200'", "ISO-8601"]),
        (
            ["universe", "--as-of", "2024-01-01T00:00:00Z", "--known-at", "soon"],
            ["--known-at", "'soon'"],
        ),
        (["history", BTC, "--known-at", "2024-01-01T10:00"], ["--known-at", "no time zone"]),
        (["changes", "--since", "2024-01-01T00:00:00Z", "--until", "1.5"], ["--until", "'1.5'"]),
    ],
)
def test_bad_times_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], filled: Path, argv: list[str], fragments: list[str]
) -> None:
    """A naive, numeric or unreadable time is refused: exit 2, one line naming the option."""
    status, out, err = run(capsys, "--root", str(filled), *argv)
    assert (status, out) == (2, "")
    assert_one_line_error(err, *fragments)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "COMMAND"),
        (["get"], "SYMBOL"),
        (["explode"], "invalid choice"),
        (["universe", "--as-of", "2024-01-01T00:00:00Z", "--frobnicate"], "--frobnicate"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    """A wrong command line gets one error line pointing at --help, not a usage dump."""
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert_one_line_error(err, fragment, "--help")


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` prints the commands and exits 0."""
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for command in ("get", "universe", "history", "changes", "append", "compact"):
        assert command in out


# -- the installed command -----------------------------------------------------------------


def test_module_runs_as_a_script(filled: Path) -> None:
    """`python -m connectors.cli.main` runs `main` and exits with its status."""
    command = [sys.executable, "-m", "connectors.cli.main", "--root", str(filled)]
    found = subprocess.run(
        [*command, "get", BTC, "--as-of", "2024-02-01T00:00:00Z", "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert (found.returncode, found.stderr) == (0, "")
    assert json.loads(found.stdout)["tick_size"] == "0.01"
    naive = subprocess.run(
        [*command, "get", BTC, "--as-of", "2024-02-01T10:00"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert naive.returncode == 2
    assert_one_line_error(naive.stderr, "no time zone")
