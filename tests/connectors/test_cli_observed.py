"""observed_at from the command line: sync and replay, append, import-scd2, --recorded-by.

Each bad input (a naive observed_at, one after now, an unknown --observed-from) exits 2
with one `catalog: error:` line and appends nothing: the log's length is checked after.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from builders import day
from test_cli import BTC, FIRST_RECORDED, assert_one_line_error, filled, line, root, run

from connectors.replay.driver import replay
from connectors.sync.syncer import SyncOptions
from eventstore import EventLog
from projections import Catalog

__all__ = ["filled", "root"]  # the fixtures, shared with test_cli

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data" / "samples"
#: The bundled snapshot that first shows BINANCE:BTCUSDC in BREAK, and the one before it.
BREAK_SEEN = datetime(2022, 12, 17, 7, 22, 15, 346000, tzinfo=UTC)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a catalog filled today by replaying the bundled samples."""
    root = tmp_path_factory.mktemp("replayed")
    asyncio.run(replay(str(root), SAMPLES, SyncOptions(max_delist_share=0.5)))
    return root


def test_a_replay_observes_every_event_at_its_snapshot_time(replayed: Path) -> None:
    """observed_at is each snapshot's observation time, long before the replay recorded it;
    a second replay appends nothing and keeps the first observations."""
    log = EventLog.open(replayed)
    rows = log.read(["observed_at", "recorded_at", "instrument_id", "kind"])
    observed = set(rows["observed_at"].to_pylist())
    assert max(observed) < min(rows["recorded_at"].to_pylist())
    assert len(observed) >= 8  # one per snapshot (a spot snapshot has the venue's own clock)
    assert datetime(2022, 7, 23, 8, 18, tzinfo=UTC) in observed  # snapshot.json's
    btcusdc = rows.filter(pa.compute.equal(rows["instrument_id"], "binance:spot:BTCUSDC"))
    assert BREAK_SEEN in btcusdc["observed_at"].to_pylist()
    before = len(log)
    asyncio.run(replay(str(replayed), SAMPLES, SyncOptions(max_delist_share=0.5)))
    assert len(log) == before
    assert set(log.read(["observed_at"])["observed_at"].to_pylist()) == observed


def test_known_at_between_two_snapshots_of_the_replay(replayed: Path) -> None:
    """Just before the BREAK snapshot the pair still traded; from it on it was delisted."""
    catalog = Catalog.open(replayed)
    at = "2023-01-01T00:00:00Z"
    before = catalog.get("BINANCE:BTCUSDC", at, known_at=BREAK_SEEN - timedelta(microseconds=1))
    after = catalog.get("BINANCE:BTCUSDC", at, known_at=BREAK_SEEN)
    assert before is not None
    assert after is not None
    assert (before.active, before.status) == (True, "trading")
    assert (after.active, after.status, after.known_since) == (False, "delisted", BREAK_SEEN)
    assert catalog.get("BINANCE:BTCUSDC", at, recorded_by=BREAK_SEEN) is None


def test_a_venue_clock_ahead_of_ours_is_observed_now(tmp_path: Path) -> None:
    """A snapshot dated after now is observed now: the log never refuses a sync for it."""
    future = datetime.now(UTC) + timedelta(days=1)
    ahead = tmp_path / "samples" / "2999-ahead"
    ahead.mkdir(parents=True)
    shutil.copytree(SAMPLES / "2020-10-07-subset" / "binance-spot", ahead / "binance-spot")
    (ahead / "snapshot.json").write_text(json.dumps({"observed_at": future.isoformat()}))
    asyncio.run(replay(str(tmp_path / "lake"), ahead.parent, SyncOptions()))
    rows = EventLog.open(tmp_path / "lake").read(["observed_at", "recorded_at"])
    assert rows.num_rows > 0
    for observed, recorded in zip(
        rows["observed_at"].to_pylist(), rows["recorded_at"].to_pylist(), strict=True
    ):
        assert observed <= recorded < future


def _append(capsys: pytest.CaptureFixture[str], root: Path, text: str) -> tuple[int, str, str]:
    path = root.parent / "events.jsonl"
    path.write_text(text + "\n")
    return run(capsys, "--root", str(root), "append", str(path))


def test_append_observes_at_the_append_unless_the_line_says(
    capsys: pytest.CaptureFixture[str], filled: Path
) -> None:
    """A line without observed_at is observed when appended; one with it keeps it."""
    plain = {"kind": "InstrumentChanged", "instrument_id": "btc", "symbol": BTC}
    said = {**plain, "observed_at": "2024-02-01T00:00:00Z", "effective_at": "2024-02-01T00:00:00Z"}
    text = "\n".join(
        [
            line({**plain, "changes": {"description": "a"}}),
            line({**said, "changes": {"sector": "x"}}),
        ]
    )
    status, _, err = _append(capsys, filled, text)
    assert (status, err) == (0, "")
    rows = EventLog.open(filled).read(["position", "observed_at", "recorded_at"]).slice(4)
    first, second = rows.to_pylist()
    assert first["observed_at"] == first["recorded_at"]
    assert second["observed_at"] == datetime(2024, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("observed", "said"),
    [
        pytest.param("2024-02-01T00:00:00", "observed_at", id="naive"),
        pytest.param("2999-01-01T00:00:00Z", "is after now", id="after-now"),
    ],
)
def test_append_refuses_a_bad_observation_and_appends_nothing(
    capsys: pytest.CaptureFixture[str], filled: Path, observed: str, said: str
) -> None:
    """A naive observed_at, or one after now: exit 2, one line naming line 2, nothing added."""
    change = {"kind": "InstrumentChanged", "instrument_id": "btc", "symbol": BTC}
    good = line({**change, "changes": {"description": "a"}})
    bad = line({**change, "changes": {"sector": "x"}, "observed_at": observed})
    status, _, err = _append(capsys, filled, f"{good}\n{bad}")
    assert status == 2
    assert_one_line_error(err, "line 2", said)
    assert len(EventLog.open(filled)) == 4


def _scd2(path: Path, updated: list[datetime]) -> Path:
    table = pa.table(
        {
            "instrument_id": ["btc", "btc"],
            "symbol": [BTC, BTC],
            "active": [True, True],
            "valid_from": pa.array([day(0), day(30)], pa.timestamp("us", "UTC")),
            "valid_until": pa.array([day(30), None], pa.timestamp("us", "UTC")),
            "updated_at": pa.array(updated, pa.timestamp("us", "UTC")),
            "tick_size": [0.01, 0.1],
        }
    )
    pq.write_table(table, path)
    return path


def test_import_observes_at_the_import_or_at_updated_at_when_told(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Default: observed when imported; --observed-from updated_at: each version's own."""
    file = _scd2(tmp_path / "symbols.parquet", [day(1), day(31)])
    plain, told = tmp_path / "plain", tmp_path / "told"
    assert run(capsys, "--root", str(plain), "import-scd2", str(file))[0] == 0
    argv = ["--root", str(told), "import-scd2", str(file), "--observed-from", "updated_at"]
    assert run(capsys, *argv)[0] == 0

    imported = EventLog.open(plain).read(["observed_at", "recorded_at"])
    assert imported["observed_at"].to_pylist() == imported["recorded_at"].to_pylist()
    assert EventLog.open(told).read(["position", "observed_at"])["observed_at"].to_pylist() == [
        day(1),
        day(31),
    ]
    catalog = Catalog.open(told)
    old = catalog.get(BTC, day(40), known_at=day(20))
    assert old is not None
    assert str(old.tick_size) == "0.01"
    assert catalog.get(BTC, day(40), known_at=day(0)) is None


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        pytest.param(["--observed-from", "updated_at"], "after now", id="updated-after-now"),
        pytest.param(["--observed-from", "valid_from"], "invalid choice", id="unknown-column"),
    ],
)
def test_import_refuses_a_bad_observation_and_appends_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: list[str], said: str
) -> None:
    """An updated_at after now, or an unknown --observed-from: exit 2, one line, no log."""
    file = _scd2(tmp_path / "symbols.parquet", [day(1), datetime(2999, 1, 1, tzinfo=UTC)])
    root = tmp_path / "lake"
    status, _, err = run(capsys, "--root", str(root), "import-scd2", str(file), *extra)
    assert status == 2
    assert_one_line_error(err, said)
    assert len(EventLog.open(root)) == 0


def test_query_commands_take_recorded_by(capsys: pytest.CaptureFixture[str], filled: Path) -> None:
    """--recorded-by before the first commit: nothing; at it: the first answer."""
    before = (FIRST_RECORDED - timedelta(seconds=1)).isoformat()
    at = FIRST_RECORDED.isoformat()
    status, out, _ = run(
        capsys, "--root", str(filled), "get", BTC, "--as-of", "2024-08-01T00:00:00Z",
        "--recorded-by", before,
    )  # fmt: skip
    assert status == 1
    assert "as recorded by 2024-01-01 00:00:04Z" in out
    status, out, _ = run(
        capsys, "--root", str(filled), "--json", "get", BTC, "--as-of", "2024-08-01T00:00:00Z",
        "--recorded-by", at,
    )  # fmt: skip
    assert status == 0
    assert json.loads(out)["tick_size"] == "0.01"
    for command in (
        ["universe", "--as-of", "2024-02-01T00:00:00Z"],
        ["history", "btc"],  # the instrument: known, with no version recorded yet
        ["changes", "--since", "2024-01-01T00:00:00Z", "--until", "2025-01-01T00:00:00Z"],
    ):
        status, out, _ = run(
            capsys, "--root", str(filled), "--json", *command, "--recorded-by", before
        )
        assert (status, json.loads(out)) == (0, []), command
    status, _, err = run(
        capsys, "--root", str(filled), "history", BTC, "--recorded-by", "2024-01-01T00:00:00"
    )
    assert status == 2
    assert_one_line_error(err, "--recorded-by", "has no time zone")
