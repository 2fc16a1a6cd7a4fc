"""`observed_at`, the third instant: set by the caller or by the log, hashed, not in the id.

A log written before the column (schema version 1) reads `observed_at = recorded_at`, its
hashes still verify (an `observed_at` equal to `recorded_at` adds nothing to the hashed
text), and its next append gains the column.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest
from builders import T0, changed, day, listed, observed
from deltalake import DeltaTable, write_deltalake

from eventstore import (
    EventLog,
    InstrumentListed,
    InvalidEventError,
    NaiveTimestampError,
    compute_event_id,
    verify_chain,
)
from eventstore.audit.log_audit import audit_log
from eventstore.encoding.table import to_table

if TYPE_CHECKING:
    from pathlib import Path

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
#: The id and hash the code before `observed_at` gave this event, appended at NOW.
LEGACY_ID = "251094de-d1f1-59b5-b716-712ea4dd855c"
LEGACY_HASH = "699761656ee3c34588315449afea805730e731bdeeb54490474e9f4e072d36e0"


def _log(root: Path) -> EventLog:
    return EventLog.open(root, clock=lambda: NOW)


def _legacy_event() -> InstrumentListed:
    return InstrumentListed(
        instrument_id="i1", symbol="X:A", effective_at=T0, source="t", status="trading"
    )


def test_an_event_left_unobserved_is_observed_when_recorded(tmp_path: Path) -> None:
    """observed_at None: the log sets it to the recorded_at it assigns, and stores it."""
    (recorded,) = _log(tmp_path).append([listed(1)])

    assert recorded.observed_at == recorded.recorded_at == NOW
    assert _log(tmp_path).read(["observed_at"])["observed_at"].to_pylist() == [NOW]


def test_a_given_observation_is_kept_hashed_and_outside_the_id(tmp_path: Path) -> None:
    """The caller's observed_at is stored; the id is that of the bare fact; the hash covers it."""
    log = _log(tmp_path)
    (recorded,) = log.append([observed(listed(1), day(10))])

    assert recorded.observed_at == day(10)
    assert recorded.event_id == compute_event_id(listed(1))
    (stored,) = log.events()
    assert stored == recorded
    assert verify_chain(log.read()) == []
    assert audit_log(log).ok
    edited = log.read().to_pylist()
    edited[0]["observed_at"] = day(11)
    assert [v.check for v in verify_chain(edited)] == ["hash"]


def test_the_same_fact_observed_again_is_one_event_and_the_first_observation_stays(
    tmp_path: Path,
) -> None:
    """A later (or earlier) observation of a stored fact appends nothing; the stored one wins."""
    log = _log(tmp_path)
    log.append([observed(listed(1), day(10))])

    again = log.append([observed(listed(1), day(20)), observed(listed(1), day(5))])

    assert again.appended == 0
    assert [e.observed_at for e in again] == [day(10), day(10)]
    assert len(log) == 1
    twice = log.append([observed(changed(1), day(30)), observed(changed(1), day(31))])
    assert twice.appended == 1
    assert [e.observed_at for e in twice] == [day(30), day(30)]


def test_an_observation_after_the_recording_is_refused_and_nothing_is_appended(
    tmp_path: Path,
) -> None:
    """observed_at after the recorded_at the log would assign: one clear line, no commit."""
    log = _log(tmp_path)
    log.append([listed(1)])
    later = NOW + timedelta(microseconds=1)

    with pytest.raises(InvalidEventError, match=r"observed_at: .* is after the time the log") as e:
        log.append([changed(1), observed(listed(2), later)])

    assert "\n" not in str(e.value)
    assert len(log) == 1
    assert log.version() == 0


def test_a_naive_observation_is_refused_on_construction() -> None:
    """A naive observed_at raises NaiveTimestampError (a TypeError) naming the field."""
    with pytest.raises(NaiveTimestampError, match="observed_at"):
        observed(listed(1), datetime(2024, 1, 1))
    with pytest.raises(NaiveTimestampError, match="observed_at"):
        InstrumentListed(
            instrument_id="i1",
            symbol="X:A",
            effective_at=T0,
            source="t",
            observed_at=1_700_000_000,  # type: ignore[arg-type]
        )


def _old_log(root: Path) -> None:
    """Write a one-event log as the code before `observed_at` did: schema version 1, no column."""
    scratch = _log(root / "scratch")
    scratch.append([_legacy_event()])
    table = to_table(scratch.events()).drop_columns(["observed_at"])
    version = table.schema.get_field_index("schema_version")
    ones = pa.array([1] * table.num_rows, pa.int32())
    old = table.set_column(version, table.schema.field(version), ones)
    write_deltalake(str(root / "old" / "events"), old)


def test_a_log_written_before_observed_at_reads_it_as_recorded_at_and_verifies(
    tmp_path: Path,
) -> None:
    """The old row keeps the hash the old code gave it; it reads observed_at = recorded_at."""
    _old_log(tmp_path)
    log = _log(tmp_path / "old")
    assert "observed_at" not in DeltaTable(log.uri).schema().to_arrow().names

    rows = log.read()
    assert rows["hash"].to_pylist() == [LEGACY_HASH]
    assert rows["event_id"].to_pylist() == [LEGACY_ID]
    assert rows["observed_at"].to_pylist() == rows["recorded_at"].to_pylist() == [NOW]
    assert log.read(["observed_at"]).column_names == ["observed_at"]
    (event,) = log.events()
    assert event.observed_at == NOW
    assert verify_chain(rows) == []
    assert audit_log(log).ok


def test_an_append_to_an_old_log_gains_the_column_and_both_generations_verify(
    tmp_path: Path,
) -> None:
    """After the first append the old file reads observed_at = recorded_at, the new its own."""
    _old_log(tmp_path)
    log = _log(tmp_path / "old")

    log.append([observed(changed("i1", "X:A", day(1), tick_size="0.1"), day(2))])

    assert "observed_at" in DeltaTable(log.uri).schema().to_arrow().names
    rows = log.read(["position", "schema_version", "observed_at"])
    assert rows["schema_version"].to_pylist() == [1, 2]
    assert rows["observed_at"].to_pylist() == [NOW, day(2)]
    for part in log.read_files(["position", "observed_at"]):
        assert part["observed_at"].null_count == 0
    assert [b.num_rows for b in log.read_batches(["observed_at"])] != []
    assert verify_chain(log.read()) == []
    assert audit_log(log).ok
