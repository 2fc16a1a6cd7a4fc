"""The bulk append path gives, bit for bit, what the one-event-at-a-time definitions give.

Canonical payloads, event ids, chain links, stream versions and the stored table are
computed for whole batches; each is checked here against its single-event definition in
`eventstore.encoding.codec` or against the reference table construction (`legacy_table`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
import pyarrow as pa
from builders import (
    T0,
    changed,
    exchange_changed,
    exchange_listed,
    listed,
    observed,
    retracted,
)
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from legacy_table import legacy_table
from profiles import examples

from eventstore import (
    INSTRUMENT_FIELDS,
    Event,
    EventLog,
    EventRetracted,
    ExchangeChanged,
    ExchangeListed,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
    compute_event_id,
    compute_hash,
    verify_chain,
)
from eventstore.encoding.codec import event_id_for, link_hash, payload_bytes, rfc3339
from eventstore.encoding.hashing import batch_event_ids, batch_payloads, chain_links, link_texts
from eventstore.encoding.schema import SCHEMA
from eventstore.encoding.table import PlannedEvents, to_table
from eventstore.log.planner import _Pass, plan_batch
from eventstore.log.tail import LogTail, id_key
from eventstore.log.versions import all_new_versions
from eventstore.model.events import DECIMAL_FIELDS, EXCHANGE_FIELDS, GENESIS_HASH, TIME_FIELDS

if TYPE_CHECKING:
    from pathlib import Path

NAMES = st.text(min_size=1, max_size=10).filter(str.strip)
TEXTS = st.text(max_size=10)
INSTANTS = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
)
LIMIT = Decimal("99999999999999999999.999999999999999999")  # 38 digits, 18 after the point
DIGITS = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
DECIMALS = st.one_of(  # from text: exact, where Decimal arithmetic would round past 28 digits
    DIGITS.map(lambda digits: Decimal(f"{digits}E-18")),
    st.builds(lambda n, k: Decimal(f"{n}E-{k}"), st.integers(-999, 999), st.integers(0, 18)),
    st.sampled_from(
        [
            *map(Decimal, ("1E-8", "1E-18", "12345678901234567890.123456789012345678")),
            *map(Decimal, ("0", "-0.000", "1E+5", "0.1")),
            LIMIT.copy_negate(),
            LIMIT,
        ]
    ),
)


def values(field: str) -> st.SearchStrategy[Any]:
    """Return the values an instrument or exchange field may take, null included."""
    if field in DECIMAL_FIELDS:
        return st.none() | DECIMALS
    if field in TIME_FIELDS:
        return st.none() | INSTANTS
    return st.none() | (st.booleans() if field in ("is_crypto", "inverse") else TEXTS)


def some_fields(names: tuple[str, ...], min_size: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Return dicts setting some of `names` (to any value, null included)."""
    keys = st.lists(st.sampled_from(names), min_size=min_size, unique=True)
    return keys.flatmap(lambda ks: st.fixed_dictionaries({k: values(k) for k in ks}))


def envelope(stream: st.SearchStrategy[str] = NAMES) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"instrument_id": stream, "symbol": NAMES, "effective_at": INSTANTS, "source": NAMES}
    )


def _listed(head: dict[str, Any], fields: dict[str, Any]) -> Event:
    return InstrumentListed(**head, **fields)


def _exchange(kind: type[Event], name: str, at: datetime, fields: dict[str, Any]) -> Event:
    return kind(exchange=name, effective_at=at, source="manual", **fields)  # type: ignore[call-arg]


def events(stream: st.SearchStrategy[str] = NAMES) -> st.SearchStrategy[Event]:
    """Return events of every kind."""
    head = envelope(stream)
    return st.one_of(
        st.builds(_listed, head, some_fields(INSTRUMENT_FIELDS)),
        st.builds(
            lambda h, c: InstrumentChanged(**h, changes=c),
            head,
            some_fields(INSTRUMENT_FIELDS, min_size=1),
        ),
        st.builds(
            lambda h, reason, status: InstrumentDelisted(
                **h, reason=reason, **({"status": status} if status else {})
            ),
            head,
            NAMES,
            st.none() | st.just("delisted") | NAMES,
        ),
        st.builds(
            lambda h, new: InstrumentRenamed(**h, new_symbol=new + "'"),  # never the symbol
            head,
            NAMES,
        ),
        st.builds(lambda h, t, r: EventRetracted(**h, target=t, reason=r), head, NAMES, NAMES),
        st.builds(
            _exchange, st.just(ExchangeListed), NAMES, INSTANTS, some_fields(EXCHANGE_FIELDS)
        ),
        st.builds(
            _exchange, st.just(ExchangeChanged), NAMES, INSTANTS, some_fields(EXCHANGE_FIELDS)
        ),
    )


def recorded(batch: list[Event], at: datetime) -> list[Event]:
    """Return `batch` with the envelope a log would give it, chained from genesis."""
    out: list[Event] = []
    prev = GENESIS_HASH
    for position, event in enumerate(batch):
        event = msgspec.structs.replace(
            event,
            event_id=compute_event_id(event),
            recorded_at=at,
            position=position,
            stream_version=position % 7 + 1,
            prev_hash=prev,
        )
        prev = compute_hash(event)
        out.append(msgspec.structs.replace(event, hash=prev))
    return out


def same_table(table: pa.Table, reference: pa.Table) -> None:
    assert table.schema.equals(SCHEMA)
    assert table.num_rows == reference.num_rows
    mine, theirs = table.sort_by("position"), reference.sort_by("position")
    assert mine.to_pylist() == theirs.to_pylist()
    assert mine.equals(theirs)


@settings(max_examples=examples(300), deadline=None)
@given(batch=st.lists(events(), min_size=1, max_size=12), at=INSTANTS)
def test_table_equals_the_reference_construction(batch: list[Event], at: datetime) -> None:
    """to_table gives the reference table for events of every kind, nulls and extremes."""
    same_table(to_table(recorded(batch, at)), legacy_table(recorded(batch, at)))


@settings(max_examples=examples(200), deadline=None)
@given(batch=st.lists(events(), min_size=1, max_size=12), at=INSTANTS)
def test_batch_ids_and_links_equal_the_single_event_definitions(
    batch: list[Event], at: datetime
) -> None:
    """Payloads, ids, keys and links of a batch equal those of its events one by one."""
    batch = batch + recorded(batch[:3], at)  # already recorded inputs: envelope ignored
    payloads = batch_payloads(batch)
    ids = batch_event_ids(payloads)
    versions = list(range(1, len(batch) + 1))
    texts = link_texts(ids.column, 40, rfc3339(at), pa.array(versions, pa.int64()), payloads)
    links = chain_links(GENESIS_HASH, texts)

    assert payloads == [payload_bytes(e) for e in batch]
    assert ids.text == [event_id_for(p) for p in payloads] == [compute_event_id(e) for e in batch]
    assert ids.keys.tolist() == [id_key(i) for i in ids.text]
    assert ids.column.to_pylist() == ids.text
    prev = GENESIS_HASH
    for n, (event_id, payload, link) in enumerate(zip(ids.text, payloads, links, strict=True)):
        assert link == link_hash(prev, event_id, 40 + n, rfc3339(at), n + 1, payload)
        prev = link


def _valid(batch: list[Event], tail: LogTail) -> list[Event]:
    """Return `batch` without retractions; streams it does not open become known to `tail`."""
    seen: set[str] = set()
    kept = [e for e in batch if not isinstance(e, EventRetracted)]
    for event in kept:
        opens = isinstance(event, (InstrumentListed, ExchangeListed))
        if event.instrument_id not in seen and not opens:
            tail.streams.setdefault(event.instrument_id, len(event.instrument_id))
        seen.add(event.instrument_id)
    return kept


#: When an input was observed, if it says: up to the planned recorded_at (2023-11-14).
OBSERVED = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2023, 11, 14), timezones=st.just(UTC)
)


@settings(max_examples=examples(150), deadline=None)
@given(
    batch=st.lists(events(st.sampled_from(["a", "b", "c", "d"])), min_size=1, max_size=20),
    repeats=st.integers(min_value=0, max_value=3),
    seen=st.lists(OBSERVED, min_size=20, max_size=20),
)
def test_plan_records_every_input_as_the_event_by_event_pass(
    batch: list[Event], repeats: int, seen: list[datetime | None]
) -> None:
    """Planned versions, ids, chain and table agree with the event-by-event definitions,
    observed inputs included (their observed_at is hashed, not part of the id)."""
    tail = LogTail(next_position=5, last_hash="f" * 64, streams={"b": 3})
    batch = [e if at is None else observed(e, at) for e, at in zip(batch, seen, strict=False)]
    batch = _valid(batch, tail)
    assume(batch)
    batch = batch + batch[:repeats]  # repeats within the batch take the full pass
    plan = plan_batch(batch, tail, {}, 1_700_000_000_000_000, lambda _: {})
    ids = batch_event_ids(batch_payloads(batch))
    steps = _Pass(tail, lambda _: {}, batch, ids.text).run([False] * len(batch))
    fast = all_new_versions(batch, ids.keys, np.zeros(len(batch), bool), tail.streams)

    if fast is not None:
        assert (fast.versions, fast.streams) == (steps.versions, steps.streams)
    assert [e.stream_version for e in plan.new] == steps.versions
    assert plan.streams == steps.streams
    assert [e.event_id for e in plan.recorded] == ids.text
    assert all(e.event_id == compute_event_id(e) for e in plan.new)
    assert all(e.hash == compute_hash(e) for e in plan.new)
    hashes = [e.hash for e in plan.new]
    assert [e.prev_hash for e in plan.new] == ["f" * 64, *hashes][: len(hashes)]
    assert [e.position for e in plan.new] == list(range(5, 5 + len(plan.new)))
    assert plan.new_keys.tolist() == [id_key(e.event_id or "") for e in plan.new]
    same_table(to_table(plan.new), legacy_table(plan.new))


def test_a_changed_list_of_planned_events_is_read_from_its_events() -> None:
    """Columns the planner attached are used only for the very list it planned."""
    tail = LogTail()
    plan = plan_batch([listed(1), changed(1), listed(2)], tail, {}, 10**15, lambda _: {})
    other = plan_batch([listed(3)], tail, {}, 10**15, lambda _: {})
    assert isinstance(plan.new, PlannedEvents)

    plan.new[1] = other.new[0]

    same_table(to_table(plan.new), legacy_table(plan.new))


def test_explicit_nulls_and_decimal_extremes_survive_the_table() -> None:
    """An explicit null is listed in `fields`; tiny and 38-digit decimals stay exact."""
    change = changed(1, tick_size=None, lot_size="1E-8", min_qty=str(LIMIT), sector=None)
    (row,) = to_table(recorded([change], T0)).to_pylist()

    assert row["fields"] == ["lot_size", "min_qty", "sector", "tick_size"]
    assert (row["tick_size"], row["sector"]) == (None, None)
    assert row["lot_size"] == Decimal("1E-8")
    assert row["min_qty"] == LIMIT


def test_tail_finds_ids_recorded_in_pending_chunks() -> None:
    """Ids waiting to be merged into the index are found, and so are merged ones."""
    tail = LogTail()
    rng = np.random.default_rng(7)
    chunks = [rng.integers(0, 2**63, 1000, dtype=np.uint64) for _ in range(3)]
    for n, keys in enumerate(chunks):
        tail.record(keys, list(range(1000 * n, 1000 * (n + 1))), {})
    tail._merge()
    tail.record(np.array([5, 3], np.uint64), [3000, 3001], {})
    wanted = np.array([chunks[1][10], 3, 4, chunks[0][999], 5], np.uint64)

    assert tail.maybe_stored(wanted).tolist() == [True, True, False, True, True]
    assert tail.candidates(int(chunks[1][10])) == [1010]
    assert tail.candidates(3) == [3001]
    assert tail.candidates(4) == []


def test_appended_rows_equal_the_reference_table(tmp_path: Path) -> None:
    """What the log stores for a mixed batch (repeats included) is the reference table."""
    log = EventLog.open(tmp_path)
    first = log.append([listed(1), exchange_listed()])
    batch = [changed(1, tick_size=None), listed(2, lot_size="1E-8"), first[0], changed(1)]
    batch += [changed(1), retracted(first.new[0].event_id or "", stream=1), exchange_changed()]

    recorded = log.append(batch)

    assert [e.event_id for e in recorded] == [compute_event_id(e) for e in batch]
    assert recorded[2] == first[0]
    same_table(log.read(since=first.appended), legacy_table(recorded.new))
    assert verify_chain(log.read()) == []
