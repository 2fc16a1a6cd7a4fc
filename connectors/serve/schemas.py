"""The JSON Schemas of the service's answers and its shared parameters (OpenAPI 3.1).

Types follow the JSON answers: a decimal is a string of digits (`"0.01"`), an instant an
RFC 3339 text in UTC, a field the source did not give is null.
"""

from __future__ import annotations

from typing import Any, Final

from eventstore.model.events import DECIMAL_FIELDS, EXCHANGE_FIELDS, TIME_FIELDS
from eventstore.model.rules import BOOLEAN_FIELDS
from projections.model import FIELDS

Schema = dict[str, Any]

INSTANT: Final[Schema] = {"type": "string", "format": "date-time"}
DECIMAL: Final[Schema] = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}


def nullable(schema: Schema) -> Schema:
    """Return `schema` that also admits null."""
    return {"anyOf": [schema, {"type": "null"}]}


def _field(name: str) -> Schema:
    if name in DECIMAL_FIELDS:
        return nullable(DECIMAL)
    if name in TIME_FIELDS:
        return nullable(INSTANT)
    if name in BOOLEAN_FIELDS:
        return {"type": ["boolean", "null"]}
    return {"type": ["string", "null"]}


def _object(required: dict[str, Schema], optional: dict[str, Schema]) -> Schema:
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **optional},
    }


_VERSION_HEAD: Final[dict[str, Schema]] = {
    "instrument_id": {"type": "string"},
    "symbol": {"type": "string"},
    "active": {"type": "boolean"},
    "status": {"type": ["string", "null"]},
    "valid_from": INSTANT,
    "known_since": INSTANT,
    "recorded_since": INSTANT,
}
_FIELDS: Final = {name: _field(name) for name in FIELDS}


def _rows(item: str, **said: Schema) -> Schema:
    """Return the schema of a table answer: what it says, `count`, and its rows."""
    head = {**said, "count": {"type": "integer", "minimum": 0}}
    rows = {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}}
    return _object({**head, "rows": rows}, {})


_KNOWING: Final = {"known_at": nullable(INSTANT), "recorded_by": nullable(INSTANT)}

_NAME: Final = {
    "type": "object",
    "required": ["exchange", "name"],
    "properties": {"exchange": {"type": "string"}, "name": {"type": "string"}},
}
_NAMING: Final[dict[str, Any]] = {
    "Resolved": {
        "type": "object",
        "required": ["name", "scheme", "as_of", "instrument_id", "names"],
        "properties": {
            "name": {"type": "string"},
            "scheme": {"type": "string"},
            "as_of": {"type": "string", "format": "date-time"},
            "instrument_id": {"type": ["string", "null"]},
            "names": {"type": "object", "additionalProperties": _NAME},
        },
    },
    "Holders": {
        "type": "object",
        "required": ["symbol", "count", "rows"],
        "properties": {
            "symbol": {"type": "string"},
            "known_at": {"type": ["string", "null"]},
            "recorded_by": {"type": ["string", "null"]},
            "count": {"type": "integer", "minimum": 0},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["instrument_id", "held_from", "held_until", "active"],
                    "properties": {
                        "instrument_id": {"type": "string"},
                        "held_from": {"type": "string", "format": "date-time"},
                        "held_until": {"type": ["string", "null"]},
                        "active": {"type": "boolean"},
                    },
                },
            },
        },
    },
}
SCHEMAS: Final[dict[str, Schema]] = {
    "Instrument": _object(_VERSION_HEAD, _FIELDS),
    "Version": _object({**_VERSION_HEAD, "valid_until": nullable(INSTANT)}, _FIELDS),
    "Exchange": _object(
        {"exchange": {"type": "string"}, "valid_from": INSTANT, "known_since": INSTANT},
        {
            "recorded_since": INSTANT,
            **{name: _field(name) for name in EXCHANGE_FIELDS if name != "exchange"},
            "is_crypto": {"type": ["boolean", "null"]},
        },
    ),
    "ChangeLine": _object(
        {
            "effective_at": INSTANT,
            "recorded_at": INSTANT,
            "what": {"type": "string"},
            "instrument_id": {"type": ["string", "null"]},
            "symbol": {"type": ["string", "null"]},
            "field": {"type": ["string", "null"]},
            "position": {"type": "integer"},
            "retracted": {"type": "boolean"},
        },
        {
            "old": {},
            "new": {},
            "note": {"type": ["string", "null"]},
            "source": {"type": ["string", "null"]},
            "event_id": {"type": "string"},
        },
    ),
    "Universe": _rows("Version", as_of=INSTANT, **_KNOWING),
    "History": _rows("Version", key={"type": "string"}, **_KNOWING),
    "Exchanges": _rows("Exchange", as_of=INSTANT, **_KNOWING),
    "Changes": _rows("ChangeLine", since=INSTANT, until=INSTANT, **_KNOWING),
    "Revisions": _rows(
        "Revision", known_since=INSTANT, known_until=nullable(INSTANT), basis={"type": "string"}
    ),
    "Revision": _object(
        {
            "instrument_id": {"type": "string"},
            "symbol": {"type": ["string", "null"]},
            "field": {"type": "string"},
            "effective_from": INSTANT,
            "effective_until": nullable(INSTANT),
            "before": {"type": ["string", "null"]},
            "after": {"type": ["string", "null"]},
            "cause": {"type": "array", "items": {"type": "string"}},
        },
        {},
    ),
    "UniverseCounts": _object(
        {
            "instants": {"type": "array", "items": INSTANT},
            "exchanges": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "integer"}},
            },
        },
        _KNOWING,
    ),
    "Matches": _object(
        {
            "query": {"type": "string"},
            "matches": {"type": "array", "items": {"type": "string"}},
        },
        {},
    ),
    "Health": _object(
        {
            "status": {"const": "ok"},
            "root": {"type": "string"},
            "log_version": {"type": "integer"},
            "instruments": {"type": "integer", "minimum": 0},
        },
        {"version": {"type": "string"}},
    ),
    "Audit": _object(
        {
            "audited_at": INSTANT,
            "log_version": {"type": "integer"},
            "ok": {"type": "boolean"},
            "events": {"type": "integer"},
            "violations": {"type": "integer"},
            "checks": {"type": "array", "items": {"type": "object"}},
        },
        {"root": {"type": "string"}, "seconds": {"type": "number"}, "anchor": {}},
    ),
    "Problem": _object(
        {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
        },
        {
            "instance": {"type": "string"},
            "parameter": {"type": "string"},
            "symbol": {"type": "string"},
            "suggestions": {"type": "array", "items": {"type": "string"}},
        },
    ),
    **_NAMING,
}


def _parameter(name: str, description: str, schema: Schema, where: str = "query") -> Schema:
    return {"name": name, "in": where, "description": description, "schema": schema}


_INSTANT_TEXT: Final = "an ISO-8601 instant with an offset or Z, e.g. 2024-01-01T00:00:00Z"
PARAMETERS: Final[dict[str, Schema]] = {
    "as_of": _parameter(
        "as_of", f"the instant asked about (default: now); {_INSTANT_TEXT}", INSTANT
    ),
    "known_at": _parameter(
        "known_at", "use only what was observable from its source by this instant", INSTANT
    ),
    "recorded_by": _parameter(
        "recorded_by", "use only what the catalog had recorded by this instant", INSTANT
    ),
    "symbol": {
        **_parameter("symbol", "EXCHANGE:TICKER, or an instrument id", {"type": "string"}, "path"),
        "required": True,
    },
}


def ref(kind: str, name: str) -> Schema:
    """Return a reference to a component (`schemas`, `parameters`)."""
    return {"$ref": f"#/components/{kind}/{name}"}


__all__ = ["DECIMAL", "INSTANT", "PARAMETERS", "SCHEMAS", "Schema", "nullable", "ref"]
