"""verify_chain on stored rows: a clean log passes, each kind of damage is named."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from builders import changed, day, exchange_listed, listed, observed

from eventstore import ChainViolation, EventLog, verify_chain

if TYPE_CHECKING:
    from collections.abc import Callable

    import pyarrow as pa

Rows = list[dict[str, Any]]


@pytest.fixture(scope="module")
def clean_table(tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    """Return a small clean log's table: five events over three streams, two commits."""
    log = EventLog.open(tmp_path_factory.mktemp("chain"))
    log.append([exchange_listed(), listed(1), listed(2)])
    log.append([observed(changed(1), day(1, 6)), changed(2, lot_size="1")])
    return log.read()


def test_clean_rows_have_no_violation(clean_table: pa.Table) -> None:
    """verify_chain returns [] for an untouched log, as a table or as an iterable of rows."""
    assert verify_chain(clean_table) == []
    assert verify_chain(iter(clean_table.to_pylist())) == []


def test_table_rows_are_checked_in_position_order(clean_table: pa.Table) -> None:
    """A table is sorted by position before checking, so row order in files does not matter."""
    shuffled = clean_table.take([3, 0, 4, 1, 2])

    assert verify_chain(shuffled) == []


def _swap(rows: Rows) -> Rows:
    rows[1], rows[2] = rows[2], rows[1]
    return rows


def _observed_late(index: int) -> Callable[[Rows], Rows]:
    """Return the damage that dates a row's observation a second after its recording."""

    def damage(rows: Rows) -> Rows:
        rows[index]["observed_at"] = rows[index]["recorded_at"] + timedelta(seconds=1)
        return rows

    return damage


def _set(index: int, column: str, value: Callable[[Any], Any]) -> Callable[[Rows], Rows]:
    def damage(rows: Rows) -> Rows:
        rows[index][column] = value(rows[index][column])
        return rows

    return damage


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        pytest.param(
            lambda rows: rows[:2] + rows[3:],
            {("position", 3), ("chain", 3), ("stream-version", 4)},
            id="lost-event",
        ),
        pytest.param(
            lambda rows: [*rows, rows[-1]],
            {("position", 4), ("unique-id", 4), ("stream-version", 4), ("chain", 4)},
            id="duplicated-event",
        ),
        pytest.param(
            _swap,
            {("position", p) for p in (2, 1, 3)} | {("chain", p) for p in (2, 1, 3)},
            id="reordered-rows",
        ),
        pytest.param(
            _set(3, "prev_hash", lambda h: "0" * 64),
            {("chain", 3), ("hash", 3)},
            id="broken-prev-hash",
        ),
        pytest.param(_set(4, "hash", lambda h: "f" * 64), {("hash", 4)}, id="forged-last-hash"),
        pytest.param(
            _set(2, "hash", lambda h: "f" * 64), {("hash", 2), ("chain", 3)}, id="forged-hash"
        ),
        pytest.param(
            _set(4, "recorded_at", lambda t: t - timedelta(days=1)),
            {("recorded-at", 4), ("hash", 4), ("observed-at", 4)},
            id="recorded-at-backwards",  # its observed_at (then equal) is now after it too
        ),
        pytest.param(
            _observed_late(3),
            {("observed-at", 3), ("hash", 3)},
            id="observed-after-recorded",
        ),
        pytest.param(
            _set(3, "observed_at", lambda t: t - timedelta(days=365)),
            {("hash", 3)},
            id="observed-at-edited",  # hashed, yet not part of the id
        ),
        pytest.param(
            _set(3, "stream_version", lambda v: v + 1),
            {("stream-version", 3), ("hash", 3)},
            id="stream-version-gap",
        ),
        pytest.param(
            _set(1, "quote", lambda q: "USDC"), {("event-id", 1), ("hash", 1)}, id="edited-value"
        ),
        pytest.param(
            _set(1, "event_id", lambda i: "00000000-0000-5000-8000-000000000000"),
            {("event-id", 1), ("hash", 1)},
            id="replaced-id",
        ),
        pytest.param(_set(2, "kind", lambda k: "InstrumentSplit"), {("decode", 2)}, id="bad-kind"),
        pytest.param(_set(0, "schema_version", lambda v: 3), {("decode", 0)}, id="newer-schema"),
    ],
)
def test_each_kind_of_damage_is_reported(
    clean_table: pa.Table, damage: Callable[[Rows], Rows], expected: set[tuple[str, int]]
) -> None:
    """Each damage to the stored rows yields exactly the violations that describe it."""
    rows = damage(clean_table.to_pylist())

    found = verify_chain(rows)

    assert {(v.check, v.position) for v in found} == expected


def test_violation_reads_as_one_line(clean_table: pa.Table) -> None:
    """A violation names its check, position, event id and what is wrong."""
    rows = clean_table.to_pylist()
    rows[1]["quote"] = "USDC"

    first = verify_chain(rows)[0]

    assert isinstance(first, ChainViolation)
    assert str(first) == (
        f"[event-id] position 1 ({rows[1]['event_id']}): the id does not match the event's content"
    )
