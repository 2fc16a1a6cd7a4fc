"""Errors as `application/problem+json` (RFC 9457): one object that says what was refused.

Every refusal of the service is a `ProblemError`: a status, a short title, a detail line, and
whatever else helps the caller (`suggestions` for an unknown symbol, `parameter` for a bad
argument). The middleware in `connectors.serve.service` turns them, and aiohttp's own
refusals (404 route, 405, 413), into responses; anything else is a 500 that says it is a bug.
"""

from __future__ import annotations

import difflib
from typing import Any, Final

import msgspec
from aiohttp import web

PROBLEM_TYPE: Final = "application/problem+json"
#: Where each kind of problem is described (relative: the service documents them itself).
TYPES: Final = {
    400: "/problems/bad-request",
    404: "/problems/not-found",
    405: "/problems/method-not-allowed",
    413: "/problems/body-too-large",
    415: "/problems/unsupported-media-type",
    500: "/problems/internal",
    503: "/problems/too-slow",
}
_json = msgspec.json.Encoder()


class ProblemError(Exception):
    """A refusal of the service: raised by a handler, answered as problem+json."""

    def __init__(
        self, status: int, title: str, detail: str, *, kind: str | None = None, **extra: Any
    ) -> None:
        """`kind` is the problem's type (default: by status); `extra` members are added."""
        self.status = status
        self.kind = kind or TYPES.get(status, "about:blank")
        self.title = title
        self.detail = " ".join(detail.split())
        self.extra = extra
        super().__init__(self.detail)

    def body(self, instance: str) -> dict[str, Any]:
        """Return the problem object for a request of path `instance`."""
        found = {
            "type": self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        return {**found, "instance": instance, **self.extra}

    def response(self, instance: str) -> web.Response:
        """Return the problem as a response."""
        return web.Response(
            status=self.status, body=_json.encode(self.body(instance)), content_type=PROBLEM_TYPE
        )


def bad_parameter(name: str, detail: str) -> ProblemError:
    """Return the 400 of a query parameter that cannot be read."""
    return ProblemError(400, "bad parameter", f"{name}: {detail}", parameter=name)


def unknown_symbol(key: str, known: list[str]) -> ProblemError:
    """Return the 404 of a symbol or id nobody ever held, with the closest known names."""
    suggestions = suggest(key, known)
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    return ProblemError(
        404,
        "unknown symbol",
        f"no instrument has ever held the symbol or id {key!r}{hint}",
        symbol=key,
        suggestions=suggestions,
    )


def suggest(key: str, known: list[str], count: int = 5) -> list[str]:
    """Return up to `count` known names close to `key` (case aside), closest first."""
    folded = {name.casefold(): name for name in known}
    close = difflib.get_close_matches(key.casefold(), list(folded), n=count, cutoff=0.6)
    return [folded[name] for name in close]


__all__ = ["PROBLEM_TYPE", "ProblemError", "bad_parameter", "suggest", "unknown_symbol"]
