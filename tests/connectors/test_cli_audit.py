"""`catalog audit` on a real catalog, clean and then damaged on disk in each way it claims to catch.

Every test works on its own copy of one small catalog built through the public API (nine
events in five commits, every instrument event kind, a retraction, and the saved index).
Damage the append API refuses to make (it validates every event and links it into the
hash chain) is made by editing the files: Parquet data files are rewritten with pyarrow,
Delta commits (`_delta_log/*.json`) are deleted or edited, the saved index's NumPy arrays
are changed in place. Damage the API does allow (a second holder of a symbol, a change
effective before the listing) is appended normally.
"""

from __future__ import annotations

import json
import shutil
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import tamper
import xxhash
from builders import T0, changed, day, delisted, listed, renamed, retracted

from connectors.catalog_audit import AUDIT_STEPS
from connectors.cli.main import main
from eventstore import (
    EventLog,
    ExchangeListed,
    InstrumentListed,
)
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

BTC, ETH, SOL = "BINANCE:BTCUSDT", "BINANCE:ETHUSDT", "BINANCE:SOLUSDT"


def _listed(instrument_id: str, symbol: str, n: int = 0) -> InstrumentListed:
    return listed(
        instrument_id,
        symbol,
        day(n),
        exchange="BINANCE",
        quote="USDT",
        tick_size=Decimal("0.01"),
        description='a "quoted" name',
    )


def _build(root: Path) -> None:
    log = EventLog.open(root)
    log.append(
        [
            ExchangeListed(exchange="BINANCE", effective_at=T0, source="test", country="MT"),
            _listed("btc", BTC),
            _listed("eth", ETH),
        ]
    )
    change = log.append(
        [
            changed("btc", BTC, day(1), tick_size=Decimal("0.1")),
            changed("eth", ETH, day(1), description=None),
        ]
    )
    log.append(
        [
            delisted("eth", ETH, day(3), "gone"),
            renamed("btc", BTC, "BINANCE:XBTUSDT", day(4)),
        ]
    )
    log.append([retracted(change[0], day(5), "wrong tick", source="manual")])
    log.append([_listed("sol", SOL, 6)])
    Catalog.open(root).refresh()  # builds and saves the index the audit also checks


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a clean catalog root: nine events in five commits, with its saved index."""
    root = tmp_path_factory.mktemp("pristine") / "lake"
    _build(root)
    return root


@pytest.fixture
def root(pristine: Path, tmp_path: Path) -> Path:
    """Return this test's own copy of the clean catalog, to damage."""
    copy = tmp_path / "lake"
    shutil.copytree(pristine, copy)
    return copy


def audit(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """Run `catalog audit --json`; return the exit status and the report."""
    status = main(["--root", str(root), "audit", "--json"])
    return status, json.loads(capsys.readouterr().out)


def failures(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Return the violations of each failed check, by check name."""
    return {c["name"]: c["violations"] for c in report["checks"] if c["status"] == "FAIL"}


def test_clean_catalog_passes_every_check(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An untouched catalog: exit 0, every check run and passed, every event counted."""
    status, report = audit(root, capsys)

    assert status == 0
    assert report["ok"] is True
    assert report["events"] == 9
    assert failures(report) == {}
    assert not any(check["skipped"] for check in report["checks"])
    assert {c["name"] for c in report["checks"]} >= {"hash", "chain", "one-holder"}


def test_audit_shows_its_stages_on_stderr(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not on a terminal: one plain line per stage on stderr; `--quiet`: none."""
    assert main(["--root", str(root), "audit"]) == 0
    err = capsys.readouterr().err.splitlines()
    total = len(AUDIT_STEPS)
    assert err == [f"audit: {name} ({n}/{total})" for n, name in enumerate(AUDIT_STEPS, 1)]
    assert main(["--root", str(root), "audit", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_text_report_says_what_was_checked(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The readable report names the root, the event count, each check and the verdict."""
    status = main(["--root", str(root), "audit"])
    out = capsys.readouterr().out

    assert status == 0
    assert f"audit of {root}: 9 events, 16 checks" in out
    assert "  ok    hash " in out
    assert out.rstrip().splitlines()[-1].startswith("clean: every check passed in ")


def test_value_edited_inside_a_parquet_file(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A tick size rewritten in a data file (Delta log still pointing at it) breaks its hash."""
    position = 1  # the listing of btc
    path = tamper.file_holding(root, position)
    tamper.rewrite(root, path, tamper.set_value("tick_size", position, Decimal("0.5")))

    status, report = audit(root, capsys)

    assert status == 1
    found = failures(report)
    assert set(found) == {"hash", "event-id"}
    assert [v["position"] for v in found["hash"]] == [position]


def test_file_rewritten_carelessly_is_unreadable(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A data file rewritten without fixing its size in the Delta log fails `readable`."""
    path = tamper.file_holding(root, 1)
    tamper.rewrite(root, path, tamper.set_value("quote", 1, "USDC"), fix_size=False)

    status, report = audit(root, capsys)

    assert status == 1
    assert set(failures(report)) == {"readable"}
    # `removes-readded` reads only the Delta commits, which are intact: it ran
    others = [c for c in report["checks"] if c["name"] not in ("readable", "removes-readded")]
    assert len(others) == 14
    for check in others:  # none of them ran: each says skip and why, never ok
        assert (check["status"], check["ok"]) == ("skip", False), check["name"]
        assert check["skipped"].startswith("not checked: the log cannot be read")
    assert main(["--root", str(root), "audit"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [
        line.split()[0]
        for line in lines[1:]
        if line.startswith("  ") and not line.startswith("   ")
    ].count("skip") == 14


def test_commit_removed_from_the_delta_log(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting a commit file in the middle of the Delta log is named as a missing commit."""
    tamper.commit_file(root, 2).unlink()

    status, report = audit(root, capsys)

    assert status == 1
    assert failures(report)["readable"][0]["detail"] == "commit 2 is missing from the Delta log"


def test_add_action_removed_from_a_commit(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Dropping a commit's `add` action loses its events: a position gap and a broken chain."""
    tamper.drop_add_action(root, 2)  # the delisting (position 5) and the rename (6)

    status, report = audit(root, capsys)

    assert status == 1
    found = failures(report)
    assert found["position"][0]["detail"] == "positions 5..6 are missing"
    assert [v["position"] for v in found["chain"]] == [7]
    assert [v["position"] for v in found["stream-version"]] == [7]


def test_event_duplicated_in_a_data_file(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A row stored twice repeats a position and an event id."""
    position = 3
    path = tamper.file_holding(root, position)
    tamper.rewrite(root, path, tamper.duplicate(position))

    status, report = audit(root, capsys)

    assert status == 1
    found = failures(report)
    assert [v["position"] for v in found["unique-id"]] == [position]
    assert [v["detail"] for v in found["position"]] == ["position appears twice"]


def test_retraction_pointing_nowhere(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A retraction whose target is no event of the log (the API refuses to append one)."""
    (position,) = tamper.positions_of(root, "EventRetracted")
    nowhere = str(uuid.uuid4())
    path = tamper.file_holding(root, position)
    tamper.rewrite(root, path, tamper.set_value("target", position, nowhere))

    status, report = audit(root, capsys)

    assert status == 1
    found = failures(report)
    assert found["retraction-target"][0]["detail"] == f"targets {nowhere}, which is not in the log"
    assert {"hash", "event-id"} <= set(found)  # and the edit itself shows


def test_overlapping_version_in_the_saved_index(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A version stretched over the next one in the saved index is caught before it misleads.

    Versions are derived, not logged, so the overlap is made in the index the catalog
    answers from: `col_valid_until.npy` of the live snapshot, edited in place and its
    checksums recomputed (as a faulty fold would have written it; plain damage is discarded).
    """
    snapshot = root / "projections" / (root / "projections" / "CURRENT").read_text().strip()
    valid_until = np.load(snapshot / "col_valid_until.npy", mmap_mode="r+")
    valid_from = np.load(snapshot / "col_valid_from.npy", mmap_mode="r")
    valid_until[0] = valid_from[1] + 86_400_000_000  # one day into the next version
    valid_until.flush()
    del valid_until, valid_from
    header = snapshot / "header.json"
    meta = json.loads(header.read_text())
    meta["checksums"]["col_valid_until.npy"] = xxhash.xxh3_64_hexdigest(
        (snapshot / "col_valid_until.npy").read_bytes()
    )
    rest = {k: v for k, v in meta.items() if k != "self"}
    meta["self"] = xxhash.xxh3_64_hexdigest(json.dumps(rest, sort_keys=True).encode())
    header.write_text(json.dumps(meta))

    status, report = audit(root, capsys)

    assert status == 1
    (violation,) = failures(report)["contiguous-versions"]
    assert "overlaps the next" in violation["detail"]


def test_two_active_holders_of_a_symbol(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Listing a second instrument under a symbol still active breaks `one-holder`."""
    EventLog.open(root).append([_listed("sol-again", SOL, 8)])

    status, report = audit(root, capsys)

    assert status == 1
    (violation,) = failures(report)["one-holder"]
    assert violation["detail"] == (f"{SOL} is held by sol and sol-again from {day(8).isoformat()}")


def test_change_effective_before_the_listing(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A change dated before its instrument's listing is reported with its id."""
    early = changed("sol", SOL, day(2), tick_size=Decimal("1"))
    recorded = EventLog.open(root).append([early])

    status, report = audit(root, capsys)

    assert status == 1
    (violation,) = failures(report)["listed-first"]
    assert violation["event_id"] == recorded[0].event_id
    assert violation["position"] == 9


def test_no_log_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Auditing a root without a log exits 2 with one line, not a clean report."""
    status = main(["--root", str(tmp_path / "nothing"), "audit"])

    assert status == 2
    assert "no catalog at" in capsys.readouterr().err
