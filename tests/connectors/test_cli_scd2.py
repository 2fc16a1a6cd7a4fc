"""`catalog export` and `catalog import-scd2`, run in-process through `main`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from builders import T0, changed, listed

from connectors.cli.main import main
from eventstore import EventLog
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

JAN = T0
JUN = datetime(2024, 6, 1, tzinfo=UTC)
FAR = datetime(9999, 12, 31, tzinfo=UTC)


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    """Return a root holding BTC (tick 0.01, then 0.1 from June)."""
    root = tmp_path / "lake"
    EventLog.open(root).append(
        [
            listed("btc", "BINANCE:BTCUSDT", JAN, tick_size=Decimal("0.01")),
            changed("btc", "BINANCE:BTCUSDT", JUN, tick_size=Decimal("0.1")),
        ]
    )
    return root


def test_export_writes_one_row_per_version_in_the_older_layout(
    filled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """export DIR writes symbols.parquet with valid_from/valid_until/updated_at/active in UTC."""
    out = tmp_path / "out"

    assert main(["--root", str(filled), "export", str(out), "--delta"]) == 0

    symbols = pq.read_table(out / "symbols.parquet")
    assert symbols.column("valid_from").to_pylist() == [JAN, JUN]
    assert symbols.column("valid_until").to_pylist() == [JUN, FAR]
    assert symbols.column("active").to_pylist() == [True, True]
    assert symbols.schema.field("updated_at").type == pa.timestamp("us", tz="UTC")
    assert (out / "delta" / "symbols" / "_delta_log").is_dir()
    assert "wrote 2 versions" in capsys.readouterr().out


def test_export_and_import_show_their_progress_on_stderr(
    filled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not on a terminal: a plain line per stage of the export and per batch of the import;
    stdout keeps the answer alone; `--quiet` says nothing on stderr."""
    out, copy = tmp_path / "out", tmp_path / "copy"
    assert main(["--root", str(filled), "export", str(out)]) == 0
    answer, err = capsys.readouterr()
    assert err.splitlines() == [
        "export: reading the log and building the versions (1/3)",
        "export: writing symbols (2 versions) (2/3)",
        "export: writing exchanges (0 versions) (3/3)",
    ]
    assert "export:" not in answer
    assert main(["--root", str(copy), "import-scd2", str(out / "symbols.parquet")]) == 0
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("2/2 events (")
    assert main(["--root", str(filled), "export", str(out), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    again = ["--root", str(copy), "import-scd2", str(out / "symbols.parquet"), "--quiet"]
    assert main(again) == 0
    assert capsys.readouterr().err == ""


def test_import_of_an_export_answers_the_same(filled: Path, tmp_path: Path) -> None:
    """import-scd2 of an exported file gives a catalog with the same versions."""
    out, copy = tmp_path / "out", tmp_path / "copy"
    assert main(["--root", str(filled), "export", str(out)]) == 0

    assert main(["--root", str(copy), "import-scd2", str(out / "symbols.parquet")]) == 0

    for at in (JAN, JUN):
        want, got = (
            Catalog.open(filled).get("BINANCE:BTCUSDT", at),
            Catalog.open(copy).get("BINANCE:BTCUSDT", at),
        )
        assert got is not None
        assert want is not None
        assert (got.tick_size, got.valid_from) == (want.tick_size, want.valid_from)


def older_file(path: Path, *, naive: bool = False) -> Path:
    """Write a file of the older pattern: float fields, one symbol active twice at once,
    overlapping versions of one instrument."""
    kind = pa.timestamp("us") if naive else pa.timestamp("us", tz="UTC")
    table = pa.table(
        {
            "instrument_id": ["a", "a", "b"],
            "symbol": ["X:A", "X:A", "X:A"],
            "active": [True, True, True],
            "tick_size": [0.01, 0.1, float("nan")],
            "valid_from": pa.array(
                [datetime(2024, 1, 1), datetime(2024, 2, 1), datetime(2024, 3, 1)], kind
            ),
            "valid_until": pa.array(
                [datetime(2024, 3, 1), datetime(9999, 12, 31), datetime(9999, 12, 31)], kind
            ),
            "legacy_flag": [1, 2, 3],
        }
    )
    pq.write_table(table, path)
    return path


def test_import_lists_overlaps_and_duplicate_active_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Overlapping versions and two active holders are imported as they are and listed."""
    path = older_file(tmp_path / "old.parquet")

    assert main(["--root", str(tmp_path / "lake"), "--json", "import-scd2", str(path)]) == 0

    report = json.loads(capsys.readouterr().out)
    kinds = sorted((d["kind"], tuple(d["rows"])) for d in report["defects"])
    assert kinds == [("duplicate_active", (1, 2)), ("overlap", (0, 1))]
    assert report["ignored_columns"] == ["legacy_flag"]
    catalog = Catalog.open(tmp_path / "lake")
    a = catalog.history("a")
    assert a.column("tick_size").to_pylist() == [Decimal("0.01"), Decimal("0.1")]
    assert catalog.history("b").column("tick_size").to_pylist() == [None]


def test_import_refuses_naive_timestamps_unless_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file without time zones is refused (exit 2, nothing appended) unless --naive-as-utc."""
    path = older_file(tmp_path / "old.parquet", naive=True)
    root = tmp_path / "lake"

    assert main(["--root", str(root), "import-scd2", str(path)]) == 2
    assert "--naive-as-utc" in capsys.readouterr().err
    assert not (root / "events").exists()
    assert main(["--root", str(root), "import-scd2", str(path), "--naive-as-utc"]) == 0
    assert Catalog.open(root).get("X:A", JUN) is not None


def test_import_dry_run_appends_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--dry-run lists the defects and counts the events, appending nothing."""
    path = older_file(tmp_path / "old.parquet")
    root = tmp_path / "lake"

    assert main(["--root", str(root), "import-scd2", str(path), "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert "defect: overlap (rows 0, 1)" in out
    assert "would append" in out
    assert not (root / "events").exists()


def test_import_of_an_unreadable_file_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that is not Parquet exits 2 with one line naming it."""
    path = tmp_path / "bad.parquet"
    path.write_text("not parquet")

    assert main(["--root", str(tmp_path / "lake"), "import-scd2", str(path)]) == 2
    assert "cannot be read as Parquet" in capsys.readouterr().err
