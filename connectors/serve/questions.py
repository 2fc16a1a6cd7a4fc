"""What a request asks: its instants, flags and filters, read from the query string.

An instant is an ISO-8601 text with an offset or `Z`, as everywhere in the catalog; a
naive or malformed one is a 400 that names the parameter. In a query string `+` means a
space, so `2024-01-01T00:00:00+00:00` sent unencoded arrives as `...00:00 00:00`: that one
space before an offset is read back as the `+` it was.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, NamedTuple

from connectors.serve.problems import bad_parameter
from eventstore import InvalidInstantError, NaiveTimestampError, to_utc

if TYPE_CHECKING:
    from aiohttp import web

EXAMPLE_INSTANT: Final = "2024-01-01T00:00:00Z"
_SPACED_OFFSET: Final = re.compile(r"^(\S+T\S+) (\d\d:?\d\d)$")
_YES: Final = frozenset({"1", "true", "yes"})
_NO: Final = frozenset({"0", "false", "no"})


class Knowing(NamedTuple):
    """The knowledge bounds of a question: `known_at` and `recorded_by` (None: everything)."""

    known_at: datetime | None
    recorded_by: datetime | None


def read_instant(name: str, text: str) -> datetime:
    """Return `text` as a UTC instant, or raise the 400 that names parameter `name`."""
    spaced = _SPACED_OFFSET.match(text)
    if spaced:
        text = f"{spaced.group(1)}+{spaced.group(2)}"
    try:
        return to_utc(text, name)
    except NaiveTimestampError:
        raise bad_parameter(
            name, f"{text!r} has no time zone; add an offset or Z ({EXAMPLE_INSTANT})"
        ) from None
    except InvalidInstantError as exc:
        raise bad_parameter(name, str(exc).removeprefix(f"{name}: ")) from None


def instant(request: web.Request, name: str, *, required: bool = False) -> datetime | None:
    """Return the instant parameter `name` (None when absent and not `required`)."""
    text = request.query.get(name)
    if text is None or text == "":
        if required:
            raise bad_parameter(name, f"is required (an instant such as {EXAMPLE_INSTANT})")
        return None
    return read_instant(name, text)


def instant_or_now(request: web.Request, name: str) -> datetime:
    """Return the instant parameter `name`, or now when it is absent."""
    return instant(request, name) or datetime.now(UTC)


def knowing(request: web.Request) -> Knowing:
    """Return the request's `known_at` and `recorded_by`."""
    return Knowing(instant(request, "known_at"), instant(request, "recorded_by"))


def flag(request: web.Request, name: str) -> bool | None:
    """Return a yes/no parameter (`true false 1 0 yes no`), None when absent."""
    text = request.query.get(name)
    if text is None or text == "":
        return None
    if text.lower() in _YES:
        return True
    if text.lower() in _NO:
        return False
    raise bad_parameter(name, f"{text!r} is not one of true, false (or 1, 0, yes, no)")


def text(request: web.Request, name: str) -> str | None:
    """Return a text parameter, None when absent or empty."""
    found = request.query.get(name)
    return found or None


def count(request: web.Request, name: str, default: int, most: int) -> int:
    """Return a positive whole-number parameter, at most `most`."""
    found = request.query.get(name)
    if found is None or found == "":
        return default
    if not found.isascii() or not found.isdigit() or not 0 < int(found) <= most:
        raise bad_parameter(name, f"{found!r} is not a whole number from 1 to {most}")
    return int(found)


__all__ = [
    "EXAMPLE_INSTANT",
    "Knowing",
    "count",
    "flag",
    "instant",
    "instant_or_now",
    "knowing",
    "read_instant",
    "text",
]
