"""HTTP for the source clients: one session per run, retries with backoff, typed decoding.

Retried: timeouts, connection errors, 5xx and 429 (after `Retry-After` when the venue sends
it), with exponential backoff and full jitter. Not retried: any other 4xx. Binance's 418
(an IP ban) stops this source at once, including its later requests in the same run.

A body is read in chunks and refused once it passes `max_body` bytes; a body too deep or
too big to decode (`RecursionError`, `MemoryError`) is malformed like any other, so one
hostile answer fails its own source and nothing else.

What each third-party error means is said once, in `FAILURES` (as httpx maps its
transport's errors in one table): a failed attempt, retried, or a body that cannot be read.
"""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeVar

import aiohttp
import msgspec

from connectors.errors import (
    IncompleteSnapshotError,
    MalformedResponseError,
    SourceBannedError,
    SourceRejectedError,
    SourceUnavailableError,
)
from connectors.venues.snapshot import ConflictingRowsError
from eventstore import EventStoreError
from eventstore.clock import utc_now
from eventstore.gcpause import paused_gc

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator, Mapping

T = TypeVar("T")
W = TypeVar("W")

#: Sources answer browsers; some refuse a bare library User-Agent.
BROWSER_USER_AGENT: Final = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
_RETRIED_STATUS: Final = frozenset({429, 500, 502, 503, 504, 520, 522, 524})
#: The default cap of one response body: far above any venue's instrument list.
MAX_BODY: Final = 64 * 2**20
_CHUNK: Final = 2**16


class Failure(NamedTuple):
    """A row of `FAILURES`: the errors it catches, whether the attempt is retried, the reason.

    `reason` is formatted with the error (`exc`), its type's name (`name`) and the request
    timeout in seconds (`timeout`).
    """

    caught: tuple[type[BaseException], ...]
    retried: bool
    reason: str


#: Every third-party error the HTTP client maps, the first row that catches it deciding.
#: A retried one fails the attempt (the last attempt's reason is the source's
#: `SourceUnavailableError`); any other is a body that cannot be read, a
#: `MalformedResponseError` of the source. Nothing else is caught.
FAILURES: Final = (
    Failure((TimeoutError, aiohttp.ServerTimeoutError), True, "timed out after {timeout:g} s"),
    Failure((aiohttp.ClientError,), True, "connection failed: {exc}"),
    Failure((msgspec.ValidationError,), False, "unexpected shape: {exc}"),
    Failure((msgspec.DecodeError,), False, "not JSON: {exc}"),
    Failure((ConflictingRowsError,), False, "{exc}"),
    Failure((RecursionError,), False, "the body is nested too deeply to decode ({name})"),
    Failure((MemoryError,), False, "the body is too big to decode ({name})"),
    Failure(
        (ArithmeticError, LookupError, TypeError, ValueError, EventStoreError),
        False,
        "unreadable value: {exc}",
    ),
)
_RETRIED: Final = tuple(kind for row in FAILURES if row.retried for kind in row.caught)
_UNREADABLE: Final = tuple(kind for row in FAILURES if not row.retried for kind in row.caught)


def failure_reason(exc: BaseException, *, retried: bool, timeout: float) -> str:
    """Return the reason `FAILURES` gives `exc` among its retried rows or the others."""
    row = next(r for r in FAILURES if r.retried == retried and isinstance(exc, r.caught))
    return row.reason.format(exc=exc, name=type(exc).__name__, timeout=timeout)


@dataclass(frozen=True)
class HttpSettings:
    """Timeouts, retries and concurrency of one run's requests."""

    timeout: float = 30.0
    connect_timeout: float = 10.0
    attempts: int = 4
    backoff: float = 0.5
    max_delay: float = 30.0
    concurrency: int = 4
    user_agent: str = BROWSER_USER_AGENT
    #: Bytes one response body may hold; a longer one is a `MalformedResponseError`.
    max_body: int = MAX_BODY
    #: Seconds one paged listing may take in all; a longer one is incomplete.
    paging_seconds: float = 600.0


def open_session(settings: HttpSettings) -> aiohttp.ClientSession:
    """Return the run's one session, with its timeouts and User-Agent."""
    timeout = aiohttp.ClientTimeout(total=settings.timeout, sock_connect=settings.connect_timeout)
    return aiohttp.ClientSession(
        timeout=timeout,
        headers={"User-Agent": settings.user_agent, "Accept": "application/json"},
    )


class SourceHttp:
    """The requests of one source: bounded concurrency, retries, errors naming the source."""

    def __init__(
        self,
        source: str,
        session: aiohttp.ClientSession,
        settings: HttpSettings,
        *,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Send `source`'s requests through `session`; `sleep` waits between attempts,
        `clock` (seconds) times paged listings."""
        self.source = source
        self.settings = settings
        self.clock = clock
        self._session = session
        self._headers = dict(headers or {})
        self._sleep = sleep
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._banned: SourceBannedError | None = None
        self.requests = 0

    async def get(self, url: str, params: Mapping[str, str] | None = None) -> bytes:
        """Return the body of a GET, after retries."""
        return await self._request("GET", url, params, None)

    async def post(self, url: str, body: bytes) -> bytes:
        """Return the body of a POST of JSON `body`, after retries."""
        return await self._request("POST", url, None, body)

    def decode(self, url: str, body: bytes, decoder: msgspec.json.Decoder[T]) -> T:
        """Return `body` decoded by `decoder`; a bad body is a `MalformedResponseError`."""
        with self.guard(url):
            return decoder.decode(body)

    def parsed(
        self, url: str, body: bytes, decoder: msgspec.json.Decoder[W], parse: Callable[[W], T]
    ) -> T:
        """Return `body` decoded, then parsed; any bad value is a `MalformedResponseError`."""
        with paused_gc(), self.guard(url):  # thousands of records and no cycles among them
            return parse(self.decode(url, body, decoder))

    @contextmanager
    def guard(self, url: str) -> Iterator[None]:
        """Raise a value the block cannot read from `url` as a `MalformedResponseError`."""
        try:
            yield
        except _UNREADABLE as exc:
            reason = failure_reason(exc, retried=False, timeout=self.settings.timeout)
            raise MalformedResponseError(self.source, url, reason) from exc

    def incomplete(self, url: str, reason: str) -> IncompleteSnapshotError:
        """Return the error of a listing of `url` that cannot be complete."""
        return IncompleteSnapshotError(self.source, url, reason)

    async def _request(
        self, method: str, url: str, params: Mapping[str, str] | None, body: bytes | None
    ) -> bytes:
        shown = shown_url(url, params)
        reason = "no attempt made"
        for attempt in range(self.settings.attempts):
            if self._banned is not None:
                raise self._banned
            async with self._slots:
                delay, reason, answer = await self._attempt(method, url, params, body, shown)
            if answer is not None:
                return answer
            if attempt + 1 < self.settings.attempts:
                await self._sleep(delay if delay is not None else self._backoff(attempt))
        raise SourceUnavailableError(
            self.source, shown, f"{reason}; gave up after {self.settings.attempts} attempts"
        )

    async def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: bytes | None,
        shown: str,
    ) -> tuple[float | None, str, bytes | None]:
        """Return (delay asked by the server, why it failed, the body if it succeeded)."""
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        self.requests += 1
        try:
            async with self._session.request(
                method, url, params=params, data=body, headers=headers
            ) as response:
                payload = await self._read(response, shown)
                return self._judge(response, payload, shown)
        except _RETRIED as exc:
            return None, failure_reason(exc, retried=True, timeout=self.settings.timeout), None

    async def _read(self, response: aiohttp.ClientResponse, shown: str) -> bytes:
        """Return the body, refused once it passes `max_body` bytes (read no further)."""
        cap = self.settings.max_body
        if (response.content_length or 0) > cap:
            raise self._too_long(shown, f"announces {response.content_length} bytes")
        chunks, size = [], 0
        async for chunk in response.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise self._too_long(shown, f"passed {size} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_long(self, shown: str, what: str) -> MalformedResponseError:
        reason = f"the body {what}, over the cap of {self.settings.max_body} bytes"
        return MalformedResponseError(self.source, shown, reason)

    def _judge(
        self, response: aiohttp.ClientResponse, payload: bytes, shown: str
    ) -> tuple[float | None, str, bytes | None]:
        status = response.status
        if status < 300:
            return None, "", payload
        excerpt = payload[:200].decode("utf-8", "replace")
        if status == 418:
            self._banned = SourceBannedError(
                self.source, shown, f"IP banned by the venue, stopping: {excerpt}", status
            )
            raise self._banned
        if status in _RETRIED_STATUS:
            return self._retry_after(response), f"HTTP {status}", None
        raise SourceRejectedError(self.source, shown, f"refused: {excerpt}", status)

    def _retry_after(self, response: aiohttp.ClientResponse) -> float | None:
        given = response.headers.get("Retry-After")
        if given is None:
            return None
        seconds = _seconds(given)
        return None if seconds is None else min(max(seconds, 0.0), self.settings.max_delay)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.settings.max_delay, self.settings.backoff * 2**attempt)
        return random.uniform(0, ceiling)  # full jitter: rivals do not retry in step


def _seconds(retry_after: str) -> float | None:
    """Return a `Retry-After` value (seconds or an HTTP date) as seconds from now."""
    try:
        return float(retry_after)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    return (when - utc_now()).total_seconds()


def shown_url(url: str, params: Mapping[str, Any] | None = None) -> str:
    """Return `url` with its query, as errors and progress show it."""
    if not params:
        return url
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}?{query}"
