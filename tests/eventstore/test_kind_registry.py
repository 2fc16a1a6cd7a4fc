"""The registry of kinds agrees with the event classes it describes."""

from __future__ import annotations

import typing

import msgspec

from eventstore.model.kinds import BY_CLASS, KINDS, AnyEvent, Layout


def test_every_event_class_has_one_row() -> None:
    """Each member of `AnyEvent` has exactly one row, and each row names a member."""
    members = set(typing.get_args(AnyEvent))
    assert {kind.cls for kind in KINDS} == members
    assert len(KINDS) == len(members) == len(BY_CLASS)


def test_the_optional_fields_are_the_classes_payload_fields() -> None:
    """What a row says is optional is what the class reports as its payload fields."""
    for kind in KINDS:
        if kind.layout is Layout.ATTRIBUTES:
            assert set(kind.optional) == set(kind.cls.payload_fields), kind.name


def test_every_stored_field_is_a_field_of_the_class() -> None:
    """A stored attribute is a field of the class (a CHANGES kind stores its mapping's keys)."""
    for kind in KINDS:
        fields = {f.name for f in msgspec.structs.fields(kind.cls)}
        if kind.layout is Layout.ATTRIBUTES:
            assert set(kind.stored) <= fields, kind.name
        else:
            assert "changes" in fields, kind.name
        assert set(kind.required) <= set(kind.stored), kind.name
