"""The PIT invariants: a symbol passed on is no clash; two live holders are."""

from __future__ import annotations

from typing import TYPE_CHECKING

from builders import changed, day, delisted, listed, renamed, retracted

from projections.invariants import PIT_CHECKS, check_history

if TYPE_CHECKING:
    from eventstore import EventLog
    from projections import Catalog


def _failed(catalog: Catalog) -> dict[str, list[str]]:
    return {
        check.name: [v.detail for v in check.violations]
        for check in check_history(catalog)
        if not check.ok
    }


def test_symbols_passed_on_by_rename_and_delisting_are_not_clashes(
    log: EventLog, catalog: Catalog
) -> None:
    """A renamed-away or delisted holder leaves its symbol free for the next instrument."""
    log.append(
        [
            listed("A", "X:S", day(1)),
            renamed("A", "X:S", "X:T", day(3)),
            listed("B", "X:S", day(4)),
            delisted("B", "X:S", day(6)),
            listed("C", "X:S", day(7)),
            changed("C", "X:S", day(8), tick_size="0.1"),
        ]
    )

    results = check_history(catalog)

    assert [check.name for check in results] == list(PIT_CHECKS)
    assert _failed(catalog) == {}


def test_a_renamed_instrument_landing_on_a_held_symbol_clashes(
    log: EventLog, catalog: Catalog
) -> None:
    """Renaming onto a symbol another active instrument holds gives two holders from then."""
    log.append(
        [
            listed("A", "X:S", day(1)),
            listed("B", "X:T", day(2)),
            renamed("B", "X:T", "X:S", day(5)),
        ]
    )

    assert _failed(catalog) == {"one-holder": [f"X:S is held by A and B from {day(5).isoformat()}"]}


def test_a_change_before_the_listing_is_reported_unless_retracted(
    log: EventLog, catalog: Catalog
) -> None:
    """A change effective before its instrument's first listing breaks `listed-first`;
    once retracted, it no longer counts."""
    _, early = log.append([listed("A", "X:S", day(3)), changed("A", "X:S", day(1), tick_size="1")])

    (detail,) = _failed(catalog)["listed-first"]
    assert detail.startswith("A: effective 2024-01-02")

    log.append([retracted(early, day(4))])
    assert _failed(catalog) == {}
