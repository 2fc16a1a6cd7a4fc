"""The registry of event kinds: one row per kind, read by every layer that handles kinds.

Each row says what the log and the projections need to know about a kind without naming
it: its class, the payload fields it stores and which of them are required, how those
fields sit in the log's columns, whether it may open a stream and what it concerns. The
columnar codec, the canonical form, the audit's shape checks, the decoder, the index and
the change lines read these rows; code that must treat a kind specially matches on
`AnyEvent` (or on `Layout` and `Subject`) and ends in `assert_never`.

Adding a kind: its class in `eventstore.model.events`, a member of `AnyEvent` and a row
of `KINDS` here, and its case in the fold's matches (`projections.fold`); mypy then also
asks for its value rules in `connectors.cli.append_rules.check_values`.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Any, Final, assert_never, cast

import msgspec

from eventstore.model.events import (
    Event,
    EventRetracted,
    ExchangeChanged,
    ExchangeListed,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
)
from eventstore.model.rules import EXCHANGE_FIELDS, INSTRUMENT_FIELDS


class Layout(enum.Enum):
    """How a kind's payload sits in the log's columns."""

    #: Each stored field is an attribute in its own column; `fields` lists the optional
    #: ones the event sets (a null optional field is not said).
    ATTRIBUTES = "attributes"
    #: A `changes` mapping spread over the stored columns; `fields` lists its keys, so an
    #: explicit null is said.
    CHANGES = "changes"


class Subject(enum.Enum):
    """What a kind of event is about."""

    INSTRUMENT = "instrument"
    EXCHANGE = "exchange"
    #: Another event, in the same stream (a retraction withdraws it).
    EVENT = "event"


@dataclass(frozen=True)
class Kind:
    """One kind of event, as the log and the projections see it."""

    cls: type[Event]
    #: The payload columns the kind may fill, in the order of the design.
    stored: tuple[str, ...]
    #: The stored fields every event of the kind holds, as non-blank text.
    required: tuple[str, ...] = ()
    layout: Layout = Layout.ATTRIBUTES
    opens_stream: bool = False
    subject: Subject = Subject.INSTRUMENT

    @property
    def name(self) -> str:
        """Return the kind's name, as stored in the log's `kind` column."""
        return self.cls.__name__

    @property
    def optional(self) -> tuple[str, ...]:
        """Return the stored fields present only where the row's `fields` list names them."""
        return tuple(name for name in self.stored if name not in self.required)

    @property
    def attributes(self) -> tuple[str, ...]:
        """Return the event's attributes that hold its payload (its canonical keys)."""
        match self.layout:
            case Layout.ATTRIBUTES:
                return self.stored
            case Layout.CHANGES:
                return ("changes",)
            case _ as unreachable:
                assert_never(unreachable)

    @property
    def defaults(self) -> dict[str, Any]:
        """Return the required fields that have a default, which the canonical form omits."""
        return dict(_defaults(self.cls, self.required))

    @property
    def verb(self) -> str:
        """Return what an event of the kind did, in a word (`listed`, `retracted`)."""
        name = self.name
        at = max(i for i, char in enumerate(name) if char.isupper())
        return name[at:].lower()


@functools.cache
def _defaults(cls: type[Event], required: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    """Return the fields of `required` that have a default in `cls`, with their defaults."""
    found = {f.name: f.default for f in msgspec.structs.fields(cls)}
    return tuple((name, found[name]) for name in required if found[name] is not msgspec.NODEFAULT)


AnyEvent = (
    InstrumentListed
    | InstrumentChanged
    | InstrumentDelisted
    | InstrumentRenamed
    | EventRetracted
    | ExchangeListed
    | ExchangeChanged
)
_EXCHANGE_STORED: Final = ("exchange", *EXCHANGE_FIELDS)
_DELISTING: Final = ("reason", "status")
_RETRACTION: Final = ("target", "reason")
#: Every kind, in code order: a kind's code is its index here.
KINDS: Final = (
    Kind(InstrumentListed, INSTRUMENT_FIELDS, opens_stream=True),
    Kind(InstrumentChanged, INSTRUMENT_FIELDS, layout=Layout.CHANGES),
    Kind(InstrumentDelisted, _DELISTING, required=_DELISTING),
    Kind(InstrumentRenamed, ("new_symbol",), required=("new_symbol",)),
    Kind(EventRetracted, _RETRACTION, required=_RETRACTION, subject=Subject.EVENT),
    Kind(
        ExchangeListed,
        _EXCHANGE_STORED,
        required=("exchange",),
        opens_stream=True,
        subject=Subject.EXCHANGE,
    ),
    Kind(ExchangeChanged, _EXCHANGE_STORED, required=("exchange",), subject=Subject.EXCHANGE),
)
#: The kinds' names, in code order.
KIND_NAMES: Final = tuple(kind.name for kind in KINDS)
BY_NAME: Final[dict[str, Kind]] = {kind.name: kind for kind in KINDS}
BY_CLASS: Final[dict[type[Event], Kind]] = {kind.cls: kind for kind in KINDS}
EVENT_TYPES: Final[dict[str, type[Event]]] = {kind.name: kind.cls for kind in KINDS}


def as_any(event: Event) -> AnyEvent:
    """Return `event` as a member of `AnyEvent`, so that a `match` on it can be exhaustive.

    Every event class has a row here; an instance of any other class is a `TypeError`.
    """
    if type(event) not in BY_CLASS:
        raise TypeError(f"{type(event).__name__} is not a kind of event")
    return cast("AnyEvent", event)


def kind_of(cls: type[Event]) -> Kind:
    """Return the registry row of event class `cls`."""
    return BY_CLASS[cls]


def code_of(cls: type[Event]) -> int:
    """Return the code of event class `cls`: its row's index in `KINDS`."""
    return KINDS.index(BY_CLASS[cls])


def names_of(
    subject: Subject | None = None, *, opens_stream: bool | None = None
) -> tuple[str, ...]:
    """Return the names of the kinds about `subject` (and that open a stream, or not)."""
    return tuple(
        kind.name
        for kind in KINDS
        if (subject is None or kind.subject is subject)
        and (opens_stream is None or kind.opens_stream is opens_stream)
    )


def classes_of(subject: Subject) -> tuple[type[Event], ...]:
    """Return the classes of the kinds about `subject`, for `isinstance`."""
    return tuple(kind.cls for kind in KINDS if kind.subject is subject)


#: The name of the kind that withdraws another event, for filters on the `kind` column.
RETRACTION: Final = kind_of(EventRetracted).name
#: The classes whose event may be the first of its stream, for `isinstance`.
OPENS_STREAM: Final = tuple(kind.cls for kind in KINDS if kind.opens_stream)

__all__ = [
    "BY_CLASS",
    "BY_NAME",
    "EVENT_TYPES",
    "KINDS",
    "KIND_NAMES",
    "OPENS_STREAM",
    "RETRACTION",
    "AnyEvent",
    "Kind",
    "Layout",
    "Subject",
    "classes_of",
    "code_of",
    "kind_of",
    "names_of",
]
