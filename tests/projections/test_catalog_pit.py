"""PIT scenarios: each states one rule of the contract and checks `Catalog` against the fold."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from builders import MICROSECOND, changed, day, delisted, listed, renamed, retracted
from pit_oracle import assert_catalog_matches_fold, holder, table_rows

if TYPE_CHECKING:
    from datetime import datetime

    from clock import Clock

    from eventstore import EventLog
    from projections import Catalog


def around(*instants: datetime) -> list[datetime]:
    """Return each instant and the microsecond before it: both sides of every boundary."""
    return [t for instant in instants for t in (instant - MICROSECOND, instant)]


def test_before_listing_the_instrument_does_not_exist(log: EventLog, catalog: Catalog) -> None:
    """Before the listing's effective time the symbol resolves to None; from then on, it exists."""
    log.append([listed("I1", "X:ABC", day(5), tick_size="0.01")])

    assert catalog.get("X:ABC", day(5) - MICROSECOND) is None
    assert catalog.universe(day(4), include_inactive=True).num_rows == 0
    found = holder(catalog, "X:ABC", day(5))
    assert (found.instrument_id, found.active, found.valid_from) == ("I1", True, day(5))
    assert_catalog_matches_fold(catalog, log.events(), around(day(5)))


def test_after_delisting_the_instrument_is_inactive_and_left_out_of_the_universe(
    log: EventLog, catalog: Catalog
) -> None:
    """After delisting, get returns it with active False; universe omits it unless asked."""
    log.append([listed("I1", "X:ABC", day(1)), delisted("I1", "X:ABC", day(5))])

    assert holder(catalog, "X:ABC", day(4)).active
    after = holder(catalog, "X:ABC", day(5))
    assert (after.active, after.status, after.valid_from) == (False, "delisted", day(5))
    assert catalog.universe(day(6)).num_rows == 0
    everyone = catalog.universe(day(6), include_inactive=True)
    assert table_rows(everyone, ("instrument_id", "active")) == [("I1", False)]
    assert table_rows(catalog.universe(day(4)), ("instrument_id", "active")) == [("I1", True)]
    assert_catalog_matches_fold(catalog, log.events(), around(day(1), day(5)))


def test_a_change_applies_from_its_effective_time_and_history_is_contiguous(
    log: EventLog, catalog: Catalog
) -> None:
    """A change effective at T answers from T on; history versions abut, the last is open."""
    log.append(
        [
            listed("I1", "X:ABC", day(1), tick_size="0.01", description="Alpha"),
            changed("I1", "X:ABC", day(3), tick_size="0.005"),
            changed("I1", "X:ABC", day(6), description="Alpha Corp"),
        ]
    )

    assert holder(catalog, "X:ABC", day(3) - MICROSECOND).tick_size == Decimal("0.01")
    at = holder(catalog, "X:ABC", day(3))
    assert (at.tick_size, at.valid_from) == (Decimal("0.005"), day(3))
    assert at.description == "Alpha"
    spans = table_rows(catalog.history("I1"), ("valid_from", "valid_until"))
    assert spans == [(day(1), day(3)), (day(3), day(6)), (day(6), None)]
    assert_catalog_matches_fold(catalog, log.events(), around(day(1), day(3), day(6)))


def test_rename_moves_the_instrument_to_the_new_symbol(log: EventLog, catalog: Catalog) -> None:
    """After a rename the old symbol resolves to nobody and the new one to the same id."""
    log.append([listed("I1", "X:OLD", day(1)), renamed("I1", "X:OLD", "X:NEW", day(4))])

    before = holder(catalog, "X:OLD", day(4) - MICROSECOND)
    assert before.instrument_id == "I1"
    assert catalog.get("X:NEW", day(4) - MICROSECOND) is None
    assert catalog.get("X:OLD", day(4)) is None
    after = holder(catalog, "X:NEW", day(4))
    assert (after.instrument_id, after.symbol) == ("I1", "X:NEW")
    symbols = table_rows(catalog.history("X:NEW"), ("instrument_id", "symbol"))
    assert symbols == [("I1", "X:OLD"), ("I1", "X:NEW")]
    assert table_rows(catalog.history("X:OLD", as_of=day(2)), ("symbol",))[0] == ("X:OLD",)
    assert_catalog_matches_fold(catalog, log.events(), around(day(1), day(4)))


def test_a_reused_ticker_resolves_to_whoever_held_it_at_the_time(
    log: EventLog, catalog: Catalog
) -> None:
    """A delisted holder answers until a new instrument lists on its ticker; then the new one."""
    log.append(
        [
            listed("A", "X:ABC", day(1), description="first"),
            delisted("A", "X:ABC", day(3)),
            listed("B", "X:ABC", day(5), description="second"),
            changed("A", "X:ABC", day(7), description="first, archived"),
        ]
    )

    during = holder(catalog, "X:ABC", day(2))
    gap = holder(catalog, "X:ABC", day(5) - MICROSECOND)
    reused = holder(catalog, "X:ABC", day(5))
    assert (during.instrument_id, during.active) == ("A", True)
    assert (gap.instrument_id, gap.active) == ("A", False)
    assert (reused.instrument_id, reused.active) == ("B", True)
    assert table_rows(catalog.universe(day(6)), ("instrument_id",)) == [("B",)]
    # a later edit of the delisted holder does not take the ticker back from the active one
    assert holder(catalog, "X:ABC", day(8)).instrument_id == "B"
    assert {r[0] for r in table_rows(catalog.history("X:ABC"), ("instrument_id",))} == {"B"}
    held_before = table_rows(catalog.history("X:ABC", as_of=day(4)), ("instrument_id",))
    assert {r[0] for r in held_before} == {"A"}
    assert_catalog_matches_fold(catalog, log.events(), around(day(1), day(3), day(5), day(7)))


def test_relisting_reactivates_and_keeps_fields_it_does_not_restate(
    log: EventLog, catalog: Catalog
) -> None:
    """A listing after a delisting on the same id makes it active; unrestated fields remain."""
    log.append(
        [
            listed("I1", "X:ABC", day(1), tick_size="0.01", description="Alpha", sector="Tech"),
            delisted("I1", "X:ABC", day(3)),
            listed("I1", "X:ABC", day(5), tick_size="0.02", status="trading"),
        ]
    )

    back = holder(catalog, "X:ABC", day(5))
    assert (back.active, back.status, back.valid_from) == (True, "trading", day(5))
    assert (back.tick_size, back.description, back.sector) == (Decimal("0.02"), "Alpha", "Tech")
    assert table_rows(catalog.universe(day(5)), ("instrument_id",)) == [("I1",)]
    assert len(catalog.history("I1")) == 3
    assert_catalog_matches_fold(catalog, log.events(), around(day(1), day(3), day(5)))


def test_a_retracted_change_applies_nowhere_except_as_known_before_the_retraction(
    log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """A retraction removes its target at every as_of; known_at before it still sees the target.

    The answer from the withdrawn event's time on shows the retraction in its known_since.
    """
    clock.set(day(1))
    log.append([listed("I1", "X:ABC", day(1), tick_size="0.01")])
    clock.set(day(2))
    (wrong,) = log.append([changed("I1", "X:ABC", day(3), tick_size="0.5")])
    retracted_at = clock.set(day(9))
    # decided on day 9, yet it withdraws the change for as_of before day 9 as well
    log.append([retracted(wrong, day(9))])

    for as_of in (day(3), day(8), day(10)):
        now = holder(catalog, "X:ABC", as_of)
        assert now.tick_size == Decimal("0.01"), as_of
        then = holder(catalog, "X:ABC", as_of, known_at=retracted_at - MICROSECOND)
        assert then.tick_size == Decimal("0.5"), as_of
    assert holder(catalog, "X:ABC", day(4), known_at=retracted_at).tick_size == Decimal("0.01")
    # from the withdrawn change's time on, the (unchanged) answer is known only since day 9
    assert holder(catalog, "X:ABC", day(2)).known_since == day(1)
    assert holder(catalog, "X:ABC", day(4)).known_since == retracted_at
    history = catalog.history("I1")
    assert history["tick_size"].to_pylist() == [Decimal("0.01")] * 2
    assert history["known_since"].to_pylist() == [day(1), retracted_at]
    assert len(catalog.history("I1", known_at=retracted_at - MICROSECOND)) == 2
    known = (None, day(2) - MICROSECOND, day(2), retracted_at - MICROSECOND, retracted_at)
    assert_catalog_matches_fold(catalog, log.events(), around(day(1), day(3), day(9)), known)


def test_a_retracted_listing_means_the_instrument_never_existed(
    log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """Retracting the only listing leaves nothing: get is None and the universe is empty."""
    clock.set(day(1))
    (listing,) = log.append([listed("I1", "X:ABC", day(1))])
    log.append([changed("I1", "X:ABC", day(2), description="orphan")])
    clock.set(day(3))
    log.append([retracted(listing, day(3))])

    assert catalog.get("X:ABC", day(4)) is None
    assert catalog.universe(day(4), include_inactive=True).num_rows == 0
    assert holder(catalog, "X:ABC", day(4), known_at=day(2)).instrument_id == "I1"
    assert_catalog_matches_fold(catalog, log.events(), around(day(1), day(2)), (None, day(2)))


def test_a_late_correction_changes_the_past_but_not_what_was_known_then(
    log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """A change recorded late with an earlier effective time answers from that time on.

    known_at before its recording gives the old answer, and the version's known_since is the
    late recording time, so the backfill is visible as such.
    """
    first = clock.set(day(1))
    log.append([listed("I1", "X:ABC", day(1), tick_size="0.01")])
    clock.set(day(6))
    log.append([changed("I1", "X:ABC", day(6), description="Alpha")])
    late = clock.set(day(10))
    log.append([changed("I1", "X:ABC", day(4), tick_size="0.02")])

    fixed = holder(catalog, "X:ABC", day(5))
    assert (fixed.tick_size, fixed.valid_from, fixed.known_since) == (Decimal("0.02"), day(4), late)
    old = holder(catalog, "X:ABC", day(5), known_at=late - MICROSECOND)
    assert (old.tick_size, old.valid_from, old.known_since) == (Decimal("0.01"), day(1), first)
    latest = holder(catalog, "X:ABC", day(7))
    assert (latest.tick_size, latest.known_since) == (Decimal("0.02"), late)
    untouched = holder(catalog, "X:ABC", day(3))
    assert untouched.known_since == first
    versions = table_rows(catalog.history("I1"), ("valid_from", "known_since", "valid_until"))
    assert versions == [(day(1), first, day(4)), (day(4), late, day(6)), (day(6), late, None)]
    known = (None, day(6), late - MICROSECOND, late)
    assert_catalog_matches_fold(catalog, log.events(), around(day(1), day(4), day(6)), known)


def test_an_announced_future_change_applies_only_from_its_effective_time(
    log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """A change recorded before it takes effect is invisible until its effective time."""
    clock.set(day(1))
    log.append([listed("I1", "X:ABC", day(1), tick_size="0.01")])
    announced = clock.set(day(2))
    log.append([changed("I1", "X:ABC", day(7), tick_size="0.02")])

    assert holder(catalog, "X:ABC", day(7) - MICROSECOND).tick_size == Decimal("0.01")
    assert holder(catalog, "X:ABC", day(7)).tick_size == Decimal("0.02")
    strict = holder(catalog, "X:ABC", day(8), known_at=day(8))
    assert (strict.tick_size, strict.known_since) == (
        Decimal("0.02"),
        announced,
    )
    unaware = holder(catalog, "X:ABC", day(8), known_at=announced - MICROSECOND)
    assert unaware.tick_size == Decimal("0.01")
    known = (None, announced - MICROSECOND, announced)
    assert_catalog_matches_fold(catalog, log.events(), around(day(1), day(7)), known)


def test_decimals_come_out_exactly_as_they_went_in(log: EventLog, catalog: Catalog) -> None:
    """Structural numbers are exact Decimals in get, universe and history; absent ones are null."""
    given: dict[str, Any] = {
        "tick_size": Decimal("0.00001"),
        "minmov": Decimal("1"),
        "pricescale": Decimal("100000"),
        "lot_size": Decimal("0.1"),
        "min_qty": Decimal("123456789.123456789012345678"),
        "min_notional": Decimal("0.000000000000000001"),
    }
    log.append([listed("I1", "X:ABC", day(1), **given)])

    found = holder(catalog, "X:ABC", day(2))
    for name, value in given.items():
        got = getattr(found, name)
        assert isinstance(got, Decimal), name
        assert got == value, name
    assert found.contract_size is None  # never a made-up default
    assert found.lot_size is not None
    assert sum([found.lot_size] * 3, Decimal(0)) == Decimal("0.3")  # 0.1 is not a float here
    for table in (catalog.universe(day(2)), catalog.history("I1")):
        (row,) = table.select([*given, "contract_size"]).to_pylist()
        assert row == {**given, "contract_size": None}
    assert_catalog_matches_fold(catalog, log.events(), [day(2)])


def test_an_explicit_null_clears_a_field(log: EventLog, catalog: Catalog) -> None:
    """A change setting a field to None clears it from its effective time; before, it stays."""
    log.append(
        [
            listed("I1", "X:ABC", day(1), tick_size="0.01", sector="Tech"),
            changed("I1", "X:ABC", day(3), sector=None),
        ]
    )

    assert holder(catalog, "X:ABC", day(2)).sector == "Tech"
    cleared = holder(catalog, "X:ABC", day(3))
    assert (cleared.sector, cleared.tick_size) == (None, Decimal("0.01"))
    assert_catalog_matches_fold(catalog, log.events(), around(day(1), day(3)))
