"""The vectorized log audit: same bytes as the codec, and each kind of damage named.

`eventstore.encoding.canonical_text` rebuilds payloads and link texts with Arrow kernels; the
property test holds it to `codec.payload_bytes` on any event (escapes, exponents, explicit nulls).
The damage tests feed stored rows, damaged in memory, to `audit_rows`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
from builders import changed, day, delisted, exchange_listed, listed, observed, renamed, retracted
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import replace
from profiles import examples

from eventstore import (
    INSTRUMENT_FIELDS,
    EventLog,
    ExchangeChanged,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
)
from eventstore.audit.findings import MAX_KEPT, Findings
from eventstore.audit.log_audit import LOG_CHECKS, audit_log, audit_rows
from eventstore.encoding.canonical_text import kind_codes, link_texts, payloads
from eventstore.encoding.codec import (
    compute_event_id,
    decode_row,
    link_hash,
    payload_bytes,
    rfc3339,
)
from eventstore.encoding.row_shape import named_columns
from eventstore.encoding.schema import SCHEMA
from eventstore.encoding.table import to_table
from eventstore.model.events import DECIMAL_FIELDS, TIME_FIELDS

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventstore import Event

Rows = list[dict[str, Any]]
_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]),
    min_size=1,
    max_size=6,
).filter(str.strip) | st.sampled_from(
    ['a"b', "back\\slash", "tab\there", "line\nbreak", "\x01", "é€😀"]
)
_DECIMAL = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=18, allow_nan=False
) | st.sampled_from([Decimal(0), Decimal("1E-7"), Decimal("0.000001"), Decimal("-2.5E-12")])
_INSTANT = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
) | st.just(datetime(2024, 1, 1, tzinfo=UTC))


def _value(field: str) -> st.SearchStrategy[Any]:
    if field in DECIMAL_FIELDS:
        return st.none() | _DECIMAL
    if field in TIME_FIELDS:
        return st.none() | _INSTANT
    if field == "inverse":
        return st.none() | st.booleans()
    return st.none() | _TEXT


def _fields() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(INSTRUMENT_FIELDS), st.none(), min_size=1).flatmap(
        lambda keys: st.fixed_dictionaries({k: _value(k) for k in keys})
    )


def _envelope(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "instrument_id": draw(_TEXT),
        "symbol": draw(_TEXT),
        "effective_at": draw(_INSTANT),
        "source": draw(_TEXT),
    }


@st.composite
def any_event(draw: st.DrawFn) -> Event:
    """Draw an event of any instrument kind, with awkward text, numbers and instants."""
    kind = draw(st.sampled_from(["listed", "changed", "delisted", "exchange"]))
    if kind == "listed":
        return InstrumentListed(**_envelope(draw), **draw(_fields()))
    if kind == "changed":
        return InstrumentChanged(**_envelope(draw), changes=draw(_fields()))
    if kind == "delisted":
        status = draw(st.sampled_from(["delisted", "expired"]))
        return InstrumentDelisted(**_envelope(draw), reason=draw(_TEXT), status=status)
    return ExchangeChanged(
        exchange=draw(_TEXT),
        effective_at=draw(_INSTANT),
        source="t",
        is_crypto=draw(st.none() | st.booleans()),
        description=draw(st.none() | _TEXT),
    )


@settings(max_examples=examples(60), deadline=None)
@given(
    st.lists(any_event(), min_size=1, max_size=6),
    st.lists(st.none() | st.integers(0, 10**12), min_size=6, max_size=6),
)
def test_vectorized_payloads_and_links_equal_the_codec(
    batch: list[Event], earlier: list[int | None]
) -> None:
    """Payloads and link texts built by Arrow kernels are byte for byte the codec's: an
    observed_at before recorded_at (`earlier` microseconds) adds its line after the
    stream version, one equal to it (None here) adds none."""
    rows = _recorded_rows(batch, earlier)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    kinds = kind_codes(table["kind"].combine_chunks())

    built = payloads(table, kinds, named_columns(table))
    links = link_texts(table, built.cast(pa.binary()))

    for row, payload, text in zip(rows, built.to_pylist(), links.to_pylist(), strict=True):
        event = decode_row(row)
        assert payload.encode() == payload_bytes(event)
        prefix = "\n".join(
            [row["prev_hash"], row["event_id"], str(row["position"]), rfc3339(row["recorded_at"])]
        )
        observed = rfc3339(row["observed_at"])
        line = "" if observed == rfc3339(row["recorded_at"]) else f"{observed}\n"
        assert text == f"{prefix}\n{row['stream_version']}\n{line}".encode() + payload_bytes(event)
        assert (line != "") == (earlier[row["position"]] not in (None, 0))


def _recorded_rows(batch: list[Event], earlier: list[int | None] | None = None) -> Rows:
    """Return `batch` as the rows a log stores, with an envelope (links need not verify);
    each event observed `earlier` microseconds before it was recorded (None: when recorded)."""
    before = earlier or [None] * len(batch)
    recorded = [
        replace(
            event,
            event_id=compute_event_id(event),
            observed_at=datetime(2025, 1, 1, 0, 0, n, tzinfo=UTC)
            - timedelta(microseconds=before[n] or 0),
            recorded_at=datetime(2025, 1, 1, 0, 0, n, tzinfo=UTC),
            position=n,
            stream_version=1,
            prev_hash="0" * 64,
            hash="f" * 64,
        )
        for n, event in enumerate(batch)
    ]
    rows: Rows = to_table(recorded).to_pylist()
    return sorted(rows, key=lambda row: row["position"])


@pytest.fixture(scope="module")
def clean_rows(tmp_path_factory: pytest.TempPathFactory) -> Rows:
    """Return a small clean log's rows: every instrument kind, a retraction, three commits."""
    log = EventLog.open(tmp_path_factory.mktemp("audit"))
    log.append([exchange_listed(), listed(1), listed(2)])
    first = log.append(
        [changed(1), observed(changed(2, lot_size="1", min_notional=None), day(1, 6))]
    )
    log.append(
        [delisted(2), renamed(1, None, "BINANCE:ONE"), retracted(first[0].event_id or "", stream=1)]
    )
    rows: Rows = log.read().to_pylist()
    return rows


def _audit(rows: Rows) -> set[tuple[str, int | None]]:
    report = audit_rows(pa.Table.from_pylist(rows, schema=SCHEMA))
    return {(v.check, v.position) for check in report.checks for v in check.violations}


def test_clean_rows_pass_every_check(clean_rows: Rows) -> None:
    """An untouched log has no violation in any of the declared checks."""
    report = audit_rows(pa.Table.from_pylist(clean_rows, schema=SCHEMA))

    assert report.ok
    assert report.events == 8
    assert [check.name for check in report.checks] == list(LOG_CHECKS)


def test_row_order_in_files_does_not_matter(clean_rows: Rows) -> None:
    """Rows are checked in position order whatever order the files give them in."""
    assert _audit(clean_rows[::-1]) == set()


def _observed_late(position: int) -> Callable[[Rows], Rows]:
    """Return the damage that dates a row's observation a second after its recording."""

    def damage(rows: Rows) -> Rows:
        rows[position]["observed_at"] = rows[position]["recorded_at"] + timedelta(seconds=1)
        return rows

    return damage


def _set(position: int, column: str, value: Callable[[Any], Any]) -> Callable[[Rows], Rows]:
    def damage(rows: Rows) -> Rows:
        rows[position] = {**rows[position], column: value(rows[position][column])}
        return rows

    return damage


_NOWHERE = "00000000-0000-5000-8000-000000000000"


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        pytest.param(
            lambda rows: rows[:2] + rows[3:],
            {("position", 2), ("chain", 3), ("known-stream", 4), ("stream-version", 4)},
            id="lost-listing",
        ),
        pytest.param(
            lambda rows: [*rows, rows[4]],
            {("position", 4), ("unique-id", 4), ("stream-version", 4), ("chain", 4)},
            id="duplicated-event",
        ),
        pytest.param(_set(3, "prev_hash", lambda h: "0" * 64), {("chain", 3), ("hash", 3)}),
        pytest.param(_set(2, "hash", lambda h: "f" * 64), {("hash", 2), ("chain", 3)}),
        pytest.param(
            _set(6, "recorded_at", lambda t: t - timedelta(days=1)),
            {("recorded-at", 6), ("hash", 6), ("observed-at", 6)},
            id="recorded-at-backwards",  # its observed_at (then equal) is now after it too
        ),
        pytest.param(
            _observed_late(4),
            {("observed-at", 4), ("hash", 4)},
            id="observed-after-recorded",
        ),
        pytest.param(
            _set(4, "observed_at", lambda t: t - timedelta(days=365)),
            {("hash", 4)},
            id="observed-at-edited",  # hashed, yet not part of the id
        ),
        pytest.param(
            _set(3, "stream_version", lambda v: v + 1),
            {("stream-version", 3), ("stream-version", 6), ("hash", 3)},
            id="stream-version-gap",
        ),
        pytest.param(
            _set(1, "quote", lambda q: "USDC"), {("event-id", 1), ("hash", 1)}, id="edited-value"
        ),
        pytest.param(
            _set(1, "event_id", lambda i: _NOWHERE),
            {("event-id", 1), ("hash", 1)},
            id="replaced-id",
        ),
        pytest.param(
            _set(2, "kind", lambda k: "InstrumentSplit"),
            {("decode", 2), ("known-stream", 2)},
            id="bad-kind",
        ),
        pytest.param(_set(0, "schema_version", lambda v: 3), {("decode", 0)}, id="newer-schema"),
        pytest.param(_set(3, "quote", lambda q: "USDC"), {("decode", 3)}, id="stray-value"),
        pytest.param(
            _set(7, "target", lambda t: _NOWHERE),
            {("retraction-target", 7), ("event-id", 7), ("hash", 7)},
            id="retraction-to-nowhere",
        ),
    ],
)
def test_each_kind_of_damage_is_reported(
    clean_rows: Rows, damage: Callable[[Rows], Rows], expected: set[tuple[str, int | None]]
) -> None:
    """Each damage to the stored rows yields exactly the violations that describe it."""
    found = _audit(damage([dict(row) for row in clean_rows]))

    assert found == expected


def test_missing_commit_names_the_commit(tmp_path: Any) -> None:
    """A deleted commit file in the middle of the Delta log fails `readable` with its number."""
    log = EventLog.open(tmp_path)
    for n in range(1, 4):
        log.append([listed(n)])
    (tmp_path / "events" / "_delta_log" / f"{1:020d}.json").unlink()

    report = audit_log(EventLog.open(tmp_path))

    (readable,) = [check for check in report.checks if not check.ok]
    assert readable.name == "readable"
    assert readable.violations[0].detail == "commit 1 is missing from the Delta log"
    assert report.events == 0


def test_findings_keep_a_bounded_number_but_count_all() -> None:
    """A check with more violations than it keeps still counts every one of them."""
    findings = Findings({"hash": "each hash recomputes"})

    findings.add_each("hash", list(range(MAX_KEPT + 5)), lambda n: (n, None, "bad"))

    (result,) = findings.results()
    assert result.count == MAX_KEPT + 5
    assert len(result.violations) == MAX_KEPT
    assert not result.ok


def test_link_hash_of_a_stored_row_matches_its_hash(clean_rows: Rows) -> None:
    """The rows under audit are real: each stored hash is the link of its own content."""
    row = clean_rows[4]
    event = decode_row(row)

    link = link_hash(
        row["prev_hash"],
        row["event_id"],
        row["position"],
        rfc3339(row["recorded_at"]),
        row["stream_version"],
        payload_bytes(event),
        rfc3339(row["observed_at"]),
    )

    assert link == row["hash"]
