"""The OpenAPI 3.1 document of the service, made from its endpoints.

Each endpoint module states its operations with `operation` beside its handlers; `document`
gathers them with the shared schemas and parameters, so every route is in the document
and every documented route exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from connectors.release import package_version
from connectors.serve.answers import ARROW_STREAM, JSON
from connectors.serve.problems import PROBLEM_TYPE
from connectors.serve.schemas import PARAMETERS, SCHEMAS, Schema, ref

if TYPE_CHECKING:
    from collections.abc import Sequence

    from connectors.serve.service import Endpoint

ERRORS: Final = {
    400: "a naive or malformed instant, or another parameter that cannot be read",
    404: "an unknown symbol (with suggestions), or one not listed at that instant",
    413: "a body over the service's cap",
    409: "a name two instruments held at that instant (the problem names both)",
    415: "a body that is not an Arrow IPC stream",
    503: "the request took longer than the service's limit",
}


def operation(
    summary: str,
    *,
    answer: str | None,
    example: Any = None,
    parameters: Sequence[str | Schema] = (),
    arrow: bool = False,
    errors: Sequence[int] = (400,),
    description: str | None = None,
) -> dict[str, Any]:
    """Return an operation answered with component `answer` as JSON (and Arrow, when
    `arrow`), or only with an Arrow stream when `answer` is None."""
    content: dict[str, Any] = {}
    if answer is not None:
        content[JSON] = {"schema": ref("schemas", answer), "example": example}
    if arrow or answer is None:
        content[ARROW_STREAM] = {
            "schema": {"type": "string", "contentMediaType": ARROW_STREAM},
        }
    responses: dict[str, Any] = {"200": {"description": summary, "content": content}}
    for status in errors:
        problem = {PROBLEM_TYPE: {"schema": ref("schemas", "Problem")}}
        responses[str(status)] = {"description": ERRORS[status], "content": problem}
    found: dict[str, Any] = {
        "summary": summary,
        "parameters": [ref("parameters", p) if isinstance(p, str) else p for p in parameters],
        "responses": responses,
    }
    if description is not None:
        found["description"] = " ".join(description.split())
    return found


def query(name: str, description: str, schema: Schema, *, required: bool = False) -> Schema:
    """Return a query parameter of one operation."""
    found = {"name": name, "in": "query", "description": description, "schema": schema}
    return {**found, "required": True} if required else found


def document(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of `endpoints`."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = endpoint.operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pit-catalog",
            "version": package_version(),
            "description": "Point-in-time answers about trading instruments, read-only.",
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS, "parameters": PARAMETERS},
    }


__all__ = ["ERRORS", "document", "operation", "query"]
