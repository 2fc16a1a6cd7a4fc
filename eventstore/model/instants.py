"""Read instants strictly: UTC-aware or an error, never a guess."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eventstore.errors import InvalidInstantError, NaiveTimestampError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_utc(value: object, what: str) -> datetime:
    """Return `value` as a UTC datetime with microsecond resolution, or raise.

    Accept aware `datetime` (pandas `Timestamp` included) and ISO-8601 strings with an
    offset or `Z`. Refuse naive values and bare numbers: an epoch has no unit, and a
    guess between seconds and nanoseconds is how a catalog ends up in 1970.
    """
    if isinstance(value, datetime):
        return _from_datetime(value, what)
    if isinstance(value, str):
        return _from_string(value, what)
    if isinstance(value, bool | int | float):
        raise NaiveTimestampError(what, value, "is a bare number without a unit")
    if type(value).__name__ == "datetime64":
        raise NaiveTimestampError(what, value, "is a numpy.datetime64, which has no time zone")
    raise NaiveTimestampError(what, value, f"is a {type(value).__name__}, not an instant")


def _from_datetime(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveTimestampError(what, value)
    if getattr(value, "nanosecond", 0):
        raise InvalidInstantError(what, value, "has nanoseconds; the catalog keeps microseconds")
    utc = value.astimezone(UTC)
    if type(utc) is not datetime:  # a pandas Timestamp: keep a plain datetime
        utc = datetime(*utc.timetuple()[:6], utc.microsecond, tzinfo=UTC)
    return utc


def _from_string(value: str, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInstantError(
            what, value, "is not an ISO-8601 instant such as '2024-01-01T00:00:00Z'"
        ) from None
    if parsed.tzinfo is None:
        raise NaiveTimestampError(what, value)
    return _from_datetime(parsed, what)


def to_micros(value: datetime) -> int:
    """Return microseconds since the Unix epoch of an aware datetime."""
    return (value - EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """Return the UTC datetime `micros` microseconds after the Unix epoch."""
    return EPOCH + timedelta(microseconds=micros)
