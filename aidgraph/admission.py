"""What bounds a request before and around its execution: in-flight requests, body size, store waits, time.

Each answer here is a JSON error with a code and, where trying again later can help, `Retry-After`:
503 OVERLOADED (the worker serves as many requests as it may), 413 REQUEST_TOO_LARGE, 503 STORE_BUSY
(no store connection came free in time), 503 STORE_UNAVAILABLE (the store did not answer), 504
REQUEST_TIMEOUT. None of them says more than what the caller sent or how long to wait.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import sqlalchemy as sa
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response

from adapters.outage import OUTAGE_RETRY_AFTER_SECONDS, store_unavailable
from auth.gate import error_response
from auth.request_log import TRACEBACKS, RequestLog

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1.0  # overload and busy store: short-lived by nature


class InFlight:
    """The requests one worker is serving; past `limit` a request is answered 503 at once, not queued."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the in-flight limit must be at least 1")
        self._limit = limit
        self._count = 0  # touched on the event loop only

    @property
    def serving(self) -> int:
        return self._count

    @contextlib.contextmanager
    def slot(self) -> Iterator[bool]:
        """True while the request holds one of the slots; False when all were taken (nothing is held)."""
        if self._count >= self._limit:
            yield False
            return
        self._count += 1
        try:
            yield True
        finally:
            self._count -= 1


def overloaded() -> Response:
    message = "the hub is serving as many requests as it can; try again shortly"
    return error_response(message, "OVERLOADED", 503, retry_after=RETRY_AFTER_SECONDS)


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


async def read_body(request: Request, *, limit: int) -> bytes:
    """The body, read as it arrives and abandoned as soon as it passes `limit` bytes (BodyTooLarge)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


def too_large(error: BodyTooLarge) -> Response:
    message = f"{error}: send a shorter document, or fewer variables"
    return error_response(message, "REQUEST_TOO_LARGE", 413)


class StoreFailure(Exception):
    """The store could not serve the request: no connection came free in time, or it did not answer."""

    def __init__(self, *, busy: bool) -> None:
        super().__init__("store busy" if busy else "store unavailable")
        self.busy = busy


def store_failure(error: BaseException) -> StoreFailure | None:
    """The StoreFailure an exception stands for (raised by SQLAlchemy), else None."""
    if isinstance(error, StoreFailure):
        return error
    if isinstance(error, sa.exc.TimeoutError):  # the pool's wait for a connection ran out (pool_timeout)
        return StoreFailure(busy=True)
    if store_unavailable(error):  # the one rule of what an outage is (adapters/outage.py)
        return StoreFailure(busy=False)
    return None


def statement_cancelled(error: BaseException) -> bool:
    """PostgreSQL cancelled a statement at its statement_timeout (SQLSTATE 57014, query_canceled).

    The driver's own error, or SQLAlchemy's around it (the store's batch reads use the driver directly)."""
    return any(getattr(found, "sqlstate", None) == "57014" for found in (error, getattr(error, "orig", None)))


def failure_among(errors: list[GraphQLError]) -> StoreFailure | None:
    """A resolver's store failure, which makes the whole answer a 503 rather than a field's error."""
    for error in errors:
        if error.original_error is not None:
            found = store_failure(error.original_error)
            if found is not None:
                return found
    return None


def cancelled_among(errors: list[GraphQLError]) -> bool:
    return any(error.original_error is not None and statement_cancelled(error.original_error) for error in errors)


def store_failure_response(failure: StoreFailure, cause: BaseException, *, request: RequestLog) -> Response:
    """503 for the whole request; the cause is logged by type under the request id, never by its message
    (a database's message can quote the values it was given)."""
    log.error("%s: %s, nothing is answered%s", str(request), failure, TRACEBACKS.of(cause))
    if failure.busy:
        message = "the hub's store has no connection free; try again shortly"
        return error_response(message, "STORE_BUSY", 503, retry_after=RETRY_AFTER_SECONDS)
    message = "the hub's store did not answer; try again later"
    return error_response(message, "STORE_UNAVAILABLE", 503, retry_after=OUTAGE_RETRY_AFTER_SECONDS)


def statement_timed_out() -> Response:
    message = "a statement of this request ran past the store's time limit; nothing was returned"
    return error_response(message, "REQUEST_TIMEOUT", 504)


def timed_out(seconds: float) -> Response:
    message = f"the request took longer than the {seconds:g} s allowed; nothing was returned"
    return error_response(message, "REQUEST_TIMEOUT", 504)
