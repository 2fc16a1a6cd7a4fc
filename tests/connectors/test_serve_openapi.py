"""`/openapi.json` matches the routes: every route is documented, every documented route
exists, the document is valid OpenAPI 3.1, its examples and the real answers validate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from served import ARROW, BTC, call, fill

from connectors.serve import InThread, application
from projections import Catalog

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: Routes that are not the API: the page and the document itself.
NOT_API = {"/", "/assets/{name}", "/openapi.json"}
#: A real request of each GET route, against the log of `served.fill`.
REQUESTS = {
    "/instruments/{symbol}": f"/instruments/{BTC}?as_of=2024-06-15T00:00:00Z",
    "/instruments/{symbol}/history": f"/instruments/{BTC}/history",
    "/universe": "/universe?as_of=2024-04-01T00:00:00Z&include_inactive=true",
    "/universe/counts": "/universe/counts?points=5",
    "/changes": "/changes?since=2024-01-01T00:00:00Z",
    "/exchanges": "/exchanges?as_of=2024-04-01T00:00:00Z",
    "/search": "/search?q=btc",
    "/health": "/health",
    "/audit": "/audit",
    "/resolve": f"/resolve?name={BTC}&as_of=2024-06-15T00:00:00Z",
    "/holders/{symbol}": f"/holders/{BTC}",
    "/revisions": "/revisions?known_since=2024-01-01T00:00:00Z",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    root = fill(tmp_path_factory.mktemp("openapi") / "lake")
    with InThread(Catalog.open(root)) as running:
        yield running.base_url, call(f"{running.base_url}/openapi.json").json()


def schema_validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """Return a validator of `schema` whose references resolve inside `spec`."""
    return Draft202012Validator({**schema, "components": spec["components"]})


def test_the_document_is_valid_openapi_3_1(served: tuple[str, dict[str, Any]]) -> None:
    _, spec = served
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_route_is_documented_and_every_documented_route_exists(
    served: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    _, spec = served
    app = application(Catalog.open(fill(tmp_path / "lake")))
    routes = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    documented = {(method, path) for path, item in spec["paths"].items() for method in item}
    assert {(m, p) for m, p in routes if p not in NOT_API} == documented
    assert set(REQUESTS) | {"/pit-join"} == set(spec["paths"])


def test_every_example_validates_against_its_schema(served: tuple[str, dict[str, Any]]) -> None:
    _, spec = served
    checked = 0
    for item in spec["paths"].values():
        for operation in item.values():
            for media in operation["responses"]["200"]["content"].values():
                if "example" in media:
                    schema_validator(spec, media["schema"]).validate(media["example"])
                    checked += 1
    assert checked == len(REQUESTS)


def test_every_real_answer_validates_against_its_schema(
    served: tuple[str, dict[str, Any]],
) -> None:
    """The JSON answer of each GET route, and of its refusals, is what the document says."""
    base, spec = served
    for path, request in REQUESTS.items():
        operation = spec["paths"][path]["get"]
        found = call(base + request)
        assert found.status == 200, (path, found.body)
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        schema_validator(spec, schema).validate(found.json())
        arrow = operation["responses"]["200"]["content"].get(ARROW)
        if arrow is not None:
            assert call(base + request, accept=ARROW).media == ARROW
    problem = call(f"{base}/instruments/BINANCE:NOPE")
    problems = spec["paths"]["/instruments/{symbol}"]["get"]["responses"]["404"]["content"]
    schema_validator(spec, problems["application/problem+json"]["schema"]).validate(problem.json())
